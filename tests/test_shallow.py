"""The three-hidden-layer network (issue 4): its structure, exact equality with the deep network at
random and boundary points (hyperplanes, their intersections, lower-dimensional witnesses, box
corners), float evaluation, extended arithmetic, the file format, and behaviour outside the box."""

from __future__ import annotations

import itertools
import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from exactrelu.domain import Domain
from exactrelu.errors import ExtendedArithmeticError, NetworkFormatError
from exactrelu.extended import INF, NEG_INF, Infinity, add, mul, relu
from exactrelu.network import ReluNetwork
from exactrelu.regions import enumerate_regions
from exactrelu.shallow import SparseLayer, build_shallow, load_shallow, save_shallow, shallow_from_dict

F = Fraction
KINDS = ("generic", "duplicate", "zero_row", "zero_neuron", "dead", "parallel", "concurrent",
         "touching", "multi_output", "mixed")
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])


def _dims(seed: int, kind: str) -> list[int]:
    rng = random.Random(31 * seed + 5)
    n = rng.choice([1, 2, 2, 3])
    if kind in ("mixed", "parallel"):
        return [n, rng.randint(3, 5), 1 + (kind == "parallel" and seed % 2)]
    if seed % 3 == 0:
        return [n, rng.randint(2, 4), rng.randint(2, 3), rng.randint(1, 2)]
    if seed % 3 == 1:
        return [n, rng.randint(3, 6), rng.randint(1, 2)]
    return [n, 2, 2, 2, 1]


# 32 networks, every kind at least three times; even seeds over the box [-1, 1]^n, odd over R^n
CASES = [(seed, KINDS[seed % len(KINDS)]) for seed in range(32)]
POINTS = 600  # random rational points per network (plus the boundary points)


def _setup(seed: int, kind: str, factory):
    net = factory(random.Random(seed), _dims(seed, kind), kind)
    n = net.input_dim
    domain = Domain.box([-1] * n, [1] * n) if seed % 2 == 0 else Domain.reals(n)
    e = enumerate_regions(net, domain)
    return net, domain, e, build_shallow(e)


def _sample_box(domain: Domain, n: int):
    if domain.kind == "box":
        return list(domain.lower), list(domain.upper)
    return [F(-3)] * n, [F(3)] * n


def _hyperplanes(e) -> list[tuple[tuple[Fraction, ...], Fraction]]:
    """Every non-constant neuron pre-activation of every region (from the deep side, not from H)."""
    seen = {}
    for r in e.regions:
        for w, b in r.preactivations:
            if any(w):
                seen[(w, b)] = None
    return list(seen)


def _boundary_points(e, domain: Domain, rng: random.Random, per_plane: int = 3) -> list[tuple[Fraction, ...]]:
    n = e.network.input_dim
    lo, hi = _sample_box(domain, n)
    planes = _hyperplanes(e)
    points = []
    # on one hyperplane: fix the other coordinates, solve for one with a nonzero coefficient
    for w, b in planes:
        t = next(i for i, a in enumerate(w) if a)
        for _ in range(per_plane):
            x = [a + (c - a) * F(rng.randint(0, 8), 8) for a, c in zip(lo, hi)]
            x[t] = F(0)
            x[t] = -(b + sum((a * v for a, v in zip(w, x)), F(0))) / w[t]
            assert sum((a * v for a, v in zip(w, x)), b) == 0
            if domain.contains(x):
                points.append(tuple(x))
    # where two hyperplanes meet (2-D: the 2x2 system, exactly)
    if n == 2:
        for (w1, b1), (w2, b2) in itertools.combinations(planes, 2):
            det = w1[0] * w2[1] - w1[1] * w2[0]
            if det == 0:
                continue
            x = ((-b1) * w2[1] - w1[1] * (-b2)) / det
            y = (w1[0] * (-b2) - (-b1) * w2[0]) / det
            assert w1[0] * x + w1[1] * y + b1 == 0 and w2[0] * x + w2[1] * y + b2 == 0
            if domain.contains((x, y)):
                points.append((x, y))
    # every region's witness (lower-dimensional ones included) and the box corners
    points += [r.witness for r in e.regions]
    points += [tuple(c) for c in itertools.product(*zip(lo, hi))] if domain.kind == "box" else []
    return points


