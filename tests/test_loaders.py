"""Loaders and writers of the NPZ, ONNX, PyTorch and NNet formats: exact round trips, exact
float conversion, exact folding, and every refusal with its message."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exactrelu.errors import DomainError, InputError, NetworkFormatError
from exactrelu.io import load_model
from exactrelu.io import nnet, npz, onnxfmt, torchfmt
from exactrelu.network import ReluNetwork

# Every entry is a float64 and a finite decimal, so every writer can hold it.
NET = ReluNetwork.from_lists(
    [
        ([["1/2", "-3/4"], ["5", "0.125"], ["-1", "3"]], ["1/4", "-2", "0"]),
        ([["1", "-1/8", "2"]], ["3/2"]),
    ]
)
THIRD = ReluNetwork.from_lists([([["1/3"]], [0]), ([[1]], [0])])
F32_TENTH = Fraction(13421773, 134217728)  # the float32 nearest to 0.1, exactly


def layers_of(net: ReluNetwork) -> list:
    return net.to_dict()["layers"]


# ============================================================================ load_model
def test_unknown_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_text("x")
    supported = r"supported: \.json, \.nnet, \.npz, \.onnx, \.pt, \.pth"
    with pytest.raises(InputError, match=rf"unknown file extension '\.h5'; {supported}"):
        load_model(path)


def test_load_model_prefixes_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, W0=np.array([[1.0, np.nan]]), b0=np.zeros(1))
    with pytest.raises(NetworkFormatError) as info:
        load_model(path)
    assert str(info.value) == f"{path}: layer 0 weight[0][1]: nan is not a finite number"


# ============================================================================ NPZ
def test_npz_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "net.npz"
    npz.save(NET, path)
    assert npz.load(path) == NET
    loaded = load_model(path)
    assert loaded.format == "npz" and loaded.network.to_dict() == NET.to_dict()


def test_npz_float32_is_converted_exactly(tmp_path: Path) -> None:
    path = tmp_path / "f32.npz"
    np.savez(path, W0=np.array([[0.1, -2.5]], dtype=np.float32), b0=np.array([0.1], dtype=np.float16))
    net = npz.load(path)
    assert net.layers[0].weight == ((F32_TENTH, Fraction(-5, 2)),)
    assert net.layers[0].bias == (Fraction(819, 8192),)  # the float16 nearest to 0.1


def test_npz_integer_arrays(tmp_path: Path) -> None:
    path = tmp_path / "int.npz"
    np.savez(path, W0=np.array([[1, -2]], dtype=np.int64), b0=np.array([3], dtype=np.uint8),
             W1=np.array([[2]], dtype=np.int8), b1=np.array([0], dtype=np.int32))
    assert npz.load(path) == ReluNetwork.from_lists([([[1, -2]], [3]), ([[2]], [0])])


def test_npz_save_refuses_non_float64(tmp_path: Path) -> None:
    path = tmp_path / "third.npz"
    message = r"NPZ cannot hold the exact network: layer 0 weight\[0\]\[0\] = 1/3 .*JSON"
    with pytest.raises(NetworkFormatError, match=message):
        npz.save(THIRD, path)
    assert not path.exists()


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"W0": [[1.0]], "b0": [0.0], "W1": [[1.0]]}, r"W1 has no bias b1"),
        ({"W0": [[1.0]], "b0": [0.0], "b1": [0.0]}, r"b1 has no weight W1"),
        ({"W0": [[1.0]], "b0": [0.0], "W2": [[1.0]], "b2": [0.0]}, r"without gaps; W1/b1 is missing"),
        ({"W0": [[1.0]], "b0": [0.0], "extra": [1], "W01": [[1]]}, r"unknown arrays 'W01', 'extra'"),
        ({"W0": [1.0], "b0": [0.0]}, r"W0 must be 2-D \(out x in\), got shape \(1,\)"),
        ({"W0": [[1.0]], "b0": [[0.0]]}, r"b0 must be 1-D, got shape \(1, 1\)"),
        ({"W0": np.zeros((1, 0)), "b0": [0.0]}, r"W0 has shape \(1, 0\)"),
        ({"W0": [[True]], "b0": [0.0]}, r"W0: has dtype bool"),
        ({"W0": [[1.0]], "b0": [0.0], "W1": [[1.0, 2.0, np.nan]], "b1": [0.0]},
         r"layer 1 weight\[0\]\[2\]: nan is not a finite number"),
        ({"W0": [[1.0]], "b0": [np.inf]}, r"layer 0 bias\[0\]: inf is not a finite number"),
        ({"W0": [[1.0, 2.0]], "b0": [0.0, 1.0]}, r"layer 0: weight has 1 rows but bias has 2 entries"),
        ({}, r"holds no arrays"),
    ],
)
def test_npz_refusals(tmp_path: Path, arrays: dict, message: str) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: np.asarray(v) for k, v in arrays.items()})
    with pytest.raises(NetworkFormatError, match=message):
        npz.load(path)


def test_npz_refuses_object_arrays(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, W0=np.array([[Fraction(1, 3)]], dtype=object), b0=np.zeros(1))
    with pytest.raises(NetworkFormatError, match=r"array 'W0': is an object array"):
        npz.load(path)


def test_npz_refuses_damaged_files(tmp_path: Path) -> None:
    good = tmp_path / "good.npz"
    npz.save(NET, good)
    cases = {
        "empty.npz": b"",
        "truncated.npz": good.read_bytes()[: good.stat().st_size // 2],
        "text.npz": b"W0 = [[1, 2]]\n",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(NetworkFormatError, match=r"empty file"):
        npz.load(tmp_path / "empty.npz")
    for name in ("truncated.npz", "text.npz"):
        with pytest.raises(NetworkFormatError, match=r"not a valid \.npz archive"):
            npz.load(tmp_path / name)
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.zeros(2))
    with pytest.raises(NetworkFormatError, match=r"single \.npy array"):
        npz.load(single)


# ============================================================================ NNet
FOLDED = """\
// a 2-2-1 network with non-trivial normalisation
// second comment line
2,2,1,2,
2,2,1,
0,
-1,0,
1,4,
0.5,1,10,
2,0.25,3,
1,0,
0,1,
0.1,
-0.2,
1,-1,
0.5,
"""


def test_nnet_folds_normalisation_exactly(tmp_path: Path) -> None:
    path = tmp_path / "folded.nnet"
    path.write_text(FOLDED)
    net, (lows, highs) = nnet.load(path)
    assert (lows, highs) == ((-1, 0), (1, 4))
    # x = (3/2, 2) normalises to ((3/2 - 1/2)/2, (2 - 1)/(1/4)) = (1/2, 4); the hidden layer gives
    # (1/2 + 1/10, 4 - 2/10) = (3/5, 19/5); the output layer 3/5 - 19/5 + 1/2 = -27/10; de-normalised
    # 3 * (-27/10) + 10 = 19/10.
    assert net.evaluate(["3/2", 2]) == (Fraction(19, 10),)
    # x = (-1, 0) normalises to (-3/4, -4): both neurons are off, output 3 * (1/2) + 10.
    assert net.evaluate([-1, 0]) == (Fraction(23, 2),)
    assert net.layers[0].weight == ((Fraction(1, 2), 0), (0, 4))
    assert net.layers[0].bias == (Fraction(1, 10) - Fraction(1, 4), Fraction(-2, 10) - 4)


def test_nnet_round_trip_and_load_model(tmp_path: Path) -> None:
    path = tmp_path / "net.nnet"
    nnet.save(NET, path, ["-1/2", 0], [1, "2.5"])
    net, box = nnet.load(path)
    assert layers_of(net) == layers_of(NET)
    assert box == ((Fraction(-1, 2), 0), (1, Fraction(5, 2)))
    loaded = load_model(path)
    assert loaded.format == "nnet" and loaded.default_box == box and loaded.network == NET


def test_nnet_save_refuses_non_decimal(tmp_path: Path) -> None:
    with pytest.raises(NetworkFormatError, match=r"NNet cannot hold the exact network: layer 0 weight\[0\]\[0\] = 1/3"):
        nnet.save(THIRD, tmp_path / "third.nnet", [0], [1])
    with pytest.raises(NetworkFormatError, match=r"lows entry 1 = 1/3"):
        nnet.save(NET, tmp_path / "box.nnet", ["1/3", 0], [1, 1])
    with pytest.raises(DomainError, match=r"highs: has 1 entries, the network has 2 inputs"):
        nnet.save(NET, tmp_path / "box.nnet", [0, 0], [1])


def test_format_decimal() -> None:
    assert nnet.format_decimal(Fraction(-3, 8), "w") == "-0.375"
    assert nnet.format_decimal(Fraction(7), "w") == "7"
    assert nnet.format_decimal(Fraction(1, 2**60), "w").startswith("0.000000000000000000867")
    assert Fraction(nnet.format_decimal(Fraction(-5, 2**60), "w")) == Fraction(-5, 2**60)


def _replace_line(text: str, number: int, new: str | None) -> str:
    lines = text.splitlines()
    if new is None:
        del lines[number - 1:]
    else:
        lines[number - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line", "new", "message"),
    [
        (15, None, r"truncated file: it ends at line 14, before the layer 1 bias 0"),
        (3, None, r"truncated file: it ends at line 2, before the header"),
        (11, "0,1,2,", r"line 11 \(layer 0 weight row 1\): has 3 values, expected 2"),
        (12, "abc,", r"line 12 \(layer 0 bias 0\) value 1: 'abc' is not a rational number"),
        (3, "2,2,1", r"line 3 \(header.*\): has 3 values, expected 4"),
        (3, "2,x,1,2,", r"line 3 \(header.*\) value 2: 'x' is not a positive integer"),
        (4, "3,2,1,", r"layer sizes \[3, 2, 1\] must start with the input size 2"),
        (6, "-1,5,", r"input 2: minimum 5 exceeds maximum 4"),
        (9, "2,0,3,", r"ranges: input 2 has range 0"),
        (9, "2,1/4,0", r"ranges: the output has range 0"),
    ],
)
def test_nnet_refusals(tmp_path: Path, line: int, new: str | None, message: str) -> None:
    path = tmp_path / "bad.nnet"
    path.write_text(_replace_line(FOLDED, line, new))
    with pytest.raises(NetworkFormatError, match=message):
        nnet.load(path)


def test_nnet_refuses_trailing_content_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.nnet"
    path.write_text(FOLDED + "\n7,\n")
    with pytest.raises(NetworkFormatError, match=r"line 17: unexpected content after the last bias"):
        nnet.load(path)
    path.write_text("// only a comment\n\n")
    with pytest.raises(NetworkFormatError, match=r"empty file|truncated file"):
        nnet.load(path)
    path.write_text("")
    with pytest.raises(NetworkFormatError, match=r"empty file"):
        nnet.load(path)


# ============================================================================ ONNX
def _onnx_file(tmp_path: Path, nodes: list, initializers: dict, in_shape: list | None = None,
               inputs: tuple[str, ...] = ("x",), output: str = "y") -> Path:
    onnx = pytest.importorskip("onnx")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    float_type = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(name, float_type, in_shape or [1, 2]) for name in inputs],
        [helper.make_tensor_value_info(output, float_type, None)],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def _node(op: str, inputs: list[str], outputs: list[str], name: str = "", **attrs: object) -> object:
    onnx = pytest.importorskip("onnx")
    return onnx.helper.make_node(op, inputs, outputs, name=name, **attrs)


@pytest.mark.parametrize("module, package, suffix, name", [(onnxfmt, "onnx", ".onnx", "ONNX"),
                                                       (torchfmt, "torch", ".pt", "PyTorch")])
def test_onnx_and_torch_round_trip(module, package: str, suffix: str, name: str, tmp_path: Path) -> None:
    pytest.importorskip(package)
    path = tmp_path / f"net{suffix}"
    module.save(NET, path)
    assert module.load(path) == NET
    assert load_model(path).network.to_dict() == NET.to_dict()
    with pytest.raises(NetworkFormatError, match=f"{name} cannot hold the exact network"):
        module.save(THIRD, tmp_path / f"third{suffix}")


def test_onnx_gemm_attributes(tmp_path: Path) -> None:
    f32 = np.float32
    nodes = [
        _node("Gemm", ["x", "B0", "C0"], ["z0"], "fc0", alpha=0.5, beta=2.0, transB=0),
        _node("Relu", ["z0"], ["a0"], "act0"),
        _node("Gemm", ["a0", "B1"], ["y"], "fc1", alpha=0.1, transB=1),
    ]
    inits = {
        "B0": np.array([[1, 2], [3, 4]], dtype=f32),  # in x out, since transB=0
        "C0": np.array([1, -1], dtype=f32),
        "B1": np.array([[1, 1]], dtype=f32),  # out x in, since transB=1
    }
    net = onnxfmt.load(_onnx_file(tmp_path, nodes, inits))
    half = Fraction(1, 2)
    assert net.layers[0].weight == ((half, 3 * half), (1, 2))
    assert net.layers[0].bias == (2, -2)
    # alpha is a float32 attribute: 0.1 means the float32 nearest to 0.1, exactly.
    assert net.layers[1].weight == ((F32_TENTH, F32_TENTH),)
    assert net.layers[1].bias == (0,)


def test_onnx_gemm_scalar_bias_and_transa_refused(tmp_path: Path) -> None:
    nodes = [_node("Gemm", ["x", "B", "C"], ["y"], "fc", transB=1)]
    inits = {"B": np.array([[1.0, 2.0], [3.0, 4.0]]), "C": np.array(0.25)}
    assert onnxfmt.load(_onnx_file(tmp_path, nodes, inits)).layers[0].bias == (Fraction(1, 4),) * 2
    nodes = [_node("Gemm", ["x", "B", "C"], ["y"], "fc", transA=1)]
    with pytest.raises(NetworkFormatError, match=r"node 'fc': Gemm \(after transposition\) of shapes \[2, 1\] and \[2, 2\]"):
        onnxfmt.load(_onnx_file(tmp_path, nodes, inits))
    inits["C"] = np.zeros((2, 2))
    nodes = [_node("Gemm", ["x", "B", "C"], ["y"], "fc")]
    with pytest.raises(NetworkFormatError, match=r"operand C 'C' has shape \(2, 2\)"):
        onnxfmt.load(_onnx_file(tmp_path, nodes, inits))


def test_onnx_matmul_add_either_order(tmp_path: Path) -> None:
    nodes = [
        _node("MatMul", ["x", "W0"], ["m0"], "mm0"),
        _node("Add", ["b0", "m0"], ["z0"], "add0"),
        _node("Relu", ["z0"], ["a0"]),
        _node("MatMul", ["a0", "W1"], ["m1"]),
        _node("Add", ["m1", "b1"], ["y"]),
    ]
    inits = {
        "W0": np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]),  # in x out
        "b0": np.array([0.0, -1.0, 2.0]),
        "W1": np.array([[1.0], [-1.0], [0.25]]),
        "b1": np.array([[3.0]]),
    }
    net = onnxfmt.load(_onnx_file(tmp_path, nodes, inits))
    expected = ReluNetwork.from_lists(
        [([[1, 2], [0, 1], [-1, "1/2"]], [0, -1, 2]), ([[1, -1, "1/4"]], [3])]
    )
    assert net == expected


def test_onnx_flatten_identity_reshape_constant(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    shape3 = onnx.helper.make_tensor("s3", onnx.TensorProto.INT64, [1], [3])
    nodes = [
        _node("Flatten", ["x"], ["f"], "flat"),
        _node("Reshape", ["f", "s12"], ["r0"], "reshape0"),
        _node("Gemm", ["r0", "B0", "C0"], ["z0"], "fc0", transB=1),
        _node("Identity", ["z0"], ["i0"], "id"),
        _node("Relu", ["i0"], ["a0"], "act"),
        _node("Reshape", ["a0", "sm13"], ["r1"], "reshape1"),
        _node("Constant", [], ["s3"], "shape_const", value=shape3),
        _node("Reshape", ["r1", "s3"], ["r2"], "reshape2"),
        _node("Reshape", ["r2", "s1m"], ["r3"], "reshape3"),
        _node("Gemm", ["r3", "B1"], ["y"], "fc1", transB=1),
    ]
    inits = {
        "s12": np.array([1, 2], dtype=np.int64),
        "sm13": np.array([-1, 3], dtype=np.int64),
        "s1m": np.array([1, -1], dtype=np.int64),
        "B0": np.array([[1.0, 1.0], [1.0, -1.0], [0.0, 2.0]]),
        "C0": np.array([0.0, 1.0, -1.0]),
        "B1": np.array([[1.0, 2.0, 3.0]]),
    }
    net = onnxfmt.load(_onnx_file(tmp_path, nodes, inits, in_shape=[1, 1, 2]))
    assert net == ReluNetwork.from_lists([([[1, 1], [1, -1], [0, 2]], [0, 1, -1]), ([[1, 2, 3]], [0])])


def test_onnx_consecutive_affine_ops_are_composed_exactly(tmp_path: Path) -> None:
    nodes = [
        _node("Gemm", ["x", "B0", "C0"], ["z0"], "fc0", transB=1),
        _node("Gemm", ["z0", "B1", "C1"], ["z1"], "fc1", transB=1),
        _node("Relu", ["z1"], ["a1"], "act"),
        _node("Relu", ["a1"], ["a2"], "act_again"),
        _node("Gemm", ["a2", "B2"], ["z2"], "fc2", transB=1),
        _node("Relu", ["z2"], ["y"], "final_act"),
    ]
    inits = {
        "B0": np.array([[0.1, 1.0], [0.0, 2.0]], dtype=np.float32),
        "C0": np.array([1.0, 0.5], dtype=np.float32),
        "B1": np.array([[3.0, -1.0]], dtype=np.float32),
        "C1": np.array([0.25], dtype=np.float32),
        "B2": np.array([[-1.0]], dtype=np.float32),
    }
    net = onnxfmt.load(_onnx_file(tmp_path, nodes, inits))
    # fc1(fc0(x)) = [3 t, 3 - 2] x + (3 - 1/2 + 1/4) with t the float32 0.1; the final Relu
    # becomes an identity layer after a ReLU, so the network is relu(-relu(z)) with identity.
    assert len(net.layers) == 3
    assert net.layers[0].weight == ((3 * F32_TENTH, Fraction(1)),)
    assert net.layers[0].bias == (Fraction(11, 4),)
    assert net.layers[1].weight == ((-1,),) and net.layers[1].bias == (0,)
    assert net.layers[2].weight == ((1,),) and net.layers[2].bias == (0,)
    assert net.evaluate([0, -4]) == (0,)


def test_onnx_leading_relu_and_float16(tmp_path: Path) -> None:
    nodes = [_node("Relu", ["x"], ["a"], "act"), _node("MatMul", ["a", "W"], ["y"], "mm")]
    inits = {"W": np.array([[0.1], [1.0]], dtype=np.float16)}
    net = onnxfmt.load(_onnx_file(tmp_path, nodes, inits))
    assert net.layers[0].weight == ((1, 0), (0, 1))
    assert net.layers[1].weight == ((Fraction(819, 8192), 1),)
    assert net.evaluate([-5, 2]) == (2,)


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ([("Gemm", ["x", "B"], ["h"], "fc"), ("Sigmoid", ["h"], ["y"], "act1")],
         r"node 'act1' has op type Sigmoid, which exactrelu does not support "
         r"\(supported: Gemm, MatMul, Add, Sub, Mul, Div, Relu, Identity, Flatten, Reshape, Squeeze, Unsqueeze, Constant\)"),
        ([("Gemm", ["x", "B"], ["h"], "fc"), ("Tanh", ["h"], ["y"], "")],
         r"node #1 \(Tanh\) has op type Tanh"),
        ([("Gemm", ["x", "B"], ["h"], "fc"), ("LeakyRelu", ["h"], ["y"], "lrelu")],
         r"node 'lrelu' has op type LeakyRelu"),
        ([("Reshape", ["x", "bad_shape"], ["y"], "rs")],
         r"node 'rs': Reshape to \[3\] does not fit data of shape \[1, 2\]"),
        ([("MatMul", ["B", "x"], ["y"], "mm")],
         r"node 'mm': its result has shape \[2, 2\], which is not a vector"),
        ([("Gemm", ["x", "B"], ["h"], "fc"), ("Relu", ["h"], ["y"], "r1"), ("Relu", ["h"], ["y2"], "r2")],
         r"tensor 'h' is used by 2 nodes \(node 'r1', node 'r2'\)"),
        ([("Gemm", ["x", "B"], ["h"], "fc"), ("Relu", ["x"], ["y"], "r1")],
         r"tensor 'x' is used by 2 nodes"),
        ([("Gemm", ["x", "B"], ["h"], "fc"), ("Add", ["h", "h"], ["y"], "twice")],
         r"node 'twice': has 2 computed operands"),
        ([("Gemm", ["x", "B"], ["y"], "fc"), ("Relu", ["y"], ["z"], "after")],
         r"node 'after' is not on the path from the graph input to the graph output"),
        ([("Gemm", ["x", "B"], ["h"], "fc")],
         r"tensor 'h' is used by no node and is not the graph output 'y'"),
        ([("Gemm", ["x", "Bnan"], ["y"], "fc")],
         r"initializer 'Bnan'\[1\]\[0\]: nan is not a finite number"),
        ([("Gemm", ["x", "B3"], ["y"], "fc")],
         r"node 'fc': Gemm \(after transposition\) of shapes \[1, 2\] and \[3, 1\] is undefined"),
        ([("Identity", ["x"], ["y"], "id")], r"contains no affine layer"),
        ([("Gemm", ["x"], ["y"], "fc")], r"node 'fc': Gemm has 1 inputs, expected 2 to 3"),
    ],
)
def test_onnx_refusals(tmp_path: Path, nodes: list, message: str) -> None:
    inits = {
        "B": np.array([[1.0], [2.0]], dtype=np.float32),  # in x out
        "Bnan": np.array([[1.0, 2.0], [np.nan, 0.0]], dtype=np.float32),
        "B3": np.ones((3, 1)),
        "bad_shape": np.array([3], dtype=np.int64),
    }
    built = [_node(op, ins, outs, name) for op, ins, outs, name in nodes]
    with pytest.raises(NetworkFormatError, match=message):
        onnxfmt.load(_onnx_file(tmp_path, built, inits))


def test_onnx_refuses_two_inputs_and_bad_files(tmp_path: Path) -> None:
    nodes = [_node("Add", ["x", "x2"], ["y"], "add")]
    with pytest.raises(NetworkFormatError, match=r"the graph has 2 inputs"):
        onnxfmt.load(_onnx_file(tmp_path, nodes, {}, inputs=("x", "x2")))
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"")
    with pytest.raises(NetworkFormatError, match=r"empty file"):
        onnxfmt.load(path)
    path.write_bytes(b"\x00\xffnot a protobuf\xff\xff")
    with pytest.raises(NetworkFormatError, match=r"not a valid ONNX model"):
        onnxfmt.load(path)
    good = tmp_path / "good.onnx"
    onnxfmt.save(NET, good)
    path.write_bytes(good.read_bytes()[:-7])
    with pytest.raises(NetworkFormatError, match=r"not a valid ONNX model"):
        onnxfmt.load(path)


@pytest.mark.parametrize("module, package, suffix", [(onnxfmt, "onnx", ".onnx"), (torchfmt, "torch", ".pt")])
def test_onnx_and_torch_missing_package_is_an_input_error(module, package: str, suffix: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, package, None)
    path = tmp_path / f"m{suffix}"
    path.write_bytes(b"x")
    with pytest.raises(InputError, match=rf"pip install 'exactrelu\[{package}\]'"):
        module.load(path)


# ============================================================================ PyTorch
def test_torch_state_dict_with_prefix_is_exact(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Wrapper(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))

    model = Wrapper()
    with torch.no_grad():
        model.net[0].weight.copy_(torch.tensor([[0.1, 1.0], [-2.0, 0.5]]))
        model.net[0].bias.copy_(torch.tensor([0.0, 0.1]))
        model.net[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.net[2].bias.zero_()
    path = tmp_path / "state.pth"
    torch.save(model.state_dict(), path)
    net = torchfmt.load(path)
    assert net.layers[0].weight == ((F32_TENTH, 1), (-2, Fraction(1, 2)))
    assert net.layers[0].bias == (0, F32_TENTH)
    assert net.layers[1].weight == ((1, -1),)
    assert net == torchfmt.network_from_module(model.net)


def test_torch_state_dict_composes_adjacent_linears(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    state = {
        "0.weight": torch.tensor([[2.0, 0.0]], dtype=torch.float64),
        "1.weight": torch.tensor([[3.0]], dtype=torch.float64),
        "1.bias": torch.tensor([1.0], dtype=torch.float64),
    }
    path = tmp_path / "state.pt"
    torch.save(state, path)
    assert torchfmt.load(path) == ReluNetwork.from_lists([([[6, 0]], [1])])


def test_torch_nested_modules_match_forward(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Sequential(nn.Linear(3, 4, bias=False), nn.Identity(), nn.Linear(4, 4)),
        nn.ReLU(),
        nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.ReLU()),
        nn.Linear(2, 2),
    ).double()
    net = torchfmt.network_from_module(model)
    assert net.widths == (3, 4, 2, 2)
    x = [Fraction(1, 2), Fraction(-3, 4), Fraction(2)]
    exact = net.evaluate(x)
    with torch.no_grad():
        approx = model(torch.tensor([[float(v) for v in x]], dtype=torch.float64))[0].tolist()
    assert np.allclose([float(v) for v in exact], approx, rtol=1e-12, atol=1e-12)
    path = tmp_path / "nested.pt"
    torch.save(model, path)
    with pytest.raises(NetworkFormatError, match=r"unpickling it runs code stored in the file: pass --trust-pickle"):
        torchfmt.load(path)  # a whole model is a full pickle: refused without the opt-in
    assert torchfmt.load(path, trust_pickle=True) == net


def test_torch_refuses_unsupported_modules(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    for act in (nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU()):
        model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), act), nn.Linear(2, 1))
        name = type(act).__name__
        with pytest.raises(NetworkFormatError, match=rf"module '1\.1' \({name}\) is not supported by exactrelu"):
            torchfmt.network_from_module(model)

    class DoublingSequential(nn.Sequential):
        def forward(self, x):  # type: ignore[no-untyped-def]
            return super().forward(x) * 2

    with pytest.raises(NetworkFormatError, match=r"the model \(DoublingSequential\) is not supported"):
        torchfmt.network_from_module(DoublingSequential(nn.Linear(1, 1)))
    path = tmp_path / "sigmoid.pt"
    torch.save(nn.Sigmoid(), path)
    with pytest.raises(NetworkFormatError, match=r"the model \(Sigmoid\) is not supported"):
        torchfmt.load(path, trust_pickle=True)


def test_torch_refuses_bad_state_dicts_and_files(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "bad.pt"
    one = torch.ones((1, 1))
    cases = [
        ({"0.weight": one, "3.weight": one}, r"modules '1' to '2' have no parameters"),
        ({"1.weight": one}, r"the first Linear layer is module '1'"),
        ({"0.weight": one, "1.running_mean": one}, r"state dict key '1.running_mean' is not"),
        ({"a.0.weight": one, "b.2.weight": one}, r"different prefixes \['a', 'b'\]"),
        ({"0.bias": torch.ones(1)}, r"'0.bias' has no weight '0.weight'"),
        ({"0.weight": torch.ones(2)}, r"0.weight: must be 2-D \(out x in\), got shape \(2,\)"),
        ({"0.weight": torch.tensor([[1.0, float("nan")]])}, r"0.weight\[0\]\[1\]: nan is not a finite number"),
        ({"0.weight": one, "2.weight": torch.ones((1, 2))},
         r"module '2' \(Linear\): takes 2 inputs but module '0' \(Linear\) gives 1"),
        ({}, r"the state dict is empty"),
    ]
    for state, message in cases:
        torch.save(state, path)
        with pytest.raises(NetworkFormatError, match=message):
            torchfmt.load(path)
    torch.save([1, 2], path)
    with pytest.raises(NetworkFormatError, match=r"holds a list"):
        torchfmt.load(path)
    path.write_bytes(b"not a torch file")
    with pytest.raises(NetworkFormatError, match=r"not a readable PyTorch file"):
        torchfmt.load(path)
    path.write_bytes(b"")
    with pytest.raises(NetworkFormatError, match=r"empty file"):
        torchfmt.load(path)
