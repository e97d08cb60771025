"""Human-readable proofs from certificates: ``exactrelu report CERT -o proof.md [--latex]``.

The report restates what a certificate proves, in the words a student or an auditor checks by
hand.  For a shallow certificate (``exactrelu-certificate``): the deep network and the
three-hidden-layer network (widths, and for small networks every weight), each region as
inequalities in ``x1..xn`` with its local formula and witness, the gate argument for this network
(why region k's gate is open on it, ``V_k = 0``, and which hyperplane condition closes the gate of
every other region), and for every branch proved empty the Motzkin combination written out.  For
equivalence and prune certificates (``exactrelu-equivalence``) it shows the networks ``A`` and
``B``, the regions of ``A||B`` with both formulas, and on each region either the identical
formulas or the LP-dual bound written out (:mod:`exactrelu.report_equiv`).

Invariants.  A proof is rendered only from a certificate the independent checker verifies
(:func:`read_certificate` runs it first, with the files the auditor names).  Every number printed
is recomputed exactly from the certificate's networks and tree, except the multipliers and the
witnesses, whose arithmetic is shown.  A region's conditions implied by its other conditions and
the domain are *dropped* from its list and named: ``z`` is implied iff the region's other rows,
the domain rows and the negation of ``z`` have no common point, decided exactly by
:func:`exactrelu.lp.decide` (greedily, so the conditions kept still define the region).  The
region numbering is the one of the certificate and of ``exactrelu plot``: leaf ``k`` is Region ``k + 1``.

>>> from fractions import Fraction as F
>>> rows = [((F(1),), F(0), True), ((F(1),), F(0), False)]        # x1 > 0, x1 >= 0
>>> implied_conditions([], rows, 1)
[False, True]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import formulas as F
from .document import Appendix, Block, Code, Heading, Image, Items, Math, Para, Span, Strong, Table, Text
from .document import to_latex, to_markdown
from .certificate import nested_tree
from .domain import Domain
from .errors import InputError, InternalError, RejectedCertificateError
from .io.jsonfmt import network_from_dict, read_json
from .lp import Row, decide
from .network import ReluNetwork
from .regions import compose, neuron_order, neuron_row

SUMMARY_LIMIT = 12  # regions (and empty branches) shown in the main text; the rest go to the appendix
DETAIL_LIMIT = 2000  # regions x neurons up to which every region is listed in full (else a table)
EMPTY_LIMIT = 500  # empty branches written out in full (main text and appendix); beyond, counted
WEIGHT_LIMIT = 400  # weights up to which a network's layers are written out
SHALLOW_WEIGHT_LIMIT = 300  # nonzero shallow weights up to which its layers are written out
KIND_TITLE = {"shallow": "the three-hidden-layer network equals the deep network",
              "equivalence": "A and B", "prune": "the pruned network equals the original"}


# ============================================================================ reading
@dataclass
class Verified:
    """A certificate the checker verified, with its networks and domain parsed exactly."""

    path: Path
    kind: str  # "shallow", "equivalence" or "prune"
    cert: dict
    networks: dict  # "deep" (shallow kind) or "A", "B": ReluNetwork
    domain: Domain
    bindings: list  # the checker's (what, identity, status) lines
    files: dict = field(default_factory=dict)  # checker option -> the path the auditor named
    shallow: object = None  # ShallowNetwork (shallow kind)
    shallow_path: Optional[Path] = None  # the shallow file read (None: embedded)


def read_certificate(cert_path: str | Path, files: Optional[dict] = None) -> Verified:
    """The certificate at ``cert_path``, once the independent checker has verified it against the
    files named in ``files`` (checker option names: ``model``, ``shallow``, ``model_a``,
    ``model_b``, ``pruned``, ``domain``, ``box``; the kind is implied by them, any kind without)."""
    from . import checker
    from .shallow import load_shallow, shallow_from_dict

    path = Path(cert_path)
    files = {k: v for k, v in (files or {}).items() if v is not None}
    try:
        run = checker.Checker(str(path), **{k: str(v) for k, v in files.items()})
        run.run()
    except checker.UsageError as exc:
        raise InputError(str(exc)) from None
    except checker.CheckFailure as exc:
        raise RejectedCertificateError(f"{path}: the checker does not verify it ({exc.location}: {exc.reason}); "
                                       "no proof is rendered") from None
    cert = read_json(path, "certificate")
    try:
        domain = Domain.from_dict(cert["domain"], f"{path}: domain")
        if run.kind == "shallow":
            networks = {"deep": network_from_dict(cert["network"], f"{path}: network")}
        else:
            networks = {k: network_from_dict(cert["networks"][k], f"{path}: networks.{k}") for k in ("A", "B")}
    except KeyError as exc:
        raise InputError(f"{path}: missing field {exc}") from None
    verified = Verified(path, run.kind, cert, networks, domain, list(run.bindings), files)
    if run.kind == "shallow":
        ref = cert["shallow"]
        if "shallow" in files:
            verified.shallow_path = Path(files["shallow"])
        elif "file" in ref:
            verified.shallow_path = path.parent / ref["file"]
        verified.shallow = (load_shallow(verified.shallow_path) if verified.shallow_path is not None
                            else shallow_from_dict(ref["network"], f"{path}: shallow.network"))
        if verified.shallow.sha256() != ref["sha256"]:
            raise InternalError(f"{path}: the shallow network read is not the one the checker verified")
    return verified


# ============================================================================ the tree
@dataclass(frozen=True)
class Step:
    """One split on the path to a node: the neuron (layer-major position ``depth``), its
    pre-activation under the path's earlier bits, the side taken, and the sibling subtree."""

    depth: int
    neuron: tuple[int, int]
    w: tuple
    b: Fraction
    active: bool
    sibling: dict