# ============================================================================ structure
@pytest.mark.parametrize("seed, kind", CASES[:12])
def test_structure_three_hidden_layers_and_infinite_weights(seed: int, kind: str, random_network) -> None:
    net, domain, e, s = _setup(seed, kind, random_network)
    J, K, m, n = s.hyperplanes, s.regions, s.output_dim, s.input_dim
    assert K == len(e.regions) and m == net.output_dim and n == net.input_dim
    assert len(s.layers) == 4 and len(s.hidden_widths) == 3
    width = n
    for layer in s.layers:
        assert layer.cols == width and len(layer.bias) == layer.rows
        assert all(0 <= i < layer.rows and 0 <= j < layer.cols for i, j, _ in layer.entries)
        width = layer.rows
    assert width == m
    infinite = 0
    for t, layer in enumerate(s.layers):
        assert not any(isinstance(b, Infinity) for b in layer.bias)
        for i, j, w in layer.entries:
            if isinstance(w, Infinity):
                infinite += 1
                assert w is NEG_INF
                if t == 1:
                    assert i == j and j < J
                else:
                    assert t == 2 and j < 2 * J
    assert infinite == s.infinite_weights
    # layer 2 has one -inf per hyperplane; layer 3 one per (condition, gate)
    assert s.layers[1].infinite_count == J
    assert s.layers[2].infinite_count == sum(2 * m * (len(s.strict[k]) + len(s.weak[k])) for k in range(K))
    # the rows of H are distinct, normalised (first nonzero entry +-1), and strict/weak are disjoint
    assert len(set(zip(s.H, s.c))) == J
    for row in s.H:
        assert abs(next(a for a in row if a)) == 1
    for k in range(K):
        assert not set(s.strict[k]) & set(s.weak[k])


def test_abs_closed_form() -> None:
    s = build_shallow(enumerate_regions(ABS))
    assert s.H == ((F(1),), (F(-1),)) and s.c == (F(0), F(0))
    assert [s.evaluate([v]) for v in ("-5/2", "0", "1/3")] == [(F(5, 2),), (F(0),), (F(1, 3),)]
    assert s.hidden_widths == (2 + 6, 2 * 2 + 6, 6)


# ============================================================================ exact equality
@pytest.mark.parametrize("seed, kind", CASES)
def test_shallow_equals_deep_exactly(seed: int, kind: str, random_network) -> None:
    net, domain, e, s = _setup(seed, kind, random_network)
    n = net.input_dim
    rng = random.Random(seed + 99)
    lo, hi = _sample_box(domain, n)
    count = 0
    for _ in range(POINTS):
        q = rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 1000))
        x = tuple(a + F(rng.randint(0, int((c - a) * q)), q) for a, c in zip(lo, hi))
        assert s.evaluate(x) == net.evaluate(x), x
        count += 1
    boundary = _boundary_points(e, domain, rng)
    assert boundary, "every case must have boundary points"
    for x in boundary:
        assert s.evaluate(x) == net.evaluate(x), x
    assert count + len(boundary) >= POINTS


def test_boundary_points_hit_lower_dimensional_regions(random_network) -> None:
    """The boundary points above really land on hyperplanes and in lower-dimensional regions."""
    on_plane = lower = 0
    for seed, kind in CASES:
        net, domain, e, s = _setup(seed, kind, random_network)
        planes = _hyperplanes(e)
        for x in _boundary_points(e, domain, random.Random(seed)):
            on_plane += any(sum((a * v for a, v in zip(w, x)), b) == 0 for w, b in planes)
            lower += not e.regions[e.locate(x)].full_dimensional
    assert on_plane >= 200 and lower >= 20


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10**6),
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 2),
    hidden=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    m=st.integers(1, 2),
    coords=st.lists(st.fractions(min_value=-4, max_value=4, max_denominator=12), min_size=2, max_size=2),
)
def test_hypothesis_shallow_equals_deep(seed, kind, n, hidden, m, coords, random_network) -> None:
    net = random_network(random.Random(seed), [n, *hidden, m], kind)
    s = build_shallow(enumerate_regions(net))
    x = coords[:n]
    assert s.evaluate(x) == net.evaluate(x)
    # and at the witnesses of every region
    for r in enumerate_regions(net).regions:
        assert s.evaluate(r.witness) == net.evaluate(r.witness)


# ============================================================================ float evaluation
@pytest.mark.parametrize("seed, kind", CASES[::2])
def test_float_evaluation_agrees(seed: int, kind: str, random_network) -> None:
    net, domain, e, s = _setup(seed, kind, random_network)
    n = net.input_dim
    rng = np.random.default_rng(seed)
    lo, hi = (np.array([float(v) for v in b]) for b in _sample_box(domain, n))
    xs = rng.uniform(lo, hi, size=(300, n))
    H = np.array([[float(v) for v in row] for row in s.H]).reshape(len(s.H), n)
    c = np.array([float(v) for v in s.c])
    if len(s.H):
        near = np.any(np.abs(xs @ H.T + c) < 1e-9 * (1 + np.abs(xs).sum(axis=1, keepdims=True)), axis=1)
        xs = xs[~near]
    assert len(xs) >= 250
    got, want = s.evaluate_float(xs), net.evaluate_float(xs)
    assert got.shape == want.shape == (len(xs), net.output_dim)
    assert not np.isnan(got).any() and np.isfinite(got).all()
    assert np.all(np.abs(got - want) <= 1e-9 * np.maximum(1.0, np.abs(want)))


