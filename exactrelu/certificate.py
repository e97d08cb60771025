"""Writing equivalence certificates (format ``exactrelu-certificate`` v2, docs/certificate-format.md).

The producer does every search; the certificate carries the evidence so that
:mod:`exactrelu.checker` only does arithmetic.  Before a certificate is written the producer
equates, for every region, the deep network under the region's pattern with the shallow network
under the region's gates (:func:`equate`), by one of two exact methods:

* ``"flint"`` (the default, chosen from ``benchmarks/certificates.py``): python-flint ``fmpq_mat``
  products;
* ``"sympy"``: sympy expressions in symbols ``x1..xn`` whose difference must expand to ``0``.

Invariant: a certificate file exists at its final path only if it was completely written: it is
streamed to a file object of :mod:`exactrelu.io.output`, the one writer, which renames it into place
only once complete.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, Optional, TextIO

from . import __version__
from .errors import InputError, InternalError
from .extended import Infinity
from .io.output import write_with
from .network import canonical_dumps
from .rationals import format_rational
from .regions import Child, Empty, Enumeration, Leaf, Region, Split
from .shallow import ShallowNetwork

CERT_FORMAT = "exactrelu-certificate"
CERT_VERSION = 2
EQUATION_METHODS = ("flint", "sympy")


def producer_versions() -> dict[str, str]:
    """Versions of exactrelu and of the libraries that made the certificate."""
    from importlib.metadata import PackageNotFoundError, version

    result = {"exactrelu": __version__}
    for name in ("pycddlib", "python-flint", "sympy"):
        try:
            result[name] = version(name)
        except PackageNotFoundError:
            result[name] = "unknown"
    return result


# ----------------------------------------------------------------------------- equation
def _model_rows(shallow: ShallowNetwork) -> dict[int, tuple[dict[int, Fraction], Fraction]]:
    """Layer 1 of the shallow network as ``row -> ({column: weight}, bias)``."""
    first = shallow.layers[0]
    rows: dict[int, dict[int, Fraction]] = {}
    for i, j, w in first.entries:
        rows.setdefault(i, {})[j] = w  # type: ignore[assignment]
    return {i: (rows.get(i, {}), first.bias[i]) for i in range(first.rows)}  # type: ignore[misc]


def check_gates(shallow: ShallowNetwork) -> None:
    """On each region ``k`` exactly gate ``k`` is open: its violation score has no term that is
    positive on ``R_k``, and every other gate ``k'`` has one (a ``j`` with ``h_j > 0`` required by one
    region and ``h_j <= 0`` by the other).  Raises :class:`InternalError` otherwise."""
    J = shallow.hyperplanes
    third = shallow.layers[2]
    m = shallow.output_dim
    infinite: dict[int, set[int]] = {}
    for i, j, w in third.entries:
        if isinstance(w, Infinity):
            infinite.setdefault(i, set()).add(j)
    strict_bits = [sum(1 << j for j in s) for s in shallow.strict]
    weak_bits = [sum(1 << j for j in w) for w in shallow.weak]
    for k in range(shallow.regions):
        own = set(shallow.strict[k]) | {J + j for j in shallow.weak[k]}
        for o in range(m):
            for row in (2 * (k * m + o), 2 * (k * m + o) + 1):
                if infinite.get(row, set()) != own:
                    raise InternalError(f"gate {row} of region {k} does not test exactly the region's conditions")
        for other in range(shallow.regions):
            if other != k and not ((strict_bits[other] & weak_bits[k]) or (weak_bits[other] & strict_bits[k])):
                raise InternalError(f"the gate of region {other} is not closed on region {k}")


def _deep_map_flint(region: Region, enumeration: Enumeration):
    import flint

    net = enumeration.network
    n = net.input_dim

    def mat(rows, r, c):
        return flint.fmpq_mat(r, c, [flint.fmpq(v.numerator, v.denominator) for row in rows for v in row])

    A = flint.fmpq_mat(n, n, [int(i == j) for i in range(n) for j in range(n)])
    a = flint.fmpq_mat(n, 1, [0] * n)
    for layer, bits in zip(net.layers[:-1], region.pattern):
        mask = flint.fmpq_mat(layer.out_dim, layer.out_dim,
                              [int(i == j and bits[i]) for i in range(layer.out_dim) for j in range(layer.out_dim)])
        W = mat(layer.weight, layer.out_dim, layer.in_dim)
        b = mat([[v] for v in layer.bias], layer.out_dim, 1)
        A, a = mask * (W * A), mask * (W * a + b)
    last = net.layers[-1]
    W = mat(last.weight, last.out_dim, last.in_dim)
    b = mat([[v] for v in last.bias], last.out_dim, 1)
    return W * A, W * a + b


def equate(enumeration: Enumeration, shallow: ShallowNetwork, method: str = "flint") -> None:
    """Confirm region by region that the deep network under the region's pattern and the shallow
    network under the region's gates are the same affine function (see module docstring)."""
    if method not in EQUATION_METHODS:
        raise InputError(f"--equation: unknown method {method!r}; choose one of {', '.join(EQUATION_METHODS)}")
    check_gates(shallow)
    rows = _model_rows(shallow)
    J, m, n = shallow.hyperplanes, shallow.output_dim, shallow.input_dim
    if method == "sympy":
        import sympy

        xs = sympy.symbols(f"x1:{n + 1}")
    for k, region in enumerate(enumeration.regions):
        models = [rows[J + 2 * (k * m + o)] for o in range(m)]
        if method == "flint":
            import flint

            A, a = _deep_map_flint(region, enumeration)
            for o, (weights, bias) in enumerate(models):
                want = [flint.fmpq(weights.get(t, Fraction(0)).numerator, weights.get(t, Fraction(0)).denominator) for t in range(n)]
                got = [A[o, t] for t in range(n)]
                if got != want or a[o, 0] != flint.fmpq(bias.numerator, bias.denominator):
                    raise InternalError(f"region {k}: deep and shallow outputs differ (flint)")
        else:
            vec = sympy.Matrix(xs)
            for layer, bits in zip(enumeration.network.layers[:-1], region.pattern):
                z = sympy.Matrix(layer.weight) * vec + sympy.Matrix(layer.bias)
                vec = sympy.Matrix([z[i] if on else 0 for i, on in enumerate(bits)])
            last = enumeration.network.layers[-1]
            deep = sympy.Matrix(last.weight) * vec + sympy.Matrix(last.bias)
            for o, (weights, bias) in enumerate(models):
                model = sum((sympy.Rational(w.numerator, w.denominator) * xs[t] for t, w in weights.items()),
                            sympy.Rational(bias.numerator, bias.denominator))
                if sympy.expand(deep[o] - model) != 0:
                    raise InternalError(f"region {k}: deep and shallow outputs differ (sympy)")


