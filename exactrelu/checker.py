"""The independent checker of exactrelu equivalence certificates (format ``exactrelu-certificate`` v1).

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
3. **each leaf**: its conditions, recomputed from the deep weights and its pattern, match; its
   witness satisfies them exactly (strictly, where it claims full dimension); its affine map,
   recomputed, matches;
4. **the shallow network is the construction** over exactly these leaves: every weight recomputed
   from the leaves matches, so by the construction lemma it equals the deep network on every
   point of the domain; as a further guard both networks are evaluated exactly at every witness.

Output: one line on stdout, ``s VERIFIED`` (exit 0) or ``s NOT VERIFIED`` (exit 1); the reason and
its location on stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from fractions import Fraction

CERT_FORMAT = "exactrelu-certificate"
CERT_VERSION = 1
NETWORK_FORMAT = "exactrelu-network"
SHALLOW_FORMAT = "exactrelu-shallow"
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


def load_json(path: str, what: str):
    try:
        with open(path, "r", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckFailure(path, f"cannot read {what}: {exc}") from None
    if not text.strip():
        raise CheckFailure(path, f"empty {what}")
    try:
        return text, json.loads(text, parse_float=JsonFloat, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise CheckFailure(path, f"invalid or truncated JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise CheckFailure(path, "JSON nested too deeply") from None


# ----------------------------------------------------------------------------- field parsing
def rational(value, where: str) -> Fraction:
    """A rational written as a string ``"p/q"`` or ``"p"`` (or a JSON integer); never a float."""
    if isinstance(value, JsonFloat):
        raise CheckFailure(where, f"JSON float {value.text} where a rational string belongs")
    if isinstance(value, bool):
        raise CheckFailure(where, "boolean where a rational belongs")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        text = value.strip()
        parts = text.split("/")
        if len(parts) in (1, 2) and all(_is_int(p, i == 1) for i, p in enumerate(parts)):
            try:
                return Fraction(text)
            except (ValueError, ZeroDivisionError):
                pass
    raise CheckFailure(where, f"{value!r} is not a rational written as \"p/q\"")


def _is_int(text: str, positive: bool) -> bool:
    body = text[1:] if (text[:1] in "+-" and not positive) else text
    return body.isdigit() and body.isascii()


def extended(value, where: str):
    """A rational, or ``"inf"`` / ``"-inf"`` (returned as the strings ``"inf"`` / ``"-inf"``)."""
    if value in ("inf", "-inf"):
        return value
    return rational(value, where)


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
    return [rational(v, f"{where}[{i}]") for i, v in enumerate(as_list(value, where, length))]


def fmt(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def canonical_sha256(obj) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def raw_sha256(obj) -> str:
    """SHA-256 of the canonical text of a parsed JSON value (floats are refused first)."""
    return canonical_sha256(_plain(obj, "shallow"))


def _plain(obj, where):
    if isinstance(obj, JsonFloat):
        raise CheckFailure(where, f"JSON float {obj.text} where a rational string belongs")
    if isinstance(obj, dict):
        return {k: _plain(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    return obj


# ----------------------------------------------------------------------------- the objects
class Network:
    """The deep network: ``layers[k] = (W, b)``, ReLU after every layer but the last."""

    def __init__(self, data, where: str, allow_floats: bool = False) -> None:
        if field(data, "format", where) != NETWORK_FORMAT:
            raise CheckFailure(f"{where}.format", f"expected {NETWORK_FORMAT!r}")
        if field(data, "version", where) != 1:
            raise CheckFailure(f"{where}.version", "expected 1")
        layers = as_list(field(data, "layers", where), f"{where}.layers")
        if not layers:
            raise CheckFailure(f"{where}.layers", "no layers")
        parse = _float_tolerant if allow_floats else rational
        self.layers = []
        width = None
        for k, layer in enumerate(layers):
            lw = f"{where}.layers[{k}]"
            rows = as_list(field(layer, "weight", lw), f"{lw}.weight")
            W = [[parse(v, f"{lw}.weight[{i}][{j}]") for j, v in enumerate(as_list(r, f"{lw}.weight[{i}]", width if width is not None else None))]
                 for i, r in enumerate(rows)]
            b = [parse(v, f"{lw}.bias[{i}]") for i, v in enumerate(as_list(field(layer, "bias", lw), f"{lw}.bias", len(W)))]
            if not W:
                raise CheckFailure(f"{lw}.weight", "layer has no outputs")
            cols = len(W[0])
            if any(len(r) != cols for r in W):
                raise CheckFailure(f"{lw}.weight", "rows of different lengths")
            if width is not None and cols != width:
                raise CheckFailure(f"{lw}.weight", f"has {cols} columns, previous layer has {width} outputs")
            width = len(W)
            self.layers.append((W, b))
        self.input_dim = len(self.layers[0][0][0])
        declared = data.get("input_dim", self.input_dim)
        if declared != self.input_dim:
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

    def evaluate(self, x: list) -> list:
        for W, b in self.layers[:-1]:
            x = [max(z, ZERO) for z in affine(W, b, x)]
        W, b = self.layers[-1]
        return affine(W, b, x)


def _float_tolerant(value, where):
    """For ``--model`` files only: the network format allows JSON numbers (converted exactly)."""
    if isinstance(value, JsonFloat):
        try:
            number = float(value.text)  # a JSON number denotes a binary64 value; Fraction of it is exact
        except ValueError:
            raise CheckFailure(where, f"bad number {value.text}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise CheckFailure(where, "not a finite number")
        return Fraction(number)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise CheckFailure(where, f"{value!r} is not a number") from None
    return rational(value, where)


def affine(W, b, x):
    return [sum((w * v for w, v in zip(row, x) if w), c) for row, c in zip(W, b)]


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


def row_value(row, x) -> Fraction:
    u, v, _ = row
    return sum((a * b for a, b in zip(u, x) if a), v)


def holds(row, x) -> bool:
    value = row_value(row, x)
    return value > 0 if row[2] else value >= 0


def neuron_row(w, b, active: bool):
    return (w, b, True) if active else ([-a for a in w], -b, False)


def compose(W, b, maps, bits, n):
    """Pre-activations of the next layer as affine maps of ``x``, given the previous layer's
    pre-activation maps and its activation bits."""
    live = [m for m, on in zip(maps, bits) if on]
    index = [j for j, on in enumerate(bits) if on]
    out = []
    for row, c in zip(W, b):
        u = [ZERO] * n
        v = c
        for j, (mw, mb) in zip(index, live):
            coef = row[j]
            if coef:
                for t in range(n):
                    u[t] += coef * mw[t]
                v += coef * mb
        out.append((u, v))
    return out


def check_motzkin(rows, pairs, where: str) -> None:
    """Nonnegative ``lambda`` with ``sum lambda u = 0`` and ``sum lambda v < 0``, or ``= 0`` with a
    positive multiplier on a strict row: then the rows have no common solution."""
    pairs = as_list(pairs, where)
    if not pairs:
        raise CheckFailure(where, "no multipliers")
    n = len(rows[0][0]) if rows else 0
    total_u = [ZERO] * n
    total_v = ZERO
    strict = False
    seen = set()
    for t, pair in enumerate(pairs):
        pw = f"{where}[{t}]"
        pair = as_list(pair, pw, 2)
        m = as_int(pair[0], f"{pw}[0]", 0, len(rows) - 1)
        if m in seen:
            raise CheckFailure(pw, f"row {m} appears twice")
        seen.add(m)
        lam = rational(pair[1], f"{pw}[1]")
        if lam <= 0:
            raise CheckFailure(pw, f"multiplier {fmt(lam)} of row {m} is not positive")
        u, v, is_strict = rows[m]
        for i, a in enumerate(u):
            total_u[i] += lam * a
        total_v += lam * v
        strict = strict or is_strict
    if any(total_u):
        raise CheckFailure(where, "the multipliers do not cancel the variables (sum of lambda*u is not 0)")
    if total_v > 0 or (total_v == 0 and not strict):
        raise CheckFailure(where, f"the combination gives 0 >= {fmt(-total_v)} or 0 >= 0 with no strict row: no contradiction")


# ----------------------------------------------------------------------------- extended arithmetic
def ext_add(a, b):
    if isinstance(a, str):
        if isinstance(b, str) and b != a:
            raise CheckFailure("shallow", "inf - inf met while evaluating")
        return a
    return b if isinstance(b, str) else a + b


def ext_mul(w, x):
    if isinstance(w, str):
        s = (1 if x > 0 else -1 if x < 0 else 0) * (1 if w == "inf" else -1)
        return ZERO if s == 0 else ("inf" if s > 0 else "-inf")
    return w * x


def ext_relu(a):
    if isinstance(a, str):
        return a if a == "inf" else ZERO
    return a if a > 0 else ZERO


# ----------------------------------------------------------------------------- the shallow network
def normalise(w, b):
    for a in w:
        if a:
            s = abs(a)
            return [v / s for v in w], b / s
    return None


def construction(leaves, n: int, m: int):
    """What the shallow network must be: its blocks and its four layers (DESIGN.md section 3)."""
    index = {}
    H, c, strict, weak = [], [], [], []
    for leaf in leaves:
        s_k, w_k = set(), set()
        for (w, b), active in zip(leaf["maps"], leaf["bits"]):
            h = normalise(w, b)
            if h is None:
                continue
            key = (tuple(h[0]), h[1])
            if key not in index:
                index[key] = len(H)
                H.append(h[0])
                c.append(h[1])
            (s_k if active else w_k).add(index[key])
        strict.append(sorted(s_k))
        weak.append(sorted(w_k))
    J, K = len(H), len(leaves)
    halves = 2 * K * m
    e1, b1 = [], []
    for j in range(J):
        e1 += [(j, t, H[j][t]) for t in range(n) if H[j][t]]
        b1.append(c[j])
    for k, leaf in enumerate(leaves):
        for o in range(m):
            for s in (1, -1):
                row = J + 2 * (k * m + o) + (s < 0)
                e1 += [(row, t, s * leaf["alpha"][o][t]) for t in range(n) if leaf["alpha"][o][t]]
                b1.append(s * leaf["beta"][o])
    e2 = [(j, j, "-inf") for j in range(J)] + [(J + j, j, ONE) for j in range(J)]
    e2 += [(2 * J + t, J + t, ONE) for t in range(halves)]
    b2 = [ONE] * J + [ZERO] * (J + halves)
    e3 = []
    for k in range(K):
        for o in range(m):
            base = 2 * (k * m + o)
            for s in (1, -1):
                cells = [(j, "-inf") for j in strict[k]] + [(J + j, "-inf") for j in weak[k]]
                cells += [(2 * J + base, Fraction(s)), (2 * J + base + 1, Fraction(-s))]
                e3 += [(base + (s < 0), col, w) for col, w in sorted(cells, key=lambda cw: cw[0])]
    e4 = sorted((o, 2 * (k * m + o) + d, ONE if d == 0 else -ONE) for k in range(K) for o in range(m) for d in (0, 1))
    layers = [
        (J + halves, n, e1, b1),
        (2 * J + halves, J + halves, e2, b2),
        (halves, 2 * J + halves, e3, [ZERO] * halves),
        (m, halves, e4, [ZERO] * m),
    ]
    return {"H": H, "c": c, "strict": strict, "weak": weak, "layers": layers}


def parse_shallow_layers(data, where: str):
    layers = []
    for t, layer in enumerate(as_list(field(data, "layers", where), f"{where}.layers", 4)):
        lw = f"{where}.layers[{t}]"
        rows = as_int(field(layer, "rows", lw), f"{lw}.rows")
        cols = as_int(field(layer, "cols", lw), f"{lw}.cols")
        entries = []
        for e, cell in enumerate(as_list(field(layer, "weights", lw), f"{lw}.weights")):
            ew = f"{lw}.weights[{e}]"
            cell = as_list(cell, ew, 3)
            i = as_int(cell[0], f"{ew}[0]", 0, rows - 1)
            j = as_int(cell[1], f"{ew}[1]", 0, cols - 1)
            entries.append((i, j, extended(cell[2], f"{ew}[2]")))
        bias = [extended(v, f"{lw}.bias[{i}]") for i, v in enumerate(as_list(field(layer, "bias", lw), f"{lw}.bias", rows))]
        layers.append((rows, cols, entries, bias))
    return layers


def evaluate_shallow(layers, x: list) -> list:
    """Exact extended-real evaluation; a row whose infinite terms decide it skips its finite sum."""
    v = list(x)
    for t, (rows, _cols, entries, bias) in enumerate(layers):
        out = list(bias)
        for i, j, w in entries:
            if isinstance(out[i], str) and not isinstance(w, str):
                continue  # an infinite row value absorbs every finite term
            out[i] = ext_add(out[i], ext_mul(w, v[j]))
        v = out if t == len(layers) - 1 else [ext_relu(z) for z in out]
    return v


# ----------------------------------------------------------------------------- the check
class Checker:
    def __init__(self, cert_path: str, model_path=None, shallow_path=None, symbolic=False) -> None:
        self.cert_path = cert_path
        self.model_path = model_path
        self.shallow_path = shallow_path
        self.symbolic = symbolic
        self.stats = {}

    def parse(self):
        _, cert = load_json(self.cert_path, "certificate")
        if not isinstance(cert, dict):
            raise CheckFailure("file", "the certificate is not a JSON object")
        if field(cert, "format", "") != CERT_FORMAT:
            raise CheckFailure("format", f"expected {CERT_FORMAT!r}, found {cert.get('format')!r}")
        if field(cert, "version", "") != CERT_VERSION:
            raise CheckFailure("version", f"expected {CERT_VERSION}, found {cert.get('version')!r} (unsupported version)")
        self.cert = cert
        self.net = Network(field(cert, "network", ""), "network")
        sha = field(cert, "network_sha256", "")
        if self.net.sha256() != sha:
            raise CheckFailure("network_sha256", "does not match the embedded network")
        if self.model_path is not None:
            _, model = load_json(self.model_path, "model")
            other = Network(model, f"model {self.model_path}", allow_floats=True)
            if other.sha256() != sha:
                raise CheckFailure("network", f"the certificate is about another network than {self.model_path}")
        self.domain = Domain(field(cert, "domain", ""), "domain")
        if self.domain.dim != self.net.input_dim:
            raise CheckFailure("domain.dim", f"is {self.domain.dim}, the network has {self.net.input_dim} inputs")
        shallow_ref = field(cert, "shallow", "")
        if self.shallow_path is not None:
            _, shallow = load_json(self.shallow_path, "shallow network")
        elif isinstance(shallow_ref, dict) and "file" in shallow_ref:
            name = shallow_ref["file"]
            if not isinstance(name, str):
                raise CheckFailure("shallow.file", "expected a file name")
            path = os.path.join(os.path.dirname(os.path.abspath(self.cert_path)), name)
            _, shallow = load_json(path, "shallow network")
        else:
            shallow = field(shallow_ref, "network", "shallow")
        if raw_sha256(shallow) != field(shallow_ref, "sha256", "shallow"):
            raise CheckFailure("shallow.sha256", "does not match the shallow network")
        self.shallow = shallow
        self.leaves = as_list(field(cert, "leaves", ""), "leaves")
        self.tree = field(cert, "tree", "")

    def dump(self, out) -> None:
        net = self.net
        print(f"deep network: widths {[net.input_dim] + [len(b) for _, b in net.layers]}, sha256 {self.cert['network_sha256']}", file=out)
        for k, (W, b) in enumerate(net.layers):
            print(f"  layer {k}: W = {[[fmt(v) for v in r] for r in W]}, b = {[fmt(v) for v in b]}", file=out)
        print(f"domain: {json.dumps(_plain(self.domain.data, 'domain'))}", file=out)
        sizes = [layer.get("rows") for layer in self.shallow.get("layers", []) if isinstance(layer, dict)]
        print(f"shallow network: layer widths {sizes}, sha256 {self.cert['shallow'].get('sha256')}", file=out)
        print(f"leaves: {len(self.leaves)}", file=out)
        print(f"producer: {json.dumps(_plain(self.cert.get('producer'), 'producer'))}", file=out)

    def run(self) -> None:
        self.parse()
        net = self.net
        order = [(l, i) for l, w in enumerate(net.widths) for i in range(w)]
        self.order = order
        self.referenced = [0] * len(self.leaves)
        self.verified_leaves = [None] * len(self.leaves)
        self.empty = 0
        rows = list(self.domain.rows)
        maps = [None] * len(net.widths)
        bits = []
        prefix_maps = []
        self._walk(self.tree, "tree", 0, rows, maps, bits, prefix_maps)
        for k, count in enumerate(self.referenced):
            if count == 0:
                raise CheckFailure(f"leaves[{k}]", "is not reached from the tree")
        self._check_shallow()
        if self.symbolic:
            self._check_symbolic()
        self.stats.update(leaves=len(self.leaves), empty=self.empty, neurons=len(order))

    def _walk(self, node, where, depth, rows, maps, bits, prefix_maps) -> None:
        if not isinstance(node, dict):
            raise CheckFailure(where, "expected a node object")
        if "leaf" in node:
            if depth != len(self.order):
                raise CheckFailure(where, f"a leaf after {depth} of {len(self.order)} neurons are decided")
            k = as_int(node["leaf"], f"{where}.leaf", 0, len(self.leaves) - 1)
            self.referenced[k] += 1
            if self.referenced[k] > 1:
                raise CheckFailure(where, f"leaf {k} is reached twice")
            self._check_leaf(k, rows, maps, bits, prefix_maps)
            return
        if "split" not in node:
            raise CheckFailure(where, "expected 'split', 'leaf' or 'empty'")
        if depth >= len(self.order):
            raise CheckFailure(where, "splits after every neuron is decided")
        split = as_list(node["split"], f"{where}.split", 2)
        l, i = self.order[depth]
        if split != [l, i]:
            raise CheckFailure(f"{where}.split", f"expected neuron [{l}, {i}] (layer-major order), found {split}")
        n = self.net.input_dim
        if i == 0:
            W, b = self.net.layers[l]
            if l == 0:
                maps[0] = [(list(r), c) for r, c in zip(W, b)]
            else:
                start = sum(self.net.widths[: l - 1])
                maps[l] = compose(W, b, maps[l - 1], bits[start : start + self.net.widths[l - 1]], n)
        w, c = maps[l][i]
        for side, key in ((True, "active"), (False, "inactive")):
            child = field(node, key, where)
            cw = f"{where}.{key}"
            rows.append(neuron_row(w, c, side))
            bits.append(side)
            prefix_maps.append((w, c))
            try:
                if isinstance(child, dict) and "empty" in child:
                    check_motzkin(rows, child["empty"], f"{cw}.empty")
                    self.empty += 1
                else:
                    self._walk(child, cw, depth + 1, rows, maps, bits, prefix_maps)
            finally:
                rows.pop()
                bits.pop()
                prefix_maps.pop()

    def _check_leaf(self, k, rows, maps, bits, prefix_maps) -> None:
        where = f"leaves[{k}]"
        leaf = self.leaves[k]
        net, n, m = self.net, self.net.input_dim, self.net.output_dim
        pattern = as_list(field(leaf, "pattern", where), f"{where}.pattern", len(net.widths))
        flat = []
        for l, layer in enumerate(pattern):
            for i, bit in enumerate(as_list(layer, f"{where}.pattern[{l}]", net.widths[l])):
                if bit not in (0, 1) or isinstance(bit, bool):
                    raise CheckFailure(f"{where}.pattern[{l}][{i}]", "expected 0 or 1")
                flat.append(bit == 1)
        if flat != bits:
            raise CheckFailure(f"{where}.pattern", "differs from the tree path that reaches this leaf")
        conditions = as_list(field(leaf, "conditions", where), f"{where}.conditions", len(bits))
        for t, (cond, (w, c), bit) in enumerate(zip(conditions, prefix_maps, bits)):
            cw = f"{where}.conditions[{t}]"
            got_w = vector(field(cond, "w", cw), f"{cw}.w", n)
            got_b = rational(field(cond, "b", cw), f"{cw}.b")
            rel = field(cond, "rel", cw)
            if got_w != list(w) or got_b != c:
                raise CheckFailure(cw, "the affine function differs from the one recomputed from the deep weights")
            if rel != (">" if bit else "<="):
                raise CheckFailure(f"{cw}.rel", f"is {rel!r} but the pattern makes it {'>' if bit else '<='!r}")
        witness = vector(field(leaf, "witness", where), f"{where}.witness", n)
        for t, row in enumerate(rows):
            if not holds(row, witness):
                what = f"domain row {t}" if t < len(self.domain.rows) else f"condition {t - len(self.domain.rows)}"
                raise CheckFailure(f"{where}.witness", f"violates {what}")
        full = field(leaf, "full_dimensional", where)
        if not isinstance(full, bool):
            raise CheckFailure(f"{where}.full_dimensional", "expected true or false")
        if full:
            for t, row in enumerate(rows):
                if any(row[0]) and row_value(row, witness) <= 0:
                    raise CheckFailure(f"{where}.witness", f"claims full dimension but is on the boundary of row {t}")
        W, b = net.layers[-1]
        if net.widths:
            final = compose(W, b, maps[-1], bits[-net.widths[-1]:], n)
        else:
            final = [(list(r), c) for r, c in zip(W, b)]
        alpha = [vector(r, f"{where}.alpha[{o}]", n) for o, r in enumerate(as_list(field(leaf, "alpha", where), f"{where}.alpha", m))]
        beta = vector(field(leaf, "beta", where), f"{where}.beta", m)
        if alpha != [list(u) for u, _ in final] or beta != [v for _, v in final]:
            raise CheckFailure(f"{where}.alpha", "the affine map differs from the one recomputed from the deep weights")
        self.verified_leaves[k] = {"maps": [(list(w), c) for w, c in prefix_maps], "bits": list(bits),
                                   "witness": witness, "alpha": alpha, "beta": beta}

    def _check_shallow(self) -> None:
        s, net = self.shallow, self.net
        n, m = net.input_dim, net.output_dim
        if field(s, "format", "shallow") != SHALLOW_FORMAT or field(s, "version", "shallow") != 1:
            raise CheckFailure("shallow.format", f"expected {SHALLOW_FORMAT!r} version 1")
        if field(s, "input_dim", "shallow") != n or field(s, "output_dim", "shallow") != m:
            raise CheckFailure("shallow.input_dim", "dimensions differ from the deep network's")
        if field(s, "deep_sha256", "shallow") != self.cert["network_sha256"]:
            raise CheckFailure("shallow.deep_sha256", "the shallow network was built from another deep network")
        if _plain(field(s, "domain", "shallow"), "shallow.domain") != _plain(self.domain.data, "domain"):
            raise CheckFailure("shallow.domain", "differs from the certificate's domain")
        want = construction(self.verified_leaves, n, m)
        H = [vector(r, f"shallow.H[{j}]", n) for j, r in enumerate(as_list(field(s, "H", "shallow"), "shallow.H"))]
        if H != want["H"] or vector(field(s, "c", "shallow"), "shallow.c") != want["c"]:
            raise CheckFailure("shallow.H", "the hyperplanes differ from those of the leaves' conditions")
        K = len(self.verified_leaves)
        for key in ("strict", "weak"):
            got = as_list(field(s, key, "shallow"), f"shallow.{key}", K)
            if got != want[key]:
                bad = next(k for k in range(K) if got[k] != want[key][k])
                raise CheckFailure(f"shallow.{key}[{bad}]", "differs from the leaf's conditions")
        alpha = as_list(field(s, "alpha", "shallow"), "shallow.alpha", K)
        beta = as_list(field(s, "beta", "shallow"), "shallow.beta", K)
        for k, leaf in enumerate(self.verified_leaves):
            if [vector(r, f"shallow.alpha[{k}][{o}]", n) for o, r in enumerate(as_list(alpha[k], f"shallow.alpha[{k}]", m))] != leaf["alpha"] \
                    or vector(beta[k], f"shallow.beta[{k}]", m) != leaf["beta"]:
                raise CheckFailure(f"shallow.alpha[{k}]", "differs from the leaf's affine map")
        layers = parse_shallow_layers(s, "shallow")
        for t, (got, exp) in enumerate(zip(layers, want["layers"])):
            lw = f"shallow.layers[{t}]"
            if got[0] != exp[0] or got[1] != exp[1]:
                raise CheckFailure(lw, f"is {got[0]} x {got[1]}, the construction gives {exp[0]} x {exp[1]}")
            if sorted(got[2], key=lambda e: (e[0], e[1])) != exp[2]:
                raise CheckFailure(f"{lw}.weights", _first_difference(got[2], exp[2]))
            if got[3] != exp[3]:
                bad = next(i for i in range(len(got[3])) if got[3][i] != exp[3][i])
                raise CheckFailure(f"{lw}.bias[{bad}]", "differs from the construction")
        self.shallow_layers = layers
        for k, leaf in enumerate(self.verified_leaves):
            x = leaf["witness"]
            deep, shallow = net.evaluate(x), evaluate_shallow(layers, x)
            if deep != shallow:
                raise CheckFailure(f"leaves[{k}].witness", "the deep and the shallow network differ at the witness")
        self.stats["hyperplanes"] = len(H)

    def _check_symbolic(self) -> None:
        try:
            import sympy
        except ImportError:
            raise CheckFailure("--symbolic", "sympy is not installed") from None
        n = self.net.input_dim
        xs = sympy.symbols(f"x1:{n + 1}")
        J = len(self.shallow["H"])
        rows1 = {}
        for i, j, w in self.shallow_layers[0][2]:
            rows1.setdefault(i, []).append((j, w))
        bias1 = self.shallow_layers[0][3]
        m = self.net.output_dim
        for k, leaf in enumerate(self.verified_leaves):
            vec = sympy.Matrix(xs)
            for (W, b), layer_bits in zip(self.net.layers[:-1], _split(leaf["bits"], self.net.widths)):
                z = sympy.Matrix(W) * vec + sympy.Matrix(b)
                vec = sympy.Matrix([z[i] if on else 0 for i, on in enumerate(layer_bits)])
            W, b = self.net.layers[-1]
            deep = sympy.Matrix(W) * vec + sympy.Matrix(b)
            for o in range(m):
                row = J + 2 * (k * m + o)
                model = sum((sympy.Rational(w.numerator, w.denominator) * xs[j] for j, w in rows1.get(row, [])),
                            sympy.Rational(bias1[row].numerator, bias1[row].denominator))
                if sympy.expand(deep[o] - model) != 0:
                    raise CheckFailure(f"leaves[{k}]", f"symbolic: output {o} of the deep and the shallow network differ")


def _split(bits, widths):
    out, start = [], 0
    for w in widths:
        out.append(bits[start : start + w])
        start += w
    return out


def _first_difference(got, exp) -> str:
    g = {(i, j): w for i, j, w in got}
    e = {(i, j): w for i, j, w in exp}
    for key in sorted(set(g) | set(e)):
        if g.get(key) != e.get(key):
            show = lambda w: "absent" if w is None else (w if isinstance(w, str) else fmt(w))  # noqa: E731
            return f"entry {list(key)} is {show(g.get(key))}, the construction gives {show(e.get(key))}"
    return "entries differ from the construction"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="exactrelu check",
        description="Verify an exactrelu equivalence certificate. Prints 's VERIFIED' or 's NOT VERIFIED'.",
        epilog="example: python -m exactrelu.checker shallow.cert.json --model net.json",
    )
    parser.add_argument("certificate")
    parser.add_argument("--model", help="the deep network (exactrelu-network JSON) the certificate must be about")
    parser.add_argument("--shallow", help="the shallow network file (default: the one the certificate names)")
    parser.add_argument("--symbolic", action="store_true", help="also re-derive each region's equality with sympy")
    parser.add_argument("--dump", action="store_true", help="print what was parsed (network, domain, sizes) to stderr")
    args = parser.parse_args(argv)
    checker = Checker(args.certificate, args.model, args.shallow, args.symbolic)
    try:
        if args.dump:
            checker.parse()
            checker.dump(sys.stderr)
        checker.run()
    except CheckFailure as exc:
        print("s NOT VERIFIED")
        print(f"c {exc.location}: {exc.reason}", file=sys.stderr)
        return 1
    except RecursionError:
        print("s NOT VERIFIED")
        print("c tree: nested too deeply", file=sys.stderr)
        return 1
    st = checker.stats
    print("s VERIFIED")
    print(f"c {st['leaves']} regions, {st['empty']} branches proved empty, {st.get('hyperplanes', 0)} hyperplanes, "
          f"{st['neurons']} neurons", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
