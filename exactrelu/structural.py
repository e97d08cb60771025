"""Structural equivalence: ``B`` is ``A`` up to permuted, positively rescaled, dead or duplicate neurons.

The proof rule (docs/theory.md, "Structural equivalence").  Both networks have the same number of
hidden layers.  Layer by layer, every hidden neuron ``j`` of ``A`` and every one of ``B`` gets a
*fact*: ``dead`` (its output ``v_j`` is ``0`` at every point of the domain) or ``(r, s)`` with ``s > 0``:
``v_j = s * v^A_r`` on the domain, ``r`` a *representative* neuron of ``A`` in that layer (a
representative has the fact ``(r, 1)`` itself).  The facts of layer ``l`` let both networks' layer
``l + 1`` be read as affine maps of the representatives' outputs ``v_R``: the *reduced* weights
``Ŵ[:, r] = sum_{j -> (r, s)} s W[:, j]`` (dead columns dropped).  A fact is checked by arithmetic on
the reduced rows ``(Ŵ_j, b_j)`` of its layer:

* ``(r, s)``: ``(Ŵ_j, b_j) = s (Ŵ^A_r, b^A_r)``, so ``z_j = s z_r`` and ``relu(z_j) = s relu(z_r)``
  (``s > 0``);
* ``dead`` by ``zero``: ``Ŵ_j = 0`` and ``b_j <= 0``, so ``z_j = b_j <= 0``;
* ``dead`` by ``box`` (a box domain only): the interval upper bound of ``z_j`` over the box, with
  every representative's output in ``[0, hi_r]`` (``hi`` computed layer by layer the same way), is
  ``<= 0``.

By induction every fact holds at every point of the domain; the output layer's reduced rows of ``A``
and ``B`` are then required to be identical, so ``A(x) = B(x)`` on the domain.  No region is
enumerated and nothing is searched: :func:`structural_facts` finds the facts (normalising each row by
the absolute value of its first nonzero entry, which keeps the sign, so rows equal up to a positive
factor get one key), and the checker verifies them.

>>> from exactrelu.network import ReluNetwork
>>> A = ReluNetwork.from_lists([([[1], [-1], [0]], [0, 0, -1]), ([[1, 1, 5]], [0])])   # |x|, a dead neuron
>>> B = ReluNetwork.from_lists([([[-2], [3]], [0, 0]), ([["1/2", "1/3"]], [0])])       # permuted, rescaled
>>> facts = structural_facts(A, B)
>>> facts.layers[0]["A"], facts.layers[0]["B"]
([(0, Fraction(1, 1)), (1, Fraction(1, 1)), 'dead'], [(1, Fraction(2, 1)), (0, Fraction(3, 1))])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:  # pragma: no cover
    from .domain import Domain
    from .network import ReluNetwork

ZERO = Fraction(0)
Fact = Union[str, tuple[int, Fraction]]  # "dead" or (representative, scale)
Row = tuple[tuple[Fraction, ...], Fraction]


@dataclass(frozen=True)
class StructuralFacts:
    """Per hidden layer ``{"A": facts, "B": facts, "dead": {("A" | "B", j): (rule, bound)}}``."""

    layers: list[dict]


def reduce_rows(weight, bias, facts: Optional[list[Fact]], reps: list[int]) -> list[Row]:
    """The rows of a layer as affine maps of the previous layer's representatives (or of ``x``)."""
    if facts is None:
        return [(tuple(row), b) for row, b in zip(weight, bias)]
    where = {r: t for t, r in enumerate(reps)}
    rows = []
    for row, b in zip(weight, bias):
        reduced = [ZERO] * len(reps)
        for j, fact in enumerate(facts):
            if fact != "dead" and row[j]:
                r, s = fact
                reduced[where[r]] += s * row[j]
        rows.append((tuple(reduced), b))
    return rows


def upper_bound(row: Row, lo: list[Fraction], hi: list[Fraction]) -> Fraction:
    """The exact maximum of ``w . v + b`` over the box ``lo <= v <= hi``."""
    w, b = row
    return b + sum((a * (h if a > 0 else l) for a, l, h in zip(w, lo, hi) if a), ZERO)


