"""Human-readable proofs from certificates (the ``exactrelu report`` command writes them).

The report restates what the certificate proves, in the words a student or an auditor checks by
hand: the network, each region as inequalities in ``x1..xn`` with its local formula and witness,
and for every branch proved empty the Motzkin combination written out, ending in ``0 > 0`` or
``0 >= c`` with ``c < 0``.  Invariant: every number printed is recomputed exactly from the
certificate's network and tree (nothing is copied from the certificate unchecked but the
multipliers and witnesses, whose arithmetic is shown).  Large proofs keep the main text short and
move the detail to an appendix.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional, Sequence

import sympy

from .domain import Domain
from .errors import InputError, RejectedCertificateError
from .io.jsonfmt import network_from_dict, read_json
from .lp import Row
from .rationals import format_rational
from .regions import compose, neuron_order, neuron_row

SUMMARY_LIMIT = 12  # regions (and empty branches) shown in the main text; the rest go to the appendix


class _Printer:
    """Markdown or LaTeX rendering of expressions and relations (sympy's printers)."""

    def __init__(self, n: int, latex: bool) -> None:
        self.xs = sympy.symbols(f"x1:{n + 1}")
        self.latex = latex

    def expr(self, w: Sequence[Fraction], b: Fraction, inputs: str = "x") -> str:
        xs = self.xs if inputs == "x" else sympy.symbols(f"{inputs}1:{len(w) + 1}")
        e = sum((sympy.Rational(a.numerator, a.denominator) * x for a, x in zip(w, xs)),
                sympy.Rational(b.numerator, b.denominator))
        return sympy.latex(e) if self.latex else sympy.sstr(e)

    def row(self, row: Row) -> str:
        rel = ">" if row[2] else r"\geq" if self.latex else ">="
        return f"{self.expr(row[0], row[1])} {rel} 0"

    def q(self, v: Fraction) -> str:
        if self.latex:
            return sympy.latex(sympy.Rational(v.numerator, v.denominator))
        return format_rational(v)

    def math(self, text: str) -> str:
        return f"${text}$" if self.latex else f"`{text}`"


def _walk(network, domain: Domain, tree: dict, visit_leaf: Callable, visit_empty: Callable) -> None:
    """Depth-first walk recomputing each node's rows (domain rows, then neuron rows layer-major)."""
    order = neuron_order(network)
    hidden = network.layers[:-1]
    n = network.input_dim
    rows: list[Row] = domain.rows()
    bits: list[bool] = []
    maps: list[list] = [[] for _ in hidden]

    def layer_bits(l: int) -> list[bool]:
        start = sum(network.hidden_widths[:l])
        return bits[start : start + network.hidden_widths[l]]

    def visit(node: dict, depth: int) -> None:
        if "leaf" in node:
            visit_leaf(node["leaf"], list(rows), list(bits))
            return
        l, i = order[depth]
        if i == 0:
            maps[l] = (list(zip(hidden[0].weight, hidden[0].bias)) if l == 0
                       else compose(hidden[l].weight, hidden[l].bias, maps[l - 1], layer_bits(l - 1), n))
        w, b = maps[l][i]
        for side, key in ((True, "active"), (False, "inactive")):
            rows.append(neuron_row(w, b, side))
            bits.append(side)
            child = node[key]
            if "empty" in child:
                visit_empty(child["empty"], list(rows), list(bits))
            else:
                visit(child, depth + 1)
            rows.pop()
            bits.pop()

    visit(tree, 0)


def _pattern_text(bits: Sequence[bool], widths: Sequence[int]) -> str:
    out, start = [], 0
    for w in widths:
        out.append("".join("1" if b else "0" for b in bits[start : start + w]))
        start += w
    while out and not out[-1]:
        out.pop()
    return " | ".join(out) if out else "(no neuron decided)"


def _count(k: int, one: str, many: str = "") -> str:
    return f"1 {one}" if k == 1 else f"{k} {many or one + 's'}"


def read_certificate(cert_path: str | Path):
    """The certificate's JSON object with its network and domain, parsed exactly, once the
    independent checker has verified it (a proof is rendered only from what verifies)."""
    from . import checker

    path = Path(cert_path)
    try:
        checker.Checker(str(path), expect="shallow").run()
    except checker.CheckFailure as exc:
        raise RejectedCertificateError(f"{path}: the checker does not verify it ({exc.location}: {exc.reason}); "
                                       "no proof is rendered") from None
    return certificate_parts(read_json(path, "certificate"), str(path))


def certificate_parts(cert: object, where: str):
    """The parts of an already parsed certificate that the checker verified (``where`` names it in
    errors)."""
    if not isinstance(cert, dict) or cert.get("format") != "exactrelu-certificate":
        raise InputError(f"{where}: not an exactrelu certificate")
    try:
        network = network_from_dict(cert["network"], f"{where}: network")
        domain = Domain.from_dict(cert["domain"], f"{where}: domain")
        cert["leaves"], cert["tree"]
    except KeyError as exc:
        raise InputError(f"{where}: missing field {exc}") from None
    return cert, network, domain


def render(cert_path: str | Path, latex: bool = False, picture: Optional[str] = None) -> str:
    """The proof text (Markdown, or a LaTeX document with ``latex=True``); ``picture`` names an image
    of the regions to show."""
    cert, network, domain = read_certificate(cert_path)
    return render_certificate(cert, network, domain, latex, picture)


def render_certificate(cert: dict, network, domain: Domain, latex: bool = False, picture: Optional[str] = None) -> str:
    """The proof text of a certificate already read by :func:`read_certificate`."""
    leaves, tree = cert["leaves"], cert["tree"]
    n, m = network.input_dim, network.output_dim
    p = _Printer(n, latex)
    widths = network.hidden_widths
    D = len(domain.rows())
    regions: list[str] = []
    empties: list[str] = []

    def on_leaf(k: int, rows: list[Row], bits: list[bool]) -> None:
        leaf = leaves[k]
        alpha = [[Fraction(v) for v in row] for row in leaf["alpha"]]
        beta = [Fraction(v) for v in leaf["beta"]]
        witness = [Fraction(v) for v in leaf["witness"]]
        kind = "full-dimensional" if leaf["full_dimensional"] else "lower-dimensional"
        lines = [f"**Region {k + 1}** ({kind}), pattern {p.math(_pattern_text(bits, widths))}:", ""]
        conds = [p.math(p.row(r)) for r in rows[D:] if any(r[0])]
        lines.append("- conditions (with x in the domain): " + (", ".join(conds) if conds else "none (the whole domain)"))
        for o in range(m):
            lines.append(f"- output {o + 1}: {p.math(f'y_{o + 1} = ' + p.expr(alpha[o], beta[o]))}")
        lines.append(f"- witness: {p.math('(' + ', '.join(p.q(v) for v in witness) + ')')}")
        regions.append("\n".join(lines))

    def on_empty(pairs: list, rows: list[Row], bits: list[bool]) -> None:
        terms, total, strict = [], Fraction(0), False
        for index, lam in pairs:
            lam = Fraction(lam)
            row = rows[index]
            origin = f"domain row {index + 1}" if index < D else f"neuron {index - D + 1}"
            terms.append(f"  - {p.q(lam)} × ({p.row(row)})  [{origin}]")
            total += lam * row[1]
            strict = strict or row[2]
        rel = ">" if strict else (r"\geq" if latex else ">=")
        head = f"Branch {p.math(_pattern_text(bits, widths))} (the neurons decided so far) is empty: adding"
        tail = (f"  the x-terms cancel and the sum is the constant {p.math(p.q(total))}, so the combination reads "
                f"{p.math(f'{p.q(total)} {rel} 0')}, which is false.")
        empties.append("\n".join([head, *terms, tail]))

    _walk(network, domain, tree, on_leaf, on_empty)
    return _assemble(cert, network, domain, regions, empties, p, latex, picture)


def _assemble(cert, network, domain, regions, empties, p: _Printer, latex: bool, picture: Optional[str]) -> str:
    shallow_sha = cert.get("shallow", {}).get("sha256", "?")
    widths = "-".join(map(str, network.widths))
    out = ["# Proof of equivalence" if not latex else r"\section*{Proof of equivalence}", ""]
    out += [
        f"**Claim.** For every point x of the domain {p.math(domain.describe())}, the deep ReLU network "
        f"{widths} (SHA-256 `{cert.get('network_sha256', '?')[:16]}…`) and the three-hidden-layer network "
        f"(SHA-256 `{shallow_sha[:16]}…`) give exactly the same output.",
        "",
        "**Semantics.** A neuron is active iff its pre-activation is > 0 and inactive iff it is <= 0, so every "
        "point has exactly one activation pattern; boundaries and lower-dimensional regions count.",
        "",
        "## The network",
        "",
    ]
    for k, layer in enumerate(network.layers):
        kind = "ReLU" if k < len(network.layers) - 1 else "affine output"
        what = "the input x" if k == 0 else f"v{k}_j = relu(z{k}_j)"
        out.append(f"Layer {k + 1} ({kind}), on {what}:")
        out.append("")
        for i, (row, b) in enumerate(zip(layer.weight, layer.bias)):
            inputs = "x" if k == 0 else f"v{k}_"
            out.append(f"- {p.math(f'z{k + 1}_{i + 1} = ' + p.expr(row, b, inputs))}")
        out.append("")
    out += [
        "## 1. The regions cover the domain, each point once",
        "",
        "The case split decides the neurons in layer-major order; each branch either continues, ends in a "
        f"region below, or is proved empty by a Motzkin combination. The proof has {_count(len(regions), 'region')} and "
        f"{_count(len(empties), 'empty branch', 'empty branches')}.",
        "",
        "## 2. The regions and the local formulas",
        "",
    ]
    if picture:
        out += ([rf"\includegraphics[width=0.8\textwidth]{{{picture}}}", ""] if latex
                else [f"![The regions over the domain]({picture})", ""])
    main_regions = regions[:SUMMARY_LIMIT]
    out += [text + "\n" for text in main_regions]
    if len(regions) > SUMMARY_LIMIT:
        out.append(f"… and {len(regions) - SUMMARY_LIMIT} more regions, listed in the appendix.\n")
    out += ["## 3. The empty branches", ""]
    out += [text + "\n" for text in empties[:SUMMARY_LIMIT]]
    if len(empties) > SUMMARY_LIMIT:
        out.append(f"… and {len(empties) - SUMMARY_LIMIT} more empty branches, listed in the appendix.\n")
    out += [
        "## 4. Conclusion",
        "",
        "On each region the deep network is the affine formula shown (the ReLUs are fixed by the pattern), and "
        "the three-hidden-layer network opens exactly that region's gate (the construction lemma of "
        "docs/theory.md), so it computes the same formula. The regions cover the domain. Hence the two "
        f"networks agree at every point of {p.math(domain.describe())}. ∎",
        "",
        f"Re-check mechanically with `exactrelu check CERT` (producer: {json.dumps(cert.get('producer', {}))}).",
        "",
    ]
    if len(regions) > SUMMARY_LIMIT or len(empties) > SUMMARY_LIMIT:
        out += ["## Appendix: the remaining regions and empty branches", ""]
        out += [text + "\n" for text in regions[SUMMARY_LIMIT:]]
        out += [text + "\n" for text in empties[SUMMARY_LIMIT:]]
    text = "\n".join(out)
    if latex:
        body = text.replace("## ", r"\subsection*{").replace("**", "")
        body = "\n".join((line + "}") if line.startswith(r"\subsection*{") else line for line in body.splitlines())
        return "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{graphicx}\n\\begin{document}\n" + body + "\n\\end{document}\n"
    return text
