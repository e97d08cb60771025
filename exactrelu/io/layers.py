"""Array helpers shared by the array formats (NPZ, ONNX, PyTorch).

Invariant: :func:`exact_array` converts every entry exactly (a binary float is a dyadic
rational); :func:`network_from_steps` turns a chain of affine maps and ReLUs into a
:class:`~exactrelu.network.ReluNetwork`, composing consecutive affine maps exactly.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Optional

import numpy as np

from ..errors import InputError, NetworkFormatError
from ..network import AffineLayer, Matrix, ReluNetwork, Vector
from ..rationals import format_rational, parse_rational

# One link of a chain: (label for messages, (W, b)) for an affine map, (label, None) for ReLU.
Step = tuple[str, Optional[tuple[Matrix, Vector]]]

def check_numeric_dtype(array: np.ndarray, where: str) -> None:
    """Refuse arrays whose entries are not integers or float16/float32/float64 numbers."""
    kind = array.dtype.kind
    if kind in "iu" or (kind == "f" and array.dtype.itemsize <= 8):
        return
    raise NetworkFormatError(
        f"{where}: has dtype {array.dtype}; expected integers or float16/float32/float64 numbers"
    )


def python_values(array: np.ndarray, where: str) -> object:
    """The entries of a numeric array as nested lists of Python ints or floats (exactly)."""
    check_numeric_dtype(array, where)
    return array.astype(np.float64).tolist() if array.dtype.kind == "f" else array.tolist()


def exact_array(array: np.ndarray, where: str) -> object:
    """The entries of a numeric array as exact rationals, nested like the array.

    A 2-D array gives a tuple of row tuples, a 1-D array a tuple.  Non-finite entries are refused
    with their index, e.g. ``"fc1.weight[0][2]: nan is not a finite number"``.
    """
    return _exact_nested(python_values(array, where), where)


def _exact_nested(values: object, where: str) -> object:
    if isinstance(values, list):
        return tuple(_exact_nested(v, f"{where}[{i}]") for i, v in enumerate(values))
    try:
        return parse_rational(values, where)
    except InputError as exc:
        raise NetworkFormatError(str(exc)) from None


def float64_layers(network: ReluNetwork, fmt: str, round_to_nearest: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """The layers as float64 arrays, or :class:`NetworkFormatError` if a weight is not a float64.

    ``fmt`` names the target format in the message.  Used by the writers of float formats so that
    they never round unless asked: with ``round_to_nearest`` every weight becomes its nearest
    float64, and :func:`float64_error` is what the caller reports.
    """
    if round_to_nearest:
        float64_error(network, fmt)  # refuses what float64 cannot hold at all
        return network.float_layers()
    for k, layer in enumerate(network.layers):
        for name, value in _entries(layer):
            if not _is_float64(value):
                raise NetworkFormatError(
                    f"{fmt} cannot hold the exact network: layer {k} {name} = {format_rational(value)} "
                    "is not a float64 number; save it as JSON instead"
                )
    return network.float_layers()


def float64_error(network: ReluNetwork, fmt: str) -> Fraction:
    """The largest rounding error ``|float64(w) - w|`` over the weights: what a float format written
    with rounding to nearest (ties to even: Python's correctly rounded ``float(Fraction)``) loses,
    which the caller must report.  It is 0 exactly when every weight is a float64 (a dyadic
    rational with at most 53 significant bits)."""
    largest = Fraction(0)
    for k, layer in enumerate(network.layers):
        for name, value in _entries(layer):
            try:
                largest = max(largest, abs(Fraction(float(value)) - value))
            except OverflowError:
                raise NetworkFormatError(f"{fmt} cannot hold layer {k} {name} = {format_rational(value)}: "
                                         "it is beyond the float64 range") from None
    return largest


def _entries(layer) -> list[tuple[str, Fraction]]:
    entries = [(f"weight[{i}][{j}]", w) for i, row in enumerate(layer.weight) for j, w in enumerate(row)]
    return entries + [(f"bias[{i}]", b) for i, b in enumerate(layer.bias)]


def _is_float64(value: Fraction) -> bool:
    try:
        return Fraction(float(value)) == value
    except OverflowError:
        return False


def identity_layer(width: int) -> AffineLayer:
    """The exact identity map of R^width."""
    one, zero = Fraction(1), Fraction(0)
    return AffineLayer(
        tuple(tuple(one if i == j else zero for j in range(width)) for i in range(width)),
        (zero,) * width,
    )


def _compose(outer: AffineLayer, inner: AffineLayer) -> AffineLayer:
    """The exact affine map ``outer(inner(x))``; zero entries of ``outer`` cost nothing, so composing
    with an identity, a diagonal or a sparse map is cheap."""
    zero = Fraction(0)
    width = inner.in_dim
    weight = []
    for row in outer.weight:
        total = [zero] * width
        for a, inner_row in zip(row, inner.weight):
            if a == 1:
                total = [t + c for t, c in zip(total, inner_row)]
            elif a:
                total = [t + a * c for t, c in zip(total, inner_row)]
        weight.append(tuple(total))
    return AffineLayer(tuple(weight), outer.apply(inner.bias))


def network_from_steps(steps: Iterable[Step], input_dim: Optional[int] = None) -> ReluNetwork:
    """Build the network computed by a chain of affine maps and ReLUs, exactly.

    Consecutive affine maps are composed into one layer; ``relu(relu(x))`` is ``relu(x)``; a ReLU
    before the first affine map or after the last one becomes an identity layer, so the network
    still ends with an affine layer.  ``input_dim``, when known, is checked against the first map.
    """
    layers: list[AffineLayer] = []
    pending: Optional[AffineLayer] = None
    leading_relu = False
    width = input_dim
    source = "the input"
    for label, affine in steps:
        if affine is None:
            if pending is not None:
                layers.append(pending)
                pending = None
            elif not layers:
                leading_relu = True
            continue
        weight, bias = affine
        layer = AffineLayer(tuple(weight), tuple(bias))
        if len(layer.weight) != layer.out_dim:
            raise NetworkFormatError(
                f"{label}: weight has {len(layer.weight)} rows but bias has {layer.out_dim} entries"
            )
        if width is not None and layer.in_dim != width:
            raise NetworkFormatError(f"{label}: takes {layer.in_dim} inputs but {source} gives {width}")
        if leading_relu and not layers and pending is None:
            layers.append(identity_layer(layer.in_dim))
        pending = layer if pending is None else _compose(layer, pending)
        width = layer.out_dim
        source = label
    if pending is not None:
        layers.append(pending)
    elif layers:
        layers.append(identity_layer(layers[-1].out_dim))
    if not layers:
        raise NetworkFormatError("contains no affine layer")
    return ReluNetwork(tuple(layers), layers[0].in_dim)
