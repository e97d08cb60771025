"""Region enumeration (issue 3): the tree search against the independent brute force, witnesses,
point location, the Motzkin proofs of the empty children, closed forms, budgets and domains."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.bruteforce import brute_force_patterns
from exactrelu.domain import Domain, load_domain, parse_box
from exactrelu.errors import DomainError, IncompleteError
from exactrelu.lp import Row, motzkin_valid, satisfies
from exactrelu.network import ReluNetwork
from exactrelu.regions import Empty, Enumeration, Leaf, Split, enumerate_regions

F = Fraction
KINDS = ("generic", "duplicate", "zero_row", "zero_neuron", "dead", "parallel", "concurrent",
         "touching", "multi_output", "mixed")


def _case_dims(seed: int, kind: str) -> list[int]:
    """Small widths, so that even the degenerate kinds stay at <= 10 hidden neurons."""
    rng = random.Random(7919 * seed + 17)
    n = rng.choice([1, 2, 2, 3])
    if kind == "mixed":  # up to 9 first-layer neurons after widening
        return [n, rng.randint(4, 6), 1]
    if kind == "parallel":  # 4 special neurons
        return [n, rng.randint(4, 6), 1] if (seed // 10) % 2 else [n, rng.randint(4, 6), 3, 1]
    if seed % 3 == 0:
        return [n, rng.randint(3, 5), rng.randint(2, 4), 1]
    if seed % 3 == 1:
        return [n, rng.randint(5, 8), 1]
    return [n, 3, 2, 2, 1]


# 40 networks: every kind four times, each with its own seed and shape
CASES = [(seed, KINDS[seed % len(KINDS)]) for seed in range(40)]


def _build(seed: int, kind: str, factory) -> ReluNetwork:
    rng = random.Random(seed)
    net = factory(rng, _case_dims(seed, kind), kind)
    assert net.neuron_count <= 10, "keep the brute force small"
    return net


def _domains(seed: int, n: int) -> list[Domain]:
    rng = random.Random(-seed - 1)
    lo = [F(rng.randint(-4, 0), rng.choice([1, 2, 3])) for _ in range(n)]
    hi = [a + F(rng.randint(1, 6), rng.choice([1, 2])) for a in lo]
    domains = [Domain.reals(n), Domain.box([-1] * n, [1] * n), Domain.box(lo, hi)]
    if seed % 4 == 0:  # a simplex-like polytope: x_i >= -1, sum x_i <= 1
        A = [[-1 if j == i else 0 for j in range(n)] for i in range(n)] + [[1] * n]
        domains.append(Domain.polytope(A, [1] * n + [1]))
    return domains


def _bounding_box(domain: Domain, n: int) -> tuple[list[Fraction], list[Fraction]]:
    if domain.kind == "box":
        return list(domain.lower), list(domain.upper)
    return [F(-3)] * n, [F(3)] * n


def _layer_maps(net: ReluNetwork, bits: list[bool], layer: int) -> list[tuple[list[Fraction], Fraction]]:
    """Pre-activations of hidden layer ``layer`` as affine maps of x, under the first bits of a
    layer-major pattern (an implementation of its own, not the one in exactrelu.regions)."""
    n = net.input_dim
    maps = [([F(int(i == t)) for t in range(n)], F(0)) for i in range(n)]
    k = 0
    for l, lay in enumerate(net.layers[: layer + 1]):
        z = []
        for row, b in zip(lay.weight, lay.bias):
            w = [sum((row[j] * maps[j][0][t] for j in range(len(maps))), F(0)) for t in range(n)]
            c = b + sum((row[j] * maps[j][1] for j in range(len(maps))), F(0))
            z.append((w, c))
        if l == layer:
            return z
        on = bits[k : k + lay.out_dim]
        k += lay.out_dim
        maps = [(w, c) if s else ([F(0)] * n, F(0)) for (w, c), s in zip(z, on)]
    raise AssertionError("unreachable")


def _row(w, b, active: bool) -> Row:
    return (tuple(w), b, True) if active else (tuple(-a for a in w), -b, False)


def _walk(e: Enumeration) -> tuple[int, int, list[tuple[bool, ...]]]:
    """Check every node of the proof tree; return (#Empty, #Leaf, leaf patterns in order)."""
    net = e.network
    order = [(l, i) for l, w in enumerate(net.hidden_widths) for i in range(w)]
    counts = [0, 0]
    leaves: list[tuple[bool, ...]] = []

    def visit(node, bits: list[bool], rows: list[Row]) -> None:
        depth = len(bits)
        if isinstance(node, Leaf):
            assert depth == len(order)
            region = e.regions[node.index]
            assert region.flat_pattern == tuple(bits)
            assert region.neuron_rows() == rows[len(e.domain.rows()):]
            counts[1] += 1
            leaves.append(tuple(bits))
            return
        assert isinstance(node, Split)
        assert node.neuron == order[depth], "split order must be layer-major"
        l, i = node.neuron
        w, b = _layer_maps(net, bits, l)[i]
        for side, child in ((True, node.active), (False, node.inactive)):
            child_rows = rows + [_row(w, b, side)]
            if isinstance(child, Empty):
                assert motzkin_valid(child_rows, child.multipliers, net.input_dim), (bits, side, child.multipliers)
                assert all(lam > 0 for lam in child.multipliers.values())
                counts[0] += 1
            else:
                visit(child, bits + [side], child_rows)

    visit(e.tree, [], list(e.domain.rows()))
    return counts[0], counts[1], leaves


def _check_enumeration(net: ReluNetwork, domain: Domain, rng: random.Random, points: int = 25) -> Enumeration:
    e = enumerate_regions(net, domain)
    n = net.input_dim
    # 1. the same regions and dimensions as the brute force over all 2^N patterns
    brute = brute_force_patterns(net, domain)
    found = {r.flat_pattern: r.full_dimensional for r in e.regions}
    assert len(found) == len(e.regions), "a pattern was listed twice"
    assert found == brute
    assert e.full_dimensional + e.lower_dimensional == len(e.regions)
    assert e.full_dimensional == sum(brute.values())
    # 2. witnesses
    drows = domain.rows()
    for r in e.regions:
        rows = drows + r.neuron_rows()
        assert all(isinstance(v, Fraction) for v in r.witness)
        assert all(satisfies(row, r.witness) for row in rows)
        assert tuple(net.pattern(r.witness)) == r.pattern
        assert net.evaluate(r.witness) == r.output(r.witness)
        if r.full_dimensional:  # the witness is interior: every non-constant row holds strictly
            assert all(not any(row[0]) or satisfies((row[0], row[1], True), r.witness) for row in rows)
    # 3. the proof tree
    empties, leaves, leaf_patterns = _walk(e)
    assert leaves == len(e.regions) and empties == e.empty_children
    assert sorted(leaf_patterns) == sorted(found)
    # 4. random points: exactly one region's rows hold, and it is the located one
    lo, hi = _bounding_box(domain, n)
    tried = 0
    while tried < points:
        x = tuple(a + (c - a) * F(rng.randint(0, 12), 12) for a, c in zip(lo, hi))
        if not domain.contains(x):
            continue
        tried += 1
        holding = [k for k, r in enumerate(e.regions) if all(satisfies(row, x) for row in drows + r.neuron_rows())]
        assert holding == [e.locate(x)]
        assert e.regions[holding[0]].output(x) == net.evaluate(x)
    return e


@pytest.mark.parametrize("seed, kind", CASES)
def test_regions_equal_brute_force(seed: int, kind: str, random_network) -> None:
    net = _build(seed, kind, random_network)
    rng = random.Random(seed + 100)
    for domain in _domains(seed, net.input_dim):
        _check_enumeration(net, domain, rng)


def test_degenerate_kinds_produce_lower_dimensional_regions(random_network) -> None:
    """The suite above must really exercise lower-dimensional regions and empty children."""
    lower = empties = 0
    for seed, kind in CASES:
        net = _build(seed, kind, random_network)
        e = enumerate_regions(net)
        lower += e.lower_dimensional
        empties += e.empty_children
    assert lower >= 5 and empties >= 20


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_regions_equal_brute_force_larger(seed: int, random_network) -> None:
    rng = random.Random(424242 + seed)
    kind = ("generic", "mixed", "parallel", "multi_output", "concurrent")[seed]
    n = 2 + seed % 2
    for _ in range(100):
        dims = [n, rng.randint(5, 9), rng.randint(3, 6), 1]
        net = random_network(rng, dims, kind)
        if 12 <= net.neuron_count <= 14:
            break
    assert 12 <= net.neuron_count <= 14
    for domain in (Domain.reals(n), Domain.box([-1] * n, [1] * n)):
        _check_enumeration(net, domain, rng, points=15)


# ============================================================================ closed forms
def test_abs_via_x_and_minus_x_has_three_regions() -> None:
    net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net)
    by_pattern = {r.pattern: r for r in e.regions}
    assert set(by_pattern) == {((True, False),), ((False, True),), ((False, False),)}
    zero = by_pattern[((False, False),)]
    assert not zero.full_dimensional and zero.witness == (F(0),)
    assert zero.alpha == ((F(0),),) and zero.beta == (F(0),)
    pos, neg = by_pattern[((True, False),)], by_pattern[((False, True),)]
    assert pos.full_dimensional and pos.witness[0] > 0 and pos.alpha == ((F(1),),)
    assert neg.full_dimensional and neg.witness[0] < 0 and neg.alpha == ((F(-1),),)
    assert (e.full_dimensional, e.lower_dimensional) == (2, 1)
    assert e.regions[e.locate([0])] is zero