def walk(network: ReluNetwork, domain: Domain, tree: dict, visit_leaf: Callable, visit_empty: Callable) -> None:
    """Depth-first walk recomputing each node's rows (domain rows, then neuron rows layer-major):
    ``visit_leaf(k, rows, bits, path)`` and ``visit_empty(pairs, rows, bits, path)``."""
    order = neuron_order(network)
    hidden = network.layers[:-1]
    n = network.input_dim
    rows: list[Row] = domain.rows()
    bits: list[bool] = []
    path: list[Step] = []
    maps: list[list] = [[] for _ in hidden]

    def layer_bits(l: int) -> list[bool]:
        start = sum(network.hidden_widths[:l])
        return bits[start : start + network.hidden_widths[l]]

    def visit(node: dict, depth: int) -> None:
        if "leaf" in node:
            visit_leaf(node["leaf"], list(rows), list(bits), list(path))
            return
        l, i = order[depth]
        if i == 0:
            maps[l] = (list(zip(hidden[0].weight, hidden[0].bias)) if l == 0
                       else compose(hidden[l].weight, hidden[l].bias, maps[l - 1], layer_bits(l - 1), n))
        w, b = maps[l][i]
        for side, key, other in ((True, "active", "inactive"), (False, "inactive", "active")):
            rows.append(neuron_row(w, b, side))
            bits.append(side)
            path.append(Step(depth, (l, i), tuple(w), b, side, node[other]))
            child = node[key]
            if "empty" in child:
                visit_empty(child["empty"], list(rows), list(bits), list(path))
            else:
                visit(child, depth + 1)
            rows.pop()
            bits.pop()
            path.pop()

    visit(tree, 0)


def walk_certificate(network: ReluNetwork, domain: Domain, cert: dict, visit_leaf: Callable) -> list[list[Block]]:
    """:func:`walk` over a certificate's tree, ``visit_leaf`` at each leaf; returns the blocks of
    its empty branches (:func:`empty_block`), in the tree's order."""
    widths, D = network.hidden_widths, len(domain.rows())
    empties: list[list[Block]] = []
    walk(network, domain, nested_tree(cert["tree"]), visit_leaf,
         lambda pairs, rows, bits, path: empties.append(empty_block(pairs, rows, bits, widths, D)))
    return empties


def leaf_map(leaf: dict) -> tuple[list[list[Fraction]], list[Fraction], str]:
    """A certificate leaf's affine map ``alpha, beta`` as rationals, and its kind (``"full-dimensional"``
    or ``"lower-dimensional"``)."""
    alpha = [[Fraction(a) for a in row] for row in leaf["alpha"]]
    beta = [Fraction(b) for b in leaf["beta"]]
    return alpha, beta, "full-dimensional" if leaf["full_dimensional"] else "lower-dimensional"


def leaves_under(node: dict, memo: dict) -> list[int]:
    """The leaf indices of a subtree (memoised by node identity)."""
    key = id(node)
    if key not in memo:
        if "leaf" in node:
            memo[key] = [node["leaf"]]
        elif "empty" in node:
            memo[key] = []
        else:
            memo[key] = leaves_under(node["active"], memo) + leaves_under(node["inactive"], memo)
    return memo[key]


