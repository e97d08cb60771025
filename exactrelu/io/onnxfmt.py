"""ONNX multilayer perceptrons: chains of Gemm, MatMul, Add, Relu, Flatten, Reshape and Identity.

Invariant: :func:`load` returns exactly the function the graph computes on one input vector,
read in exact arithmetic: initializers (float16/float32/float64 or integer) and the float
attributes ``alpha``/``beta`` of Gemm are converted exactly, and consecutive affine operators with
no Relu between them are composed exactly into one layer.  Every other operator is refused by
name; nothing is approximated.

The graph must be a chain from its single input to its single output.  Operands other than the
data path must be initializers or outputs of ``Constant`` nodes.  A Relu before the first or after
the last affine operator becomes an identity layer (exact), so the network still ends affine.

The ``onnx`` package is imported only when a file is read or written (``pip install
'exactrelu[onnx]'``).
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import numpy as np

from ..errors import InputError, NetworkFormatError
from ..network import ReluNetwork
from ..rationals import parse_rational
from .layers import Step, exact_array, float64_weights, identity_layer, network_from_steps

__all__ = ["load", "save", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape", "Identity")
# op type -> (fewest, most) inputs
_ARITY = {
    "Gemm": (2, 3),
    "MatMul": (2, 2),
    "Add": (2, 2),
    "Relu": (1, 1),
    "Flatten": (1, 1),
    "Reshape": (2, 2),
    "Identity": (1, 1),
}
_DEFAULT_DOMAINS = ("", "ai.onnx")


def _onnx() -> ModuleType:
    try:
        import onnx
    except ImportError:
        raise InputError(
            "reading or writing ONNX files needs the onnx package; install the extra: pip install 'exactrelu[onnx]'"
        ) from None
    return onnx


def _label(node: Any, index: int) -> str:
    name = node.name
    return f"node {name!r}" if name else f"node #{index} ({node.op_type})"


class _Graph:
    """A graph whose operators are all supported, with its initializers and constants as arrays."""

    def __init__(self, onnx: ModuleType, graph: Any) -> None:
        self.onnx = onnx
        self.graph = graph
        self.constants: dict[str, np.ndarray] = {}
        for tensor in graph.initializer:
            self.constants[tensor.name] = self._to_array(tensor, f"initializer {tensor.name!r}")
        for index, node in enumerate(graph.node):
            if node.domain in _DEFAULT_DOMAINS and node.op_type == "Constant":
                self._add_constant(node, index)
            elif node.domain not in _DEFAULT_DOMAINS or node.op_type not in SUPPORTED_OPS:
                op = f"{node.domain}.{node.op_type}" if node.domain not in _DEFAULT_DOMAINS else node.op_type
                raise NetworkFormatError(
                    f"{_label(node, index)} has op type {op}, which exactrelu does not support "
                    f"(supported: {', '.join(SUPPORTED_OPS)})"
                )

    def _to_array(self, tensor: Any, where: str) -> np.ndarray:
        try:
            return self.onnx.numpy_helper.to_array(tensor)
        except (ValueError, TypeError, KeyError, OSError) as exc:
            raise NetworkFormatError(f"{where}: unreadable tensor ({exc})") from None

    def _add_constant(self, node: Any, index: int) -> None:
        attributes = list(node.attribute)
        if len(attributes) != 1 or len(node.output) != 1:
            raise NetworkFormatError(f"{_label(node, index)}: a Constant needs exactly one value and one output")
        attribute = attributes[0]
        where = f"{_label(node, index)} (Constant)"
        if attribute.name == "value":
            value = self._to_array(attribute.t, where)
        elif attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
            value = np.array(self.onnx.helper.get_attribute_value(attribute))
        else:
            raise NetworkFormatError(f"{where}: attribute {attribute.name!r} is not supported")
        self.constants[node.output[0]] = value

    def constant(self, name: str, label: str, role: str) -> np.ndarray:
        if name not in self.constants:
            raise NetworkFormatError(f"{label}: {role} {name!r} is not an initializer or a constant")
        return self.constants[name]

    def chain(self, start: str, target: str, width: Optional[int]) -> list[Step]:
        """The affine maps and ReLUs met on the way from tensor ``start`` to tensor ``target``.

        ``width`` is the number of entries of ``start`` per example, if known.
        """
        nodes = self.graph.node
        users: dict[str, list[int]] = defaultdict(list)
        for index, node in enumerate(nodes):
            for name in dict.fromkeys(node.input):
                if name and name not in self.constants:
                    users[name].append(index)
        steps: list[Step] = []
        visited: set[int] = set()
        current = start
        while current != target:
            found = users.get(current, [])
            if not found:
                raise NetworkFormatError(
                    f"tensor {current!r} is used by no node and is not the graph output {target!r}"
                )
            if len(found) > 1:
                names = ", ".join(_label(nodes[i], i) for i in found)
                raise NetworkFormatError(
                    f"tensor {current!r} is used by {len(found)} nodes ({names}); "
                    "only chains of operators are supported"
                )
            index = found[0]
            if index in visited:
                raise NetworkFormatError(f"the graph has a cycle through {_label(nodes[index], index)}")
            visited.add(index)
            step, width = self._step(nodes[index], _label(nodes[index], index), current, width)
            if step is not None:
                steps.append(step)
            current = nodes[index].output[0]
        for index, node in enumerate(nodes):
            if index not in visited and node.op_type != "Constant":
                raise NetworkFormatError(
                    f"{_label(node, index)} is not on the path from the graph input to the graph output"
                )
        return steps

    def _step(self, node: Any, label: str, current: str, width: Optional[int]) -> tuple[Optional[Step], Optional[int]]:
        """The step of one node on the data path (``None`` for a no-op) and the width after it."""
        fewest, most = _ARITY[node.op_type]
        if not fewest <= len(node.input) <= most:
            expected = f"{fewest}" if fewest == most else f"{fewest} to {most}"
            raise NetworkFormatError(f"{label}: {node.op_type} has {len(node.input)} inputs, expected {expected}")
        data = [name for name in node.input if name and name not in self.constants]
        if len(data) != 1:
            raise NetworkFormatError(
                f"{label}: has {len(data)} computed operands {data}; all operands but the data must be constants"
            )
        if len(node.output) != 1:
            raise NetworkFormatError(f"{label}: has {len(node.output)} outputs, expected one")
        op = node.op_type
        if op == "Relu":
            return (label, None), width
        if op == "Reshape":
            if node.input[0] != current:
                raise NetworkFormatError(f"{label}: Reshape must take the data as its first operand")
            return None, _reshape_width(self, node, label, width)
        if op in ("Flatten", "Identity"):  # both keep the vector as it is
            return None, width
        if op == "Gemm":
            step = _gemm(self, node, label, current)
        elif op == "MatMul":
            step = _matmul(self, node, label, current)
        else:
            step = _add(self, node, label, current, width)
        return step, len(step[1][1])  # type: ignore[index]


def _input_width(value_info: Any) -> Optional[int]:
    """Entries per example of the graph input (all dimensions but the batch one), if static."""
    kind = value_info.type
    if not kind.HasField("tensor_type"):
        raise NetworkFormatError(f"graph input {value_info.name!r} is not a tensor")
    if not kind.tensor_type.HasField("shape"):
        return None
    dims = [d.dim_value if d.HasField("dim_value") else None for d in kind.tensor_type.shape.dim]
    per_example = dims[1:] if len(dims) > 1 else dims
    if not per_example or None in per_example:
        return None
    return int(np.prod(per_example))


def _attributes(onnx: ModuleType, node: Any) -> dict[str, object]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _rational_attribute(attrs: dict[str, object], name: str, label: str) -> Fraction:
    """A float attribute (default 1), exactly: ONNX stores it as a float32."""
    try:
        return parse_rational(attrs.get(name, 1), f"{label}: attribute {name}")
    except InputError as exc:
        raise NetworkFormatError(str(exc)) from None


def _gemm(g: _Graph, node: Any, label: str, current: str) -> Step:
    attrs = _attributes(g.onnx, node)
    inputs = list(node.input)
    if inputs[0] != current:
        raise NetworkFormatError(f"{label}: Gemm must take the data as its first operand A")
    if attrs.get("transA", 0):
        raise NetworkFormatError(f"{label}: Gemm with transA=1 is not supported (the data must be a row)")
    alpha = _rational_attribute(attrs, "alpha", label)
    beta = _rational_attribute(attrs, "beta", label)
    b_name = inputs[1]
    b = g.constant(b_name, label, "operand B")
    if b.ndim != 2:
        raise NetworkFormatError(f"{label}: operand B {b_name!r} must be 2-D, got shape {b.shape}")
    entries = exact_array(b, f"initializer {b_name!r}")
    rows = entries if attrs.get("transB", 0) else tuple(zip(*entries))
    weight = tuple(tuple(alpha * w for w in row) for row in rows)
    out = len(weight)
    if len(inputs) > 2 and inputs[2]:
        c_name = inputs[2]
        c = g.constant(c_name, label, "operand C")
        if c.size == 1:
            flat = c.reshape(1).repeat(out)
        elif c.shape in ((out,), (1, out)):
            flat = c.reshape(out)
        else:
            raise NetworkFormatError(
                f"{label}: operand C {c_name!r} has shape {c.shape}, which is not one row of {out} outputs"
            )
        bias = tuple(beta * v for v in exact_array(flat, f"initializer {c_name!r}"))
    else:
        bias = (Fraction(0),) * out
    return (label, (weight, bias))


def _matmul(g: _Graph, node: Any, label: str, current: str) -> Step:
    inputs = list(node.input)
    if inputs[0] != current:
        raise NetworkFormatError(
            f"{label}: MatMul with the weight as first operand (W @ x) is not supported; expected x @ W"
        )
    w = g.constant(inputs[1], label, "weight")
    if w.ndim != 2:
        raise NetworkFormatError(f"{label}: weight {inputs[1]!r} must be 2-D (in x out), got shape {w.shape}")
    entries = exact_array(w, f"initializer {inputs[1]!r}")
    weight = tuple(zip(*entries))
    return (label, (weight, (Fraction(0),) * len(weight)))


def _add(g: _Graph, node: Any, label: str, current: str, width: Optional[int]) -> Step:
    inputs = list(node.input)
    other = inputs[1] if inputs[0] == current else inputs[0]
    c = g.constant(other, label, "bias")
    if c.size == 1:
        if width is None:
            raise NetworkFormatError(
                f"{label}: adds a scalar to data of unknown width; give the graph input a static shape"
            )
        flat = c.reshape(1).repeat(width)
    elif c.ndim in (1, 2) and c.shape[0 if c.ndim == 1 else 1] == c.size and width in (None, c.size):
        flat = c.reshape(c.size)
    else:
        expected = f"{width} entries" if width is not None else "a vector"
        raise NetworkFormatError(f"{label}: bias {other!r} has shape {c.shape}, expected {expected}")
    bias = exact_array(flat, f"initializer {other!r}")
    return (label, (identity_layer(len(bias)).weight, bias))


def _reshape_width(g: _Graph, node: Any, label: str, width: Optional[int]) -> Optional[int]:
    """The width after a Reshape of a vector to ``[1, n]``, ``[-1, n]`` or ``[n]``."""
    shape_name = node.input[1]
    shape = g.constant(shape_name, label, "shape")
    target = [int(v) for v in shape.reshape(-1).tolist()] if shape.dtype.kind in "iu" else None
    if target is None or not (
        (len(target) == 1 and (target[0] == -1 or target[0] > 0))
        or (len(target) == 2 and target[0] in (1, -1) and target[1] > 0)
        or target == [1, -1]
    ):
        raise NetworkFormatError(
            f"{label}: Reshape to {shape.reshape(-1).tolist()} is not a reshape of one vector "
            "(supported: [1, n], [-1, n], [n])"
        )
    n = target[-1]
    if n == -1:
        return width
    if width is not None and n != width:
        raise NetworkFormatError(f"{label}: Reshape to {target} but the data has {width} entries")
    return n


def load(path: Path) -> ReluNetwork:
    """Read an ONNX multilayer perceptron exactly (see the module docstring)."""
    onnx = _onnx()
    from google.protobuf.message import DecodeError

    path = Path(path)
    if path.stat().st_size == 0:
        raise NetworkFormatError("empty file (expected an ONNX model)")
    try:
        model = onnx.load(str(path))
    except (DecodeError, OSError, ValueError) as exc:
        raise NetworkFormatError(f"not a valid ONNX model ({exc})") from None
    g = _Graph(onnx, model.graph)
    inputs = [v for v in model.graph.input if v.name not in g.constants]
    if len(inputs) != 1:
        raise NetworkFormatError(f"the graph has {len(inputs)} inputs; exactrelu reads graphs with exactly one")
    if len(model.graph.output) != 1:
        raise NetworkFormatError(
            f"the graph has {len(model.graph.output)} outputs; exactrelu reads graphs with exactly one"
        )
    input_width = _input_width(inputs[0])
    target = model.graph.output[0].name
    return network_from_steps(g.chain(inputs[0].name, target, input_width), input_width)


def save(network: ReluNetwork, path: Path, *, round_to_nearest: bool = False) -> Fraction:
    """Write ``network`` as Gemm/Relu nodes with float64 initializers (for tests and examples).

    Refused with :class:`NetworkFormatError` unless every weight is exactly a float64, or, with
    ``round_to_nearest``, every weight is rounded to the nearest float64.  Returns the largest
    rounding error ``|float64(w) - w|`` (0 when the file holds the network exactly), which the
    caller must report.
    """
    layers, error = float64_weights(network, "ONNX", round_to_nearest)
    onnx = _onnx()
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    initializers, nodes = [], []
    current = "input"
    for k, (weight, bias) in enumerate(layers):
        initializers += [numpy_helper.from_array(weight, f"W{k}"), numpy_helper.from_array(bias, f"b{k}")]
        last = k == len(layers) - 1
        z = "output" if last else f"z{k}"
        nodes.append(helper.make_node("Gemm", [current, f"W{k}", f"b{k}"], [z], name=f"gemm{k}", transB=1))
        current = z
        if not last:
            current = f"a{k}"
            nodes.append(helper.make_node("Relu", [z], [current], name=f"relu{k}"))
    double = onnx.TensorProto.DOUBLE
    graph = helper.make_graph(
        nodes,
        "exactrelu",
        [helper.make_tensor_value_info("input", double, [1, network.input_dim])],
        [helper.make_tensor_value_info("output", double, [1, network.output_dim])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="exactrelu")
    onnx.checker.check_model(model)
    Path(path).write_bytes(model.SerializeToString())
    return error
