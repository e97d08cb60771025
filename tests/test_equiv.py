"""``exactrelu equiv``: exact equivalence, counterexamples and the maximum deviation, certified.

Every claim is re-established independently of :mod:`exactrelu.equiv`:

* counterexamples and maximisers are re-evaluated with :meth:`ReluNetwork.evaluate`;
* maximum deviations are compared with a brute force that shares no code with the region search:
  every full-dimensional activation pattern of ``A`` and of ``B`` is found by trying all ``2^N``
  (:mod:`exactrelu.bruteforce`), the vertices of each intersection of two closed regions with the
  box are enumerated by ``cdd`` directly, and ``||A - B||`` is evaluated at every vertex (on each
  such polytope ``A - B`` is affine, so its norm is maximal at a vertex, and the polytopes cover
  the box);
* certificates are verified by the independent checker, and tampered ones are rejected with a
  reason.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import cdd
import cdd.gmp
import numpy as np
import pytest

from exactrelu import checker, commands
from exactrelu.bruteforce import brute_force_patterns, pattern_rows
from exactrelu.domain import Domain
from exactrelu.equiv import compare, deviation, padded_layers, side_by_side, write_equivalence_certificate
from exactrelu.errors import InputError
from exactrelu.network import ReluNetwork

F = Fraction
ROOT = Path(__file__).resolve().parent.parent


# ============================================================================ helpers
def net(*layers) -> ReluNetwork:
    return ReluNetwork.from_lists(list(layers))


def perturbed(network: ReluNetwork, layer: int, i: int, j: int, delta: Fraction) -> ReluNetwork:
    layers = [([list(r) for r in l.weight], list(l.bias)) for l in network.layers]
    layers[layer][0][i][j] += delta
    return ReluNetwork.from_lists(layers)


def check_file(path: Path, *extra: str) -> tuple[int, str]:
    """Run the independent checker; return (exit code, the reason line or the summary), the same
    serially and in 2 processes (``check --workers 2``)."""
    verdicts = []
    for workers in (1, 2):
        c = checker.Checker(str(path), *extra, workers=workers)
        try:
            c.run()
            verdicts.append((0, "verified"))
        except checker.CheckFailure as exc:
            verdicts.append((1, f"{exc.location}: {exc.reason}"))
    assert verdicts[0] == verdicts[1], verdicts
    return verdicts[0]


def vertices(rows, n: int) -> list[tuple[Fraction, ...]]:
    """Vertices of ``{x : u . x + v >= 0}`` (strictness dropped) by cdd vertex enumeration."""
    mat = cdd.gmp.matrix_from_array([[v, *u] for u, v, _ in rows], rep_type=cdd.RepType.INEQUALITY)
    poly = cdd.gmp.polyhedron_from_matrix(mat)
    gens = cdd.gmp.copy_generators(poly)
    return [tuple(Fraction(c) for c in row[1:]) for row in gens.array if Fraction(row[0]) == 1]


def brute_force_max(a: ReluNetwork, b: ReluNetwork, domain: Domain, norm: str = "inf"):
    """The maximum of ``||A - B||`` over a box, by vertex enumeration (see the module docstring)."""
    n = a.input_dim
    full_a = [p for p, full in brute_force_patterns(a, domain).items() if full]
    full_b = [p for p, full in brute_force_patterns(b, domain).items() if full]
    best, where = None, None
    for pa in full_a:
        rows_a = pattern_rows(a, pa, domain)
        for pb in full_b:
            rows = rows_a + pattern_rows(b, pb, Domain.reals(n))
            for x in vertices(rows, n):
                value = deviation(a.evaluate(x), b.evaluate(x), norm)
                if best is None or value > best:
                    best, where = value, x
    return best, where


def small_net(rng: random.Random, widths, bound: int = 3) -> ReluNetwork:
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        W = [[F(rng.randint(-bound, bound), rng.choice((1, 2, 3))) for _ in range(fan_in)] for _ in range(fan_out)]
        b = [F(rng.randint(-bound, bound), rng.choice((1, 2))) for _ in range(fan_out)]
        layers.append((W, b))
    return ReluNetwork.from_lists(layers)


@pytest.fixture
def run_cli(capsys):
    """``exactrelu`` run in-process (``commands.main``), with its exit code, stdout and stderr."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = commands.main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def save(network: ReluNetwork, path: Path) -> Path:
    path.write_text(json.dumps(network.to_dict()))
    return path