def test_float_evaluation_on_the_abs_boundary() -> None:
    s = build_shallow(enumerate_regions(ABS))
    out = s.evaluate_float(np.array([[0.0], [-2.0], [0.5]]))
    assert not np.isnan(out).any()
    assert out[:, 0].tolist() == [0.0, 2.0, 0.5]


# ============================================================================ extended arithmetic
def test_extended_arithmetic_conventions() -> None:
    with pytest.raises(ExtendedArithmeticError, match=r"inf - inf is undefined"):
        add(INF, NEG_INF)
    with pytest.raises(ExtendedArithmeticError):
        add(NEG_INF, INF)
    assert mul(INF, F(0)) == 0 and mul(F(0), NEG_INF) == 0 and mul(NEG_INF, F(0)) == 0
    assert isinstance(mul(INF, F(0)), Fraction)
    assert relu(NEG_INF) == 0 and isinstance(relu(NEG_INF), Fraction)
    assert relu(INF) is INF
    assert add(INF, F(-10**9)) is INF and add(F(3), NEG_INF) is NEG_INF and add(INF, INF) is INF
    assert mul(NEG_INF, F(-1, 2)) is INF and mul(INF, F(-3)) is NEG_INF and mul(NEG_INF, NEG_INF) is INF
    assert -INF is NEG_INF and -NEG_INF is INF


def test_sparse_layer_raises_on_inf_minus_inf() -> None:
    layer = SparseLayer(1, 2, ((0, 0, INF), (0, 1, NEG_INF)), (F(0),))
    with pytest.raises(ExtendedArithmeticError):
        layer.apply([F(1), F(2)])
    assert layer.apply([F(1), F(0)]) == [INF]  # -inf * 0 = 0


# ============================================================================ file format
@pytest.mark.parametrize("seed, kind", CASES[:6])
def test_save_load_round_trip(tmp_path: Path, seed: int, kind: str, random_network) -> None:
    net, domain, e, s = _setup(seed, kind, random_network)
    path = tmp_path / "shallow.json"
    save_shallow(s, path)
    loaded = load_shallow(path)
    assert loaded.to_dict() == s.to_dict()
    assert loaded == s
    assert loaded.sha256() == s.sha256()
    assert s.deep_sha256 == net.sha256()
    for r in e.regions:
        assert loaded.evaluate(r.witness) == net.evaluate(r.witness)
    # every rational in the file is a string; no JSON float anywhere
    text = path.read_text()
    json.loads(text, parse_float=lambda t: pytest.fail(f"JSON float {t} in the shallow file"))


def test_save_load_round_trip_polytope_domain(tmp_path: Path) -> None:
    net = ReluNetwork.from_lists([([[1, 1], [1, -1]], [0, 0]), ([[1, "1/2"]], [0])])
    domain = Domain.polytope([[1, 0], [0, 1], [-1, -1]], [1, 1, 1])  # x <= 1, y <= 1, x + y >= -1
    s = build_shallow(enumerate_regions(net, domain))
    path = tmp_path / "poly.json"
    save_shallow(s, path)
    loaded = load_shallow(path)
    assert loaded.to_dict() == s.to_dict() and loaded.domain == domain
    for x in ([F(0), F(0)], [F(1), F(-2)], [F(1, 3), F(1, 3)], [F(-2), F(1)]):
        assert loaded.evaluate(x) == net.evaluate(x)


def test_load_shallow_accepts_a_str_path(tmp_path: Path) -> None:
    s = build_shallow(enumerate_regions(ABS))
    path = tmp_path / "shallow.json"
    save_shallow(s, str(path))  # save_shallow takes a str
    assert load_shallow(str(path)).to_dict() == s.to_dict()


def _abs_dict(box: bool = True) -> dict:
    domain = Domain.box([-1], [1]) if box else None
    return build_shallow(enumerate_regions(ABS, domain)).to_dict()


def _mutate(data: dict, how: str) -> dict:
    d = json.loads(json.dumps(data))
    if how == "drop_layer":
        d["layers"] = d["layers"][:3]
    elif how == "extra_layer":
        d["layers"].append(d["layers"][-1])
    elif how == "non_number":
        d["H"][0][0] = "one"
    elif how == "json_float_H":
        d["H"][0][0] = 1.0
    elif how == "json_float_beta":
        d["beta"][0][0] = 0.5
    elif how == "json_float_weight":
        d["layers"][0]["weights"][0][2] = 1.0
    elif how == "missing_H":
        del d["H"]
    elif how == "missing_layers":
        del d["layers"]
    elif how == "format":
        d["format"] = "exactrelu-network"
    elif how == "version":
        d["version"] = 2
    elif how == "weight_index":
        d["layers"][1]["weights"][0][1] = 10**6
    elif how == "bad_strict":
        d["strict"][0] = [99]
    elif how == "bias_length":
        d["layers"][3]["bias"] = []
    elif how == "cols":
        d["layers"][2]["cols"] += 1
    elif how == "output_dim":
        d["output_dim"] = 2
    return d


