"""``exactrelu explain``: local models, exact interventional Shapley values, the fast path, the
command line (single point, batch, JSON, CSV) and its bad-input errors, and a cross-check against
the shap package (optional extra) on the float network."""

from __future__ import annotations

import json
import random
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from exactrelu.commands import main
from exactrelu.domain import Domain
from exactrelu.errors import InputError
from exactrelu.explain import (
    MAX_EXACT_FEATURES,
    Explainer,
    IntegerNetwork,
    RegionLookup,
    affine_text,
    local_model,
    read_points_csv,
    shapley_values,
)
from exactrelu.network import ReluNetwork
from exactrelu.regions import enumerate_regions
from exactrelu.shallow import build_shallow

# f(x) = relu(x1) + 2 relu(x2)
TINY = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 2]], [0])])


def efficiency_holds(net, x, background, values) -> bool:
    fx = net.evaluate(x)
    mean = [sum((net.evaluate(b)[o] for b in background), F(0)) / len(background) for o in range(net.output_dim)]
    return all(sum((values[i][o] for i in range(net.input_dim)), F(0)) == fx[o] - mean[o]
               for o in range(net.output_dim))


# ----------------------------------------------------------------------------- hand-computed values
def test_hand_computed_values_with_zero_background() -> None:
    r = shapley_values(TINY, ["1", "3"], [["0", "0"]])
    assert [row[0] for row in r.values] == [F(1), F(6)]
    assert shapley_values(TINY, ["-1", "3"], [["0", "0"]], fast_path=False).values == ((F(0),), (F(6),))


def test_hand_computed_values_with_two_background_points() -> None:
    # v(0) = 1, v({1}) = 1, v({2}) = 7, v(F) = 7: phi = (0, 6); the naive alpha (x - mean b) would be (0, 7)
    r = shapley_values(TINY, ["1", "3"], [["0", "0"], ["2", "-1"]])
    assert r.values == ((F(0),), (F(6),))
    assert not r.fast_path
    assert r.f_x == (F(7),) and r.mean_background == (F(1),)


def test_hand_computed_interaction() -> None:
    net = ReluNetwork.from_lists([([[1, 1]], [0]), ([[1]], [0])])  # relu(x1 + x2)
    r = shapley_values(net, ["1", "-1"], [["0", "0"]])
    assert r.values == ((F(1, 2),), (F(-1, 2),))


# ----------------------------------------------------------------------------- against the formula
@pytest.mark.parametrize("seed", range(8))
def test_equals_textbook_formula_and_efficiency_exact(seed: int, random_network, rational_point, reference_shapley) -> None:
    rng = random.Random(seed)
    n = 2 + seed % 3
    kind = ("generic", "multi_output", "dead", "concurrent")[seed % 4]
    net = random_network(rng, [n, 4, 3, 1 + seed % 2], kind)
    lo, hi = [F(-2)] * n, [F(2)] * n
    x = rational_point(rng, lo, hi)
    background = [rational_point(rng, lo, hi) for _ in range(1 + seed % 4)]
    expected = reference_shapley(net, x, background)
    r = shapley_values(net, x, background, fast_path=False)
    assert [list(row) for row in r.values] == expected
    assert efficiency_holds(net, x, background, r.values)
    assert len(r.values) == n and all(len(row) == net.output_dim for row in r.values)


@pytest.mark.parametrize("seed", range(3))
def test_region_lookup_equals_deep_evaluation(seed: int, random_network, rational_point) -> None:
    rng = random.Random(100 + seed)
    net = random_network(rng, [2 + seed % 2, 4, 3, 2], "generic")
    n = net.input_dim
    domain = Domain.box(["-2"] * n, ["2"] * n)
    shallow = build_shallow(enumerate_regions(net, domain))
    evaluator = IntegerNetwork(net)
    lookup = RegionLookup(shallow, evaluator)
    background = [rational_point(rng, *([F(-2)] * n, [F(2)] * n)) for _ in range(3)]
    deep = Explainer(net, background, fast_path=False, evaluator=evaluator)
    regions = Explainer(net, background, method="regions", fast_path=False, lookup=lookup)
    for _ in range(3):
        x = rational_point(rng, [F(-2)] * n, [F(2)] * n)
        a, b = deep.explain(x), regions.explain(x)
        assert a.values == b.values and b.method == "regions"
    assert lookup.fallbacks == 0