# ============================================================================ the side-by-side network
@pytest.mark.parametrize("widths_a,widths_b", [
    ([2, 3, 1], [2, 3, 1]), ([2, 3, 4, 1], [2, 2, 1]), ([2, 1], [2, 3, 2, 1]), ([2, 2], [2, 2]),
    ([1, 2, 2, 2, 3], [1, 3, 3])])
def test_side_by_side_computes_both_networks_and_matches_the_checker(widths_a, widths_b) -> None:
    rng = random.Random(len(widths_a) * 10 + len(widths_b))
    a, b = small_net(rng, widths_a), small_net(rng, widths_b)
    combined = side_by_side(a, b)
    assert len(combined.layers) == max(len(a.layers), len(b.layers))
    for _ in range(30):
        x = [F(rng.randint(-12, 12), rng.choice((1, 2, 5))) for _ in range(a.input_dim)]
        assert combined.evaluate(x) == a.evaluate(x) + b.evaluate(x)
    # the checker builds the same network from A and B alone
    ca = checker.Network(a.to_dict(), "A")
    cb = checker.Network(b.to_dict(), "B")
    assert checker.side_by_side(ca, cb) == combined.to_dict()


def test_padding_an_affine_network_goes_through_a_pair_of_neurons() -> None:
    x = net(([[2, -1]], ["1/2"]))
    layers = padded_layers(x, 2)
    assert [len(b) for _, b in layers] == [2, 2, 1]
    padded = ReluNetwork.from_lists(layers)
    for point in ([3, 1], [-5, 2], [0, "1/2"]):
        assert padded.evaluate(point) == x.evaluate(point)


def test_dimensions_must_match() -> None:
    a = net(([[1, 1]], [0]), ([[1]], [0]))
    with pytest.raises(InputError, match="A has 2 inputs but B has 1"):
        compare(a, net(([[1]], [0])))
    with pytest.raises(InputError, match="A has 1 outputs but B has 2"):
        compare(a, net(([[1, 0], [0, 1]], [0, 0])))


# ============================================================================ equal networks
def test_relu_x_minus_relu_minus_x_equals_x_everywhere(tmp_path: Path) -> None:
    a = net(([[1], [-1]], [0, 0]), ([[1, -1]], [0]))
    b = net(([[1]], [0]))
    for domain in (None, Domain.box(["-3"], ["7/2"])):
        result = compare(a, b, domain)
        assert result.equal and result.max_deviation == 0 and result.counterexample is None
        assert result.identical_regions == len(result.enumeration.regions) == 3
        path = tmp_path / "eq.cert.json"
        write_equivalence_certificate(path, result)
        assert check_file(path) == (0, "verified")
        assert json.loads(path.read_text())["claim"] == {"kind": "equal", "norm": "inf"}


def test_two_orderings_of_hidden_neurons_are_equal(tmp_path: Path) -> None:
    rng = random.Random(7)
    a = small_net(rng, [2, 5, 4, 2])
    p0, p1 = [3, 0, 4, 1, 2], [2, 3, 1, 0]
    W0, b0 = a.layers[0].weight, a.layers[0].bias
    W1, b1 = a.layers[1].weight, a.layers[1].bias
    W2, b2 = a.layers[2].weight, a.layers[2].bias
    b = net(([W0[i] for i in p0], [b0[i] for i in p0]),
            ([[W1[i][j] for j in p0] for i in p1], [b1[i] for i in p1]),
            ([[row[j] for j in p1] for row in W2], b2))
    assert a.to_dict() != b.to_dict()
    result = compare(a, b, Domain.box(["-2", "-2"], ["2", "2"]))
    assert result.equal
    path = tmp_path / "perm.cert.json"
    write_equivalence_certificate(path, result)
    assert check_file(path) == (0, "verified")


def test_positively_rescaled_neurons_and_a_split_neuron_are_equal(tmp_path: Path) -> None:
    """relu(2z)/2 = relu(z), and one neuron with weight 1 equals two copies with weight 1/2:
    different architectures (3 vs 4 hidden neurons, other weights) for the same function, on R^2."""
    a = net(([[1, -1], [2, 1], [0, 1]], [0, -1, "1/2"]), ([[1, -2, 3]], [1]))
    b = net(([["2", "-2"], [2, 1], [2, 1], [0, 3]], [0, -1, -1, "3/2"]), ([["1/2", -1, -1, 1]], [1]))
    result = compare(a, b)
    assert result.equal and not result.unbounded and result.max_deviation == 0
    path = tmp_path / "scaled.cert.json"
    write_equivalence_certificate(path, result)
    assert check_file(path) == (0, "verified")


