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
* over a bounded domain every node keeps the exact vertex set of its cell
  (:mod:`exactrelu.polytope`), which decides both children; an empty side is proved by the box rows
  (O(n)) or by multipliers read off an extreme vertex, once per layer cell when the hyperplane
  misses it (the proof names only rows of that cell and the split row, so every sub-cell reuses
  it), and an exact LP is asked only in degenerate cases;
* over an unbounded domain the child containing the parent's witness is explored with no LP and
  the other is decided by one exact LP, so the number of LPs is at most the number of tree nodes,
  which grows with the number of regions, not with ``2^N``.

>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])   # x, -x  ->  |x|
>>> e = enumerate_regions(net)
>>> [(r.pattern, r.full_dimensional) for r in e.regions]
[(((True, False),), True), (((False, True),), True), (((False, False),), False)]
>>> e.regions[2].witness
(Fraction(0, 1),)
>>> from exactrelu.domain import Domain
>>> boxed = enumerate_regions(net, Domain.box([-1], [1]))     # the vertex search: no LP at all
>>> len(boxed.regions), boxed.lps, boxed.vertex_proofs + boxed.box_proofs == boxed.empty_children
(3, 0, True)
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Optional, Protocol, Sequence, Union

from .domain import Domain
from .errors import DomainError, IncompleteError, InputError, InternalError
from . import lp
from .lp import Row, is_constant, row_value
from .network import Matrix, ReluNetwork, Vector
from .polytope import (IntegerBox, IntRow, Polytope, box_multipliers, integer_motzkin_valid, integer_point,
                       integer_row, scaled_value, simple_interior_point, vertex_multipliers)

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


@dataclass(frozen=True, slots=True)
class Leaf:
    """A complete pattern; ``index`` points into :attr:`Enumeration.regions`."""

    index: int

    def __reduce__(self):  # pickled by value: cheaper than a slotted dataclass's state (exactrelu.parallel)
        return Leaf, (self.index,)


@dataclass(frozen=True, slots=True)
class Empty:
    """A child proved empty by Motzkin multipliers (row index -> positive rational)."""

    multipliers: dict[int, Fraction]

    def __reduce__(self):
        return Empty, (self.multipliers,)


@dataclass(frozen=True, slots=True)
class Split:
    """A node that splits ``neuron`` = (layer, index) into ``active`` (z > 0) and ``inactive`` (z <= 0)."""

    neuron: tuple[int, int]
    active: "Child"
    inactive: "Child"

    def __reduce__(self):
        return Split, (self.neuron, self.active, self.inactive)


@dataclass(frozen=True)
class Pending:
    """A node not yet explored, with what the search needs to resume there (:func:`enumerate_subtree`):
    ``path``, the sides of the neurons decided above it in split order (its partial pattern); in the
    vertex search its ``cell`` and, below the first neuron of a layer, the ``layer_cell`` where that
    layer started (whose proofs every sub-cell reuses); in the LP search a ``witness`` point of the
    node and whether it is ``interior``.  Only partial results hold one; a complete tree never does."""

    path: tuple[bool, ...]
    cell: Optional[Polytope] = None
    layer_cell: Optional[Polytope] = None
    witness: Optional[Vector] = None
    interior: bool = False

    @property
    def depth(self) -> int:
        return len(self.path)


Child = Union[Split, Leaf, Empty]


class Sink(Protocol):
    """Receives the proof tree in preorder as the search finds it (a split before its active
    subtree, that before its inactive one): ``split(neuron)``, ``empty(child)``, and
    ``leaf(index, region)`` with indices 0, 1, 2, ... in that order."""

    def split(self, neuron: tuple[int, int]) -> None: ...

    def empty(self, child: Empty) -> None: ...

    def leaf(self, index: int, region: Region) -> None: ...


