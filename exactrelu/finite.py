"""A finite-weight exact shallow form: the lattice (max-min) representation as a ReLU network.

From an :class:`~exactrelu.regions.Enumeration` over a convex domain ``D`` (``R^n``, a box or a
polytope), every output ``o`` of the deep network is written as

    ``f_o(x) = max_t min_{j in S_t} l_j(x)``        (Tarela & Martinez; Ovchinnikov)

where ``l_1, l_2, ...`` are the *distinct* affine maps of output ``o`` over the regions and each
term ``S_t`` is a set of them (:class:`LatticeForm`).  For a region ``R_i`` with map ``l_i`` let
``A_i = {j : l_j >= l_i on the closure of R_i}`` and ``B_i = {j : l_j <= l_i on it}``, both read off
the closure's exact vertices on a bounded domain (an affine function is ``>= 0`` on a polytope iff
at its vertices), else decided by exact LPs (:class:`_Closures`).  The formula is exact iff

* *(above)* every region ``R_k`` has a term inside ``A_k`` (then ``max >= l_k`` on ``R_k``), or
  the closures of cells ``C`` of it, each with a term ``>= l_k`` on ``C``, cover it, and
* *(below)* every term is ``<= f_o`` on ``D``: on every region ``R_k`` no point has every map of the
  term above ``l_k`` (enough: one map of the term in ``B_k``).

The construction (docs/theory.md section 10.1): for every full-dimensional region ``R_i`` a small
term ``T_i`` inside ``A_i`` that satisfies *(below)* (:func:`_term`: a greedy cover of the regions
by the maps of ``A_i`` in their ``B_k``, then exact LPs for the regions no single map covers), or,
where none exists, one term per cell of ``R_i`` (:func:`_cells`); then a greedy cover of the
regions and cells by these terms for *(above)*.  Every point lies in the closure of a
full-dimensional region (their closures cover ``D``), so lower-dimensional regions need no term of
their own; a flat domain has no full-dimensional region and is refused
(:class:`~exactrelu.errors.DomainError`).

A term per region need not exist: on ``benchmarks.common.random_network([2, 4, 4, 4, 1], seed=11)``
over ``[-2, 2]^2`` every map of some ``A_i`` exceeds ``f`` at a point of another region (exact
arithmetic), so no term above ``l_i`` on all of ``R_i`` is ``<= f``.  Such a region is split into
cells by hyperplanes ``l_j = l_i`` (:func:`_cells`) until each cell ``C`` has a term inside
``{j : l_j >= l_i on the closure of C}`` that is ``<= f``; the lattice lemma in its pointwise form
(Ovchinnikov 2002) guarantees one once every sign of ``l_j - l_i`` is fixed on ``C``
(docs/theory.md section 10.2).  Nothing downstream rests on the construction alone:
:func:`certify` proves, region by region of the deep network, that the formula equals the deep map
(:func:`leaf_evidence`, the lattice certificate of docs/theory.md section 10.6, check (a) split by
the same kind of hyperplanes where no term lies above a whole region) and raises
:class:`~exactrelu.errors.InternalError` where it cannot.

The representation is realised as an ordinary :class:`~exactrelu.network.ReluNetwork` with finite
rational weights (:func:`realise`): a value ``v`` passes a layer as ``relu(v) - relu(-v)``,
``min(a, b) = a - relu(a - b)`` and ``max(a, b) = b + relu(a - b)``, in balanced pairwise trees (one
hidden layer per tree level: ``ceil(log2 |S_t|)`` levels of min, then ``ceil(log2 #terms)`` of
max), shorter branches padded with identities, every output side by side.  Identical neurons of a
layer are built once.

>>> from exactrelu.network import ReluNetwork
>>> from exactrelu.regions import enumerate_regions
>>> deep = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])   # |x|
>>> form = lattice_form(enumerate_regions(deep))
>>> [[form.maps[0][j] for j in term] for term in form.terms[0]]
[[((Fraction(1, 1),), Fraction(0, 1))], [((Fraction(-1, 1),), Fraction(0, 1))]]
>>> F = realise(form)
>>> F.widths, F.evaluate(["-3/2"]), F.evaluate(["0"])
((1, 3, 1), (Fraction(3, 2),), (Fraction(0, 1),))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from operator import mul
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from . import lp
from .errors import DomainError, InternalError
from .network import AffineLayer, ReluNetwork
from .polytope import IntRow, Polytope, integer_row, vertex_multipliers

if TYPE_CHECKING:  # pragma: no cover
    from .regions import Enumeration

Affine = tuple[tuple[Fraction, ...], Fraction]  # w, b: x -> w . x + b
ZERO, ONE = Fraction(0), Fraction(1)


@dataclass(frozen=True)
class LatticeForm:
    """``f_o(x) = max_{t} min_{j in terms[o][t]} maps[o][j](x)`` for every output ``o``.

    Invariant: ``maps[o]`` are distinct, ``terms[o]`` are distinct sets of indices into them, no
    set contains another, each set is sorted, every map is used; ``lps`` exact LPs went into them."""

    input_dim: int
    maps: tuple[tuple[Affine, ...], ...]
    terms: tuple[tuple[tuple[int, ...], ...], ...]
    lps: int = 0

    @property
    def output_dim(self) -> int:
        return len(self.maps)

    def evaluate(self, x: Sequence[Fraction]) -> tuple[Fraction, ...]:
        """The max-min formula exactly at ``x``."""
        def value(m: Affine) -> Fraction:
            return sum((a * v for a, v in zip(m[0], x)), m[1])

        return tuple(max(min(value(maps[j]) for j in term) for term in terms)
                     for maps, terms in zip(self.maps, self.terms))


def _minus(p: Affine, q: Affine) -> Affine:
    return tuple(a - c for a, c in zip(p[0], q[0])), p[1] - q[1]


def _at(p: Affine, x: Sequence[Fraction]) -> Fraction:
    return sum((a * v for a, v in zip(p[0], x)), p[1])


def _minimal_sets(sets: Sequence[frozenset[int]]) -> list[tuple[int, ...]]:
    """The distinct sets that contain no other set, sorted, in a deterministic order."""
    distinct = sorted(set(sets), key=lambda s: (len(s), sorted(s)))
    kept: list[frozenset[int]] = []
    for s in distinct:
        if not any(k <= s for k in kept):  # k is smaller or equal in size, so k <= s means k is inside s
            kept.append(s)
    return [tuple(sorted(s)) for s in kept]


def _bits(mask: int) -> list[int]:
    """The indices of the set bits of ``mask``, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _mask(indices) -> int:
    out = 0
    for j in indices:
        out |= 1 << j
    return out