def test_single_relu_has_two_regions() -> None:
    net = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    e = enumerate_regions(net)
    assert sorted(r.pattern for r in e.regions) == [((False,),), ((True,),)]
    assert all(r.full_dimensional for r in e.regions)
    on = next(r for r in e.regions if r.pattern == ((True,),))
    off = next(r for r in e.regions if r.pattern == ((False,),))
    assert on.witness[0] > 0 and off.witness[0] <= 0
    assert e.regions[e.locate([0])] is off  # z = 0 is inactive


def test_all_dead_on_the_box_is_one_region() -> None:
    # x1 + x2 - 3 <= -1 and -x1 - 5 <= -4 on [-1, 1]^2; a zero neuron is dead too
    net = ReluNetwork.from_lists([([[1, 1], [-1, 0], [0, 0]], [-3, -5, 0]), ([[2, 3, 4]], ["7/2"])])
    e = enumerate_regions(net, Domain.box([-1, -1], [1, 1]))
    assert len(e.regions) == 1
    (r,) = e.regions
    assert r.pattern == ((False, False, False),) and r.full_dimensional
    assert r.alpha == ((F(0), F(0)),) and r.beta == (F(7, 2),)
    # over R^2 the first two neurons do switch on
    assert len(enumerate_regions(net).regions) == 4