# ----------------------------------------------------------------------------- writing
def json_rational(v: Fraction) -> str:
    """A rational as JSON text: a ``"p/q"`` string."""
    return json.dumps(format_rational(v))


def json_vector(values) -> str:
    return "[" + ",".join(json_rational(v) for v in values) + "]"


def leaf_json(region: Region, extra: str = "") -> str:
    """One leaf of the ``leaves`` list as JSON text; ``extra`` adds fields (``,"name":...``)."""
    conditions = ",".join(
        '{"w":%s,"b":%s,"rel":"%s"}' % (json_vector(w), json_rational(b), ">" if on else "<=")
        for (w, b), on in zip(region.preactivations, region.flat_pattern)
    )
    pattern = "[" + ",".join("[" + ",".join("1" if bit else "0" for bit in layer) + "]" for layer in region.pattern) + "]"
    return '{"pattern":%s,"conditions":[%s],"witness":%s,"alpha":[%s],"beta":%s,"full_dimensional":%s%s}' % (
        pattern, conditions, json_vector(region.witness), ",".join(json_vector(r) for r in region.alpha),
        json_vector(region.beta), "true" if region.full_dimensional else "false", extra,
    )


def tree_chunks(child: Child | list[Child]) -> Iterator[str]:
    """The case-split tree as JSON text: the flat preorder list of its nodes (a split, then its
    active subtree, then its inactive subtree), written without recursion and never held in memory
    twice, so that a tree as deep as the network has neurons needs no nesting.  A list of trees (one
    per input set of a property) is written as ``{"input_sets": [tree, ...]}``.

    >>> from fractions import Fraction
    >>> "".join(tree_chunks(Split((0, 0), Leaf(0), Empty({1: Fraction(1, 2)}))))
    '[{"split":[0,0]},{"leaf":0},{"empty":[[1,"1/2"]]}]'
    """
    if isinstance(child, list):  # one tree per input set (exactrelu-property)
        yield '{"input_sets":['
        for k, tree in enumerate(child):
            if k:
                yield ","
            yield from tree_chunks(tree)
        yield "]}"
        return
    if hasattr(child, "below"):  # a cut of the input box (exactrelu.prover.Bisect): only above every split
        head, below, middle, above, tail = child.chunks()
        yield head
        yield from tree_chunks(below)
        yield middle
        yield from tree_chunks(above)
        yield tail
        return
    yield "["
    stack: list[Child] = [child]
    separator = ""
    while stack:
        item = stack.pop()
        if isinstance(item, Leaf):
            yield separator + '{"leaf":%d}' % item.index
        elif isinstance(item, Empty):
            yield separator + '{"empty":[%s]}' % ",".join("[%d,%s]" % (m, json_rational(lam))
                                                         for m, lam in item.multipliers.items())
        elif hasattr(item, "chunks"):  # an early leaf of the prover (exactrelu.prover.Closed)
            yield separator + "".join(item.chunks())
        else:
            yield separator + '{"split":[%d,%d]}' % item.neuron
            stack += [item.inactive, item.active]
        separator = ","
    yield "]"


