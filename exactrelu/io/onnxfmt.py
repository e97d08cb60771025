"""ONNX networks as exported in practice: affine operators between ReLUs, read exactly.

Supported operators: ``Gemm`` (every attribute: alpha, beta, transA, transB), ``MatMul`` (either
operand order, 1-D operands), ``Add``, ``Sub``, ``Mul`` and ``Div`` by constants (either order,
with broadcasting; a division is the multiplication by the exact reciprocal), ``Relu``,
``Identity``, ``Flatten``, ``Reshape``, ``Squeeze``, ``Unsqueeze`` and ``Constant``.  Every other
operator is refused, naming the operator and the node.

Invariant: :func:`load` returns exactly the function the graph computes on one input vector, read
in exact arithmetic.  Initializers (float16/32/64 or integers), ``Constant`` values and the float
attributes ``alpha``/``beta`` are converted exactly (a float is its dyadic value); a node whose
operands are all constants is evaluated exactly (constant folding); the data path is a chain from
the single graph input to the single output on which every tensor is a vector (at most one
dimension other than 1, so a batch dimension of 1 is allowed); and the affine operators between
two ReLUs are composed exactly into one layer.  Nothing is approximated.

A Relu before the first or after the last affine operator becomes an identity layer (exact), so
the network still ends affine.  The ``onnx`` package is imported only when a file is read or
written (``pip install 'exactrelu[onnx]'``).
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from math import prod
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional

import numpy as np

from ..errors import InputError, NetworkFormatError
from ..network import ReluNetwork
from ..rationals import parse_rational
from .layers import Step, exact_array, float64_error, float64_layers, network_from_steps

__all__ = ["load", "save", "encode", "SUPPORTED_OPS"]

SUPPORTED_OPS = ("Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "Identity", "Flatten", "Reshape",
                 "Squeeze", "Unsqueeze", "Constant")
# op type -> (fewest, most) inputs
_ARITY = {
    "Gemm": (2, 3), "MatMul": (2, 2), "Add": (2, 2), "Sub": (2, 2), "Mul": (2, 2), "Div": (2, 2),
    "Relu": (1, 1), "Identity": (1, 1), "Flatten": (1, 1), "Reshape": (2, 2), "Squeeze": (1, 2),
    "Unsqueeze": (1, 2), "Constant": (0, 0),
}
_DEFAULT_DOMAINS = ("", "ai.onnx")
_ZERO = Fraction(0)

Shape = tuple[int, ...]


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


def _exact(array: np.ndarray, where: str) -> np.ndarray:
    """An exact copy of a numeric array: an object array of Fractions of the same shape."""
    out = np.empty(array.shape, dtype=object)
    out[...] = exact_array(array, where) if array.ndim else exact_array(array.reshape(1), where)[0]
    return out


def _integers(array: np.ndarray, label: str, role: str) -> list[int]:
    values = array.reshape(-1).tolist()
    if not all(isinstance(v, Fraction) and v.denominator == 1 for v in values):
        raise NetworkFormatError(f"{label}: {role} must be integers, got {[str(v) for v in values]}")
    return [int(v) for v in values]


def _is_vector(shape: Shape) -> bool:
    return sum(1 for d in shape if d != 1) <= 1


class _Graph:
    """A graph whose operators are all supported: its constants (exact) and its data chain."""

    def __init__(self, onnx: ModuleType, graph: Any) -> None:
        self.onnx = onnx
        self.graph = graph
        self.constants: dict[str, np.ndarray] = {}  # exact values, converted when first used
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        self.folded: set[int] = set()
        for index, node in enumerate(graph.node):
            label = _label(node, index)
            if node.domain not in _DEFAULT_DOMAINS or node.op_type not in SUPPORTED_OPS:
                op = f"{node.domain}.{node.op_type}" if node.domain not in _DEFAULT_DOMAINS else node.op_type
                raise NetworkFormatError(
                    f"{label} has op type {op}, which exactrelu does not support "
                    f"(supported: {', '.join(SUPPORTED_OPS)})"
                )
            self._check_arity(node, label)
            if node.op_type == "Constant":
                self.constants[node.output[0]] = self._constant_node(node, label)
                self.folded.add(index)
            elif all(not name or self.known(name) for name in node.input):
                self.constants[node.output[0]] = _fold(self, node, label)
                self.folded.add(index)

    def known(self, name: str) -> bool:
        """Whether tensor ``name`` is a constant (an initializer, a Constant or a folded node)."""
        return name in self.constants or name in self.initializers

    def value(self, name: str) -> np.ndarray:
        """The exact value of constant ``name``."""
        if name not in self.constants:
            where = f"initializer {name!r}"
            self.constants[name] = _exact(self._to_array(self.initializers[name], where), where)
        return self.constants[name]

    def _check_arity(self, node: Any, label: str) -> None:
        fewest, most = _ARITY[node.op_type]
        if not fewest <= len(node.input) <= most:
            expected = f"{fewest}" if fewest == most else f"{fewest} to {most}"
            raise NetworkFormatError(f"{label}: {node.op_type} has {len(node.input)} inputs, expected {expected}")
        if len(node.output) != 1:
            raise NetworkFormatError(f"{label}: has {len(node.output)} outputs, expected one")

    def _to_array(self, tensor: Any, where: str) -> np.ndarray:
        try:
            return self.onnx.numpy_helper.to_array(tensor)
        except (ValueError, TypeError, KeyError, OSError) as exc:
            raise NetworkFormatError(f"{where}: unreadable tensor ({exc})") from None

    def _constant_node(self, node: Any, label: str) -> np.ndarray:
        attributes = list(node.attribute)
        if len(attributes) != 1:
            raise NetworkFormatError(f"{label}: a Constant needs exactly one value")
        attribute = attributes[0]
        where = f"{label} (Constant)"
        if attribute.name == "value":
            value = self._to_array(attribute.t, where)
        elif attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
            value = np.array(self.onnx.helper.get_attribute_value(attribute))
        else:
            raise NetworkFormatError(f"{where}: attribute {attribute.name!r} is not supported")
        return _exact(value, where)

    def attributes(self, node: Any) -> dict[str, object]:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def chain(self, start: str, target: str, shape: Shape) -> list[Step]:
        """The affine maps and ReLUs met on the way from tensor ``start`` (of ``shape``) to ``target``."""
        nodes = self.graph.node
        users: dict[str, list[int]] = defaultdict(list)
        for index, node in enumerate(nodes):
            if index not in self.folded:
                for name in dict.fromkeys(node.input):
                    if name and not self.known(name):
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
            label = _label(nodes[index], index)
            step, shape = self._step(nodes[index], label, current, shape)
            if not _is_vector(shape):
                raise NetworkFormatError(f"{label}: its result has shape {list(shape)}, which is not a vector")
            if step is not None:
                steps.append(step)
            current = nodes[index].output[0]
        for index, node in enumerate(nodes):
            if index not in visited and index not in self.folded:
                raise NetworkFormatError(
                    f"{_label(node, index)} is not on the path from the graph input to the graph output"
                )
        return steps

    def _step(self, node: Any, label: str, current: str, shape: Shape) -> tuple[Optional[Step], Shape]:
        """The step of one node on the data path (``None`` for a reshape) and the shape after it."""
        data = [name for name in node.input if name and not self.known(name)]
        if len(data) != 1:
            raise NetworkFormatError(
                f"{label}: has {len(data)} computed operands {data}; all operands but the data must be constants"
            )
        op = node.op_type
        if op == "Relu":
            return (label, None), shape
        if op in _RESHAPES:
            if node.input[0] != current:
                raise NetworkFormatError(f"{label}: {op} must take the data as its first operand")
            return None, _RESHAPES[op](self, node, label, shape)
        position = list(node.input).index(current)
        others = [self.value(name) if name and self.known(name) else None for name in node.input]
        if op == "Gemm":
            return _gemm_step(self, node, label, position, shape, others)
        if op == "MatMul":
            matrix, out = _matmul_map(label, shape, others[1 - position], position == 0)
            return (label, (matrix, (_ZERO,) * len(matrix))), out
        return _elementwise_step(op, label, position, shape, others[1 - position], node.input[1 - position])


# ----------------------------------------------------------------------------- shapes

def _reshape_shape(g: _Graph, node: Any, label: str, shape: Shape) -> Shape:
    target = _integers(g.value(node.input[1]), label, "the Reshape shape")
    allow_zero = g.attributes(node).get("allowzero", 0)
    result = [shape[i] if v == 0 and not allow_zero and i < len(shape) else v for i, v in enumerate(target)]
    size = prod(shape)
    if result.count(-1) == 1:
        known = prod(v for v in result if v != -1)
        if known and size % known == 0:
            result[result.index(-1)] = size // known
    if any(v < 0 for v in result) or prod(result) != size:
        raise NetworkFormatError(f"{label}: Reshape to {target} does not fit data of shape {list(shape)}")
    return tuple(result)


def _flatten_shape(g: _Graph, node: Any, label: str, shape: Shape) -> Shape:
    axis = int(g.attributes(node).get("axis", 1))
    axis = axis + len(shape) if axis < 0 else axis
    if not 0 <= axis <= len(shape):
        raise NetworkFormatError(f"{label}: Flatten axis {axis} is out of range for shape {list(shape)}")
    return (prod(shape[:axis]), prod(shape[axis:]))


def _axes(g: _Graph, node: Any, label: str, rank: int) -> Optional[list[int]]:
    if len(node.input) > 1 and node.input[1]:
        axes = _integers(g.value(node.input[1]), label, "the axes")
    elif "axes" in g.attributes(node):
        axes = [int(a) for a in g.attributes(node)["axes"]]  # type: ignore[union-attr]
    else:
        return None
    result = [a + rank if a < 0 else a for a in axes]
    if any(not 0 <= a < rank for a in result) or len(set(result)) != len(result):
        raise NetworkFormatError(f"{label}: axes {axes} are out of range or repeated for rank {rank}")
    return result


def _squeeze_shape(g: _Graph, node: Any, label: str, shape: Shape) -> Shape:
    axes = _axes(g, node, label, len(shape))
    if axes is None:
        return tuple(d for d in shape if d != 1)
    if any(shape[a] != 1 for a in axes):
        raise NetworkFormatError(f"{label}: Squeeze of axes {axes} of shape {list(shape)}, which are not all 1")
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _unsqueeze_shape(g: _Graph, node: Any, label: str, shape: Shape) -> Shape:
    axes = _axes(g, node, label, len(shape) + (len(node.input) > 1 and len(_integers(
        g.value(node.input[1]), label, "the axes")) or len(g.attributes(node).get("axes", []))))  # type: ignore[arg-type]
    if axes is None:
        raise NetworkFormatError(f"{label}: Unsqueeze needs axes")
    result = list(shape)
    for a in sorted(axes):
        result.insert(a, 1)
    return tuple(result)


def _identity_shape(g: _Graph, node: Any, label: str, shape: Shape) -> Shape:
    return shape


_RESHAPES: dict[str, Callable[[_Graph, Any, str, Shape], Shape]] = {
    "Reshape": _reshape_shape, "Flatten": _flatten_shape, "Squeeze": _squeeze_shape,
    "Unsqueeze": _unsqueeze_shape, "Identity": _identity_shape,
}


# ----------------------------------------------------------------------------- affine steps

def _broadcast(label: str, shape: Shape, constant: np.ndarray, name: str) -> tuple[np.ndarray, Shape]:
    """The constant broadcast against the data, flattened, and the result shape; refused when
    broadcasting would copy the data (the result must have as many entries as the data)."""
    try:
        out = np.broadcast_shapes(shape, constant.shape)
    except ValueError:
        out = None
    if out is None or prod(out) != prod(shape):
        raise NetworkFormatError(f"{label}: constant {name!r} of shape {list(constant.shape)} does not "
                                 f"broadcast onto the data of shape {list(shape)}")
    return np.broadcast_to(constant, out).reshape(-1), tuple(out)


def _diagonal(values: Any) -> tuple[tuple[Fraction, ...], ...]:
    n = len(values)
    return tuple(tuple(values[i] if i == j else _ZERO for j in range(n)) for i in range(n))


def _elementwise_step(op: str, label: str, position: int, shape: Shape, constant: np.ndarray,
                      name: str) -> tuple[Step, Shape]:
    """``Add``/``Sub``/``Mul``/``Div`` of the data and a constant, as an affine map."""
    c, out = _broadcast(label, shape, constant, name)
    n = len(c)
    zeros = (_ZERO,) * n
    if op == "Add":
        return (label, (_diagonal([Fraction(1)] * n), tuple(c))), out
    if op == "Sub":
        sign = Fraction(1) if position == 0 else Fraction(-1)
        return (label, (_diagonal([sign] * n), tuple(-sign * v for v in c))), out
    if op == "Mul":
        return (label, (_diagonal(list(c)), zeros)), out
    if position == 1:
        raise NetworkFormatError(f"{label}: Div by the data is not affine (only division by a constant is)")
    zero = next((i for i, v in enumerate(c) if v == 0), None)
    if zero is not None:
        raise NetworkFormatError(f"{label}: Div by constant {name!r} divides entry {zero} by zero")
    return (label, (_diagonal([1 / v for v in c]), zeros)), out


def _matmul_map(label: str, shape: Shape, constant: np.ndarray, data_first: bool, op: str = "MatMul"
                ) -> tuple[tuple[tuple[Fraction, ...], ...], Shape]:
    """The matrix ``M`` with ``flat(data @ C) = M flat(data)`` (or ``C @ data``), and the result shape.

    Each entry of ``M`` is an entry of ``C`` or zero, so it is found without arithmetic: the
    products of the unit vectors with a tensor of the (1-based) indices of ``C`` pick the indices.
    """
    if constant.ndim > 2:
        raise NetworkFormatError(f"{label}: {op} with a constant of rank {constant.ndim} (batched) is not supported")
    a, b = (shape, constant.shape) if data_first else (constant.shape, shape)
    try:
        out = np.matmul(np.zeros(a), np.zeros(b)).shape
    except ValueError:
        raise NetworkFormatError(f"{label}: {op} of shapes {list(a)} and {list(b)} is undefined") from None
    n = prod(shape)
    basis = np.eye(n, dtype=np.int64).reshape((n,) + shape + ((1,) if not data_first and len(shape) == 1 else ()))
    index = np.arange(1, constant.size + 1, dtype=np.int64).reshape(constant.shape)
    picked = (np.matmul(basis, index) if data_first else np.matmul(index, basis)).reshape(n, -1)
    entries = [_ZERO] + list(constant.reshape(-1))
    matrix = tuple(tuple(entries[k] for k in column) for column in picked.T.tolist())
    return matrix, tuple(out)


def _gemm_step(g: _Graph, node: Any, label: str, position: int, shape: Shape,
               operands: list[Optional[np.ndarray]]) -> tuple[Step, Shape]:
    """``alpha * A' @ B' + beta * C`` with one of A, B the data (a vector) and the rest constants."""
    attrs = g.attributes(node)
    alpha = _rational_attribute(attrs, "alpha", label)
    beta = _rational_attribute(attrs, "beta", label)
    if position == 2:
        raise NetworkFormatError(f"{label}: Gemm with the data as operand C is not supported")
    if len(shape) != 2:
        raise NetworkFormatError(f"{label}: Gemm operand {'AB'[position]} must be 2-D, got shape {list(shape)}")
    transposed = bool(attrs.get("transA" if position == 0 else "transB", 0))
    data_shape = shape[::-1] if transposed else shape  # a vector transposed keeps its entry order
    other = operands[1 - position]
    if other is None or other.ndim != 2:
        raise NetworkFormatError(f"{label}: operand {'BA'[position]} {node.input[1 - position]!r} must be 2-D, "
                                 f"got {'no operand' if other is None else f'shape {list(other.shape)}'}")
    if attrs.get("transB" if position == 0 else "transA", 0):
        other = other.T
    matrix, out = _matmul_map(label, data_shape, other, position == 0, "Gemm (after transposition)")
    weight = tuple(tuple(alpha * w for w in row) for row in matrix)
    if len(node.input) > 2 and node.input[2]:
        c = operands[2]
        try:
            flat = np.broadcast_to(c, out).reshape(-1)
        except ValueError:
            raise NetworkFormatError(f"{label}: operand C {node.input[2]!r} has shape {c.shape}, which does not "
                                     f"broadcast to the output shape {list(out)}") from None
        bias = tuple(beta * v for v in flat)
    else:
        bias = (_ZERO,) * len(weight)
    return (label, (weight, bias)), out


def _rational_attribute(attrs: dict[str, object], name: str, label: str) -> Fraction:
    """A float attribute (default 1), exactly: ONNX stores it as a float32."""
    try:
        return parse_rational(attrs.get(name, 1), f"{label}: attribute {name}")
    except InputError as exc:
        raise NetworkFormatError(str(exc)) from None


# ----------------------------------------------------------------------------- constant folding

def _relu(value: Fraction) -> Fraction:
    return value if value > 0 else _ZERO


def _fold(g: _Graph, node: Any, label: str) -> np.ndarray:
    """The exact value of a node whose operands are all constants."""
    op = node.op_type
    args = [g.value(name) if name else None for name in node.input]
    x = args[0]
    if x is None:
        raise NetworkFormatError(f"{label}: {op} has no first operand")
    if op in _RESHAPES:
        return x.reshape(_RESHAPES[op](g, node, label, x.shape))
    if op == "Relu":
        return np.vectorize(_relu, otypes=[object])(x) if x.size else x
    if op in ("Add", "Sub", "Mul", "Div"):
        y = args[1]
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise NetworkFormatError(f"{label}: {op} of constants of shapes {list(x.shape)} and {list(y.shape)}") from None
        if op == "Div":
            if any(v == 0 for v in y.reshape(-1)):
                raise NetworkFormatError(f"{label}: Div by constant {node.input[1]!r} divides by zero")
            return np.divide(x, y, dtype=object)
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](x, y, dtype=object)
    if op == "MatMul":
        try:
            return np.matmul(x, args[1], dtype=object)
        except ValueError:
            raise NetworkFormatError(f"{label}: MatMul of constants of shapes {list(x.shape)} and "
                                     f"{list(args[1].shape)} is undefined") from None
    # Gemm
    attrs = g.attributes(node)
    a = x.T if attrs.get("transA", 0) else x
    b = args[1].T if attrs.get("transB", 0) else args[1]
    try:
        result = np.matmul(a, b, dtype=object) * _rational_attribute(attrs, "alpha", label)
        if len(args) > 2 and args[2] is not None:
            result = result + args[2] * _rational_attribute(attrs, "beta", label)
    except ValueError:
        raise NetworkFormatError(f"{label}: Gemm of constants with incompatible shapes") from None
    return result


# ----------------------------------------------------------------------------- reading and writing

def _input_shape(value_info: Any) -> Shape:
    """The static shape of the graph input; an unknown first (batch) dimension counts as 1."""
    kind = value_info.type
    if not kind.HasField("tensor_type"):
        raise NetworkFormatError(f"graph input {value_info.name!r} is not a tensor")
    if not kind.tensor_type.HasField("shape"):
        raise NetworkFormatError(f"graph input {value_info.name!r} has no shape; give it a static shape")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in kind.tensor_type.shape.dim]
    if dims and dims[0] is None:
        dims[0] = 1
    if None in dims:
        raise NetworkFormatError(f"graph input {value_info.name!r} has shape {dims} with an unknown dimension "
                                 "other than the batch one")
    shape = tuple(int(d) for d in dims)
    if not _is_vector(shape):
        raise NetworkFormatError(f"graph input {value_info.name!r} has shape {list(shape)}, which is not a vector")
    return shape


def load(path: Path) -> ReluNetwork:
    """Read an ONNX network exactly (see the module docstring)."""
    onnx = _onnx()
    from google.protobuf.message import DecodeError

    path = Path(path)
    if path.stat().st_size == 0:
        raise NetworkFormatError("empty file (expected an ONNX model)")
    try:
        model = onnx.load(str(path))
    except (DecodeError, OSError, ValueError) as exc:
        raise NetworkFormatError(f"not a valid ONNX model ({exc})") from None
    except onnx.checker.ValidationError as exc:  # raised while loading external data
        raise NetworkFormatError(f"cannot load the model's external data ({' '.join(str(exc).split())}); keep the "
                                 "data file(s) beside the .onnx file, or save the model with its data inside") from None
    g = _Graph(onnx, model.graph)
    inputs = [v for v in model.graph.input if not g.known(v.name)]
    if len(inputs) != 1:
        raise NetworkFormatError(f"the graph has {len(inputs)} inputs; exactrelu reads graphs with exactly one")
    if len(model.graph.output) != 1:
        raise NetworkFormatError(
            f"the graph has {len(model.graph.output)} outputs; exactrelu reads graphs with exactly one"
        )
    shape = _input_shape(inputs[0])
    target = model.graph.output[0].name
    return network_from_steps(g.chain(inputs[0].name, target, shape), prod(shape))


def encode(network: ReluNetwork, round_to_nearest: bool = False) -> bytes:
    """``network`` as an ONNX model of Gemm/Relu nodes with float64 initializers.

    Refused with :class:`NetworkFormatError` (naming the layer and entry) unless every weight is
    exactly a float64.
    With ``round_to_nearest`` every weight is rounded to the nearest float64 instead
    (:func:`~exactrelu.io.layers.float64_error` is the largest change, for the caller to report).
    """
    layers = float64_layers(network, "ONNX", round_to_nearest)
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
    return model.SerializeToString()


def save(network: ReluNetwork, path: Path, *, round_to_nearest: bool = False) -> Fraction:
    """Write :func:`encode` of ``network`` to ``path`` through :mod:`exactrelu.io.output`; return
    the largest rounding error (0 unless ``round_to_nearest``; the caller must report it)."""
    from .output import write_bytes

    write_bytes(path, encode(network, round_to_nearest))
    return float64_error(network, "ONNX") if round_to_nearest else Fraction(0)