def implied_conditions(domain_rows: Sequence[Row], rows: Sequence[Row], dim: int) -> list[bool]:
    """For each row, whether it is dropped as implied: row ``i`` is implied when the domain rows,
    the rows not dropped so far (but ``i``) and the negation of row ``i`` have no common point
    (exact, :func:`exactrelu.lp.decide`).  Each drop keeps the set the rows define, so the rows
    kept define the same set as all of them."""
    dropped = [False] * len(rows)
    for i, (u, v, strict) in enumerate(rows):
        others = [r for j, r in enumerate(rows) if j != i and not dropped[j]]
        negation = (tuple(-a for a in u), -v, not strict)
        dropped[i] = not decide([*domain_rows, *others, negation], dim).nonempty
    return dropped


# ============================================================================ shared pieces
def neuron_name(l: int, i: int) -> Math:
    """The pre-activation of neuron ``i`` of hidden layer ``l`` (0-based): ``z1_2`` / ``z^{(1)}_{2}``."""
    return F.variable(f"z_{l + 1}", i + 1)


def network_blocks(network: ReluNetwork, label: str = "") -> list[Block]:
    """The layers of a deep network, every weight when it has at most :data:`WEIGHT_LIMIT`."""
    blocks: list[Block] = []
    weights = sum(len(layer.weight) * len(layer.weight[0]) for layer in network.layers)
    if weights > WEIGHT_LIMIT:
        return [Para([Text(f"{label}Widths {'-'.join(map(str, network.widths))} ({weights} weights, too many to "
                           "write out here; the certificate embeds them and ")
                      , Code("exactrelu check --dump"), Text(" prints them).")])]
    for k, layer in enumerate(network.layers):
        last = k == len(network.layers) - 1
        names = ([F.variable("x", t + 1) for t in range(network.input_dim)] if k == 0
                 else [F.variable(f"v_{k}", t + 1) for t in range(len(layer.weight[0]))])
        inputs = (Text("the input x") if k == 0 else
                  Math(f"v{k}_j = relu(z{k}_j)", rf"v^{{({k})}}_{{j}} = \operatorname{{relu}}(z^{{({k})}}_{{j}})"))
        blocks.append(Para([Text(f"{label}Layer {k + 1} ({'affine output' if last else 'ReLU'}), on "), inputs,
                            Text(":")]))
        items = []
        for i, (row, b) in enumerate(zip(layer.weight, layer.bias)):
            left = F.variable("y", i + 1) if last else neuron_name(k, i)
            items.append([F.relation(left, "=", F.affine(row, b, names))])
        blocks.append(Items(items))
    return blocks


def condition_items(network: ReluNetwork, domain: Domain, rows: Sequence[Row], bits: Sequence[bool]) -> list[list[Span]]:
    """A region's neuron conditions as ``z > 0`` / ``z <= 0`` (constant ones omitted: they hold on
    the whole region), those implied by the others and the domain dropped and named."""
    order = neuron_order(network)
    D = len(domain.rows())
    live = [(d, r) for d, r in enumerate(rows[D:]) if any(r[0])]
    dropped = implied_conditions(domain.rows(), [r for _, r in live], network.input_dim)
    conds: list[Span] = []
    implied: list[Math] = []
    for (d, r), gone in zip(live, dropped):
        name = neuron_name(*order[d])
        if gone:
            implied.append(name)
            continue
        w, b = (r[0], r[1]) if bits[d] else (tuple(-a for a in r[0]), -r[1])
        conds += ([Text("; ")] if conds else []) + [name, Text(": "), F.condition(w, b, bits[d])]
    items = [[Text("conditions (with "), Math("x", "x"), Text(" in the domain): "), *(conds or [Text("none (the whole domain)")])]]
    if implied:
        items.append([Text("implied by these and the domain, so not listed: "), F.joined(implied, ", ", r",\allowbreak\ ")])
    return items


def empty_block(pairs: list, rows: list[Row], bits: list[bool], widths: Sequence[int], D: int) -> list[Block]:
    """One branch proved empty: the Motzkin combination written out."""
    terms, total, strict = [], Fraction(0), False
    for index, lam in pairs:
        lam = Fraction(lam)
        row = rows[index]
        origin = f"domain row {index + 1}" if index < D else f"neuron {index - D + 1} of the branch"
        lhs = F.row_text(row)
        terms.append([F.rational(lam), Math(f" × ({lhs.plain})", rf" \times ({lhs.latex})"), Text(f" [{origin}]")])
        total += lam * row[1]
        strict = strict or row[2]
    rel = ">" if strict else ">="
    return [Para([Text("Branch "), Code(F.pattern_text(bits, widths)),
                  Text(" (the neurons decided so far) is empty: adding")]),
            Items(terms),
            Para([Text("the x-terms cancel and the sum is the constant "), F.rational(total),
                  Text(", so the combination reads "), F.relation(F.rational(total), rel, F.ZERO_MATH),
                  Text(", which is false.")])]


