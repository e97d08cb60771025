"""The proof report of a lattice certificate (``exactrelu-equivalence``, ``"method": "lattice"``).

The claim is ``A = B`` on the domain, where ``A`` is a deep network and ``B`` the finite-weight
ReLU network of a max-min formula ``f_o = max_t min_{j in S_t} l_j`` (:mod:`exactrelu.finite`,
docs/theory.md section 10.6).  The report states the formula (its maps and terms), says why ``B``
computes it (every gadget is an identity of real numbers, and the checker rebuilt ``B`` from the
formula weight by weight), and then, on every region of ``A``'s own case-split tree with ``A``'s
map ``l`` there, writes out the two proof obligations of each output:

* the region's term ``t0`` (or, where the certificate splits the region by hyperplanes ``l_j = l``,
  each part's term, the split rows appended to the region's): for each of its maps ``l_j``, multipliers ``y_m >= 0`` on the region's
  rows read as closed (``u_m . x + v_m >= 0``) with ``sum y_m u_m = -(l - l_j)`` give
  ``l - l_j <= c0 + sum y_m v_m <= 0`` (weak duality), so ``min_{S_t0} l_j >= l`` there;
* every term ``t``: Motzkin multipliers on the region's rows and the rows ``l_j - l > 0``
  (``j`` in ``S_t``) cancel the ``x``-terms and leave a false constant inequality, so at no point
  of the region does every map of the term exceed ``l``: ``min_{S_t} l_j <= l``.

Invariant: every sum is recomputed here from the certificate's networks and multipliers, after the
checker verified it; a sum that does not come out as the checker found raises
:class:`~exactrelu.errors.InternalError`.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Sequence

from . import formulas as F
from .document import Block, Code, Heading, Items, Math, Para, Span, Strong, Text
from .errors import InternalError
from .report import (Verified, _count, condition_items, domain_math, leaf_map, network_blocks, recheck_blocks,
                     region_blocks, walk_certificate)

Map = tuple[list[Fraction], Fraction]


def _formula(cert: dict) -> list[tuple[list[Map], list[list[int]]]]:
    """The certificate's formula: per output its maps ``(w, b)`` and its terms."""
    return [([([Fraction(a) for a in mp["w"]], Fraction(mp["b"])) for mp in out["maps"]], [list(t) for t in out["terms"]])
            for out in cert["lattice"]]


def map_name(o: int, j: int, m: int) -> Math:
    """The ``j``-th map of output ``o`` (0-based): ``l3`` / ``l_{3}``, with the output when there are several."""
    return F.variable(f"l_{o + 1}", j + 1) if m > 1 else F.variable("l", j + 1)


def term_math(o: int, term: Sequence[int], m: int) -> Math:
    """``min(l1, l3)``, or the map itself for a term of one map."""
    names = [map_name(o, j, m) for j in term]
    if len(names) == 1:
        return names[0]
    inner = F.joined(names, ", ", ", ")
    return Math(f"min({inner.plain})", rf"\min({inner.latex})")


def formula_blocks(formula, m: int, n: int) -> list[Block]:
    """Per output: the maps, then ``f(x) = max_t min_{S_t} l_j`` written out."""
    blocks: list[Block] = []
    for o, (maps, terms) in enumerate(formula):
        out = Math(f"f{o + 1}(x)", f"f_{{{o + 1}}}(x)") if m > 1 else Math("f(x)", "f(x)")
        blocks.append(Para([Text(f"Output {o + 1}: {_count(len(maps), 'affine map')} (the distinct maps of A's regions "
                                 f"that the formula uses) and {_count(len(terms), 'term')}:")]))
        blocks.append(Items([[F.relation(Math(f"{map_name(o, j, m).plain}(x)", rf"{map_name(o, j, m).latex}(x)"), "=",
                                         F.affine(w, b))] for j, (w, b) in enumerate(maps)]))
        parts = F.joined([term_math(o, t, m) for t in terms], ", ", ", ")
        right = (term_math(o, terms[0], m) if len(terms) == 1
                 else Math(f"max({parts.plain})", rf"\max({parts.latex})"))
        blocks.append(Para([F.relation(out, "=", right), Text(".")]))
    return blocks


def _combination(pairs, rows, n: int) -> tuple[list[Span], list[Fraction], Fraction, bool]:
    """``sum y_m (row_m)`` written out, with the totals of its coefficients and constant and
    whether a strict row has a positive multiplier."""
    spans: list[Span] = []
    total_u, total_v, strict = [Fraction(0)] * n, Fraction(0), False
    for index, y in pairs:
        y = Fraction(y)
        u, v, s = rows[index]
        total_u = [a + y * b for a, b in zip(total_u, u)]
        total_v += y * v
        strict = strict or s
        spans += ([Text(" + ")] if spans else []) + [F.rational(y), Math(f" × ({F.row_text(rows[index]).plain})",
                                                                         rf" \times ({F.row_text(rows[index]).latex})")]
    return spans, total_u, total_v, strict


