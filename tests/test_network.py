"""The exact network model (issue: foundation): exact evaluation, parsing of rationals, agreement
with float evaluation, the canonical form and its hash, exact float conversion, rounding on
request, and every refusal of bad input with its message."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exactrelu.errors import InputError, NetworkFormatError
from exactrelu.io import load_model
from exactrelu.io.jsonfmt import network_from_dict
from exactrelu.network import ReluNetwork

F = Fraction

# y = relu(x1 + 2 x2) - relu(-x1 + x2 + 1) + 1/2
HAND = ReluNetwork.from_lists([([[1, 2], [-1, 1]], [0, 1]), ([[1, -1]], ["1/2"])])
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])  # |x|


# ============================================================================ exact evaluation
@pytest.mark.parametrize(
    "x, expected, pattern",
    [
        # z1 = 1/3 - 1/2 = -1/6 -> 0;  z2 = -1/3 - 1/4 + 1 = 5/12;  y = -5/12 + 1/2
        ((F(1, 3), F(-1, 4)), F(1, 12), (False, True)),
        # z1 = 2 + 2 = 4;  z2 = -2 + 1 + 1 = 0 (inactive: z <= 0);  y = 4 + 1/2
        ((F(2), F(1)), F(9, 2), (True, False)),
        # z1 = 0 (inactive);  z2 = 1;  y = -1 + 1/2
        ((F(0), F(0)), F(-1, 2), (False, True)),
        # z1 = -3 + 1 = -2; z2 = 3 + 1/2 + 1 = 9/2; y = -9/2 + 1/2
        ((F(-3), F(1, 2)), F(-4), (False, True)),
    ],
)
def test_hand_computed_evaluation(x, expected, pattern) -> None:
    assert HAND.evaluate(x) == (expected,)
    assert HAND.pattern(x) == (pattern,)
    assert all(isinstance(v, Fraction) for v in HAND.evaluate(x))


def test_two_hidden_layers_hand_computed() -> None:
    # h1 = relu(x - 1), h2 = relu(2 - x); g = relu(h1 - h2/3); y = 3 g - 1/7
    net = ReluNetwork.from_lists([([[1], [-1]], [-1, 2]), ([[1, "-1/3"]], [0]), ([[3]], ["-1/7"])])
    # x = 5/2: h1 = 3/2, h2 = 0, g = 3/2, y = 9/2 - 1/7 = 61/14
    assert net.evaluate(["5/2"]) == (F(61, 14),)
    # x = 3/2: h1 = 1/2, h2 = 1/2, g = 1/2 - 1/6 = 1/3, y = 1 - 1/7 = 6/7
    assert net.evaluate(["3/2"]) == (F(6, 7),)
    # x = 0: h1 = 0, h2 = 2, g = relu(-2/3) = 0, y = -1/7
    assert net.evaluate([0]) == (F(-1, 7),)
    assert net.pattern([0]) == ((False, True), (False,))


def test_abs_network_is_absolute_value() -> None:
    for v in (F(-7, 3), F(0), F(5, 11), F(-1, 1000)):
        assert ABS.evaluate([v]) == (abs(v),)
    assert ABS.pattern([0]) == ((False, False),)


def test_multi_output_hand_computed() -> None:
    net = ReluNetwork.from_lists([([[1, -1]], [0]), ([[2], ["-1/2"]], [1, 0])])
    # relu(3 - 1) = 2 -> (5, -1)
    assert net.evaluate([3, 1]) == (F(5), F(-1))
    assert net.output_dim == 2 and net.widths == (2, 1, 2)


@pytest.mark.parametrize("text, value", [("1/3", F(1, 3)), ("-0.25", F(-1, 4)), ("1e-3", F(1, 1000)),
                                         ("-2/6", F(-1, 3)), ("+3", F(3)), (".5", F(1, 2)), ("2.5E2", F(250))])
def test_rational_strings_accepted_as_weights_and_points(text: str, value: Fraction) -> None:
    net = ReluNetwork.from_lists([([[text]], [text]), ([[1]], [0])])
    assert net.layers[0].weight[0][0] == value
    assert net.layers[0].bias[0] == value
    # at x = 1 the pre-activation is 2 * value
    assert net.evaluate([1]) == (max(2 * value, F(0)),)
    # a string as the point
    assert ABS.evaluate([text]) == (abs(value),)


def test_json_float_weights_are_exact_binary64() -> None:
    net = ReluNetwork.from_lists([([[0.1]], [0.5]), ([[1]], [0])])
    assert net.layers[0].weight[0][0] == F(3602879701896397, 36028797018963968)
    assert net.layers[0].weight[0][0] != F(1, 10)
    assert net.layers[0].bias[0] == F(1, 2)


def test_float32_weights_converted_exactly() -> None:
    w = np.array([[0.1, -0.3]], dtype=np.float32)
    b = np.array([np.float32(1) / np.float32(3)], dtype=np.float32)
    net = ReluNetwork.from_lists([(w, b), (np.array([[1]], dtype=np.float32), np.zeros(1, dtype=np.float32))])
    assert net.layers[0].weight[0][0] == F(13421773, 134217728)
    assert net.layers[0].weight[0][1] == F(float(np.float32(-0.3)))
    assert net.layers[0].weight[0][1] == F(-10066330, 33554432)
    assert net.layers[0].bias[0] == F(11184811, 33554432)
    # numpy scalars are accepted one at a time too
    net2 = ReluNetwork.from_lists([([[np.float32(0.1)]], [np.int64(2)]), ([[np.float64(0.5)]], [0])])
    assert net2.layers[0].weight[0][0] == F(13421773, 134217728)
    assert net2.layers[0].bias[0] == F(2)
    assert net2.layers[1].weight[0][0] == F(1, 2)


# ============================================================================ float agreement
@pytest.mark.parametrize("seed", range(12))
def test_exact_evaluation_agrees_with_float(seed: int, random_network) -> None:
    rng = random.Random(1000 + seed)
    kinds = ("generic", "duplicate", "dead", "parallel", "concurrent", "multi_output", "mixed", "zero_row")
    n = rng.randint(1, 4)
    dims = [n] + [rng.randint(2, 5) for _ in range(rng.randint(1, 3))] + [rng.randint(1, 3)]
    net = random_network(rng, dims, kinds[seed % len(kinds)])
    xs = np.array([[rng.uniform(-5, 5) for _ in range(n)] for _ in range(40)])
    floats = net.evaluate_float(xs)
    assert floats.shape == (40, net.output_dim)
    for x, fy in zip(xs, floats):
        exact = net.evaluate([float(v) for v in x])
        for e, f in zip(exact, fy):
            assert abs(float(e) - f) <= 1e-9 * max(1.0, abs(float(e)))


def test_evaluate_float_single_point_is_batched() -> None:
    assert HAND.evaluate_float(np.array([1 / 3, -1 / 4])).shape == (1, 1)
    assert HAND.evaluate_float(np.array([1 / 3, -1 / 4]))[0, 0] == pytest.approx(1 / 12, rel=1e-12)


# ============================================================================ bad points
def test_point_of_wrong_length_is_refused() -> None:
    with pytest.raises(InputError, match=r"x: has 1 entries, the network has 2 inputs"):
        HAND.evaluate([1])
    with pytest.raises(InputError, match=r"has 3 entries"):
        HAND.pattern([1, 2, 3])


@pytest.mark.parametrize("bad, message", [("abc", r"entry 1: 'abc' is not a rational number"),
                                           (True, r"entry 1: expected a number, got a boolean"),
                                           (float("nan"), r"entry 1: nan is not a finite number"),
                                           ("1/0", r"entry 1: '1/0' is not a rational number"),
                                           (None, r"entry 1: expected a number, got NoneType")])
def test_point_entries_that_are_not_rationals_are_refused(bad, message: str) -> None:
    with pytest.raises(InputError, match=message):
        HAND.evaluate([bad, 0])


# ============================================================================ canonical form
def test_canonical_json_is_compact_sorted_and_round_trips() -> None:
    text = HAND.canonical_json()
    assert " " not in text and "\n" not in text
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert data["layers"][1]["bias"] == ["1/2"]
    assert network_from_dict(data, "x") == HAND


def test_sha256_is_stable_across_equal_representations() -> None:
    a = ReluNetwork.from_lists([([["1/2", 2]], ["-0.25"]), ([[3]], [0])])
    b = ReluNetwork.from_lists([([[0.5, "4/2"]], [F(-1, 4)]), ([["3.0"]], ["0/5"])])
    assert a == b
    assert a.canonical_json() == b.canonical_json()
    assert a.sha256() == b.sha256()
    assert len(a.sha256()) == 64 and int(a.sha256(), 16) >= 0
    assert a.sha256() == a.sha256()  # deterministic


@pytest.mark.parametrize("seed", range(6))
def test_sha256_changes_when_one_weight_changes(seed: int, random_network) -> None:
    rng = random.Random(seed)
    net = random_network(rng, [2, 3, 2, 1], "generic")
    base = net.sha256()
    layers = [([list(r) for r in layer.weight], list(layer.bias)) for layer in net.layers]
    k = rng.randrange(len(layers))
    if rng.random() < 0.5:
        i = rng.randrange(len(layers[k][0]))
        j = rng.randrange(len(layers[k][0][i]))
        layers[k][0][i][j] += F(1, 10**9)
    else:
        layers[k][1][rng.randrange(len(layers[k][1]))] -= F(1, 7)
    changed = ReluNetwork.from_lists(layers)
    assert changed.sha256() != base
    assert changed.canonical_json() != net.canonical_json()
    # and rebuilding the unchanged lists gives the same hash back
    same = ReluNetwork.from_lists([([list(r) for r in layer.weight], list(layer.bias)) for layer in net.layers])
    assert same.sha256() == base


# ============================================================================ rounding on request
def test_limit_denominator_reports_the_largest_change() -> None:
    net = ReluNetwork.from_lists([([["1/3", "22/7"]], ["1/2"]), ([["5/4"]], ["3/10"])])
    rounded, change = net.limit_denominator(2)
    # 1/3 -> 1/2 (1/6), 22/7 -> 3 (1/7), 1/2 stays, 5/4 -> 1 or 3/2 (1/4), 3/10 -> 1/2 (1/5)
    assert rounded.layers[0].weight[0] == (F(1, 2), F(3))
    assert rounded.layers[0].bias == (F(1, 2),)
    assert rounded.layers[1].bias == (F(1, 2),)
    assert abs(rounded.layers[1].weight[0][0] - F(5, 4)) == F(1, 4)
    assert change == F(1, 4)


def test_limit_denominator_of_floats_and_no_change() -> None:
    net = ReluNetwork.from_lists([([[0.1, 0.2]], [0.3]), ([[1]], [0])])
    rounded, change = net.limit_denominator(10)
    assert rounded.layers[0].weight[0] == (F(1, 10), F(1, 5))
    assert rounded.layers[0].bias == (F(3, 10),)
    expected = max(abs(F(v) - F(v).limit_denominator(10)) for v in (0.1, 0.2, 0.3))
    assert change == expected and 0 < change < F(1, 10**16)
    same, zero = ABS.limit_denominator(1)
    assert same == ABS and zero == 0


def test_limit_denominator_must_be_positive() -> None:
    with pytest.raises(InputError, match=r"must be a positive integer"):
        ABS.limit_denominator(0)


# ============================================================================ bad networks
@pytest.mark.parametrize(
    "layers, message",
    [
        ([([[1, float("nan")]], [0]), ([[1]], [0])], r"layer 0 weight\[0\]\[1\]: nan is not a finite number"),
        ([([[1, 2]], [0]), ([[1]], [float("inf")])], r"layer 1 bias\[0\]: inf is not a finite number"),
        ([([[1, 2]], [0]), ([[float("-inf")]], [0])], r"layer 1 weight\[0\]\[0\]: -inf is not a finite number"),
        ([(np.array([[1.0], [np.inf]]), np.zeros(2)), ([[1, 1]], [0])], r"layer 0 weight\[1\]\[0\]: (np\.float64\()?inf\)? is not a finite number"),
        ([([["x"]], [0]), ([[1]], [0])], r"layer 0 weight\[0\]\[0\]: 'x' is not a rational number"),
        ([([[True]], [0]), ([[1]], [0])], r"layer 0 weight\[0\]\[0\]: expected a number, got a boolean"),
    ],
)
def test_non_finite_or_non_numeric_weights_name_layer_and_index(layers, message: str) -> None:
    with pytest.raises(NetworkFormatError, match=message):
        ReluNetwork.from_lists(layers)


def test_mismatched_layer_shapes_name_both_layers() -> None:
    with pytest.raises(NetworkFormatError, match=r"layer 1: weight row 0 has 3 columns but layer 0 \(width 2\) has 2 outputs"):
        ReluNetwork.from_lists([([[1], [2]], [0, 0]), ([[1, 1, 1]], [0])])
    with pytest.raises(NetworkFormatError, match=r"layer 2: weight row 0 has 1 columns but layer 1 \(width 2\) has 2 outputs"):
        ReluNetwork.from_lists([([[1]], [0]), ([[1], [1]], [0, 0]), ([[1], [1]], [0, 0])])


def test_other_shape_errors() -> None:
    with pytest.raises(NetworkFormatError, match=r"layer 0: weight has 2 rows but bias has 3 entries"):
        ReluNetwork.from_lists([([[1], [2]], [0, 0, 0]), ([[1, 1, 1]], [0])])
    with pytest.raises(NetworkFormatError, match=r"layer 0 weight: row 1 has 1 entries, row 0 has 2"):
        ReluNetwork.from_lists([([[1, 2], [3]], [0, 0]), ([[1, 1]], [0])])
    with pytest.raises(NetworkFormatError, match=r"no layers"):
        ReluNetwork.from_lists([])
    with pytest.raises(NetworkFormatError, match=r"layer 0 bias: expected a list, got int"):
        ReluNetwork.from_lists([([[1]], 0)])


# ============================================================================ JSON loader
GOOD = {"format": "exactrelu-network", "version": 1,
        "layers": [{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}


def _write(tmp_path: Path, text: str, name: str = "net.json") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_loader_reads_a_good_file(tmp_path: Path) -> None:
    loaded = load_model(_write(tmp_path, json.dumps(GOOD)))
    assert loaded.format == "json" and loaded.network == ABS
    assert load_model(_write(tmp_path, ABS.canonical_json(), "c.json")).network == ABS


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"net\.json: empty network"),
        ("  \n\t\n", r"net\.json: empty network"),
        (json.dumps(GOOD)[:40], r"net\.json: invalid JSON at line 1 column \d+"),
        ("{format: exactrelu-network}", r"net\.json: invalid JSON at line 1"),
        ("[1, 2, 3]", r"net\.json: expected a JSON object"),
        (json.dumps({**GOOD, "format": "onnx"}), r"field 'format' must be 'exactrelu-network', got 'onnx'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "format"}), r"field 'format' must be 'exactrelu-network', got None"),
        (json.dumps({**GOOD, "version": 2}), r"field 'version' must be 1, got 2 \(unsupported version\)"),
        (json.dumps({**GOOD, "version": "1"}), r"field 'version' must be 1, got '1'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "layers"}), r"field 'layers' must be a non-empty list"),
        (json.dumps({**GOOD, "layers": []}), r"field 'layers' must be a non-empty list"),
        (json.dumps({**GOOD, "layers": [{"weight": [[1]]}]}), r"layer 0 must be an object with 'weight' and 'bias'"),
        (json.dumps({**GOOD, "input_dim": 3}), r"field 'input_dim' is 3 but layer 0 has 1 columns"),
        (json.dumps({**GOOD, "layers": [{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": ["1/0"]}]}),
         r"net\.json: layer 1 bias\[0\]: '1/0' is not a rational number"),
        (json.dumps({**GOOD, "layers": [{"weight": [[1, 2]], "bias": [0]}, {"weight": [[1, 1]], "bias": [0]}]}),
         r"net\.json: layer 1: weight row 0 has 2 columns but layer 0 \(width 1\) has 1 outputs"),
    ],
)
def test_json_loader_refuses_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(NetworkFormatError, match=message):
        load_model(path)


def test_json_loader_nan_literal_names_layer(tmp_path: Path) -> None:
    # Python's json accepts the non-standard NaN literal; the loader must still refuse the value
    text = '{"format": "exactrelu-network", "version": 1, "layers": [{"weight": [[NaN]], "bias": [0]}]}'
    with pytest.raises(NetworkFormatError, match=r"layer 0 weight\[0\]\[0\]: nan is not a finite number"):
        load_model(_write(tmp_path, text))


def test_load_model_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no such file"):
        load_model(tmp_path / "absent.json")
    with pytest.raises(InputError, match=r"unknown file extension '\.txt'; supported: "):
        load_model(_write(tmp_path, json.dumps(GOOD), "net.txt"))
    with pytest.raises(InputError, match=r"unknown file extension '\(none\)'"):
        load_model(_write(tmp_path, json.dumps(GOOD), "net"))


def test_json_loader_refuses_deeply_nested_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[" * 100000 + "]" * 100000)
    with pytest.raises(NetworkFormatError, match=r"net\.json: "):
        load_model(path)
