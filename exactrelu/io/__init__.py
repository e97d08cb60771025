"""Loaders and writers.  :func:`load_model` and :func:`encode_model` dispatch on the file extension.

Invariant: a loader returns the exact network the file denotes (binary floats converted
exactly), or raises :class:`~exactrelu.errors.NetworkFormatError` with a message that names the
file and the layer or field at fault; what it had to assume is in :attr:`LoadedModel.notes`.  A
writer's ``encode`` returns the file's bytes, which denote the network exactly, or refuses naming
the layer and entry the format cannot hold; every file is written by :mod:`exactrelu.io.output`.

>>> from exactrelu.network import ReluNetwork
>>> encode_model(ReluNetwork.from_lists([([["1/3"]], [0])]), ".npz")
Traceback (most recent call last):
...
exactrelu.errors.NetworkFormatError: NPZ cannot hold the exact network: layer 0 weight[0][0] = 1/3 is not a float64 number; save it as JSON instead
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


def read_text(path: str | Path, what: str, error: type[Exception], empty: Optional[str] = None) -> tuple[str, bytes]:
    """The UTF-8 text of the file ``path`` and its bytes as read; ``error`` naming the file if it
    cannot be read (``cannot read WHAT: ...``) or holds only white space (``empty``, by default
    ``empty WHAT file``)."""
    try:
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {what}: {exc}") from None
    if not text.strip():
        raise error(f"{path}: {empty or f'empty {what} file'}")
    return text, raw


@dataclass(frozen=True)
class LoadedModel:
    """A network as read from a file, with what the file says about its input domain."""

    network: ReluNetwork
    format: str
    path: Path
    default_box: Optional[tuple[tuple, tuple]] = None  # (lows, highs) from NNet files
    coordinates: str = ""  # NNet files: "raw" (units) or "normalized"; "" for other formats
    notes: tuple[str, ...] = ()  # what the loader assumed (a PyTorch state dict), for the user


def load_model(path: str | Path, nnet_normalized: bool = False, trust_pickle: bool = False) -> LoadedModel:
    """Read a network from ``path`` (format chosen by extension).

    ``nnet_normalized`` reads an NNet file in normalised coordinates (the network of its weights,
    no folding of the input normalisation or output scaling, and the input box normalised); by
    default NNet files are read in raw units.  Other formats ignore it.  ``trust_pickle`` lets the
    PyTorch loader unpickle a whole saved model, which runs code stored in the file."""
    p = Path(path)
    if "\0" in str(p):
        raise InputError(f"{str(p)!r}: the path contains a NUL byte")
    suffix = p.suffix.lower()
    if suffix not in LOADERS:
        supported = ", ".join(sorted(LOADERS))
        raise InputError(f"{p}: unknown file extension {suffix or '(none)'!r}; supported: {supported}")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    module_name, fmt = LOADERS[suffix]
    module = importlib.import_module(module_name)
    notes: list[str] = []
    try:
        if fmt == "torch":
            result = module.load(p, trust_pickle=trust_pickle, notes=notes)
        elif fmt == "nnet":
            result = module.load(p, normalized=nnet_normalized)
        else:
            result = module.load(p)
    except NetworkFormatError as exc:
        message = str(exc)
        raise NetworkFormatError(message if message.startswith(str(p)) else f"{p}: {message}") from None
    network, box = result if isinstance(result, tuple) else (result, None)
    coordinates = ("normalized" if nnet_normalized else "raw") if fmt == "nnet" else ""
    return LoadedModel(network, fmt, p, box, coordinates, tuple(f"{p}: {note}" for note in notes))


# extension -> module whose encode(network) gives the file's bytes (NNet: encode(network, lows, highs))
WRITERS = {
    ".json": "exactrelu.io.jsonfmt",
    ".npz": "exactrelu.io.npz",
    ".onnx": "exactrelu.io.onnxfmt",
    ".pt": "exactrelu.io.torchfmt",
    ".pth": "exactrelu.io.torchfmt",
    ".nnet": "exactrelu.io.nnet",
}


def encode_model(network: ReluNetwork, suffix: str, box: Optional[tuple] = None) -> bytes:
    """The bytes of ``network`` in the format the extension ``suffix`` names (``.nnet`` needs the
    input ``box`` ``(lows, highs)`` it states); an unknown extension is an :class:`InputError`."""
    suffix = suffix.lower()
    if suffix not in WRITERS:
        raise InputError(f"cannot write the extension {suffix or '(none)'!r}; supported: {', '.join(sorted(WRITERS))}")
    module = importlib.import_module(WRITERS[suffix])
    if suffix == ".nnet":
        if box is None:
            raise InputError("an .nnet file states the input bounds: give --box")
        return module.encode(network, *box)
    return module.encode(network)


def load_network(path: str | Path) -> ReluNetwork:
    """Read just the network from ``path``."""
    return load_model(path).network