class _Closures:
    """What the construction and its evidence read off every region ``R_k`` of an enumeration.

    Invariant, per output ``o``: ``maps[o]`` are the distinct maps of the regions, ``own[o][k]`` the
    index of ``R_k``'s map; bit ``j`` of ``ge[o][k]`` is set iff ``l_j >= l_k`` on the closure of
    ``R_k`` and of ``le[o][k]`` iff ``l_j <= l_k`` there.  On a bounded domain the closure is the
    convex hull of its vertices (``cells[k]``, exact), so both are decided at the vertices with no
    LP; on an unbounded one each is an exact LP (``lps`` counts them).  ``covers[o][j]``: the mask of
    the regions ``k`` with bit ``j`` in ``le[o][k]``."""

    def __init__(self, e: "Enumeration") -> None:
        self.n = n = e.network.input_dim
        domain_rows = e.domain.rows()
        self.rows = [domain_rows + r.neuron_rows() for r in e.regions]
        self.int_rows: list[list[IntRow]] = []
        self.scales: list[list[Fraction]] = []
        self.cells: list[Optional[Polytope]] = []
        for rows in self.rows:
            ints = [integer_row(u, v) for u, v, _ in rows]
            self.int_rows.append([row for row, _ in ints])
            self.scales.append([Fraction(den, g) for _, (den, g) in ints])
            points = lp.bounded_vertices(rows)
            self.cells.append(Polytope.from_vertices(points, self.int_rows[-1]) if points else None)
        self.lps = 0
        self.maps: list[list[Affine]] = []
        self.own: list[list[int]] = []
        self.ge: list[list[int]] = []
        self.le: list[list[int]] = []
        self.covers: list[list[int]] = []
        for o in range(e.network.output_dim):
            index: dict[Affine, int] = {}
            own = [index.setdefault((tuple(r.alpha[o]), r.beta[o]), len(index)) for r in e.regions]
            maps = list(index)
            den = math.lcm(*(c.denominator for w, b in maps for c in (*w, b)))
            columns = [[int(c * den) for c in (*w, b)] for w, b in maps]  # den * (w, b): integer maps
            ge, le = [], []
            for k, r in enumerate(e.regions):
                g, l = self._compare(k, maps, columns, own[k], r.witness)
                ge.append(g)
                le.append(l)
            self.maps.append(maps)
            self.own.append(own)
            self.ge.append(ge)
            self.le.append(le)
            covers = [0] * len(maps)
            for k, mask in enumerate(le):
                for j in _bits(mask):
                    covers[j] |= 1 << k
            self.covers.append(covers)

    def _compare(self, k: int, maps: Sequence[Affine], columns: Sequence[Sequence[int]], own: int,
                 witness: Sequence[Fraction]) -> tuple[int, int]:
        """``(ge, le)`` masks of region ``k`` (class docstring); ``columns``: the maps times one
        positive integer, as integer rows."""
        cell = self.cells[k]
        if cell is not None:
            vertices = [(*p, d) for p, d in zip(cell.points, cell.dens)]
            values = [[sum(map(mul, col, v)) for v in vertices] for col in columns]
            mine = values[own]
            ge = _mask(j for j, vals in enumerate(values) if all(a >= b for a, b in zip(vals, mine)))
            le = _mask(j for j, vals in enumerate(values) if all(a <= b for a, b in zip(vals, mine)))
            return ge, le
        ge = le = 1 << own
        mine = maps[own]
        at = _at(mine, witness)
        for j, other in enumerate(maps):
            if j == own:
                continue
            for sign, bit in ((1, "ge"), (-1, "le")):
                if sign * (_at(other, witness) - at) < 0:
                    continue  # the witness already shows l_j on the wrong side of l_k
                d, d0 = _minus(mine, other) if sign > 0 else _minus(other, mine)
                self.lps += 1
                opt = lp.maximize(self.rows[k], d, d0, self.n)
                if opt.status == "optimal" and opt.value <= 0:
                    if bit == "ge":
                        ge |= 1 << j
                    else:
                        le |= 1 << j
        return ge, le

    def upper(self, k: int, d: Sequence[Fraction], d0: Fraction) -> dict[int, Fraction]:
        """Dual multipliers ``y >= 0`` over region ``k``'s rows with ``sum y_m u_m = -d`` and
        ``d0 + sum y_m v_m <= 0``: a proof that ``d . x + d0 <= 0`` on its closure, which the caller
        knows.  Read off the rows tight at the vertex where the map is largest when a basis of them
        gives nonnegative multipliers (checked exactly), else an exact LP."""
        if not any(d):
            return {}
        cell = self.cells[k]
        if cell is not None:
            row, (den, g) = integer_row(d, d0)
            best = cell.extreme(cell.values(row), largest=True)
            rows = self.int_rows[k]
            found = vertex_multipliers(rows, cell.tight[best], [-a for a in row[:-1]])
            if found is not None:
                num, q = found
                if row[-1] * q + sum(c * rows[m][-1] for m, c in num.items()) <= 0:
                    sigma = Fraction(den, g)
                    return {m: Fraction(c, q) * self.scales[k][m] / sigma for m, c in sorted(num.items())}
        self.lps += 1
        opt = lp.maximize(self.rows[k], d, d0, self.n)
        if opt.status != "optimal" or opt.value > 0:
            raise InternalError(f"region {k}: a map claimed below another on its closure is not")
        return opt.multipliers


