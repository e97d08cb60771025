"""Loaders and writers.  :func:`load_model` dispatches on the file extension.

Invariant: a loader returns the exact network the file denotes (binary floats converted
exactly), or raises :class:`~exactrelu.errors.NetworkFormatError` with a message that names the
file and the layer or field at fault.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import InputError, NetworkFormatError
from ..network import ReluNetwork

# extension -> (module, format name)
LOADERS = {
    ".json": ("exactrelu.io.jsonfmt", "json"),
    ".npz": ("exactrelu.io.npz", "npz"),
    ".onnx": ("exactrelu.io.onnxfmt", "onnx"),
    ".pt": ("exactrelu.io.torchfmt", "torch"),
    ".pth": ("exactrelu.io.torchfmt", "torch"),
    ".nnet": ("exactrelu.io.nnet", "nnet"),
}


@dataclass(frozen=True)
class LoadedModel:
    """A network as read from a file, with what the file says about its input domain."""

    network: ReluNetwork
    format: str
    path: Path
    default_box: Optional[tuple[tuple, tuple]] = None  # (lows, highs) from NNet files
    coordinates: str = ""  # NNet files: "raw" (units) or "normalized"; "" for other formats


def load_model(path: str | Path, nnet_normalized: bool = False) -> LoadedModel:
    """Read a network from ``path`` (format chosen by extension).

    ``nnet_normalized`` reads an NNet file in normalised coordinates (the network of its weights,
    no folding of the input normalisation or output scaling, and the input box normalised); by
    default NNet files are read in raw units.  Other formats ignore it."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in LOADERS:
        supported = ", ".join(sorted(LOADERS))
        raise InputError(f"{p}: unknown file extension {suffix or '(none)'!r}; supported: {supported}")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    module_name, fmt = LOADERS[suffix]
    module = importlib.import_module(module_name)
    try:
        result = module.load(p, normalized=nnet_normalized) if fmt == "nnet" else module.load(p)
    except NetworkFormatError as exc:
        message = str(exc)
        raise NetworkFormatError(message if message.startswith(str(p)) else f"{p}: {message}") from None
    if isinstance(result, tuple):
        network, box = result
        return LoadedModel(network, fmt, p, box, "normalized" if nnet_normalized else "raw")
    return LoadedModel(result, fmt, p)


def load_network(path: str | Path) -> ReluNetwork:
    """Read just the network from ``path``."""
    return load_model(path).network
