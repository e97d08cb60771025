"""The three-hidden-layer network with extended-real weights (Villani & Schoots).

From the regions ``R_k`` of a deep network over a domain ``D`` this module builds

* ``H, c``: the distinct affine functions ``h_j(x) = H_j x + c_j`` of the regions' neuron
  conditions, each scaled by a positive rational so that its first nonzero ``H`` entry is ``±1``
  (so positive multiples of one function are one row);
* ``strict[k]`` / ``weak[k]``: the ``j`` with ``h_j > 0`` (resp. ``h_j <= 0``) among region ``k``'s
  conditions (neurons whose pre-activation is constant are omitted: on a nonempty region such a
  condition holds everywhere);
* ``alpha[k], beta[k]``: region ``k``'s local affine model;

and wires them into three hidden ReLU layers and an affine output layer (DESIGN.md section 3):

1. ``a_j = relu(h_j)``, and ``relu(l_ko)``, ``relu(-l_ko)`` for each region ``k`` and output ``o``;
2. ``p_j = relu(1 - inf * a_j)``; ``a_j`` and the model halves pass through;
3. ``g_ko^± = relu(±(relu(l_ko) - relu(-l_ko)) - inf * V_k)`` with
   ``V_k = sum_{j in strict[k]} p_j + sum_{j in weak[k]} a_j``;
4. ``y_o = sum_k (g_ko^+ - g_ko^-)``.

Invariant (the construction lemma, docs/theory.md): on ``R_k`` exactly gate ``k`` is open, so the
network equals ``alpha[k] x + beta[k]``, which is the deep network there.  Domain constraints are
not gates: at a point ``x`` outside ``D`` the network equals the deep network if ``x``'s activation
pattern is the pattern of some region found in ``D``, and ``0`` otherwise (no gate opens).

>>> from exactrelu.network import ReluNetwork
>>> from exactrelu.regions import enumerate_regions
>>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])   # |x|
>>> s = build_shallow(enumerate_regions(net))
>>> s.H, s.c, s.strict, s.weak
(((Fraction(1, 1),), (Fraction(-1, 1),)), (Fraction(0, 1), Fraction(0, 1)), ((0,), (1,), ()), ((1,), (0,), (0, 1)))
>>> [s.evaluate([v]) for v in ("-2", "0", "3/2")]
[(Fraction(2, 1),), (Fraction(0, 1),), (Fraction(3, 2),)]
"""

from __future__ import annotations

import json
import math
from array import array
from pathlib import Path
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Optional, Sequence

import numpy as np

from .domain import Domain
from .errors import InputError, NetworkFormatError
from .extended import NEG_INF, Extended, Infinity, add, format_extended, mul, parse_extended, relu
from .network import Matrix, Vector, canonical_sha256
from .rationals import format_rational, parse_rational
from .regions import Enumeration

SHALLOW_FORMAT = "exactrelu-shallow"
SHALLOW_VERSION = 1
ONE = Fraction(1)
ZERO = Fraction(0)


@dataclass(frozen=True)
class SparseLayer:
    """An affine layer ``rows x cols`` stored as its nonzero entries ``(i, j, w)`` sorted by ``(i, j)``."""

    rows: int
    cols: int
    entries: tuple[tuple[int, int, Extended], ...]
    bias: tuple[Extended, ...]

    @property
    def infinite_count(self) -> int:
        return sum(isinstance(w, Infinity) for _, _, w in self.entries)

    def apply(self, x: Sequence[Extended]) -> list[Extended]:
        """Exact extended-real ``W x + b``."""
        out: list[Extended] = list(self.bias)
        for i, j, w in self.entries:
            out[i] = add(out[i], mul(w, x[j]))
        return out


def normalise(w: Vector, b: Fraction) -> Optional[tuple[Vector, Fraction]]:
    """``(w, b)`` divided by the absolute value of the first nonzero entry of ``w``; ``None`` if ``w = 0``."""
    for a in w:
        if a:
            scale = abs(a)
            return tuple(v / scale for v in w), b / scale
    return None