def _cover(universe: int, sets: Sequence[tuple[object, int]]) -> list:
    """Greedy set cover: keys of ``sets`` (``(key, mask)``) whose masks together cover ``universe``,
    each chosen covering most of what is still uncovered (ties: the earliest)."""
    chosen, left = [], universe
    while left:
        key, mask = max(sets, key=lambda s: (s[1] & left).bit_count())
        if not mask & left:
            raise InternalError("a set cover has no set left that covers what remains")
        chosen.append(key)
        left &= ~mask
    return chosen


def _term(c: _Closures, o: int, i: int, s: int) -> tuple[Optional[frozenset[int]], int]:
    """A small set ``T`` with ``l_i`` in it, inside the set of maps ``s`` (a mask, every map of it
    ``>= l_i`` on the part of ``R_i`` the term must serve), such that on every region ``R_k`` no
    point has every map of ``T`` above ``l_k``: greedily a map below ``l_k`` on the whole closure for
    every region where ``s`` has one, then, where none does, maps added at the points an exact LP
    finds where every map of ``T`` exceeds ``l_k``.  So ``min_T <= f`` on the domain.  Returns ``T``
    (``None`` when such a point has every map of ``s`` above ``f``: no term inside ``s`` is ``<= f``
    there) and the LPs it took."""
    own, le, maps = c.own[o][i], c.le[o], c.maps[o]
    covers = [(j, c.covers[o][j]) for j in _bits(s)]
    single = 0
    for _, mask in covers:
        single |= mask
    chosen = {own, *_cover(single & ~c.covers[o][own], covers)}
    lps = 0
    for k in _bits(~single & ((1 << len(le)) - 1)):
        while True:
            lk = maps[c.own[o][k]]
            lps += 1
            decision = lp.decide(c.rows[k] + [(*_minus(maps[j], lk), True) for j in sorted(chosen)], c.n)
            if not decision.nonempty:
                break
            x = decision.point
            j = min(_bits(s), key=lambda j: _at(maps[j], x))
            if _at(maps[j], x) > _at(lk, x):
                return None, lps
            chosen.add(j)
    return frozenset(chosen), lps


