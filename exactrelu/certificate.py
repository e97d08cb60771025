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
from typing import Callable, Iterable, Iterator, Optional, Sequence, TextIO

from . import __version__
from .errors import InputError, InternalError
from .extended import Infinity
from .io.output import write_with
from .network import canonical_dumps
from .rationals import format_rational
from .regions import Child, Empty, Enumeration, Leaf, Region, Split
from .shallow import Hyperplanes, ShallowNetwork

CERT_FORMAT = "exactrelu-certificate"
CERT_VERSION = 2
STREAM_VERSION = 3  # JSON Lines, written and read as a stream (:class:`StreamWriter`)
EQUATION_METHODS = ("flint", "sympy")
ZERO = Fraction(0)


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


def check_gates(enumeration: Enumeration, shallow: ShallowNetwork) -> None:
    """On each region ``k`` exactly gate ``k`` is open: its gate rows test exactly ``strict[k]`` and
    ``weak[k]``, which are the hyperplanes of its conditions, and the case-split tree separates the
    regions (:class:`Separation`), which gives every other gate ``k'`` a term that is positive on
    ``R_k``.  Linear in the size of the regions and the tree.  Raises :class:`InternalError` otherwise."""
    J = shallow.hyperplanes
    m = shallow.output_dim
    infinite: dict[int, set[int]] = {}
    for i, j, w in shallow.layers[2].entries:
        if isinstance(w, Infinity):
            infinite.setdefault(i, set()).add(j)
    planes = Hyperplanes()
    indices = []
    for k, region in enumerate(enumeration.regions):
        indices.append(planes.indices(region))
        if planes.gates(region, indices[k]) != (list(shallow.strict[k]), list(shallow.weak[k])):
            raise InternalError(f"the gates of region {k} are not the hyperplanes of its conditions")
        own = set(shallow.strict[k]) | {J + j for j in shallow.weak[k]}
        for row in range(2 * k * m, 2 * (k + 1) * m):
            if infinite.get(row, set()) != own:
                raise InternalError(f"gate {row} of region {k} does not test exactly the region's conditions")
    separation = Separation(enumeration.network)
    stack = [] if enumeration.tree is None else [enumeration.tree]
    while stack:
        item = stack.pop()
        if isinstance(item, Split):
            separation.split(item.neuron)
            stack += [item.inactive, item.active]
        elif isinstance(item, Leaf):
            separation.leaf(item.index, indices[item.index], shallow.strict[item.index], shallow.weak[item.index])
        else:
            separation.empty()
    separation.finish(len(enumeration.regions))