def shallow_layers(
    H: Matrix, c: Vector, alpha: Sequence[Matrix], beta: Sequence[Vector],
    strict: Sequence[Sequence[int]], weak: Sequence[Sequence[int]],
) -> tuple[SparseLayer, ...]:
    """The four affine layers of the construction (three hidden, then the output)."""
    J, K = len(H), len(alpha)
    n = len(H[0]) if H else (len(alpha[0][0]) if alpha and alpha[0] else 0)
    m = len(beta[0]) if beta else 0
    halves = 2 * K * m

    def half(k: int, o: int) -> int:  # index of relu(l_ko) among the model halves; +1 is relu(-l_ko)
        return 2 * (k * m + o)

    e1: list[tuple[int, int, Extended]] = []
    b1: list[Extended] = []
    for j in range(J):
        e1 += [(j, t, H[j][t]) for t in range(n) if H[j][t]]
        b1.append(c[j])
    for k in range(K):
        for o in range(m):
            for s in (1, -1):
                row = J + half(k, o) + (s < 0)
                e1 += [(row, t, s * alpha[k][o][t]) for t in range(n) if alpha[k][o][t]]
                b1.append(s * beta[k][o])
    layer1 = SparseLayer(J + halves, n, tuple(e1), tuple(b1))

    e2: list[tuple[int, int, Extended]] = [(j, j, NEG_INF) for j in range(J)]
    e2 += [(J + j, j, ONE) for j in range(J)]
    e2 += [(2 * J + t, J + t, ONE) for t in range(halves)]
    layer2 = SparseLayer(2 * J + halves, J + halves, tuple(e2), tuple([ONE] * J + [ZERO] * (J + halves)))

    e3: list[tuple[int, int, Extended]] = []
    for k in range(K):
        gates = sorted([(j, NEG_INF) for j in strict[k]] + [(J + j, NEG_INF) for j in weak[k]])
        for o in range(m):
            for s in (1, -1):
                row = half(k, o) + (s < 0)
                cells = gates + [(2 * J + half(k, o), Fraction(s)), (2 * J + half(k, o) + 1, Fraction(-s))]
                e3 += [(row, col, w) for col, w in sorted(cells)]
    layer3 = SparseLayer(halves, 2 * J + halves, tuple(e3), tuple([ZERO] * halves))

    e4 = sorted((o, half(k, o) + d, ONE if d == 0 else -ONE) for k in range(K) for o in range(m) for d in (0, 1))
    layer4 = SparseLayer(m, halves, tuple(e4), tuple([ZERO] * m))
    return layer1, layer2, layer3, layer4