def dead_rule(row: Row, bounds: Optional[tuple[list, list]]) -> Optional[tuple[str, Fraction]]:
    """``("zero", b)`` or ``("box", upper bound)`` when the row is provably ``<= 0``, else ``None``."""
    w, b = row
    if not any(w):
        return ("zero", b) if b <= 0 else None
    if bounds is not None:
        u = upper_bound(row, *bounds)
        if u <= 0:
            return ("box", u)
    return None


def _key(row: Row) -> tuple[tuple, Fraction]:
    """``(key, pivot)`` with ``row = pivot * key``, ``pivot > 0`` and ``key`` the same for every positive
    multiple of the row (the primitive integer vector on its ray; integer arithmetic only)."""
    w, b = row
    values = (*w, b)
    scale = math.lcm(*(v.denominator for v in values))
    ints = [v.numerator * (scale // v.denominator) for v in values]
    g = math.gcd(*ints) or 1
    return tuple(v // g for v in ints), Fraction(g, scale)


def structural_facts(a: "ReluNetwork", b: "ReluNetwork", domain: Optional["Domain"] = None) -> Optional[StructuralFacts]:
    """The facts of the module docstring proving ``A = B`` on ``domain``, or ``None`` if this rule does
    not find them (the networks may still be equal: then enumerate)."""
    if len(a.layers) != len(b.layers) or a.input_dim != b.input_dim or a.output_dim != b.output_dim:
        return None
    box = domain.bounded_box if domain is not None else None
    facts_a = facts_b = None
    reps: list[int] = []
    layers = []
    history: list[tuple[list[Row], list[int]]] = []  # per layer done: (A's rows, the representatives)
    memo: dict[int, tuple[list, list]] = {}

    def input_bounds(l: int) -> Optional[tuple[list, list]]:
        """The box of layer ``l``'s inputs: the domain's box, then ``[0, max(0, upper bound)]`` of each
        representative of the layer before; computed only when a dead rule needs it."""
        if box is None:
            return None
        if l not in memo:
            if l == 0:
                memo[l] = (list(box[0]), list(box[1]))
            else:
                rows, representatives = history[l - 1]
                below = input_bounds(l - 1)
                memo[l] = ([ZERO] * len(representatives), [max(ZERO, upper_bound(rows[r], *below)) for r in representatives])
        return memo[l]

    for l in range(len(a.layers)):
        la, lb = a.layers[l], b.layers[l]
        rows_a = reduce_rows(la.weight, la.bias, facts_a, reps)
        rows_b = reduce_rows(lb.weight, lb.bias, facts_b, reps)
        if l == len(a.layers) - 1:
            return StructuralFacts(layers) if rows_a == rows_b else None
        keyed_a, keyed_b = [_key(row) for row in rows_a], [_key(row) for row in rows_b]
        shared = {key for key, _ in keyed_a} & {key for key, _ in keyed_b}
        dead: dict = {}
        keys: dict = {}
        fa: list[Fact] = []
        for j, (row, (key, pivot)) in enumerate(zip(rows_a, keyed_a)):
            rule = None if key in shared else dead_rule(row, input_bounds(l))  # a neuron B also has needs no rule
            if rule is not None:
                fa.append("dead")
                dead[("A", j)] = rule
                continue
            if key not in keys:
                keys[key] = (j, pivot)
            r, p = keys[key]
            fa.append((r, pivot / p))
        fb: list[Fact] = []
        for k, (row, (key, pivot)) in enumerate(zip(rows_b, keyed_b)):
            if key in keys:
                r, p = keys[key]
                fb.append((r, pivot / p))
                continue
            rule = dead_rule(row, input_bounds(l))
            if rule is None:
                return None
            fb.append("dead")
            dead[("B", k)] = rule
        new_reps = sorted(r for r, _ in keys.values())
        layers.append({"A": fa, "B": fb, "dead": dead})
        facts_a, facts_b, reps = fa, fb, new_reps
        history.append((rows_a, new_reps))
    return None  # pragma: no cover (the loop returns at the output layer)