@pytest.mark.parametrize(
    "how, message",
    [
        ("drop_layer", r"must hold 4 layers \(three hidden and the output\), got 3"),
        ("extra_layer", r"must hold 4 layers \(three hidden and the output\), got 5"),
        ("non_number", r"'one' is not a rational number"),
        ("json_float_H", r"JSON float 1\.0 where a rational string belongs"),
        ("json_float_beta", r"JSON float 0\.5 where a rational string belongs"),
        ("json_float_weight", r"JSON float 1\.0 where a rational string belongs"),
        ("missing_H", r"missing field\(s\) H"),
        ("missing_layers", r"missing field\(s\) layers"),
        ("format", r"field 'format' must be 'exactrelu-shallow'"),
        ("version", r"field 'version' must be 1, got 2"),
        ("weight_index", r"index \(\d+, 1000000\) outside"),
        ("bad_strict", r"strict\[0\]' must list hyperplane indices"),
        ("bias_length", r"must have \d+ entries, has 0"),
        ("cols", r"layers\[2\] has \d+ columns but receives \d+ values"),
        ("output_dim", r"must have 2 entries|output layer has 1 rows but output_dim is 2"),
    ],
)
def test_load_shallow_refuses_malformed_files(tmp_path: Path, how: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_mutate(_abs_dict(), how)))
    with pytest.raises(NetworkFormatError, match=message):
        load_shallow(path)


@pytest.mark.parametrize("text, message", [("", r"empty shallow network"), ('{"format": ', r"invalid JSON"),
                                           ("[]", r"expected a JSON object")])
def test_load_shallow_refuses_unreadable_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(NetworkFormatError, match=message):
        load_shallow(path)


def test_tampered_shallow_hits_inf_minus_inf() -> None:
    # |x| over R: gate row 0 of layer 3 (region x > 0) reads -inf * p_0 - inf * a_1.  Flip the
    # first to +inf: at x = -2, p_0 = 1 and a_1 = 2, so the row is +inf - inf.
    d = _abs_dict(box=False)
    weights = d["layers"][2]["weights"]
    assert [0, 0, "-inf"] in weights and [0, 3, "-inf"] in weights
    weights[weights.index([0, 0, "-inf"])] = [0, 0, "inf"]
    s = shallow_from_dict(d, "tampered")
    with pytest.raises(ExtendedArithmeticError, match=r"inf - inf"):
        s.evaluate(["-2"])
    assert s.evaluate(["1/2"]) == (F(1, 2),)  # p_0 = 0, a_1 = 0: no infinite term is nonzero


# ============================================================================ outside the box
@pytest.mark.parametrize("seed, kind", [c for c in CASES if c[0] % 2 == 0][:10])
def test_outside_the_box_value_is_deep_or_zero(seed: int, kind: str, random_network) -> None:
    """Documented behaviour: outside its domain the shallow network equals the deep network where
    the point's activation pattern occurs in the domain, and is 0 elsewhere (no gate opens)."""
    net, domain, e, s = _setup(seed, kind, random_network)
    n = net.input_dim
    patterns = {r.pattern for r in e.regions}
    rng = random.Random(seed)
    seen = {True: 0, False: 0}
    for _ in range(300):
        x = tuple(F(rng.randint(-40, 40), 4) for _ in range(n))
        if domain.contains(x):
            continue
        inside = net.pattern(x) in patterns
        seen[inside] += 1
        expected = net.evaluate(x) if inside else (F(0),) * net.output_dim
        assert s.evaluate(x) == expected, x
    assert seen[True] + seen[False] > 100


def test_outside_the_box_closed_form() -> None:
    # relu(x - 2) on [-1, 1]: only the inactive region occurs, so at x = 3 the shallow network
    # gives 0 while the deep one gives 1; relu(x) on [-1, 1] has both patterns and agrees everywhere
    shifted = ReluNetwork.from_lists([([[1]], [-2]), ([[1]], [0])])
    s = build_shallow(enumerate_regions(shifted, Domain.box([-1], [1])))
    assert shifted.evaluate([3]) == (F(1),) and s.evaluate([3]) == (F(0),)
    assert s.evaluate([-5]) == shifted.evaluate([-5]) == (F(0),)
    plain = ReluNetwork.from_lists([([[1]], [0]), ([[1]], ["1/2"])])
    s = build_shallow(enumerate_regions(plain, Domain.box([-1], [1])))
    for v in (-7, F(13, 3), 100):
        assert s.evaluate([v]) == plain.evaluate([v])