@dataclass(frozen=True)
class ShallowNetwork:
    """The three-hidden-layer network (module docstring) with the blocks it is built from."""

    input_dim: int
    output_dim: int
    H: Matrix
    c: Vector
    alpha: tuple[Matrix, ...]
    beta: tuple[Vector, ...]
    strict: tuple[tuple[int, ...], ...]
    weak: tuple[tuple[int, ...], ...]
    domain: Domain
    deep_sha256: str
    layers: tuple[SparseLayer, ...]

    @property
    def hyperplanes(self) -> int:
        return len(self.H)

    @property
    def regions(self) -> int:
        return len(self.alpha)

    @property
    def hidden_widths(self) -> tuple[int, ...]:
        return tuple(layer.rows for layer in self.layers[:-1])

    @property
    def infinite_weights(self) -> int:
        return sum(layer.infinite_count for layer in self.layers)

    # ------------------------------------------------------------- evaluation
    def coerce_point(self, x: Sequence[object], where: str = "x") -> Vector:
        if len(x) != self.input_dim:
            raise InputError(f"{where}: has {len(x)} entries, the network has {self.input_dim} inputs")
        return tuple(parse_rational(v, f"{where} entry {i + 1}") for i, v in enumerate(x))

    def evaluate(self, x: Sequence[object]) -> Vector:
        """Exact value at a rational point (extended arithmetic inside; the output is finite)."""
        v: list[Extended] = list(self.coerce_point(x))
        for layer in self.layers[:-1]:
            v = [relu(z) for z in layer.apply(v)]
        out = self.layers[-1].apply(v)
        return tuple(out)  # type: ignore[arg-type]

    def evaluate_float(self, xs: np.ndarray) -> np.ndarray:
        """Batched float64 evaluation that treats infinite weights exactly as the construction says:
        ``inf * 0 = 0``; a row's infinite terms are summed by sign, never as ``inf * 0 = nan``."""
        v = np.atleast_2d(np.asarray(xs, dtype=float))
        for index, layer in enumerate(self.layers):
            v = _float_layer(layer, v)
            if index < len(self.layers) - 1:
                v = np.maximum(v, 0.0)
        return v

    # ------------------------------------------------------------- file format
    def to_dict(self) -> dict:
        q = format_rational
        texts: dict[int, str] = {}  # id(weight) -> its text, for this call (the layers hold the weights)

        def text(w: Extended) -> str:
            made = texts.get(id(w))
            if made is None:
                made = texts[id(w)] = format_extended(w)
            return made

        return {
            "format": SHALLOW_FORMAT,
            "version": SHALLOW_VERSION,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "domain": self.domain.to_dict(),
            "deep_sha256": self.deep_sha256,
            "H": [[q(v) for v in row] for row in self.H],
            "c": [q(v) for v in self.c],
            "alpha": [[[q(v) for v in row] for row in a] for a in self.alpha],
            "beta": [[q(v) for v in b] for b in self.beta],
            "strict": [list(s) for s in self.strict],
            "weak": [list(w) for w in self.weak],
            "layers": [
                {
                    "rows": layer.rows,
                    "cols": layer.cols,
                    "weights": [[i, j, text(w)] for i, j, w in layer.entries],
                    "bias": [text(b) for b in layer.bias],
                }
                for layer in self.layers
            ],
        }

    def sha256(self) -> str:
        return canonical_sha256(self.json_object())

    def json_object(self) -> dict:
        """:meth:`to_dict`, made once and kept (the network is immutable): for hashing and writing,
        which must not change it."""
        made = self.__dict__.get("_json_object")
        if made is None:
            made = self.to_dict()
            object.__setattr__(self, "_json_object", made)
        return made


def _float_layer(layer: SparseLayer, v: np.ndarray) -> np.ndarray:
    batch = v.shape[0]
    finite = [(i, j, float(w)) for i, j, w in layer.entries if not isinstance(w, Infinity)]
    infinite = [(i, j, w.sign) for i, j, w in layer.entries if isinstance(w, Infinity)]
    out = np.tile(np.array([float(b) for b in layer.bias], dtype=float), (batch, 1))
    if finite:
        rows, cols, vals = (np.array(a) for a in zip(*finite))
        np.add.at(out.T, rows, (v[:, cols] * vals).T)
    if infinite:
        rows, cols, signs = (np.array(a) for a in zip(*infinite))
        terms = np.sign(v[:, cols]) * signs  # +1: this term is +inf, -1: -inf, 0: inf * 0 = 0
        up = np.zeros((layer.rows, batch))
        down = np.zeros((layer.rows, batch))
        np.add.at(up, rows, (terms > 0).T)
        np.add.at(down, rows, (terms < 0).T)
        if np.any((up > 0) & (down > 0)):
            raise InputError("float evaluation met inf - inf (the shallow network is malformed)")
        out = np.where(up.T > 0, np.inf, np.where(down.T > 0, -np.inf, out))
    return out


def build_shallow(enumeration: Enumeration) -> ShallowNetwork:
    """The construction of the module docstring over the regions of ``enumeration``."""
    n = enumeration.network.input_dim
    planes = Hyperplanes()
    strict, weak = [], []
    for region in enumeration.regions:
        s_k, w_k = planes.gates(region)
        strict.append(tuple(s_k))
        weak.append(tuple(w_k))
    H = [tuple(Fraction(a, first) for a in key[:-1]) for key, first in zip(planes.keys, planes.firsts())]
    c = [Fraction(key[-1], first) for key, first in zip(planes.keys, planes.firsts())]
    alpha = tuple(r.alpha for r in enumeration.regions)
    beta = tuple(r.beta for r in enumeration.regions)
    layers = shallow_layers(tuple(H), tuple(c), alpha, beta, strict, weak)
    return ShallowNetwork(
        input_dim=n,
        output_dim=enumeration.network.output_dim,
        H=tuple(H),
        c=tuple(c),
        alpha=alpha,
        beta=beta,
        strict=tuple(strict),
        weak=tuple(weak),
        domain=enumeration.domain,
        deep_sha256=enumeration.network.sha256(),
        layers=layers,
    )