@dataclass
class Enumeration:
    """All regions of ``network`` over ``domain`` and the proof tree that certifies them."""

    network: ReluNetwork
    domain: Domain
    regions: list[Region]
    tree: Optional[Child]  # None when the tree went to a sink (``streamed``)
    nodes: int = 0
    lps: int = 0  # exact LPs solved
    empty_children: int = 0
    seconds: float = 0.0
    decisions: int = 0  # children decided (two per split)
    lp_decisions: int = 0  # of them, decided by an LP
    vertex_proofs: int = 0  # emptiness proofs read off a vertex of a cell
    box_proofs: int = 0  # emptiness proofs from the domain box's rows alone
    streamed: int = 0  # regions handed to a sink (then neither ``regions`` nor ``tree`` is kept)

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
METHODS = ("auto", "vertices", "lp")


class LayerMaps:
    """Every layer's pre-activations as affine maps of ``x``, exactly, by python-flint integer
    matrices: layer ``l``'s maps are an integer matrix ``Z`` (one row ``(w | b)`` per neuron) over one
    positive denominator ``D``, so a layer cell costs one matrix product, not a Fraction loop."""

    def __init__(self, network: ReluNetwork) -> None:
        import flint

        self.fmpz_mat = flint.fmpz_mat
        self.dim = network.input_dim
        self.layers = []
        for layer in network.layers:
            den = math.lcm(*(a.denominator for row in layer.weight for a in row), *(b.denominator for b in layer.bias))
            matrix = [[a.numerator * (den // a.denominator) for a in (*row, b)] for row, b in zip(layer.weight, layer.bias)]
            self.layers.append((self.fmpz_mat(matrix), den))

    def first(self):
        """Layer 0's maps ``(Z, D)``."""
        return self.layers[0]

    def next(self, l: int, previous, active: Sequence[bool]):
        """Layer ``l``'s maps ``(Z, D)`` under the 0/1 pattern ``active`` of layer ``l - 1``."""
        z, d = previous
        weight, den = self.layers[l]
        cols = self.dim + 1
        flat = z.entries()
        zero = [0] * cols
        entries = []
        for j, on in enumerate(active):
            entries.extend(flat[j * cols:(j + 1) * cols] if on else zero)
        entries.extend([0] * self.dim + [d])
        return weight * self.fmpz_mat(len(active) + 1, cols, entries), den * d

    def affine(self, maps) -> list[Affine]:
        """The maps as Fractions ``(w, b)``."""
        z, d = maps
        cols = self.dim + 1
        flat = [int(c) for c in z.entries()]
        result = []
        for k in range(0, len(flat), cols):
            row = [Fraction(c, d) for c in flat[k:k + cols]]
            result.append((tuple(row[:-1]), row[-1]))
        return result

    def integer_rows(self, maps) -> tuple[list[IntRow], list[tuple[int, int]]]:
        """The maps as primitive integer rows ``(w | b)``, each ``p/q`` times the map, and the ``(p, q)``."""
        z, d = maps
        cols = self.dim + 1
        flat = [int(c) for c in z.entries()]
        rows, scales = [], []
        for k in range(0, len(flat), cols):
            row = flat[k:k + cols]
            g = math.gcd(*row) or 1
            rows.append(tuple(c // g for c in row) if g > 1 else tuple(row))
            scales.append((d, g))
        return rows, scales


def _domain_polytope(domain: Domain, rows: Sequence[Row]) -> Optional[Polytope]:
    """The domain's vertex set, or ``None`` when the domain is unbounded."""
    if domain.kind == "box":
        return Polytope.box(domain.lower, domain.upper)
    if domain.kind == "reals":
        return None
    points = lp.bounded_vertices(rows)
    if points is None:
        return None
    if not points:
        raise DomainError("the domain is empty (its constraints have no common point)")
    return Polytope.from_vertices(points, [integer_row(u, v)[0] for u, v, _ in rows])


def enumerate_regions(
    network: ReluNetwork,
    domain: Optional[Domain] = None,
    *,
    max_regions: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
    oracle=lp,
    method: str = "auto",
    sink: Optional["Sink"] = None,
    on_region: Optional[Callable[[Region], None]] = None,
) -> Enumeration:
    """Every nonempty activation region of ``network`` over ``domain`` (default ``R^n``).

    ``method``: ``"vertices"`` keeps the exact vertex set of every cell (bounded domains only) and
    decides the children from it, proving empty ones with multipliers read off an extreme vertex
    and asking an LP only in degenerate cases; ``"lp"`` decides every child the witness does not
    settle by an exact LP; ``"auto"`` (the default) is ``"vertices"`` on a bounded domain, else
    ``"lp"``.  Both give the same regions and a proof tree of the same form.

    Raises :class:`IncompleteError` when more than ``max_regions`` regions exist.
    ``progress(regions, nodes, lps)`` is called now and then.  ``oracle`` supplies ``decide`` and
    ``interior_point`` for the LPs (default: the exact :mod:`exactrelu.lp`, which checks every
    answer it gives; :mod:`exactrelu.equiv` passes one with a shortcut of its own).

    With a ``sink`` (:class:`Sink`) the proof tree is handed over node by node in preorder as it is
    found and nothing of it is kept: the result's ``tree`` is ``None`` and its ``regions`` empty
    (``streamed`` counts them), so memory stays that of one root-to-leaf path.

    ``on_region(region)`` is called as each region is found (an exception it raises stops the search).
    """
    started = time.perf_counter()
    domain = domain or Domain.reals(network.input_dim)
    result = enumerate_subtree(network, domain, root_node(network, domain, method, oracle),
                               max_regions=max_regions, progress=progress, oracle=oracle, sink=sink,
                               on_region=on_region)
    result.seconds = time.perf_counter() - started
    return result


def root_node(network: ReluNetwork, domain: Domain, method: str = "auto", oracle=lp) -> Pending:
    """The root of the case-split tree as a :class:`Pending` node: the domain's vertex set for the
    vertex search, a point of the domain for the LP search (``method`` as in :func:`enumerate_regions`).

    >>> from exactrelu.network import ReluNetwork
    >>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    >>> root_node(net, Domain.box([-1], [1])).cell is not None, root_node(net, Domain.reals(1)).witness
    (True, (Fraction(0, 1),))
    """
    if method not in METHODS:
        raise InputError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    domain.check_dimension(network.input_dim)
    rows = domain.rows()
    polytope = _domain_polytope(domain, rows) if method != "lp" else None
    if method == "vertices" and polytope is None:
        raise DomainError("method 'vertices' needs a bounded domain (a box or a bounded polytope)")
    if polytope is not None:
        return Pending((), cell=polytope)
    root = oracle.decide(rows, network.input_dim)
    if not root.nonempty:
        raise DomainError("the domain is empty (its constraints have no common point)")
    return Pending((), witness=root.point, interior=root.interior)


def enumerate_subtree(
    network: ReluNetwork,
    domain: Domain,
    node: Pending,
    *,
    max_depth: Optional[int] = None,
    max_nodes: Optional[int] = None,
    max_regions: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
    oracle=lp,
    sink: Optional["Sink"] = None,
    on_region: Optional[Callable[[Region], None]] = None,
) -> Enumeration:
    """The subtree of the case-split tree below ``node`` (a :class:`Pending` from :func:`root_node` or
    from an earlier partial result), exactly as the whole search builds it there: same children, same
    proofs, same witnesses, its regions in tree order (leaf indices local to the result).

    With ``max_depth`` every node at that depth, and with ``max_nodes`` every node visited after that
    many, is left as a :class:`Pending` in the returned tree (a partial result); without both the
    subtree is complete.  Resuming each pending node and putting the results in its place gives the
    tree of one uninterrupted search (:mod:`exactrelu.parallel` relies on this).

    >>> from exactrelu.network import ReluNetwork
    >>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    >>> box = Domain.box([-1], [1])
    >>> top = enumerate_subtree(net, box, root_node(net, box), max_depth=1)
    >>> [child.path for child in (top.tree.active, top.tree.inactive)], top.regions
    ([(True,), (False,)], [])
    >>> below = enumerate_subtree(net, box, top.tree.inactive)
    >>> [r.pattern for r in below.regions] == [r.pattern for r in enumerate_regions(net, box).regions][1:]
    True
    """
    search = _Search(network, domain, max_regions, progress, oracle, sink)
    search.on_region = on_region
    search.restore(node, max_depth, max_nodes)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(search.order) + 1000))
    try:
        if node.cell is not None:
            search.result.tree = search.visit_vertices(node.depth, node.cell)
        else:
            search.result.tree = search.visit_lp(node.depth, node.witness, node.interior)
    finally:
        sys.setrecursionlimit(limit)
    search.result.seconds = time.perf_counter() - search.started
    return search.result


class _Layer:
    """One hidden layer's maps over one layer cell ``C`` (the cell where the layer starts)."""

    __slots__ = ("affine", "rows", "scales", "cell", "values", "empty_side", "by_box", "touch", "proofs", "prefix",
                 "sided", "rational")

    def __init__(self, affine, rows, scales, cell: Optional[Polytope], box: Optional[IntegerBox], prefix: int) -> None:
        self.affine, self.rows, self.scales, self.cell, self.prefix = affine, rows, scales, cell, prefix
        width = len(rows)
        # empty_side[i]: the side of neuron i proved empty over all of C (so in every sub-cell), or
        # None when its hyperplane crosses C; by_box: proved by the domain box alone; touch: the
        # kept side's closure meets the hyperplane; values: the row at C's vertices
        self.empty_side: list[Optional[bool]] = [None] * width
        self.by_box = [False] * width
        self.touch = [False] * width
        self.values: list[Optional[list[int]]] = [None] * width
        self.proofs: list[Optional[Empty]] = [None] * width
        self.sided: list[Optional[tuple[IntRow, IntRow]]] = [None] * width  # integer rows of both sides
        self.rational: dict[tuple[int, bool], Row] = {}  # rational rows, made when first asked for
        if cell is None:
            return
        for i, row in enumerate(rows):
            side = box.empty_side(row) if box is not None else None
            if side is not None:
                self.empty_side[i], self.by_box[i] = side, True
                continue
            self.values[i] = vals = cell.values(row)
            if max(vals) <= 0:
                self.empty_side[i], self.touch[i] = True, 0 in vals
            elif min(vals) > 0:
                self.empty_side[i] = False


    def rational_row(self, i: int, side: bool) -> Row:
        row = self.rational.get((i, side))
        if row is None:
            w, b = self.affine[i]
            row = self.rational[i, side] = neuron_row(w, b, side)
        return row


class _Search:
    """The state of one depth-first case split: the rows of the current node (rationals and
    integer rows side by side, domain rows first, then one per decided neuron), its pattern bits,
    the layers' maps, and the growing :class:`Enumeration`."""

    def __init__(self, network, domain, max_regions, progress, oracle, sink=None) -> None:
        self.sink = sink
        self.started = time.perf_counter()
        self.network, self.max_regions, self.progress, self.oracle = network, max_regions, progress, oracle
        self.n = network.input_dim
        self.domain_rows: list[Row] = domain.rows()
        converted = [integer_row(u, v) for u, v, _ in self.domain_rows]
        self.int_rows: list[IntRow] = [row for row, _ in converted]  # int_rows[m] = p/q rows[m]
        self.scales: list[tuple[int, int]] = [scale for _, scale in converted]  # (p, q)
        self.base = len(self.domain_rows)
        self.sides: list[tuple[_Layer, int, bool]] = []  # the decided neurons, in order
        self.box = IntegerBox(domain.lower, domain.upper) if domain.kind == "box" else None
        self.strict = 0  # bit m set iff row m is strict
        self.order = neuron_order(network)
        self.starts = [0]
        for width in network.hidden_widths:
            self.starts.append(self.starts[-1] + width)
        self.maps = LayerMaps(network)
        self.flint_maps: list = [None] * len(network.hidden_widths)
        self.layers: list[Optional[_Layer]] = [None] * len(network.hidden_widths)
        self.bits: list[bool] = []
        self.preacts: list[Affine] = []
        self.result = Enumeration(network, domain, [], Leaf(0))
        self.last_report = self.started
        self.start, self.max_depth, self.max_nodes = 0, None, None
        self.on_region: Optional[Callable[[Region], None]] = None

    # ------------------------------------------------------------------ pending nodes
    def restore(self, node: Pending, max_depth: Optional[int], max_nodes: Optional[int]) -> None:
        """Decide the neurons of ``node.path`` as the search does on its way down (layer maps from the
        pattern, the node's layer started on ``node.layer_cell``), without exploring anything."""
        if node.depth > len(self.order):
            raise InputError(f"a pending node decides {node.depth} neurons, the network has {len(self.order)}")
        current = self.order[node.depth][0] if node.depth < len(self.order) else None
        for depth, side in enumerate(node.path):
            l, i = self.order[depth]
            layer = self.start_layer(l, node.layer_cell if l == current else None) if i == 0 else self.layers[l]
            self.push(layer, i, side)
        self.start, self.max_depth, self.max_nodes = node.depth, max_depth, max_nodes

    def cut(self, depth: int) -> bool:
        """Whether the node at ``depth`` is left pending (below the starting node only)."""
        return depth > self.start and ((self.max_depth is not None and depth >= self.max_depth)
                                       or (self.max_nodes is not None and self.result.nodes >= self.max_nodes))

    def pending(self, depth: int, cell: Optional[Polytope] = None, witness=None, interior: bool = False) -> Pending:
        mid_layer = depth < len(self.order) and self.order[depth][1] > 0
        layer_cell = self.layers[self.order[depth][0]].cell if mid_layer and cell is not None else None
        return Pending(tuple(self.bits), cell, layer_cell, witness, interior)

    # ------------------------------------------------------------------ shared steps
    def count_node(self) -> None:
        result = self.result
        result.nodes += 1
        if self.progress is not None and result.nodes % 64 == 0:
            now = time.perf_counter()
            if now - self.last_report > 0.2:
                self.last_report = now
                self.progress(len(result.regions) + result.streamed, result.nodes, result.lps)

    def start_layer(self, l: int, cell: Optional[Polytope]) -> _Layer:
        """Compute layer ``l``'s maps for the current cell (the layer cell ``C``)."""
        if l == 0:
            maps = self.maps.first()
        else:
            maps = self.maps.next(l, self.flint_maps[l - 1], self.bits[self.starts[l - 1]:self.starts[l]])
        self.flint_maps[l] = maps
        rows, scales = self.maps.integer_rows(maps)
        layer = _Layer(self.maps.affine(maps), rows, scales, cell, self.box, self.base + self.starts[l])
        self.layers[l] = layer
        return layer

    def push(self, layer: _Layer, i: int, side: bool) -> None:
        """Decide neuron ``i`` of ``layer`` as ``side`` (active or not): its row becomes the newest."""
        sided = layer.sided[i]
        if sided is None:
            row = layer.rows[i]
            sided = layer.sided[i] = (row, tuple(-c for c in row))
        self.sides.append((layer, i, side))
        self.int_rows.append(sided[0] if side else sided[1])
        self.scales.append(layer.scales[i])
        if side:
            self.strict |= 1 << (len(self.int_rows) - 1)
        self.bits.append(side)
        self.preacts.append(layer.affine[i])

    def pop(self) -> None:
        self.sides.pop()
        self.int_rows.pop()
        self.scales.pop()
        self.strict &= ~(1 << len(self.int_rows))
        self.bits.pop()
        self.preacts.pop()

    def node_rows(self) -> list[Row]:
        """The node's rows as rationals: the domain's, then one per decided neuron."""
        return self.domain_rows + [layer.rational_row(i, side) for layer, i, side in self.sides]

    def lp_decide(self, keep: Optional[int] = None) -> lp.Decision:
        """An exact LP over the node's rows (``keep``: only the first ``keep`` rows and the newest;
        the multipliers are renumbered to the node's rows)."""
        self.result.lps += 1
        self.result.lp_decisions += 1
        rows = self.node_rows()
        if keep is None or keep >= len(rows) - 1:
            return self.oracle.decide(rows, self.n)
        decision = self.oracle.decide(rows[:keep] + rows[-1:], self.n)
        if decision.nonempty:
            return decision
        newest = len(rows) - 1
        return lp.Decision(multipliers={(newest if m == keep else m): y for m, y in decision.multipliers.items()})

    def empty(self, multipliers: dict[int, Fraction]) -> Empty:
        """An :class:`Empty` child, after an exact Motzkin check of its multipliers."""
        if not lp.motzkin_valid(self.node_rows(), multipliers, self.n):
            raise InternalError("an emptiness proof did not check")
        return Empty(dict(sorted(multipliers.items())))

    def leaf(self, witness: Vector, full: bool) -> Leaf:
        network, result, l_last = self.network, self.result, len(self.flint_maps) - 1
        if l_last >= 0:
            final = self.maps.affine(self.maps.next(l_last + 1, self.flint_maps[l_last], self.bits[self.starts[l_last]:]))
        else:
            final = self.maps.affine(self.maps.first())
        pattern = tuple(tuple(self.bits[a:b]) for a, b in zip(self.starts, self.starts[1:]))
        region = Region(pattern=pattern, preactivations=tuple(self.preacts), witness=witness,
                        alpha=tuple(w for w, _ in final), beta=tuple(b for _, b in final), full_dimensional=full)
        if self.sink is None:
            result.regions.append(region)
        else:
            self.sink.leaf(result.streamed, region)
            result.streamed += 1
        found = len(result.regions) + result.streamed
        if self.max_regions is not None and found > self.max_regions:
            raise IncompleteError(f"stopped at the budget of {self.max_regions} regions: the enumeration is incomplete")
        if self.on_region is not None:
            self.on_region(region)
        return Leaf(found - 1)

    def split_node(self, neuron: tuple[int, int]) -> None:
        """A split is about to be explored: the sink (if any) hears of it before its children."""
        if self.sink is not None:
            self.sink.split(neuron)

    def closed(self, child: Empty) -> Empty:
        """An empty child, handed to the sink (if any) at its place in preorder."""
        if self.sink is not None:
            self.sink.empty(child)
        return child

    def node(self, neuron: tuple[int, int], children: dict[bool, Child]) -> Optional[Split]:
        """The finished split; with a sink nothing is kept (its lines are written already)."""
        return Split(neuron, children[True], children[False]) if self.sink is None else None

    def check_witness(self, witness: Vector, full: bool) -> None:
        """Exact check that ``witness`` satisfies every row (strictly every non-constant one if
        ``full``), in integer arithmetic."""
        point, den = integer_point(witness)
        for m, row in enumerate(self.int_rows):
            value = scaled_value(row, point, den)
            if value < 0 or (value == 0 and (self.strict >> m & 1 or (full and any(row[:-1])))):
                raise InternalError("a region's witness violates one of its conditions")

    # ------------------------------------------------------------------ the vertex search
    def visit_vertices(self, depth: int, cell: Polytope) -> Child:
        if self.cut(depth):
            return self.pending(depth, cell)
        self.count_node()
        if depth == len(self.order):
            return self.vertex_leaf(cell)
        l, i = self.order[depth]
        self.split_node((l, i))
        layer = self.start_layer(l, cell) if i == 0 else self.layers[l]
        row = layer.rows[i]
        index = len(self.int_rows)
        empty_side = layer.empty_side[i]
        values = None
        if empty_side is None:  # the hyperplane crosses C; decide it on this sub-cell
            values = layer.values[i] if cell is layer.cell else cell.values(row)
            if max(values) <= 0:
                empty_side = True
            elif min(values) > 0:
                empty_side = False
        elif layer.touch[i]:
            values = cell.values(row)
        self.result.decisions += 2
        children: dict[bool, Child] = {}
        if empty_side is not None:
            kept = cell.with_tight(index, values) if values is not None else cell
            for side in (True, False):
                self.push(layer, i, side)
                try:
                    if side == empty_side:
                        children[side] = self.closed(self.vertex_proof(layer, i, cell, values, side))
                    else:
                        children[side] = self.explore(depth, kept)
                finally:
                    self.pop()
        else:
            above, below = cell.cut(index, row, values)
            for side, part in ((True, above), (False, below)):
                self.push(layer, i, side)
                try:
                    children[side] = self.explore(depth, part)
                finally:
                    self.pop()
        return self.node((l, i), children)

    def explore(self, depth: int, part: Polytope) -> Child:
        """The child with closure ``part``: explored, unless a strict row vanishes on all of it."""
        if part.common_tight() & self.strict:
            decision = self.lp_decide()
            if decision.nonempty:
                raise InternalError("an LP found a point where a strict row vanishes on the whole cell")
            self.result.empty_children += 1
            return self.closed(self.empty(decision.multipliers))
        return self.visit_vertices(depth + 1, part)

    def vertex_proof(self, layer: _Layer, i: int, cell: Polytope, values, side: bool) -> Empty:
        """The empty child ``side`` of neuron ``i`` (its row is the newest): multipliers on the rows
        tight at the extreme vertex of the layer cell ``C`` when the hyperplane misses ``C`` (then they
        name only rows of ``C`` and the split row, so the same proof serves every sub-cell), else of
        this cell; checked exactly, and an LP decides when no square subsystem gives a proof."""
        self.result.empty_children += 1
        shared = layer.empty_side[i] is not None
        if shared and layer.proofs[i] is not None:
            return layer.proofs[i]
        newest = len(self.int_rows) - 1
        if shared and layer.by_box[i]:
            self.result.box_proofs += 1
            layer.proofs[i] = proof = Empty(box_multipliers(layer.affine[i][0], layer.rows[i], side, newest))
            return proof
        if shared:
            cell, values = layer.cell, layer.values[i]
        k = cell.extreme(values, largest=side)
        solved = vertex_multipliers(self.int_rows, cell.tight[k], tuple(-a for a in self.int_rows[newest][:-1]))
        if solved is not None:
            nums, den = solved
            nums[newest] = den
        if solved is not None and integer_motzkin_valid(self.int_rows, nums, self.strict):
            # int_rows[m] is p_m/q_m times rows[m]: the rational row's multiplier is y_m p_m / q_m
            self.result.vertex_proofs += 1
            proof = Empty({m: Fraction(nums[m] * self.scales[m][0], den * self.scales[m][1]) for m in sorted(nums)})
        else:
            decision = self.lp_decide(layer.prefix if shared else None)
            if decision.nonempty:
                raise InternalError("an LP found a point on a side the vertices show empty")
            proof = self.empty(decision.multipliers)
        if shared:
            layer.proofs[i] = proof
        return proof

    def vertex_leaf(self, cell: Polytope) -> Leaf:
        common = cell.common_tight()
        full = not any(common >> m & 1 and any(row[:-1]) for m, row in enumerate(self.int_rows))
        if full:
            witness = simple_interior_point(self.int_rows, cell)
        else:
            point, den = cell.mean()
            witness = tuple(Fraction(c, den) for c in point)
        self.check_witness(witness, full)
        return self.leaf(witness, full)

    # ------------------------------------------------------------------ the LP search
    def visit_lp(self, depth: int, witness: Vector, interior: bool) -> Child:
        if self.cut(depth):
            return self.pending(depth, witness=witness, interior=interior)
        self.count_node()
        if depth == len(self.order):
            full = interior
            if not interior:
                self.result.lps += 1
                inner = self.oracle.interior_point(self.node_rows(), self.n)
                if inner is not None:  # prefer a witness that shows full dimension
                    witness, full = inner, True
            if full:
                witness = lp.simplest_interior_point(self.node_rows(), witness)
            self.check_witness(witness, full)
            return self.leaf(witness, full)
        l, i = self.order[depth]
        self.split_node((l, i))
        layer = self.start_layer(l, None) if i == 0 else self.layers[l]
        w, b = layer.affine[i]
        witness_active = sum((a * v for a, v in zip(w, witness)), b) > 0
        self.result.decisions += 2
        children: dict[bool, Child] = {}
        for side in (True, False):
            self.push(layer, i, side)
            try:
                if side == witness_active:
                    newest = layer.rational_row(i, side)
                    inside = interior and (is_constant(newest) or row_value(newest, witness) > 0)
                    children[side] = self.visit_lp(depth + 1, witness, inside)
                else:
                    decision = self.lp_decide()
                    if decision.nonempty:
                        children[side] = self.visit_lp(depth + 1, decision.point, decision.interior)
                    else:
                        self.result.empty_children += 1
                        children[side] = self.closed(Empty(decision.multipliers))
            finally:
                self.pop()
        return self.node((l, i), children)