def _side(rows: list, d: Affine, n: int) -> tuple[bool, Optional[dict[int, Fraction]], int]:
    """Whether ``d <= 0`` on the closure of ``rows``, with its dual multipliers (``{}`` for a constant
    ``d``), and the LPs it took."""
    if not any(d[0]):
        return d[1] <= 0, {}, 0
    opt = lp.maximize(rows, d[0], d[1], len(d[0]))
    below = opt.status == "optimal" and opt.value <= 0
    return below, opt.multipliers if below else None, 1


def _cells(c: _Closures, o: int, i: int) -> tuple[list[tuple[int, frozenset[int]]], int]:
    """The terms of a region ``R_i`` that has no single term (:func:`_term` returns ``None`` for
    ``S_i``): ``R_i`` is split by hyperplanes ``l_j = l_i`` into full-dimensional cells ``C`` until
    a term inside ``S_C = {j : l_j >= l_i on the closure of C}`` is ``<= f`` on the domain.  Returns
    ``(S_C, T_C)`` per cell (their closures cover that of ``R_i``, and ``min_{T_C} = l_i`` on ``C``)
    and the LPs.  A split is always found before the signs of every ``l_j - l_i`` are fixed on a
    cell, where the set is ``{j : l_j(y) >= f(y)}`` at an interior point ``y`` and the lattice lemma
    (docs/theory.md section 10.2) gives the term; past that, :class:`InternalError`."""
    maps, own = c.maps[o], c.own[o][i]
    li, lps, out = maps[own], 0, []
    pending = [([], c.ge[o][i])]
    while pending:
        extra, s = pending.pop()
        rows = c.rows[i] + extra
        for j in _bits(~s & ((1 << len(maps)) - 1)):
            above, _, used = _side(rows, _minus(li, maps[j]), c.n)
            lps += used
            if above:
                s |= 1 << j
        term, used = _term(c, o, i, s)
        lps += used
        if term is not None:
            out.append((s, term))
            continue
        cut = None
        for j in _bits(~s & ((1 << len(maps)) - 1)):
            lps += 1
            d, d0 = _minus(maps[j], li)
            up = lp.maximize(rows, d, d0, c.n)
            if up.status == "unbounded" or (up.status == "optimal" and up.value > 0):
                cut = (j, d, d0)
                break
        if cut is None:
            raise InternalError(f"output {o}, region {i}: a cell with every sign fixed has no term below the network")
        j, d, d0 = cut
        pending.append((extra + [(tuple(-a for a in d), -d0, False)], s))
        pending.append((extra + [(d, d0, False)], s | 1 << j))
    return out, lps