# ----------------------------------------------------------------- loading
def shallow_from_dict(data: object, where: str) -> ShallowNetwork:
    """Parse an ``exactrelu-shallow`` object, checking its structure (not its correctness: that is
    the checker's job)."""
    if not isinstance(data, dict):
        raise NetworkFormatError(f"{where}: expected a JSON object")
    if data.get("format") != SHALLOW_FORMAT:
        raise NetworkFormatError(f"{where}: field 'format' must be {SHALLOW_FORMAT!r}")
    if type(data.get("version")) is not int or data.get("version") != SHALLOW_VERSION:
        raise NetworkFormatError(f"{where}: field 'version' must be {SHALLOW_VERSION}, got {data.get('version')!r}")
    missing = [k for k in ("input_dim", "output_dim", "domain", "deep_sha256", "H", "c", "alpha", "beta",
                           "strict", "weak", "layers") if k not in data]
    if missing:
        raise NetworkFormatError(f"{where}: missing field(s) {', '.join(missing)}")
    try:
        n, m = _count(data["input_dim"], "input_dim"), _count(data["output_dim"], "output_dim")
        H = tuple(_vector(row, f"H[{j}]", n) for j, row in enumerate(_list(data["H"], "H")))
        c = _vector(data["c"], "c", len(H))
        alpha = tuple(tuple(_vector(row, f"alpha[{k}][{o}]", n) for o, row in enumerate(_list(a, f"alpha[{k}]", m)))
                      for k, a in enumerate(_list(data["alpha"], "alpha")))
        K = len(alpha)
        beta = tuple(_vector(b, f"beta[{k}]", m) for k, b in enumerate(_list(data["beta"], "beta", K)))
        strict = tuple(_indices(s, f"strict[{k}]", len(H)) for k, s in enumerate(_list(data["strict"], "strict", K)))
        weak = tuple(_indices(s, f"weak[{k}]", len(H)) for k, s in enumerate(_list(data["weak"], "weak", K)))
        domain = Domain.from_dict(data["domain"], "domain")
        layers = tuple(_layer(layer, f"layers[{t}]") for t, layer in enumerate(_list(data["layers"], "layers")))
    except InputError as exc:
        raise NetworkFormatError(f"{where}: {exc}") from None
    if len(layers) != 4:
        raise NetworkFormatError(f"{where}: field 'layers' must hold 4 layers (three hidden and the output), got {len(layers)}")
    width = n
    for t, layer in enumerate(layers):
        if layer.cols != width:
            raise NetworkFormatError(f"{where}: layers[{t}] has {layer.cols} columns but receives {width} values")
        width = layer.rows
    if width != m:
        raise NetworkFormatError(f"{where}: the output layer has {width} rows but output_dim is {m}")
    if not isinstance(data["deep_sha256"], str):
        raise NetworkFormatError(f"{where}: field 'deep_sha256' must be a string")
    return ShallowNetwork(n, m, H, c, alpha, beta, strict, weak, domain, data["deep_sha256"], layers)


def load_shallow(path) -> ShallowNetwork:
    from .io.jsonfmt import read_json

    return shallow_from_dict(read_json(Path(path), "shallow network"), str(path))


def dumps_shallow(shallow: ShallowNetwork) -> str:
    """The ``exactrelu-shallow`` JSON text of ``shallow``."""
    return json.dumps(shallow.json_object(), separators=(",", ":")) + "\n"


