"""The JSON network format ``exactrelu-network``, version 1 (see docs/formats.md).

``{"format": "exactrelu-network", "version": 1, "layers": [{"weight": [[...]], "bias": [...]}]}``.
Entries are JSON integers, JSON numbers (binary64, converted exactly) or strings ``"p/q"`` /
exact decimals.  ``input_dim`` is optional (required only when it cannot be read off the first
weight, i.e. never in practice).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import NetworkFormatError
from ..network import NETWORK_FORMAT, NETWORK_VERSION, ReluNetwork
from .output import write_text


def read_json(path: Path, what: str = "file") -> object:
    """Parse a JSON file; an empty, truncated or invalid file is a :class:`NetworkFormatError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFormatError(f"{path}: cannot read {what}: {exc}") from None
    if not text.strip():
        raise NetworkFormatError(f"{path}: empty {what}")
    return parse_json_text(text, path, NetworkFormatError)


def parse_json_text(text: str, path: Path, error: type[Exception]) -> object:
    """``json.loads`` with every failure (syntax, nesting depth, huge integers) as ``error`` naming ``path``."""
    try:
        return json.loads(text, parse_float=_binary64)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply") from None
    except ValueError as exc:
        raise error(f"{path}: unreadable JSON value ({exc})") from None


def _binary64(text: str) -> float:
    """A JSON number with a fraction or an exponent, as the binary64 value it denotes (finite)."""
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"the number {shown} is too large for a binary64 number")
    return value


def network_from_dict(data: object, where: str) -> ReluNetwork:
    """Build a network from a parsed ``exactrelu-network`` object."""
    if not isinstance(data, dict):
        raise NetworkFormatError(f"{where}: expected a JSON object")
    if data.get("format") != NETWORK_FORMAT:
        raise NetworkFormatError(f"{where}: field 'format' must be {NETWORK_FORMAT!r}, got {data.get('format')!r}")
    if type(data.get("version")) is not int or data.get("version") != NETWORK_VERSION:
        raise NetworkFormatError(
            f"{where}: field 'version' must be {NETWORK_VERSION}, got {data.get('version')!r} (unsupported version)"
        )
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise NetworkFormatError(f"{where}: field 'layers' must be a non-empty list")
    pairs = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, dict) or "weight" not in layer or "bias" not in layer:
            raise NetworkFormatError(f"{where}: layer {k} must be an object with 'weight' and 'bias'")
        pairs.append((layer["weight"], layer["bias"]))
    net = ReluNetwork.from_lists(pairs, where)
    declared = data.get("input_dim")
    if declared is not None and declared != net.input_dim:
        raise NetworkFormatError(f"{where}: field 'input_dim' is {declared!r} but layer 0 has {net.input_dim} columns")
    return net


def load(path: Path) -> ReluNetwork:
    """Read an ``exactrelu-network`` JSON file."""
    return network_from_dict(read_json(path, "network"), str(path))


def dumps(network: ReluNetwork) -> str:
    """The ``exactrelu-network`` JSON text of ``network`` (rationals as strings)."""
    return json.dumps(network.to_dict(), indent=1) + "\n"


def encode(network: ReluNetwork) -> bytes:
    """:func:`dumps` as UTF-8 bytes (every format's writer has an ``encode``)."""
    return dumps(network).encode("utf-8")


def save(network: ReluNetwork, path: Path) -> None:
    """Write ``network`` as ``exactrelu-network`` JSON through :mod:`exactrelu.io.output`."""
    write_text(path, dumps(network))