class Separation:
    """The combinatorial core of the construction lemma, checked on the case-split tree as it is
    walked in preorder (``split``, ``empty``, ``leaf`` as a :class:`~exactrelu.regions.Sink` hears
    them), in time linear in the tree: each leaf costs one look-up per split above it.

    Property (S): each region is exactly one leaf (numbered 0, 1, 2, ... in preorder), and every
    split names one hyperplane ``j``, that of its neuron's pre-activation in every region below it
    (``indices``, per neuron, of :meth:`~exactrelu.shallow.Hyperplanes.indices`), with ``j`` in
    ``strict[k]`` for each region ``k`` of its active subtree and in ``weak[k]`` for each region of
    its inactive one.  A split whose neuron's pre-activation is
    constant (no hyperplane) may have regions on one side only.

    (S) implies what the lemma needs of the gates (docs/theory.md, section 4): every two regions
    ``k != k'`` have a ``j`` in ``strict[k] & weak[k']`` or in ``weak[k] & strict[k']``.  Their leaves
    are distinct, so their lowest common split has one of them in each subtree; it has a
    hyperplane (its two sides are not empty), and that ``j`` is such a ``j``.  Checking the pairs
    themselves would be quadratic in the number of regions."""

    UNSET = -1  # no region below the split yet

    def __init__(self, network) -> None:
        self.offsets = [0]
        for layer in network.layers[:-1]:
            self.offsets.append(self.offsets[-1] + layer.out_dim)
        self.open: list[list] = []  # per split above: [flat neuron, in its active subtree, j, side of its first region]
        self.leaves = 0

    def split(self, neuron: tuple[int, int]) -> None:
        self.open.append([self.offsets[neuron[0]] + neuron[1], True, self.UNSET, True])

    def empty(self, child: Optional[Empty] = None) -> None:
        self._close()

    def leaf(self, index: int, indices: Sequence[Optional[int]], strict: Iterable[int], weak: Iterable[int]) -> None:
        if index != self.leaves:
            raise InternalError(f"the tree's leaf {self.leaves} in preorder names region {index}")
        sides = {True: set(strict), False: set(weak)}
        for split in self.open:
            flat, side, first = split[0], split[1], split[2]
            j = indices[flat]
            if first == self.UNSET:
                split[2], split[3] = j, side
            elif j != first:
                raise InternalError(f"region {index}: the split on neuron {flat} (layer-major) has hyperplane {j}, "
                                    f"another region below it {first}")
            if j is None:
                if side != split[3]:
                    raise InternalError(f"region {index}: the split on neuron {flat} (layer-major) has a constant "
                                        "pre-activation and regions on both sides")
            elif j not in sides[side]:
                raise InternalError(f"region {index}: hyperplane {j} of the split on neuron {flat} (layer-major) above "
                                    f"it is not among its {'strict' if side else 'weak'} gates")
        self.leaves += 1
        self._close()

    def _close(self) -> None:
        """A child is complete: so is every split whose inactive child it ends."""
        while self.open:
            if self.open[-1][1]:
                self.open[-1][1] = False
                return
            self.open.pop()

    def finish(self, regions: int) -> None:
        if self.open or self.leaves != regions:
            raise InternalError(f"the tree is incomplete or has {self.leaves} leaves for {regions} regions")


def flint_layers(net) -> list:
    """Each layer of ``net`` as one python-flint matrix ``[W | b]`` (made once, used per region)."""
    import flint

    return [flint.fmpq_mat(layer.out_dim, layer.in_dim + 1,
                           [flint.fmpq(v.numerator, v.denominator) for row, c in zip(layer.weight, layer.bias) for v in (*row, c)])
            for layer in net.layers]


def deep_map_flint(region: Region, net, layers: list) -> list:
    """The deep network under ``region``'s pattern as rows ``[alpha_o | beta_o]`` of python-flint
    rationals: ``M = [[A, a], [0, 1]]`` composed layer by layer, inactive rows zeroed."""
    import flint

    n = net.input_dim
    cols = n + 1
    M = flint.fmpq_mat(cols, cols, [int(i == j) for i in range(cols) for j in range(cols)])
    for L, bits in zip(layers[:-1], region.pattern):
        entries = (L * M).entries()
        for i, on in enumerate(bits):
            if not on:
                entries[i * cols:(i + 1) * cols] = [0] * cols
        M = flint.fmpq_mat(len(bits) + 1, cols, [*entries, *([0] * n), 1])
    entries = (layers[-1] * M).entries()
    return [entries[o * cols:(o + 1) * cols] for o in range(net.output_dim)]


def flint_rows(alpha, beta) -> list:
    """An affine map's rows ``[alpha_o | beta_o]`` as python-flint rationals."""
    import flint

    return [[flint.fmpq(v.numerator, v.denominator) for v in (*row, b)] for row, b in zip(alpha, beta)]