def save_shallow(shallow: ShallowNetwork, path) -> None:
    """Write ``shallow`` to ``path`` through :mod:`exactrelu.io.output`."""
    from .io.output import write_text

    write_text(path, dumps_shallow(shallow))


def _count(v: object, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise InputError(f"field {where!r} must be a nonnegative integer")
    return v


def _list(v: object, where: str, length: Optional[int] = None) -> list:
    if not isinstance(v, list):
        raise InputError(f"field {where!r} must be a list")
    if length is not None and len(v) != length:
        raise InputError(f"field {where!r} must have {length} entries, has {len(v)}")
    return v


def _strict_rational(v: object, where: str) -> Fraction:
    if isinstance(v, float):
        raise InputError(f"field {where!r}: JSON float {v!r} where a rational string belongs")
    return parse_rational(v, f"field {where!r}")


def _vector(v: object, where: str, length: int) -> Vector:
    return tuple(_strict_rational(a, f"{where}[{i}]") for i, a in enumerate(_list(v, where, length)))


def _indices(v: object, where: str, bound: int) -> tuple[int, ...]:
    items = _list(v, where)
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < bound for i in items):
        raise InputError(f"field {where!r} must list hyperplane indices in 0..{bound - 1}")
    return tuple(items)


def _layer(v: object, where: str) -> SparseLayer:
    if not isinstance(v, dict):
        raise InputError(f"field {where!r} must be an object")
    rows, cols = _count(v.get("rows"), f"{where}.rows"), _count(v.get("cols"), f"{where}.cols")
    entries = []
    for t, e in enumerate(_list(v.get("weights"), f"{where}.weights")):
        if not (isinstance(e, list) and len(e) == 3 and all(isinstance(a, int) and not isinstance(a, bool) for a in e[:2])):
            raise InputError(f"field '{where}.weights[{t}]' must be [row, col, value]")
        i, j = e[0], e[1]
        if not (0 <= i < rows and 0 <= j < cols):
            raise InputError(f"field '{where}.weights[{t}]' index ({i}, {j}) outside {rows} x {cols}")
        entries.append((i, j, parse_extended(e[2], f"field '{where}.weights[{t}]'")))
    bias = tuple(parse_extended(b, f"field '{where}.bias[{i}]'") for i, b in enumerate(_list(v.get("bias"), f"{where}.bias", rows)))
    return SparseLayer(rows, cols, tuple(sorted(entries, key=lambda e: (e[0], e[1]))), bias)


# ----------------------------------------------------------------- streamed construction
def _negated(text: str) -> str:
    """The canonical text of ``-q`` from that of ``q``."""
    return text[1:] if text.startswith("-") else ("0" if text == "0" else "-" + text)


