"""The engine of issue 12 (exactrelu/regions.py over exactrelu/polytope.py): the vertex search and
the LP search find the same regions (and the brute force's), every emptiness proof checks on the
node's own rows, proofs read off a layer cell are reused in its sub-cells, the exact vertex sets kept
under cuts are cddlib's, and the O(n) box bound is exact on hyperplanes touching the box."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from exactrelu import lp
from exactrelu.bruteforce import brute_force_patterns
from exactrelu.domain import Domain
from exactrelu.errors import DomainError, InputError
from exactrelu.lp import Row, motzkin_valid
from exactrelu.network import ReluNetwork
from exactrelu.polytope import IntegerBox, Polytope, box_multipliers, integer_row, vertex_multipliers
from exactrelu.regions import Empty, Enumeration, Leaf, Split, enumerate_regions

F = Fraction
KINDS = ("generic", "duplicate", "zero_row", "zero_neuron", "dead", "parallel", "concurrent",
         "touching", "multi_output", "mixed")


def _walk(e: Enumeration) -> list[tuple[int, Empty, list[Row]]]:
    """Every Empty of the tree with its depth and the rows of its node (recomputed from the regions'
    own maps where a leaf is below, else from the network); checks each proof on the way."""
    net, n = e.network, e.network.input_dim
    base = e.domain.rows()
    found: list[tuple[int, Empty, list[Row]]] = []

    def maps(bits: list[bool], layer: int):
        current = [([F(int(i == t)) for t in range(n)], F(0)) for i in range(n)]
        k = 0
        for l, lay in enumerate(net.layers[: layer + 1]):
            z = [([sum((row[j] * current[j][0][t] for j in range(len(current))), F(0)) for t in range(n)],
                  b + sum((row[j] * current[j][1] for j in range(len(current))), F(0))) for row, b in zip(lay.weight, lay.bias)]
            if l == layer:
                return z
            on = bits[k: k + lay.out_dim]
            k += lay.out_dim
            current = [(w, c) if s else ([F(0)] * n, F(0)) for (w, c), s in zip(z, on)]

    order = [(l, i) for l, w in enumerate(net.hidden_widths) for i in range(w)]

    def visit(node, bits: list[bool], rows: list[Row]) -> None:
        if isinstance(node, Leaf):
            assert e.regions[node.index].flat_pattern == tuple(bits)
            return
        assert isinstance(node, Split) and node.neuron == order[len(bits)]
        l, i = node.neuron
        w, b = maps(bits, l)[i]
        for side, child in ((True, node.active), (False, node.inactive)):
            row = (tuple(w), b, True) if side else (tuple(-a for a in w), -b, False)
            if isinstance(child, Empty):
                assert motzkin_valid(rows + [row], child.multipliers, n), (bits, side)
                assert all(isinstance(y, Fraction) and y > 0 for y in child.multipliers.values())
                found.append((len(bits), child, rows + [row]))
            else:
                visit(child, bits + [side], rows + [row])

    visit(e.tree, [], list(base))
    return found


def _patterns(e: Enumeration) -> dict[tuple[bool, ...], bool]:
    found = {r.flat_pattern: r.full_dimensional for r in e.regions}
    assert len(found) == len(e.regions)
    return found


def _network(seed: int, kind: str, factory) -> ReluNetwork:
    rng = random.Random(1000 + seed)
    n = rng.choice([1, 2, 2, 3])
    dims = [n, rng.randint(3, 5), rng.randint(2, 3), 1] if seed % 2 else [n, rng.randint(3, 6), 1]
    return factory(rng, dims, kind)


@pytest.mark.parametrize("seed, kind", [(s, KINDS[s % len(KINDS)]) for s in range(30)])
def test_vertex_and_lp_searches_agree_with_the_brute_force(seed: int, kind: str, random_network) -> None:
    net = _network(seed, kind, random_network)
    n = net.input_dim
    rng = random.Random(seed)
    lo = [F(rng.randint(-3, 0), rng.choice([1, 2])) for _ in range(n)]
    domains = [Domain.box([-1] * n, [1] * n), Domain.box(lo, [a + F(rng.randint(1, 4), rng.choice([1, 3])) for a in lo]),
               Domain.polytope([[-1 if j == i else 0 for j in range(n)] for i in range(n)] + [[1] * n], [1] * n + [1])]
    for domain in domains:
        by_vertices = enumerate_regions(net, domain, method="vertices")
        by_lp = enumerate_regions(net, domain, method="lp")
        assert _patterns(by_vertices) == _patterns(by_lp) == brute_force_patterns(net, domain)
        for e in (by_vertices, by_lp):
            empties = _walk(e)
            assert len(empties) == e.empty_children
            drows = domain.rows()
            for r in e.regions:  # witnesses hold exactly, strictly so iff full-dimensional
                rows = drows + r.neuron_rows()
                assert all(lp.satisfies(row, r.witness) for row in rows)
                assert r.full_dimensional == all(not any(u) or lp.row_value((u, v, s), r.witness) > 0 for u, v, s in rows)
                assert net.evaluate(r.witness) == r.output(r.witness)


def test_the_default_is_the_vertex_search_on_bounded_domains_only(random_network) -> None:
    net = random_network(random.Random(5), [2, 5, 3, 1], "generic")
    e = enumerate_regions(net, Domain.box([-1, -1], [1, 1]))
    assert e.vertex_proofs + e.box_proofs > 0
    assert enumerate_regions(net).vertex_proofs == 0  # R^n: the LP search
    with pytest.raises(DomainError, match="needs a bounded domain"):
        enumerate_regions(net, method="vertices")
    with pytest.raises(DomainError, match="needs a bounded domain"):
        enumerate_regions(net, Domain.polytope([[1, 0], [0, 1]], [1, 1]), method="vertices")
    with pytest.raises(InputError, match="method: expected one of auto, vertices, lp"):
        enumerate_regions(net, method="simplex")


def test_an_empty_polytope_domain_is_refused_by_both_searches(random_network) -> None:
    net = random_network(random.Random(6), [2, 3, 1], "generic")
    empty = Domain.polytope([[1, 0], [-1, 0], [0, 1], [0, -1]], [0, -1, 1, 1])  # x <= 0 and x >= 1
    for method in ("auto", "lp"):
        with pytest.raises(DomainError, match="the domain is empty"):
            enumerate_regions(net, empty, method=method)


def test_proofs_of_a_layer_cell_are_shared_by_its_sub_cells() -> None:
    """Layer 0 cuts [-1, 1]^2 into four cells; in the positive quadrant the first two layer-1
    neurons cut it again, and the last one, h0 + h1 - 10, is negative on every cell (a miss with
    margin, proved once by the box): a proof used in several sub-cells is one object and names only
    rows of the layer cell and its own row."""
    net = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]),
                                  ([[1, -1], [F(1, 3), 1], [1, 1]], [F(1, 4), F(-1, 8), -10]), ([[1, 1, 1]], [0])])
    domain = Domain.box([-1, -1], [1, 1])
    e = enumerate_regions(net, domain)
    assert _patterns(e) == brute_force_patterns(net, domain)
    empties = _walk(e)
    by_id: dict[int, list[int]] = {}
    for depth, proof, _ in empties:
        by_id.setdefault(id(proof), []).append(depth)
    assert any(len(uses) > 1 for uses in by_id.values()), "no proof was reused"
    base = len(domain.rows())
    layer_start = base + 2  # rows of layer 0 come first
    for depth, proof, rows in empties:
        if len(by_id[id(proof)]) > 1:  # shared: rows of C (below the layer start) and the split row only
            assert all(m < layer_start or m == base + depth for m in proof.multipliers)
    assert e.box_proofs >= 1 and e.lps == 0


@pytest.mark.parametrize("seed", range(12))
def test_cut_keeps_exactly_cddlib_vertex_set(seed: int) -> None:
    """Cut a box by random rows (some through existing vertices, some repeated or opposite) and
    compare every intermediate vertex set and tight mask with cddlib's double description."""
    rng = random.Random(seed)
    n = rng.choice([1, 2, 3])
    lo, hi = [F(-1)] * n, [F(rng.randint(1, 2))] * n
    rows: list[Row] = Domain.box(lo, hi).rows()
    cell: Polytope | None = Polytope.box(lo, hi)
    for step in range(6):
        u = tuple(F(rng.randint(-2, 2), rng.choice([1, 2])) for _ in range(n))
        if not any(u):
            continue
        if step % 3 == 2 and len(cell):  # through a vertex of the current cell
            x = cell.vertex(rng.randrange(len(cell)))
            v = -sum((a * c for a, c in zip(u, x)), F(0))
        else:
            v = F(rng.randint(-2, 2), rng.choice([1, 3]))
        if step == 4:  # the previous row again, or its opposite side
            u, v = (rows[-1][0], rows[-1][1]) if rng.random() < 0.5 else (tuple(-a for a in rows[-1][0]), -rows[-1][1])
        int_rows = [integer_row(a, c)[0] for a, c, _ in rows]
        row = integer_row(u, v)[0]
        above, below = cell.cut(len(rows), row, cell.values(row))
        keep, part = ((u, v), above) if rng.random() < 0.5 or below is None else ((tuple(-a for a in u), -v), below)
        if part is None:
            continue
        rows.append((keep[0], keep[1], False))
        int_rows.append(integer_row(*keep)[0])
        expected = lp.bounded_vertices(rows)
        got = [part.vertex(k) for k in range(len(part))]
        assert sorted(got) == sorted(expected) and len(set(got)) == len(got)
        for k, x in enumerate(got):
            assert part.tight[k] == sum(1 << m for m, r in enumerate(rows) if lp.row_value(r, x) == 0)
        cell = part