def test_region_lookup_falls_back_outside_a_polytope_domain(reference_shapley) -> None:
    # triangle x1, x2 >= 0, x1 + x2 <= 1: the hybrid (1, 1) of x = (1, 0) and b = (0, 1) is outside it,
    # and its pattern (the third neuron x1 + x2 - 1 active) occurs nowhere in the domain
    net = ReluNetwork.from_lists([([[1, -1], [1, 1], [1, 1]], [0, "-1/2", -1]), ([[1, 3, 5]], [0])])
    domain = Domain.polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])
    lookup = RegionLookup(build_shallow(enumerate_regions(net, domain)), IntegerNetwork(net))
    x, b = (F(1), F(0)), (F(0), F(1))
    r = shapley_values(net, x, [b], method="regions", lookup=lookup)
    assert lookup.fallbacks >= 1
    assert [list(row) for row in r.values] == reference_shapley(net, x, [b])


def test_integer_evaluator_equals_fraction_evaluator(random_network, rational_point) -> None:
    rng = random.Random(7)
    for kind in ("generic", "zero_row", "dead", "multi_output"):
        net = random_network(rng, [3, 5, 4, 2], kind)
        points = [rational_point(rng, [F(-3)] * 3, [F(3)] * 3) for _ in range(20)]
        out, D = IntegerNetwork(net).evaluate_points(points)
        m = net.output_dim
        assert [tuple(F(int(out[k * m + o]), D) for o in range(m)) for k in range(len(points))] == \
            [net.evaluate(p) for p in points]


def test_network_without_hidden_layers() -> None:
    net = ReluNetwork.from_lists([([[2, "-1/3"]], ["1/2"])])
    r = shapley_values(net, ["1", "3"], [["0", "0"], ["1", "1"]], fast_path=False)
    assert r.values == ((F(1),), (F(-5, 6),))
    assert local_model(net, ["1", "3"]).pattern == ()


# ----------------------------------------------------------------------------- the fast path
def test_fast_path_equals_full_coalition_computation(random_network, rational_point) -> None:
    rng = random.Random(3)
    applied = 0
    for trial in range(12):
        net = random_network(rng, [3, 5, 4, 2], "generic")
        x = rational_point(rng, [F(-2)] * 3, [F(2)] * 3)
        background = [tuple(v + F(rng.randint(-3, 3), 1000) for v in x) for _ in range(4)]
        fast = shapley_values(net, x, background)
        full = shapley_values(net, x, background, fast_path=False)
        assert fast.values == full.values
        assert efficiency_holds(net, x, background, fast.values)
        if fast.fast_path:
            applied += 1
            model = local_model(net, x)
            mean_b = [sum((b[i] for b in background), F(0)) / len(background) for i in range(3)]
            assert fast.values == tuple(tuple(model.alpha[o][i] * (x[i] - mean_b[i]) for o in range(2)) for i in range(3))
    assert applied >= 6


def test_integer_box_check_equals_fraction_box_check(random_network, rational_point) -> None:
    rng = random.Random(21)
    seen = set()
    for _ in range(40):
        net = random_network(rng, [3, 4, 3, 1], "generic")
        x = rational_point(rng, [F(-2)] * 3, [F(2)] * 3)
        scale = F(1, rng.choice((2, 10, 100)))
        background = [tuple(v + scale * F(rng.randint(-4, 4), rng.randint(1, 4)) for v in x) for _ in range(3)]
        model = local_model(net, x)
        expected = all(model.holds_on_box(x, b) for b in background)
        assert model.holds_on_boxes(x, background) == expected
        seen.add(expected)
    assert seen == {True, False}


def test_same_region_is_not_enough_for_the_fast_path() -> None:
    # band |x1 - x2| < 1/2: (0,0) and (1,1) share the pattern, the hybrid (0,1) does not
    net = ReluNetwork.from_lists([([[1, -1], [-1, 1]], ["1/2", "1/2"]), ([[1, 2]], [0])])
    x, b = (F(0), F(0)), (F(1), F(1))
    assert net.pattern(x) == net.pattern(b)
    r = shapley_values(net, x, [b])
    assert not r.fast_path
    assert r.values == ((F(3, 4),), (F(-3, 4),))  # the naive alpha (x - b) would give (1, -1)