def domain_math(domain: Domain) -> Math:
    """The domain: ``R^n``, a product of intervals, or ``A x <= b``."""
    n = domain.dim
    if domain.kind == "reals":
        return Math(f"R^{n}", rf"\mathbb{{R}}^{{{n}}}")
    if domain.kind == "box":
        parts = [Math(f"[{F.rational(a).plain}, {F.rational(b).plain}]", rf"[{F.rational(a).latex}, {F.rational(b).latex}]")
                 for a, b in zip(domain.lower, domain.upper)]
        return F.joined(parts, " x ", r" \times ")
    rows = [F.relation(F.affine(a, Fraction(0)), "<=", F.rational(b)) for a, b in zip(domain.A, domain.b)]
    return Math("{x : " + ", ".join(r.plain for r in rows) + "}",
                r"\{x : " + r",\ ".join(r.latex for r in rows) + r"\}")


def check_command(v: Verified, base: Path) -> tuple[list[Span], list[Span]]:
    """The auditor's command binding every file, with names relative to ``base`` (the report's
    folder), and a sentence about the placeholders it had to use."""
    def rel(p) -> str:
        return os.path.relpath(Path(p).resolve(), base.resolve())

    words = ["exactrelu", "check", rel(v.path)]
    notes: list[str] = []
    wanted = {"shallow": [("model", "NET.json", "your copy of the deep network")],
              "equivalence": [("model_a", "A.json", "your copy of network A"),
                              ("model_b", "B.json", "your copy of network B")],
              "prune": [("model", "ORIGINAL.json", "your copy of the original network"),
                        ("pruned", "PRUNED.json", "your copy of the pruned network")]}[v.kind]
    for option, placeholder, what in wanted:
        if option in v.files:
            words += [f"--{option.replace('_', '-')}", rel(v.files[option])]
        else:
            words += [f"--{option.replace('_', '-')}", placeholder]
            notes.append(f"{placeholder} is {what}")
    if v.kind == "shallow" and v.shallow_path is not None:
        words += ["--shallow", rel(v.shallow_path)]
    d = v.domain
    if d.kind == "box":
        words.append("--box=" + ",".join(f"{F.rational(a).plain}:{F.rational(b).plain}" for a, b in zip(d.lower, d.upper)))
    elif d.kind == "polytope":
        if "domain" in v.files:
            words += ["--domain", rel(v.files["domain"])]
        else:
            words += ["--domain", "DOMAIN.json"]
            notes.append("DOMAIN.json is a JSON file of the domain above")
    note = ([Text("Here " + "; ".join(notes) + " (this report was written without naming "
                  + ("it" if len(notes) == 1 else "them") + ").")] if notes else [])
    return [Code(" ".join(words))], note


def bindings_items(v: Verified) -> Items:
    return Items([[Text(f"{what}: "), Code(ident), Text(f", {status}")] for what, ident, status in v.bindings])


def _count(k: int, one: str, many: str = "") -> str:
    return f"1 {one}" if k == 1 else f"{k} {many or one + 's'}"


# ============================================================================ shallow certificates
@dataclass
class RegionText:
    k: int
    blocks: list
    row: list  # the region as a table row (number, pattern, dimension, witness, formula)


def _gate_names(shallow) -> tuple[list[Math], list[Math], list[Math], list[Math]]:
    """The names of the units of the four layers of the construction (as ``shallow_layers`` lays them out)."""
    J, K, m = len(shallow.H), len(shallow.alpha), shallow.output_dim
    a = [F.variable("a", j + 1) for j in range(J)]
    p = [F.variable("p", j + 1) for j in range(J)]
    halves = []
    for k in range(K):
        for o in range(m):
            sub = f"{k + 1}" if m == 1 else f"{k + 1},{o + 1}"
            halves += [Math(f"l{sub}+", rf"\ell^{{+}}_{{{sub}}}"), Math(f"l{sub}-", rf"\ell^{{-}}_{{{sub}}}")]
    gates = []
    for k in range(K):
        for o in range(m):
            sub = f"{k + 1}" if m == 1 else f"{k + 1},{o + 1}"
            gates += [Math(f"g{sub}+", rf"g^{{+}}_{{{sub}}}"), Math(f"g{sub}-", rf"g^{{-}}_{{{sub}}}")]
    x = [F.variable("x", t + 1) for t in range(shallow.input_dim)]
    layer1 = a + halves
    layer2 = p + a + halves
    if [layer.rows for layer in shallow.layers] != [len(layer1), len(layer2), len(gates), m]:
        raise InternalError("the shallow network's layers do not have the construction's widths")
    return [x, layer1, layer2, gates]


