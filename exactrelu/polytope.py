"""Exact vertex sets of bounded cells, kept under cuts by hyperplanes: the engine's cheap enclosure.

A node of the case-split tree is a cell ``{x : r_m(x) >= 0 or > 0}`` (its rows, see
:mod:`exactrelu.lp`).  When the domain is bounded, the cell's closure ``P`` (every row read as weak)
is a polytope, and a :class:`Polytope` holds it by its vertices.  Rows are *integer rows*
``(a_1, ..., a_n, a_0)`` standing for ``a . x + a_0`` (a positive multiple of the rational row, so
signs are the same); a vertex is integer numerators over a positive integer denominator.

Invariants of a :class:`Polytope` (exact integer arithmetic, no rounding anywhere):

* ``points[k] / dens[k]`` are exactly the vertices of ``P``, each listed once;
* bit ``m`` of ``tight[k]`` is set iff row ``m`` of the node vanishes at vertex ``k``;
* :meth:`Polytope.cut` returns the vertex sets of ``P ∩ {r >= 0}`` and ``P ∩ {r <= 0}`` with the
  same invariants (new vertices are where ``r`` crosses an edge of ``P``; two vertices span an edge
  iff no third vertex is tight on every row tight at both, which holds for every polytope,
  degenerate and lower-dimensional ones included).

What the engine reads off it: ``max r <= 0`` (or ``min r > 0``) over the vertices means one side of
the hyperplane misses the cell, and the rows tight at the extreme vertex carry LP-dual (Motzkin)
multipliers for that (:func:`vertex_multipliers`); a row tight at every vertex is an implicit
equality (so a strict one empties the cell, and any non-constant one makes it lower-dimensional);
the mean of the vertices lies in the relative interior.

>>> square = Polytope.box((0, 0), (2, 2))                  # rows 0..3: x>=0, 2-x>=0, y>=0, 2-y>=0
>>> diagonal = (1, 1, -2)                                  # x + y - 2
>>> above, below = square.cut(4, diagonal, square.values(diagonal))
>>> sorted(above.vertex(k) for k in range(len(above)))
[(Fraction(0, 1), Fraction(2, 1)), (Fraction(2, 1), Fraction(0, 1)), (Fraction(2, 1), Fraction(2, 1))]
>>> bin(below.common_tight())                              # no row vanishes on the whole triangle
'0b0'
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from operator import mul
from typing import Optional, Sequence


IntRow = tuple[int, ...]  # (a_1, ..., a_n, a_0): the function x -> a . x + a_0


def integer_row(u: Sequence[Fraction], v: Fraction) -> tuple[IntRow, tuple[int, int]]:
    """The primitive integer row that is a positive multiple ``p/q`` of ``u . x + v``, and ``(p, q)``."""
    den = math.lcm(*(a.denominator for a in u), v.denominator)
    ints = [a.numerator * (den // a.denominator) for a in u] + [v.numerator * (den // v.denominator)]
    g = math.gcd(*ints) or 1
    return (tuple(a // g for a in ints) if g > 1 else tuple(ints)), (den, g)


def integer_point(x: Sequence[Fraction]) -> tuple[tuple[int, ...], int]:
    """``x`` as integer numerators over one positive denominator."""
    den = math.lcm(*(c.denominator for c in x)) if x else 1
    return tuple(int(c * den) for c in x), den


def scaled_value(row: IntRow, point: Sequence[int], den: int) -> int:
    """``den`` times the row's value at ``point / den``: its sign is the value's sign."""
    return sum(map(mul, row, point)) + row[-1] * den


class Polytope:
    """The vertices of a cell's closure (see the module docstring for the invariants)."""

    __slots__ = ("dim", "points", "dens", "tight")

    def __init__(self, dim: int, points: list[tuple[int, ...]], dens: list[int], tight: list[int]) -> None:
        self.dim, self.points, self.dens, self.tight = dim, points, dens, tight

    @classmethod
    def from_vertices(cls, vertices: Sequence[Sequence[Fraction]], rows: Sequence[IntRow]) -> "Polytope":
        """The polytope with these (distinct) vertices; tight masks computed against ``rows``."""
        dim = len(rows[0]) - 1 if rows else len(vertices[0])
        points, dens, tight = [], [], []
        for x in vertices:
            p, d = integer_point(x)
            points.append(p)
            dens.append(d)
            tight.append(sum(1 << m for m, row in enumerate(rows) if scaled_value(row, p, d) == 0))
        return cls(dim, points, dens, tight)

    @classmethod
    def box(cls, lower: Sequence[object], upper: Sequence[object]) -> "Polytope":
        """The box ``lower <= x <= upper`` with the rows of :meth:`exactrelu.domain.Domain.rows`
        (``x_i - lower_i >= 0`` is row ``2i``, ``upper_i - x_i >= 0`` row ``2i + 1``)."""
        lo = [Fraction(a) for a in lower]
        hi = [Fraction(c) for c in upper]
        n = len(lo)
        rows = []
        for i in range(n):
            e = [Fraction(int(j == i)) for j in range(n)]
            rows.append(integer_row(e, -lo[i])[0])
            rows.append(integer_row([-a for a in e], hi[i])[0])
        corners = dict.fromkeys(itertools.product(*({a: None, c: None} for a, c in zip(lo, hi))))
        return cls.from_vertices(list(corners), rows)

    def __len__(self) -> int:
        return len(self.points)

    def vertex(self, k: int) -> tuple[Fraction, ...]:
        d = self.dens[k]
        return tuple(Fraction(p, d) for p in self.points[k])

    def values(self, row: IntRow) -> list[int]:
        """The scaled values of ``row`` at the vertices (signs are exact)."""
        a0 = row[-1]
        return [sum(map(mul, row, p)) + a0 * d for p, d in zip(self.points, self.dens)]

    def extreme(self, values: Sequence[int], largest: bool) -> int:
        """Index of a vertex where the row with these scaled ``values`` is largest (or smallest)."""
        best = 0
        for k in range(1, len(values)):
            # compare values[k] / dens[k] with values[best] / dens[best]
            left, right = values[k] * self.dens[best], values[best] * self.dens[k]
            if (left > right) if largest else (left < right):
                best = k
        return best

    def common_tight(self) -> int:
        """The rows tight at every vertex (the implicit equalities of the cell's closure)."""
        common = -1
        for t in self.tight:
            common &= t
        return common if self.points else 0

    def with_tight(self, bit: int, values: Sequence[int]) -> "Polytope":
        """The same vertices, with row ``bit`` marked tight where its value is zero."""
        if 0 not in values:
            return self
        flag = 1 << bit
        return Polytope(self.dim, self.points, self.dens,
                        [t | flag if v == 0 else t for t, v in zip(self.tight, values)])

    def cut(self, bit: int, row: IntRow, values: Sequence[int]) -> tuple[Optional["Polytope"], Optional["Polytope"]]:
        """``(P ∩ {row >= 0}, P ∩ {row <= 0})``, ``None`` for an empty side; ``values`` are
        :meth:`values` of ``row`` and ``bit`` is the row's index in the node."""
        flag = 1 << bit
        pos = [k for k, v in enumerate(values) if v > 0]
        neg = [k for k, v in enumerate(values) if v < 0]
        zero = [k for k, v in enumerate(values) if v == 0]
        new_points, new_dens, new_tight = [], [], []
        if pos and neg:
            need = self.dim - 1
            tight = self.tight
            for a in pos:
                ta = tight[a]
                for b in neg:
                    common = ta & tight[b]
                    if common.bit_count() < need:
                        continue
                    if sum(1 for t in tight if t & common == common) != 2:
                        continue  # a third vertex lies on the smallest face holding a and b
                    sa, sb = values[a], values[b]
                    pa, pb = self.points[a], self.points[b]
                    num = [sa * y - sb * x for x, y in zip(pa, pb)]
                    den = sa * self.dens[b] - sb * self.dens[a]
                    g = math.gcd(den, *num)
                    new_points.append(tuple(c // g for c in num))
                    new_dens.append(den // g)
                    new_tight.append(common | flag)

        def side(keep: list[int]) -> Optional[Polytope]:
            if not keep and not zero:
                return None
            points = [self.points[k] for k in keep] + [self.points[k] for k in zero] + new_points
            dens = [self.dens[k] for k in keep] + [self.dens[k] for k in zero] + new_dens
            tight = [self.tight[k] for k in keep] + [self.tight[k] | flag for k in zero] + new_tight
            return Polytope(self.dim, points, dens, tight)

        return side(pos), side(neg)

    def mean(self) -> tuple[tuple[int, ...], int]:
        """The mean of the vertices, a point of the relative interior of the closure, as integer
        numerators over one positive denominator."""
        common = math.lcm(*self.dens)
        total = [0] * self.dim
        for p, d in zip(self.points, self.dens):
            f = common // d
            for i, c in enumerate(p):
                total[i] += f * c
        den = common * len(self.points)
        g = math.gcd(den, *total)
        return tuple(t // g for t in total), den // g


class IntegerBox:
    """The box ``lower <= x <= upper`` over one denominator, for O(n) exact bounds of a row: the
    second enclosure of a cell inside a box domain (rows ``2i``: ``x_i - lower_i >= 0``, ``2i + 1``:
    ``upper_i - x_i >= 0``, as :meth:`exactrelu.domain.Domain.rows` orders them)."""

    __slots__ = ("lower", "upper", "den")

    def __init__(self, lower: Sequence[Fraction], upper: Sequence[Fraction]) -> None:
        self.den = math.lcm(*(c.denominator for c in (*lower, *upper)))
        self.lower = tuple(int(c * self.den) for c in lower)
        self.upper = tuple(int(c * self.den) for c in upper)

    def empty_side(self, row: IntRow) -> Optional[bool]:
        """``True`` if ``row < 0`` on the whole box (so ``row > 0`` has no point in it), ``False`` if
        ``row > 0`` on the whole box (``row <= 0`` has none), else ``None``: strict margins only, so
        the hyperplane meets no point of the box."""
        low = high = row[-1] * self.den
        for a, lo, hi in zip(row, self.lower, self.upper):
            if a > 0:
                low += a * lo
                high += a * hi
            else:
                low += a * hi
                high += a * lo
        return True if high < 0 else False if low > 0 else None


def box_multipliers(w: Sequence[Fraction], row: IntRow, side: bool, newest: int) -> dict[int, Fraction]:
    """Motzkin multipliers proving ``w . x + b > 0`` (``side`` true) or ``<= 0`` (false: the row
    ``-w . x - b >= 0``) empty over a box where :meth:`IntegerBox.empty_side` says so (``row`` is the
    integer row of ``w . x + b``), the neuron's row being row ``newest``: ``|w_i|``
    on the box row of coordinate ``i`` that bounds the row's value, and 1 on the neuron's row.  Their
    combination has zero coefficients by construction and its constant is minus the box bound that
    ``empty_side`` computed exactly, so the certificate is valid as stated."""
    multipliers = {}
    for i, a in enumerate(row[:-1]):
        if a:
            # side true: bound w.x above: x_i <= upper_i (row 2i+1) where w_i > 0, x_i >= lower_i (2i) else
            multipliers[2 * i + (1 if (a > 0) == side else 0)] = w[i] if a > 0 else -w[i]
    multipliers[newest] = Fraction(1)
    return multipliers


def _solve(columns: Sequence[Sequence[int]], target: Sequence[int]) -> Optional[tuple[list[int], int]]:
    """Integers ``(num, den)``, ``den > 0``, with ``sum_j (num_j / den) columns[j] = target`` (a
    square system, fraction-free Gauss-Jordan elimination), or ``None`` if it is singular."""
    n = len(target)
    a = [[columns[j][i] for j in range(n)] + [target[i]] for i in range(n)]
    previous = 1
    for c in range(n):
        pivot = next((r for r in range(c, n) if a[r][c]), None)
        if pivot is None:
            return None
        a[c], a[pivot] = a[pivot], a[c]
        row_c = a[c]
        p = row_c[c]
        for r in range(n):
            if r != c:
                row = a[r]
                f = row[c]
                a[r] = [(p * x - f * y) // previous for x, y in zip(row, row_c)]
        previous = p
    den = a[0][0]
    num = [a[i][n] for i in range(n)]
    return (num, den) if den > 0 else ([-x for x in num], -den)


def vertex_multipliers(rows: Sequence[IntRow], tight: int, target: Sequence[int],
                       max_bases: int = 64) -> Optional[tuple[dict[int, int], int]]:
    """Nonnegative multipliers ``num_m / den`` on rows of the ``tight`` mask with
    ``sum_m (num_m / den) a_m = target`` (``a_m`` the row's coefficients: the dual of an LP whose
    optimum is the vertex where those rows are tight), tried on up to ``max_bases`` square
    subsystems; ``None`` if none gives nonnegative multipliers.  Not yet a proof: the caller checks
    the combination (:func:`integer_motzkin_valid`)."""
    if not any(target):
        return {}, 1
    indices = [m for m in range(tight.bit_length()) if tight >> m & 1 and any(rows[m][:-1])]
    n = len(target)
    for basis in itertools.islice(itertools.combinations(indices, n), max_bases):
        solved = _solve([rows[m] for m in basis], target)
        if solved is not None and all(c >= 0 for c in solved[0]):
            return {m: c for m, c in zip(basis, solved[0]) if c}, solved[1]
    return None


def integer_motzkin_valid(rows: Sequence[IntRow], multipliers: dict[int, int], strict: int) -> bool:
    """The Motzkin check of :func:`exactrelu.lp.motzkin_valid` on integer rows with positive integer
    multipliers (``strict``: bit ``m`` set iff row ``m`` is strict): the coefficients cancel, and the
    constant is negative, or zero with a positive multiplier on a strict row."""
    if not multipliers or any(y <= 0 for y in multipliers.values()):
        return False
    total = [0] * len(rows[0])
    for m, y in multipliers.items():
        for j, a in enumerate(rows[m]):
            total[j] += y * a
    if any(total[:-1]):
        return False
    return total[-1] < 0 or (total[-1] == 0 and any(strict >> m & 1 for m in multipliers))


def simple_interior_point(rows: Sequence[IntRow], cell: Polytope) -> tuple[Fraction, ...]:
    """A point strictly inside the full-dimensional closure ``cell``, with small denominators when
    one is found: the mean of the vertices (computed in floating point, a guide only) rounded to the
    grids of step 1, 1/2, 1/4, 1/10, 1/100, ...; else the exact mean.  A candidate is accepted only
    after an exact check that every non-constant row tight at some vertex is positive there (those
    rows include every facet of ``cell``, and the facets alone describe it)."""
    mask = 0
    for t in cell.tight:
        mask |= t
    facets = [rows[m] for m in range(mask.bit_length()) if mask >> m & 1 and any(rows[m][:-1])]
    count = len(cell.points)
    guide = [sum(p[i] / d for p, d in zip(cell.points, cell.dens)) / count for i in range(cell.dim)]
    for grid in (1, 2, 4, 10, 100, 1000, 10**4, 10**6):
        candidate = tuple(round(c * grid) for c in guide)
        if all(scaled_value(row, candidate, grid) > 0 for row in facets):
            return tuple(Fraction(c, grid) for c in candidate)
    point, den = cell.mean()
    return tuple(Fraction(c, den) for c in point)