def test_fast_path_uses_the_closure_of_the_region() -> None:
    # baseline 0 lies on the boundary x1 = 0 of the region x1 > 0, x2 > 0: f is continuous, so exact
    for method in ("auto", "deep", "patterns"):
        r = shapley_values(TINY, ["1", "3"], [["0", "0"]], method=method)
        assert r.fast_path and r.method == "fast path" and r.values == ((F(1),), (F(6),))
    outside = shapley_values(TINY, ["1", "3"], [["-1", "0"]])  # the hybrid (-1, 3) leaves the closure
    assert not outside.fast_path and outside.method == "modular" and outside.values == ((F(1),), (F(6),))


# ----------------------------------------------------------------------------- the feature limit
def _additive(n: int) -> ReluNetwork:
    """sum_i (i + 1) relu(x_i - 1/2): no interactions, so every permutation gives the exact values."""
    W = [[1 if j == i else 0 for j in range(n)] for i in range(n)]
    return ReluNetwork.from_lists([(W, ["-1/2"] * n), ([[i + 1 for i in range(n)]], [0])])


def test_above_the_feature_limit_refuses_or_samples_labelled_approximate() -> None:
    n = MAX_EXACT_FEATURES + 1
    net = _additive(n)
    x = [F(1)] * n
    background = [[F(0)] * n, [F(2)] * n]
    with pytest.raises(InputError, match=r"above the limit of 12.*--samples"):
        shapley_values(net, x, background)
    r = shapley_values(net, x, background, samples=3)
    assert r.approximate and r.method == "sampled (deep)" and r.samples == 3
    assert efficiency_holds(net, x, background, r.values)
    # additive: phi_i = (i + 1) (relu(1/2) - mean(relu(-1/2), relu(3/2))) = (i + 1) (1/2 - 3/4)
    assert r.values == tuple((F(-(i + 1), 4),) for i in range(n))


def test_fast_path_is_exact_above_the_feature_limit() -> None:
    n = 16
    net = _additive(n)
    x = [F(1)] * n
    r = shapley_values(net, x, [[F(3, 4)] * n, [F(2)] * n])
    assert r.fast_path and not r.approximate
    assert r.values == tuple((F(i + 1) * (1 - F(11, 8)),) for i in range(n))


# ----------------------------------------------------------------------------- the local model
def test_local_model_matches_the_enumerated_region(random_network, rational_point) -> None:
    rng = random.Random(11)
    net = random_network(rng, [2, 4, 3, 2], "generic")
    e = enumerate_regions(net, Domain.box(["-2", "-2"], ["2", "2"]))
    for _ in range(10):
        x = rational_point(rng, [F(-2)] * 2, [F(2)] * 2)
        model = local_model(net, x)
        region = e.regions[e.locate(x)]
        assert model.pattern == region.pattern
        assert model.alpha == region.alpha and model.beta == region.beta
        assert [(w, b) for w, b, _ in model.conditions] == list(region.preactivations)
        assert model.output(x) == net.evaluate(x)


def test_affine_text() -> None:
    assert affine_text([F(2), F(-1, 2), F(0)], F(3), ["x1", "x2", "x3"]) == "2*x1 - 1/2*x2 + 3"
    assert affine_text([F(-1), F(0)], F(0), ["x1", "x2"]) == "-x1"
    assert affine_text([F(0)], F(0), ["x1"]) == "0"