def _extended_term(w, name: Math) -> tuple[bool, str, str]:
    from .extended import Infinity

    if isinstance(w, Infinity):
        return w.sign < 0, f"∞*{name.plain}", rf"\infty \cdot {name.latex}"
    term = F.affine([abs(w)], Fraction(0), [name])
    return w < 0, term.plain, term.latex


def shallow_blocks(shallow) -> list[Block]:
    """The three-hidden-layer network: widths, hyperplanes and (small) every weight."""
    J, K, m = len(shallow.H), len(shallow.alpha), shallow.output_dim
    widths = [shallow.input_dim, *shallow.hidden_widths, m]
    blocks: list[Block] = [Para([
        Text(f"Widths {'-'.join(map(str, widths))}: hidden layer 1 computes "), Math("a_j = relu(h_j(x))", r"a_j = \operatorname{relu}(h_j(x))"),
        Text(f" for the {_count(J, 'hyperplane')} "), Math("h_j", "h_j"),
        Text(" below and the halves "), Math("l_k+ = relu(l_k(x)), l_k- = relu(-l_k(x))",
                                             r"\ell^{+}_k = \operatorname{relu}(\ell_k(x)),\ \ell^{-}_k = \operatorname{relu}(-\ell_k(x))"),
        Text(f" of the {_count(K, 'local formula')} (one per region and output); hidden layer 2 computes "),
        Math("p_j = relu(1 - ∞*a_j)", r"p_j = \operatorname{relu}(1 - \infty \cdot a_j)"),
        Text(" (1 where "), Math("h_j <= 0", r"h_j \le 0"), Text(", 0 where "), Math("h_j > 0", "h_j > 0"),
        Text(") and passes the rest on; hidden layer 3 computes the gates "),
        Math("g_k± = relu(±(l_k+ - l_k-) - ∞*V_k)", r"g^{\pm}_k = \operatorname{relu}(\pm(\ell^{+}_k - \ell^{-}_k) - \infty \cdot V_k)"),
        Text("; the output is "), Math("y = sum_k (g_k+ - g_k-)", r"y = \sum_k (g^{+}_k - g^{-}_k)"),
        Text(f". It has {shallow.infinite_weights} infinite weights.")])]
    if J:
        blocks.append(Para([Text("The hyperplanes (each neuron condition of a region, scaled so that its first "
                                 "nonzero coefficient is ±1):")]))
        blocks.append(Items([[F.relation(Math(f"h{j + 1}(x)", f"h_{{{j + 1}}}(x)"), "=", F.affine(h, c))]
                             for j, (h, c) in enumerate(zip(shallow.H, shallow.c))][:SHALLOW_WEIGHT_LIMIT]))
        if J > SHALLOW_WEIGHT_LIMIT:
            blocks.append(Para([Text(f"… and {J - SHALLOW_WEIGHT_LIMIT} more, in the shallow file.")]))
    total = sum(len(layer.entries) for layer in shallow.layers)
    if total > SHALLOW_WEIGHT_LIMIT:
        blocks.append(Para([Text(f"Its {total} nonzero weights are in the shallow file (too many to write out here).")]))
        return blocks
    names = _gate_names(shallow)
    for t, layer in enumerate(shallow.layers):
        last = t == len(shallow.layers) - 1
        out_names = [F.variable("y", o + 1) for o in range(m)] if last else names[t + 1]
        per_row: list[list] = [[] for _ in range(layer.rows)]
        for i, j, w in layer.entries:
            per_row[i].append(_extended_term(w, names[t][j]))
        items = []
        for i in range(layer.rows):
            plain: list[str] = []
            latex: list[str] = []
            for negative, pl, lt in per_row[i]:
                F._term(plain, latex, negative, pl, lt)
            bias = layer.bias[i]
            if bias != 0 or not plain:
                F._term(plain, latex, bias < 0, F.rational(abs(bias)).plain, F.rational(abs(bias)).latex)
            inner = Math(" ".join(plain), " ".join(latex))
            value = inner if last else Math(f"relu({inner.plain})", rf"\operatorname{{relu}}({inner.latex})")
            items.append([F.relation(out_names[i], "=", value)])
        what = "Output layer" if last else f"Hidden layer {t + 1}"
        blocks += [Para([Text(f"{what} ({_count(layer.rows, 'unit')}):")]), Items(items)]
    return blocks


