"""ONNX as exported in practice: every supported pattern against ONNX's own numpy evaluation
(onnx.reference, float64), exact constants, refusals; NNet normalised coordinates against an ONNX
graph of the same network with Sub/Div normalisation nodes."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from exactrelu.domain import Domain, bounds_warning
from exactrelu.errors import NetworkFormatError
from exactrelu.io import load_model, nnet, onnxfmt

onnx = pytest.importorskip("onnx")
helper, numpy_helper = onnx.helper, onnx.numpy_helper
from onnx.reference import ReferenceEvaluator  # noqa: E402

DOUBLE = onnx.TensorProto.DOUBLE
POINTS = [[F(1, 2), F(-3, 4)], [F(0), F(0)], [F(-2), F(5, 8)], [F(7, 4), F(1)]]


def model(tmp_path: Path, nodes: list, inits: dict, in_shape: list, name: str = "m.onnx",
          opset: int = 13, out: str = "y") -> Path:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", DOUBLE, in_shape)],
        [helper.make_tensor_value_info(out, DOUBLE, None)],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    path.write_bytes(m.SerializeToString())
    return path


def node(op: str, ins: list, outs: list, name: str = "", **attrs: object):
    return helper.make_node(op, ins, outs, name=name, **attrs)


def agrees(path: Path, in_shape: list, points=POINTS) -> None:
    """The exact network equals ONNX's reference evaluation at dyadic points, exactly (every
    constant in these graphs is dyadic with few bits, so float64 evaluation is exact)."""
    net = onnxfmt.load(path)
    ref = ReferenceEvaluator(str(path))
    for p in points:
        x = np.array([float(v) for v in p], dtype=np.float64).reshape(in_shape)
        expected = np.asarray(ref.run(None, {"x": x})[0], dtype=np.float64).reshape(-1)
        assert net.evaluate(p) == tuple(F(float(v)) for v in expected)


W = np.array([[1.0, -0.5], [0.25, 2.0], [-1.0, 0.75]])  # out x in
W2 = np.array([[0.5, -1.0, 2.0]])


def test_acasxu_pattern_sub_flatten_matmul_add(tmp_path: Path) -> None:
    nodes = [node("Sub", ["x", "avg"], ["s"], "input_Sub"), node("Flatten", ["s"], ["f"], axis=1),
             node("MatMul", ["f", "W0"], ["m0"]), node("Add", ["m0", "b0"], ["z0"]), node("Relu", ["z0"], ["a0"]),
             node("MatMul", ["a0", "W1"], ["m1"]), node("Add", ["m1", "b1"], ["y"])]
    inits = {"avg": np.array([[[[0.5, -0.25]]]]), "W0": W.T, "b0": np.array([0.5, -1.0, 0.0]),
             "W1": W2.T, "b1": np.array([0.125])}
    path = model(tmp_path, nodes, inits, [1, 1, 1, 2])
    agrees(path, [1, 1, 1, 2])
    net = onnxfmt.load(path)
    assert net.widths == (2, 3, 1)
    # first layer: W (x - avg) + b0
    assert net.layers[0].bias[0] == F(1, 2) - (F(1, 2) + F(1, 8))


def test_nnet_tools_pattern_weight_first_matmul_1d(tmp_path: Path) -> None:
    # W @ x with x 1-D, as the NNet-to-ONNX converter writes it
    nodes = [node("MatMul", ["W0", "x"], ["m0"]), node("Add", ["m0", "b0"], ["z0"]), node("Relu", ["z0"], ["a0"]),
             node("MatMul", ["W1", "a0"], ["m1"]), node("Add", ["b1", "m1"], ["y"])]
    path = model(tmp_path, nodes, {"W0": W, "b0": np.array([0.0, 1.0, -1.0]), "W1": W2,
                                   "b1": np.array([2.0])}, [2])
    agrees(path, [2])
    assert onnxfmt.load(path).layers[0].weight == tuple(tuple(F(v) for v in row) for row in W)


@pytest.mark.parametrize("pattern", ["x@W", "W@x", "x@v", "v@x", "col"])
def test_matmul_shapes(tmp_path: Path, pattern: str) -> None:
    shapes = {"x@W": [1, 2], "W@x": [2, 1], "x@v": [2], "v@x": [2], "col": [2, 1]}
    inits = {"x@W": {"C": W.T}, "W@x": {"C": W}, "x@v": {"C": np.array([0.5, -2.0])},
             "v@x": {"C": np.array([0.5, -2.0])}, "col": {"C": np.array([[1.5]])}}[pattern]
    data_first = pattern in ("x@W", "x@v")
    if pattern == "col":  # (2, 1) @ (1, 1)
        data_first = True
    mm = node("MatMul", ["x", "C"] if data_first else ["C", "x"], ["y"], "mm")
    agrees(model(tmp_path, [mm], inits, shapes[pattern]), shapes[pattern])


@pytest.mark.parametrize("trans_a, trans_b, with_c", [(0, 0, True), (0, 1, True), (1, 0, False), (1, 1, True)])
def test_gemm_every_attribute(tmp_path: Path, trans_a: int, trans_b: int, with_c: bool) -> None:
    shape = [2, 1] if trans_a else [1, 2]
    b = W if trans_b else W.T
    nodes = [node("Gemm", ["x", "B", "C"] if with_c else ["x", "B"], ["y"], "fc",
                  alpha=0.5, beta=-2.0, transA=trans_a, transB=trans_b)]
    agrees(model(tmp_path, nodes, {"B": b, "C": np.array([[1.0, 0.25, -0.5]])}, shape), shape)


def test_gemm_with_the_data_as_operand_b(tmp_path: Path) -> None:
    nodes = [node("Gemm", ["A", "x"], ["y"], "fc", alpha=2.0)]
    agrees(model(tmp_path, nodes, {"A": W}, [2, 1]), [2, 1])


@pytest.mark.parametrize("op, first", [("Add", True), ("Add", False), ("Sub", True), ("Sub", False),
                                       ("Mul", True), ("Mul", False), ("Div", True)])
def test_elementwise_by_constants_with_broadcasting(tmp_path: Path, op: str, first: bool) -> None:
    c = np.array([[0.5, -4.0]]) if op != "Add" else np.array(0.75)  # a row, or a scalar
    nodes = [node(op, ["x", "c"] if first else ["c", "x"], ["e"], "elt"), node("MatMul", ["e", "W"], ["y"])]
    agrees(model(tmp_path, nodes, {"c": c, "W": W.T}, [2]), [2])


def test_division_is_by_the_exact_reciprocal_and_constants_are_exact(tmp_path: Path) -> None:
    nodes = [node("Div", ["x", "three"], ["d"]), node("Mul", ["d", "tenth"], ["y"])]
    path = model(tmp_path, nodes, {"three": np.array([3.0, 3.0]), "tenth": np.array(0.1)}, [2])
    net = onnxfmt.load(path)
    tenth = F(0.1)  # the float64 nearest 1/10, exactly
    assert tenth != F(1, 10)
    assert net.layers[0].weight == ((tenth / 3, 0), (0, tenth / 3))
    assert net.evaluate([3, -6]) == (tenth, -2 * tenth)


def test_division_by_zero_and_by_the_data_are_refused(tmp_path: Path) -> None:
    nodes = [node("Div", ["x", "c"], ["y"], "norm")]
    with pytest.raises(NetworkFormatError, match=r"node 'norm': Div by constant 'c' divides entry 1 by zero"):
        onnxfmt.load(model(tmp_path, nodes, {"c": np.array([2.0, 0.0])}, [2]))
    nodes = [node("Div", ["c", "x"], ["y"], "inv")]
    with pytest.raises(NetworkFormatError, match=r"node 'inv': Div by the data is not affine"):
        onnxfmt.load(model(tmp_path, nodes, {"c": np.array([2.0, 1.0])}, [2]))


def test_constant_nodes_and_folding_of_constant_chains(tmp_path: Path) -> None:
    # the weight is computed from constants: (W0 * 2 - 1) / 4, then reshaped and transposed by Gemm
    w0 = helper.make_tensor("w0", DOUBLE, [6], (W.reshape(-1) + 1).tolist())
    nodes = [node("Constant", [], ["w0"], "k", value=w0), node("Mul", ["w0", "two"], ["w1"]),
             node("Sub", ["w1", "one"], ["w2"]), node("Div", ["w2", "four"], ["w3"]),
             node("Reshape", ["w3", "shape"], ["w4"]), node("Relu", ["w4"], ["w5"]),
             node("Gemm", ["x", "w5"], ["y"], "fc", transB=1)]
    inits = {"two": np.array(2.0), "one": np.array(1.0), "four": np.array(4.0),
             "shape": np.array([3, 2], dtype=np.int64)}
    path = model(tmp_path, nodes, inits, [1, 2])
    agrees(path, [1, 2])
    expected = np.maximum(((W + 1) * 2 - 1) / 4, 0)
    assert onnxfmt.load(path).layers[0].weight == tuple(tuple(F(v) for v in row) for row in expected)


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_unsqueeze_reshape_identity(tmp_path: Path, opset: int) -> None:
    axes = {"axes": [0]} if opset == 11 else {}
    ax_in = [] if opset == 11 else ["ax"]
    nodes = [node("Unsqueeze", ["x"] + ax_in, ["u"], **axes), node("Identity", ["u"], ["i"]),
             node("Squeeze", ["i"] + ax_in, ["s"], **axes), node("Reshape", ["s", "shape"], ["r"]),
             node("MatMul", ["r", "W"], ["z"]), node("Relu", ["z"], ["a"]), node("Squeeze", ["a"], ["y"])]
    inits = {"shape": np.array([1, -1], dtype=np.int64), "W": W.T}
    if opset == 13:
        inits["ax"] = np.array([0], dtype=np.int64)
    path = model(tmp_path, nodes, inits, [2], opset=opset)
    agrees(path, [2])
    assert onnxfmt.load(path).widths == (2, 3, 3)


@pytest.mark.parametrize("nodes, inits, message", [
    ([("Sigmoid", ["x"], ["y"], "act")], {}, r"node 'act' has op type Sigmoid, which exactrelu does not support"),
    ([("Mul", ["x", "x"], ["y"], "sq")], {}, r"node 'sq': has 2 computed operands"),
    ([("Add", ["x", "c"], ["y"], "wide")], {"c": np.zeros((3, 2))},
     r"node 'wide': constant 'c' of shape \[3, 2\] does not broadcast onto the data of shape \[2\]"),
    ([("MatMul", ["x", "c"], ["y"], "b3")], {"c": np.zeros((1, 2, 2))}, r"MatMul with a constant of rank 3"),
    ([("Squeeze", ["x", "ax"], ["y"], "sq")], {"ax": np.array([0], dtype=np.int64)},
     r"node 'sq': Squeeze of axes \[0\] of shape \[2\], which are not all 1"),
    ([("Squeeze", ["x", "ax"], ["y"], "sq")], {"ax": np.array([3], dtype=np.int64)}, r"out of range"),
    ([("Reshape", ["x", "s"], ["y"], "rs")], {"s": np.array([0.5])}, r"the Reshape shape must be integers"),
    ([("Flatten", ["x"], ["y"], "fl")], {}, r"contains no affine layer"),
    ([("Gemm", ["c", "d", "x"], ["y"], "g")], {"c": np.ones((1, 2)), "d": np.ones((2, 2))},
     r"Gemm with the data as operand C"),
    ([("Gemm", ["x", "c"], ["y"], "g")], {"c": np.ones((2, 3))}, r"Gemm operand A must be 2-D"),
    ([("Div", ["c", "z"], ["d"], "k"), ("Add", ["x", "d"], ["y"], "a")], {"c": np.ones(2), "z": np.zeros(2)},
     r"node 'k': Div by constant 'z' divides by zero"),
    ([("Unsqueeze", ["x"], ["y"], "u")], {}, r"Unsqueeze needs axes"),
    ([("Flatten", ["x"], ["f"], "fl"), ("Gemm", ["f", ""], ["y"], "g")], {},
     r"node 'g': operand B '' must be 2-D, got no operand"),
    ([("Relu", [""], ["r"], "r"), ("Add", ["x", "r"], ["y"], "a")], {}, r"node 'r': Relu has no first operand"),
])
def test_refusals_name_the_node(tmp_path: Path, nodes: list, inits: dict, message: str) -> None:
    built = [node(op, ins, outs, name) for op, ins, outs, name in nodes]
    with pytest.raises(NetworkFormatError, match=message):
        onnxfmt.load(model(tmp_path, built, inits, [2]))


def test_non_vector_input_and_unknown_dimensions_are_refused(tmp_path: Path) -> None:
    nodes = [node("Relu", ["x"], ["y"])]
    with pytest.raises(NetworkFormatError, match=r"graph input 'x' has shape \[2, 2\], which is not a vector"):
        onnxfmt.load(model(tmp_path, nodes, {}, [2, 2]))
    with pytest.raises(NetworkFormatError, match=r"unknown dimension other than the batch one"):
        onnxfmt.load(model(tmp_path, nodes, {}, ["batch", "n"]))
    nodes = [node("MatMul", ["x", "W"], ["y"])]
    net = onnxfmt.load(model(tmp_path, nodes, {"W": W.T}, ["batch", 2]))  # symbolic batch dimension
    assert net.input_dim == 2


# ============================================================================ NNet coordinates

NNET = """// a 2-3-1 network with normalisation
2,2,1,3,
2,3,1,
0,
-10.0,0.0,
10.0,400.0,
1.0,100.0,7.5,
4.0,200.0,3.0,
0.5,-1.25,
0.1,2.0,
-0.3,0.7,
0.25,
-0.5,
0.0,
1.5,-2.0,0.3,
0.125,
"""


def test_nnet_normalized_equals_onnx_with_sub_div_normalisation(tmp_path: Path) -> None:
    path = tmp_path / "n.nnet"
    path.write_text(NNET)
    normalized, box = nnet.load(path, normalized=True)
    raw, raw_box = nnet.load(path)
    f = nnet.read(path)
    # N itself: the file's weights, exactly as written (decimals)
    assert normalized.layers[0].weight[1] == (F(1, 10), F(2))
    assert box == ((F(-11, 4), F(-1, 2)), (F(9, 4), F(3, 2))) and raw_box == ((-10, 0), (10, 400))
    # the raw network is the normalised one between normalisation and de-normalisation, exactly
    for x in ([F(1, 3), F(50)], [F(-10), F(400)], [F(0), F(0)]):
        (y,) = normalized.evaluate(f.normalize(x))
        assert raw.evaluate(x) == (y * 3 + F(15, 2),)
        assert f.denormalize(f.normalize(x)) == tuple(x)
    # an ONNX graph of the same network with Sub/Div input normalisation nodes
    nodes = [node("Sub", ["x", "mean"], ["s"], "input_Sub"), node("Div", ["s", "range"], ["d"], "input_Div"),
             node("Gemm", ["d", "W0", "b0"], ["z0"], "fc0", transB=1), node("Relu", ["z0"], ["a0"]),
             node("Gemm", ["a0", "W1", "b1"], ["y"], "fc1", transB=1)]
    w0 = np.array([[0.5, -1.25], [0.1, 2.0], [-0.3, 0.7]])
    inits = {"mean": np.array([[1.0, 100.0]]), "range": np.array([[4.0, 200.0]]), "W0": w0,
             "b0": np.array([0.25, -0.5, 0.0]), "W1": np.array([[1.5, -2.0, 0.3]]), "b1": np.array([0.125])}
    onnx_net = onnxfmt.load(model(tmp_path, nodes, inits, [1, 2]))
    # the ONNX file holds float64 weights: the NNet weights rounded to float64, entry by entry
    rounded = nnet.NNetFile(tuple(type(layer)(tuple(tuple(F(float(w)) for w in row) for row in layer.weight),
                                              tuple(F(float(b)) for b in layer.bias)) for layer in f.layers),
                            f.mins, f.maxes, f.means, f.ranges)
    for x in ([F(1, 3), F(50)], [F(-10), F(400)], [F(7), F(-1, 9)]):
        assert onnx_net.evaluate(x) == rounded.network(normalized=True).evaluate(f.normalize(x))
    # and a box in normalised coordinates maps to the raw-unit box, consistently with the loaders
    norm_box = Domain.box(*box)
    raw_from_norm = Domain.box(f.denormalize(norm_box.lower), f.denormalize(norm_box.upper))
    assert (raw_from_norm.lower, raw_from_norm.upper) == raw_box


def test_load_model_option_and_bounds_warning(tmp_path: Path) -> None:
    path = tmp_path / "n.nnet"
    path.write_text(NNET)
    raw = load_model(path)
    normalized = load_model(path, nnet_normalized=True)
    assert raw.coordinates == "raw" and normalized.coordinates == "normalized"
    assert normalized.default_box == nnet.load(path, normalized=True)[1]
    # a normalised-coordinates box handed to the raw-unit model: warned about, naming both boxes
    d = Domain.box(["-1/2", "-1/2"], ["1/2", "1/2"])
    assert bounds_warning(d, *normalized.default_box, str(path)) is None
    message = bounds_warning(d, *raw.default_box, str(path))
    assert message == (f"the domain [-1/2, 1/2] x [-1/2, 1/2] is not inside the input bounds "
                       f"[-10, 10] x [0, 400] stated by {path}")
    # polytopes are decided exactly by linear programs; R^n is never inside a box
    tri = Domain.polytope([[1, 1], [-1, 0], [0, -1]], [10, 0, 0])      # x, y >= 0, x + y <= 10
    assert bounds_warning(tri, *raw.default_box, "f") is None
    assert bounds_warning(Domain.polytope([[1, 1], [-1, 0], [0, -1]], [11, 0, 0]), *raw.default_box, "f")
    assert bounds_warning(Domain.polytope([[-1, 0], [0, -1]], [0, 0]), *raw.default_box, "f")
    assert bounds_warning(Domain.reals(2), *raw.default_box, "f")


def test_commands_warn_of_a_domain_outside_the_nnet_bounds(tmp_path: Path, capsys) -> None:
    """A box written in normalised coordinates given for the raw-unit .nnet load gets a warning that
    names both boxes (and the option); in normalised coordinates the same box is inside, no warning."""
    from exactrelu.commands import main

    path = tmp_path / "n.nnet"
    path.write_text(NNET)
    box = "--box=-1/2:1/2,-1/2:1/2"  # inside the normalised bounds, outside the raw bounds [-10,10] x [0,400]
    assert main(["regions", str(path), box]) == 0
    err = capsys.readouterr().err
    assert "warning: the domain [-1/2, 1/2] x [-1/2, 1/2] is not inside the input bounds [-10, 10] x [0, 400]" in err
    assert "--nnet-normalized" in err
    assert main(["regions", str(path), box, "--nnet-normalized"]) == 0
    assert "warning" not in capsys.readouterr().err
    prop = tmp_path / "p.vnnlib"
    prop.write_text("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
                    "(assert (<= X_0 0.5))\n(assert (>= X_0 -0.5))\n(assert (<= X_1 0.5))\n(assert (>= X_1 -0.5))\n"
                    "(assert (>= Y_0 1000))\n")
    main(["verify", str(path), str(prop), "--max-regions", "50"])
    err = capsys.readouterr().err
    assert "warning: input set 0: the domain [-1/2, 1/2] x [-1/2, 1/2] is not inside" in err
    main(["verify", str(path), str(prop), "--nnet-normalized", "--max-regions", "50"])
    assert "warning" not in capsys.readouterr().err


def test_check_reads_a_bound_nnet_file_in_the_coordinates_asked_for(tmp_path: Path, capsys) -> None:
    """A certificate about the normalised network of an .nnet file verifies against that file only
    when ``check --nnet-normalized`` reads it in the same coordinates."""
    from exactrelu.commands import main

    path = tmp_path / "n.nnet"
    path.write_text(NNET)
    assert main(["shallow", str(path), "--nnet-normalized", "-o", str(tmp_path / "s.json"), "--quiet"]) == 0
    capsys.readouterr()
    cert = str(tmp_path / "s.cert.json")
    assert main(["check", cert, "--model", str(path)]) == 1
    assert "another network" in capsys.readouterr().err
    assert main(["check", cert, "--model", str(path), "--nnet-normalized"]) == 0
    assert capsys.readouterr().out == "s VERIFIED\n"