def test_hyperplane_touching_the_box() -> None:
    # x1 - 1 is zero only on the face x1 = 1, where it counts as inactive: one region
    touch = ReluNetwork.from_lists([([[1, 0]], [-1]), ([[1]], [0])])
    box = Domain.box([-1, -1], [1, 1])
    e = enumerate_regions(touch, box)
    assert [(r.pattern, r.full_dimensional) for r in e.regions] == [(((False,),), True)]
    # 1 - x1 is active except on the face x1 = 1: a lower-dimensional region there
    face = ReluNetwork.from_lists([([[-1, 0]], [1]), ([[1]], [0])])
    e = enumerate_regions(face, box)
    regions = {r.pattern: r for r in e.regions}
    assert set(regions) == {((True,),), ((False,),)}
    assert regions[((True,),)].full_dimensional
    low = regions[((False,),)]
    assert not low.full_dimensional and low.witness[0] == 1 and -1 <= low.witness[1] <= 1


def test_deep_layer_pattern_closed_form() -> None:
    # hidden 1: relu(x); hidden 2: relu(h - 1): regions x <= 0, 0 < x <= 1, x > 1
    net = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [-1]), ([[1]], [0])])
    e = enumerate_regions(net)
    assert sorted(r.flat_pattern for r in e.regions) == [(False, False), (True, False), (True, True)]
    assert all(r.full_dimensional for r in e.regions)
    # (False, True) is impossible: the tree proves it empty
    assert e.empty_children == 1


# ============================================================================ budgets, domains
def test_max_regions_budget_raises_incomplete() -> None:
    net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    with pytest.raises(IncompleteError, match=r"budget of 2 regions"):
        enumerate_regions(net, max_regions=2)
    assert len(enumerate_regions(net, max_regions=3).regions) == 3


def test_empty_polytope_domain_is_refused() -> None:
    net = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    empty = Domain.polytope([[1], [-1]], [-1, -1])  # x <= -1 and x >= 1
    with pytest.raises(DomainError, match=r"the domain is empty"):
        enumerate_regions(net, empty)
    with pytest.raises(DomainError, match=r"the domain is empty"):
        empty.check_nonempty()