def _v_math(shallow, k: int) -> Math:
    terms = [F.variable("p", j + 1) for j in shallow.strict[k]] + [F.variable("a", j + 1) for j in shallow.weak[k]]
    return F.relation(F.variable("V", k + 1), "=", F.joined(terms, " + ", " + ") if terms else F.ZERO_MATH)


def gate_items(shallow, k: int, path: Sequence[Step], memo: dict) -> list[list[Span]]:
    """Why gate ``k`` is open on region ``k`` and every other gate closed there."""
    from .shallow import normalise

    index = {(h, c): j for j, (h, c) in enumerate(zip(shallow.H, shallow.c))}
    v = _v_math(shallow, k)
    items: list[list[Span]] = [[Text("gate open: "), v]]
    hs = lambda js: F.joined([F.variable("h", j + 1) for j in js], ", ", r",\allowbreak\ ")  # noqa: E731
    vs = lambda name, js: F.joined([F.variable(name, j + 1) for j in js], " = ", " = ")  # noqa: E731
    if shallow.strict[k]:
        items[0] += [Text("; here "), F.relation(hs(shallow.strict[k]), ">", F.ZERO_MATH), Text(", so "),
                     F.relation(vs("p", shallow.strict[k]), "=", F.ZERO_MATH)]
    if shallow.weak[k]:
        items[0] += [Text("; here " if not shallow.strict[k] else " and "), F.relation(hs(shallow.weak[k]), "<=", F.ZERO_MATH),
                     Text(", so "), F.relation(vs("a", shallow.weak[k]), "=", F.ZERO_MATH)]
    items[0] += [Text(": "), F.relation(F.variable("V", k + 1), "=", F.ZERO_MATH), Text(", and the gate passes the formula")]
    for step in path:
        others = leaves_under(step.sibling, memo)
        if not others:
            continue
        h = normalise(step.w, step.b)
        if h is None or h not in index:
            raise InternalError(f"region {k + 1}: a split with leaves on both sides has no hyperplane")
        j = index[h]
        closed = [o for o in others if j in (shallow.weak[o] if step.active else shallow.strict[o])]
        if closed != others:
            raise InternalError(f"region {k + 1}: hyperplane {j + 1} does not close the gates it should")
        hj = F.variable("h", j + 1)
        if step.active:
            cause = [F.relation(hj, ">", F.ZERO_MATH), Text(" here, so "),
                     F.relation(F.variable("a", j + 1), ">", F.ZERO_MATH)]
        else:
            cause = [F.relation(hj, "<=", F.ZERO_MATH), Text(" here, so "),
                     F.relation(F.variable("p", j + 1), "=", Math("1", "1"))]
        word = "region" if len(others) == 1 else "regions"
        items.append([Text("closed by "), neuron_name(*step.neuron), Text(": "), *cause,
                      Text(f" in V of {word} {F.numbers(others)}, whose gate{'s' if len(others) > 1 else ''} "
                           f"it closes")])
    return items


def render_shallow(v: Verified, latex: bool, picture: Optional[str], base: Path) -> str:
    network, domain, shallow, cert = v.networks["deep"], v.domain, v.shallow, v.cert
    leaves = cert["leaves"]
    n, widths = network.input_dim, network.hidden_widths
    K = len(leaves)
    detailed = K * network.neuron_count <= DETAIL_LIMIT
    regions: list[RegionText] = []
    memo: dict = {}

    def on_leaf(k: int, rows: list[Row], bits: list[bool], path: list[Step]) -> None:
        leaf = leaves[k]
        alpha, beta, kind = leaf_map(leaf)
        witness = [Fraction(a) for a in leaf["witness"]]
        formulas = [F.relation(F.variable("y", o + 1), "=", F.affine(alpha[o], beta[o])) for o in range(len(beta))]
        row = [[Text(str(k + 1))], [Code(F.pattern_text(bits, widths))], [Text(kind.split("-")[0])],
               [F.point(witness)], [F.joined(formulas, "; ", r";\ ")]]
        if not (detailed or len(regions) < SUMMARY_LIMIT):
            regions.append(RegionText(k, [], row))
            return
        items = condition_items(network, domain, rows, bits)
        items += [[Text(f"output {o + 1}: "), formula] for o, formula in enumerate(formulas)]
        items.append([Text("witness: "), F.point(witness)])
        items += gate_items(shallow, k, path, memo)
        head = Para([Strong(F.region_name(k)), Text(f" ({kind}), pattern "), Code(F.pattern_text(bits, widths)), Text(":")])
        regions.append(RegionText(k, [head, Items(items)], row))

    empties = walk_certificate(network, domain, cert, on_leaf)
    regions.sort(key=lambda r: r.k)
    return _assemble_shallow(v, regions, empties, detailed, latex, picture, base)


