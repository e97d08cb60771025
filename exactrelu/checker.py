"""The independent checker of exactrelu equivalence certificates (format ``exactrelu-certificate`` v2).

This module is the whole trusted base.  It imports only the Python standard library (and sympy,
only under ``--symbolic``), nothing else from exactrelu, and it never searches or solves: it
recomputes and compares, in exact rational arithmetic (:class:`fractions.Fraction`).  It runs as
``python -m exactrelu.checker CERT`` or as a lone file ``python checker.py CERT``.

What a ``s VERIFIED`` verdict establishes (docs/certificate-format.md, docs/theory.md):

1. the deep network and the domain are the ones embedded (their SHA-256 match, and ``--model``'s);
2. **coverage and disjointness**: the case-split tree splits every hidden neuron in layer-major
   order into ``z > 0`` / ``z <= 0``; every child is a node, a leaf, or proved empty by Motzkin
   multipliers that the checker verifies; so the leaves' patterns are exactly the patterns that
   occur in the domain, each region once;
3. **each leaf**: its pattern is the path that reaches it; its witness satisfies exactly the
   conditions of that path, recomputed from the deep weights (strictly, where it claims full
   dimension; a leaf states no conditions of its own); its affine map, recomputed, matches;
4. **the shallow network is the construction** over exactly these leaves: every weight recomputed
   from the leaves matches, so by the construction lemma it equals the deep network on every
   point of the domain.  At every witness the deep network, evaluated exactly, equals the leaf's
   affine map (a linear-cost cross-check of two computations of it); with ``--guard`` both
   networks are evaluated in full at every witness (a further guard, not needed by the proof, and
   quadratic in the number of regions).

A second kind of certificate, ``exactrelu-equivalence`` v2 (written by ``exactrelu equiv`` and
``exactrelu prune``), is recognised by its ``format`` field.  It embeds two networks ``A`` and ``B``
and a domain; the checker builds the side-by-side network ``A||B`` itself (:func:`side_by_side`),
walks the same kind of case-split tree over it (points 2 and 3 above), and then checks the claim:

5. ``equal``: on every leaf the affine maps of ``A`` and ``B`` are identical, or LP dual multipliers
   ``y >= 0`` over the leaf's rows (read as ``>= 0``) prove ``±(A_o - B_o) <= 0`` there: with
   ``d . x + e`` the bounded function, ``sum y_m u_m = -d`` and ``e + sum y_m v_m <= 0`` (weak
   duality: arithmetic only);
6. ``max_deviation``: the same with the claimed value in place of ``0`` and the sign vectors of the
   norm (``±e_o`` for the inf-norm, every ``s`` in ``{±1}^m`` for the 1-norm), and the claimed
   maximiser is a point of the domain where ``||A(x) - B(x)||`` equals the value exactly, so the
   value is the maximum; a stated tolerance must be ``>=`` the value.

A third kind, ``exactrelu-property`` v2 (written by ``exactrelu verify``), embeds a network and a
VNN-LIB property (input sets, unsafe disjuncts) and claims it holds or is violated:

7. ``holds``: one case-split tree per input set, checked as in points 2 and 3 over that set, and at
   every leaf, for every unsafe disjunct, Motzkin multipliers over the leaf's rows followed by the
   disjunct's rows pulled back through the leaf's (recomputed) affine map; ``violated``: the stated
   input lies in the stated input set and its exact output satisfies the stated disjunct.  With
   ``--property FILE`` the checker reads the VNN-LIB file itself (:func:`read_vnnlib`) and requires
   the same property.  A property tree may end early (:class:`EarlyLeaves`): a ``bisect`` node cuts
   the box in two, a ``closed`` node states bounds on the neurons not yet split, each proved by
   multipliers whose combination the checker bounds over the box, re-derives the triangle
   relaxation from them, and requires per disjunct a combination whose maximum over the box is
   negative (docs/theory.md section 9, rules E and B).

An ``exactrelu-equivalence`` certificate with ``"method": "lattice"`` (written by ``shallow --finite``)
states a max-min formula and walks ``A``'s own tree:

8. ``B``'s weights are exactly the checker's own realisation of the formula (:func:`lattice_layers`),
   so ``B = max_t min_{j in S_t} l_j`` everywhere; at every leaf of ``A`` with map ``l``, dual
   multipliers prove ``l_j >= l`` on the leaf's closure for every ``j`` of a stated term, and
   Motzkin multipliers prove that no point of the leaf has every map of any term above ``l``; so
   ``B = l = A`` there (docs/theory.md section 10.6).

Version 2 of each kind stores its trees flat (preorder lists of nodes), walked without recursion, so
a tree may be as deep as the network has neurons; version 1 (nested trees) is no longer read.
Version 3 of the shallow kind (JSON Lines, written by ``shallow --stream``) gives the walk the same
stream read line by line from the file, its leaves inline, and is checked without holding the
certificate or the shallow network (:class:`StreamedCertificate`); the shallow network of either
version is compared with the construction by one code path (:meth:`Checker._check_shallow`).

Output: one line on stdout, ``s VERIFIED`` (exit 0) or ``s NOT VERIFIED`` (exit 1); the reason and
its location on stderr.
"""

from __future__ import annotations

import argparse
import array
import functools
import gc
import hashlib
import itertools
import json
import math
import operator
import os
import re
import sys
from fractions import Fraction

CERT_FORMAT = "exactrelu-certificate"
CERT_VERSION = 2
NETWORK_FORMAT = "exactrelu-network"
SHALLOW_FORMAT = "exactrelu-shallow"
EQUIV_FORMAT = "exactrelu-equivalence"
EQUIV_VERSION = 2
COMBINATION = "side-by-side"
MAX_ONE_NORM_OUTPUTS = 12
ZERO = Fraction(0)
ONE = Fraction(1)