def test_wrong_dimension_domain_is_refused() -> None:
    net = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    with pytest.raises(DomainError, match=r"domain has dimension 2 but the network has 1 inputs"):
        enumerate_regions(net, Domain.box([0, 0], [1, 1]))
    with pytest.raises(DomainError, match=r"dimension 3"):
        enumerate_regions(net, Domain.reals(3))


def test_point_domain_box() -> None:
    # a degenerate box (a single point) is a valid, nonempty domain
    net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net, Domain.box([0], [0]))
    assert [(r.pattern, r.full_dimensional) for r in e.regions] == [(((False, False),), False)]


@pytest.mark.parametrize(
    "text, dim, message",
    [
        ("2:1", 1, r"--box: input 1 has LO > HI \(2 > 1\)"),
        ("0:1,3/2:1/2", 2, r"--box: input 2 has LO > HI \(3/2 > 1/2\)"),
        ("0:1,0:1", 3, r"--box: has 2 intervals but the network has 3 inputs"),
        ("0:1,0:1,0:1", 2, r"--box: has 3 intervals but the network has 2 inputs"),
        ("garbage", 1, r"--box: entry 1 'garbage' is not LO:HI"),
        ("0:1,", 2, r"--box: entry 2 '' is not LO:HI"),
        ("0:1:2", 1, r"is not LO:HI"),
        ("a:b", 1, r"--box lower bound 1: 'a' is not a rational number"),
        ("0:nan", 1, r"upper bound 1: 'nan' is not a rational number"),
    ],
)
def test_parse_box_errors(text: str, dim: int, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        parse_box(text, dim)


def test_parse_box_accepts_rationals() -> None:
    d = parse_box("-1/3:0.5, -1e-1:2", 2)
    assert d.lower == (F(-1, 3), F(-1, 10)) and d.upper == (F(1, 2), F(2))
    d = parse_box("-2:2", 3)
    assert d.lower == (F(-2),) * 3 and d.upper == (F(2),) * 3


VNNLIB = """; a small property
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)

; input constraints
(assert (<= X_0 0.5))
(assert (>= X_0 -0.25))
(assert (<= -1 X_1))      ; reversed operands: -1 <= X_1
(assert (>= 3/2 X_1))
(assert (<= X_1 2))       ; a looser upper bound: the tighter one wins
; output constraint (ignored for the domain)
(assert (>= Y_0 10))
"""


def test_vnnlib_domain_is_the_box(tmp_path: Path) -> None:
    path = tmp_path / "prop.vnnlib"
    path.write_text(VNNLIB)
    d = load_domain(path)
    assert d.kind == "box" and d.dim == 2
    assert d.lower == (F(-1, 4), F(-1)) and d.upper == (F(1, 2), F(3, 2))
    # and it works as a domain for the search
    net = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net, d)
    assert len(e.regions) == len(brute_force_patterns(net, d)) == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("(declare-const X_0 Real)\n(assert (or (<= X_0 1) (>= X_0 2)))\n", r"union of 2 sets.*exactrelu verify"),
        ("(declare-const Y_0 Real)\n", r"no input variables X_i declared"),
        ("(declare-const X_0 Real)\n(assert (<= 2 1))\n", r"constantly false"),
        ("(declare-const X_0 Real)\n(assert (<= X_0 0))\n(assert (>= X_0 1))\n",
         r"X_0 has lower bound 1 above its upper bound 0"),
        ("", r"empty domain file"),
    ],
)
def test_vnnlib_domain_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.vnnlib"
    path.write_text(text)
    with pytest.raises(DomainError, match=message):
        load_domain(path)


def test_json_domain_files(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('{"box": [["-1/2", 1], [0, "0.25"]]}')
    d = load_domain(path)
    assert d.lower == (F(-1, 2), F(0)) and d.upper == (F(1), F(1, 4))
    path.write_text('{"A": [[1, 1]], "b": [1]}')
    assert load_domain(path).kind == "polytope"
    path.write_text('{"box": [[1, 0]]}')
    with pytest.raises(DomainError, match=r"LO > HI"):
        load_domain(path)
    path.write_text('{"box": ')
    with pytest.raises(DomainError, match=r"invalid JSON"):
        load_domain(path)


def test_deeply_nested_json_domain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(DomainError):
        load_domain(path)