def _assemble_shallow(v: Verified, regions, empties, detailed: bool, latex: bool, picture, base: Path) -> str:
    network, domain, shallow, cert = v.networks["deep"], v.domain, v.shallow, v.cert
    dom = domain_math(domain)
    widths = "-".join(map(str, network.widths))
    K, E = len(regions), len(empties)
    blocks: list[Block] = [
        Heading(1, [Text("Proof: " + KIND_TITLE["shallow"])]),
        Para([Strong("Claim."), Text(" For every point "), Math("x", "x"), Text(" of the domain "), dom, Text(f", the deep ReLU network {widths} "
              "(SHA-256 "), Code(cert["network_sha256"][:16] + "…"), Text(") and the three-hidden-layer network (SHA-256 "),
              Code(cert["shallow"]["sha256"][:16] + "…"), Text(") give exactly the same output.")]),
        Para([Strong("Semantics."), Text(" A neuron is active iff its pre-activation z satisfies "),
              Math("z > 0", "z > 0"), Text(" and inactive iff "), Math("z <= 0", r"z \le 0"),
              Text(", so every point has exactly one activation pattern; boundaries and lower-dimensional regions count.")]),
        Heading(2, [Text("The deep network")]),
        *network_blocks(network),
        Heading(2, [Text("The three-hidden-layer network")]),
        *shallow_blocks(shallow),
    ]
    section = iter(range(1, 10))
    blocks += [
        Heading(2, [Text(f"{next(section)}. The regions cover the domain, each point once")]),
        Para([Text("The case split decides the neurons in layer-major order; each branch either continues, ends in a "
                   f"region below, or is proved empty by a Motzkin combination. The proof has {_count(K, 'region')}"
                   + (f" and {_count(E, 'empty branch', 'empty branches')}." if E else " and no empty branch."))]),
        Heading(2, [Text(f"{next(section)}. The regions, their formulas and their gates")]),
        Para([Text("For each region: its conditions (a condition implied by the others on the domain is dropped and "
                   "named, decided exactly), the deep network's formula there, a witness point, and the gate "
                   "argument: "), _v_math_general(), Text(" is 0 exactly on the region, and at the split where "
                   "another region's pattern first differs, the same neuron's hyperplane closes that region's gate.")]),
    ]
    if picture:
        blocks.append(Image(picture, "The regions over the domain, numbered as below"))
    appendix: list[Block] = []
    shown = regions[:SUMMARY_LIMIT]
    for r in shown:
        blocks += r.blocks
    rest = regions[SUMMARY_LIMIT:]
    if rest:
        blocks.append(Para([Text(f"… and {len(rest)} more regions, listed in the appendix.")]))
        if detailed:
            appendix += [b for r in rest for b in r.blocks]
        else:
            appendix += [Para([Text("Every region, with its pattern, dimension, witness and formula (its conditions "
                                    "are the neuron conditions of its pattern, which the case split states; its gate "
                                    "argument is the one above, with the split at which two patterns first differ):")]),
                         Table(["region", "pattern", "dim.", "witness", "formula"], [r.row for r in regions],
                               (0.08, 0.2, 0.1, 0.18, 0.3))]
    if E:
        blocks.append(Heading(2, [Text(f"{next(section)}. The empty branches")]))
        for e in empties[:SUMMARY_LIMIT]:
            blocks += e
        if E > SUMMARY_LIMIT:
            blocks.append(Para([Text(f"… and {E - SUMMARY_LIMIT} more empty branches, listed in the appendix.")]))
            appendix += [b for e in empties[SUMMARY_LIMIT:EMPTY_LIMIT] for b in e]
            if E > EMPTY_LIMIT:
                appendix.append(Para([Text(f"The other {E - EMPTY_LIMIT} empty branches (of {E}) are not written out "
                                           "here: their Motzkin multipliers are in the certificate's tree, and the "
                                           "checker verified every one of them before this report was written.")]))
    blocks += [
        Heading(2, [Text(f"{next(section)}. Conclusion")]),
        Para([Text("On each region the deep network is the affine formula shown (the ReLUs are fixed by the pattern), "
                   "and the three-hidden-layer network opens exactly that region's gate (section 2), so it computes the "
                   "same formula. The regions cover the domain. Hence the two networks agree at every point of "),
              dom, Text(".\u00a0∎")]),
    ]
    return recheck_blocks(blocks, v, base, cert, appendix, latex)