def lattice_form(e: "Enumeration", closures: Optional[_Closures] = None) -> LatticeForm:
    """The lattice representation of every output over the enumeration's domain (module docstring)."""
    regions = [k for k, r in enumerate(e.regions) if r.full_dimensional]
    if not regions:
        raise DomainError(f"the domain {e.domain.describe()} has no interior (it is lower-dimensional): the "
                          "finite form needs a full-dimensional domain; drop the flat inputs and fix them in the weights")
    c = closures or _Closures(e)
    lps = c.lps
    all_maps, all_terms = [], []
    for o in range(e.network.output_dim):
        sets, cells = [], []
        for i in regions:
            term, used = _term(c, o, i, c.ge[o][i])
            lps += used
            if term is None:
                parts, used = _cells(c, o, i)
                lps += used
                cells += [s for s, _ in parts]
                sets += [t for _, t in parts]
            else:
                sets.append(term)
        minimal = _minimal_sets(sets)
        ge, shift = c.ge[o], len(e.regions)
        options = [(t, _mask(k for k, mask in enumerate(ge) if _mask(t) & ~mask == 0)
                    | _mask(shift + m for m, mask in enumerate(cells) if _mask(t) & ~mask == 0)) for t in minimal]
        # every region some term lies above on its whole closure, and every cell of the others
        universe = 0
        for _, mask in options:
            universe |= mask
        terms = sorted(_cover(universe, options), key=lambda t: (len(t), t))
        used = sorted({j for t in terms for j in t})
        renumber = {j: t for t, j in enumerate(used)}
        all_maps.append(tuple(c.maps[o][j] for j in used))
        all_terms.append(tuple(tuple(renumber[j] for j in t) for t in terms))
    return LatticeForm(e.network.input_dim, tuple(all_maps), tuple(all_terms), lps)


# ----------------------------------------------------------------------------- the ReLU network
Expr = tuple[dict[int, Fraction], Fraction]  # sum_k c_k v_k + c0 over the previous layer (or the input)


class _LayerBuilder:
    """One hidden layer under construction: each distinct neuron ``relu(expr)`` is built once."""

    def __init__(self) -> None:
        self.rows: list[tuple[tuple[tuple[int, Fraction], ...], Fraction]] = []
        self.index: dict = {}

    def relu(self, expr: Expr) -> int:
        key = (tuple(sorted((k, c) for k, c in expr[0].items() if c)), expr[1])
        if key not in self.index:
            self.index[key] = len(self.rows)
            self.rows.append(key)
        return self.index[key]

    def combine(self, terms: Sequence[tuple[Fraction, Expr]]) -> Expr:
        """``sum coef * relu(expr)`` as an expression over this layer's neurons."""
        out: dict[int, Fraction] = {}
        for coef, expr in terms:
            k = self.relu(expr)
            out[k] = out.get(k, ZERO) + coef
        return {k: c for k, c in out.items() if c}, ZERO

    def identity(self, v: Expr) -> Expr:
        """``v = relu(v) - relu(-v)``; a constant needs no neuron."""
        if not any(v[0].values()):
            return {}, v[1]
        return self.combine([(ONE, v), (-ONE, _neg(v))])

    def pair(self, op: str, a: Expr, b: Expr) -> Expr:
        """``min(a, b) = a - relu(a - b)`` or ``max(a, b) = b + relu(a - b)``."""
        if not any(a[0].values()) and not any(b[0].values()):
            return {}, (min if op == "min" else max)(a[1], b[1])
        base = a if op == "min" else b
        return self.combine([(ONE, base), (-ONE, _neg(base)), (-ONE if op == "min" else ONE, _sub(a, b))])

    def layer(self, width: int) -> AffineLayer:
        weight = []
        for coefs, _ in self.rows:
            row = [ZERO] * width
            for k, c in coefs:
                row[k] = c
            weight.append(tuple(row))
        return AffineLayer(tuple(weight), tuple(b for _, b in self.rows))


def _neg(v: Expr) -> Expr:
    return {k: -c for k, c in v[0].items()}, -v[1]


def _sub(a: Expr, b: Expr) -> Expr:
    out = dict(a[0])
    for k, c in b[0].items():
        out[k] = out.get(k, ZERO) - c
    return out, a[1] - b[1]


def _dense(v: Expr, width: int) -> tuple[tuple[Fraction, ...], Fraction]:
    row = [ZERO] * width
    for k, c in v[0].items():
        row[k] += c
    return tuple(row), v[1]


def _reduce_level(b: _LayerBuilder, op: str, group: list[Expr]) -> list[Expr]:
    """One level of a balanced pairwise tree: pairs ``(0, 1), (2, 3), ...``; an odd last one passes."""
    out = [b.pair(op, group[k], group[k + 1]) for k in range(0, len(group) - 1, 2)]
    if len(group) % 2:
        out.append(b.identity(group[-1]))
    return out


