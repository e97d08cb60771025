"""Float-decided activation patterns (rigorous error bound, exact fallback), exact evaluation by residues,
and the exact Shapley values computed from them, against the plain exact evaluator and the textbook
Shapley formula."""

from __future__ import annotations

import random
from fractions import Fraction as F

import numpy as np

from exactrelu.explain import Explainer
from exactrelu.network import ReluNetwork
from exactrelu.patterns import FloatSigns, PatternMaps, float_up, patterns_of, to_float


def random_rational_network(widths, seed):
    rng = random.Random(seed)
    return ReluNetwork.from_lists([
        ([[F(rng.randint(-9, 9), rng.choice([1, 3, 7])) for _ in range(a)] for _ in range(b)],
         [F(rng.randint(-5, 5), rng.choice([1, 2, 3])) for _ in range(b)])
        for a, b in zip(widths[:-1], widths[1:])])


def on_boundary(net: ReluNetwork, rng: random.Random) -> tuple:
    """A rational point exactly on a first-layer neuron's hyperplane (pre-activation exactly 0)."""
    n = net.input_dim
    w, b = net.layers[0].weight[0], net.layers[0].bias[0]
    j = next(t for t in range(n) if w[t])
    x = [F(rng.randint(-6, 6), 5) for _ in range(n)]
    x[j] = 0
    x[j] = -(sum(wi * xi for wi, xi in zip(w, x)) + b) / w[j]
    assert net.layers[0].apply(x)[0] == 0
    return tuple(x)


def test_float_up_and_to_float_bound_the_rounding():
    for q in (F(1, 3), F(2, 7), F(0), F(5, 4), F(10**30 + 1, 3)):
        f = float_up(abs(q))
        assert F(f) >= abs(q)
        v, e = to_float([q])
        assert abs(F(float(v[0])) - q) <= F(float(e[0]))
    assert to_float([F(1, 4)])[1][0] == 0.0


def test_patterns_equal_the_exact_patterns_boundaries_included():
    rng = random.Random(5)
    for seed in range(6):
        net = random_rational_network([3, 5, 4, 2], seed)
        points = [tuple(F(rng.randint(-20, 20), rng.choice([1, 3, 10])) for _ in range(3)) for _ in range(30)]
        points += [on_boundary(net, rng) for _ in range(5)]
        bits, exact = patterns_of(net, points)
        assert exact >= 5  # every boundary point needed exact arithmetic
        for p, row in zip(points, bits.tolist()):
            assert tuple(row) == tuple(v for layer in net.pattern(p) for v in layer)


def test_float_signs_leave_boundary_points_undecided_and_decide_clear_ones():
    net = ReluNetwork.from_lists([([[1], [-1]], ["1/3", 0]), ([[1, 1]], [0])])
    V, E = to_float([F(-1, 3), F(4)])
    bits, decided = FloatSigns(net).decide(V.reshape(2, 1), E.reshape(2, 1))
    assert decided.tolist() == [False, True] and bits[1].tolist() == [True, False]


def test_pattern_maps_reproduce_the_network():
    rng = random.Random(2)
    net = random_rational_network([2, 4, 3, 2], 9)
    maps = PatternMaps(net)
    for _ in range(20):
        x = (F(rng.randint(-9, 9), 4), F(rng.randint(-9, 9), 3))
        key = np.array([v for layer in net.pattern(x) for v in layer], dtype=bool).tobytes()
        alpha, beta = maps.affine(key)
        assert tuple(sum((a * v for a, v in zip(row, x)), c) for row, c in zip(alpha, beta)) == net.evaluate(x)


def test_pattern_shapley_equals_the_textbook_formula_with_boundary_hybrids(reference_shapley):
    rng = random.Random(11)
    for seed in range(4):
        net = random_rational_network([3, 4, 3, 2], seed)
        points = [on_boundary(net, rng), tuple(F(rng.randint(-9, 9), 4) for _ in range(3))]
        background = [on_boundary(net, rng)] + [tuple(F(rng.randint(-9, 9), 2) for _ in range(3)) for _ in range(3)]
        explainer = Explainer(net, background, method="patterns")
        results = explainer.explain_many(points)
        assert explainer.patterns.exact_hybrids > 0  # some hybrids fall on a boundary
        for x, r in zip(points, results):
            assert [list(row) for row in r.values] == reference_shapley(net, x, background)
            assert r.method in ("patterns", "fast path")


