"""The exact ReLU network model.

A :class:`ReluNetwork` is a sequence of affine layers ``(W, b)`` with exact rational entries;
every layer but the last is followed by ReLU.  ``W[i][j]`` maps input ``j`` to output ``i``.
Invariant: entries are :class:`fractions.Fraction`, shapes chain (each layer's input width is
the previous layer's output width), and the object is immutable.

>>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
>>> net.evaluate(["-1/3"])
(Fraction(1, 3),)
>>> net.pattern([0])
((False, False),)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Sequence

import numpy as np

from .errors import InputError, NetworkFormatError
from .rationals import format_rational, parse_rational

Matrix = tuple[tuple[Fraction, ...], ...]
Vector = tuple[Fraction, ...]

NETWORK_FORMAT = "exactrelu-network"
NETWORK_VERSION = 1


@dataclass(frozen=True)
class AffineLayer:
    """One affine map ``x -> W x + b`` with exact entries; ``W`` is out x in."""

    weight: Matrix
    bias: Vector

    @property
    def in_dim(self) -> int:
        return len(self.weight[0]) if self.weight else 0

    @property
    def out_dim(self) -> int:
        return len(self.bias)

    def apply(self, x: Sequence[Fraction]) -> Vector:
        """Exact ``W x + b``."""
        return tuple(sum((w * v for w, v in zip(row, x)), b) for row, b in zip(self.weight, self.bias))


@dataclass(frozen=True)
class ReluNetwork:
    """A feed-forward ReLU network with exact rational weights (see module docstring)."""

    layers: tuple[AffineLayer, ...]
    input_dim: int

    def __post_init__(self) -> None:
        if not self.layers:
            raise NetworkFormatError("network has no layers")
        width = self.input_dim
        for k, layer in enumerate(self.layers):
            if layer.out_dim == 0:
                raise NetworkFormatError(f"layer {k}: has no outputs")
            if len(layer.weight) != layer.out_dim:
                raise NetworkFormatError(
                    f"layer {k}: weight has {len(layer.weight)} rows but bias has {layer.out_dim} entries"
                )
            for i, row in enumerate(layer.weight):
                if len(row) != width:
                    where = "the input" if k == 0 else f"layer {k - 1} (width {width})"
                    raise NetworkFormatError(
                        f"layer {k}: weight row {i} has {len(row)} columns but {where} has {width} outputs"
                        if k
                        else f"layer 0: weight row {i} has {len(row)} columns, input dimension is {width}"
                    )
            width = layer.out_dim

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_lists(
        cls, layers: Iterable[tuple[object, object]], where: str = "network"
    ) -> "ReluNetwork":
        """Build from ``[(W, b), ...]`` of numbers or rational strings, converting exactly."""
        built = []
        input_dim = None
        for k, (w, b) in enumerate(layers):
            weight = _parse_matrix(w, f"{where}: layer {k} weight")
            bias = _parse_vector(b, f"{where}: layer {k} bias")
            if input_dim is None:
                input_dim = len(weight[0]) if weight else 0
            built.append(AffineLayer(weight, bias))
        if input_dim is None:
            raise NetworkFormatError(f"{where}: network has no layers")
        try:
            return cls(tuple(built), input_dim)
        except NetworkFormatError as exc:
            raise NetworkFormatError(f"{where}: {exc}") from None

    # ----------------------------------------------------------------- shape
    @property
    def output_dim(self) -> int:
        return self.layers[-1].out_dim

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        return tuple(layer.out_dim for layer in self.layers[:-1])

    @property
    def widths(self) -> tuple[int, ...]:
        """Input, hidden and output widths."""
        return (self.input_dim,) + tuple(layer.out_dim for layer in self.layers)

    @property
    def neuron_count(self) -> int:
        return sum(self.hidden_widths)

    @property
    def parameter_count(self) -> int:
        return sum(layer.out_dim * (layer.in_dim + 1) for layer in self.layers)

    # ----------------------------------------------------------------- evaluation
    def coerce_point(self, x: Sequence[object], where: str = "x") -> Vector:
        """Exact rationals of ``x``, checking its length."""
        if len(x) != self.input_dim:
            raise InputError(f"{where}: has {len(x)} entries, the network has {self.input_dim} inputs")
        return tuple(parse_rational(v, f"{where} entry {i + 1}") for i, v in enumerate(x))

    def evaluate(self, x: Sequence[object]) -> Vector:
        """The exact output at a rational point."""
        v = self.coerce_point(x)
        for layer in self.layers[:-1]:
            v = tuple(max(z, Fraction(0)) for z in layer.apply(v))
        return self.layers[-1].apply(v)

    def pattern(self, x: Sequence[object]) -> tuple[tuple[bool, ...], ...]:
        """The activation pattern at ``x``: neuron active iff its pre-activation is ``> 0``."""
        v = self.coerce_point(x)
        result = []
        for layer in self.layers[:-1]:
            z = layer.apply(v)
            result.append(tuple(zi > 0 for zi in z))
            v = tuple(max(zi, Fraction(0)) for zi in z)
        return tuple(result)

    def float_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The weights as float64 arrays (for guidance and plots only, never for decisions)."""
        return [
            (
                np.array([[float(w) for w in row] for row in layer.weight], dtype=float).reshape(
                    layer.out_dim, layer.in_dim
                ),
                np.array([float(b) for b in layer.bias], dtype=float),
            )
            for layer in self.layers
        ]

    def evaluate_float(self, xs: np.ndarray) -> np.ndarray:
        """Batched float64 evaluation: ``xs`` is ``(batch, input_dim)``, result ``(batch, output_dim)``."""
        v = np.atleast_2d(np.asarray(xs, dtype=float))
        layers = self.float_layers()
        for w, b in layers[:-1]:
            v = np.maximum(v @ w.T + b, 0.0)
        w, b = layers[-1]
        return v @ w.T + b

    # ----------------------------------------------------------------- canonical form
    def to_dict(self) -> dict:
        """The canonical JSON object (every rational as a ``"p/q"`` string)."""
        return {
            "format": NETWORK_FORMAT,
            "version": NETWORK_VERSION,
            "input_dim": self.input_dim,
            "layers": [
                {
                    "weight": [[format_rational(w) for w in row] for row in layer.weight],
                    "bias": [format_rational(b) for b in layer.bias],
                }
                for layer in self.layers
            ],
        }

    def canonical_json(self) -> str:
        """Canonical text: sorted keys, no spaces, rationals in lowest terms."""
        return canonical_dumps(self.to_dict())

    def sha256(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json`; certificates bind to it."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    # ----------------------------------------------------------------- rounding on request
    def limit_denominator(self, max_denominator: int) -> tuple["ReluNetwork", Fraction]:
        """Round every weight to the nearest rational with denominator ``<= max_denominator``.

        Only on the user's request.  Returns the rounded network and the largest absolute change.
        """
        if max_denominator < 1:
            raise InputError("--limit-denominator: must be a positive integer")
        largest = Fraction(0)
        layers = []
        for layer in self.layers:
            def r(v: Fraction) -> Fraction:
                nonlocal largest
                w = v.limit_denominator(max_denominator)
                largest = max(largest, abs(w - v))
                return w

            layers.append(
                AffineLayer(
                    tuple(tuple(r(w) for w in row) for row in layer.weight),
                    tuple(r(b) for b in layer.bias),
                )
            )
        return ReluNetwork(tuple(layers), self.input_dim), largest


def canonical_dumps(obj: object) -> str:
    """The canonical JSON text used for hashing (sorted keys, compact separators)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_sha256(obj: object) -> str:
    """SHA-256 (hex) of :func:`canonical_dumps` of a JSON value."""
    return hashlib.sha256(canonical_dumps(obj).encode("utf-8")).hexdigest()


def _parse_matrix(w: object, where: str) -> Matrix:
    rows = _as_list(w, where)
    result = []
    width = None
    for i, row in enumerate(rows):
        entries = _as_list(row, f"{where} row {i}")
        if width is None:
            width = len(entries)
        elif len(entries) != width:
            raise NetworkFormatError(f"{where}: row {i} has {len(entries)} entries, row 0 has {width}")
        result.append(tuple(_entry(v, f"{where}[{i}][{j}]") for j, v in enumerate(entries)))
    return tuple(result)


def _parse_vector(b: object, where: str) -> Vector:
    return tuple(_entry(v, f"{where}[{i}]") for i, v in enumerate(_as_list(b, where)))


def _as_list(value: object, where: str) -> list:
    if isinstance(value, np.ndarray):
        return list(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise NetworkFormatError(f"{where}: expected a list, got {type(value).__name__}")


def _entry(value: object, where: str) -> Fraction:
    try:
        return parse_rational(value, where)
    except InputError as exc:
        raise NetworkFormatError(str(exc)) from None
