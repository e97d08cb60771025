"""The ACAS Xu ``.nnet`` text format, read exactly, in raw units or in normalised coordinates.

Layout: ``//`` comment lines, then the header ``numLayers, inputSize, outputSize, maxLayerSize``,
the layer sizes (``numLayers + 1`` of them), a flag line, the input minimums, the input maximums,
the means and the ranges (``inputSize`` entries for the inputs, then one for the outputs), and for
each layer its weight rows (one row per line) followed by its biases (one per line).
``maxLayerSize`` and the flag line are read but not used.  Fields are comma-separated; a trailing
comma is allowed; blank lines are ignored.

Invariant: every number is read as the exact decimal it is written as (``0.1`` is 1/10).  In raw
units (the default) the network returned computes exactly what the file's network computes on
normalised inputs, as a function of the raw inputs: ``x -> range_out * N((x - mean) / range) +
mean_out`` (the input normalisation folded into the first layer and the output scaling into the
last one, exactly).  With ``normalized=True`` it is ``N`` itself, the network of the file's
weights, taking normalised inputs and giving normalised outputs: the coordinates of the ONNX
exports and VNN-LIB properties of ACAS Xu.  Inputs are not clipped; the minimums and maximums are
returned as the default domain box, in the coordinates of the network returned.

>>> f = NNetFile((AffineLayer(((Fraction(2),),), (Fraction(1),)),), (Fraction(0),), (Fraction(10),),
...              (Fraction(5), Fraction(0)), (Fraction(10), Fraction(1)))
>>> [str(v) for v in f.normalize((Fraction(0),))], [str(v) for v in f.denormalize((Fraction(1, 2),))]
(['-1/2'], ['10'])
>>> f.box(normalized=True)
((Fraction(-1, 2),), (Fraction(1, 2),))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from ..errors import DomainError, InputError, NetworkFormatError
from ..network import AffineLayer, ReluNetwork, Vector
from ..rationals import decimal_text, format_rational, parse_rational
from .output import write_bytes

__all__ = ["load", "read", "save", "encode", "format_decimal", "NNetFile"]

_INT_RE = re.compile(r"^[+-]?\d+$")


class _Reader:
    """The numeric lines of a ``.nnet`` file, with their 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.pos = 0
        while self.pos < len(self.lines) and (
            not self.lines[self.pos].strip() or self.lines[self.pos].lstrip().startswith("//")
        ):
            self.pos += 1

    def _fields(self, what: str) -> tuple[int, list[str]]:
        while self.pos < len(self.lines) and not self.lines[self.pos].strip():
            self.pos += 1
        if self.pos >= len(self.lines):
            raise NetworkFormatError(f"truncated file: it ends at line {len(self.lines)}, before the {what}")
        self.pos += 1
        fields = [f.strip() for f in self.lines[self.pos - 1].split(",")]
        if len(fields) > 1 and not fields[-1]:
            fields.pop()
        return self.pos, fields

    def numbers(self, what: str, count: int) -> tuple[Fraction, ...]:
        """The next line, which must hold exactly ``count`` numbers."""
        line, fields = self._fields(what)
        if len(fields) != count:
            raise NetworkFormatError(f"line {line} ({what}): has {len(fields)} values, expected {count}")
        values = []
        for i, field in enumerate(fields):
            try:
                values.append(parse_rational(field, f"line {line} ({what}) value {i + 1}"))
            except InputError as exc:
                raise NetworkFormatError(str(exc)) from None
        return tuple(values)

    def integers(self, what: str, count: int) -> tuple[int, ...]:
        """The next line, which must hold exactly ``count`` integers of at least 1."""
        line, fields = self._fields(what)
        if len(fields) != count:
            raise NetworkFormatError(f"line {line} ({what}): has {len(fields)} values, expected {count}")
        for i, field in enumerate(fields):
            if not _INT_RE.match(field) or int(field) < 1:
                raise NetworkFormatError(
                    f"line {line} ({what}) value {i + 1}: {field!r} is not a positive integer"
                )
        return tuple(int(f) for f in fields)

    def check_end(self) -> None:
        for offset, text in enumerate(self.lines[self.pos :]):
            if text.strip():
                raise NetworkFormatError(f"line {self.pos + offset + 1}: unexpected content after the last bias")


def _fold(layers: list[AffineLayer], means: Vector, ranges: Vector) -> list[AffineLayer]:
    """Fold ``x -> (x - mean) / range`` into the first layer and ``y -> range * y + mean`` into the last."""
    n = len(means) - 1
    first = layers[0]
    weight = tuple(tuple(w / ranges[j] for j, w in enumerate(row)) for row in first.weight)
    shift = tuple(-means[j] for j in range(n))
    bias = tuple(b + sum((w * s for w, s in zip(row, shift)), Fraction(0)) for row, b in zip(weight, first.bias))
    layers[0] = AffineLayer(weight, bias)
    last = layers[-1]
    scale, offset = ranges[n], means[n]
    layers[-1] = AffineLayer(
        tuple(tuple(scale * w for w in row) for row in last.weight),
        tuple(scale * b + offset for b in last.bias),
    )
    return layers