def test_box_bound_on_a_hyperplane_touching_the_box() -> None:
    """x1 - 1 vanishes on the face x1 = 1 of [-1, 1]^2 only: the O(n) box bound makes no claim (its
    margin is zero), the vertex search proves "x1 - 1 > 0" empty from the face's vertices, and the
    inactive side keeps the whole box, with the face as part of it."""
    box = IntegerBox((F(-1), F(-1)), (F(1), F(1)))
    touching = integer_row((F(1), F(0)), F(-1))[0]
    assert box.empty_side(touching) is None
    assert box.empty_side(integer_row((F(1), F(0)), F(-3, 2))[0]) is True  # misses: always negative
    assert box.empty_side(integer_row((F(-1), F(1, 2)), F(2))[0]) is False  # always positive
    rows = Domain.box([-1, -1], [1, 1]).rows()
    for w, b, side in (((F(1), F(0)), F(-3, 2), True), ((F(-1), F(1, 2)), F(2), False)):
        proof = box_multipliers(w, integer_row(w, b)[0], side, len(rows))
        row = (w, b, True) if side else (tuple(-a for a in w), -b, False)
        assert motzkin_valid(rows + [row], proof, 2)
    net = ReluNetwork.from_lists([([[1, 0], [0, 1]], [-1, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net, Domain.box([-1, -1], [1, 1]))
    assert _patterns(e) == brute_force_patterns(net, Domain.box([-1, -1], [1, 1])) == {(False, True): True, (False, False): True}
    (depth, proof, node_rows), = [item for item in _walk(e) if item[0] == 0]
    assert proof.multipliers == {1: F(1), 4: F(1)}  # 1 - x1 >= 0 plus x1 - 1 > 0 reads 0 > 0
    x = (F(1), F(1, 2))  # a point of the touching face lies in the inactive region
    assert e.regions[e.locate(x)].pattern == ((False, True),)


def test_vertex_multipliers_at_a_degenerate_vertex() -> None:
    """Three rows tight at the origin (x >= 0, y >= 0, x + y >= 0): some square subsystem gives
    nonnegative multipliers for the target -(1, 1), and they prove x + y < 0 impossible there."""
    rows = [((F(1), F(0)), F(0), False), ((F(0), F(1)), F(0), False), ((F(1), F(1)), F(0), False)]
    int_rows = [integer_row(u, v)[0] for u, v, _ in rows]
    nums, den = vertex_multipliers(int_rows, 0b111, (1, 1))
    assert den > 0 and all(y > 0 for y in nums.values())
    combined = [sum(F(nums.get(m, 0), den) * int_rows[m][j] for m in range(3)) for j in range(2)]
    assert combined == [1, 1]
    assert vertex_multipliers(int_rows, 0b011, (-1, 0)) is None  # -x is not a nonnegative combination


def test_degenerate_cells_fall_back_to_exact_lps(random_network) -> None:
    """Duplicated and zero neurons make a strict row vanish on a whole cell; those children are
    decided by an exact LP, and the tree still checks."""
    net = ReluNetwork.from_lists([([[1, 0], [2, 0], [0, 0]], [0, 0, 0]), ([[1, 1, 1]], [0])])  # x1, 2 x1, 0
    domain = Domain.box([-1, -1], [1, 1])
    e = enumerate_regions(net, domain)
    assert _patterns(e) == brute_force_patterns(net, domain)
    assert e.lps >= 1
    _walk(e)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_on_a_box_with_the_default_search(kind: str, random_network) -> None:
    for seed in range(3):
        rng = random.Random(77 * seed + len(kind))
        net = random_network(rng, [2, rng.randint(3, 5), 3, 1], kind)
        for domain in (Domain.box([-1, -1], [1, 1]), Domain.box([0, F(-1, 2)], [F(1, 3), 2])):
            e = enumerate_regions(net, domain)
            assert _patterns(e) == brute_force_patterns(net, domain)
            assert len(_walk(e)) == e.empty_children
            assert e.decisions == 2 * (e.nodes - len(e.regions))
