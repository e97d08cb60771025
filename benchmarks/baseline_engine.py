"""FROZEN baseline: the region enumeration of exactrelu before issue 12, kept for the benchmarks only.

Do not improve this file: ``benchmarks/regions.py`` and ``benchmarks/pipeline.py`` measure the engine
in :mod:`exactrelu.regions` against it ("ratio to the baseline engine").  It is the depth-first case
split of that version: the child holding the parent's witness is explored with no LP, the other
child is decided by one exact LP (:func:`exactrelu.lp.decide`) over every row of the node, and
full-dimensional witnesses are simplified by :func:`exactrelu.lp.simplest_interior_point`.
It returns the same :class:`~exactrelu.regions.Enumeration` (regions, proof tree) as the engine.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional

from exactrelu import lp
from exactrelu.domain import Domain
from exactrelu.errors import DomainError, IncompleteError
from exactrelu.lp import Row, is_constant, row_value
from exactrelu.network import ReluNetwork, Vector
from exactrelu.regions import Affine, Child, Empty, Enumeration, Leaf, Region, Split, compose, neuron_order, neuron_row

ProgressFn = Callable[[int, int, int], None]


def baseline_enumerate_regions(
    network: ReluNetwork,
    domain: Optional[Domain] = None,
    *,
    max_regions: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
    oracle=lp,
) -> Enumeration:
    """The enumeration of :func:`exactrelu.regions.enumerate_regions` as it was before issue 12."""
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