def realise(form: LatticeForm) -> ReluNetwork:
    """The ReLU network of the lattice form (module docstring): per output, a balanced min tree per
    term, then a balanced max tree over the terms; outputs side by side, shorter ones padded with
    identities.  Hidden layers: ``max_o (ceil(log2 max_t |S_t|) + ceil(log2 #terms_o))``."""
    n = form.input_dim
    # per output: [phase, groups]; phase "min": a list of groups; "max": one group; "done": one value
    states = []
    for maps, terms in zip(form.maps, form.terms):
        exprs = [({i: a for i, a in enumerate(w) if a}, c) for w, c in maps]
        states.append(["min", [[exprs[j] for j in term] for term in terms]])

    def settle(state: list) -> None:
        if state[0] == "min" and all(len(g) == 1 for g in state[1]):
            state[0], state[1] = "max", [[g[0] for g in state[1]]]
        if state[0] == "max" and len(state[1][0]) == 1:
            state[0], state[1] = "done", state[1][0][0]

    for state in states:
        settle(state)
    layers: list[AffineLayer] = []
    width = n
    while any(state[0] != "done" for state in states):
        builder = _LayerBuilder()
        for state in states:
            if state[0] == "done":
                state[1] = builder.identity(state[1])
            elif state[0] == "min":
                state[1] = [_reduce_level(builder, "min", g) if len(g) > 1 else [builder.identity(g[0])]
                            for g in state[1]]
            else:
                state[1] = [_reduce_level(builder, "max", state[1][0])]
            settle(state)
        layer = builder.layer(width)
        if not layer.bias:  # every value is constant: one zero neuron keeps the layer well formed
            layer = AffineLayer(((ZERO,) * width,), (ZERO,))
        layers.append(layer)
        width = layer.out_dim
    outputs = [_dense(state[1], width) for state in states]
    layers.append(AffineLayer(tuple(w for w, _ in outputs), tuple(c for _, c in outputs)))
    return ReluNetwork(tuple(layers), n)


# ----------------------------------------------------------------------------- certified
@dataclass(frozen=True)
class Cell:
    """Check (a) on a part ``P`` of a region (one output, deep map ``l``): either a term ``term`` with
    ``above[s]`` dual multipliers over ``P``'s rows (read as ``>= 0``) proving ``l - l_j <= 0`` on
    ``P`` for the ``s``-th map ``j`` of the term, or a split by the form's map ``split``: ``ge`` on
    ``P`` with the row ``l_j - l >= 0`` appended, ``le`` with ``l - l_j >= 0``.  ``P``'s rows: the
    region's, then one per split on the way down."""

    term: Optional[int] = None
    above: tuple[dict[int, Fraction], ...] = ()
    split: Optional[int] = None
    ge: Optional["Cell"] = None
    le: Optional["Cell"] = None


@dataclass(frozen=True)
class LeafEvidence:
    """Why ``max_t min_{j in S_t} l_j = l`` on one region ``R`` with deep map ``l`` (one output).

    Invariant (checked exactly here, re-checked by the checker): ``cell`` proves, on the closure of
    ``R`` (or on each part of a split of it), that the maps of a term are ``>= l`` (:class:`Cell`);
    ``below[t]`` are Motzkin multipliers over the region's rows followed by the rows ``l_j - l > 0``
    (``j`` in term ``t``, in order) proving them infeasible."""

    cell: Cell
    below: tuple[dict[int, Fraction], ...]