def equate(enumeration: Enumeration, shallow: ShallowNetwork, method: str = "flint") -> None:
    """Confirm region by region that the deep network under the region's pattern and the shallow
    network under the region's gates are the same affine function (see module docstring)."""
    if method not in EQUATION_METHODS:
        raise InputError(f"--equation: unknown method {method!r}; choose one of {', '.join(EQUATION_METHODS)}")
    check_gates(enumeration, shallow)
    rows = _model_rows(shallow)
    J, m, n = shallow.hyperplanes, shallow.output_dim, shallow.input_dim
    if method == "sympy":
        import sympy

        xs = sympy.symbols(f"x1:{n + 1}")
    else:
        layers = flint_layers(enumeration.network)
    for k, region in enumerate(enumeration.regions):
        models = [rows[J + 2 * (k * m + o)] for o in range(m)]
        if method == "flint":
            got = deep_map_flint(region, enumeration.network, layers)
            want = flint_rows([[weights.get(t, ZERO) for t in range(n)] for weights, _ in models], [b for _, b in models])
            if got != want:
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
    """A rational as JSON text: a ``"p/q"`` string (digits, ``-`` and ``/``: nothing to escape)."""
    return '"%s"' % format_rational(v)


def json_vector(values) -> str:
    return "[" + ",".join(json_rational(v) for v in values) + "]"