def above_items(o: int, node: dict, alpha: Sequence[Fraction], beta: Fraction, formula, closed, m: int, n: int,
                here: Math, part: str = "the region's closure") -> list[list[Span]]:
    """The term of the region (or of each part of its split by a hyperplane ``l_j = A``) lying above
    ``A`` there, each of its maps by weak duality over the ``closed`` rows (the split rows appended)."""
    maps, terms = formula[o]
    if "split" in node:
        j = node["split"]
        wj, bj = maps[j]
        d, d0 = [a - b for a, b in zip(wj, alpha)], bj - beta
        items: list[list[Span]] = []
        for key, sign, rel in (("ge", 1, ">="), ("le", -1, "<=")):
            items.append([Text("on the part where "), F.relation(map_name(o, j, m), rel, here),
                          Text(" (a closed half-space; the two parts cover the region):")])
            items += above_items(o, node[key], alpha, beta, formula, closed + [([sign * a for a in d], sign * d0, False)],
                                 m, n, here, "that part")
        return items
    top = node["term"]
    items: list[list[Span]] = [[Text("term "), term_math(o, terms[top], m),
                                Text(f" (term {top + 1}) lies above "), here, Text(f" on {part}:")]]
    for j, pairs in zip(terms[top], node["above"]):
        wj, bj = maps[j]
        c, c0 = [a - b for a, b in zip(alpha, wj)], beta - bj
        spans, total_u, total_v, _ = _combination(pairs, closed, n)
        if total_u != [-a for a in c] or c0 + total_v > 0:
            raise InternalError("a verified bound of a lattice certificate does not add up")
        name = map_name(o, j, m)
        left = Math(f"{here.plain} - {name.plain}", rf"{here.latex} - {name.latex}")
        if not spans:
            items.append([Text("above: "), F.relation(left, "=", F.affine(c, c0)), Text(" everywhere")])
            continue
        items.append([Text("above: "), F.relation(left, "=", F.affine(c, c0)), Text("; adding "), *spans,
                      Text(" (the region's rows, closed) cancels the x-terms: "),
                      F.relation(left, "<=", F.rational(c0 + total_v)), Text(", and "),
                      F.relation(F.rational(c0 + total_v), "<=", F.ZERO_MATH)])
    return items


def obligation_items(o: int, ev: dict, alpha: Sequence[Fraction], beta: Fraction, formula, rows, m: int,
                     n: int) -> list[list[Span]]:
    """The two obligations of one output on one region (module docstring), sums recomputed."""
    maps, terms = formula[o]
    here = Math(f"A{o + 1}", f"A_{{{o + 1}}}") if m > 1 else Math("A", "A")
    items = above_items(o, ev, alpha, beta, formula, [(u, v, False) for u, v, _ in rows], m, n, here)
    for t, (term, pairs) in enumerate(zip(terms, ev["below"])):
        extra = [([a - b for a, b in zip(maps[j][0], alpha)], maps[j][1] - beta, True) for j in term]
        spans, total_u, total_v, strict = _combination(pairs, list(rows) + extra, n)
        if any(total_u) or total_v > 0 or (total_v == 0 and not strict):
            raise InternalError("a verified Motzkin combination of a lattice certificate does not add up")
        used = sorted({j for j, _ in pairs if j >= len(rows)})
        if len(pairs) == 1 and not any(extra[used[0] - len(rows)][0]):
            name = map_name(o, term[used[0] - len(rows)], m)
            gap = F.rational(-total_v)
            right = Math(f"{here.plain} - {gap.plain}", f"{here.latex} - {gap.latex}") if total_v else here
            items.append([Text(f"term {t + 1} is at most "), here, Text(": its map "), F.relation(name, "=", right),
                          Text(" everywhere")])
            continue
        greater = F.joined([F.relation(map_name(o, term[s - len(rows)], m), ">", here) for s in used], ", ", ",\\ ")
        items.append([Text(f"term {t + 1} is at most "), here, Text(": a point of the region with "), greater,
                      Text(" would satisfy "), *spans, Text(", whose x-terms cancel, leaving "),
                      F.relation(F.rational(total_v), ">" if strict else ">=", F.ZERO_MATH), Text(", which is false")])
    return items


