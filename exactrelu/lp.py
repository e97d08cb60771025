"""The only module that talks to pycddlib: exact linear programs and vertex sets over the rationals (``cdd.gmp``).

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


def combination(rows: Sequence[Row], multipliers: dict[int, Fraction], dim: int):
    """``(sum y_m u_m, sum y_m v_m, some strict row has y_m > 0)``, or ``None`` when a multiplier is
    not positive or names no row."""
    if any(y <= 0 for y in multipliers.values()) or any(not 0 <= m < len(rows) for m in multipliers):
        return None
    total_u = [ZERO] * dim
    total_v = ZERO
    strict = False
    for m, y in multipliers.items():
        u, v, is_strict = rows[m]
        for i, a in enumerate(u):
            total_u[i] += y * a
        total_v += y * v
        strict = strict or is_strict
    return total_u, total_v, strict


def motzkin_valid(rows: Sequence[Row], multipliers: dict[int, Fraction], dim: int) -> bool:
    """Exact check of a Motzkin certificate: ``lambda >= 0``, ``sum lambda_m u_m = 0`` and either
    ``sum lambda_m v_m < 0``, or ``= 0`` with a positive multiplier on a strict row."""
    combined = combination(rows, multipliers, dim) if multipliers else None
    if combined is None:
        return False
    total_u, total_v, strict = combined
    return not any(total_u) and (total_v < 0 or (total_v == 0 and strict))


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


@dataclass(frozen=True)
class Optimum:
    """The outcome of :func:`maximize`: the exact supremum of ``c . x + c0`` over the closure of the
    rows (every row read as ``u . x + v >= 0``).

    Invariant, checked exactly before it is returned:

    * ``status == "optimal"``: ``point`` satisfies every row weakly and ``c . point + c0 == value``;
      the dual ``multipliers`` (row index -> positive rational) satisfy
      ``sum y_m u_m = -c`` and ``c0 + sum y_m v_m == value``, which proves ``c . x + c0 <= value``
      on every point of the rows (weak duality, arithmetic only);
    * ``status == "unbounded"``: ``point`` satisfies every row weakly, ``u_m . ray >= 0`` for every
      row and ``c . ray > 0``, so ``point + t ray`` stays feasible and the objective grows without
      bound; ``value`` is ``None``;
    * ``status == "infeasible"``: the weakened rows have no common point; ``multipliers`` is a
      Motzkin certificate of that (over the weakened rows); ``value`` and ``point`` are ``None``.
    """

    status: str
    value: Optional[Fraction] = None
    point: Optional[tuple[Fraction, ...]] = None
    multipliers: Optional[dict[int, Fraction]] = None
    ray: Optional[tuple[Fraction, ...]] = None


def maximize(rows: Sequence[Row], objective: Sequence[Fraction], constant: Fraction, dim: int) -> Optimum:
    """Maximise ``objective . x + constant`` exactly over the closure of ``rows`` (strict rows are
    read as weak: the supremum over the strict system, when it is nonempty, equals the maximum over
    its closure).  Returns an :class:`Optimum` with the maximiser and the dual multipliers, both
    verified exactly here.

    >>> from fractions import Fraction as F
    >>> rows = [((F(1), F(0)), F(0), False), ((F(0), F(1)), F(0), True), ((F(-1), F(-1)), F(1), False)]
    >>> best = maximize(rows, (F(1), F(2)), F(0), 2)       # x >= 0, y > 0, x + y <= 1
    >>> best.status, best.value, best.point, best.multipliers
    ('optimal', Fraction(2, 1), (Fraction(0, 1), Fraction(1, 1)), {0: Fraction(1, 1), 2: Fraction(2, 1)})
    >>> maximize(rows[:2], (F(1), F(0)), F(0), 2).status
    'unbounded'
    """
    c = tuple(Fraction(a) for a in objective)
    c0 = Fraction(constant)
    weak = [(tuple(u), Fraction(v), False) for u, v, _ in rows]
    if any(is_constant(row) and row[1] < 0 for row in weak):
        return _infeasible(weak, dim)
    active = [m for m, row in enumerate(weak) if not is_constant(row)]
    if not active:
        origin = (ZERO,) * dim
        if not any(c):
            return Optimum("optimal", c0, origin, {})
        return _checked_unbounded(weak, origin, c)
    array = [[weak[m][1], *weak[m][0]] for m in active]
    array.append([c0, *c])
    lp = cdd.gmp.linprog_from_array(array, obj_type=cdd.LPObjType.MAX)
    cdd.gmp.linprog_solve(lp)
    if lp.status == cdd.LPStatusType.OPTIMAL:
        value = Fraction(lp.obj_value)
        point = tuple(Fraction(p) for p in lp.primal_solution)
        multipliers = {}
        for index, y in lp.dual_solution:
            y = Fraction(y)
            if index < len(active) and y != 0:
                multipliers[active[index]] = y
        multipliers = dict(sorted(multipliers.items()))
        if not all(satisfies(row, point) for row in weak):
            raise InternalError("cdd.gmp returned a maximiser that violates a row")
        if sum((a * b for a, b in zip(c, point)), c0) != value:
            raise InternalError("cdd.gmp returned a maximiser whose objective is not the optimum")
        if not dual_bound_valid(weak, multipliers, c, c0, value, dim):
            raise InternalError("cdd.gmp returned dual multipliers that do not prove the optimum")
        return Optimum("optimal", value, point, multipliers)
    if lp.status in (cdd.LPStatusType.INCONSISTENT, cdd.LPStatusType.STRUC_INCONSISTENT):
        return _infeasible(weak, dim)
    if lp.status not in (cdd.LPStatusType.DUAL_INCONSISTENT, cdd.LPStatusType.UNBOUNDED,
                         cdd.LPStatusType.STRUC_DUAL_INCONSISTENT):
        raise InternalError(f"cdd.gmp ended a maximisation with status {lp.status!r}")
    decision = decide(weak, dim)
    if not decision.nonempty:
        return _infeasible(weak, dim)
    return _checked_unbounded(weak, decision.point, c)


def dual_bound_valid(rows: Sequence[Row], multipliers: dict[int, Fraction], objective: Sequence[Fraction],
                     constant: Fraction, bound: Fraction, dim: int) -> bool:
    """Exact check that multipliers ``y > 0`` prove ``objective . x + constant <= bound`` on the
    (weakened) rows: ``sum y_m u_m = -objective`` and ``constant + sum y_m v_m <= bound``."""
    combined = combination(rows, multipliers, dim)
    if combined is None:
        return False
    total_u, total_v, _ = combined
    return all(t == -a for t, a in zip(total_u, objective)) and constant + total_v <= bound


def _checked_unbounded(weak: Sequence[Row], point: tuple[Fraction, ...], c: tuple[Fraction, ...]) -> Optimum:
    """Find and check a ray ``r`` with ``u_m . r >= 0`` for every row and ``c . r > 0``."""
    dim = len(c)
    active = [m for m, row in enumerate(weak) if not is_constant(row)]
    array = [[ZERO, *weak[m][0]] for m in active]
    array.append([Fraction(1), *(-a for a in c)])  # c . r <= 1
    array.append([ZERO, *c])
    lp = cdd.gmp.linprog_from_array(array, obj_type=cdd.LPObjType.MAX)
    cdd.gmp.linprog_solve(lp)
    if lp.status != cdd.LPStatusType.OPTIMAL or Fraction(lp.obj_value) <= 0:
        raise InternalError("cdd.gmp reported an unbounded maximisation but no improving ray exists")
    ray = tuple(Fraction(p) for p in lp.primal_solution[:dim])
    if not all(satisfies(row, point) for row in weak):
        raise InternalError("the feasible point of an unbounded maximisation violates a row")
    if any(sum((a * b for a, b in zip(weak[m][0], ray)), ZERO) < 0 for m in active) or \
            sum((a * b for a, b in zip(c, ray)), ZERO) <= 0:
        raise InternalError("cdd.gmp returned an invalid unbounded ray")
    return Optimum("unbounded", None, tuple(point), None, ray)


def _infeasible(weak: Sequence[Row], dim: int) -> Optimum:
    decision = decide(weak, dim)
    if decision.nonempty:
        raise InternalError("cdd.gmp called a feasible maximisation infeasible")
    return Optimum("infeasible", multipliers=decision.multipliers)


def vertices(rows: Sequence[Row]) -> list[tuple[Fraction, ...]]:
    """The vertices of the closed polytope ``{x : u . x + v >= 0 for every row}`` (strict rows are
    closed), exactly, by cddlib's double description in GMP arithmetic; ``[]`` if it is empty.
    Raises :class:`~exactrelu.errors.DomainError` if the set is unbounded."""
    from .errors import DomainError

    if not rows:
        raise DomainError("the set is unbounded (no constraints): give a box")
    found = bounded_vertices(rows)
    if found is None:
        raise DomainError("the set is unbounded: plotting needs a bounded domain (give --box)")
    return found


def bounded_vertices(rows: Sequence[Row]) -> Optional[list[tuple[Fraction, ...]]]:
    """The distinct vertices of the closed set ``{x : u . x + v >= 0 for every row}``, exactly;
    ``[]`` if it is empty, ``None`` if it is unbounded (or there are no rows)."""
    array = [[Fraction(v), *(Fraction(a) for a in u)] for u, v, _ in rows]
    if not array:
        return None
    matrix = cdd.gmp.matrix_from_array(array, rep_type=cdd.RepType.INEQUALITY)
    generators = cdd.gmp.copy_generators(cdd.gmp.polyhedron_from_matrix(matrix))
    if generators.lin_set or any(row[0] == 0 for row in generators.array):
        return None
    found: dict[tuple[Fraction, ...], None] = {}
    for row in generators.array:
        found[tuple(Fraction(v) / Fraction(row[0]) for v in row[1:])] = None
    return list(found)


def float_slack(rows: Sequence[tuple[dict[int, Fraction], Fraction]], goals: Sequence[bool],
                lower: Sequence[float], upper: Sequence[float]):
    """Guidance only (float LP, HiGHS through scipy): maximise ``t <= 1`` subject to
    ``g_m(v) >= 0`` for the rows with ``goals[m]`` false and ``g_m(v) >= t`` for the others, with
    ``lower <= v <= upper``; a row is a sparse form ``({variable: coefficient}, constant)``.

    Returns ``(t, v, duals)`` (``duals[m] >= 0`` per row, the LP's multipliers) or ``None`` when
    HiGHS gives no optimum.  Nothing is claimed from it: callers rationalise the duals and check
    them exactly.  Raises :class:`~exactrelu.errors.InternalError` naming the ``dev`` extra when
    scipy is missing."""
    try:
        import numpy as np
        from scipy.optimize import linprog
        from scipy.sparse import coo_matrix
    except ImportError:  # pragma: no cover - scipy is in the dev extra
        raise InternalError("the early-closing prover needs scipy (pip install 'exactrelu[dev]')") from None
    dim = len(lower)
    r, c, data, rhs = [], [], [], []
    for m, (form, const) in enumerate(rows):  # -g(v) (+ t) <= const
        for var, a in form.items():
            r.append(m)
            c.append(var)
            data.append(-float(a))
        if goals[m]:
            r.append(m)
            c.append(dim)
            data.append(1.0)
        rhs.append(float(const))
    matrix = coo_matrix((data, (r, c)), shape=(len(rows), dim + 1)).tocsr()
    cost = np.zeros(dim + 1)
    cost[dim] = -1.0
    bounds = list(zip(lower, upper)) + [(None, 1.0)]
    res = linprog(cost, A_ub=matrix, b_ub=np.array(rhs), bounds=bounds, method="highs")
    if res.status != 0:
        return None
    return -res.fun, list(res.x[:dim]), [max(-y, 0.0) for y in res.ineqlin.marginals]
