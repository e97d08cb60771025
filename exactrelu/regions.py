"""Exact enumeration of the activation regions of a ReLU network over a domain.

Semantics (DESIGN.md section 2): a neuron is active iff its pre-activation is ``> 0``.  For a
pattern ``s`` the set ``R_s = {x in D : pattern(x) = s}`` is described by one row per neuron
(``z > 0`` if active, ``-z >= 0`` if inactive, ``z`` the neuron's pre-activation as an affine
function of ``x`` under the earlier layers of ``s``) plus the domain's rows.

The search is a depth-first case split over neurons in layer-major order.  Invariants of the
returned :class:`Enumeration`:

* the nonempty ``R_s`` are exactly the ``regions`` (each with a witness that satisfies all its rows
  exactly, checked here), so they partition the domain, lower-dimensional ones included;
* every child of the proof tree is a :class:`Split`, a :class:`Leaf` or an :class:`Empty` whose
  Motzkin multipliers were checked exactly (indices: the domain's rows first, then one row per
  neuron decided so far, in layer-major order, the split neuron last);
* the child containing the parent's witness is explored with no LP, so the number of LPs is at
  most the number of tree nodes, which grows with the number of regions, not with ``2^N``.

>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])   # x, -x  ->  |x|
>>> e = enumerate_regions(net)
>>> [(r.pattern, r.full_dimensional) for r in e.regions]
[(((True, False),), True), (((False, True),), True), (((False, False),), False)]
>>> e.regions[2].witness
(Fraction(0, 1),)
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional, Sequence, Union

from .domain import Domain
from .errors import DomainError, IncompleteError
from . import lp
from .lp import Row, is_constant, row_value
from .network import Matrix, ReluNetwork, Vector

Affine = tuple[Vector, Fraction]  # w, b: the function x -> w . x + b
ZERO = Fraction(0)


def neuron_row(w: Vector, b: Fraction, active: bool) -> Row:
    """The row of a neuron with pre-activation ``w . x + b``: ``z > 0`` if active, ``-z >= 0`` if not."""
    return (w, b, True) if active else (tuple(-a for a in w), -b, False)


@dataclass(frozen=True)
class Region:
    """One nonempty activation region (see module docstring)."""

    pattern: tuple[tuple[bool, ...], ...]
    preactivations: tuple[Affine, ...]  # one per hidden neuron, layer-major, under ``pattern``
    witness: Vector  # satisfies every row; strictly every non-constant row iff full_dimensional
    alpha: Matrix  # output_dim x input_dim
    beta: Vector
    full_dimensional: bool

    @property
    def flat_pattern(self) -> tuple[bool, ...]:
        return tuple(bit for layer in self.pattern for bit in layer)

    def neuron_rows(self) -> list[Row]:
        """One row per hidden neuron, layer-major."""
        return [neuron_row(w, b, s) for (w, b), s in zip(self.preactivations, self.flat_pattern)]

    def output(self, x: Sequence[Fraction]) -> Vector:
        """The local affine model ``alpha x + beta`` exactly."""
        return tuple(sum((a * v for a, v in zip(row, x)), b) for row, b in zip(self.alpha, self.beta))


@dataclass(frozen=True)
class Leaf:
    """A complete pattern; ``index`` points into :attr:`Enumeration.regions`."""

    index: int


@dataclass(frozen=True)
class Empty:
    """A child proved empty by Motzkin multipliers (row index -> positive rational)."""

    multipliers: dict[int, Fraction]


@dataclass(frozen=True)
class Split:
    """A node that splits ``neuron`` = (layer, index) into ``active`` (z > 0) and ``inactive`` (z <= 0)."""

    neuron: tuple[int, int]
    active: "Child"
    inactive: "Child"


Child = Union[Split, Leaf, Empty]


@dataclass
class Enumeration:
    """All regions of ``network`` over ``domain`` and the proof tree that certifies them."""

    network: ReluNetwork
    domain: Domain
    regions: list[Region]
    tree: Child
    nodes: int = 0
    lps: int = 0
    empty_children: int = 0
    seconds: float = 0.0

    @property
    def full_dimensional(self) -> int:
        return sum(r.full_dimensional for r in self.regions)

    @property
    def lower_dimensional(self) -> int:
        return len(self.regions) - self.full_dimensional

    def locate(self, x: Sequence[object]) -> int:
        """Index of the region that contains ``x`` (its own pattern names it)."""
        pattern = self.network.pattern(x)
        for k, region in enumerate(self.regions):
            if region.pattern == pattern:
                return k
        raise KeyError("the point's pattern is not a region of this enumeration (outside the domain?)")


def neuron_order(network: ReluNetwork) -> list[tuple[int, int]]:
    """The split order: hidden neurons in layer-major order."""
    return [(l, i) for l, width in enumerate(network.hidden_widths) for i in range(width)]


def compose(
    weight: Matrix, bias: Vector, maps: Sequence[Affine], active: Sequence[bool], dim: int
) -> list[Affine]:
    """Pre-activations of the next layer: ``weight . relu_s(maps) + bias`` as affine maps of ``x``."""
    live = [(j, m) for j, (m, on) in enumerate(zip(maps, active)) if on]
    result = []
    for row, b in zip(weight, bias):
        w = [ZERO] * dim
        c = b
        for j, (mw, mb) in live:
            coef = row[j]
            if coef:
                for t in range(dim):
                    w[t] += coef * mw[t]
                c += coef * mb
        result.append((tuple(w), c))
    return result


ProgressFn = Callable[[int, int, int], None]


def enumerate_regions(
    network: ReluNetwork,
    domain: Optional[Domain] = None,
    *,
    max_regions: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
    oracle=lp,
) -> Enumeration:
    """Every nonempty activation region of ``network`` over ``domain`` (default ``R^n``).

    Raises :class:`IncompleteError` when more than ``max_regions`` regions exist.
    ``progress(regions, nodes, lps)`` is called now and then.  ``oracle`` supplies ``decide`` and
    ``interior_point`` (default: the exact :mod:`exactrelu.lp`, which checks every answer it gives;
    the benchmarks pass a float LP oracle to measure what exactness costs).
    """
    started = time.perf_counter()
    n = network.input_dim
    domain = domain or Domain.reals(n)
    domain.check_dimension(n)
    rows: list[Row] = domain.rows()
    root = oracle.decide(rows, n)
    if not root.nonempty:
        raise DomainError("the domain is empty (its constraints have no common point)")
    order = neuron_order(network)
    hidden = network.layers[:-1]
    last = network.layers[-1]
    result = Enumeration(network, domain, [], Leaf(0))
    maps: list[list[Affine]] = [[] for _ in hidden]
    bits: list[bool] = []
    preacts: list[Affine] = []
    last_report = [started]

    def layer_bits(l: int) -> list[bool]:
        start = sum(network.hidden_widths[:l])
        return bits[start : start + network.hidden_widths[l]]

    def leaf(witness: Vector, interior: bool) -> Leaf:
        if hidden:
            final = compose(last.weight, last.bias, maps[-1], layer_bits(len(hidden) - 1), n)
        else:
            final = list(zip(last.weight, last.bias))
        full = interior
        if not interior:
            result.lps += 1
            inner = oracle.interior_point(rows, n)
            if inner is not None:  # prefer a witness that shows full dimension
                witness, full = inner, True
        if full:
            witness = lp.simplest_interior_point(rows, witness)
        widths = network.hidden_widths
        pattern, start = [], 0
        for w in widths:
            pattern.append(tuple(bits[start : start + w]))
            start += w
        result.regions.append(
            Region(
                pattern=tuple(pattern),
                preactivations=tuple(preacts),
                witness=witness,
                alpha=tuple(w for w, _ in final),
                beta=tuple(b for _, b in final),
                full_dimensional=full,
            )
        )
        if max_regions is not None and len(result.regions) > max_regions:
            raise IncompleteError(
                f"stopped at the budget of {max_regions} regions: the enumeration is incomplete"
            )
        return Leaf(len(result.regions) - 1)

    def visit(depth: int, witness: Vector, interior: bool) -> Child:
        result.nodes += 1
        if progress is not None and result.nodes % 64 == 0:
            now = time.perf_counter()
            if now - last_report[0] > 0.2:
                last_report[0] = now
                progress(len(result.regions), result.nodes, result.lps)
        if depth == len(order):
            return leaf(witness, interior)
        l, i = order[depth]
        if i == 0:
            if l == 0:
                maps[0] = list(zip(hidden[0].weight, hidden[0].bias))
            else:
                maps[l] = compose(hidden[l].weight, hidden[l].bias, maps[l - 1], layer_bits(l - 1), n)
        w, b = maps[l][i]
        witness_active = sum((a * v for a, v in zip(w, witness)), b) > 0
        children: dict[bool, Child] = {}
        for side in (True, False):
            row = neuron_row(w, b, side)
            rows.append(row)
            bits.append(side)
            preacts.append((w, b))
            try:
                if side == witness_active:
                    inside = interior and (is_constant(row) or row_value(row, witness) > 0)
                    children[side] = visit(depth + 1, witness, inside)
                else:
                    result.lps += 1
                    decision = oracle.decide(rows, n)
                    if decision.nonempty:
                        children[side] = visit(depth + 1, decision.point, decision.interior)
                    else:
                        result.empty_children += 1
                        children[side] = Empty(decision.multipliers)
            finally:
                rows.pop()
                bits.pop()
                preacts.pop()
        return Split((l, i), children[True], children[False])

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(order) + 1000))
    try:
        result.tree = visit(0, root.point, root.interior)
    finally:
        sys.setrecursionlimit(limit)
    result.seconds = time.perf_counter() - started
    return result