class CheckFailure(Exception):
    """A failed check: ``location`` names the field, node or leaf; ``reason`` says what is wrong."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


class JsonFloat:
    """A JSON number with a fraction or exponent: refused wherever a rational belongs."""

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_constant(text: str):
    raise CheckFailure("file", f"non-standard JSON constant {text}")


def _unique_keys(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        key = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise CheckFailure(key, "the field appears twice in one JSON object")
    return result


def load_json(path: str, what: str):
    try:
        with open(path, "r", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckFailure(path, f"cannot read {what}: {exc}") from None
    if not text.strip():
        raise CheckFailure(path, f"empty {what}")
    try:
        return text, json.loads(text, parse_float=JsonFloat, parse_constant=_parse_constant,
                                object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise CheckFailure(path, f"invalid or truncated JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:  # (integers of any length are read: Checker() lifts Python's digit limit)
        raise CheckFailure(path, "JSON nested too deeply") from None


# ----------------------------------------------------------------------------- field parsing
_PARSED = {}  # rational strings already read, and their values (a Fraction is immutable)


def rational(value, where: str) -> Fraction:
    """A rational written as a string ``"p/q"`` or ``"p"`` (or a JSON integer); never a float."""
    if value.__class__ is str and value in _PARSED:
        return _PARSED[value]
    if isinstance(value, JsonFloat):
        raise CheckFailure(where, f"JSON float {value.text} where a rational string belongs")
    if isinstance(value, bool):
        raise CheckFailure(where, "boolean where a rational belongs")
    if isinstance(value, int):
        return Fraction(value)
    parts = _parts(value) if isinstance(value, str) else None
    if parts is None:
        raise CheckFailure(where, f"{value!r} is not a rational written as \"p/q\"")
    q = _PARSED[value] = Fraction(*parts)
    return q


_RATIONAL = re.compile(r"\s*([+-]?[0-9]+)(?:/([0-9]+))?\s*")


def _parts(text: str):
    """``(p, q)`` with ``q > 0`` for a string ``"p/q"`` or ``"p"`` of ASCII digits (a sign on ``p``
    only, white space around the whole), else None."""
    match = _RATIONAL.fullmatch(text)
    if match is None:
        return None
    p, q = match.groups()
    q = 1 if q is None else int(q)
    return (int(p), q) if q else None


def extended(value, where: str):
    """A rational, or ``"inf"`` / ``"-inf"`` (returned as the strings ``"inf"`` / ``"-inf"``)."""
    if value in ("inf", "-inf"):
        return value
    return rational(value, where)


def same_int(value, expected: int) -> bool:
    """``value`` is the JSON integer ``expected`` (a boolean is not an integer here)."""
    return type(value) is int and value == expected


def field(obj, key: str, where: str):
    if not isinstance(obj, dict):
        raise CheckFailure(where, "expected a JSON object")
    if key not in obj:
        raise CheckFailure(f"{where}.{key}" if where else key, "missing field")
    return obj[key]


def as_list(value, where: str, length=None) -> list:
    if not isinstance(value, list):
        raise CheckFailure(where, "expected a list")
    if length is not None and len(value) != length:
        raise CheckFailure(where, f"expected {length} entries, found {len(value)}")
    return value


def as_int(value, where: str, low: int = 0, high=None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        raise CheckFailure(where, f"expected an integer in [{low}, {'inf' if high is None else high}]")
    return value


def vector(value, where: str, length=None) -> list:
    parsed = _PARSED.get
    out = []
    for i, v in enumerate(as_list(value, where, length)):
        q = parsed(v) if v.__class__ is str else None
        out.append(rational(v, f"{where}[{i}]") if q is None else q)
    return out


def fmt(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def canonical_sha256(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raw_sha256(obj) -> str:
    """SHA-256 of the canonical text of a parsed JSON value; a JSON float in it (the only value the
    encoder cannot write) sends the encoder to :func:`_plain`, which refuses it by its place."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=lambda value: _plain(obj, "shallow"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(obj, where):
    if isinstance(obj, JsonFloat):
        raise CheckFailure(where, f"JSON float {obj.text} where a rational string belongs")
    if isinstance(obj, dict):
        return {k: _plain(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


# ----------------------------------------------------------------------------- the objects
DENSE_LIMIT = 10 ** 8  # weights per layer of a sparse weight, which the checker holds densely


def sparse_rows(weight: dict, where: str, width, parse) -> list:
    """The rows of a sparse weight ``{"shape": [rows, cols], "entries": [[i, j, value], ...]}``
    (docs/formats.md): every entry not listed is 0, the positions ``(i, j)`` strictly increasing in
    row-major order, ``cols`` the width of the layer below (``width``, if known)."""
    shape = as_list(field(weight, "shape", where), f"{where}.shape", 2)
    rows, cols = (as_int(v, f"{where}.shape[{s}]", 1 if width is None or s == 0 else width, None if s == 0 else width)
                  for s, v in enumerate(shape))
    if rows * cols > DENSE_LIMIT:
        raise CheckFailure(f"{where}.shape", f"{rows} x {cols} is held densely in memory; more than {DENSE_LIMIT:.0e} "
                                             "weights per layer is refused")
    out = [[ZERO] * cols for _ in range(rows)]
    last = -1
    for e, entry in enumerate(as_list(field(weight, "entries", where), f"{where}.entries")):
        i, j, value = as_list(entry, f"{where}.entries[{e}]", 3)
        place = as_int(i, f"{where}.entries[{e}][0]", 0, rows - 1) * cols + as_int(j, f"{where}.entries[{e}][1]", 0, cols - 1)
        if place <= last:
            raise CheckFailure(f"{where}.entries[{e}]", "positions must be strictly increasing in row-major order")
        last = place
        out[i][j] = parse(value, f"{where}.entries[{e}][2]")
    return out


class Network:
    """The deep network: ``layers[k] = (W, b)``, ReLU after every layer but the last."""

    def __init__(self, data, where: str, allow_floats: bool = False) -> None:
        if field(data, "format", where) != NETWORK_FORMAT:
            raise CheckFailure(f"{where}.format", f"expected {NETWORK_FORMAT!r}")
        if not same_int(field(data, "version", where), 1):
            raise CheckFailure(f"{where}.version", "expected 1")
        layers = as_list(field(data, "layers", where), f"{where}.layers")
        if not layers:
            raise CheckFailure(f"{where}.layers", "no layers")
        parse = _float_tolerant if allow_floats else rational
        self.layers = []
        width = None
        for k, layer in enumerate(layers):
            lw = f"{where}.layers[{k}]"
            weight = field(layer, "weight", lw)
            W = (sparse_rows(weight, f"{lw}.weight", width, parse) if isinstance(weight, dict) else
                 [[parse(v, f"{lw}.weight[{i}][{j}]") for j, v in enumerate(as_list(r, f"{lw}.weight[{i}]", width if width is not None else None))]
                  for i, r in enumerate(as_list(weight, f"{lw}.weight"))])
            b = [parse(v, f"{lw}.bias[{i}]") for i, v in enumerate(as_list(field(layer, "bias", lw), f"{lw}.bias", len(W)))]
            if not W:
                raise CheckFailure(f"{lw}.weight", "layer has no outputs")
            cols = len(W[0])
            if any(len(r) != cols for r in W):
                raise CheckFailure(f"{lw}.weight", "rows of different lengths")
            width = len(W)
            self.layers.append((W, b))
        self.input_dim = len(self.layers[0][0][0])
        declared = data.get("input_dim", self.input_dim)
        if not same_int(declared, self.input_dim):
            raise CheckFailure(f"{where}.input_dim", f"is {declared!r}, layer 0 has {self.input_dim} columns")
        self.output_dim = len(self.layers[-1][1])
        self.widths = [len(b) for _, b in self.layers[:-1]]

    def canonical(self) -> dict:
        return {
            "format": NETWORK_FORMAT, "version": 1, "input_dim": self.input_dim,
            "layers": [{"weight": [[fmt(v) for v in row] for row in W], "bias": [fmt(v) for v in b]} for W, b in self.layers],
        }

    def sha256(self) -> str:
        return canonical_sha256(self.canonical())

    def scaled(self, t: int):
        """Layer ``t`` over the least common denominator ``s`` of its entries: ``(W s, b s, s)``, integers."""
        if not hasattr(self, "_integer_layers"):
            self._integer_layers = []
            for W, b in self.layers:
                den = lcm_of(v.denominator for v in [*b, *(w for row in W for w in row)])
                self._integer_layers.append(([[int(w * den) for w in row] for row in W], [int(c * den) for c in b], den))
        return self._integer_layers[t]

    def evaluate(self, x: list) -> list:
        """The exact output at ``x``, in integer arithmetic: each layer is scaled by the least
        common denominator of its entries, and the values are kept as integers over one
        common denominator (the same numbers as Fraction arithmetic, without a gcd per step)."""
        den = lcm_of(v.denominator for v in x)
        values = [int(v * den) for v in x]
        last = len(self.layers) - 1
        for t, (W, b, scale) in enumerate(map(self.scaled, range(len(self.layers)))):
            values = [sum(map(operator.mul, row, values)) + c * den for row, c in zip(W, b)]
            den *= scale
            if t < last:
                values = [v if v > 0 else 0 for v in values]
        return [Fraction(v, den) for v in values]


def nearest_binary64(q: Fraction, where: str) -> Fraction:
    """The binary64 value nearest to ``q`` (ties to even), exactly, in integer arithmetic: what a
    JSON number means in the network format, computed without floating point."""
    if q == 0:
        return ZERO
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()  # 2^e <= a < 2^(e+1) after the fix-up
    if a < Fraction(2) ** e:
        e -= 1
    scale = max(e, -1022) - 52  # 53 significant bits; subnormals share the exponent of 2^-1074
    m = a / Fraction(2) ** scale
    n, r = divmod(m.numerator, m.denominator)
    if 2 * r > m.denominator or (2 * r == m.denominator and n % 2):
        n += 1
    result = n * Fraction(2) ** scale
    if result >= Fraction(2) ** 1024:
        raise CheckFailure(where, "not a finite binary64 number")
    return result if q > 0 else -result


def decimal(value: str, where: str) -> Fraction:
    """The rational a "p/q" or decimal string denotes (:data:`_MODEL_RATIONAL`), its exponent at most
    6 digits long: ``1e999999999`` is refused, not built (10**e alone would take minutes)."""
    match = _MODEL_RATIONAL.match(value)
    exponent = match.group(2) if match else None
    if not match or (exponent is not None and len(exponent.lstrip("+-").lstrip("0")) > 6):
        raise CheckFailure(where, f"{value[:60]!r} is not a number (p/q, or a decimal)")
    try:
        return Fraction("".join(value.split()))
    except (ValueError, ZeroDivisionError):
        raise CheckFailure(where, f"{value!r} is not a number") from None


def _float_tolerant(value, where):
    """For ``--model`` files only: the network format allows JSON numbers, which denote binary64
    values; each becomes that value exactly (:func:`nearest_binary64`)."""
    if isinstance(value, JsonFloat):  # the JSON grammar's numbers are all decimals
        return nearest_binary64(decimal(value.text, where), where)
    if isinstance(value, str):
        return decimal(value, where)
    return rational(value, where)


# The network format's number strings, read as docs/formats.md says (the same grammar as the
# package's loaders): "p/q" with ASCII digits and whitespace allowed around "/", or a decimal.
_MODEL_RATIONAL = re.compile(r"^\s*[+-]?(?:[0-9]+\s*/\s*[0-9]+|([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?)\s*$")


def lcm_of(denominators) -> int:
    return math.lcm(*denominators)


class Domain:
    """Weak rows ``u . x + v >= 0``: a box gives ``x_i - lo_i`` and ``hi_i - x_i`` for each ``i``;
    a polytope ``A x <= b`` gives ``b_i - A_i x``; ``R^n`` gives none."""

    def __init__(self, data, where: str) -> None:
        kind = field(data, "kind", where)
        self.dim = as_int(field(data, "dim", where), f"{where}.dim")
        self.rows = []
        n = self.dim
        if kind == "reals":
            pass
        elif kind == "box":
            lo = vector(field(data, "lower", where), f"{where}.lower", n)
            hi = vector(field(data, "upper", where), f"{where}.upper", n)
            for i in range(n):
                if lo[i] > hi[i]:
                    raise CheckFailure(f"{where}.lower[{i}]", f"exceeds the upper bound {fmt(hi[i])}: the box is empty")
                e = [ONE if j == i else ZERO for j in range(n)]
                self.rows.append((e, -lo[i], False))
                self.rows.append(([-a for a in e], hi[i], False))
        elif kind == "polytope":
            A = as_list(field(data, "A", where), f"{where}.A")
            b = vector(field(data, "b", where), f"{where}.b", len(A))
            for i, row in enumerate(A):
                self.rows.append(([-a for a in vector(row, f"{where}.A[{i}]", n)], b[i], False))
        else:
            raise CheckFailure(f"{where}.kind", f"unknown domain kind {kind!r}")
        self.data = data


def canonical_domain(data, where: str, parse=None) -> dict:
    """A domain in the canonical form ``{"kind", "dim", ...}`` with rationals as ``"p/q"`` strings; a
    user's file may also say ``{"box": [[lo, hi], ...]}`` or ``{"A": ..., "b": ...}``."""
    parse = parse or rational
    if isinstance(data, dict) and "box" in data:
        pairs = as_list(data["box"], f"{where}.box")
        for i, pair in enumerate(pairs):
            as_list(pair, f"{where}.box[{i}]", 2)
        data = {"kind": "box", "dim": len(pairs), "lower": [p[0] for p in pairs], "upper": [p[1] for p in pairs]}
    elif isinstance(data, dict) and "kind" not in data and "A" in data:
        A = as_list(data["A"], f"{where}.A")
        data = {"kind": "polytope", "dim": len(A[0]) if A and isinstance(A[0], list) else 0, "A": A, "b": data.get("b")}
    kind = field(data, "kind", where)
    out = {"kind": kind, "dim": as_int(field(data, "dim", where), f"{where}.dim")}
    for key in {"box": ("lower", "upper"), "polytope": ("b",), "reals": ()}.get(kind, ()):
        out[key] = [fmt(parse(v, f"{where}.{key}[{i}]")) for i, v in enumerate(as_list(field(data, key, where), f"{where}.{key}"))]
    if kind == "polytope":
        out["A"] = [[fmt(parse(v, f"{where}.A[{i}][{j}]")) for j, v in enumerate(as_list(row, f"{where}.A[{i}]"))]
                    for i, row in enumerate(as_list(field(data, "A", where), f"{where}.A"))]
    elif kind not in ("box", "reals"):
        raise CheckFailure(f"{where}.kind", f"unknown domain kind {kind!r}")
    return out


def box_domain(text: str, dim: int) -> dict:
    """``LO:HI,LO:HI,...`` (one ``LO:HI`` for every input) as a box domain in the certificate's form."""
    pairs = [part.split(":") for part in text.split(",")]
    if len(pairs) == 1:
        pairs = pairs * dim
    if len(pairs) != dim or any(len(p) != 2 for p in pairs):
        raise CheckFailure("--box", f"expected {dim} bounds LO:HI separated by commas, or one for every input")
    return {"kind": "box", "dim": dim, "lower": [p[0] for p in pairs], "upper": [p[1] for p in pairs]}


def _shown_path(path: str) -> str:
    """``path`` relative to the working folder when it lies below it, else absolute."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def describe_domain(data) -> str:
    """A domain in words, for the verdict."""
    kind, dim = data.get("kind"), data.get("dim")
    if kind == "box":
        return " x ".join(f"[{lo}, {hi}]" for lo, hi in zip(data.get("lower", []), data.get("upper", [])))
    if kind == "polytope":
        return f"polytope of {len(data.get('b', []))} constraints in R^{dim}"
    return f"R^{dim}"


def row_value(row, x) -> Fraction:
    u, v, _ = row
    return sum((a * b for a, b in zip(u, x) if a), v)


def holds(row, x) -> bool:
    value = row_value(row, x)
    return value > 0 if row[2] else value >= 0


def neuron_row(w, b, active: bool):
    return (w, b, True) if active else ([-a for a in w], -b, False)


def scaled(values) -> tuple:
    """Integers ``N`` and the least ``d > 0`` with ``values = N / d`` (rationals in, exactly)."""
    d = lcm_of(q.denominator for q in values)
    return [q.numerator * (d // q.denominator) for q in values], d


def compose(layer, maps, bits, n):
    """Pre-activations of the next layer as affine maps ``(w, c, (N, d))`` of ``x`` (``(w, c) = N / d``
    over integers too), given the layer ``(W s, b s, s)`` over integers (:meth:`Network.scaled`), the
    previous layer's maps and its activation bits.  The sums run over integers on one common
    denominator ``s D``: each coordinate of a map is one dot product of the layer's row (its
    active entries) with a column of the active maps' integer rows."""
    W, b, s = layer
    index = [j for j, on in enumerate(bits) if on]
    D = lcm_of(maps[j][2][1] for j in index)
    scaled_rows = [N if d == D else [a * (D // d) for a in N] for N, d in (maps[j][2] for j in index)]
    columns = list(zip(*scaled_rows)) or [()] * (n + 1)
    den = s * D
    out = []
    for row, c in zip(W, b):
        coefs = [row[j] for j in index]
        total = [sum(map(operator.mul, coefs, column)) for column in columns]
        total[n] += c * D
        out.append(([Fraction(a, den) for a in total[:n]], Fraction(total[n], den), (total, den)))
    return out


_MULTIPLIERS = {}  # multiplier strings "p/q" already read, with p > 0: their (p, q)


def multiplier_pairs(pairs, where: str, count: int) -> list:
    """The pairs ``[m, "p/q"]`` of a certificate's multipliers as ``(m, p, q)``: ``m`` the index of
    one of ``count`` rows, none twice, every ``lambda_m = p / q`` a positive rational (``q > 0``)."""
    seen = set()
    out = []
    for t, pair in enumerate(as_list(pairs, where)):
        m = pair[0] if pair.__class__ is list and len(pair) == 2 else None
        if m.__class__ is not int or not 0 <= m < count:  # (the class of a boolean is bool)
            pw = f"{where}[{t}]"
            as_int(as_list(pair, pw, 2)[0], f"{pw}[0]", 0, count - 1)
        if m in seen:
            raise CheckFailure(f"{where}[{t}]", f"row {m} appears twice")
        seen.add(m)
        lam = pair[1]
        parts = _MULTIPLIERS.get(lam) if lam.__class__ is str else None
        if parts is None:
            parts = _parts(lam) if lam.__class__ is str else None
            if parts is None:  # not a plain "p/q": read (or refused) as every rational is
                lam = rational(lam, f"{where}[{t}][1]")
                parts = lam.numerator, lam.denominator
            if parts[0] <= 0:
                raise CheckFailure(f"{where}[{t}]", f"multiplier {fmt(Fraction(*parts))} of row {m} is not positive")
            if lam.__class__ is str:
                _MULTIPLIERS[lam] = parts
        out.append((m, *parts))
    return out


def combine(rows, pairs, where: str, n: int, integer_rows=None):
    """``sum lambda_m (u_m, v_m)`` as integers ``N`` over one denominator ``L > 0`` (``N[:n] / L``
    the ``u`` part, ``N[n] / L`` the ``v`` part), and whether a strict row has ``lambda_m > 0``, for
    pairs ``[m, "lambda_m"]`` with distinct rows and positive multipliers.  ``integer_rows[m]``, when
    given, is row ``m`` as integers over a positive denominator (computed once for a walk)."""
    terms = multiplier_pairs(pairs, where, len(rows))
    if integer_rows is None:
        integer_rows = {m: scaled([*rows[m][0], rows[m][1]]) for m, _, _ in terms}
    # (p_m / q_m) (N_m / d_m) summed over integers on the common denominator L of the q_m d_m
    L = math.lcm(*[q * integer_rows[m][1] for m, _, q in terms])
    total = [0] * (n + 1)
    for m, p, q in terms:
        N, d = integer_rows[m]
        coef = p * (L // (q * d))
        total = [t + coef * a for t, a in zip(total, N)]
    return total, L, any(rows[m][2] for m, _, _ in terms)


def check_motzkin(rows, pairs, where: str, integer_rows=None) -> None:
    """Nonnegative ``lambda`` with ``sum lambda u = 0`` and ``sum lambda v < 0``, or ``= 0`` with a
    positive multiplier on a strict row: then the rows have no common solution."""
    if not as_list(pairs, where):
        raise CheckFailure(where, "no multipliers")
    total, L, strict = combine(rows, pairs, where, len(rows[0][0]) if rows else 0, integer_rows)
    if any(total[:-1]):
        raise CheckFailure(where, "the multipliers do not cancel the variables (sum of lambda*u is not 0)")
    if total[-1] > 0 or (total[-1] == 0 and not strict):
        raise CheckFailure(where, f"the combination gives 0 >= {fmt(Fraction(-total[-1], L))} or 0 >= 0 with no strict row: "
                                  "no contradiction")


# ----------------------------------------------------------------------------- the shallow network
def normalise(w, b):
    """``(w, b)`` divided by the absolute value of its first nonzero coefficient, and a key equal for
    exactly the positive multiples of ``(w, b)``: its primitive integer vector; None if ``w = 0``."""
    N, _ = scaled([*w, b])
    first = next((a for a in N[:-1] if a), 0)
    if not first:
        return None
    g = math.gcd(*N)
    return tuple(a // g for a in N), abs(first) // g


def _text(p: int, q: int) -> str:
    """The canonical string of the rational ``p / q`` (``q > 0``): lowest terms, ``"p"`` when whole."""
    g = math.gcd(p, q)
    return str(p // g) if q == g else f"{p // g}/{q // g}"


def _negated(text: str) -> str:
    """The canonical string of ``-q`` from that of a nonzero ``q``."""
    return text[1:] if text[0] == "-" else "-" + text


def gate_hints(leaves, order, hyperplane_of, J: int, m: int):
    """For the witness of each leaf ``k``, the column of one condition of every other leaf ``k'``
    that fails on leaf ``k``, for ``k'``'s gate rows (layer index 2): the first neuron where their
    patterns differ has the same pre-activation under both (the earlier layers agree), so its
    hyperplane ``j`` is required ``> 0`` by one leaf and ``<= 0`` by the other.  That neuron is the
    split at the two leaves' lowest common ancestor; ``order`` lists the leaves in the tree's
    depth-first order, where the common prefix of two leaves is the least common prefix of the
    neighbours between them.  Only an evaluation order: the gates' values are computed, not assumed."""
    K = len(leaves)
    bits = ["".join("1" if b else "0" for b in leaf["bits"]) for leaf in leaves]
    position = {k: p for p, k in enumerate(order)}
    between = [len(os.path.commonprefix([bits[a], bits[b]])) for a, b in zip(order, order[1:])]
    # col_at[k][d]: the column of leaf k's condition on its d-th neuron (None for a constant one)
    col_at = [[None if j is None else (j if bit == "1" else J + j) for j, bit in zip(hyperplane_of[k], bits[k])] + [None]
              for k in range(K)]

    def for_leaf(k: int) -> dict:
        p = position[k]
        depth = [0] * K
        for q, d in zip(order[p + 1:], itertools.accumulate(between[p:], min)):
            depth[q] = d
        for q, d in zip(reversed(order[:p]), itertools.accumulate(reversed(between[:p]), min)):
            depth[q] = d
        depth[k] = len(bits[k])  # its own gate: no hint
        per_leaf = [col_at[o][depth[o]] for o in range(K)]
        return {2: [c for c in per_leaf for _ in range(2 * m)]}

    return for_leaf


def parse_shallow_layers(data, where: str):
    layers = []
    for t, layer in enumerate(as_list(field(data, "layers", where), f"{where}.layers", 4)):
        lw = f"{where}.layers[{t}]"
        rows = as_int(field(layer, "rows", lw), f"{lw}.rows")
        cols = as_int(field(layer, "cols", lw), f"{lw}.cols")
        entries = []
        parsed = _PARSED.get
        for e, cell in enumerate(as_list(field(layer, "weights", lw), f"{lw}.weights")):
            if cell.__class__ is list and len(cell) == 3 and type(cell[0]) is int and type(cell[1]) is int \
                    and 0 <= cell[0] < rows and 0 <= cell[1] < cols and cell[2].__class__ is str \
                    and (cell[2] in ("inf", "-inf") or parsed(cell[2])):
                entries.append((cell[0], cell[1], extended(cell[2], lw)))  # the common case: an infinity or a rational read before
                continue
            ew = f"{lw}.weights[{e}]"
            cell = as_list(cell, ew, 3)
            i = as_int(cell[0], f"{ew}[0]", 0, rows - 1)
            j = as_int(cell[1], f"{ew}[1]", 0, cols - 1)
            entries.append((i, j, extended(cell[2], f"{ew}[2]")))
        bias = [extended(v, f"{lw}.bias[{i}]") for i, v in enumerate(as_list(field(layer, "bias", lw), f"{lw}.bias", rows))]
        layers.append((rows, cols, entries, bias))
    return layers


def prepare_shallow(layers) -> list:
    """Each layer's rows as their ``-inf`` columns, their finite entries and their bias, for
    :func:`evaluate_shallow`; the first layer's rows over integers."""
    prepared = []
    for t, (rows, _cols, entries, bias) in enumerate(layers):
        blocked, finite = [set() for _ in range(rows)], [[] for _ in range(rows)]
        for i, j, w in entries:
            (blocked[i].add(j) if w == "-inf" else finite[i].append((j, w)))
        if t == 0:
            finite = [_integer_row(row, b) for row, b in zip(finite, bias)]
        prepared.append((blocked, finite, bias))
    return prepared


def _integer_row(entries, bias):
    """A finite row ``sum w_j x_j + b`` over a common denominator: ``(cols, ints, int_bias, den)``."""
    den = lcm_of([bias.denominator] + [w.denominator for _, w in entries])
    return ([j for j, _ in entries], [int(w * den) for _, w in entries], int(bias * den), den)


def evaluate_shallow(prepared: list, x: list, first=None) -> list:
    """Exact evaluation of the four layers at ``x``, for layers equal to the construction (check 30,
    made before): the first layer is finite, and every infinite weight is ``-inf``, in the two
    middle layers, on an input that is a ReLU output (``>= 0``).  So a row with a ``-inf`` weight on
    a positive input is ``-inf``, and ``0`` after its ReLU (no ``inf - inf`` can arise); any other
    row is its finite sum.  ``first[t][i]``, when given, names a column of row ``i`` of layer ``t``
    to test first: it changes the order of the work, never its result.
    """
    den = lcm_of(v.denominator for v in x)
    X = [int(v * den) for v in x]  # x = X / den, in integers
    last = len(prepared) - 1
    values = []
    for t, (blocked, finite, bias) in enumerate(prepared):
        if t == 0:
            totals = [Fraction(sum(a * X[j] for j, a in zip(cols, ints)) + b * den, d * den) for cols, ints, b, d in finite]
            values = [v if v > 0 else ZERO for v in totals] if last else totals
            continue
        hint, out = (first or {}).get(t), []
        for i, (cut, row) in enumerate(zip(blocked, finite)):
            j = hint[i] if hint else None
            if cut and ((j in cut and values[j] > 0) or any(values[c] > 0 for c in cut)):
                out.append(ZERO)  # -inf, then its ReLU
                continue
            total = sum((w * values[c] for c, w in row if values[c]), bias[i])
            out.append(total if t == last else max(total, ZERO))
        values = out
    return values


# ----------------------------------------------------------------------------- equivalence certificates
def _identity(width: int):
    return [[ONE if i == j else ZERO for j in range(width)] for i in range(width)], [ZERO] * width


def padded_layers(net, hidden: int) -> list:
    """The layers of ``net`` padded to ``hidden`` hidden layers, computing the same function exactly:
    identity layers after the last hidden layer (they carry ReLU outputs, ``>= 0``, so ReLU changes
    nothing); a network with no hidden layer, ``v = W x + b``, becomes ``relu(v) - relu(-v)``."""
    layers = [([list(r) for r in W], list(b)) for W, b in net.layers]
    own = len(layers) - 1
    if own == hidden:
        return layers
    if own >= 1:
        width = len(layers[-2][1])
        return layers[:-1] + [_identity(width) for _ in range(hidden - own)] + layers[-1:]
    W, b = layers[0]
    m = len(b)
    first = (W + [[-a for a in r] for r in W], b + [-c for c in b])
    out = ([[ONE if j == i else -ONE if j == i + m else ZERO for j in range(2 * m)] for i in range(m)], [ZERO] * m)
    return [first] + [_identity(2 * m) for _ in range(hidden - 1)] + [out]


def side_by_side(a, b) -> dict:
    """The network ``x -> (A(x), B(x))`` (exactrelu-network JSON), built from ``A`` and ``B`` alone:
    both padded to the same number of hidden layers, first layers stacked, later layers
    block-diagonal, ``A``'s outputs first."""
    hidden = max(len(a.layers), len(b.layers)) - 1
    layers = []
    for k, ((Wa, ba), (Wb, bb)) in enumerate(zip(padded_layers(a, hidden), padded_layers(b, hidden))):
        if k == 0:
            W = Wa + Wb
        else:
            ca, cb = len(Wa[0]), len(Wb[0])
            W = [r + [ZERO] * cb for r in Wa] + [[ZERO] * ca + r for r in Wb]
        layers.append({"weight": [[fmt(v) for v in r] for r in W], "bias": [fmt(v) for v in ba + bb]})
    return {"format": NETWORK_FORMAT, "version": 1, "input_dim": a.input_dim, "layers": layers}


def sign_vectors(norm: str, m: int) -> list:
    """``±e_o`` for the inf-norm; every vector of ``{1, -1}^m`` for the 1-norm."""
    if norm == "inf":
        return [[s if j == o else 0 for j in range(m)] for o in range(m) for s in (1, -1)]
    vectors = [[]]
    for _ in range(m):
        vectors = [v + [s] for v in vectors for s in (1, -1)]
    return vectors


def deviation(ya, yb, norm: str) -> Fraction:
    diffs = [abs(p - q) for p, q in zip(ya, yb)]
    return max(diffs, default=ZERO) if norm == "inf" else sum(diffs, ZERO)


def check_dual_bound(rows, pairs, objective, constant, where: str) -> Fraction:
    """Multipliers ``y > 0`` with ``sum y_m u_m = -objective`` prove, on every point of the rows (read
    as ``u . x + v >= 0``), ``objective . x + constant <= constant + sum y_m v_m``; returns that bound."""
    total, L, _ = combine(rows, pairs, where, len(objective))
    if [Fraction(a, L) for a in total[:-1]] != [-a for a in objective]:
        raise CheckFailure(where, "the multipliers do not reproduce the objective (sum of y*u is not minus the "
                                  "difference of the two affine maps)")
    return constant + Fraction(total[-1], L)


# ---- property certificates
PROPERTY_FORMAT = "exactrelu-property"
PROPERTY_VERSION = 2
VNNLIB_FORMAT = "exactrelu-vnnlib-property"
VNNLIB_NESTING = 200  # the deepest parenthesis nesting read (exactrelu.vnnlib.MAX_NESTING)
VNNLIB_IGNORED = ("set-logic", "set-info", "set-option", "check-sat", "get-model", "exit")  # commands without meaning here


def canonical_row(row, where: str, dim: int) -> dict:
    """An output row ``{"u", "v", "strict"}`` with its rationals in canonical form."""
    strict = field(row, "strict", where)
    if not isinstance(strict, bool):
        raise CheckFailure(f"{where}.strict", "expected true or false")
    return {"u": [fmt(a) for a in vector(field(row, "u", where), f"{where}.u", dim)],
            "v": fmt(rational(field(row, "v", where), f"{where}.v")), "strict": strict}


def canonical_property(data, where: str) -> dict:
    """A property (``Property.to_dict()``) re-derived in canonical form: its SHA-256 binds it."""
    if field(data, "format", where) != VNNLIB_FORMAT:
        raise CheckFailure(f"{where}.format", f"expected {VNNLIB_FORMAT!r}")
    n = as_int(field(data, "input_dim", where), f"{where}.input_dim")
    m = as_int(field(data, "output_dim", where), f"{where}.output_dim")
    sets = as_list(field(data, "input_sets", where), f"{where}.input_sets")
    unsafe = as_list(field(data, "unsafe", where), f"{where}.unsafe")
    if not sets or not unsafe:
        raise CheckFailure(where, "a property needs at least one input set and one unsafe disjunct")
    out_sets = []
    for s, d in enumerate(sets):
        canon = canonical_domain(d, f"{where}.input_sets[{s}]")
        if canon["dim"] != n:
            raise CheckFailure(f"{where}.input_sets[{s}].dim", f"is {canon['dim']}, the property has {n} inputs")
        out_sets.append(canon)
    rows = [[canonical_row(r, f"{where}.unsafe[{d}][{t}]", m) for t, r in enumerate(as_list(conj, f"{where}.unsafe[{d}]"))]
            for d, conj in enumerate(unsafe)]
    return {"format": VNNLIB_FORMAT, "input_dim": n, "output_dim": m, "input_sets": out_sets, "unsafe": rows}


def property_rows(canon: dict) -> list:
    """The unsafe disjuncts of a canonical property as lists of rows ``(u, v, strict)``."""
    return [[([Fraction(a) for a in r["u"]], Fraction(r["v"]), r["strict"]) for r in conj] for conj in canon["unsafe"]]


def pull_back(row, alpha, beta):
    """The output row ``u . y + v`` as a row over ``x`` where ``y = alpha x + beta``."""
    u, v, strict = row
    n = len(alpha[0]) if alpha else 0
    return ([sum((a * alpha[o][t] for o, a in enumerate(u) if a), ZERO) for t in range(n)],
            sum((a * b for a, b in zip(u, beta) if a), v), strict)


def normal_row(u, v, strict):
    """A row scaled so that its first nonzero coefficient is 1 or -1, as a hashable key."""
    scale = next((abs(a) for a in u if a), ONE)
    return tuple(a / scale for a in u), v / scale, strict


def property_terms(canon: dict) -> tuple:
    """The property's meaning as (inputs, outputs, the set of its (input rows, unsafe rows) pairs):
    violated iff some pair has a common point with ``y = f(x)``; order and repetition do not count."""
    sets = [frozenset(normal_row(*r) for r in Domain(d, "property").rows) for d in canon["input_sets"]]
    unsafe = [frozenset(normal_row(*r) for r in conj) for conj in property_rows(canon)]
    return canon["input_dim"], canon["output_dim"], frozenset((i, o) for i in sets for o in unsafe)


def read_vnnlib(text: str, where: str) -> tuple:
    """A VNN-LIB 1.0 file's meaning in the form of :func:`property_terms`: ``declare-const X_i`` /
    ``Y_j Real``; ``assert`` of ``and``, ``or`` and (chained) ``<= >= < > =`` between linear terms
    (``+ - * /`` with constant factors, decimal or ``p/q`` constants)."""
    tokens = []
    for line in text.splitlines():
        body = line.split(";", 1)[0]
        tokens += body.replace("(", " ( ").replace(")", " ) ").split()
    stack = [[]]
    for token in tokens:
        if token == "(" and len(stack) > VNNLIB_NESTING:
            raise CheckFailure(where, f"parentheses nested more than {VNNLIB_NESTING} deep")
        if token == "(":
            stack.append([])
        elif token == ")" and len(stack) > 1:
            done = stack.pop()
            stack[-1].append(done)
        elif token == ")":
            raise CheckFailure(where, "unbalanced ')'")
        else:
            stack[-1].append(token)
    if len(stack) != 1:
        raise CheckFailure(where, "unbalanced '(' (truncated file?)")
    names, formulas = {}, []
    for form in stack[0]:
        if isinstance(form, list) and form[:1] == ["declare-const"] and len(form) == 3 and form[2] == "Real" \
                and isinstance(form[1], str) and form[1][:2] in ("X_", "Y_") and form[1][2:].isdigit():
            names[form[1]] = (form[1][0], int(form[1][2:]))
        elif isinstance(form, list) and form[:1] == ["assert"] and len(form) == 2:
            formulas.append(form[1])
        elif isinstance(form, list) and form and form[0] in VNNLIB_IGNORED:
            continue
        else:
            raise CheckFailure(where, f"unsupported top-level form {json.dumps(form)}")
    dims = {side: sum(1 for s, _ in names.values() if s == side) for side in "XY"}
    if sorted(names) != sorted([f"X_{i}" for i in range(dims["X"])] + [f"Y_{j}" for j in range(dims["Y"])]):
        raise CheckFailure(where, "the variables are not X_0, X_1, ... and Y_0, Y_1, ...")

    def linear(expr):
        if isinstance(expr, str) and expr in names:
            return {names[expr]: ONE}, ZERO
        if isinstance(expr, str) and not _MODEL_RATIONAL.match(expr):
            raise CheckFailure(where, f"{expr!r} is neither a declared variable nor a number")
        if isinstance(expr, str):
            return {}, decimal(expr, where)
        head, args = (expr[0], [linear(a) for a in expr[1:]]) if expr and isinstance(expr[0], str) else (None, [])
        scaled = lambda t, c: ({k: a * c for k, a in t[0].items()}, t[1] * c)  # noqa: E731
        if head == "-" and len(args) == 1:
            return scaled(args[0], -ONE)
        if head in ("+", "-") and args:
            parts = args[:1] + [scaled(a, -ONE if head == "-" else ONE) for a in args[1:]]
            total = {}
            for coefficients, _ in parts:
                for k, a in coefficients.items():
                    total[k] = total.get(k, ZERO) + a
            return total, sum((c for _, c in parts), ZERO)
        if head == "/" and len(args) == 2 and not args[1][0] and args[1][1]:
            return scaled(args[0], 1 / args[1][1])
        if head == "*" and args and sum(1 for t in args if t[0]) <= 1:  # (* c ... t): constant factors, one term
            product = ONE
            for t in args:
                product *= ONE if t[0] else t[1]
            return scaled(next((t for t in args if t[0]), ({}, ONE)), product)
        raise CheckFailure(where, f"unsupported term {json.dumps(expr)}")

    def dnf(expr):
        """The formula as a set of terms, each a frozenset of atoms (side, normal row)."""
        if expr in ("true", "false"):
            return {frozenset()} if expr == "true" else set()
        head = expr[0] if isinstance(expr, list) and expr else None
        if head == "and":
            terms = {frozenset()}
            for arg in expr[1:]:
                terms = {a | b for a in terms for b in dnf(arg)}
            return terms
        if head == "or":
            return {t for arg in expr[1:] for t in dnf(arg)}
        if head in ("<=", ">=", "<", ">", "=") and len(expr) >= 3:
            atoms = set()
            values = [linear(a) for a in expr[1:]]
            for left, right in zip(values, values[1:]):
                pairs = {"<=": [(right, left)], "<": [(right, left)], ">=": [(left, right)], ">": [(left, right)],
                         "=": [(left, right), (right, left)]}[head]
                for big, small in pairs:
                    keys = set(big[0]) | set(small[0])
                    side = {k[0] for k in keys if big[0].get(k, ZERO) != small[0].get(k, ZERO)}
                    constant = big[1] - small[1]
                    if not side and (constant > 0 or (constant == 0 and head not in ("<", ">"))):
                        continue  # a true constant comparison
                    if not side:
                        return set()  # a false one: no term
                    if len(side) != 1:
                        raise CheckFailure(where, f"{json.dumps(expr)} mixes inputs and outputs in one constraint")
                    side = side.pop()
                    u = [big[0].get((side, i), ZERO) - small[0].get((side, i), ZERO) for i in range(dims[side])]
                    atoms.add((side, normal_row(u, big[1] - small[1], head in ("<", ">"))))
            return {frozenset(atoms)}
        raise CheckFailure(where, f"unsupported formula {json.dumps(expr)}")

    terms = {frozenset()}
    for formula in formulas:
        terms = {a | b for a in terms for b in dnf(formula)}
    pairs = frozenset((frozenset(r for s, r in t if s == "X"), frozenset(r for s, r in t if s == "Y")) for t in terms)
    return dims["X"], dims["Y"], pairs


# ---- early leaves of a property tree: "closed" (an exact relaxation) and "bisect" (a box cut in two)
def _add_scaled(acc: dict, scale, form: dict) -> None:
    for k, a in form.items():
        v = acc.get(k, ZERO) + scale * a
        if v:
            acc[k] = v
        else:
            acc.pop(k, None)


def _sparse_affine(weights, bias, inputs):
    acc, const = {}, bias
    for w, (form, c) in zip(weights, inputs):
        if w:
            _add_scaled(acc, w, form)
            const += w * c
    return acc, const


def _relaxation_rows(z, var: int, low, high) -> list:
    """The five rows of an unfixed neuron (pre-activation ``z``, bounds ``[low, high]``, variable
    ``var``): ``z - low``, ``high - z``, ``y``, ``y - z`` and the upper row, each ``>= 0``."""
    zf, zc = z
    neg = {k: -a for k, a in zf.items()}
    y_minus_z = dict(neg)
    _add_scaled(y_minus_z, ONE, {var: ONE})
    if low >= 0:
        upper = dict(zf)
        _add_scaled(upper, -ONE, {var: ONE})
        last = (upper, zc, False)
    elif high <= 0:
        last = ({var: -ONE}, ZERO, False)
    else:
        s = high / (high - low)
        upper = {k: s * a for k, a in zf.items()}
        _add_scaled(upper, -ONE, {var: ONE})
        last = (upper, s * (zc - low), False)
    return [(dict(zf), zc - low, False), (neg, high - zc, False), ({var: ONE}, ZERO, False), (y_minus_z, -zc, False), last]


def _early_row(form, const, strict):
    """A sparse row ``form + const`` as ``(numerators, constant, denominator, strict)``: integers over
    one common denominator, so that combinations of rows need integer arithmetic only."""
    den = math.lcm(const.denominator, *(a.denominator for a in form.values()))
    return ({k: a.numerator * (den // a.denominator) for k, a in form.items()}, const.numerator * (den // const.denominator),
            den, strict)


def _sparse_combine(rows, pairs, where: str, start=None):
    """``start + sum lambda_m g_m`` over integer rows (:func:`_early_row`), for pairs ``[m,
    "lambda_m"]`` with distinct rows among ``rows`` and positive multipliers: the combination as
    ``(numerators, constant, denominator)`` and whether a strict row has ``lambda_m > 0``.  The
    running denominator grows (by the lcm) only when a term needs it."""
    acc, const, den, _ = start if start else ({}, 0, 1, False)
    acc = dict(acc)
    strict = False
    for m, p, q in multiplier_pairs(pairs, where, len(rows)):
        nums, c, d, is_strict = rows[m]
        term = q * d
        if den % term:
            grow = term // math.gcd(den, term)
            den *= grow
            acc = {k: v * grow for k, v in acc.items()}
            const *= grow
        f = p * (den // term)
        for k, v in nums.items():
            acc[k] = acc.get(k, 0) + f * v
        const += f * c
        strict = strict or is_strict
    return acc, const, den, strict


def _box_supremum(combination, lower, upper):
    """The maximum of an integer combination (:func:`_sparse_combine`) over the box ``[lower, upper]``."""
    acc, const, den = combination[:3]
    total, scale = 0, 1  # the box terms as total / scale
    for k, a in acc.items():
        edge = upper[k] if a > 0 else lower[k]
        if scale % edge.denominator:
            grow = edge.denominator // math.gcd(scale, edge.denominator)
            scale *= grow
            total *= grow
        total += a * edge.numerator * (scale // edge.denominator)
    return Fraction(const * scale + total, den * scale)


def _box_of(rows, n: int, where: str):
    """The box ``[lo, hi]`` that the node's first ``2n`` rows state (``x_i - lo_i``, ``hi_i - x_i``)."""
    lo, hi = [], []
    for i in range(n):
        e = [ONE if j == i else ZERO for j in range(n)]
        if len(rows) < 2 * n or list(rows[2 * i][0]) != e or list(rows[2 * i + 1][0]) != [-a for a in e]:
            raise CheckFailure(where, "an early leaf needs a box input set (its rows first)")
        lo.append(-rows[2 * i][1])
        hi.append(rows[2 * i + 1][1])
    return lo, hi


class EarlyLeaves:
    """Nodes of a property tree that end a subtree early (mixed into :class:`Checker` through
    :class:`PropertyCertificate`; docs/certificate-format.md section 8, docs/theory.md section 9):

    * ``{"bisect": [i, "c"], "below": NODE, "above": NODE}`` before any neuron is split, on a box
      input set: the box cut at ``x_i = c`` (``lo_i < c < hi_i``); :meth:`_bisect_halves` gives the
      two children with their box rows, to be walked as trees over the halves;
    * ``{"closed": {"bounds", "proofs", "unsafe"}}`` anywhere: :meth:`_check_closed` proves the
      bounds of every neuron not fixed on the path, re-derives the relaxation rows from them, and
      checks, per disjunct, that the multipliers' combination has a negative supremum over the box.
    """

    def _bisect_halves(self, node, where: str, rows) -> list:
        """The children of a bisection node as ``(child, where, rows)``, each over its half box (a
        bisection stands only above every split: inside a flat tree it is not a node kind at all)."""
        n = self.net.input_dim
        lo, hi = _box_of(rows, n, where)
        if len(rows) != 2 * n:
            raise CheckFailure(where, "a bisection of an input set that is not a box")
        cut = as_list(node["bisect"], f"{where}.bisect", 2)
        i = as_int(cut[0], f"{where}.bisect[0]", 0, n - 1)
        c = rational(cut[1], f"{where}.bisect[1]")
        if not lo[i] < c < hi[i]:
            raise CheckFailure(f"{where}.bisect", f"the cut {fmt(c)} is not strictly inside [{fmt(lo[i])}, {fmt(hi[i])}]")
        e = [ONE if j == i else ZERO for j in range(n)]
        below, above = list(rows), list(rows)
        below[2 * i + 1] = ([-a for a in e], c, False)
        above[2 * i] = (e, -c, False)
        self.bisections += 1
        return [(field(node, "below", where), f"{where}.below", below), (field(node, "above", where), f"{where}.above", above)]

    def _check_closed(self, body, where: str, rows, bits) -> None:
        """A subproblem (box rows, then the rows of the ``len(bits)`` neurons fixed on the path) closed
        early: see docs/theory.md section 9, rule E."""
        net, n = self.net, self.net.input_dim
        lo, hi = _box_of(rows, n, where)
        lower, upper = list(lo), list(hi)
        d, total = len(bits), sum(net.widths)
        zs, prev, flat = [], [({i: ONE}, ZERO) for i in range(n)], 0
        for W, b in net.layers[:-1]:
            cur = []
            for row, c in zip(W, b):
                z = _sparse_affine(row, c, prev)
                if flat < d:
                    cur.append(z if bits[flat] else ({}, ZERO))
                else:
                    zs.append(z)
                    cur.append(({n + flat - d: ONE}, ZERO))
                flat += 1
            prev = cur
        W, b = net.layers[-1]
        outputs = [_sparse_affine(row, c, prev) for row, c in zip(W, b)]
        system = [_early_row({i: a for i, a in enumerate(u) if a}, v, strict) for u, v, strict in rows]
        bounds = as_list(field(body, "bounds", where), f"{where}.bounds", total - d)
        proofs = as_list(field(body, "proofs", where), f"{where}.proofs", total - d)
        for t, (z, stated, proof) in enumerate(zip(zs, bounds, proofs)):
            bw, pw = f"{where}.bounds[{t}]", f"{where}.proofs[{t}]"
            low, high = vector(stated, bw, 2)
            proof = as_list(proof, pw, 2)
            below = _sparse_combine(system, proof[0], f"{pw}[0]", _early_row({k: -a for k, a in z[0].items()}, -z[1], False))
            above = _sparse_combine(system, proof[1], f"{pw}[1]", _early_row(z[0], z[1], False))
            proved_low = -_box_supremum(below, lower, upper)
            proved_high = _box_supremum(above, lower, upper)
            if low > proved_low:
                raise CheckFailure(bw, f"the lower bound {fmt(low)} is above the proved {fmt(proved_low)}")
            if high < proved_high:
                raise CheckFailure(bw, f"the upper bound {fmt(high)} is below the proved {fmt(proved_high)}")
            system += [_early_row(*row) for row in _relaxation_rows(z, n + t, low, high)]
            lower.append(max(low, ZERO))
            upper.append(max(high, ZERO))
        proofs = as_list(field(body, "unsafe", where), f"{where}.unsafe", len(self.unsafe))
        for k, (conj, pairs) in enumerate(zip(self.unsafe, proofs)):
            extra = [_early_row(*_sparse_affine(u, v, outputs), strict) for u, v, strict in conj]
            combination = _sparse_combine(system + extra, pairs, f"{where}.unsafe[{k}]")
            top, strict = _box_supremum(combination, lower, upper), combination[3]
            if top > 0 or (top == 0 and not strict):
                raise CheckFailure(f"{where}.unsafe[{k}]", f"the combination reaches {fmt(top)} on the box"
                                   + (" with no strict row" if top == 0 else "") + ": no contradiction")
        self.closed += 1


# ----------------------------------------------------------------------------- case-split trees
_NODE_KINDS = frozenset(("leaf", "split", "empty", "closed"))


def node_kind(node, where: str) -> str:
    """A tree node is ``{"split": [l, i]}``, ``{"leaf": k}`` or ``{"empty": [[m, lambda], ...]}``."""
    if node.__class__ is dict and len(node) == 1:  # the common case: one key
        for kind in node:
            if kind in _NODE_KINDS:
                return kind
    if not isinstance(node, dict):
        raise CheckFailure(where, "expected a node object")
    kinds = [kind for kind in ("leaf", "split", "empty", "closed") if kind in node]
    if len(kinds) > 1:
        raise CheckFailure(where, f"a node has one kind, this one has {' and '.join(map(repr, kinds))}")
    if not kinds:
        raise CheckFailure(where, "expected 'split', 'leaf' or 'empty'")
    return kinds[0]


def tree_nodes(tree, where: str):
    """The nodes of a case-split tree in preorder (a split, its active subtree, its inactive
    subtree), as ``(location, node)`` pairs: a version-2 tree is that list already; version 3 gives
    the pairs as it reads them (:meth:`StreamedCertificate._node_lines`)."""
    if hasattr(tree, "__next__"):
        return tree
    return ((f"{where}[{t}]", node) for t, node in enumerate(as_list(tree, where)))


class PropertyCertificate(EarlyLeaves):
    """The ``exactrelu-property`` kind (mixed into :class:`Checker`): the property holds (one
    case-split tree per input set; every leaf proved disjoint from every unsafe disjunct by Motzkin
    multipliers over the leaf's rows followed by the disjunct's rows pulled back through the leaf's
    affine map), or it is violated at an exact point, confirmed by exact evaluation."""

    def _parse_property(self, cert) -> None:
        self._read_version(cert, PROPERTY_VERSION)
        self.cert = cert
        self.net = Network(field(cert, "network", ""), "network")
        sha = field(cert, "network_sha256", "")
        if self.net.sha256() != sha:
            raise CheckFailure("network_sha256", "does not match the embedded network")
        self._pin_network("network", self.model, sha, self.net)
        if self.domain_path is not None or self.box is not None:  # only when no option implied the kind
            raise CheckFailure("--domain", "a property certificate's input sets are its property's: name the "
                                           "VNN-LIB file with --property instead of a domain")
        canon = canonical_property(field(cert, "property", ""), "property")
        canon_sha = canonical_sha256(canon)
        if canon_sha != field(cert, "property_sha256", ""):
            raise CheckFailure("property_sha256", "does not match the embedded property")
        stated_file = field(cert, "property_file_sha256", "")
        if stated_file is not None and not isinstance(stated_file, str):
            raise CheckFailure("property_file_sha256", "expected a SHA-256 string or null")
        self.same_file = None
        if self.property_path is not None:
            try:
                with open(self.property_path, "rb") as fh:
                    raw = fh.read()
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CheckFailure(self.property_path, f"cannot read the property: {exc}") from None
            if read_vnnlib(text, self.property_path) != property_terms(canon):
                raise CheckFailure("property", f"the certificate is about another property than {self.property_path}")
            self.same_file = hashlib.sha256(raw).hexdigest() == stated_file
        self.bindings.append(("property", f"sha256 {canon_sha}", "embedded (taken from the certificate alone)"
                              if self.property_path is None else f"pinned ({self.property_path})"))
        if (canon["input_dim"], canon["output_dim"]) != (self.net.input_dim, self.net.output_dim):
            raise CheckFailure("property", f"has {canon['input_dim']} inputs and {canon['output_dim']} outputs, the "
                                           f"network {self.net.input_dim} and {self.net.output_dim}")
        self.property = canon
        self.input_sets = [Domain(d, f"property.input_sets[{s}]") for s, d in enumerate(canon["input_sets"])]
        self.unsafe = property_rows(canon)
        self.verdict = field(cert, "verdict", "")
        if self.verdict == "holds":
            self.leaves = as_list(field(cert, "leaves", ""), "leaves")
            self.tree = field(cert, "tree", "")
        elif self.verdict != "violated":
            raise CheckFailure("verdict", f"expected 'holds' or 'violated', found {self.verdict!r}")

    def _dump_property(self, out) -> None:
        net = self.net
        print(f"property certificate: verdict {self.verdict}; property sha256 {self.cert['property_sha256']}", file=out)
        print(f"network: widths {[net.input_dim] + [len(b) for _, b in net.layers]}, sha256 {net.sha256()}", file=out)
        for s, d in enumerate(self.property["input_sets"]):
            print(f"input set {s}: {json.dumps(d)}", file=out)
        for d, conj in enumerate(self.property["unsafe"]):
            print(f"unsafe disjunct {d}: {json.dumps(conj)}", file=out)
        if self.verdict == "holds":
            print(f"leaves: {len(self.leaves)}", file=out)

    def _run_property(self) -> None:
        net = self.net
        if self.verdict == "violated":
            return self._check_counterexample(field(self.cert, "counterexample", ""))
        self.order = [(l, i) for l, w in enumerate(net.widths) for i in range(w)]
        self.referenced = [0] * len(self.leaves)
        self.leaf_order = []
        self.verified_leaves = [None] * len(self.leaves)
        self.empty = self.closed = self.bisections = 0
        trees = as_list(field(self.tree, "input_sets", "tree"), "tree.input_sets", len(self.input_sets))
        for s, (domain, tree) in enumerate(zip(self.input_sets, trees)):
            self.domain = domain  # an input set with no point is one empty node proved over its rows
            self._walk_bisected(tree, f"tree.input_sets[{s}]", list(domain.rows), True)
        for k, count in enumerate(self.referenced):
            if count == 0:
                raise CheckFailure(f"leaves[{k}]", "is not reached from the tree")
        self.stats.update(leaves=len(self.leaves), empty=self.empty, neurons=len(self.order),
                          input_sets=len(self.input_sets), disjuncts=len(self.unsafe), closed=self.closed,
                          bisections=self.bisections)

    def _walk_bisected(self, tree, where: str, rows, top: bool) -> None:
        """A property tree whose root may be a bisection (:meth:`_bisect_halves`: only before any
        neuron is split, so only at the top, possibly nested); each half's tree is walked over its
        half box."""
        if isinstance(tree, dict) and "bisect" in tree:
            for child, child_where, half in self._bisect_halves(tree, where, rows):
                self._walk_bisected(child, child_where, half, False)
            return
        self._walk(tree, where, rows)

    def _check_unsafe(self, k: int, rows) -> None:
        """At leaf ``k`` (rows: its input set's rows, then one per neuron): for every disjunct, the
        multipliers over these rows followed by the disjunct's pulled-back rows prove them empty."""
        where = f"leaves[{k}].unsafe"
        proofs = as_list(field(self.leaves[k], "unsafe", f"leaves[{k}]"), where, len(self.unsafe))
        alpha, beta = self.verified_leaves[k]["alpha"], self.verified_leaves[k]["beta"]
        for d, (conj, pairs) in enumerate(zip(self.unsafe, proofs)):
            check_motzkin(rows + [pull_back(row, alpha, beta) for row in conj], pairs, f"{where}[{d}]")

    def _check_counterexample(self, ce) -> None:
        s = as_int(field(ce, "input_set", "counterexample"), "counterexample.input_set", 0, len(self.input_sets) - 1)
        d = as_int(field(ce, "disjunct", "counterexample"), "counterexample.disjunct", 0, len(self.unsafe) - 1)
        x = vector(field(ce, "x", "counterexample"), "counterexample.x", self.net.input_dim)
        for t, row in enumerate(self.input_sets[s].rows):
            if not holds(row, x):
                raise CheckFailure("counterexample.x", f"is outside input set {s} (violates its row {t})")
        y = self.net.evaluate(x)
        if vector(field(ce, "y", "counterexample"), "counterexample.y", self.net.output_dim) != y:
            raise CheckFailure("counterexample.y", f"differs from the exact output {[fmt(v) for v in y]}")
        for t, row in enumerate(self.unsafe[d]):
            if not holds(row, y):
                raise CheckFailure("counterexample.y", f"does not satisfy row {t} of unsafe disjunct {d}")
        self.stats.update(x=[fmt(v) for v in x], y=[fmt(v) for v in y], input_set=s, disjunct=d)


def property_summary(checker) -> str:
    """The comment line after ``s VERIFIED`` for a property certificate."""
    st = checker.stats
    if checker.property_path is None:
        bound = "the property embedded in the certificate (not compared with a file)"
    elif checker.cert["property_file_sha256"] is None:
        bound = f"the property file {checker.property_path} (the certificate states no file hash)"
    else:
        bound = f"the property file {checker.property_path} " + ("(byte-identical to the one certified)" if checker.same_file
                                                                 else "(the same property; its text differs from the file certified)")
    if checker.verdict == "violated":
        return (f"c the property is violated: x = [{', '.join(st['x'])}] is in input set {st['input_set']} and "
                f"f(x) = [{', '.join(st['y'])}] is in unsafe disjunct {st['disjunct']}; about {bound}")
    early = (f", {st['closed']} subproblems closed early by exact relaxations, {st['bisections']} box bisections"
             if st["closed"] or st["bisections"] else "")
    return (f"c the property holds: {st['leaves']} regions over {st['input_sets']} input sets, each disjoint from "
            f"the {st['disjuncts']} unsafe disjuncts, {st['empty']} branches proved empty{early}, {st['neurons']} neurons; "
            f"about {bound}")
# ----------------------------------------------------------------------------- structural and counterexample certificates
# An ``exactrelu-equivalence`` certificate with ``"method": "structural"`` proves ``A = B`` by facts per
# hidden layer (docs/theory.md, "Structural equivalence") and shows by its ``witness``, a point of the
# domain, that the claim is about some point; one with ``"method": "counterexample"`` proves
# ``||A(x) - B(x)|| > tolerance`` at one exact point.  Neither has a tree or leaves.
def _reduced_rows(W, b, facts, reps):
    """The rows of a layer as affine maps of the previous layer's representatives (or of ``x``)."""
    if facts is None:
        return [(list(r), c) for r, c in zip(W, b)]
    where = {r: t for t, r in enumerate(reps)}
    rows = []
    for row, c in zip(W, b):
        reduced = [ZERO] * len(reps)
        for j, fact in enumerate(facts):
            if fact is not None and row[j]:
                reduced[where[fact[0]]] += fact[1] * row[j]
        rows.append((reduced, c))
    return rows


def _upper(row, lo, hi) -> Fraction:
    w, c = row
    return c + sum((a * (h if a > 0 else l) for a, l, h in zip(w, lo, hi) if a), ZERO)


def _parse_facts(value, width: int, where: str, a_width: int) -> list:
    """``"dead"`` -> None, ``[r, s]`` -> (r, s) with ``s > 0`` and ``r`` a neuron of A's layer."""
    facts = []
    for j, f in enumerate(as_list(value, where, width)):
        if f == "dead":
            facts.append(None)
            continue
        pair = as_list(f, f"{where}[{j}]", 2)
        r = as_int(pair[0], f"{where}[{j}][0]", 0, a_width - 1)
        scale = rational(pair[1], f"{where}[{j}][1]")
        if scale <= 0:
            raise CheckFailure(f"{where}[{j}][1]", f"the scale {fmt(scale)} is not positive")
        facts.append((r, scale))
    return facts


def _check_layer_facts(layer, where, rows_a, rows_b, bounds):
    """Check one hidden layer's facts (module section above); return A's facts, B's, the representatives."""
    fa = _parse_facts(field(layer, "A", where), len(rows_a), f"{where}.A", len(rows_a))
    fb = _parse_facts(field(layer, "B", where), len(rows_b), f"{where}.B", len(rows_a))
    dead = {}
    for t, d in enumerate(as_list(field(layer, "dead", where), f"{where}.dead")):
        dw = f"{where}.dead[{t}]"
        net = field(d, "network", dw)
        if net not in ("A", "B"):
            raise CheckFailure(f"{dw}.network", "expected 'A' or 'B'")
        j = as_int(field(d, "neuron", dw), f"{dw}.neuron", 0, len(rows_a if net == "A" else rows_b) - 1)
        dead[(net, j)] = (field(d, "rule", dw), rational(field(d, "bound", dw), f"{dw}.bound"), dw)
    reps = sorted({f[0] for f in fa if f is not None})
    for r in reps:
        if fa[r] != (r, ONE):
            raise CheckFailure(f"{where}.A[{r}]", "a representative neuron must map to itself with scale 1")
    for net, facts, rows in (("A", fa, rows_a), ("B", fb, rows_b)):
        for j, fact in enumerate(facts):
            fw = f"{where}.{net}[{j}]"
            w, c = rows[j]
            if fact is None:
                if (net, j) not in dead:
                    raise CheckFailure(fw, "a dead neuron needs its evidence in 'dead'")
                rule, bound, dw = dead.pop((net, j))
                if rule == "zero":
                    if any(w) or c != bound or c > 0:
                        raise CheckFailure(dw, "the neuron's reduced weights are not all 0 with a bias <= 0")
                elif rule == "box":
                    if bounds is None:
                        raise CheckFailure(dw, "the rule 'box' needs a box domain")
                    if _upper(rows[j], *bounds) != bound or bound > 0:
                        raise CheckFailure(dw, f"the interval upper bound of the neuron over the box is "
                                               f"{fmt(_upper(rows[j], *bounds))}, not a proof that it is <= 0")
                else:
                    raise CheckFailure(f"{dw}.rule", f"expected 'zero' or 'box', found {rule!r}")
                continue
            r, scale = fact
            if r not in reps:
                raise CheckFailure(fw, f"neuron {r} of A is not a representative")
            wr, cr = rows_a[r]
            if [scale * v for v in wr] != w or scale * cr != c:
                raise CheckFailure(fw, f"its reduced row is not {fmt(scale)} times that of neuron {r} of A")
    if dead:
        raise CheckFailure(next(iter(dead.values()))[2], "evidence for a neuron not stated dead")
    return fa, fb, reps


class _ShortCertificates:
    """The methods of :class:`Checker` for these certificates (mixed in below)."""

    def _parse_short(self, cert, method) -> None:
        if method not in ("structural", "counterexample"):
            raise CheckFailure("method", f"expected 'enumeration', 'structural', 'counterexample' or 'lattice', "
                                         f"found {method!r}")
        claim = field(cert, "claim", "")
        norm = field(claim, "norm", "claim")
        if norm not in ("inf", "1"):
            raise CheckFailure("claim.norm", f"expected 'inf' or '1', found {norm!r}")
        kind = field(claim, "kind", "claim")
        if method == "structural":
            if kind != "equal":
                raise CheckFailure("claim.kind", "a structural certificate claims equality")
            self.claim = {"kind": kind, "norm": norm, "bound": ZERO, "argmax": None, "tolerance": None}
            a, b = self.nets["A"], self.nets["B"]
            if len(a.layers) != len(b.layers):
                raise CheckFailure("structure", "A and B have different numbers of layers")
            self.structure = as_list(field(cert, "structure", ""), "structure", len(a.layers) - 1)
            self.witness = vector(field(cert, "witness", ""), "witness", a.input_dim)
        else:
            if kind != "differ" or self.kind == "prune":
                raise CheckFailure("claim.kind", "a counterexample certificate claims 'differ' (equivalence only)")
            tol = field(claim, "tolerance", "claim")
            self.claim = {"kind": kind, "norm": norm,
                          "point": vector(field(claim, "point", "claim"), "claim.point", self.nets["A"].input_dim),
                          "bound": rational(field(claim, "deviation", "claim"), "claim.deviation"),
                          "tolerance": ZERO if tol is None else rational(tol, "claim.tolerance"), "argmax": None}
        self.short = method
        self.leaves = []

    def _run_short(self) -> None:
        a, b = self.nets["A"], self.nets["B"]
        if self.short == "counterexample":
            c = self.claim
            for t, row in enumerate(self.domain.rows):
                if not holds(row, c["point"]):
                    raise CheckFailure("claim.point", f"is outside the domain (violates domain row {t})")
            got = deviation(a.evaluate(c["point"]), b.evaluate(c["point"]), c["norm"])
            if got != c["bound"]:
                raise CheckFailure("claim.deviation", f"is {fmt(c['bound'])} but the deviation at claim.point is {fmt(got)}")
            if got <= c["tolerance"]:
                raise CheckFailure("claim.deviation", f"{fmt(got)} does not exceed the tolerance {fmt(c['tolerance'])}")
            return
        for t, row in enumerate(self.domain.rows):  # the facts are about the domain's points: show it has one
            if not holds(row, self.witness):
                raise CheckFailure("witness", f"is outside the domain (violates domain row {t}), so nothing shows "
                                              f"the domain has a point")
        data = self.domain.data
        bounds = None
        if data.get("kind") == "box":
            n = self.domain.dim
            bounds = (vector(data["lower"], "domain.lower", n), vector(data["upper"], "domain.upper", n))
        facts_a = facts_b = None
        reps = []
        for l, layer in enumerate(self.structure):
            (Wa, ba), (Wb, bb) = a.layers[l], b.layers[l]
            rows_a, rows_b = _reduced_rows(Wa, ba, facts_a, reps), _reduced_rows(Wb, bb, facts_b, reps)
            facts_a, facts_b, reps = _check_layer_facts(layer, f"structure[{l}]", rows_a, rows_b, bounds)
            if bounds is not None:
                bounds = ([ZERO] * len(reps), [max(ZERO, _upper(rows_a[r], *bounds)) for r in reps])
        (Wa, ba), (Wb, bb) = a.layers[-1], b.layers[-1]
        if _reduced_rows(Wa, ba, facts_a, reps) != _reduced_rows(Wb, bb, facts_b, reps):
            raise CheckFailure("structure", "the output layers of A and B differ on the representatives")

    def _short_summary(self) -> str:
        c = self.claim
        if self.short == "counterexample":
            return (f"c ||A - B||_{c['norm']} = {fmt(c['bound'])} > {fmt(c['tolerance'])} at claim.point: "
                    f"A and B differ on the domain")
        return f"c A = B at every point of the domain (structural: {len(self.structure)} hidden layers mapped)"


# ----------------------------------------------------------------------------- lattice certificates
# An ``exactrelu-equivalence`` certificate with ``"method": "lattice"`` proves ``A = B`` where ``B`` is
# the ReLU realisation of a stated max-min formula (docs/theory.md section 10, "The lattice
# certificate"): the checker rebuilds ``B`` from the formula (rule 1), and walks ``A``'s own case-split
# tree, where every leaf shows that the formula equals ``A``'s affine map there (rule 2).
LATTICE = "lattice"


def _lin(expr) -> bool:
    return any(expr[0].values())


def _neg_expr(v):
    return {k: -c for k, c in v[0].items()}, -v[1]


def _sub_expr(a, b):
    out = dict(a[0])
    for k, c in b[0].items():
        out[k] = out.get(k, ZERO) - c
    return out, a[1] - b[1]


class _GadgetLayer:
    """One hidden layer of the gadget network: each distinct neuron ``relu(sum c_k v_k + c0)`` once,
    in the order of first use (the producer's construction, exactrelu/finite.py)."""

    def __init__(self) -> None:
        self.rows, self.index = [], {}

    def combine(self, terms):
        """``sum coef * relu(expr)`` as an expression over this layer's neurons."""
        out = {}
        for coef, expr in terms:
            key = (tuple(sorted((k, c) for k, c in expr[0].items() if c)), expr[1])
            if key not in self.index:
                self.index[key] = len(self.rows)
                self.rows.append(key)
            out[self.index[key]] = out.get(self.index[key], ZERO) + coef
        return {k: c for k, c in out.items() if c}, ZERO

    def identity(self, v):
        """``v = relu(v) - relu(-v)``."""
        return self.combine([(ONE, v), (-ONE, _neg_expr(v))]) if _lin(v) else ({}, v[1])

    def pair(self, op: str, a, b):
        """``min(a, b) = a - relu(a - b)``, ``max(a, b) = b + relu(a - b)``."""
        if not _lin(a) and not _lin(b):
            return {}, (min if op == "min" else max)(a[1], b[1])
        base = a if op == "min" else b
        return self.combine([(ONE, base), (-ONE, _neg_expr(base)), (-ONE if op == "min" else ONE, _sub_expr(a, b))])

    def level(self, op: str, group):
        """One level of a balanced pairwise tree; an odd last value passes as an identity."""
        out = [self.pair(op, group[k], group[k + 1]) for k in range(0, len(group) - 1, 2)]
        return out + [self.identity(group[-1])] if len(group) % 2 else out


def _dense_expr(v, width: int):
    row = [ZERO] * width
    for k, c in v[0].items():
        row[k] += c
    return row, v[1]


def lattice_layers(n: int, formula) -> list:
    """The layers ``(W, b)`` of the ReLU network of ``formula`` (per output: its maps ``(w, b)`` and its
    terms, lists of map indices): per output a balanced min tree per term, then a balanced max tree
    over the terms, one tree level per hidden layer, finished values carried as identities; a layer
    with no neuron gets one zero neuron.  Every gadget is an identity of real numbers, so the network
    equals ``max_t min_{j in S_t} l_j`` at every point."""
    states = [["min", [[({i: a for i, a in enumerate(maps[j][0]) if a}, maps[j][1]) for j in term] for term in terms]]
              for maps, terms in formula]

    def settle(state) -> None:
        if state[0] == "min" and all(len(g) == 1 for g in state[1]):
            state[0], state[1] = "max", [[g[0] for g in state[1]]]
        if state[0] == "max" and len(state[1][0]) == 1:
            state[0], state[1] = "done", state[1][0][0]

    for state in states:
        settle(state)
    layers, width = [], n
    while any(state[0] != "done" for state in states):
        layer = _GadgetLayer()
        for state in states:
            if state[0] == "done":
                state[1] = layer.identity(state[1])
            elif state[0] == "min":
                state[1] = [layer.level("min", g) if len(g) > 1 else [layer.identity(g[0])] for g in state[1]]
            else:
                state[1] = [layer.level("max", state[1][0])]
            settle(state)
        rows = [_dense_expr((dict(coefs), bias), width) for coefs, bias in layer.rows] or [([ZERO] * width, ZERO)]
        layers.append(([r for r, _ in rows], [c for _, c in rows]))
        width = len(rows)
    outputs = [_dense_expr(state[1], width) for state in states]
    layers.append(([r for r, _ in outputs], [c for _, c in outputs]))
    return layers


class _TermRows:
    """A leaf's rows followed by the strict rows ``l_j - l > 0`` of a term's maps (in its order), each
    of these made only when a multiplier reads it."""

    def __init__(self, rows, maps, term, w, b) -> None:
        self.rows, self.maps, self.term, self.w, self.b = rows, maps, term, w, b

    def __len__(self) -> int:
        return len(self.rows) + len(self.term)

    def __getitem__(self, m: int):
        if m < len(self.rows):
            return self.rows[m]
        wj, bj = self.maps[self.term[m - len(self.rows)]]
        return [p - q for p, q in zip(wj, self.w)], bj - self.b, True


class LatticeCertificate:
    """``"method": "lattice"`` (mixed into :class:`Checker`): ``B`` is rebuilt from the stated formula
    and compared exactly (rule 1); at every leaf of ``A``'s tree, with ``l`` its map for output ``o``,
    ``above`` proves ``l_j - l >= 0`` on the leaf's closure for every ``j`` of the stated term by dual
    multipliers (or, split by hyperplanes ``l_j = l``, on each part for the part's term), and
    ``below[t]`` proves by Motzkin multipliers that no point of the leaf has
    ``l_j > l`` for every ``j`` of term ``t`` (rule 2); so ``max_t min_{S_t} l_j = l = A`` there."""

    lattice = None  # the parsed formula: per output (maps, terms)

    def _parse_lattice(self, cert) -> None:
        a = self.nets["A"]
        n, m = a.input_dim, a.output_dim
        if field(cert, "combination", "") != LATTICE:
            raise CheckFailure("combination", f"expected {LATTICE!r} (a lattice certificate's tree is A's own)")
        if field(cert, "order", "") != "layer-major":
            raise CheckFailure("order", "expected 'layer-major'")
        claim = field(cert, "claim", "")
        if field(claim, "kind", "claim") != "equal":
            raise CheckFailure("claim.kind", "a lattice certificate claims equality")
        self.claim = {"kind": "equal", "norm": "inf", "bound": ZERO, "argmax": None, "tolerance": None}
        formula = []
        for o, out in enumerate(as_list(field(cert, "lattice", ""), "lattice", m)):
            where = f"lattice[{o}]"
            maps = [(vector(field(mp, "w", f"{where}.maps[{j}]"), f"{where}.maps[{j}].w", n),
                     rational(field(mp, "b", f"{where}.maps[{j}]"), f"{where}.maps[{j}].b"))
                    for j, mp in enumerate(as_list(field(out, "maps", where), f"{where}.maps"))]
            terms = []
            for t, term in enumerate(as_list(field(out, "terms", where), f"{where}.terms")):
                tw = f"{where}.terms[{t}]"
                if not as_list(term, tw):
                    raise CheckFailure(tw, "an empty term (the minimum of no map)")
                terms.append([as_int(j, f"{tw}[{s}]", 0, len(maps) - 1) for s, j in enumerate(term)])
            if not terms:
                raise CheckFailure(f"{where}.terms", "no term (the maximum of nothing)")
            formula.append((maps, terms))
        self.lattice = formula
        self.net = a
        self.leaves = as_list(field(cert, "leaves", ""), "leaves")
        self.tree = field(cert, "tree", "")

    def _check_realisation(self) -> None:
        """Rule 1: ``B``'s weights are exactly the realisation of the formula."""
        want = lattice_layers(self.nets["A"].input_dim, self.lattice)
        got = self.nets["B"].layers
        if len(got) != len(want):
            raise CheckFailure("networks.B", f"has {len(got)} layers, the realisation of the lattice formula {len(want)}")
        for k, ((W, b), (eW, eb)) in enumerate(zip(got, want)):
            if len(W) != len(eW):
                raise CheckFailure(f"networks.B.layers[{k}]", f"has {len(W)} neurons, the realisation {len(eW)}")
            for i, (r, er, c, ec) in enumerate(zip(W, eW, b, eb)):
                if r != er or c != ec:
                    raise CheckFailure(f"networks.B.layers[{k}]", f"neuron {i} differs from the realisation of the "
                                                                  f"lattice formula")

    def _check_lattice_leaf(self, k: int, rows) -> None:
        """Rule 2 at leaf ``k`` (rows: the domain's, then one per neuron of ``A``)."""
        where = f"leaves[{k}].lattice"
        alpha, beta = self.verified_leaves[k]["alpha"], self.verified_leaves[k]["beta"]
        for o, (ev, (maps, terms)) in enumerate(zip(as_list(field(self.leaves[k], "lattice", f"leaves[{k}]"), where,
                                                            len(self.lattice)), self.lattice)):
            ow, w, b = f"{where}[{o}]", alpha[o], beta[o]
            self._check_lattice_cell(ev, list(rows), maps, terms, w, b, ow)
            below = as_list(field(ev, "below", ow), f"{ow}.below", len(terms))
            for t, (term, pairs) in enumerate(zip(terms, below)):
                check_motzkin(_TermRows(rows, maps, term, w, b), pairs, f"{ow}.below[{t}]")

    def _check_lattice_cell(self, node, rows, maps, terms, w, b, where: str) -> None:
        """Rule 2 (a) on the part of a leaf's closure where ``rows`` hold (read as ``>= 0``): a term
        ``"term"`` whose maps ``l_j`` the multipliers ``"above"`` prove ``>= l``, or a split by a map
        ``"split": j`` into ``"ge"`` (the row ``l_j - l >= 0`` appended) and ``"le"`` (``l - l_j >= 0``),
        whose union is the part: each checked in turn."""
        if isinstance(node, dict) and "split" in node:
            wj, bj = maps[as_int(field(node, "split", where), f"{where}.split", 0, len(maps) - 1)]
            d, d0 = [p - q for p, q in zip(wj, w)], bj - b
            self._check_lattice_cell(field(node, "ge", where), rows + [(d, d0, False)], maps, terms, w, b, f"{where}.ge")
            self._check_lattice_cell(field(node, "le", where), rows + [([-a for a in d], -d0, False)], maps, terms, w, b,
                                     f"{where}.le")
            return
        top = as_int(field(node, "term", where), f"{where}.term", 0, len(terms) - 1)
        above = as_list(field(node, "above", where), f"{where}.above", len(terms[top]))
        for s, (j, pairs) in enumerate(zip(terms[top], above)):
            wj, bj = maps[j]
            bound = check_dual_bound(rows, pairs, [p - q for p, q in zip(w, wj)], b - bj, f"{where}.above[{s}]")
            if bound > 0:
                raise CheckFailure(f"{where}.above[{s}]", f"the multipliers prove l - l_{j} <= {fmt(bound)}, not <= 0")

    def _run_lattice(self) -> None:
        """After the walk (rule 2 ran at every leaf): ``--symbolic`` re-derives ``A``'s maps."""
        if self.symbolic:
            self._check_symbolic_maps()
        self.stats.update(leaves=len(self.leaves), empty=self.empty, neurons=len(self.order))

    def _dump_lattice(self, out) -> None:
        print("lattice certificate: A = B, B the realisation of a max-min formula; tree over A", file=out)
        for name, net in self.nets.items():
            print(f"network {name}: widths {[net.input_dim] + [len(b) for _, b in net.layers]}, sha256 {net.sha256()}", file=out)
        for o, (maps, terms) in enumerate(self.lattice):
            print(f"output {o}: {len(maps)} maps, terms {terms}", file=out)
        print(f"leaves: {len(self.leaves)}", file=out)

    def _lattice_summary(self) -> str:
        st = self.stats
        return (f"c A = B at every point of the domain (lattice: B realises max-min of "
                f"{sum(len(t) for _, t in self.lattice)} terms); {st['leaves']} regions of A, "
                f"{st['empty']} branches proved empty, {st['neurons']} neurons")


# ----------------------------------------------------------------------------- version 3: streamed shallow certificates
STREAM_VERSION = 3
_DECODER = json.JSONDecoder(parse_float=JsonFloat, parse_constant=_parse_constant, object_pairs_hook=_unique_keys)
_STREAMED = {"H", "c", "alpha", "beta", "strict", "weak", "layers"}  # shallow fields read element by element
STREAM_CACHE = 1 << 20  # entries a cache of the stream may hold before it is emptied (memory stays bounded)


class _LazyList:
    """A JSON array of a file being read, element by element (:class:`_JsonReader`)."""

    def __init__(self, elements) -> None:
        self.elements = elements

    def __iter__(self):
        return self.elements


class _JsonReader:
    """One JSON document read from a binary file in pieces, hashing its bytes as they are read: the
    arrays the caller streams come element by element (each element decoded whole), so the
    document is never held as a whole."""

    CHUNK = 1 << 20  # bytes read at a time

    def __init__(self, path: str, what: str) -> None:
        import codecs

        try:
            if not os.path.isfile(path):
                raise OSError("not a regular file (or no such file)")
            self.fh = open(path, "rb")
        except OSError as exc:
            raise CheckFailure(path, f"cannot read the {what}: {exc}") from None
        self.path, self.what = path, what
        self.text = codecs.getincrementaldecoder("utf-8")()
        self.digest = hashlib.sha256()
        self.buf, self.pos, self.eof = "", 0, False

    def _fill(self) -> bool:
        """Read more of the file into the buffer; False at its end."""
        if self.eof:
            return False
        try:
            chunk = self.fh.read(self.CHUNK)
            self.digest.update(chunk)
            self.buf = self.buf[self.pos:] + self.text.decode(chunk, final=not chunk)
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckFailure(self.path, f"cannot read the {self.what}: {exc}") from None
        self.pos = 0
        self.eof = not chunk
        return True

    def fail(self, reason: str):
        raise CheckFailure(self.path, f"invalid or truncated JSON ({reason})")

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill():
                return self.buf[self.pos:self.pos + 1]

    def take(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"expected {char!r}")
        self.pos += 1

    def value(self):
        """The next JSON value, decoded whole."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                self.fail(exc.msg)
            except RecursionError:
                self.fail("nested too deeply")
            if end == len(self.buf) and self._fill():  # a number may go on in the next piece
                continue
            self.pos = end
            return value

    def elements(self, element):
        """The elements of the array that comes next, each read by ``element()``."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield element()
            following = self.peek()
            self.pos += 1
            if following == "]":
                return
            if following != ",":
                self.fail("expected ',' or ']' in an array")

    def members(self, streamed, inner=None):
        """``(key, value)`` of the object that comes next; the values of the keys in ``streamed``
        that are arrays come as :class:`_LazyList` (whose elements are objects read by ``inner``,
        if given), which the caller reads to its end before it asks for the next member."""
        self.take("{")
        seen = set()
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                self.fail("expected a key")
            if key in seen:
                raise CheckFailure(key, "the field appears twice in one JSON object")
            seen.add(key)
            self.take(":")
            if key in streamed and self.peek() == "[":
                yield key, _LazyList(self.elements(inner if inner is not None and key == "layers" else self.value))
            else:
                yield key, self.value()
            following = self.peek()
            self.pos += 1
            if following == "}":
                return
            if following != ",":
                self.fail("expected ',' or '}' in an object")

    def finish(self) -> str:
        """After the document: nothing but white space; the SHA-256 of the file's bytes."""
        if self.peek() != "":
            self.fail("data after the end of the document")
        self.fh.close()
        return self.digest.hexdigest()


def stream_header(path: str):
    """The header of a version-3 certificate (JSON Lines: a first line that is a JSON object with
    ``"version": 3``) and the open file positioned after it, or ``None`` for any other file."""
    try:
        fh = open(path, "r", encoding="utf-8", newline="\n")
    except OSError:
        return None  # load_json names the error
    try:
        first = fh.readline()
        after = fh.tell()
        if not first.endswith("\n") or not fh.read(1):
            fh.close()
            return None
        fh.seek(after)
        header = _DECODER.decode(first)
    except (ValueError, UnicodeDecodeError, CheckFailure, RecursionError):
        fh.close()
        return None
    if not (isinstance(header, dict) and same_int(header.get("version"), STREAM_VERSION)):
        fh.close()
        return None
    return header, fh


class StreamedCertificate:
    """Version 3 of the shallow certificate (docs/certificate-format.md): a header line, the flat
    tree's nodes one per line with each leaf inline, and an end line with the counts.  The node
    lines are fed to :meth:`Checker._walk` as they are read; each leaf, once checked there, is
    cut down to what the comparison with the shallow network needs (its gates as hyperplane
    indices, its affine map), and the shallow network's file is read in pieces and compared with
    the construction generated entry by entry (:meth:`_check_shallow`)."""

    stream = None  # (header, open file) of a version-3 certificate

    def _parse_stream_header(self, header) -> None:
        """The first line of a version-3 certificate, after what it shares with version 2."""
        if not same_int(header.get("version"), STREAM_VERSION) or header.get("stream") != "jsonl":
            raise CheckFailure("line 1", "a version-3 header has \"version\": 3 and \"stream\": \"jsonl\"")
        for key in ("leaves", "tree"):
            if key in header:
                raise CheckFailure(f"line 1.{key}", "a version-3 header holds no leaves or tree (they follow, one node per line)")
        self._parse_shallow_reference(header)
        self.leaves = []

    def _parse_shallow_reference(self, cert) -> None:
        """The certificate's ``shallow`` reference: a file (``--shallow``, else the one it names beside
        it) or a network embedded.  Version 2 reads a file whole and checks the SHA-256 of its
        canonical form; version 3 reads it in pieces during the check, hashing its bytes (which the
        producer writes in canonical form, so the two hashes agree for its files)."""
        ref = field(cert, "shallow", "")
        sha = field(ref, "sha256", "shallow")
        if self.shallow_path is not None or "file" in ref:
            if self.shallow_path is not None:
                path, status = self.shallow_path, f"pinned ({self.shallow_path})"
            else:
                name = ref["file"]
                if not isinstance(name, str) or not name or os.path.isabs(name) or "\0" in name:
                    raise CheckFailure("shallow.file", "expected the relative name of a file")
                path = os.path.join(os.path.dirname(os.path.abspath(self.cert_path)), name)
                status = f"named by the certificate ({_shown_path(path)}; not pinned: name it with --shallow)"
            if self.stream is not None:
                self.shallow = ("stream", _JsonReader(path, "shallow network"), sha)
            else:
                self.shallow = ("whole", self._load_regular(path, "shallow network"), sha)
        else:
            self.shallow = ("whole", field(ref, "network", "shallow"), sha)
            status = "embedded (taken from the certificate alone)"
        if self.shallow[0] == "whole" and raw_sha256(self.shallow[1]) != sha:
            raise CheckFailure("shallow.sha256", "does not match the shallow network"
                               + (f" {self.shallow_path}" if self.shallow_path is not None else ""))
        self.bindings.append(("shallow network", f"sha256 {sha}", status))

    def _dump_stream(self, out) -> None:
        net = self.net
        print(f"deep network: widths {[net.input_dim] + [len(b) for _, b in net.layers]}, sha256 {self.cert['network_sha256']}", file=out)
        print(f"domain: {describe_domain(self.domain.data)}", file=out)
        print(f"shallow network: {self.bindings[-1][2]}, sha256 {self.shallow[2]}", file=out)
        print("leaves: version 3, read one line at a time during the check", file=out)

    # ------------------------------------------------------------------ the node lines
    def _walk_stream(self) -> None:
        """:meth:`Checker._walk` over the node lines (for :meth:`Checker._walk_tree`); a failure at a
        leaf names its line."""
        if self.guard or self.symbolic:
            raise CheckFailure("--guard/--symbolic", "are checks of version-2 certificates (this one is version 3)")
        self._start_compact()
        self.line = 1
        try:
            self._walk(self._node_lines(), "tree", list(self.domain.rows))
        except CheckFailure as exc:
            if exc.location.startswith("leaves["):
                raise CheckFailure(f"line {self.line} ({exc.location})", exc.reason) from None
            raise
        finally:
            self.stream[1].close()

    def _node_lines(self):
        """``(location, node)`` for each node line, a leaf's region moved to ``self.leaves``; the
        end line and everything about the lines themselves checked here."""
        fh, nodes, end = self.stream[1], 0, None
        for text in fh:
            if len(self.compact) < len(self.verified_leaves):  # the leaf before was checked by the walk
                self._compact_leaf(len(self.compact))
            self.line += 1
            at = f"line {self.line}"
            if end is not None:
                raise CheckFailure(at, "a line after the end line")
            if not text.endswith("\n"):
                raise CheckFailure(at, "the line does not end with a newline (truncated?)")
            if not text.strip():
                raise CheckFailure(at, "a blank line")
            try:
                node = _DECODER.decode(text)
            except json.JSONDecodeError as exc:
                raise CheckFailure(at, f"invalid JSON ({exc.msg} at column {exc.colno})") from None
            except CheckFailure as exc:
                raise CheckFailure(f"{at}.{exc.location}", exc.reason) from None
            except RecursionError:
                raise CheckFailure(at, "JSON nested too deeply") from None
            if len(_PARSED) + len(_MULTIPLIERS) > STREAM_CACHE:  # caches, bounded: the stream may hold any number of rationals
                _PARSED.clear()
                _MULTIPLIERS.clear()
            if isinstance(node, dict) and "end" in node:
                end = field(node, "end", at)
                if len(node) != 1 or not isinstance(end, dict) or set(end) != {"nodes", "leaves"}:
                    raise CheckFailure(at, 'the end line is {"end": {"nodes": T, "leaves": K}}')
                if not (same_int(end["nodes"], nodes) and same_int(end["leaves"], len(self.verified_leaves))):
                    raise CheckFailure(at, f"the end line counts {end['nodes']} nodes and {end['leaves']} leaves, the file "
                                           f"holds {nodes} and {len(self.verified_leaves)}")
                continue
            nodes += 1
            if isinstance(node, dict) and "leaf" in node:
                k = len(self.verified_leaves)
                if set(node) != {"leaf", "region"}:
                    raise CheckFailure(at, 'a leaf line is {"leaf": k, "region": {...}}')
                if not same_int(node["leaf"], k):
                    raise CheckFailure(f"{at}.leaf", f"leaf {node['leaf']!r} out of sequence (expected {k})")
                self.leaves.append(node["region"])
                self.referenced.append(0)
                self.verified_leaves.append(None)
                node = {"leaf": k}
            yield at, node
        if end is None:
            raise CheckFailure(f"line {self.line}", "the file ends without its end line (truncated?)")

    def _start_compact(self) -> None:
        self.compact, self.hyperplane_index, self.hyperplanes, self._seen_maps = [], {}, [], {}
        self.gates = [] if self.guard else None  # per leaf, each condition's hyperplane (for --guard's hints)

    def _compact_leaf(self, k: int) -> None:
        """Leaf ``k``, checked by the walk: check 31 at its witness, then keep its gates (hyperplane
        indices, in the construction's numbering) and its affine map only (version 3 frees the rest)."""
        leaf = self.verified_leaves[k]
        x = leaf["witness"]
        if self.net.evaluate(x) != [row_value((a, b, True), x) for a, b in zip(leaf["alpha"], leaf["beta"])]:
            raise CheckFailure(f"leaves[{k}].witness", "the deep network differs from the leaf's affine map there")
        strict, weak, own = set(), set(), []
        seen = self._seen_maps  # a map is one object for every leaf below the node that computed it
        if len(seen) > STREAM_CACHE:
            seen.clear()
        for (w, b), active in zip(leaf["maps"], leaf["bits"]):
            j = seen.get(id(w), (None, -1))[1]
            if j == -1:
                h, j = normalise(w, b), None
                if h is not None:
                    j = self.hyperplane_index.get(h[0])
                    if j is None:  # h_j = (w, b) / |first coefficient|, as canonical texts
                        key, first = h
                        j = self.hyperplane_index[key] = len(self.hyperplanes)
                        self.hyperplanes.append(([_text(a, first) for a in key[:-1]], _text(key[-1], first)))
                seen[id(w)] = (w, j)  # (w kept alive so that its id stays its own)
            if j is not None:
                (strict if active else weak).add(j)
            own.append(j)
        self.compact.append((array.array("l", sorted(strict)), array.array("l", sorted(weak)), leaf["alpha_text"],
                             leaf["beta_text"]))
        if self.gates is not None:
            self.gates.append(own)
        if self.stream is not None:
            self.leaves[k] = self.verified_leaves[k] = None

    # ------------------------------------------------------------------ the shallow network
    def _check_shallow(self) -> None:
        """Check 31 at every leaf and the shallow network against the construction over the compact
        leaves (version 2 compacts them after the walk, version 3 as the walk leaves each), then
        ``--guard``."""
        if self.stream is None:
            self._start_compact()
            for k in range(len(self.leaves)):
                self._compact_leaf(k)
        kind, source, sha = self.shallow
        if kind == "whole":
            if not isinstance(source, dict):
                raise CheckFailure("shallow", "expected a JSON object")
            self._compare_shallow(source.items(), "shallow")
        else:
            layer = lambda: source.members({"weights", "bias"})  # noqa: E731
            self._compare_shallow(source.members(_STREAMED, layer), "shallow")
            if source.finish() != sha:
                raise CheckFailure("shallow.sha256", f"does not match the shallow network file {source.path}")
        if self.guard:
            self._guard()
        self.stats["hyperplanes"] = len(self.hyperplanes)

    def _compare_shallow(self, members, where: str) -> None:
        """Every field of the shallow network against the construction over the compact leaves, the
        expected values generated one at a time as the canonical JSON the producer writes: an element
        equal to it as read is its value; any other is read and compared value by value (a
        non-canonical ``"2/4"`` still means 1/2)."""
        n, m = self.net.input_dim, self.net.output_dim
        K, J = len(self.compact), len(self.hyperplanes)
        expected = {
            "format": SHALLOW_FORMAT, "version": 1, "input_dim": n, "output_dim": m,
            "deep_sha256": self.cert["network_sha256"], "domain": _plain(self.domain.data, "domain"),
        }
        indices = lambda row, a: array.array("l", [as_int(i, f"{a}[{e}]") for e, i in enumerate(as_list(row, a))])  # noqa: E731
        read = {"H": (lambda row, a: vector(row, a, n), (h for h, _ in self.hyperplanes), J),
                "c": (rational, (c for _, c in self.hyperplanes), J),
                "strict": (indices, (leaf[0] for leaf in self.compact), K),
                "weak": (indices, (leaf[1] for leaf in self.compact), K),
                "alpha": (lambda row, a: [vector(r, f"{a}[{o}]", n) for o, r in enumerate(as_list(row, a, m))],
                          (leaf[2] for leaf in self.compact), K),
                "beta": (lambda row, a: vector(row, a, m), (leaf[3] for leaf in self.compact), K)}
        seen = set()
        for key, value in members:
            at = f"{where}.{key}"
            seen.add(key)
            if key in expected:
                want = expected[key]
                if not (same_int(value, want) if type(want) is int else (_plain(value, at) if key == "domain" else value) == want):
                    raise CheckFailure(at, "differs from the deep network, its domain or the format")
            elif key in read:
                _same_rows(value, at, iter(read[key][1]), read[key][2], read[key][0], key not in ("strict", "weak"))
            elif key == "layers":
                count = 0
                for t, layer in enumerate(_sequence(value, at)):
                    if t >= 4:
                        raise CheckFailure(at, "expected 4 layers (three hidden and the output)")
                    self._compare_layer(layer, f"{at}[{t}]", t)
                    count += 1
                if count != 4:
                    raise CheckFailure(at, f"expected 4 layers, found {count}")
        missing = [key for key in (*expected, *_STREAMED) if key not in seen]
        if missing:
            raise CheckFailure(f"{where}.{missing[0]}", "missing field")

    def _compare_layer(self, layer, where: str, t: int) -> None:
        n, m = self.net.input_dim, self.net.output_dim
        K, J = len(self.compact), len(self.hyperplanes)
        halves = 2 * K * m
        shapes = [(J + halves, n), (2 * J + halves, J + halves), (halves, 2 * J + halves), (m, halves)]
        rows, cols = shapes[t]
        if isinstance(layer, dict):
            layer = layer.items()
        elif not hasattr(layer, "__next__"):  # a layer of a file being read comes as its members
            raise CheckFailure(where, "expected a JSON object")
        seen = set()
        for key, value in layer:
            at = f"{where}.{key}"
            seen.add(key)
            if key in ("rows", "cols"):
                if not same_int(value, rows if key == "rows" else cols):
                    raise CheckFailure(where, f"is not {rows} x {cols}, the construction's shape")
            elif key == "weights":
                _same_rows(value, at, self._weights(t), None, _entry, entries=True)
            elif key == "bias":
                _same_rows(value, at, self._bias(t), rows, extended)
        for key in ("rows", "cols", "weights", "bias"):
            if key not in seen:
                raise CheckFailure(f"{where}.{key}", "missing field")

    def _bias(self, t: int):
        """Layer ``t``'s bias as the construction gives it, entry by entry."""
        m, J, K = self.net.output_dim, len(self.hyperplanes), len(self.compact)
        if t == 0:
            yield from (c for _, c in self.hyperplanes)
            for _, _, _, beta in self.compact:
                for b in beta:
                    yield b
                    yield b if b == "0" else _negated(b)
        elif t == 1:
            yield from itertools.repeat("1", J)
            yield from itertools.repeat("0", J + 2 * K * m)
        else:
            yield from itertools.repeat("0", 2 * K * m if t == 2 else m)

    def _weights(self, t: int):
        """Layer ``t``'s entries ``[i, j, w]`` in ``(i, j)`` order, as the construction gives them."""
        m, J, K = self.net.output_dim, len(self.hyperplanes), len(self.compact)
        halves = 2 * K * m
        if t == 0:
            for j, (row, _) in enumerate(self.hyperplanes):
                yield from ([j, i, a] for i, a in enumerate(row) if a != "0")
            for k, (_, _, alpha, _) in enumerate(self.compact):
                for o in range(m):
                    row = J + 2 * (k * m + o)
                    yield from ([row, i, a] for i, a in enumerate(alpha[o]) if a != "0")
                    yield from ([row + 1, i, _negated(a)] for i, a in enumerate(alpha[o]) if a != "0")
        elif t == 1:
            yield from ([j, j, "-inf"] for j in range(J))
            yield from ([J + j, j, "1"] for j in range(J))
            yield from ([2 * J + i, J + i, "1"] for i in range(halves))
        elif t == 2:
            for k, (strict, weak, _, _) in enumerate(self.compact):
                for o in range(m):
                    base = 2 * (k * m + o)
                    for d, s in ((0, ("1", "-1")), (1, ("-1", "1"))):
                        yield from ([base + d, j, "-inf"] for j in strict)
                        yield from ([base + d, J + j, "-inf"] for j in weak)
                        yield [base + d, 2 * J + base, s[0]]
                        yield [base + d, 2 * J + base + 1, s[1]]
        else:
            for o in range(m):
                for k in range(K):
                    yield [o, 2 * (k * m + o), "1"]
                    yield [o, 2 * (k * m + o) + 1, "-1"]


def _sequence(value, where: str):
    """A JSON array, whole (a list) or being read (:class:`_LazyList`)."""
    if isinstance(value, (list, _LazyList)):
        return value
    raise CheckFailure(where, "expected a list")


def _entry(cell, where: str):
    """A weight ``[i, j, w]`` as ``(i, j, w)``."""
    if not (isinstance(cell, list) and len(cell) == 3 and type(cell[0]) is int and type(cell[1]) is int):
        raise CheckFailure(where, "expected [row, column, weight]")
    return cell[0], cell[1], extended(cell[2], f"{where}[2]")


def _same_rows(value, where: str, expected, count, read, as_read: bool = True, entries: bool = False) -> None:
    """The elements of the array ``value`` equal the canonical JSON elements ``expected`` one by one,
    and there are ``count`` of them (all of ``expected`` when ``count`` is None): with ``as_read``,
    an element equal to its expected one as read is accepted at once (an entry's indices must be
    integers, not booleans); any other is read by ``read(element, location)`` and compared with
    its expected one read alike.  Without ``as_read`` every element is read and compared with its
    expected one as it stands (a ``strict`` or ``weak`` list: integers, where ``true`` equals 1)."""
    done = object()
    e = -1
    for e, element in enumerate(_sequence(value, where)):
        want = next(expected, done)
        if as_read and element == want and (not entries or (element[0].__class__ is int and element[1].__class__ is int)):
            continue
        at = f"{where}[{e}]"
        got = read(element, at)
        if want is done:
            raise CheckFailure(at, "an entry the construction does not have")
        want = read(want, at) if as_read else want
        if got != want:
            shown = lambda v: v if isinstance(v, str) else fmt(v) if isinstance(v, Fraction) else v  # noqa: E731
            if entries:
                raise CheckFailure(at, f"is {[shown(v) for v in got]}, the construction gives "
                                       f"{[shown(v) for v in want]} (entries in row, column order)")
            raise CheckFailure(at, "differs from the construction over the leaves")
    if next(expected, done) is not done or (count is not None and e + 1 != count):
        raise CheckFailure(where, f"has {e + 1} entries, the construction gives more")


# ----------------------------------------------------------------------------- the check
KINDS = {
    "shallow": "the three-hidden-layer network equals the deep network at every point of the domain",
    "equivalence": "a claim about two networks A and B on the domain (equal, or their exact maximum deviation)",
    "prune": "the pruned network equals the original network at every point of the domain",
    "property": "a VNN-LIB property holds on the network (no input of its input set reaches its unsafe set), "
                "or is violated at an exact input",
}
WRITERS = {"shallow": "shallow", "equivalence": "equiv (or prune, shallow --finite)",
           "prune": "equiv (or prune, shallow --finite)", "property": "verify"}  # the command that writes each kind
MODEL_SUFFIXES = (".onnx", ".npz", ".pt", ".pth", ".nnet")


def without_gc(method):
    """Run ``method`` with Python's cyclic garbage collector paused: a check builds millions of small
    acyclic objects (parsed JSON, rationals), and the collector's passes over them cost about a
    third of the time while freeing nothing.  Reference counting still frees everything."""
    @functools.wraps(method)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()
    return paused


class UsageError(ValueError):
    """Options that contradict each other (the command line's fault, not the certificate's)."""


def expected_kind(expect=None, model=None, shallow=None, model_a=None, model_b=None, pruned=None, prop=None,
                  domain=None):
    """The kind of certificate the auditor's options ask for, or ``None`` when they name no file of a
    network (then any kind is accepted and every network is taken from the certificate)."""
    named = {"--shallow": shallow, "--model-a": model_a, "--model-b": model_b, "--pruned": pruned,
             "--property": prop, "--domain/--box": domain}
    if prop is not None:
        implied = "property"
    elif pruned is not None:
        implied = "prune"
    elif model_a is not None or model_b is not None:
        implied = "equivalence"
    elif model is not None or shallow is not None:
        implied = "shallow"
    else:
        implied = None
    allowed = {"shallow": ("--shallow", "--domain/--box"), "equivalence": ("--model-a", "--model-b", "--domain/--box"),
               "prune": ("--pruned", "--domain/--box"), "property": ("--property",)}
    kind = expect or implied
    if expect is not None and expect not in KINDS:
        raise UsageError(f"--expect: unknown kind {expect!r} (one of {', '.join(KINDS)})")
    if kind is not None:
        stray = [flag for flag, value in named.items() if value is not None and flag not in allowed[kind]]
        if model is not None and kind == "equivalence":
            stray.insert(0, "--model")
        if stray:
            hint = {"equivalence": " (name the two networks with --model-a and --model-b)",
                    "property": " (its input sets are the property's: name the VNN-LIB file with --property)"}
            raise UsageError(f"{stray[0]} does not apply to a {kind} certificate{hint.get(kind, '')}")
    return kind


class Checker(PropertyCertificate, _ShortCertificates, LatticeCertificate, StreamedCertificate):
    """One check of one certificate against the files an auditor names.

    Each network binding (``model``, ``shallow``, ``model_a``, ``model_b``, ``pruned``) is a path, or
    a pair ``(label, parsed JSON)`` for a network that a caller converted itself (``exactrelu check``
    does so for other formats, outside this trusted base).  A bound network must have the SHA-256 the
    certificate records; ``domain`` (a JSON file) or ``box`` (``LO:HI,...``) must equal its domain
    exactly.  After :meth:`run`, :attr:`bindings` says for each network and the domain whether it was
    *pinned* (compared with a file named here) or *embedded* (taken from the certificate alone)."""

    def __init__(self, cert_path: str, *, expect=None, model=None, shallow=None, model_a=None, model_b=None,
                 pruned=None, prop=None, domain=None, box=None, symbolic=False, guard=False, workers: int = 1) -> None:
        if hasattr(sys, "set_int_max_str_digits"):  # rationals of any size (Python 3.11+ limits int(str))
            sys.set_int_max_str_digits(0)
        self.cert_path = cert_path
        self.expect = expected_kind(expect, model, shallow, model_a, model_b, pruned, prop,
                                    domain if domain is not None else box)
        if domain is not None and box is not None:
            raise UsageError("give either --domain or --box, not both")
        self.model, self.shallow_path, self.model_a, self.model_b, self.pruned = model, shallow, model_a, model_b, pruned
        self.property_path = prop
        self.domain_path, self.box = domain, box
        self.symbolic = symbolic
        self.guard = guard
        self.stats = {}
        self.kind = None
        self.bindings = []  # (what, sha256 or description, "pinned (...)" / "embedded ...")
        self.parsed = False
        self.short = None  # a structural or counterexample equivalence certificate (no tree)
        self.workers = workers
        self.evidence, self.records = (0, math.inf), True  # what this process checks (see _run_parallel)
        self.node_index = -1

    @without_gc
    def parse(self):
        if os.path.exists(self.cert_path) and not os.path.isfile(self.cert_path):  # a pipe, device or folder
            raise CheckFailure(self.cert_path, "the certificate must be a regular file (not a pipe, device or folder)")
        self.stream = stream_header(self.cert_path)  # version 3 (StreamedCertificate), else None
        cert = self.stream[0] if self.stream is not None else load_json(self.cert_path, "certificate")[1]
        if not isinstance(cert, dict):
            raise CheckFailure("file", "the certificate is not a JSON object")
        self.kind = kind = self._kind_of(cert)
        if self.expect is not None and kind != self.expect:
            article = "an" if kind[0] in "aeiou" else "a"
            raise CheckFailure("format", f"this is {article} {kind} certificate ({KINDS[kind]}), not the {self.expect} "
                                         f"certificate the options ask for")
        self.parsed = True
        if kind in ("equivalence", "prune"):
            return self._parse_equivalence(cert)
        if kind == "property":
            return self._parse_property(cert)
        if self.stream is None:
            self._read_version(cert, CERT_VERSION)
        self.cert = cert
        self.net = Network(field(cert, "network", ""), "network")
        sha = field(cert, "network_sha256", "")
        if self.net.sha256() != sha:
            raise CheckFailure("network_sha256", "does not match the embedded network")
        self._pin_network("deep network", self.model, sha, self.net)
        self.domain = Domain(field(cert, "domain", ""), "domain")
        self._pin_domain()
        if self.domain.dim != self.net.input_dim:
            raise CheckFailure("domain.dim", f"is {self.domain.dim}, the network has {self.net.input_dim} inputs")
        if self.stream is not None:
            return self._parse_stream_header(cert)
        self._parse_shallow_reference(cert)
        self.leaves = as_list(field(cert, "leaves", ""), "leaves")
        self.tree = field(cert, "tree", "")

    @staticmethod
    def _kind_of(cert) -> str:
        fmt_ = cert.get("format")
        if fmt_ == CERT_FORMAT:
            return "shallow"
        if fmt_ == EQUIV_FORMAT:
            purpose = cert.get("purpose", "equivalence")
            if purpose not in ("equivalence", "prune"):
                raise CheckFailure("purpose", f"expected 'equivalence' or 'prune', found {purpose!r}")
            return purpose
        if fmt_ == PROPERTY_FORMAT:
            return "property"
        raise CheckFailure("format", f"expected {CERT_FORMAT!r}, {EQUIV_FORMAT!r} or {PROPERTY_FORMAT!r}, found {fmt_!r}")

    @staticmethod
    def _load_regular(path: str, what: str):
        """A file named for a binding: a regular file (not a device, FIFO or folder); its parsed JSON."""
        exists, regular = os.path.exists(path), os.path.isfile(path)  # False, never an error, for any path
        if not exists:
            raise CheckFailure(path, f"cannot read the {what}: no such file")
        if not regular:
            raise CheckFailure(path, f"the {what} must be a regular file")
        return load_json(path, what)[1]

    def _pin_network(self, what: str, binding, sha: str, embedded: "Network") -> None:
        """Compare the network the certificate records (``sha``, already found to be that of
        ``embedded``) with the file the auditor named.  The canonical form is a function of the input
        dimension and the exact layers, so a file whose layers equal ``embedded``'s has that SHA-256
        without hashing it again; any other file is hashed."""
        if binding is None:
            self.bindings.append((what, f"sha256 {sha}", "embedded (taken from the certificate alone)"))
            return
        if isinstance(binding, tuple):
            label, data = binding
        else:
            label = binding
            if binding.lower().endswith(MODEL_SUFFIXES):
                raise CheckFailure(binding, "the checker reads exactrelu-network JSON only: convert the file with "
                                            "'exactrelu convert', or use 'exactrelu check', which converts it itself")
            data = self._load_regular(binding, what)
        other = Network(data, f"{what} {label}", allow_floats=True)
        same = other.input_dim == embedded.input_dim and other.layers == embedded.layers
        if not same and other.sha256() != sha:
            raise CheckFailure(what, f"the certificate is about another network than {label}")
        self.bindings.append((what, f"sha256 {sha}", f"pinned ({label})"))

    def _pin_domain(self) -> None:
        """With ``--domain FILE`` or ``--box``: the certificate must be about exactly that domain."""
        described = describe_domain(self.domain.data)
        if self.domain_path is None and self.box is None:
            self.bindings.append(("domain", described, "embedded (taken from the certificate alone)"))
            return
        if self.box is not None:
            wanted, label = box_domain(self.box, self.domain.dim), f"--box={self.box}"
        else:
            wanted, label = self._load_regular(self.domain_path, "domain"), self.domain_path
        if canonical_domain(wanted, f"domain {label}", _float_tolerant) != canonical_domain(self.domain.data, "domain"):
            raise CheckFailure("domain", f"the certificate is about another domain than {label}")
        self.bindings.append(("domain", described, f"pinned ({label})"))

    def dump(self, out) -> None:
        """What was parsed, for a person to confirm; it reads only what :meth:`parse` accepted."""
        if self.kind == "property":
            return self._dump_property(out)
        if self.lattice is not None:
            return self._dump_lattice(out)
        if self.kind != "shallow":
            return self._dump_equivalence(out)
        if self.stream is not None:
            return self._dump_stream(out)
        net = self.net
        print(f"deep network: widths {[net.input_dim] + [len(b) for _, b in net.layers]}, sha256 {self.cert['network_sha256']}", file=out)
        for k, (W, b) in enumerate(net.layers):
            print(f"  layer {k}: W = {[[fmt(v) for v in r] for r in W]}, b = {[fmt(v) for v in b]}", file=out)
        shown = lambda obj: json.dumps(obj, default=lambda v: v.text if isinstance(v, JsonFloat) else str(v))  # noqa: E731
        print(f"domain: {shown(self.domain.data)}", file=out)
        layers = self.shallow[1].get("layers") if isinstance(self.shallow[1], dict) else None
        sizes = [layer.get("rows") for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else "?"
        print(f"shallow network: layer widths {sizes}, sha256 {self.cert['shallow'].get('sha256')}", file=out)
        print(f"leaves: {len(self.leaves)}", file=out)
        print(f"producer: {shown(self.cert.get('producer'))}", file=out)

    @without_gc
    def run(self) -> None:
        """Parse (unless :meth:`parse` already ran: what was dumped is what is verified) and check."""
        if not self.parsed:
            self.parse()
        if self.kind == "property":
            return self._run_property()
        if self.short is not None:
            return self._run_short()
        if self.workers > 1 and self.stream is None and len(self.tree) > 1:
            return self._run_parallel()
        self._run_tree()

    def _run_tree(self) -> None:
        """The checks of a certificate with one case-split tree, in order: before, during and after
        the walk (:attr:`node_index` is -1, the node's index, infinity)."""
        if self.lattice is not None:
            self._check_realisation()
        self._walk_tree()
        self.node_index = math.inf
        if self.lattice is not None:
            return self._run_lattice()
        if self.kind != "shallow":
            return self._run_equivalence()
        self._check_shallow()
        if self.symbolic:
            self._check_symbolic()
        self.stats.update(leaves=len(self.leaves), empty=self.empty, neurons=len(self.order))

    def _run_parallel(self) -> None:
        """:meth:`_run_tree` in :attr:`workers` processes: ``workers - 1`` helpers, forked after the
        parse, each check the evidence (Motzkin multipliers, leaves' patterns and witnesses) of one
        range of the tree's nodes; this process checks the rest (every leaf's affine map and
        everything before and after the walk).  Every process runs the same walk, so each reaches a
        node in the same state; of the failures found, the one a serial run meets first is reported: the earliest node, and at one node a helper's (its checks come first)."""
        import multiprocessing  # (only here: a serial check does without its import time)

        if "fork" not in multiprocessing.get_all_start_methods():  # helpers must inherit the parsed certificate
            return self._run_tree()
        global _FORKED
        helpers, count = self.workers - 1, len(self.tree)
        shares = [(count * h // helpers, count * (h + 1) // helpers) for h in range(helpers)]
        context, running = multiprocessing.get_context("fork"), []
        _FORKED = self
        try:
            for share in shares:
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_helper, args=(send, share), daemon=True)
                process.start()
                send.close()
                running.append((share, process, receive))
            self.evidence, self.records = (0, 0), True
            failures, own = [], math.inf
            try:
                self._run_tree()
            except CheckFailure as exc:
                failures.append((self.node_index, 1, exc.location, exc.reason))
                own = self.node_index
            for (lo, _), process, receive in running:
                if lo > own:
                    continue  # its nodes all come after this process's own failure
                try:
                    result = receive.recv()
                except EOFError:
                    result = (-1, 0, "--workers", "a helper process ended without a verdict")
                process.join()  # a helper that has sent its verdict ends by itself
                if result is not None:
                    failures.append(result)
        finally:
            _FORKED = None
            for _, process, receive in running:  # the helpers not waited for (or all, on an interruption)
                if process.is_alive():
                    process.kill()
                process.join()
                receive.close()
        if failures:
            _, _, location, reason = min(failures)
            raise CheckFailure(location, reason)

    def _walk_tree(self) -> None:
        """Points 2 and 3 of the module docstring over the whole tree (version 3: its node lines, as
        they are read, each leaf reached as it comes); an empty domain proves nothing."""
        count = len(self.leaves)
        self.order = [(l, i) for l, w in enumerate(self.net.widths) for i in range(w)]
        self.referenced, self.leaf_order, self.verified_leaves, self.empty = [0] * count, [], [None] * count, 0
        if self.stream is None:
            self._walk(self.tree, "tree", list(self.domain.rows))
        else:
            self._walk_stream()
        if 0 in self.referenced:
            raise CheckFailure(f"leaves[{self.referenced.index(0)}]", "is not reached from the tree")
        if not self.referenced:
            raise CheckFailure("domain", "the domain is empty (every branch is proved empty), so the certificate "
                                         "proves nothing about any point")

    def verdict_lines(self) -> list:
        """The comment lines that follow the verdict: the kind, and each network and the domain with
        whether it was pinned to a file the auditor named or taken from the certificate alone."""
        lines = [f"c kind: {self.kind} certificate: {KINDS[self.kind]}"] if self.kind else []
        return lines + [f"c {what}: {ident}, {status}" for what, ident, status in self.bindings]

    def summary(self) -> str:
        """The last comment line of a verified certificate: what was established, in numbers."""
        st = self.stats
        if self.kind == "property":
            return property_summary(self)
        if self.kind == "shallow":
            return (f"c {st['leaves']} regions, {st['empty']} branches proved empty, {st.get('hyperplanes', 0)} "
                    f"hyperplanes, {st['neurons']} neurons")
        if self.short is not None:
            return self._short_summary()
        if self.lattice is not None:
            return self._lattice_summary()
        claim = self.claim
        what = "A = B at every point of the domain" if claim["kind"] == "equal" else (
            f"max ||A - B||_{claim['norm']} over the domain = {fmt(claim['bound'])}"
            + (f" <= tolerance {fmt(claim['tolerance'])}" if claim["tolerance"] is not None else ""))
        return (f"c {what}; {st['leaves']} regions of A||B ({st['bounded']} with LP-dual bounds), "
                f"{st['empty']} branches proved empty, {st['neurons']} neurons")

    def _read_version(self, cert, latest: int) -> None:
        """Version ``latest`` (each tree flat, a preorder list of nodes); version 1 (nested trees) is
        no longer read, and is refused with the command that writes the current version."""
        version = field(cert, "version", "")
        if same_int(version, 1):
            raise CheckFailure("version", f"version 1 is no longer read; regenerate it with exactrelu {WRITERS[self.kind]}")
        if not same_int(version, latest):
            raise CheckFailure("version", f"expected {latest}, found {version!r} (unsupported version)")

    def _walk(self, tree, where, rows) -> None:
        """Points 2 and 3 of the module docstring over one tree, iteratively: the nodes come in
        preorder (:func:`tree_nodes`), and ``bits`` is the path to the current node (``True``: in
        the active child of that split, ``False``: in the inactive one).  A split decides the next
        neuron of the layer-major order; a leaf (the hook :meth:`_check_leaf`, and for a property
        :meth:`_check_unsafe`) or an empty node closes a branch, after which the path climbs to the
        nearest split whose inactive child is still to come.  ``rows`` (the domain's rows) gets one
        row per decided neuron, and is left as it was found."""
        order, net, n = self.order, self.net, self.net.input_dim
        maps = [None] * len(net.widths)  # maps[l][i]: neuron i's (w, c, (w, c) over integers), for the current path
        bits, prefix_maps = [], []
        negated = [None] * len(net.widths)  # negated[l][i]: its inactive row and that row over integers, once made
        integer_rows = self.integer_rows = [scaled([*u, v]) for u, v, _ in rows]  # rows[t] over integers, in step with rows
        complete = False
        lo, hi = self.evidence
        for t, (at, node) in enumerate(tree_nodes(tree, where)):
            self.node_index = t
            if complete:
                raise CheckFailure(at, "a node after the tree is complete")
            kind, depth = node_kind(node, at), len(bits)
            if kind == "split":
                if depth >= len(order):
                    raise CheckFailure(at, "splits after every neuron is decided")
                split = node["split"]
                l, i = order[depth]
                if not (split.__class__ is list and len(split) == 2 and same_int(split[0], l) and same_int(split[1], i)):
                    split = as_list(split, f"{at}.split", 2)
                    raise CheckFailure(f"{at}.split", f"expected neuron [{l}, {i}] (layer-major order), found {split}")
                if i == 0:
                    if l == 0:
                        maps[0] = [(list(r), c, scaled([*r, c])) for r, c in zip(*net.layers[0])]
                    else:
                        start = sum(net.widths[: l - 1])
                        maps[l] = compose(net.scaled(l), maps[l - 1], bits[start : start + net.widths[l - 1]], n)
                    negated[l] = [None] * len(maps[l])
                w, c, integer_row = maps[l][i]
                rows.append(neuron_row(w, c, True))
                integer_rows.append(integer_row)
                bits.append(True)
                prefix_maps.append((w, c))
                continue
            if kind == "leaf":
                if depth != len(order):
                    raise CheckFailure(at, f"a leaf after {depth} of {len(order)} neurons are decided")
                k = as_int(node["leaf"], f"{at}.leaf", 0, len(self.leaves) - 1)
                self.referenced[k] += 1
                self.leaf_order.append(k)
                if self.referenced[k] > 1:
                    raise CheckFailure(at, f"leaf {k} is reached twice")
                self._check_leaf(k, rows, maps, bits, prefix_maps, lo <= t < hi, self.records)
                if self.kind == "property":
                    self._check_unsafe(k, rows)
                elif self.lattice is not None and self.records:
                    self._check_lattice_leaf(k, rows)
            elif kind == "closed":  # an early leaf of a property tree (EarlyLeaves)
                if self.kind != "property":
                    raise CheckFailure(at, "expected 'split', 'leaf' or 'empty' (an early leaf belongs to property trees)")
                self._check_closed(node["closed"], f"{at}.closed", rows, bits)
            else:
                if lo <= t < hi:
                    check_motzkin(rows, node["empty"], f"{at}.empty", integer_rows)
                self.empty += 1
            while bits and not bits[-1]:  # climb out of finished inactive children
                rows.pop()
                integer_rows.pop()
                bits.pop()
                prefix_maps.pop()
            if bits:  # the active child of this split is finished: its inactive child comes next
                l, i = order[len(bits) - 1]  # (maps[l] is the one this split used: only a split of [l, 0] replaces it)
                if negated[l][i] is None:
                    w, c = prefix_maps[-1]
                    N, d = integer_rows[-1]
                    negated[l][i] = neuron_row(w, c, False), ([-a for a in N], d)
                rows[-1], integer_rows[-1] = negated[l][i]
                bits[-1] = False
            else:
                complete = True
        if not complete:
            raise CheckFailure(where, "the tree ends before every branch is closed (truncated?)")

    def _check_leaf(self, k, rows, maps, bits, prefix_maps, evidence: bool = True, record: bool = True) -> None:
        """Point 3 at leaf ``k``: its ``evidence`` (pattern, witness) and its ``record``
        (its recomputed affine map, kept for the checks after the walk); a parallel check divides
        the two between processes (:meth:`_run_parallel`), a serial one does both."""
        if evidence:
            witness = self._leaf_evidence(k, rows, bits)
        if record:
            if not evidence:
                witness = vector(field(self.leaves[k], "witness", f"leaves[{k}]"), f"leaves[{k}].witness", self.net.input_dim)
            self._leaf_record(k, maps, bits, prefix_maps, witness)

    def _leaf_evidence(self, k, rows, bits) -> list:
        """The pattern and the witness of leaf ``k`` against the path's conditions (``rows``, derived
        from the splits above it; a leaf that states its own is of an earlier release); returns the
        witness."""
        where = f"leaves[{k}]"
        leaf = self.leaves[k]
        net, n = self.net, self.net.input_dim
        pattern = as_list(field(leaf, "pattern", where), f"{where}.pattern", len(net.widths))
        flat = []
        for l, layer in enumerate(pattern):
            for i, bit in enumerate(as_list(layer, f"{where}.pattern[{l}]", net.widths[l])):
                if bit not in (0, 1) or isinstance(bit, bool):
                    raise CheckFailure(f"{where}.pattern[{l}][{i}]", "expected 0 or 1")
                flat.append(bit == 1)
        if flat != bits:
            raise CheckFailure(f"{where}.pattern", "differs from the tree path that reaches this leaf")
        if "conditions" in leaf:
            raise CheckFailure(f"{where}.conditions", "leaf conditions are no longer written (they are derived from "
                                                      f"the path); regenerate it with exactrelu {WRITERS[self.kind]}")
        witness = vector(field(leaf, "witness", where), f"{where}.witness", n)
        X, D = scaled(witness)
        # each row's value at the witness times a positive integer (its sign is what counts)
        values = [sum(map(operator.mul, N, X)) + N[-1] * D for N, _ in self.integer_rows]
        for t, (row, value) in enumerate(zip(rows, values)):
            if not (value > 0 if row[2] else value >= 0):
                what = f"domain row {t}" if t < len(self.domain.rows) else f"condition {t - len(self.domain.rows)}"
                raise CheckFailure(f"{where}.witness", f"violates {what}")
        full = field(leaf, "full_dimensional", where)
        if not isinstance(full, bool):
            raise CheckFailure(f"{where}.full_dimensional", "expected true or false")
        if full:
            for t, (row, value) in enumerate(zip(rows, values)):
                if any(row[0]) and value <= 0:
                    raise CheckFailure(f"{where}.witness", f"claims full dimension but is on the boundary of row {t}")
        return witness

    def _leaf_record(self, k, maps, bits, prefix_maps, witness) -> None:
        """Leaf ``k``'s affine map, recomputed and compared; kept with its path for what follows."""
        where = f"leaves[{k}]"
        leaf = self.leaves[k]
        net, n, m = self.net, self.net.input_dim, self.net.output_dim
        if net.widths:
            final = compose(net.scaled(len(net.widths)), maps[-1], bits[-net.widths[-1]:], n)
        else:
            final = [(list(r), c, None) for r, c in zip(*net.layers[-1])]
        alpha_text, beta_text = [[fmt(a) for a in u] for u, _, _ in final], [fmt(v) for _, v, _ in final]
        alpha, beta = [list(u) for u, _, _ in final], [v for _, v, _ in final]
        stated_alpha, stated_beta = field(leaf, "alpha", where), field(leaf, "beta", where)
        if not (stated_alpha == alpha_text and stated_beta == beta_text):  # else: as read, the canonical texts of the map
            if [vector(r, f"{where}.alpha[{o}]", n) for o, r in enumerate(as_list(stated_alpha, f"{where}.alpha", m))] != alpha \
                    or vector(stated_beta, f"{where}.beta", m) != beta:
                raise CheckFailure(f"{where}.alpha", "the affine map differs from the one recomputed from the deep weights")
        self.verified_leaves[k] = {"maps": list(prefix_maps), "bits": list(bits), "witness": witness, "alpha": alpha,
                                   "beta": beta, "alpha_text": alpha_text, "beta_text": beta_text}

    def _guard(self) -> None:
        """``--guard``: both networks evaluated in full at every witness (quadratic in the leaves)."""
        prepared = prepare_shallow(parse_shallow_layers(self.shallow[1], "shallow"))
        hints = gate_hints(self.verified_leaves, self.leaf_order, self.gates, len(self.hyperplanes), self.net.output_dim)
        for k, leaf in enumerate(self.verified_leaves):
            x = leaf["witness"]
            if self.net.evaluate(x) != evaluate_shallow(prepared, x, hints(k)):
                raise CheckFailure(f"leaves[{k}].witness", "the deep and the shallow network differ at the witness")

    def _symbolic_outputs(self):
        """For each verified leaf, the deep network's outputs under its pattern as sympy expressions
        in ``x1..xn`` (with the symbols and sympy itself)."""
        try:
            import sympy
        except ImportError:
            raise CheckFailure("--symbolic", "sympy is not installed") from None
        xs = sympy.symbols(f"x1:{self.net.input_dim + 1}")
        for k, leaf in enumerate(self.verified_leaves):
            vec = sympy.Matrix(xs)
            for (W, b), layer_bits in zip(self.net.layers[:-1], _split(leaf["bits"], self.net.widths)):
                z = sympy.Matrix(W) * vec + sympy.Matrix(b)
                vec = sympy.Matrix([z[i] if on else 0 for i, on in enumerate(layer_bits)])
            W, b = self.net.layers[-1]
            yield k, leaf, sympy.Matrix(W) * vec + sympy.Matrix(b), xs, sympy

    def _check_symbolic(self) -> None:
        J = len(self.shallow[1]["H"])
        rows1 = {}
        first = parse_shallow_layers(self.shallow[1], "shallow")[0]
        for i, j, w in first[2]:
            rows1.setdefault(i, []).append((j, w))
        bias1 = first[3]
        m = self.net.output_dim
        for k, _leaf, deep, xs, sympy in self._symbolic_outputs():
            for o in range(m):
                row = J + 2 * (k * m + o)
                model = sum((sympy.Rational(w.numerator, w.denominator) * xs[j] for j, w in rows1.get(row, [])),
                            sympy.Rational(bias1[row].numerator, bias1[row].denominator))
                if sympy.expand(deep[o] - model) != 0:
                    raise CheckFailure(f"leaves[{k}]", f"symbolic: output {o} of the deep and the shallow network differ")

    # ------------------------------------------------------------------------- equivalence certificates
    def _parse_equivalence(self, cert) -> None:
        self._read_version(cert, EQUIV_VERSION)
        self.cert = cert
        networks = field(cert, "networks", "")
        shas = field(cert, "network_sha256", "")
        self.nets = {}
        names = {"A": "original network", "B": "pruned network"} if self.kind == "prune" else \
            {"A": "network A", "B": "network B"}
        pins = {"A": self.model, "B": self.pruned} if self.kind == "prune" else {"A": self.model_a, "B": self.model_b}
        for name in ("A", "B"):
            net = Network(field(networks, name, "networks"), f"networks.{name}")
            sha = field(shas, name, "network_sha256")
            if net.sha256() != sha:
                raise CheckFailure(f"network_sha256.{name}", f"does not match the embedded network {name}")
            self._pin_network(names[name], pins[name], sha, net)
            self.nets[name] = net
        a, b = self.nets["A"], self.nets["B"]
        if a.input_dim != b.input_dim or a.output_dim != b.output_dim:
            raise CheckFailure("networks", f"A is {a.input_dim} -> {a.output_dim} but B is {b.input_dim} -> {b.output_dim}")
        self.domain = Domain(field(cert, "domain", ""), "domain")
        self._pin_domain()
        if self.domain.dim != a.input_dim:
            raise CheckFailure("domain.dim", f"is {self.domain.dim}, the networks have {a.input_dim} inputs")
        method = cert.get("method", "enumeration")
        if method == LATTICE and self.kind == "equivalence":
            return self._parse_lattice(cert)
        if field(cert, "combination", "") != COMBINATION:
            raise CheckFailure("combination", f"expected {COMBINATION!r}")
        if field(cert, "order", "") != "layer-major":
            raise CheckFailure("order", "expected 'layer-major'")
        self.net = Network(side_by_side(a, b), "A||B")
        if method != "enumeration":
            return self._parse_short(cert, method)
        self.claim = self._parse_claim(field(cert, "claim", ""))
        if self.kind == "prune" and self.claim["kind"] != "equal":
            raise CheckFailure("claim.kind", "a prune certificate claims equality")
        self.leaves = as_list(field(cert, "leaves", ""), "leaves")
        self.tree = field(cert, "tree", "")

    def _parse_claim(self, claim) -> dict:
        kind = field(claim, "kind", "claim")
        norm = field(claim, "norm", "claim")
        if norm not in ("inf", "1"):
            raise CheckFailure("claim.norm", f"expected 'inf' or '1', found {norm!r}")
        if norm == "1" and self.nets["A"].output_dim > MAX_ONE_NORM_OUTPUTS:
            raise CheckFailure("claim.norm", f"a 1-norm claim needs 2^m sign vectors; at most {MAX_ONE_NORM_OUTPUTS} "
                                             "outputs are checked (as the producer allows)")
        if kind == "equal":
            return {"kind": kind, "norm": norm, "bound": ZERO, "argmax": None, "tolerance": None}
        if kind != "max_deviation":
            raise CheckFailure("claim.kind", f"expected 'equal' or 'max_deviation', found {kind!r}")
        bound = rational(field(claim, "value", "claim"), "claim.value")
        argmax = vector(field(claim, "argmax", "claim"), "claim.argmax", self.nets["A"].input_dim)
        tolerance = field(claim, "tolerance", "claim")
        tolerance = None if tolerance is None else rational(tolerance, "claim.tolerance")
        return {"kind": kind, "norm": norm, "bound": bound, "argmax": argmax, "tolerance": tolerance}

    def _dump_equivalence(self, out) -> None:
        shown = lambda obj: json.dumps(obj, default=lambda v: v.text if isinstance(v, JsonFloat) else str(v))  # noqa: E731
        c = self.claim
        print(f"equivalence certificate: claim {c['kind']} ({c['norm']}-norm), bound {fmt(c['bound'])}"
              + (f", tolerance {fmt(c['tolerance'])}" if c["tolerance"] is not None else ""), file=out)
        for name, net in self.nets.items():
            print(f"network {name}: widths {[net.input_dim] + [len(b) for _, b in net.layers]}, sha256 {net.sha256()}", file=out)
            for k, (W, b) in enumerate(net.layers):
                print(f"  layer {k}: W = {[[fmt(v) for v in r] for r in W]}, b = {[fmt(v) for v in b]}", file=out)
        print(f"side-by-side network A||B (built by the checker): widths "
              f"{[self.net.input_dim] + [len(b) for _, b in self.net.layers]}", file=out)
        print(f"domain: {shown(self.domain.data)}", file=out)
        print(f"leaves: {len(self.leaves)}", file=out)
        print(f"producer: {shown(self.cert.get('producer'))}", file=out)

    def _run_equivalence(self) -> None:
        bounded = self._check_claim()
        if self.symbolic:
            self._check_symbolic_maps()
        self.stats.update(leaves=len(self.leaves), empty=self.empty, neurons=len(self.order), bounded=bounded)

    def _check_claim(self) -> int:
        """Points 5 and 6 of the module docstring; returns how many leaves needed bounds."""
        a, b = self.nets["A"], self.nets["B"]
        n, m = a.input_dim, a.output_dim
        claim = self.claim
        bound, norm = claim["bound"], claim["norm"]
        if claim["kind"] == "max_deviation":
            x = claim["argmax"]
            for t, row in enumerate(self.domain.rows):
                if not holds(row, x):
                    raise CheckFailure("claim.argmax", f"is outside the domain (violates domain row {t})")
            got = deviation(a.evaluate(x), b.evaluate(x), norm)
            if got != bound:
                raise CheckFailure("claim.value", f"is {fmt(bound)} but the deviation of A and B at claim.argmax is {fmt(got)}")
            if claim["tolerance"] is not None and bound > claim["tolerance"]:
                raise CheckFailure("claim.tolerance", f"{fmt(claim['tolerance'])} is below the maximum deviation {fmt(bound)}")
        required = sign_vectors(norm, m)
        bounded = 0
        for k, leaf in enumerate(self.verified_leaves):
            where = f"leaves[{k}]"
            alpha, beta = leaf["alpha"], leaf["beta"]
            da = [[p - q for p, q in zip(alpha[o], alpha[m + o])] for o in range(m)]
            db = [beta[o] - beta[m + o] for o in range(m)]
            terms = as_list(self.leaves[k].get("bounds", []), f"{where}.bounds")
            if not terms and not any(any(r) for r in da) and not any(db):
                continue  # identical affine maps: A = B on the whole leaf
            rows = list(self.domain.rows) + [neuron_row(w, c, bit) for (w, c), bit in zip(leaf["maps"], leaf["bits"])]
            seen = []
            for t, term in enumerate(terms):
                tw = f"{where}.bounds[{t}]"
                sign = as_list(field(term, "sign", tw), f"{tw}.sign", m)
                if not all(type(s) is int for s in sign) or sign not in required:
                    raise CheckFailure(f"{tw}.sign", f"is not one of the sign vectors of the {norm}-norm")
                if sign in seen:
                    raise CheckFailure(f"{tw}.sign", "appears twice")
                seen.append(sign)
                d = [sum((s * da[o][i] for o, s in enumerate(sign) if s), ZERO) for i in range(n)]
                e = sum((s * db[o] for o, s in enumerate(sign) if s), ZERO)
                value = check_dual_bound(rows, field(term, "multipliers", tw), d, e, f"{tw}.multipliers")
                stated = rational(field(term, "bound", tw), f"{tw}.bound")
                if stated != value:
                    raise CheckFailure(f"{tw}.bound", f"is {fmt(stated)} but the multipliers prove {fmt(value)}")
                if stated > bound:
                    raise CheckFailure(f"{tw}.bound", f"{fmt(stated)} exceeds the claimed maximum deviation {fmt(bound)}")
            missing = [s for s in required if s not in seen]
            if missing:
                raise CheckFailure(f"{where}.bounds", f"the affine maps of A and B differ on this leaf and no bound is "
                                                      f"given for the sign vector {missing[0]}")
            bounded += 1
        # No guard at the witnesses is needed: a witness lies on its leaf, where the bounds above hold
        # (and the claimed value is >= 0), so the deviation there is at most the claim.
        return bounded

    def _check_symbolic_maps(self) -> None:
        for k, leaf, out, xs, sympy in self._symbolic_outputs():
            for o in range(len(out)):
                model = sum((sympy.Rational(w.numerator, w.denominator) * xs[t] for t, w in enumerate(leaf["alpha"][o])),
                            sympy.Rational(leaf["beta"][o].numerator, leaf["beta"][o].denominator))
                if sympy.expand(out[o] - model) != 0:
                    raise CheckFailure(f"leaves[{k}]", f"symbolic: output {o} of A||B differs from the leaf's affine map")


_FORKED = None  # the parsed checker a parallel check's helper processes inherit


def _helper(send, share) -> None:
    """A helper process of :meth:`Checker._run_parallel`: the evidence of the nodes in ``share``;
    sends its first failure as ``(node index, 0, location, reason)``, or None."""
    checker = _FORKED
    checker.evidence, checker.records = share, False
    try:
        checker._walk_tree()
        result = None
    except CheckFailure as exc:
        result = (checker.node_index, 0, exc.location, exc.reason)
    send.send(result)
    send.close()


def _split(bits, widths):
    out, start = [], 0
    for w in widths:
        out.append(bits[start : start + w])
        start += w
    return out


def _nonempty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("an empty value (an unset shell variable?) names no file")
    return text


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}")
    return int(text)


def add_binding_options(parser) -> None:
    """The options that name the files a verdict binds (shared with ``exactrelu check``)."""
    add = parser.add_argument
    add("--model", type=_nonempty, help="the deep network of a shallow certificate, or the original of a prune certificate")
    add("--shallow", type=_nonempty, help="the shallow network (default: the file the certificate names)")
    add("--model-a", type=_nonempty, help="network A of an equivalence certificate")
    add("--model-b", type=_nonempty, help="network B of an equivalence certificate")
    add("--pruned", type=_nonempty, help="the pruned network of a prune certificate")
    add("--property", type=_nonempty, help="the VNN-LIB file a property certificate must be about")
    add("--domain", type=_nonempty, help="a domain file (JSON) the certificate must be about, exactly")
    add("--box", type=_nonempty, help="a box LO:HI,... the certificate's domain must equal, exactly")
    add("--expect", choices=tuple(KINDS), help="the kind of certificate (default: implied by the files named)")
    add("--symbolic", action="store_true", help="also re-derive each region's equality with sympy")
    add("--guard", action="store_true", help="also evaluate the shallow and the deep network in full at every "
                                             "witness (not needed by the proof; quadratic in the regions)")
    add("--dump", action="store_true", help="print what was parsed (networks, domain, sizes) to stderr")
    add("--workers", type=_positive, default=1, metavar="N",
        help="check in N processes (forked: this one and N-1 helpers, each checking the evidence of one range "
             "of the tree's nodes); the verdict and its message are the serial run's (default 1)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="exactrelu check",
        description="Verify an exactrelu certificate against the files you name. Prints 's VERIFIED' or "
                    "'s NOT VERIFIED' on stdout; on stderr, what each network and the domain was compared with.",
        epilog="example: python -m exactrelu.checker S.cert.json --model net.json --shallow S.json --box=-1:1",
    )
    parser.add_argument("certificate", type=_nonempty)
    add_binding_options(parser)
    args = parser.parse_args(argv)
    try:
        checker = checker_from_args(args)
    except UsageError as exc:
        parser.error(str(exc))
    code = report(checker, args.dump)
    return code


def checker_from_args(args, **converted) -> "Checker":
    """A :class:`Checker` for parsed options; ``converted`` replaces bindings by ``(label, data)`` pairs."""
    names = ("model", "shallow", "model_a", "model_b", "pruned")
    files = {name: converted.get(name, getattr(args, name)) for name in names}
    return Checker(args.certificate, expect=args.expect, prop=args.property, domain=args.domain, box=args.box,
                   symbolic=args.symbolic, guard=args.guard, workers=args.workers, **files)


def report(checker: "Checker", dump: bool = False, out=None, err=None) -> int:
    """Run ``checker`` and print the verdict (stdout) and its comment lines (stderr); the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        if dump:
            checker.parse()
            checker.dump(err)
        checker.run()
    except (CheckFailure, RecursionError) as exc:
        print("s NOT VERIFIED", file=out)
        location, reason = (exc.location, exc.reason) if isinstance(exc, CheckFailure) else ("tree", "nested too deeply")
        print(f"c {location}: {reason}", file=err)
        for line in checker.verdict_lines():
            print(line, file=err)
        return 1
    print("s VERIFIED", file=out)
    for line in checker.verdict_lines():
        print(line, file=err)
    print(checker.summary(), file=err)
    return 0


if __name__ == "__main__":
    sys.exit(main())