def leaf_json(region: Region, extra: str = "") -> str:
    """One leaf of the ``leaves`` list as JSON text; ``extra`` adds fields (``,"name":...``).  A
    leaf states no conditions: the checker derives them from the splits on the path to the leaf."""
    pattern = "[" + ",".join("[" + ",".join("1" if bit else "0" for bit in layer) + "]" for layer in region.pattern) + "]"
    return '{"pattern":%s,"witness":%s,"alpha":[%s],"beta":%s,"full_dimensional":%s%s}' % (
        pattern, json_vector(region.witness), ",".join(json_vector(r) for r in region.alpha),
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
    """A certificate's tree (the JSON value: a flat preorder list, or ``{"input_sets": [list, ...]}``
    for a property certificate) with children inside their splits:
    ``{"split": [l, i], "active": ..., "inactive": ...}``, folded without recursion.  For readers
    that render small certificates (:mod:`exactrelu.report`), not for the checker.

    >>> nested_tree([{"split": [0, 0]}, {"leaf": 0}, {"empty": [[1, "1"]]}])
    {'split': [0, 0], 'active': {'leaf': 0}, 'inactive': {'empty': [[1, '1']]}}
    """
    if isinstance(tree, dict) and isinstance(tree.get("input_sets"), list):
        return {"input_sets": [nested_tree(t) for t in tree["input_sets"]]}
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



# ----------------------------------------------------------------------------- version 3: a stream
def stream_header(network, domain, shallow_ref: dict) -> dict:
    """The header line of a version-3 certificate: the version-2 object without ``leaves`` and
    ``tree``, with ``"version": 3`` and ``"stream": "jsonl"``."""
    return {"format": CERT_FORMAT, "version": STREAM_VERSION, "stream": "jsonl", "producer": producer_versions(),
            "network": network.to_dict(), "network_sha256": network.sha256(), "domain": domain.to_dict(),
            "shallow": shallow_ref, "order": "layer-major"}


def node_line(node: Child) -> str:
    """A split or an empty node of the flat tree as one JSON text (as in version 2)."""
    if isinstance(node, Empty):
        return '{"empty":[%s]}' % ",".join("[%d,%s]" % (m, json_rational(lam)) for m, lam in node.multipliers.items())
    return '{"split":[%d,%d]}' % node


PLACEHOLDER = "0" * 64  # the shallow file's SHA-256 in the header until it is known


class StreamWriter:
    """A :class:`~exactrelu.regions.Sink` that writes the certificate as version 3, one line per
    node as the search finds it (docs/certificate-format.md), and gathers the shallow network
    compactly (:class:`~exactrelu.shallow.CompactShallow`).  Regions are equated as they come (the
    deep network under the region's pattern, by python-flint, against the region's affine map, which
    layer 1 of the construction copies), and the tree's separation of their gates is checked as it
    comes (:class:`Separation`; layer 3 of the construction is written from those gates).
    :meth:`finish` writes the shallow network to ``shallow_out`` (canonical JSON, no trailing
    newline, hashed as written: the SHA-256 of its bytes is that of its canonical form, which version
    2 records and ``exactrelu info`` prints), the end line, and the file's SHA-256 into the header's
    placeholder (``patch(offset, bytes)``: the certificate file is regular, not yet published)."""

    def __init__(self, out, network, domain, shallow_name: str, patch: Callable[[int, bytes], None]) -> None:
        from .shallow import CompactShallow

        self.out, self.network, self.patch = out, network, patch
        self.layers = flint_layers(network)
        self.shallow = CompactShallow(network, domain)
        header = canonical_dumps(stream_header(network, domain, {"file": shallow_name, "sha256": PLACEHOLDER}))
        self.offset = header.index('"sha256":"%s"' % PLACEHOLDER) + len('"sha256":"')
        self.nodes = self.full = 0
        self.buffer: list[str] = [header + "\n"]
        self.separation = Separation(network)

    def _write(self, line: str) -> None:
        self.nodes += 1
        self.buffer.append(line)
        if len(self.buffer) >= 512:
            self.out.write("".join(self.buffer))
            self.buffer.clear()

    def split(self, neuron: tuple[int, int]) -> None:
        self.separation.split(neuron)
        self._write('{"split":[%d,%d]}\n' % neuron)

    def empty(self, child: Empty) -> None:
        self.separation.empty(child)
        self._write(node_line(child) + "\n")

    def leaf(self, index: int, region: Region) -> None:
        if deep_map_flint(region, self.network, self.layers) != flint_rows(region.alpha, region.beta):
            raise InternalError(f"region {index}: the deep network and the region's affine map differ (flint)")
        self._write('{"leaf":%d,"region":%s}\n' % (index, leaf_json(region)))
        indices = self.shallow.planes.indices(region)
        self.separation.leaf(index, indices, *self.shallow.add(region, indices))
        self.full += region.full_dimensional

    def finish(self, shallow_out) -> str:
        """Write the shallow network and the end line; return the shallow file's SHA-256."""
        import hashlib

        self.separation.finish(self.shallow.regions)
        self.out.write("".join(self.buffer))
        self.buffer.clear()
        digest = hashlib.sha256()
        for chunk in self.shallow.chunks():
            raw = chunk.encode("ascii")
            digest.update(raw)
            shallow_out.write(raw)
        self.out.write('{"end":{"leaves":%d,"nodes":%d}}\n' % (self.shallow.regions, self.nodes))
        sha = digest.hexdigest()
        self.patch(self.offset, sha.encode("ascii"))
        return sha


def stream_lines(certificate: dict) -> Iterator[str]:
    """The version-3 lines (each ending in ``"\n"``) of a version-2 shallow certificate object, same
    content: the header, the nodes of its flat tree with each leaf inline, the end line.  The header
    keeps the certificate's ``shallow`` reference: an embedded network as it is; a named file must
    then carry the SHA-256 of its bytes, as version 3 requires (the caller's business).

    >>> cert = {"format": CERT_FORMAT, "version": 2, "leaves": [{"pattern": [[1]]}],
    ...         "tree": [{"split": [0, 0]}, {"leaf": 0}, {"empty": [[0, "1"]]}]}
    >>> print("".join(stream_lines(cert)), end="")
    {"format":"exactrelu-certificate","stream":"jsonl","version":3}
    {"split":[0,0]}
    {"leaf":0,"region":{"pattern":[[1]]}}
    {"empty":[[0,"1"]]}
    {"end":{"leaves":1,"nodes":3}}
    """
    header = {key: value for key, value in certificate.items() if key not in ("leaves", "tree")}
    header.update(version=STREAM_VERSION, stream="jsonl")
    yield canonical_dumps(header) + "\n"
    leaves, nodes = certificate["leaves"], certificate["tree"]
    for node in nodes:
        if "leaf" in node:
            yield canonical_dumps({"leaf": node["leaf"], "region": leaves[node["leaf"]]}) + "\n"
        else:
            yield canonical_dumps(node) + "\n"
    yield canonical_dumps({"end": {"nodes": len(nodes), "leaves": len(leaves)}}) + "\n"
