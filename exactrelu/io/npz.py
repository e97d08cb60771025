"""NumPy ``.npz`` networks: arrays ``W0, b0, W1, b1, ...`` (``W`` is out x in, as in PyTorch).

Invariant: :func:`load` returns exactly the network the arrays hold.  Every float entry is a
binary float, hence a dyadic rational, and is converted exactly (a float32 ``0.1`` becomes
``13421773/134217728``, not ``1/10``); integer arrays are exact already.  :func:`save` writes
float64 arrays only when every weight *is* a float64, so ``load(save(net)) == net`` always.

This module also holds the array helpers that the other array formats (ONNX, PyTorch) share:
exact conversion of a numeric array, the float64 test for writers, and
:func:`network_from_steps`, which turns a chain of affine maps and ReLUs into a
:class:`~exactrelu.network.ReluNetwork`, composing consecutive affine maps exactly.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from ..errors import InputError, NetworkFormatError
from ..network import AffineLayer, Matrix, ReluNetwork, Vector
from ..rationals import format_rational, parse_rational

__all__ = [
    "load",
    "save",
    "check_numeric_dtype",
    "python_values",
    "exact_array",
    "float64_layers",
    "identity_layer",
    "network_from_steps",
    "Step",
]

_NAME_RE = re.compile(r"^([Wb])(0|[1-9][0-9]*)$")

# One link of a chain: (label for messages, (W, b)) for an affine map, (label, None) for ReLU.
Step = tuple[str, Optional[tuple[Matrix, Vector]]]


# --------------------------------------------------------------------- shared array helpers
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


def float64_layers(network: ReluNetwork, fmt: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The layers as float64 arrays, or :class:`NetworkFormatError` if a weight is not a float64.

    ``fmt`` names the target format in the message.  Used by the writers of float formats so
    that they never round.
    """
    for k, layer in enumerate(network.layers):
        entries = [(f"weight[{i}][{j}]", w) for i, row in enumerate(layer.weight) for j, w in enumerate(row)]
        entries += [(f"bias[{i}]", b) for i, b in enumerate(layer.bias)]
        for name, value in entries:
            if not _is_float64(value):
                raise NetworkFormatError(
                    f"{fmt} cannot hold the exact network: layer {k} {name} = {format_rational(value)} "
                    "is not a float64 number; save it as JSON instead"
                )
    return network.float_layers()


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
    """The exact affine map ``outer(inner(x))``."""
    columns = list(zip(*inner.weight))
    weight = tuple(
        tuple(sum((a * c for a, c in zip(row, col)), Fraction(0)) for col in columns) for row in outer.weight
    )
    return AffineLayer(weight, outer.apply(inner.bias))


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


# --------------------------------------------------------------------- the NPZ format
def _open(path: Path) -> dict[str, np.ndarray]:
    """Every array of the archive, read with ``allow_pickle=False``."""
    if path.stat().st_size == 0:
        raise NetworkFormatError("empty file (expected an .npz archive)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise NetworkFormatError(f"not a valid .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise NetworkFormatError("holds a single .npy array, not an .npz archive of W0, b0, W1, b1, ...")
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError as exc:
                if "allow_pickle" in str(exc):
                    raise NetworkFormatError(f"array {name!r}: is an object array, which is refused") from None
                raise NetworkFormatError(f"array {name!r}: unreadable ({exc})") from None
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise NetworkFormatError(f"array {name!r}: unreadable, the archive is damaged ({exc})") from None
    return arrays


def load(path: Path) -> ReluNetwork:
    """Read a network from the arrays ``W0, b0, W1, b1, ...`` of an ``.npz`` file, exactly."""
    arrays = _open(Path(path))
    if not arrays:
        raise NetworkFormatError("the archive holds no arrays (expected W0, b0, W1, b1, ...)")
    unknown = sorted(name for name in arrays if not _NAME_RE.match(name))
    if unknown:
        raise NetworkFormatError(
            f"unknown arrays {', '.join(map(repr, unknown))} (expected only W0, b0, W1, b1, ...)"
        )
    indices = {int(name[1:]) for name in arrays}
    for k in sorted(indices):
        if f"W{k}" not in arrays:
            raise NetworkFormatError(f"b{k} has no weight W{k}")
        if f"b{k}" not in arrays:
            raise NetworkFormatError(f"W{k} has no bias b{k}")
    missing = sorted(set(range(max(indices) + 1)) - indices)
    if missing:
        raise NetworkFormatError(
            f"layers must be numbered 0, 1, 2, ... without gaps; W{missing[0]}/b{missing[0]} is missing"
        )
    pairs = []
    for k in range(len(indices)):
        weight, bias = arrays[f"W{k}"], arrays[f"b{k}"]
        if weight.ndim != 2:
            raise NetworkFormatError(f"W{k} must be 2-D (out x in), got shape {weight.shape}")
        if bias.ndim != 1:
            raise NetworkFormatError(f"b{k} must be 1-D, got shape {bias.shape}")
        if weight.size == 0:
            raise NetworkFormatError(f"W{k} has shape {weight.shape}; a layer needs at least one input and output")
        pairs.append((python_values(weight, f"W{k}"), python_values(bias, f"b{k}")))
    return ReluNetwork.from_lists(pairs, str(path))


def save(network: ReluNetwork, path: Path) -> None:
    """Write ``network`` as float64 arrays; refuse if any weight is not exactly a float64."""
    arrays = {}
    for k, (weight, bias) in enumerate(float64_layers(network, "NPZ")):
        arrays[f"W{k}"] = weight
        arrays[f"b{k}"] = bias
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