def _split_cell(rows: list, maps: Sequence[Affine], terms, own: Affine, n: int) -> tuple[Cell, int]:
    """Check (a) of :class:`LeafEvidence` on the part of a region with ``rows`` (no term lies above
    ``own`` on all of it): the first term whose maps are all ``>= own`` on the closure (exact LPs), else
    a split by a map ``l_j`` of a term with fewest maps below, ``l_j - own`` taking both signs, and
    each side in turn.  Every split fixes one more sign, and once no map of a term takes both signs
    the term that equals ``f`` at a relative interior point lies above on the whole part."""
    lps, proofs = 0, {}
    for j in sorted({j for term in terms for j in term}):
        above, proof, used = _side(rows, _minus(own, maps[j]), n)
        lps += used
        if above:
            proofs[j] = proof
    misses = [[j for j in term if j not in proofs] for term in terms]
    for t, term in enumerate(terms):
        if not misses[t]:
            return Cell(term=t, above=tuple(proofs[j] for j in term)), lps
    for t in sorted(range(len(terms)), key=lambda t: len(misses[t])):
        for j in misses[t]:
            d, d0 = _minus(maps[j], own)
            lps += 1
            up = lp.maximize(rows, d, d0, n)
            if up.status == "unbounded" or (up.status == "optimal" and up.value > 0):
                ge, a = _split_cell(rows + [(d, d0, False)], maps, terms, own, n)
                le, b = _split_cell(rows + [(tuple(-x for x in d), -d0, False)], maps, terms, own, n)
                return Cell(split=j, ge=ge, le=le), lps + a + b
    raise InternalError("a part of a region has no term of the finite form above the deep map")


def leaf_evidence(e: "Enumeration", form: LatticeForm,
                  closures: Optional[_Closures] = None) -> tuple[list[tuple[LeafEvidence, ...]], int]:
    """The evidence of every region of ``e`` and every output (:class:`LeafEvidence`), and the exact
    LPs it took.  Check (a): the first term whose maps all lie above the region's map ``l`` on its
    closure (read off the vertices, :class:`_Closures`), with the multipliers of
    :meth:`_Closures.upper`; where no term does (a region split into cells by the construction),
    :func:`_split_cell`.  ``below[t]``: a map of term ``t`` below ``l`` on the closure gives
    Motzkin multipliers with one strict row (``upper`` and 1 on that map's row); where no single map
    is, the exact feasibility LP (:func:`exactrelu.lp.decide`) gives them.  Raises
    :class:`~exactrelu.errors.InternalError` if a region has no evidence (then the finite form
    differs from the deep network there, which docs/theory.md section 10 excludes)."""
    c = closures or _Closures(e)
    before = c.lps
    lps = 0
    # per output: each form map's index among the closures' maps, and each term's mask over them
    index = [[{m: j for j, m in enumerate(all_maps)}[m] for m in maps] for all_maps, maps in zip(c.maps, form.maps)]
    masks = [[_mask(ix[j] for j in term) for term in terms] for ix, terms in zip(index, form.terms)]
    out = []
    for k in range(len(e.regions)):
        rows = c.rows[k]
        per_output = []
        for o, (maps, terms) in enumerate(zip(form.maps, form.terms)):
            own = c.maps[o][c.own[o][k]]
            ge, le, ix = c.ge[o][k], c.le[o][k], index[o]
            chosen = next((t for t, mask in enumerate(masks[o]) if mask & ~ge == 0), None)
            if chosen is None:
                cell, used = _split_cell(rows, maps, terms, own, form.input_dim)
                lps += used
            else:
                cell = Cell(term=chosen, above=tuple(c.upper(k, *_minus(own, maps[j])) for j in terms[chosen]))
            below = []
            for t, term in enumerate(terms):
                low = [s for s, j in enumerate(term) if le >> ix[j] & 1]
                if low:
                    s = next((s for s in low if maps[term[s]] == own), low[0])
                    proof = c.upper(k, *_minus(maps[term[s]], own))
                    below.append({**proof, len(rows) + s: ONE})
                    continue
                lps += 1
                decision = lp.decide(rows + [(*_minus(maps[j], own), True) for j in term], form.input_dim)
                if decision.nonempty:
                    raise InternalError(f"region {k}: term {t} of output {o} exceeds the deep map at "
                                        f"{list(map(str, decision.point))}")
                below.append(decision.multipliers)
            per_output.append(LeafEvidence(cell, tuple(below)))
        out.append(tuple(per_output))
    return out, lps + c.lps - before


@dataclass
class FiniteForm:
    """A finite form with its certificate's evidence.

    Invariant: ``evidence[k][o]`` proves, on region ``k`` of ``enumeration``, that output ``o`` of the
    lattice formula equals the deep network's map (:class:`LeafEvidence`); ``network`` is
    :func:`realise` of ``lattice``.  Together: ``network`` = the deep network on the whole domain."""

    enumeration: "Enumeration"
    lattice: LatticeForm
    network: ReluNetwork
    evidence: list[tuple[LeafEvidence, ...]]
    evidence_lps: int
    distinct_maps: tuple[int, ...]  # per output, before unused maps are dropped
    build_seconds: float
    evidence_seconds: float

    @property
    def depth(self) -> int:
        """Hidden layers of the finite form."""
        return len(self.network.hidden_widths)

    @property
    def width(self) -> int:
        """Widest hidden layer (0 when the function is affine on the domain)."""
        return max(self.network.hidden_widths, default=0)


