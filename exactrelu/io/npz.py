"""NumPy ``.npz`` networks: arrays ``W0, b0, W1, b1, ...`` (``W`` is out x in, as in PyTorch).

Invariant: :func:`load` returns exactly the network the arrays hold.  Every float entry is a
binary float, hence a dyadic rational, and is converted exactly (a float32 ``0.1`` becomes
``13421773/134217728``, not ``1/10``); integer arrays are exact already.  :func:`save` writes
float64 arrays only when every weight *is* a float64, so ``load(save(net)) == net`` always.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import NetworkFormatError
from ..network import ReluNetwork
from .layers import float64_layers, python_values
from .output import write_bytes

__all__ = ["load", "save", "encode"]

_NAME_RE = re.compile(r"^([Wb])(0|[1-9][0-9]*)$")




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


def encode(network: ReluNetwork) -> bytes:
    """The ``.npz`` archive of ``network`` as float64 arrays; refused with
    :class:`NetworkFormatError` (naming the layer and entry) if any weight is not exactly a float64."""
    arrays = {}
    for k, (weight, bias) in enumerate(float64_layers(network, "NPZ")):
        arrays[f"W{k}"] = weight
        arrays[f"b{k}"] = bias
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def save(network: ReluNetwork, path: Path) -> None:
    """Write :func:`encode` of ``network`` to ``path`` through :mod:`exactrelu.io.output`."""
    write_bytes(path, encode(network))