def test_maps_that_differ_only_off_a_lower_dimensional_region_are_equal(tmp_path: Path) -> None:
    """On the line x1 = 0, A's map is 0 and B's is x1: different affine maps, the same values there.
    The leaf needs LP-dual bounds, and the checker verifies them."""
    a = net(([[1, 0]], [0]), ([[1]], [0]))                      # relu(x1)
    b = net(([[1, 0], [-1, 0]], [1, 0]), ([[1, 1]], [-1]))      # relu(x1 + 1) - 1 + relu(-x1)
    result = compare(a, b, Domain.box(["-1/2", "-1"], ["1", "1"]))
    assert result.equal
    assert [t is None for t in result.terms].count(False) == 1
    path = tmp_path / "coincide.cert.json"
    write_equivalence_certificate(path, result)
    assert check_file(path) == (0, "verified")
    leaf = next(l for l in json.loads(path.read_text())["leaves"] if l["bounds"])
    assert leaf["full_dimensional"] is False and {b["bound"] for b in leaf["bounds"]} == {"0"}


# ============================================================================ different networks
@pytest.mark.parametrize("seed", range(3))
def test_one_weight_changed_by_one_thousandth(seed: int, tmp_path: Path) -> None:
    rng = random.Random(100 + seed)
    a = small_net(rng, [2, 3, 3, 1])
    for _ in range(20):  # change a weight that matters on the box
        layer, i, j = rng.randrange(3), 0, rng.randrange(2)
        b = perturbed(a, layer, i, j, F(1, 1000))
        box = Domain.box(["-1", "-1"], ["1", "1"])
        result = compare(a, b, box)
        if not result.equal:
            break
    assert not result.equal
    x = result.counterexample
    assert box.contains(x)
    assert a.evaluate(x) != b.evaluate(x)
    assert result.outputs == {"A": a.evaluate(x), "B": b.evaluate(x)}
    expected, _ = brute_force_max(a, b, box)
    assert result.max_deviation == expected > 0
    assert deviation(a.evaluate(result.argmax), b.evaluate(result.argmax), "inf") == expected
    # certified within a tolerance at the maximum, refused below it
    path = tmp_path / "tol.cert.json"
    write_equivalence_certificate(path, result, tolerance=expected)
    assert check_file(path) == (0, "verified")
    with pytest.raises(InputError, match="exceeds the tolerance"):
        write_equivalence_certificate(tmp_path / "no.cert.json", result, tolerance=expected - F(1, 10**9))
    assert not (tmp_path / "no.cert.json").exists()


def test_one_norm_over_two_outputs_matches_brute_force(tmp_path: Path) -> None:
    rng = random.Random(11)
    a = small_net(rng, [2, 3, 2, 2])
    b = perturbed(perturbed(a, 2, 0, 1, F(1, 1000)), 2, 1, 0, F(-1, 500))
    box = Domain.box(["-1", "-2"], ["2", "1"])
    for norm in ("inf", "1"):
        result = compare(a, b, box, norm=norm)
        expected, _ = brute_force_max(a, b, box, norm)
        assert result.max_deviation == expected > 0, norm
        assert deviation(a.evaluate(result.argmax), b.evaluate(result.argmax), norm) == expected
        path = tmp_path / f"{norm}.cert.json"
        write_equivalence_certificate(path, result, tolerance=expected)
        assert check_file(path) == (0, "verified")
    inf = compare(a, b, box)
    assert [v for v, _ in inf.per_output] == [brute_force_max(
        net(*[(l.weight, l.bias) for l in a.layers[:-1]], ([a.layers[-1].weight[o]], [a.layers[-1].bias[o]])),
        net(*[(l.weight, l.bias) for l in b.layers[:-1]], ([b.layers[-1].weight[o]], [b.layers[-1].bias[o]])),
        box)[0] for o in range(2)]


def test_float32_to_float16_truncation_max_deviation_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    layers32, layers16 = [], []
    for fan_in, fan_out in ((2, 4), (4, 3), (3, 1)):
        W = rng.normal(size=(fan_out, fan_in)).astype(np.float32)
        b = (rng.normal(size=fan_out) * 0.5).astype(np.float32)
        layers32.append((W.astype(float).tolist(), b.astype(float).tolist()))
        layers16.append((W.astype(np.float16).astype(float).tolist(), b.astype(np.float16).astype(float).tolist()))
    a, b = ReluNetwork.from_lists(layers32), ReluNetwork.from_lists(layers16)
    box = Domain.box(["-1", "-1"], ["1", "1"])
    result = compare(a, b, box)
    expected, _ = brute_force_max(a, b, box)
    assert result.max_deviation == expected and expected.denominator > 1  # a genuine dyadic rational
    assert deviation(a.evaluate(result.argmax), b.evaluate(result.argmax), "inf") == expected
    path = tmp_path / "fp16.cert.json"
    write_equivalence_certificate(path, result, tolerance=F(1, 10))
    assert check_file(path) == (0, "verified")


