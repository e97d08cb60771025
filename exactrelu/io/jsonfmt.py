"""The JSON network format ``exactrelu-network``, version 1 (see docs/formats.md).

``{"format": "exactrelu-network", "version": 1, "layers": [{"weight": [[...]], "bias": [...]}]}``.
Entries are JSON integers, JSON numbers (binary64, converted exactly) or strings ``"p/q"`` /
exact decimals.  ``input_dim`` is optional (required only when it cannot be read off the first
weight, i.e. never in practice).  A weight may instead be *sparse*,
``{"shape": [rows, cols], "entries": [[i, j, value], ...]}``: the entries not listed are 0, the
positions strictly increasing in row-major order.  Either spelling is the same network (the same
:meth:`~exactrelu.network.ReluNetwork.sha256`, which hashes the dense canonical form).

>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1, 0], [0, "1/2"]], [0, 0]), ([[1, -1]], [0])])
>>> sparse = to_dict(net, sparse=True)
>>> sparse["layers"][0]["weight"]
{'shape': [2, 2], 'entries': [[0, 0, '1'], [1, 1, '1/2']]}
>>> network_from_dict(sparse, "net").sha256() == net.sha256()
True
"""

from __future__ import annotations

import hashlib
import json
import math
from fractions import Fraction
from pathlib import Path

from ..errors import NetworkFormatError
from ..network import NETWORK_FORMAT, NETWORK_VERSION, ReluNetwork
from ..rationals import format_rational
from . import read_text
from .output import write_text

ZERO = Fraction(0)


def read_json(path: Path, what: str = "file") -> object:
    """Parse a JSON file; an empty, truncated or invalid file is a :class:`NetworkFormatError`."""
    return read_json_with_sha256(path, what)[0]


def read_json_with_sha256(path: Path, what: str = "file") -> tuple[object, str]:
    """:func:`read_json`, and the SHA-256 of the file's bytes as read (what a version-3 certificate
    pins for its shallow file)."""
    text, raw = read_text(path, what, NetworkFormatError, f"empty {what}")
    return parse_json_text(text, path, NetworkFormatError), hashlib.sha256(raw).hexdigest()


def _unique_keys(pairs: list) -> dict:
    """A JSON object whose keys are distinct (as the checker requires: a duplicate would be read as
    its last value here and refused there)."""
    seen: set = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the field {key!r} appears twice in one JSON object")
        seen.add(key)
    return dict(pairs)


def parse_json_text(text: str, path: Path, error: type[Exception]) -> object:
    """``json.loads`` with every failure (syntax, nesting depth, huge integers) as ``error`` naming ``path``."""
    try:
        return json.loads(text, parse_float=_binary64, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and exc.lineno == 2 and _streamed_header(text):
            raise error(f"{path}: a streamed (version 3) certificate: only `exactrelu check` reads that form; "
                        "write the certificate without --stream for this command") from None
        raise error(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply") from None
    except ValueError as exc:
        raise error(f"{path}: unreadable JSON value ({exc})") from None


def _streamed_header(text: str) -> bool:
    """Whether the first line of ``text`` is the header of a version-3 (JSON Lines) certificate."""
    try:
        header = json.loads(text.split("\n", 1)[0])
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("version") == 3 and header.get("stream") == "jsonl"


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
        pairs.append((_rows(layer["weight"], f"{where}: layer {k} weight"), layer["bias"]))
    net = ReluNetwork.from_lists(pairs, where)
    declared = data.get("input_dim")
    if declared is not None and declared != net.input_dim:
        raise NetworkFormatError(f"{where}: field 'input_dim' is {declared!r} but layer 0 has {net.input_dim} columns")
    return net


DENSE_LIMIT = 10 ** 8  # weights per layer: a network is held dense in memory (ReluNetwork)


def _rows(weight: object, where: str) -> object:
    """A weight as its rows: a sparse object (module docstring) expanded, anything else as it is."""
    if not isinstance(weight, dict):
        return weight
    shape, entries = weight.get("shape"), weight.get("entries")
    if (not isinstance(shape, list) or len(shape) != 2
            or any(type(s) is not int or s < 1 for s in shape)):
        raise NetworkFormatError(f"{where}: a sparse weight needs 'shape': [rows, cols], two positive integers")
    if not isinstance(entries, list):
        raise NetworkFormatError(f"{where}: a sparse weight needs 'entries': a list of [i, j, value]")
    rows, cols = shape
    if rows * cols > DENSE_LIMIT:
        raise NetworkFormatError(f"{where}: a sparse weight of shape {rows} x {cols} is held densely in memory; "
                                 f"more than {DENSE_LIMIT:.0e} weights per layer is refused")
    out: list[list[object]] = [[ZERO] * cols for _ in range(rows)]
    last = -1
    for e, entry in enumerate(entries):
        if (not isinstance(entry, list) or len(entry) != 3 or any(type(c) is not int for c in entry[:2])
                or not (0 <= entry[0] < rows and 0 <= entry[1] < cols)):
            raise NetworkFormatError(f"{where}: entry {e} must be [i, j, value] with 0 <= i < {rows}, 0 <= j < {cols}")
        i, j, value = entry
        if i * cols + j <= last:
            raise NetworkFormatError(f"{where}: entry {e}: positions must be strictly increasing in row-major order")
        last = i * cols + j
        out[i][j] = value
    return out


def to_dict(network: ReluNetwork, sparse: bool = False) -> dict:
    """The ``exactrelu-network`` object of ``network``: :meth:`~exactrelu.network.ReluNetwork.to_dict`,
    or with ``sparse`` every weight as a sparse object of its nonzero entries."""
    if not sparse:
        return network.to_dict()
    return {"format": NETWORK_FORMAT, "version": NETWORK_VERSION, "input_dim": network.input_dim,
            "layers": [{"weight": {"shape": [layer.out_dim, len(layer.weight[0])],
                                   "entries": [[i, j, format_rational(w)] for i, row in enumerate(layer.weight)
                                               for j, w in enumerate(row) if w]},
                        "bias": [format_rational(b) for b in layer.bias]} for layer in network.layers]}


def load(path: Path) -> ReluNetwork:
    """Read an ``exactrelu-network`` JSON file."""
    return network_from_dict(read_json(path, "network"), str(path))


def dumps(network: ReluNetwork, sparse: bool = False) -> str:
    """The ``exactrelu-network`` JSON text of ``network`` (rationals as strings; :func:`to_dict`)."""
    return json.dumps(to_dict(network, sparse), indent=1) + "\n"


def encode(network: ReluNetwork) -> bytes:
    """:func:`dumps` as UTF-8 bytes (every format's writer has an ``encode``)."""
    return dumps(network).encode("utf-8")


def save(network: ReluNetwork, path: Path) -> None:
    """Write ``network`` as ``exactrelu-network`` JSON through :mod:`exactrelu.io.output`."""
    write_text(path, dumps(network))