@dataclass(frozen=True)
class NNetFile:
    """The contents of a ``.nnet`` file, exactly: the layers of ``N`` and the normalisation.

    ``means`` and ``ranges`` have ``inputSize + 1`` entries (the last one for the outputs)."""

    layers: tuple[AffineLayer, ...]
    mins: Vector
    maxes: Vector
    means: Vector
    ranges: Vector

    def normalize(self, x: Sequence[Fraction]) -> Vector:
        """Raw input units to normalised coordinates: ``(x - mean) / range``."""
        return tuple((v - m) / r for v, m, r in zip(x, self.means, self.ranges))

    def denormalize(self, x: Sequence[Fraction]) -> Vector:
        """Normalised coordinates to raw input units: ``x * range + mean``."""
        return tuple(v * r + m for v, m, r in zip(x, self.means, self.ranges))

    def box(self, normalized: bool = False) -> tuple[Vector, Vector]:
        """The stated input bounds ``(mins, maxes)``, in raw units or normalised coordinates."""
        if normalized:
            return self.normalize(self.mins), self.normalize(self.maxes)
        return self.mins, self.maxes

    def network(self, normalized: bool = False) -> ReluNetwork:
        """``N`` itself (``normalized``) or the raw-unit network with the normalisation folded in."""
        n = len(self.mins)
        layers = list(self.layers)
        return ReluNetwork(tuple(layers if normalized else _fold(layers, self.means, self.ranges)), n)


def read(path: Path) -> NNetFile:
    """Read a ``.nnet`` file exactly, checking its shape and its ranges."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFormatError(f"cannot read the file: {exc}") from None
    if not text.strip():
        raise NetworkFormatError("empty file (expected an .nnet network)")
    reader = _Reader(text)
    num_layers, n, m, _max_size = reader.integers("header: numLayers, inputSize, outputSize, maxLayerSize", 4)
    sizes = reader.integers("layer sizes", num_layers + 1)
    if sizes[0] != n or sizes[-1] != m:
        raise NetworkFormatError(
            f"layer sizes {list(sizes)} must start with the input size {n} and end with the output size {m}"
        )
    reader.numbers("flag line", 1)
    mins = reader.numbers("minimums", n)
    maxes = reader.numbers("maximums", n)
    for j, (low, high) in enumerate(zip(mins, maxes)):
        if low > high:
            raise NetworkFormatError(
                f"input {j + 1}: minimum {format_rational(low)} exceeds maximum {format_rational(high)}"
            )
    means = reader.numbers("means", n + 1)
    ranges = reader.numbers("ranges", n + 1)
    for j in range(n + 1):
        if ranges[j] == 0:
            where = f"input {j + 1}" if j < n else "the output"
            raise NetworkFormatError(f"ranges: {where} has range 0, so its normalisation divides by zero")
    layers = []
    for k in range(num_layers):
        rows = tuple(reader.numbers(f"layer {k} weight row {i}", sizes[k]) for i in range(sizes[k + 1]))
        bias = tuple(reader.numbers(f"layer {k} bias {i}", 1)[0] for i in range(sizes[k + 1]))
        layers.append(AffineLayer(rows, bias))
    reader.check_end()
    return NNetFile(tuple(layers), mins, maxes, means, ranges)


def load(path: Path, normalized: bool = False) -> tuple[ReluNetwork, tuple[Vector, Vector]]:
    """Read a ``.nnet`` file: the exact network and its input box ``(mins, maxes)``, both in raw
    units (default) or both in normalised coordinates (``normalized=True``)."""
    f = read(path)
    return f.network(normalized), f.box(normalized)


def format_decimal(value: Fraction, where: str) -> str:
    """The exact decimal text of ``value``; :class:`NetworkFormatError` if it has none.

    >>> format_decimal(Fraction(-3, 8), "w")
    '-0.375'
    """
    text = decimal_text(value)
    if text is None:
        raise NetworkFormatError(
            f"NNet cannot hold the exact network: {where} = {format_rational(value)} has no finite decimal "
            "expansion; save it as JSON instead"
        )
    return text


def encode(network: ReluNetwork, lows: Sequence[object], highs: Sequence[object]) -> bytes:
    """The ``.nnet`` text of ``network`` with input box ``[lows, highs]``, means 0 and ranges 1 (no
    normalisation).  Every number is written as an exact decimal; a weight without one (such as
    1/3) is refused, naming it."""
    n = network.input_dim
    box = []
    for name, values in (("lows", lows), ("highs", highs)):
        if len(values) != n:
            raise DomainError(f"{name}: has {len(values)} entries, the network has {n} inputs")
        box.append([parse_rational(v, f"{name} entry {j + 1}") for j, v in enumerate(values)])
    sizes = network.widths
    lines = [
        "// written by exactrelu: means 0 and ranges 1, so no normalisation",
        f"{len(network.layers)},{n},{network.output_dim},{max(sizes)},",
        ",".join(map(str, sizes)) + ",",
        "0,",
    ]
    for name, values in zip(("lows", "highs"), box):
        lines.append("".join(format_decimal(v, f"{name} entry {j + 1}") + "," for j, v in enumerate(values)))
    lines.append("0," * (n + 1))
    lines.append("1," * (n + 1))
    for k, layer in enumerate(network.layers):
        for i, row in enumerate(layer.weight):
            lines.append("".join(format_decimal(w, f"layer {k} weight[{i}][{j}]") + "," for j, w in enumerate(row)))
        lines.extend(format_decimal(b, f"layer {k} bias[{i}]") + "," for i, b in enumerate(layer.bias))
    return ("\n".join(lines) + "\n").encode("ascii")


def save(network: ReluNetwork, path: Path, lows: Sequence[object], highs: Sequence[object]) -> None:
    """Write :func:`encode` of ``network`` to ``path`` through :mod:`exactrelu.io.output`."""
    write_bytes(path, encode(network, lows, highs))