def region_blocks(blocks: list, regions: Sequence, empties: Sequence, section: int, appendix: list) -> int:
    """Append the first ``SUMMARY_LIMIT`` regions' blocks (``regions``: pairs ``(key, blocks)``), then,
    under heading ``section``, the first empty branches, to ``blocks``, and the rest to ``appendix``
    (empty branches up to ``EMPTY_LIMIT``); the number of the next section."""
    for _, body in regions[:SUMMARY_LIMIT]:
        blocks += body
    if len(regions) > SUMMARY_LIMIT:
        blocks.append(Para([Text(f"… and {len(regions) - SUMMARY_LIMIT} more regions, listed in the appendix.")]))
        appendix += [b for _, body in regions[SUMMARY_LIMIT:] for b in body]
    if empties:
        blocks.append(Heading(2, [Text(f"{section}. The empty branches")]))
        section += 1
        for e in empties[:SUMMARY_LIMIT]:
            blocks += e
        if len(empties) > SUMMARY_LIMIT:
            blocks.append(Para([Text(f"… and {len(empties) - SUMMARY_LIMIT} more empty branches, listed in the appendix.")]))
            appendix += [b for e in empties[SUMMARY_LIMIT:EMPTY_LIMIT] for b in e]
            if len(empties) > EMPTY_LIMIT:
                appendix.append(Para([Text(f"The other {len(empties) - EMPTY_LIMIT} empty branches are not written out "
                                           "here: their multipliers are in the certificate, verified by the checker.")]))
    return section


def recheck_blocks(blocks: list, v: "Verified", base, cert: dict, appendix: list, latex: bool) -> str:
    """The closing sections every report ends with (the files the checker was bound to, the command to
    re-check, the producer, the appendix), appended to ``blocks``; the whole document rendered."""
    command, note = check_command(v, base)
    blocks += [Heading(2, [Text("Re-check it mechanically")]),
               Para([Text("The checker verified this certificate before this report was written; the files it was bound to:")]),
               bindings_items(v), Para([Text("Run it yourself from this report's folder:")]), Para(command)]
    if note:
        blocks.append(Para(note))
    blocks.append(Para([Text("The certificate's producer: "), Code(_producer(cert))]))
    if appendix:
        blocks += [Appendix(), Heading(2, [Text("Appendix: the remaining regions and empty branches")]), *appendix]
    return to_latex(blocks) if latex else to_markdown(blocks)


def _v_math_general() -> Math:
    return Math("V_k = sum_{j in P_k} p_j + sum_{j in N_k} a_j",
                r"V_k = \sum_{j \in P_k} p_j + \sum_{j \in N_k} a_j")


def _producer(cert: dict) -> str:
    import json

    return json.dumps(cert.get("producer", {}), sort_keys=True)


# ============================================================================ entry points
def render(cert_path: str | Path, latex: bool = False, picture: Optional[str] = None,
           files: Optional[dict] = None, base: str | Path = ".") -> str:
    """The proof text (Markdown, or a LaTeX document with ``latex=True``) of a certificate the
    checker verifies against ``files``; ``picture`` names an image of the regions to show;
    file names in the checking command are relative to ``base``."""
    return render_verified(read_certificate(cert_path, files), latex, picture, Path(base))


def render_verified(v: Verified, latex: bool, picture: Optional[str], base: Path) -> str:
    if v.kind == "shallow":
        return render_shallow(v, latex, picture, base)
    method = v.cert.get("method", "enumeration")
    if method == "lattice":
        from .report_lattice import render_lattice

        return render_lattice(v, latex, base)
    if method != "enumeration":
        raise InputError(f"{v.path}: verified, but exactrelu report renders only certificates with a case-split tree "
                         f"over A||B; this one has \"method\": {method!r} (see docs/certificate-format.md)")
    from .report_equiv import render_equivalence

    return render_equivalence(v, latex, base)