def certify(e: "Enumeration") -> FiniteForm:
    """Build the finite form of ``e``'s network over ``e``'s domain and its evidence of equality
    (:func:`leaf_evidence`), region by region of the deep network alone."""
    started = time.perf_counter()
    closures = _Closures(e)
    form = lattice_form(e, closures)
    network = realise(form)
    built = time.perf_counter()
    evidence, lps = leaf_evidence(e, form, closures)
    distinct = tuple(len({(tuple(r.alpha[o]), r.beta[o]) for r in e.regions}) for o in range(e.network.output_dim))
    return FiniteForm(e, form, network, evidence, lps, distinct, built - started, time.perf_counter() - built)


def write_finite(form: FiniteForm, out: "str | Path", cert_path: "str | Path") -> int:
    """Write the finite form as ``exactrelu-network`` JSON to ``out`` and its lattice certificate
    (``exactrelu-equivalence``, ``"method": "lattice"``; A = the deep network, B = the finite form) to
    ``cert_path``, together or not at all (:class:`~exactrelu.io.output.Outputs`); return the
    certificate's size in bytes."""
    from .io.output import Outputs

    with Outputs() as outputs:
        network, cert = outputs.add(out), outputs.add(cert_path)
        outputs.open()
        stream_finite(form, network, cert)
        outputs.commit()
    return cert.size


def lattice_header(form: FiniteForm) -> dict:
    """The lattice certificate but its leaves and tree (docs/certificate-format.md)."""
    from .certificate import producer_versions
    from .equiv import EQUIV_FORMAT, EQUIV_VERSION
    from .io.jsonfmt import to_dict
    from .rationals import format_rational

    deep, e = form.enumeration.network, form.enumeration
    return {
        "format": EQUIV_FORMAT, "version": EQUIV_VERSION, "purpose": "equivalence",
        "producer": producer_versions(),
        "networks": {"A": deep.to_dict(), "B": to_dict(form.network, sparse=True)},
        "network_sha256": {"A": deep.sha256(), "B": form.network.sha256()},
        "domain": e.domain.to_dict(), "combination": "lattice", "order": "layer-major", "method": "lattice",
        "claim": {"kind": "equal", "norm": "inf"},
        "lattice": [{"maps": [{"w": [format_rational(a) for a in w], "b": format_rational(b)} for w, b in maps],
                     "terms": [list(t) for t in terms]}
                    for maps, terms in zip(form.lattice.maps, form.lattice.terms)],
    }


def _multipliers_json(y: dict[int, Fraction]) -> str:
    from .certificate import json_rational

    return "[" + ",".join("[%d,%s]" % (m, json_rational(v)) for m, v in y.items()) + "]"


def _cell_json(cell: Cell) -> str:
    """The members of a :class:`Cell`: ``"term"`` and ``"above"``, or ``"split"``, ``"ge"`` and ``"le"``."""
    if cell.split is None:
        return '"term":%d,"above":[%s]' % (cell.term, ",".join(map(_multipliers_json, cell.above)))
    return '"split":%d,"ge":{%s},"le":{%s}' % (cell.split, _cell_json(cell.ge), _cell_json(cell.le))


def stream_finite(form: FiniteForm, network_out, cert_out) -> None:
    """Write the finite form's JSON to the stream ``network_out`` and its lattice certificate (the
    deep network's tree and leaves, each leaf with its :class:`LeafEvidence`) to ``cert_out``."""
    from .certificate import leaf_json, stream_certificate
    from .io.jsonfmt import dumps

    network_out.write(dumps(form.network, sparse=True))
    e = form.enumeration

    def leaf(k: int) -> str:
        per_output = ",".join('{%s,"below":[%s]}' % (_cell_json(ev.cell), ",".join(map(_multipliers_json, ev.below)))
                              for ev in form.evidence[k])
        return leaf_json(e.regions[k], ',"lattice":[%s]' % per_output)

    stream_certificate(cert_out, lattice_header(form), (leaf(k) for k in range(len(e.regions))), e.tree)