@pytest.mark.parametrize("seed", range(8))
def test_random_pairs_of_different_depths_match_brute_force(seed: int, tmp_path: Path) -> None:
    """Random pairs (one or two inputs, one or two outputs, depths 0 to 2 hidden layers, on a box
    or a triangle): the maximum deviation equals the vertex brute force in both norms, and the
    certificate of it verifies."""
    rng = random.Random(500 + seed)
    n, m = 1 + seed % 2, 1 + (seed // 2) % 2
    shapes = ([n, 3, m], [n, 2, 2, m], [n, m], [n, 3, 2, m])
    a = small_net(rng, shapes[seed % 4])
    b = small_net(rng, shapes[(seed + 1) % 4])
    if n == 2 and seed % 4 == 1:
        domain = Domain.polytope([[-1, 0], [0, -1], [1, 1]], [1, 1, "3/2"])  # x >= -1, y >= -1, x + y <= 3/2
    else:
        domain = Domain.box(["-2"] * n, ["3/2"] * n)
    for norm in ("inf", "1"):
        result = compare(a, b, domain, norm=norm)
        expected, _ = brute_force_max(a, b, domain, norm)
        assert result.max_deviation == expected, (seed, norm)
        assert result.equal == (expected == 0)
        assert deviation(a.evaluate(result.argmax), b.evaluate(result.argmax), norm) == expected
        assert domain.contains(result.argmax)
        path = tmp_path / f"{norm}.cert.json"
        write_equivalence_certificate(path, result, tolerance=expected)
        assert check_file(path) == (0, "verified")


def test_unbounded_and_bounded_deviation_on_the_whole_space() -> None:
    a = net(([[1]], [0]), ([[1]], [0]))                                # relu(x)
    b = net(([[1], [1], [1]], [0, 1, 0]), ([[1, 1, -1]], [0]))          # relu(x) + relu(x + 1) - relu(x)
    result = compare(a, b)                                              # differ by a clipped ramp in [0, 1]
    assert not result.unbounded and result.max_deviation == 1
    assert deviation(a.evaluate(result.argmax), b.evaluate(result.argmax), "inf") == 1
    c = perturbed(a, 1, 0, 0, F(1, 1000))
    result = compare(a, c)
    assert result.unbounded and result.max_deviation is None and result.argmax is None
    x = result.counterexample
    assert a.evaluate(x) != c.evaluate(x)
    with pytest.raises(InputError, match="unbounded"):
        write_equivalence_certificate(Path("/nonexistent/never.json"), result)


# ============================================================================ the command
def test_both_commands_are_registered() -> None:
    assert commands.COMMANDS["equiv"] == "exactrelu.commands.equiv" and commands.COMMANDS["prune"] == "exactrelu.commands.prune"
    for name in ("exactrelu.commands.equiv", "exactrelu.commands.prune"):
        module = __import__(name, fromlist=["run"])
        assert module.SUMMARY and module.EXAMPLE and callable(module.configure) and callable(module.run)


def test_command_equal_not_equal_json_and_certificate(tmp_path: Path, run_cli) -> None:
    a = net(([[1], [-1]], [0, 0]), ([[1, -1]], [0]))
    pa = save(a, tmp_path / "a.json")
    # B in another format (NPZ) and as the plain function x
    np.savez(tmp_path / "b.npz", W0=np.array([[1.0]]), b0=np.array([0.0]))
    code, out, err = run_cli("equiv", pa, tmp_path / "b.npz", "--json", "--max-deviation", "--certificate", tmp_path / "c.json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["equal"] is True and summary["counterexample"] is None and summary["max_deviation"] == "0"
    assert check_file(tmp_path / "c.json") == (0, "verified")
    assert run_cli("check", tmp_path / "c.json")[:2] == (0, "s VERIFIED\n")

    c = perturbed(a, 1, 0, 1, F(1, 1000))  # relu(x) - 1001/1000 relu(-x)
    pc = save(c, tmp_path / "c_net.json")
    code, out, err = run_cli("equiv", pa, pc, "--box=-2:3", "--json", "--no-early", "--certificate", tmp_path / "d.json")
    assert code == 1
    summary = json.loads(out)
    x = [F(v) for v in summary["counterexample"]]
    assert summary["outputs"] == {"A": [str(v) for v in a.evaluate(x)], "B": [str(v) for v in c.evaluate(x)]}
    assert a.evaluate(x) != c.evaluate(x)
    assert summary["max_deviation"] == "1/500" and summary["argmax"] == ["-2"]
    # A and B differ (exit 1), but the claim `--max-deviation` certifies, the exact maximum, holds
    assert summary["certificate"] == str(tmp_path / "d.json") and check_file(tmp_path / "d.json") == (0, "verified")
    claim = json.loads((tmp_path / "d.json").read_text())["claim"]
    assert claim == {"kind": "max_deviation", "norm": "inf", "value": "1/500", "argmax": ["-2"], "tolerance": None}
    code, out, _ = run_cli("equiv", pa, pc, "--box", "-2:3", "--tolerance", "1/500", "--max-deviation",
                           "--certificate", tmp_path / "e.json")
    assert code == 0 and "WITHIN TOLERANCE 1/500" in out
    assert check_file(tmp_path / "e.json") == (0, "verified")
    code, out, err = run_cli("equiv", pa, pc, "--box=-2:3", "--tolerance", "0.001", "--max-deviation",
                             "--certificate", tmp_path / "f.json")
    assert code == 1 and "NOT WITHIN TOLERANCE 1/1000" in out
    assert "no certificate written: the maximum deviation exceeds the tolerance" in err and not (tmp_path / "f.json").exists()
    code, out, err = run_cli("equiv", pa, pc, "--max-deviation", "--certificate", tmp_path / "g.json")
    assert code == 1 and "unbounded" in out
    assert "no certificate written: the deviation is unbounded on the domain" in err and not (tmp_path / "g.json").exists()


def test_command_default_answers_early(tmp_path: Path, run_cli) -> None:
    """Without --max-deviation the answer comes from the first proof, and a 'differ' deviation is a lower
    bound of the maximum (here: the maximum 1/500 at x = -2, or 1/1000 at x = -1, ...)."""
    a = net(([[1], [-1]], [0, 0]), ([[1, -1]], [0]))
    pa = save(a, tmp_path / "a.json")
    c = perturbed(a, 1, 0, 1, F(1, 1000))  # relu(x) - 1001/1000 relu(-x)
    pc = save(c, tmp_path / "c_net.json")
    code, out, err = run_cli("equiv", pa, pc, "--box=-2:3", "--json")
    assert code == 1, err
    summary = json.loads(out)
    x = [F(v) for v in summary["point"]]
    assert summary["verdict"] == "differ" and summary["deviation_is"] == "lower bound"
    assert 0 < F(summary["deviation"]) == abs(a.evaluate(x)[0] - c.evaluate(x)[0]) <= F(1, 500) and -2 <= x[0] <= 3
    code, out, _ = run_cli("equiv", pa, pc, "--box=-2:3", "--tolerance", "1/500", "--certificate", tmp_path / "e.json")
    assert code == 0 and out.startswith("WITHIN TOLERANCE (enumeration") and check_file(tmp_path / "e.json") == (0, "verified")
    code, out, _ = run_cli("equiv", pa, pa, "--box=-2:3", "--early", "--certificate", tmp_path / "s.json")
    assert code == 0 and out.startswith("EQUAL (structural") and check_file(tmp_path / "s.json") == (0, "verified")


@pytest.mark.parametrize("argv,message", [
    (["--tolerance", "-1"], "--tolerance: must be >= 0"),
    (["--tolerance", "abc"], "is not a rational number"),
    (["--box=0:1,0:1"], "--box: has 2 intervals but the network has 1 inputs"),
    (["--box=0:1", "--domain", "d.json"], "either --box or --domain"),
    (["--certificate", "/nonexistent/dir/c.json"], "does not exist"),
])
def test_command_bad_input_exits_2(argv, message, tmp_path: Path, run_cli) -> None:
    a = save(net(([[1]], [0]), ([[1]], [0])), tmp_path / "a.json")
    code, _, err = run_cli("equiv", a, a, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_command_dimension_mismatch_is_a_clear_error(tmp_path: Path, run_cli) -> None:
    a = save(net(([[1]], [0]), ([[1]], [0])), tmp_path / "a.json")
    b = save(net(([[1, 1]], [0]), ([[1]], [0])), tmp_path / "b.json")
    c = save(net(([[1]], [0]), ([[1], [2]], [0, 0])), tmp_path / "c.json")
    code, _, err = run_cli("equiv", a, b)
    assert code == 2 and "has 1 inputs but B" in err and "has 2" in err
    code, _, err = run_cli("equiv", a, c)
    assert code == 2 and "has 1 outputs but B" in err


# ============================================================================ tampering
@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, dict]:
    """An ``equal`` certificate (with a lower-dimensional leaf bounded by duals) and a
    ``max_deviation`` certificate, as parsed JSON."""
    folder = tmp_path_factory.mktemp("equiv-tamper")
    a = net(([[1, 0], [1, 1]], [0, "-1/2"]), ([[1, 2]], [0]))
    b = net(([[1, 0], [-1, 0], [1, 1]], [1, 0, "-1/2"]), ([[1, 1, 2]], [-1]))
    equal = compare(a, b, Domain.box(["-1/2", "-1"], ["1", "1"]))
    assert equal.equal and any(t is not None for t in equal.terms)
    write_equivalence_certificate(folder / "equal.json", equal)
    c = perturbed(a, 1, 0, 1, F(1, 1000))
    dev = compare(a, c, Domain.box(["-1", "-1"], ["1", "1"]))
    write_equivalence_certificate(folder / "dev.json", dev, tolerance=F(1, 100))
    return {"equal": json.loads((folder / "equal.json").read_text()),
            "dev": json.loads((folder / "dev.json").read_text())}


def _first_bounded(cert):
    return next(k for k, leaf in enumerate(cert["leaves"]) if leaf["bounds"])


def _flip_equal_leaf_map(cert):
    k = next(k for k, leaf in enumerate(cert["leaves"]) if not leaf["bounds"])
    cert["leaves"][k]["alpha"][1][0] = str(F(cert["leaves"][k]["alpha"][1][0]) + 1)


def _make_b_rows_claim_a(cert):
    """Copy A's map over B's on a leaf, so that the leaf looks identical."""
    k = _first_bounded(cert)
    leaf = cert["leaves"][k]
    leaf["alpha"][1], leaf["beta"][1] = list(leaf["alpha"][0]), leaf["beta"][0]
    leaf["bounds"] = []


def _change_multiplier(cert):
    term = next(t for t in cert["leaves"][_first_bounded(cert)]["bounds"] if t["multipliers"])
    term["multipliers"][0][1] = str(F(term["multipliers"][0][1]) * 2)


def _change_bound(cert):
    term = cert["leaves"][_first_bounded(cert)]["bounds"][0]
    term["bound"] = str(F(term["bound"]) - F(1, 7))


def _drop_term(cert):
    cert["leaves"][_first_bounded(cert)]["bounds"].pop()


def _duplicate_term(cert):
    bounds = cert["leaves"][_first_bounded(cert)]["bounds"]
    bounds[-1] = copy.deepcopy(bounds[0])


def _claim_value_lowered(cert):
    cert["claim"]["value"] = str(F(cert["claim"]["value"]) / 2)


def _claim_value_raised(cert):
    cert["claim"]["value"] = str(F(cert["claim"]["value"]) * 2)


def _claim_argmax_moved(cert):
    cert["claim"]["argmax"] = ["0", "0"]


def _tolerance_below(cert):
    cert["claim"]["tolerance"] = str(F(cert["claim"]["value"]) / 2)


def _claim_equal(cert):
    cert["claim"] = {"kind": "equal", "norm": "inf"}


def _b_weight_rehashed(cert):
    cert["networks"]["B"]["layers"][0]["weight"][0][0] = "3"
    cert["network_sha256"]["B"] = checker.Network(cert["networks"]["B"], "B").sha256()


def _b_weight_stale_hash(cert):
    cert["networks"]["B"]["layers"][0]["weight"][0][0] = "3"


def _combination(cert):
    cert["combination"] = "trusted-embedded"


def _version(cert):
    cert["version"] = 3


def _float_multiplier(cert):
    term = next(t for t in cert["leaves"][_first_bounded(cert)]["bounds"] if t["multipliers"])
    term["multipliers"][0][1] = 0.5


def _sign_not_of_norm(cert):
    cert["leaves"][_first_bounded(cert)]["bounds"][0]["sign"] = [2]


def _norm_one_claim(cert):
    cert["claim"]["norm"] = "2"


def _leaf_removed(cert):
    cert["leaves"].pop()


def _conditions_stated(cert):
    cert["leaves"][0]["conditions"] = []  # the form of an earlier release, which stated them


TAMPERS = [
    ("equal", _flip_equal_leaf_map, r"leaves\[\d+\]\.alpha: the affine map differs"),
    ("equal", _make_b_rows_claim_a, r"leaves\[\d+\]\.alpha: the affine map differs"),
    ("equal", _change_multiplier, r"bounds\[\d+\]\.multipliers: the multipliers do not reproduce the objective"),
    ("equal", _change_bound, r"bounds\[\d+\]\.bound: is .* but the multipliers prove"),
    ("equal", _drop_term, r"leaves\[\d+\]\.bounds: the affine maps of A and B differ on this leaf and no bound"),
    ("equal", _duplicate_term, r"sign: appears twice"),
    ("equal", _b_weight_rehashed, r"leaves\[\d+\]\.(alpha: the affine map differs|witness: violates)|tree"),
    ("equal", _conditions_stated, r"^leaves\[0\]\.conditions: leaf conditions are no longer written \(they are derived "
                                  r"from the path\); regenerate it with exactrelu equiv \(or prune, shallow --finite\)$"),
    ("equal", _b_weight_stale_hash, r"network_sha256\.B: does not match"),
    ("equal", _combination, r"combination: expected 'side-by-side'"),
    ("equal", _version, r"version: expected 2, found 3"),
    ("equal", _float_multiplier, r"JSON float|not a rational"),
    ("equal", _sign_not_of_norm, r"sign: is not one of the sign vectors"),
    ("equal", _norm_one_claim, r"claim\.norm: expected 'inf' or '1'"),
    ("equal", _leaf_removed, r"leaf|leaves"),
    ("dev", _change_multiplier, r"multipliers do not reproduce the objective"),
    ("dev", _change_bound, r"bound: is .* but the multipliers prove"),
    ("dev", _claim_value_lowered, r"claim\.value: is .* but the deviation of A and B at claim\.argmax is"),
    ("dev", _claim_value_raised, r"claim\.value: is .* but the deviation of A and B at claim\.argmax is"),
    ("dev", _claim_argmax_moved, r"claim\.value: is .* but the deviation"),
    ("dev", _tolerance_below, r"claim\.tolerance: .* is below the maximum deviation"),
    ("dev", _claim_equal, r"exceeds the claimed maximum deviation 0"),
]


@pytest.mark.parametrize("which,tamper,reason", TAMPERS, ids=[f"{w}-{t.__name__.strip('_')}" for w, t, _ in TAMPERS])
def test_tampered_equivalence_certificates_are_rejected(which, tamper, reason, certificates, tmp_path: Path) -> None:
    assert which != "equal" or any(l["bounds"] for l in certificates["equal"]["leaves"])
    cert = copy.deepcopy(certificates[which])
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    assert check_file(path) == (0, "verified")  # the untouched certificate verifies
    tamper(cert)
    path.write_text(json.dumps(cert))
    code, why = check_file(path)
    assert code == 1
    import re

    assert re.search(reason, why), why


def test_model_option_and_dump(certificates, tmp_path: Path, capsys) -> None:
    cert = certificates["equal"]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    (tmp_path / "b.json").write_text(json.dumps(cert["networks"]["B"]))
    (tmp_path / "other.json").write_text(json.dumps(net(([[1]], [0])).to_dict()))
    (tmp_path / "a.json").write_text(json.dumps(cert["networks"]["A"]))
    assert checker.main([str(path), "--model-b", str(tmp_path / "b.json"), "--dump", "--symbolic"]) == 0
    out = capsys.readouterr()
    assert out.out == "s VERIFIED\n"
    assert "network B: widths [2, 3, 1]" in out.err and "A = B at every point of the domain" in out.err
    assert "c network A: sha256 " in out.err and "embedded (taken from the certificate alone)" in out.err
    assert f"c network B: sha256 {cert['network_sha256']['B']}, pinned ({tmp_path / 'b.json'})" in out.err
    assert checker.main([str(path), "--model-a", str(tmp_path / "a.json"), "--model-b", str(tmp_path / "b.json")]) == 0
    assert out.err.count("pinned") == 1 and capsys.readouterr().err.count("pinned") == 2
    assert checker.main([str(path), "--model-a", str(tmp_path / "b.json")]) == 1
    assert "c network A: the certificate is about another network than" in capsys.readouterr().err
    assert checker.main([str(path), "--model-b", str(tmp_path / "other.json")]) == 1
    assert "c network B: the certificate is about another network than" in capsys.readouterr().err
    # the deep-network option of a shallow certificate is not an equivalence binding
    assert checker.main([str(path), "--model", str(tmp_path / "b.json")]) == 1
    assert "this is a equivalence certificate" not in (err := capsys.readouterr().err)
    assert err.startswith("c format: this is an equivalence certificate") and "not the shallow certificate" in err


def test_pinned_copy_is_not_hashed_again(certificates, tmp_path: Path, monkeypatch, capsys) -> None:
    """A pinned file whose exact layers are those of the embedded network (here B written sparse)
    has its SHA-256 without a second hash: one hash per embedded network, none per pinned copy; a
    pinned file with other layers is still hashed and refused."""
    cert = certificates["equal"]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    b = cert["networks"]["B"]
    sparse = {**b, "layers": [{"weight": {"shape": [len(l["weight"]), len(l["weight"][0])],
                                          "entries": [[i, j, w] for i, row in enumerate(l["weight"])
                                                      for j, w in enumerate(row) if w not in ("0", 0)]},
                               "bias": l["bias"]} for l in b["layers"]]}
    (tmp_path / "b.json").write_text(json.dumps(sparse))
    (tmp_path / "a.json").write_text(json.dumps(cert["networks"]["A"]))
    hashed = []
    original = checker.Network.sha256
    monkeypatch.setattr(checker.Network, "sha256", lambda self: hashed.append(self) or original(self))
    assert checker.main([str(path), "--model-a", str(tmp_path / "a.json"), "--model-b", str(tmp_path / "b.json")]) == 0
    err = capsys.readouterr().err
    assert f"pinned ({tmp_path / 'a.json'})" in err and f"pinned ({tmp_path / 'b.json'})" in err
    assert len(hashed) == 2
    hashed.clear()
    assert checker.main([str(path), "--model-a", str(tmp_path / "b.json")]) == 1
    assert "c network A: the certificate is about another network than" in capsys.readouterr().err
    assert len(hashed) == 2  # the embedded A and the pinned file, whose layers differ


def test_the_lone_checker_file_verifies_an_equivalence_certificate(certificates, tmp_path: Path) -> None:
    """``checker.py`` copied alone, run with no site-packages: it needs nothing but the stdlib."""
    shutil.copy(Path(checker.__file__), tmp_path / "checker.py")
    for which in ("equal", "dev"):
        (tmp_path / f"{which}.json").write_text(json.dumps(certificates[which]))
        done = subprocess.run([sys.executable, "-S", "checker.py", f"{which}.json"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout == "s VERIFIED\n", done.stderr


def test_the_command_modules_import_only_light_modules() -> None:
    """Building the command line must not load numpy, cdd, flint or sympy (they load on use)."""
    code = ("import sys, json, exactrelu.equiv, exactrelu.prune\n"
            "print(json.dumps(sorted(m for m in ('numpy', 'cdd', 'flint', 'sympy') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout) == [], done.stderr


def test_region_budget_makes_the_answer_incomplete(tmp_path: Path, run_cli) -> None:
    a = save(net(([[1], [-1], [1]], [0, 0, -1]), ([[1, 1, 1]], [0])), tmp_path / "a.json")
    code, out, err = run_cli("equiv", a, a, "--max-deviation", "--max-regions", "1", "--certificate", tmp_path / "c.json")
    assert code == 3 and "INCOMPLETE" in err and out == ""
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("tolerance, written", [("0", True), ("1/2", True), ("1", False)])
def test_command_differ_writes_the_counterexample_certificate(tmp_path: Path, run_cli, tolerance, written) -> None:
    """``equiv --certificate`` on a ``differ`` answer writes the counterexample certificate (exit 1),
    which the checker verifies with both networks and the box pinned.  The maximum deviation is
    exactly 1, at x = -1 (|x| = 1, relu(x) = 0): at tolerance 1, on the boundary, they are within it."""
    a = save(net(([[1], [-1]], [0, 0]), ([[1, 1]], [0])), tmp_path / "a.json")   # |x|
    b = save(net(([[1]], [0]), ([[1]], [0])), tmp_path / "b.json")               # relu(x)
    c = tmp_path / "c.json"
    code, out, err = run_cli("equiv", a, b, "--box=-1:1", "--tolerance", tolerance, "--certificate", c)
    assert code == (1 if written else 0), err
    assert ("DIFFER" if written else "WITHIN TOLERANCE") in out
    claim = json.loads(c.read_text())["claim"]
    assert claim["kind"] == ("differ" if written else "max_deviation")
    if written:
        assert claim["point"] == ["-1"]
    assert check_file(c) == (0, "verified")
    code, out, err = run_cli("check", c, "--model-a", a, "--model-b", b, "--box=-1:1")
    assert (code, out) == (0, "s VERIFIED\n") and "pinned (--box=-1:1)" in err