def render_lattice(v: Verified, latex: bool, base: Path) -> str:
    A, B = v.networks["A"], v.networks["B"]
    cert, domain = v.cert, v.domain
    n, m = A.input_dim, A.output_dim
    formula = _formula(cert)
    leaves = cert["leaves"]
    widths = A.hidden_widths
    regions: list[tuple[int, list[Block]]] = []

    def on_leaf(k, rows, bits, path) -> None:
        leaf = leaves[k]
        alpha, beta, kind = leaf_map(leaf)
        items = condition_items(A, domain, rows, bits)
        for o in range(m):
            here = Math(f"A{o + 1}", f"A_{{{o + 1}}}") if m > 1 else Math("A", "A")
            items.append([Text(f"output {o + 1}: " if m > 1 else "A's map: "), F.relation(here, "=", F.affine(alpha[o], beta[o]))])
        items.append([Text("witness: "), F.point([Fraction(a) for a in leaf["witness"]])])
        for o in range(m):
            items += obligation_items(o, leaf["lattice"][o], alpha[o], beta[o], formula, rows, m, n)
        head = Para([Strong(F.region_name(k)), Text(f" ({kind}), pattern of A "), Code(F.pattern_text(bits, widths)),
                     Text(":")])
        regions.append((k, [head, Items(items)]))

    empties = walk_certificate(A, domain, cert, on_leaf)
    regions.sort(key=lambda r: r[0])
    dom = domain_math(domain)
    sha = cert["network_sha256"]
    hidden = B.hidden_widths
    blocks: list[Block] = [
        Heading(1, [Text("Proof: A = B, B the finite-weight lattice form of A")]),
        Para([Strong("Claim."), Text(" For every point "), Math("x", "x"), Text(" of the domain "), dom, Text(", "),
              Math("A(x) = B(x)", "A(x) = B(x)"), Text(" exactly. Here A is the deep network (SHA-256 "),
              Code(sha["A"][:16] + "…"), Text(") and B its finite-weight lattice form (SHA-256 "),
              Code(sha["B"][:16] + "…"), Text(f", {_count(len(hidden), 'hidden layer')}, widths "
                                             f"{'-'.join(map(str, B.widths))}, {B.parameter_count} parameters).")]),
        Para([Strong("Semantics."), Text(" A neuron is active iff its pre-activation z satisfies "), Math("z > 0", "z > 0"),
              Text(" and inactive iff "), Math("z <= 0", r"z \le 0"),
              Text(", so every point has exactly one activation pattern; boundaries and lower-dimensional regions count.")]),
        Heading(2, [Text("Network A")]), *network_blocks(A),
        Heading(2, [Text("1. The max-min formula")]), *formula_blocks(formula, m, n),
        Heading(2, [Text("2. B computes the formula")]),
        Para([Text("B is the ReLU network of the formula: per output a balanced tree of "),
              Math("min(a, b) = a - relu(a - b)", r"\min(a, b) = a - \operatorname{relu}(a - b)"),
              Text(" per term, then a balanced tree of "),
              Math("max(a, b) = b + relu(a - b)", r"\max(a, b) = b + \operatorname{relu}(a - b)"),
              Text(" over the terms, one tree level per hidden layer, a value passed on as "),
              Math("v = relu(v) - relu(-v)", r"v = \operatorname{relu}(v) - \operatorname{relu}(-v)"),
              Text(". Each gadget is an identity of real numbers, so B equals the formula at every point. The checker "
                   "rebuilt this network from the formula with its own code and found B's weights equal to it, weight by "
                   "weight.")]),
        *network_blocks(B, "B: "),
        Heading(2, [Text("3. The regions of A cover the domain, each point once")]),
        Para([Text("The case split decides A's neurons in layer-major order; each branch ends in a region or is proved "
                   f"empty. The proof has {_count(len(regions), 'region')}"
                   + (f" and {_count(len(empties), 'empty branch', 'empty branches')}." if empties else " and no empty branch."))]),
        Heading(2, [Text("4. On each region, the formula equals A")]),
        Para([Text("A is affine on a region, with map "), Math("A(x) = l(x)", "A(x) = l(x)"),
              Text(". One term lies above l on the region's closure, or on each part of a split of it by hyperplanes "
                   "on which l equals a map of the formula (each of its maps, by weak duality), so the maximum "
                   "is at least l; and no term exceeds l at any point of the region (each by a Motzkin combination), "
                   "so the maximum is at most l.")]),
    ]
    appendix: list[Block] = []
    section = region_blocks(blocks, regions, empties, 5, appendix)
    blocks += [Heading(2, [Text(f"{section}. Conclusion")]),
               Para([Text("On every region the formula equals A's map, the regions cover the domain, and B computes the "
                          "formula. Hence A(x) = B(x) at every point of "), dom, Text(".\u00a0∎")])]
    return recheck_blocks(blocks, v, base, cert, appendix, latex)
