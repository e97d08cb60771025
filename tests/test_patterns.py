"""Float-decided activation patterns (rigorous error bound, exact fallback) and the exact Shapley values
computed from them, against the plain exact evaluator and the textbook Shapley formula."""

from __future__ import annotations

import random
from fractions import Fraction as F

import numpy as np

from exactrelu.explain import Explainer
from exactrelu.network import ReluNetwork
from exactrelu.patterns import FloatSigns, PatternMaps, float_up, patterns_of, to_float



def reference_shapley(net: ReluNetwork, x, background) -> list[list[F]]:
    """The textbook formula over coalitions, with Fractions and the plain evaluator."""
    import itertools
    import math

    n, m = net.input_dim, net.output_dim

    def v(S):
        total = [F(0)] * m
        for b in background:
            out = net.evaluate([x[j] if j in S else b[j] for j in range(n)])
            total = [t + o for t, o in zip(total, out)]
        return [t / len(background) for t in total]

    phi = [[F(0)] * m for _ in range(n)]
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            weight = F(math.factorial(size) * math.factorial(n - size - 1), math.factorial(n))
            for S in itertools.combinations(others, size):
                hi, lo = v(set(S) | {i}), v(set(S))
                phi[i] = [p + weight * (a - c) for p, a, c in zip(phi[i], hi, lo)]
    return phi


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


def test_pattern_shapley_equals_the_textbook_formula_with_boundary_hybrids():
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