def test_pattern_fast_path_flag_matches_the_closure_test():
    net = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 2]], [0])])  # relu(x1) + 2 relu(x2)
    inside = Explainer(net, [[0, 0]], method="patterns").explain([1, 3])
    assert inside.fast_path and [list(r) for r in inside.values] == [[1], [6]]
    outside = Explainer(net, [[-1, 0]], method="patterns").explain([1, 3])
    assert not outside.fast_path and outside.local.pattern == ((True, True),)


# ============================================================================ exact evaluation by residues
# (exactrelu/modular.py) and the batched exact Shapley values built on it: boundary points, float32
# networks, long integers, values beyond the float range, the fast-path shortcut
import math

import pytest

from exactrelu.commands.console import Console
from exactrelu.explain import ModularShapley, shapley_values
from exactrelu.modular import EXACT_FLOAT, ResidueNetwork, _is_prime, crt, crt_many


def float32_network(widths, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        w = (rng.normal(size=(b, a)) * np.sqrt(2 / a)).astype(np.float32).astype(float)
        c = (rng.normal(size=b) * 0.5).astype(np.float32).astype(float)
        layers.append((w.tolist(), c.tolist()))
    return ReluNetwork.from_lists(layers)


def float32_points(rng, count, n):
    return [tuple(F(float(v)) for v in row) for row in rng.normal(size=(count, n)).astype(np.float32)]


def test_crt_and_primes():
    primes = [101, 103, 107]
    P = math.prod(primes)
    for N in (0, 1, -1, P // 2 - 1, -(P // 2), 12345, -54321):
        assert crt([N % p for p in primes], primes) == N
    values = np.array([[N % p for N in (7, -8, 99999)] for p in primes], dtype=np.int64)
    assert crt_many(values, primes).tolist() == [7, -8, 99999]
    rn = ResidueNetwork(random_rational_network([3, 5, 2], 0))
    found = rn.primes(6)
    assert all(_is_prime(p) for p in found) and found == sorted(found, reverse=True)
    assert all((5 + 1) * p * p <= EXACT_FLOAT < (5 + 1) * (rn.prime_limit + 1) ** 2 for p in found)  # fan-in 5
    assert not any(_is_prime(q) for q in range(found[1] + 1, found[0]))
    assert math.prod(rn.primes_above(10 ** 40)) > 2 * 10 ** 40 + 1
    assert [q for q in range(2, 60) if _is_prime(q)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59]


def test_residue_evaluation_equals_the_fraction_evaluator_boundaries_included():
    rng = random.Random(3)
    for seed, widths in enumerate(([3, 5, 4, 2], [2, 6, 1], [4, 3, 3, 3, 1], [3, 2])):
        net = random_rational_network(widths, seed)
        points = [tuple(F(rng.randint(-30, 30), rng.choice([1, 3, 7, 10])) for _ in range(widths[0])) for _ in range(40)]
        if len(widths) > 2:
            points += [on_boundary(net, rng) for _ in range(5)]
        rn = ResidueNetwork(net)
        out, D = rn.evaluate(points)
        assert [tuple(F(int(v), D) for v in row) for row in out] == [net.evaluate(p) for p in points]
        if len(widths) > 2:
            assert rn.exact_rows >= 5  # the boundary points had their patterns computed exactly
        zmax = max(abs(v * D) for p in points for v in p)  # any bound above the numerators over Q works
        assert all(abs(int(v)) <= rn.numerator_bound(int(zmax), D) for row in out for v in row)


def test_residue_evaluation_with_long_integers_and_beyond_the_float_range():
    net = ReluNetwork.from_lists([([[F(1, 3 ** 40), F(-7, 11)], [F(2 ** 70 + 1, 5), 1]], [F(1, 7 ** 30), 0]),
                                  ([[F(-1, 3), F(5, 2 ** 80)]], [1])])
    points = [(F(10) ** 400, F(-3)), (F(1, 3 ** 50), F(2, 9)), (F(-(10 ** 320)), F(10) ** 310), (F(0), F(0))]
    rn = ResidueNetwork(net)
    out, D = rn.evaluate(points)
    assert [tuple(F(int(v), D) for v in row) for row in out] == [net.evaluate(p) for p in points]
    assert len(rn._primes) > 20  # long numerators: many primes


def test_wide_fan_in_uses_smaller_primes():
    rng = random.Random(9)
    net = ReluNetwork.from_lists([([[F(rng.randint(-9, 9), 4) for _ in range(300)] for _ in range(3)], [0, 1, F(-1, 2)]),
                                  ([[1, -2, 3]], [0])])
    rn = ResidueNetwork(net)
    assert rn.prime_limit ** 2 * 301 <= EXACT_FLOAT < (rn.prime_limit + 1) ** 2 * 301
    points = [tuple(F(rng.randint(-99, 99), 8) for _ in range(300)) for _ in range(5)]
    out, D = rn.evaluate(points)
    assert [tuple(F(int(v), D) for v in row) for row in out] == [net.evaluate(p) for p in points]


def test_modular_shapley_equals_the_textbook_formula_with_boundary_hybrids(reference_shapley):
    rng = random.Random(17)
    for seed in range(5):
        net = random_rational_network([3, 4, 3, 1 + seed % 2], 40 + seed)
        points = [on_boundary(net, rng), tuple(F(rng.randint(-9, 9), 4) for _ in range(3)), on_boundary(net, rng)]
        background = [on_boundary(net, rng)] + [tuple(F(rng.randint(-9, 9), 3) for _ in range(3)) for _ in range(3)]
        explainer = Explainer(net, background)
        assert explainer.method == "modular"
        results = explainer.explain_many(points)
        assert explainer.modular.residue.exact_rows > 0  # hybrids on a boundary were decided exactly
        for x, r in zip(points, results):
            assert [list(row) for row in r.values] == reference_shapley(net, x, background)
            assert r.method in ("modular", "fast path") and not r.approximate


def test_modular_shapley_on_float32_networks_equals_deep_and_the_formula(reference_shapley):
    rng = np.random.default_rng(5)
    for n, nb in ((3, 4), (5, 3)):
        net = float32_network([n, 16, 16, 1], n)
        points, background = float32_points(rng, 4, n), float32_points(rng, nb, n)
        modular = Explainer(net, background).explain_many(points)
        deep = Explainer(net, background, method="deep", fast_path=False).explain_many(points)
        assert [r.values for r in modular] == [r.values for r in deep]
        assert [list(row) for row in modular[0].values] == reference_shapley(net, points[0], background)


def test_fast_points_skip_the_residues_and_keep_the_values(reference_shapley):
    rng = random.Random(2)
    net = random_rational_network([3, 5, 4, 2], 7)
    near, far = [], []
    for _ in range(30):
        x = tuple(F(rng.randint(-20, 20), 4) for _ in range(3))
        background = [tuple(v + F(rng.randint(-2, 2), 1000) for v in x) for _ in range(3)]
        r = shapley_values(net, x, background)
        assert r.values == shapley_values(net, x, background, method="deep", fast_path=False).values
        (near if r.fast_path else far).append(r)
    assert len(near) >= 10 and all(r.method == "fast path" for r in near)
    mixed = Explainer(net, [(F(0), F(0), F(0)), (F(1, 1000), 0, 0)])
    results = mixed.explain_many([(F(5), F(5), F(5)), (F(1, 2), F(-1), F(3)), (F(-4), F(1), F(0))])
    for x, r in zip([(F(5), F(5), F(5)), (F(1, 2), F(-1), F(3)), (F(-4), F(1), F(0))], results):
        assert [list(row) for row in r.values] == reference_shapley(net, x, mixed.background)


def test_modular_batches_many_points_with_progress():
    rng = random.Random(4)
    net = random_rational_network([4, 5, 3, 1], 3)
    points = [tuple(F(rng.randint(-9, 9), 2) for _ in range(4)) for _ in range(40)]
    background = [tuple(F(rng.randint(-9, 9), 3) for _ in range(4)) for _ in range(5)]
    seen = []
    explainer = Explainer(net, background)
    explainer.modular = ModularShapley(net)
    explainer.modular.CHUNK = 64  # several chunks per call
    results = explainer.explain_many(points, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (40, 40)
    deep = Explainer(net, background, method="deep", fast_path=False)
    assert [r.values for r in results] == [deep.explain(x).values for x in points]


@pytest.mark.parametrize("widths", [[3, 4, 3, 3, 2], [3, 2], [2, 5, 1], [3, 6, 4, 1]])
def test_modular_sums_in_short_runs_and_any_depth(widths, reference_shapley):
    """Blocks of a few hybrids (the last hidden layer summed over runs of 1 or 2 background rows, several
    runs per point), three hidden layers (a reduction between hidden layers), none (an affine network),
    two outputs: the values equal the textbook formula, boundary hybrids included."""
    rng = random.Random(sum(widths))
    net = random_rational_network(widths, len(widths))
    n = widths[0]
    points = [tuple(F(rng.randint(-9, 9), 4) for _ in range(n)) for _ in range(3)]
    background = [tuple(F(rng.randint(-9, 9), 3) for _ in range(n)) for _ in range(5)]
    if len(widths) > 2:
        points.append(on_boundary(net, rng))
        background.append(on_boundary(net, rng))
    for chunk in (1 << n, 2 << n, 64):
        explainer = Explainer(net, background, fast_path=False)
        explainer.modular = ModularShapley(net)
        explainer.modular.CHUNK = chunk
        results = explainer.explain_many(points)
        for x, r in zip(points, results):
            assert [list(row) for row in r.values] == reference_shapley(net, x, background)


def test_modular_limits():
    net = random_rational_network([15, 2, 1], 0)
    with pytest.raises(Exception, match="at most 14 features"):
        ModularShapley(net)
    assert Explainer(net, [[0] * 15], max_features=20).method == "deep"  # auto above the residue limit


def test_console_counts_points(monkeypatch, capsys):
    console = Console()
    console.live = True
    console.started -= 2.0
    console.count(3, 10)
    console.end_progress()
    assert "3 of 10 points" in capsys.readouterr().err


@pytest.mark.parametrize("gb, group", [(7, 2), (8, 2), (6, 6), (5, 8), (9, 4), (3, 1)])
def test_runs_of_background_rows_are_summed_and_reduced_exactly(gb, group):
    """``_add_runs``: several runs (strided sums), one run, a shorter last run; the result is the sum of
    the rows modulo p, whatever the grouping, and lands in the selected points only."""
    shapley = ModularShapley(random_rational_network([2, 3, 1], 1))
    p = 1000003
    rng = np.random.default_rng(gb * 10 + group)
    H = rng.integers(-(2 ** 40), 2 ** 40, size=(gb, 4 * 2 * 3)).astype(float)  # entries (mask, point, width)
    for sel in (slice(1, 3), np.array([0, 2])):
        X = np.zeros((4, 3, 3))
        shapley._add_runs(X, H, sel, group, float(p))
        expected = np.zeros((4, 3, 3), dtype=np.int64)
        expected[:, sel] = (H.astype(np.int64).sum(axis=0) % p).reshape(4, 2, 3)
        assert (X.astype(np.int64) % p == expected).all() and (X[:, 1 if isinstance(sel, np.ndarray) else 0] == 0).all()


def test_the_batch_sign_check_falls_back_to_each_neuron_bound():
    """A pre-activation below the largest bound of the batch (another neuron's, scaled by 10^6) but above
    its own is still proved by floats; one exactly 0 is decided exactly."""
    net = ReluNetwork.from_lists([([[1], [10 ** 6]], [0, 0]), ([[1, 1]], [0])])
    rn = ResidueNetwork(net)
    points = [(F(1),), (F(1, 10 ** 11),), (F(-1, 10 ** 11),)]
    Zf, Ze = to_float([v for p in points for v in p])
    Z = np.concatenate([Zf.reshape(-1, 1), np.ones((3, 1))], axis=1)
    masks, open_rows, Y, e = rn.masks(Z, Ze.reshape(-1, 1).max(axis=0), None, 1)
    assert open_rows.tolist() == [] and rn.exact_rows == 0
    assert masks[0].tolist() == [[True, True], [True, True], [False, False]]
    out, D = rn.evaluate(points + [(F(0),)])
    assert rn.exact_rows == 1 and [F(int(v), D) for v in out[:, 0]] == [net.evaluate(p)[0] for p in points + [(F(0),)]]