# ----------------------------------------------------------------------------- CSV files
def test_read_points_csv(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text("1/2, -0.25\n\n3,1e-3\n")
    assert read_points_csv(p, 2) == [(F(1, 2), F(-1, 4)), (F(3), F(1, 1000))]


@pytest.mark.parametrize("text, message", [
    ("1,2,3\n", r"line 1 has 3 columns, the network has 2 inputs"),
    ("1,2\n1\n", r"line 2 has 1 columns"),
    ("a,b\n1,2\n", r"line 1: column 1: 'a' is not a rational.*header row"),
    ("1,2\n1,x/2\n", r"line 2: column 2: 'x/2' is not a rational"),
    ("1,nan\n", r"line 1: column 2"),
    ("\n\n", r"has no points"),
])
def test_read_points_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "b.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        read_points_csv(p, 2)


# ----------------------------------------------------------------------------- the command
@pytest.fixture
def tiny_json(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(TINY.to_dict()))
    return p


@pytest.fixture
def multi_json(tmp_path: Path) -> Path:
    net = ReluNetwork.from_lists([([[1, 0], [1, -1], [0, 1]], [0, "1/2", -1]), ([[1, 2, 0], [0, -1, 3]], [0, "1/3"])])
    p = tmp_path / "multi.json"
    p.write_text(json.dumps(net.to_dict()))
    return p


def _strings_only(obj) -> bool:
    if isinstance(obj, list):
        return all(_strings_only(v) for v in obj)
    return isinstance(obj, str)


def test_cli_json_single_point(tiny_json: Path, tmp_path: Path, capsys) -> None:
    bg = tmp_path / "bg.csv"
    bg.write_text("0,0\n2,-1\n")
    assert main(["explain", str(tiny_json), "--x", "1,3", "--background", str(bg), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["shapley"] == [["0"], ["6"]]
    assert out["region"]["pattern"] == [[1, 1]]
    assert out["region"]["conditions"][0] == {"w": ["1", "0"], "b": "0", "rel": ">"}
    assert out["local_model"] == {"alpha": [["1", "2"]], "beta": ["0"]}
    assert out["contributions"] == [["1"], ["6"]]
    assert out["efficiency"] == {"f_x": ["7"], "mean_f_background": ["1"], "sum_shapley": ["6"], "holds": "exactly"}
    assert out["exact"] is True and out["fast_path"] is False


def test_cli_multi_output_orientation_and_baseline(multi_json: Path, capsys, reference_shapley) -> None:
    assert main(["explain", str(multi_json), "--x", "1/2,-1/3", "--baseline", "-1,1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    net = ReluNetwork.from_lists([([[1, 0], [1, -1], [0, 1]], [0, "1/2", -1]), ([[1, 2, 0], [0, -1, 3]], [0, "1/3"])])
    expected = reference_shapley(net, (F(1, 2), F(-1, 3)), [(F(-1), F(1))])
    assert [[F(v) for v in row] for row in out["shapley"]] == expected  # shapley[i][o]
    assert len(out["shapley"]) == 2 and len(out["shapley"][0]) == 2
    assert _strings_only(out["shapley"]) and _strings_only(out["local_model"]["alpha"])
    model = local_model(net, (F(1, 2), F(-1, 3)))
    assert out["contributions_from_baseline"] == [
        [str(model.alpha[o][i] * ((F(1, 2), F(-1, 3))[i] - (F(-1), F(1))[i])) for o in range(2)] for i in range(2)]


def test_cli_text_output_and_regions_method(tiny_json: Path, capsys) -> None:
    assert main(["explain", str(tiny_json), "--x", "1/2,3", "--baseline", "1,-1", "--box=-2:4",
                 "--method", "regions"]) == 0
    text = capsys.readouterr().out
    assert "region: pattern 11 (full-dimensional)" in text
    assert "y1 = x1 + 2*x2" in text
    assert "Shapley values (exact" in text and "regions evaluation" in text
    assert "exactly" in text


def test_cli_batch_csv_and_json(tiny_json: Path, tmp_path: Path, capsys, reference_shapley) -> None:
    pts = tmp_path / "pts.csv"
    pts.write_text("1,3\n-1,3\n1/2,1/2\n")
    bg = tmp_path / "bg.csv"
    bg.write_text("0,0\n1/4,1/4\n")
    assert main(["explain", str(tiny_json), "--points", str(pts), "--background", str(bg)]) == 0
    captured = capsys.readouterr()
    rows = [line.split(",") for line in captured.out.strip().splitlines()]
    assert rows[0] == ["point", "output", "f_x", "mean_f_background", "phi_x1", "phi_x2", "pattern", "fast_path", "exact"]
    assert len(rows) == 4
    background = [(F(0), F(0)), (F(1, 4), F(1, 4))]
    for row, x in zip(rows[1:], [(F(1), F(3)), (F(-1), F(3)), (F(1, 2), F(1, 2))]):
        assert [F(v) for v in row[4:6]] == [r[0] for r in reference_shapley(TINY, x, background)]
    assert "fast path applied to 2 of 3 points" in captured.err
    out = tmp_path / "out.json"
    assert main(["explain", str(tiny_json), "--points", str(pts), "--background", str(bg), "--json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["points"] == 3 and data["fast_path_applied"] == 2 and len(data["items"]) == 3
    assert data["items"][1]["shapley"] == [[v] for v in rows[2][4:6]]


def _batch_files(tmp_path: Path, random_network, rational_point, points: int = 7):
    """A random 3-[4, 3]-2 network, ``points`` rational points and 3 background rows, as files."""
    rng = random.Random(11)
    net = random_network(rng, [3, 4, 3, 2], "generic")
    lo, hi = [F(-2)] * 3, [F(2)] * 3
    xs = [rational_point(rng, lo, hi) for _ in range(points)]
    background = [rational_point(rng, lo, hi) for _ in range(3)]
    files = {name: tmp_path / name for name in ("net.json", "pts.csv", "bg.csv")}
    files["net.json"].write_text(json.dumps(net.to_dict()))
    files["pts.csv"].write_text("".join(",".join(map(str, x)) + "\n" for x in xs))
    files["bg.csv"].write_text("".join(",".join(map(str, b)) + "\n" for b in background))
    return net, xs, background, files


def test_cli_batch_streams_chunks_exactly(tmp_path: Path, capsys, random_network, rational_point,
                                          reference_shapley) -> None:
    net, xs, background, files = _batch_files(tmp_path, random_network, rational_point)
    base = ["explain", str(files["net.json"]), "--points", str(files["pts.csv"]), "--background", str(files["bg.csv"]),
            "--no-fast-path"]
    out = tmp_path / "out.csv"
    assert main(base + ["--batch", "--chunk", "3", "--progress", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 of 7 points" in err and "7 of 7 points" in err  # the progress display: the first, the last
    text = out.read_text()
    assert "points/s" not in text and "\r" not in text  # never in the output file
    rows = [line.split(",") for line in text.splitlines()]
    assert rows[0][4:7] == ["phi_x1", "phi_x2", "phi_x3"] and len(rows) == 1 + 2 * len(xs)
    for k, x in enumerate(xs):
        expected = reference_shapley(net, x, background)
        mean = [sum((net.evaluate(b)[o] for b in background), F(0)) / 3 for o in range(2)]
        for o in range(2):
            row = rows[1 + 2 * k + o]
            assert row[:2] == [str(k + 1), str(o + 1)]
            assert [F(v) for v in row[4:7]] == [expected[i][o] for i in range(3)]
            assert (F(row[2]), F(row[3])) == (net.evaluate(x)[o], mean[o])
            assert sum((F(v) for v in row[4:7]), F(0)) == F(row[2]) - F(row[3])  # efficiency, exactly
    assert main(base) == 0  # the same rows as the whole file in one batch
    assert capsys.readouterr().out == text
    assert main(base + ["--batch", "--chunk", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["points"] == len(xs) == len(data["items"]) and data["fast_path_applied"] == 0
    for x, item in zip(xs, data["items"]):
        assert item["x"] == [str(v) for v in x]
        assert [[F(v) for v in row] for row in item["shapley"]] == reference_shapley(net, x, background)


@pytest.mark.parametrize("content, message", [
    ("1,2,-1\n0,0,0\n1,1\n", r"pts.csv: line 3 has 2 columns, the network has 3 inputs"),
    ("x1,x2,x3\n1,2,-1\n", r"pts.csv: line 1: column 1: 'x1' is not a rational.*header row"),
    ("1,2,-1\n9,0,0\n", r"pts.csv: point 2 \(9, 0, 0\) is outside the domain"),
    ("\n", r"pts.csv: the points file has no points"),
])
def test_cli_batch_bad_point_file_one_line_and_no_output(tmp_path: Path, capsys, random_network, rational_point,
                                                         content, message) -> None:
    _, _, _, files = _batch_files(tmp_path, random_network, rational_point)
    files["pts.csv"].write_text(content)
    out = tmp_path / "out.csv"
    assert main(["explain", str(files["net.json"]), "--points", str(files["pts.csv"]), "--batch", "--chunk", "1",
                 "--box=-2:2", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("exactrelu: error:")
    import re

    assert re.search(message, err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg.csv", "net.json", "pts.csv"]


def test_cli_batch_refuses_its_input_and_leaves_nothing_when_interrupted(
        tmp_path: Path, capsys, monkeypatch, random_network, rational_point) -> None:
    _, _, _, files = _batch_files(tmp_path, random_network, rational_point)
    before = files["pts.csv"].read_text()
    base = ["explain", str(files["net.json"]), "--points", str(files["pts.csv"]), "--batch", "--chunk", "2"]
    assert main(base + ["-o", str(files["pts.csv"])]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pts.csv" in err
    assert files["pts.csv"].read_text() == before
    assert main(["explain", str(files["net.json"]), "--x", "0,0,0", "--batch"]) == 2
    assert capsys.readouterr().err.strip() == "exactrelu: error: --batch: needs --points FILE.csv (the points to stream)"
    calls = []
    real = Explainer.explain_many

    def interrupted(self, points, progress=None):
        calls.append(len(points))
        if len(calls) == 2:  # the second chunk: the first one's rows are already written
            raise KeyboardInterrupt
        return real(self, points, progress)

    monkeypatch.setattr(Explainer, "explain_many", interrupted)
    out = tmp_path / "out.csv"
    assert main(base + ["-o", str(out)]) == 3  # interrupted: incomplete
    assert "nothing was written" in capsys.readouterr().err
    assert calls == [2, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg.csv", "net.json", "pts.csv"]  # no file, no temporary


def test_cli_sampled_is_labelled_approximate(tmp_path: Path, capsys) -> None:
    p = tmp_path / "add.json"
    p.write_text(json.dumps(_additive(3).to_dict()))
    args = ["explain", str(p), "--x", "1,1,1", "--baseline", "2,0,0", "--max-features", "2", "--no-fast-path"]
    assert main(args) == 2
    assert "above the limit of 2" in capsys.readouterr().err
    assert main(args + ["--samples", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "shapley" not in out and out["approximate"] is True and out["exact"] is False
    assert out["note"].startswith("APPROXIMATE")
    assert main(args + ["--samples", "4"]) == 0
    assert "Shapley values APPROXIMATE" in capsys.readouterr().out


@pytest.mark.parametrize("extra, content, message", [
    (["--x", "1,2,3"], None, r"--x: has 3 entries, the network has 2 inputs"),
    (["--x", "1,abc"], None, r"--x entry 2: 'abc' is not a rational"),
    (["--x", "1,2", "--background", "{bg}"], "1,2,3\n", r"line 1 has 3 columns, the network has 2 inputs"),
    (["--x", "1,2", "--background", "{bg}"], "1,two\n", r"line 1: column 2: 'two' is not a rational"),
    (["--x", "5,0", "--box=-1:1"], None, r"--x: the point \(5, 0\) is outside the domain \[-1, 1\] x \[-1, 1\]"),
    (["--x", "0,0", "--box=-1:1", "--background", "{bg}"], "0,0\n3,0\n", r"background point 2.*outside the domain"),
    (["--x", "1,2", "--baseline", "1"], None, r"--baseline: has 1 entries"),
    (["--x", "1,2", "--background", "{bg}"], "", r"has no points"),
    (["--x", "1,2", "--background", "{missing}"], None, r"cannot read the background file"),
])
def test_cli_bad_input_exit_2(tiny_json: Path, tmp_path: Path, capsys, extra, content, message) -> None:
    bg = tmp_path / "bg.csv"
    if content is not None:
        bg.write_text(content)
    argv = ["explain", str(tiny_json)] + [a.format(bg=bg, missing=tmp_path / "nope.csv") for a in extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("exactrelu: error:")
    import re

    assert re.search(message, err), err


def test_cli_usage_errors_exit_2(tiny_json: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["explain", str(tiny_json)])  # neither --x nor --points
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["explain", str(tiny_json), "--x", "1,2", "--background", "b.csv", "--baseline", "0,0"])
    assert exc.value.code == 2


# ----------------------------------------------------------------------------- shap cross-check
def _float_network(widths, seed: int) -> ReluNetwork:
    rng = np.random.default_rng(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers.append(((rng.normal(size=(b, a)) / np.sqrt(a)).astype(np.float32).astype(float).tolist(),
                       (rng.normal(size=b) * 0.3).astype(np.float32).astype(float).tolist()))
    return ReluNetwork.from_lists(layers)


def test_agrees_with_shap_exact_explainer() -> None:
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(5)
    net = _float_network([4, 8, 6, 2], seed=5)
    background = rng.normal(size=(6, 4))
    X = rng.normal(size=(3, 4))
    explainer = shap.explainers.Exact(net.evaluate_float, shap.maskers.Independent(background, max_samples=len(background)))
    theirs = explainer(X, silent=True).values  # (points, features, outputs)
    exact = Explainer(net, [[F(v) for v in b] for b in background.tolist()], fast_path=False)
    for k, x in enumerate(X.tolist()):
        ours = np.array([[float(v) for v in row] for row in exact.explain([F(v) for v in x]).values])
        assert ours.shape == theirs[k].shape == (4, 2)
        np.testing.assert_allclose(ours, theirs[k], rtol=1e-9, atol=1e-9)