class Hyperplanes:
    """The distinct hyperplanes ``h_j`` of the regions' conditions, numbered as they first appear,
    each kept as its primitive integer row ``(w | b)`` (a positive multiple of the pre-activation;
    ``h_j`` is it divided by the absolute value of its first nonzero ``w`` entry, as
    :func:`normalise` gives).  A pre-activation object seen before is not converted again (the search
    shares one object among all regions of a layer cell)."""

    MEMO = 1 << 18  # pre-activation objects remembered at most

    def __init__(self) -> None:
        self.index: dict[tuple[int, ...], int] = {}
        self.keys: list[tuple[int, ...]] = []
        self._memo: dict[int, tuple[object, Optional[int]]] = {}  # id(pre-activation) -> (it, j)

    def of(self, affine) -> Optional[int]:
        """The index ``j`` of the hyperplane of ``affine = (w, b)``; ``None`` if ``w = 0``."""
        memo = self._memo.get(id(affine))
        if memo is not None and memo[0] is affine:
            return memo[1]
        w, b = affine
        j = None
        if any(w):
            den = math.lcm(*(a.denominator for a in w), b.denominator)
            ints = [a.numerator * (den // a.denominator) for a in w] + [b.numerator * (den // b.denominator)]
            g = math.gcd(*ints)
            key = tuple(a // g for a in ints)
            j = self.index.get(key)
            if j is None:
                j = self.index[key] = len(self.keys)
                self.keys.append(key)
        if len(self._memo) > self.MEMO:
            self._memo.clear()
        self._memo[id(affine)] = (affine, j)
        return j

    def indices(self, region) -> list[Optional[int]]:
        """Per hidden neuron of ``region`` (layer-major), the ``j`` of its pre-activation (``None`` if constant)."""
        return [self.of(affine) for affine in region.preactivations]

    def gates(self, region, indices: Optional[Sequence[Optional[int]]] = None) -> tuple[list[int], list[int]]:
        """``strict`` and ``weak`` of ``region``: the sorted ``j`` with ``h_j > 0`` (resp. ``<= 0``);
        ``indices``, when given, is :meth:`indices` of ``region`` already made."""
        strict, weak = set(), set()
        for j, active in zip(self.indices(region) if indices is None else indices, region.flat_pattern):
            if j is not None:
                (strict if active else weak).add(j)
        return sorted(strict), sorted(weak)

    def firsts(self) -> list[int]:
        """Per hyperplane, the absolute value of the first nonzero ``w`` entry of its row."""
        return [abs(next(a for a in key[:-1] if a)) for key in self.keys]


class CompactShallow:
    """The construction of :func:`build_shallow` fed one region at a time (:meth:`add`) and written
    as canonical JSON text piece by piece (:meth:`chunks`), never as nested objects: per region it
    keeps the hyperplane indices of its conditions (``array`` of integers) and the texts of its
    affine map; per hyperplane its primitive integer row ``(w | b)``.  The text is exactly
    ``canonical_dumps(build_shallow(e).to_dict())`` for the same regions in the same order.

    >>> from exactrelu.network import ReluNetwork, canonical_dumps
    >>> from exactrelu.regions import enumerate_regions
    >>> e = enumerate_regions(ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])]))
    >>> s = CompactShallow(e.network, e.domain)
    >>> [s.add(region) for region in e.regions]   # each region's gates: strict, weak
    [([0], [1]), ([1], [0]), ([], [0, 1])]
    >>> "".join(s.chunks()) == canonical_dumps(build_shallow(e).to_dict())
    True
    """

    def __init__(self, network, domain: Domain) -> None:
        self.n, self.m = network.input_dim, network.output_dim
        self.deep_sha256 = network.sha256()
        self.domain = domain
        self.planes = Hyperplanes()
        self.keys = self.planes.keys
        self.strict: list = []  # per region: array of hyperplane indices
        self.weak: list = []
        self.maps: list[tuple[str, ...]] = []  # per region: alpha row-major, then beta, as texts

    @property
    def regions(self) -> int:
        return len(self.maps)

    @property
    def hyperplanes(self) -> int:
        return len(self.keys)

    def add(self, region, indices: Optional[Sequence[Optional[int]]] = None) -> tuple[list[int], list[int]]:
        """Region ``self.regions``'s gates and affine map (``indices`` as for :meth:`Hyperplanes.gates`);
        returns its gates (``strict``, ``weak``)."""
        strict, weak = self.planes.gates(region, indices)
        self.strict.append(array("l", strict))
        self.weak.append(array("l", weak))
        self.maps.append(tuple(format_rational(v) for v in (*(a for row in region.alpha for a in row), *region.beta)))
        return strict, weak

    def chunks(self) -> Iterator[str]:
        """The canonical JSON text (sorted keys, no spaces) of the ``exactrelu-shallow`` object."""
        from .network import canonical_dumps

        n, m, J, K = self.n, self.m, len(self.keys), len(self.maps)
        halves = 2 * K * m
        q = format_rational
        firsts = self.planes.firsts()
        H = ([q(Fraction(a, first)) for a in key[:-1]] for key, first in zip(self.keys, firsts))
        yield '{"H":[' + ",".join("[" + ",".join('"%s"' % a for a in row) + "]" for row in H) + "]"
        yield ',"alpha":['
        for k, texts in enumerate(self.maps):
            rows = ",".join("[" + ",".join('"%s"' % a for a in texts[o * n:(o + 1) * n]) + "]" for o in range(m))
            yield ("," if k else "") + "[" + rows + "]"
        yield '],"beta":['
        yield ",".join("[" + ",".join('"%s"' % a for a in texts[m * n:]) + "]" for texts in self.maps)
        yield '],"c":[' + ",".join('"%s"' % q(Fraction(key[-1], first)) for key, first in zip(self.keys, firsts)) + "]"
        yield ',"deep_sha256":"%s","domain":%s' % (self.deep_sha256, canonical_dumps(self.domain.to_dict()))
        yield ',"format":"%s","input_dim":%d,"layers":[' % (SHALLOW_FORMAT, n)
        # layer 1: the hyperplanes, then relu(l_ko) and relu(-l_ko) of every region and output
        yield '{"bias":[' + ",".join('"%s"' % q(Fraction(key[-1], first)) for key, first in zip(self.keys, firsts))
        for k, texts in enumerate(self.maps):  # (no comma before the first bias when there is no hyperplane)
            yield ("," if J or k else "") + ",".join('"%s","%s"' % (b, _negated(b)) for b in texts[m * n:])
        yield '],"cols":%d,"rows":%d,"weights":[' % (n, J + halves)
        sep = ""
        for j, (key, first) in enumerate(zip(self.keys, firsts)):
            cells = ",".join('[%d,%d,"%s"]' % (j, t, q(Fraction(a, first))) for t, a in enumerate(key[:-1]) if a)
            if cells:
                yield sep + cells
                sep = ","
        for k, texts in enumerate(self.maps):
            for o in range(m):
                row = J + 2 * (k * m + o)
                live = [(t, a) for t, a in enumerate(texts[o * n:(o + 1) * n]) if a != "0"]
                if live:
                    yield sep + ",".join('[%d,%d,"%s"]' % (row, t, a) for t, a in live) + "," + \
                        ",".join('[%d,%d,"%s"]' % (row + 1, t, _negated(a)) for t, a in live)
                    sep = ","
        # layer 2: p_j = relu(1 - inf a_j); a_j and the model halves pass through
        yield ']},{"bias":[' + ",".join(['"1"'] * J + ['"0"'] * (J + halves))
        yield '],"cols":%d,"rows":%d,"weights":[' % (J + halves, 2 * J + halves)
        yield ",".join([*('[%d,%d,"-inf"]' % (j, j) for j in range(J)), *('[%d,%d,"1"]' % (J + j, j) for j in range(J)),
                        *('[%d,%d,"1"]' % (2 * J + t, J + t) for t in range(halves))])
        # layer 3: the gates g_ko^+ and g_ko^-
        yield ']},{"bias":[' + ",".join(['"0"'] * halves)
        yield '],"cols":%d,"rows":%d,"weights":[' % (2 * J + halves, halves)
        for k in range(K):
            gates_cols = [*self.strict[k], *(J + j for j in self.weak[k])]
            for o in range(m):
                half = 2 * (k * m + o)
                for d, (plus, minus) in enumerate((("1", "-1"), ("-1", "1"))):
                    row = half + d
                    gates = "".join('[%d,%d,"-inf"],' % (row, col) for col in gates_cols)
                    yield ("," if k or o or d else "") + gates + '[%d,%d,"%s"],[%d,%d,"%s"]' % (
                        row, 2 * J + half, plus, row, 2 * J + half + 1, minus)
        # the output layer: y_o = sum_k (g_ko^+ - g_ko^-)
        yield ']},{"bias":[' + ",".join(['"0"'] * m) + '],"cols":%d,"rows":%d,"weights":[' % (halves, m)
        yield ",".join('[%d,%d,"1"],[%d,%d,"-1"]' % (o, 2 * (k * m + o), o, 2 * (k * m + o) + 1)
                       for o in range(m) for k in range(K))
        yield ']}],"output_dim":%d,"strict":[' % m
        yield ",".join("[" + ",".join(map(str, s)) + "]" for s in self.strict)
        yield '],"version":%d,"weak":[' % SHALLOW_VERSION
        yield ",".join("[" + ",".join(map(str, w)) + "]" for w in self.weak)
        yield "]}"
