"""The only module that talks to pycddlib: exact linear programs over the rationals (``cdd.gmp``).

A *row* is ``(u, v, strict)`` and stands for the condition ``u . x + v > 0`` (strict) or
``u . x + v >= 0`` (weak).  :func:`decide` answers whether a system of rows has a solution, and
always returns evidence: a rational point that satisfies every row exactly, or Motzkin
multipliers (DESIGN.md section 4) that prove there is none.  Both are checked exactly here
before they are returned, so a wrong answer from the solver can only ever raise
:class:`~exactrelu.errors.InternalError`, never become a wrong claim.

>>> from fractions import Fraction as F
>>> rows = [((F(1),), F(0), True), ((F(-1),), F(0), False)]       # x > 0 and -x >= 0
>>> decide(rows, 1).nonempty
False
>>> d = decide(rows[1:], 1)                                          # -x >= 0
>>> d.point, d.interior
((Fraction(-1, 1),), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

import cdd
import cdd.gmp

from .errors import InternalError

Row = tuple[tuple[Fraction, ...], Fraction, bool]
ZERO = Fraction(0)


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`.

    Invariant: exactly one of ``point`` and ``multipliers`` is set.  ``point`` satisfies every
    row exactly; ``interior`` says it satisfies every non-constant row strictly (so the solution
    set has nonempty interior).  ``multipliers`` maps row indices to positive rationals forming a
    valid Motzkin certificate of infeasibility.
    """

    point: Optional[tuple[Fraction, ...]] = None
    interior: bool = False
    multipliers: Optional[dict[int, Fraction]] = None

    @property
    def nonempty(self) -> bool:
        return self.point is not None


def row_value(row: Row, x: Sequence[Fraction]) -> Fraction:
    """``u . x + v`` exactly."""
    u, v, _ = row
    return sum((a * b for a, b in zip(u, x)), v)


def satisfies(row: Row, x: Sequence[Fraction]) -> bool:
    """Whether ``x`` satisfies ``row`` exactly."""
    value = row_value(row, x)
    return value > 0 if row[2] else value >= 0


def is_constant(row: Row) -> bool:
    return not any(row[0])


def motzkin_valid(rows: Sequence[Row], multipliers: dict[int, Fraction], dim: int) -> bool:
    """Exact check of a Motzkin certificate: ``lambda >= 0``, ``sum lambda_m u_m = 0`` and either
    ``sum lambda_m v_m < 0``, or ``= 0`` with a positive multiplier on a strict row."""
    if not multipliers or any(lam <= 0 for lam in multipliers.values()):
        return False
    total_u = [ZERO] * dim
    total_v = ZERO
    strict = False
    for m, lam in multipliers.items():
        if not 0 <= m < len(rows):
            return False
        u, v, is_strict = rows[m]
        for i, a in enumerate(u):
            total_u[i] += lam * a
        total_v += lam * v
        strict = strict or is_strict
    if any(total_u):
        return False
    return total_v < 0 or (total_v == 0 and strict)


def _solve(rows: Sequence[Row], active: Sequence[int], dim: int, slack_on: Sequence[bool]):
    """Maximise ``t <= 1`` subject to ``u . x + v - t >= 0`` (slack rows) or ``>= 0`` (others).

    Returns ``(t*, x*, multipliers)`` where the multipliers are the optimal dual values of the
    condition rows, indexed like ``rows``.  The LP is always feasible when no weak row is
    without slack, and the caller only omits the slack where the weak rows are known feasible.
    """
    array = []
    for m, use_slack in zip(active, slack_on):
        u, v, _ = rows[m]
        array.append([v, *u, Fraction(-1) if use_slack else ZERO])
    array.append([Fraction(1), *([ZERO] * dim), Fraction(-1)])  # t <= 1
    array.append([ZERO, *([ZERO] * dim), Fraction(1)])  # objective: maximise t
    lp = cdd.gmp.linprog_from_array(array, obj_type=cdd.LPObjType.MAX)
    cdd.gmp.linprog_solve(lp)
    if lp.status != cdd.LPStatusType.OPTIMAL:
        return None
    primal = [Fraction(p) for p in lp.primal_solution]
    multipliers: dict[int, Fraction] = {}
    for index, value in lp.dual_solution:
        value = Fraction(value)
        if index < len(active) and value != 0:
            multipliers[active[index]] = value
    return Fraction(lp.obj_value), tuple(primal[:dim]), multipliers


def decide(rows: Sequence[Row], dim: int) -> Decision:
    """Decide exactly whether the system ``rows`` (in ``dim`` unknowns) has a solution.

    Constant rows are decided directly.  Otherwise a first LP maximises a common slack ``t`` of
    every row: ``t* > 0`` gives an interior point, ``t* < 0`` a proof of emptiness.  Only on a tie
    ``t* = 0`` does a second LP put the slack on the strict rows alone, which decides the strict
    system exactly (nonempty iff its optimum is positive), never with an epsilon.
    """
    for m, row in enumerate(rows):
        if is_constant(row) and not satisfies(row, (ZERO,) * dim):
            return _proved_empty(rows, {m: Fraction(1)}, dim)
    active = [m for m, row in enumerate(rows) if not is_constant(row)]
    if not active:
        return Decision(point=(ZERO,) * dim, interior=True)
    solved = _solve(rows, active, dim, [True] * len(active))
    if solved is None:
        raise InternalError("cdd.gmp did not solve a feasible bounded LP")
    t, point, multipliers = solved
    if t > 0:
        return _found(rows, point, True)
    if t < 0:
        return _proved_empty(rows, multipliers, dim)
    solved = _solve(rows, active, dim, [rows[m][2] for m in active])
    if solved is None:
        raise InternalError("cdd.gmp did not solve an LP whose weak rows are feasible")
    t, point, multipliers = solved
    if t > 0:
        return _found(rows, point, False)
    return _proved_empty(rows, multipliers, dim)


def interior_point(rows: Sequence[Row], dim: int) -> Optional[tuple[Fraction, ...]]:
    """A point satisfying every non-constant row strictly, or ``None`` if the set has empty interior
    (the rows are assumed satisfiable)."""
    active = [m for m, row in enumerate(rows) if not is_constant(row)]
    if not active:
        return (ZERO,) * dim
    solved = _solve(rows, active, dim, [True] * len(active))
    if solved is None or solved[0] <= 0:
        return None
    return _found(rows, solved[1], True).point


def simplest_interior_point(rows: Sequence[Row], point: Sequence[Fraction]) -> tuple[Fraction, ...]:
    """An interior point (every non-constant row strictly satisfied) with small denominators, found
    by rounding the interior ``point`` to denominators 1, 2, 4, 10, 100, ...; ``point`` itself when
    no rounding stays inside.  Used to make witnesses readable."""
    for limit in (1, 2, 4, 10, 100, 1000, 10**4, 10**6):
        candidate = tuple(c.limit_denominator(limit) for c in point)
        if all(satisfies(row, candidate) and (is_constant(row) or row_value(row, candidate) > 0) for row in rows):
            return candidate
    return tuple(point)


def _found(rows: Sequence[Row], point: tuple[Fraction, ...], interior: bool) -> Decision:
    if not all(satisfies(row, point) for row in rows):
        raise InternalError("cdd.gmp returned a point that violates a condition")
    return Decision(point=point, interior=interior)


def _proved_empty(rows: Sequence[Row], multipliers: dict[int, Fraction], dim: int) -> Decision:
    if not motzkin_valid(rows, multipliers, dim):
        raise InternalError("the LP dual did not give valid Motzkin multipliers")
    return Decision(multipliers=dict(sorted(multipliers.items())))