def nested_tree(tree):
    """A certificate's tree (the JSON value) with children inside their splits, as in version 1:
    ``{"split": [l, i], "active": ..., "inactive": ...}``; a flat preorder list (version 2) is
    folded without recursion, a nested tree is returned as it is.  For readers that render small
    certificates (:mod:`exactrelu.report`), not for the checker.

    >>> nested_tree([{"split": [0, 0]}, {"leaf": 0}, {"empty": [[1, "1"]]}])
    {'split': [0, 0], 'active': {'leaf': 0}, 'inactive': {'empty': [[1, '1']]}}
    """
    if isinstance(tree, dict) and isinstance(tree.get("input_sets"), list):
        return {"input_sets": [nested_tree(t) for t in tree["input_sets"]]}
    if not isinstance(tree, list):
        return tree
    root: dict = {}
    open_splits: list[dict] = []  # splits whose inactive child is still to come
    for node in tree:
        node = dict(node)
        if not open_splits:
            root = node
        elif "active" not in open_splits[-1]:
            open_splits[-1]["active"] = node
        else:
            open_splits.pop()["inactive"] = node
        if "split" in node:
            open_splits.append(node)
    return root


def certificate_header(enumeration: Enumeration, shallow: ShallowNetwork, shallow_name: Optional[str] = None) -> dict:
    """Everything of the certificate but its leaves and tree.  With ``shallow_name`` (a path relative
    to the certificate's folder) the shallow network is named with its SHA-256; without it, embedded."""
    if shallow_name is not None:
        shallow_ref = {"file": shallow_name, "sha256": shallow.sha256()}
    else:
        shallow_ref = {"network": shallow.to_dict(), "sha256": shallow.sha256()}
    return {
        "format": CERT_FORMAT,
        "version": CERT_VERSION,
        "producer": producer_versions(),
        "network": enumeration.network.to_dict(),
        "network_sha256": enumeration.network.sha256(),
        "domain": enumeration.domain.to_dict(),
        "shallow": shallow_ref,
        "order": "layer-major",
    }


def relative_name(target: str | Path, certificate: str | Path) -> str:
    """How a certificate at ``certificate`` names the file ``target``: relative to its folder."""
    return os.path.relpath(Path(target).resolve(), Path(certificate).resolve().parent)


def stream_shallow_certificate(out: TextIO, enumeration: Enumeration, shallow: ShallowNetwork,
                               shallow_name: Optional[str] = None) -> None:
    """Write the certificate of ``shallow`` = the deep network to the text stream ``out``."""
    stream_certificate(out, certificate_header(enumeration, shallow, shallow_name),
                       (leaf_json(region) for region in enumeration.regions), enumeration.tree)


def write_certificate(
    path: str | Path,
    enumeration: Enumeration,
    shallow: ShallowNetwork,
    shallow_path: Optional[str | Path] = None,
) -> int:
    """Write the certificate to ``path`` (through :mod:`exactrelu.io.output`, so it appears only
    complete) and return its size in bytes; ``shallow_path`` names the shallow network's file,
    without it the shallow network is embedded."""
    name = None if shallow_path is None else relative_name(shallow_path, path)
    return write_with(path, lambda out: stream_shallow_certificate(out, enumeration, shallow, name))


def stream_certificate(out: TextIO, header: dict, leaves: Iterable[str], tree: Child | list[Child]) -> None:
    """Write ``header`` (canonical JSON) extended by the ``leaves`` (JSON texts) and the ``tree``
    (flat, :func:`tree_chunks`) to the text stream ``out``, piece by piece."""
    out.write(canonical_dumps(header)[:-1])
    out.write(',\n"leaves":[\n')
    for k, text in enumerate(leaves):
        if k:
            out.write(",\n")
        out.write(text)
    out.write('\n],\n"tree":')
    for chunk in tree_chunks(tree):
        out.write(chunk)
    out.write("}\n")
