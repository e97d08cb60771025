"""The proof report of an equivalence or prune certificate (``exactrelu-equivalence``).

The claim is about two networks ``A`` and ``B`` (for ``prune``: the original and the pruned
network) on a domain: ``A = B`` at every point, or ``max ||A(x) - B(x)|| = d`` attained at a
stated point.  The report shows ``A`` and ``B``, the regions of the side-by-side network ``A||B``
(:func:`exactrelu.equiv.side_by_side`, the network the checker builds itself) with both formulas,
and on each region either "the formulas are identical" or, for every sign vector ``s`` the norm
needs, the LP-dual bound written out: with ``c = s.(alpha_A - alpha_B)`` and
``c0 = s.(beta_A - beta_B)``, multipliers ``y_m > 0`` on the region's rows read as closed
(``u_m . x + v_m >= 0``) with ``sum y_m u_m = -c`` give, by adding ``y_m (u_m . x + v_m) >= 0``
to ``s.(A - B)(x) = c . x + c0``, the bound ``s.(A - B)(x) <= c0 + sum y_m v_m`` (weak duality,
arithmetic only).  Invariant: every number is recomputed from the certificate's networks (the
multipliers are the certificate's, their sums recomputed here), after the checker verified it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from . import formulas as F
from .document import Block, Code, Heading, Items, Math, Para, Span, Strong, Text
from .equiv import deviation, side_by_side
from .errors import InternalError
from .report import (Verified, _count, condition_items, domain_math, leaf_map, network_blocks, recheck_blocks,
                     region_blocks, walk_certificate)


def _diff(alpha, beta, s, m: int, n: int) -> tuple[list[Fraction], Fraction]:
    """``c, c0`` of ``s . (A - B)`` from the rows of ``A||B`` (``A``'s outputs first)."""
    c = [sum((s[o] * (alpha[o][t] - alpha[m + o][t]) for o in range(m)), Fraction(0)) for t in range(n)]
    c0 = sum((s[o] * (beta[o] - beta[m + o]) for o in range(m)), Fraction(0))
    return c, c0


def _sign_text(s) -> Math:
    m = len(s)
    if sum(1 for a in s if a) == 1:
        o = next(i for i, a in enumerate(s) if a)
        sign = "" if s[o] > 0 else "-"
        return Math(f"{sign}(A{o + 1} - B{o + 1})(x)", f"{sign}(A_{{{o + 1}}} - B_{{{o + 1}}})(x)")
    terms = [Math(f"{'+' if a > 0 else '-'}(A{o + 1} - B{o + 1})", f"{'+' if a > 0 else '-'}(A_{{{o + 1}}} - B_{{{o + 1}}})")
             for o, a in enumerate(s)]
    joined = F.joined(terms, " ", " ")
    return Math(f"[{joined.plain}](x)" if m else "0", rf"[{joined.latex}](x)")


def bound_items(leaf: dict, rows, m: int, n: int, claimed: Fraction) -> list[list[Span]]:
    alpha = [[Fraction(a) for a in row] for row in leaf["alpha"]]
    beta = [Fraction(b) for b in leaf["beta"]]
    items: list[list[Span]] = []
    for bound in leaf.get("bounds", []):
        s = bound["sign"]
        c, c0 = _diff(alpha, beta, s, m, n)
        total_u = [Fraction(0)] * n
        total_v = Fraction(0)
        terms: list[Span] = []
        for index, y in bound["multipliers"]:
            y = Fraction(y)
            u, v, _ = rows[index]
            total_u = [a + y * b for a, b in zip(total_u, u)]
            total_v += y * v
            closed = F.relation(F.affine(u, v), ">=", F.ZERO_MATH)
            terms += ([Text(" + ")] if terms else []) + [F.rational(y), Math(f" × ({closed.plain})", rf" \times ({closed.latex})")]
        if any(a != -b for a, b in zip(total_u, c)) or c0 + total_v != Fraction(bound["bound"]):
            raise InternalError("a verified bound does not add up")
        value = c0 + total_v
        left = _sign_text(s)
        items.append([F.relation(left, "=", F.affine(c, c0)), Text("; adding "), *(terms or [Text("nothing")]),
                      Text(" (the region's rows, closed) cancels the x-terms: "),
                      F.relation(left, "<=", F.rational(value)),
                      Text(", at most the claimed " if value <= claimed else ", MORE than the claimed "), F.rational(claimed)])
    return items


def render_equivalence(v: Verified, latex: bool, base: Path) -> str:
    A, B = v.networks["A"], v.networks["B"]
    cert, domain = v.cert, v.domain
    net = side_by_side(A, B)
    n, m = A.input_dim, A.output_dim
    claim = cert["claim"]
    claimed = Fraction(claim.get("value", "0"))
    leaves = cert["leaves"]
    widths = net.hidden_widths
    regions: list[tuple[int, list[Block]]] = []

    def on_leaf(k, rows, bits, path) -> None:
        leaf = leaves[k]
        alpha, beta, kind = leaf_map(leaf)
        items = condition_items(net, domain, rows, bits)
        for o in range(m):
            items.append([Text(f"output {o + 1}: "),
                          F.relation(Math(f"A{o + 1}", f"A_{{{o + 1}}}"), "=", F.affine(alpha[o], beta[o])), Text(", "),
                          F.relation(Math(f"B{o + 1}", f"B_{{{o + 1}}}"), "=", F.affine(alpha[m + o], beta[m + o]))])
        items.append([Text("witness: "), F.point([Fraction(a) for a in leaf["witness"]])])
        if alpha[:m] == alpha[m:] and beta[:m] == beta[m:]:
            items.append([Text("the formulas of A and B are identical, so A = B on this region")])
        else:
            items += bound_items(leaf, [(u, val, False) for u, val, _ in rows], m, n, claimed)
        head = Para([Strong(F.region_name(k)), Text(f" ({kind}), pattern of A||B "),
                     Code(F.pattern_text(bits, widths)), Text(":")])
        regions.append((k, [head, Items(items)]))

    empties = walk_certificate(net, domain, cert, on_leaf)
    regions.sort(key=lambda r: r[0])
    dom = domain_math(domain)
    norm = "inf" if claim["norm"] == "inf" else "1"
    norm_tex = r"\infty" if norm == "inf" else "1"
    norm_math = Math(f"||A(x) - B(x)||_{norm}", rf"\|A(x) - B(x)\|_{{{norm_tex}}}")
    if claim["kind"] == "equal":
        title = "Proof: " + ("the pruned network equals the original" if v.kind == "prune" else "A = B")
        statement = [Text(" For every point "), Math("x", "x"), Text(" of the domain "), dom, Text(", "),
                     Math("A(x) = B(x)", "A(x) = B(x)"), Text(" exactly.")]
    else:
        title = "Proof: the largest deviation of A and B"
        argmax = [Fraction(a) for a in claim["argmax"]]
        ya, yb = A.evaluate(argmax), B.evaluate(argmax)
        if deviation(ya, yb, claim["norm"]) != claimed:
            raise InternalError("the verified maximum is not attained at the stated point")
        statement = [Text(" Over the domain "), dom, Text(", the largest value of "), norm_math, Text(" is exactly "),
                     F.rational(claimed), Text(", attained at x = "), F.point(argmax), Text(" where A(x) = "),
                     F.point(ya), Text(" and B(x) = "), F.point(yb)]
        if claim.get("tolerance") is not None:
            statement += [Text(", within the tolerance "), F.rational(Fraction(claim["tolerance"]))]
        statement.append(Text("."))
    sha = cert["network_sha256"]
    blocks: list[Block] = [
        Heading(1, [Text(title)]),
        Para([Strong("Claim."), *statement, Text(" Here A" + (" is the original network" if v.kind == "prune" else "")
                                                  + " (SHA-256 "), Code(sha["A"][:16] + "…"),
              Text(") and B" + (" the pruned network" if v.kind == "prune" else "") + " (SHA-256 "),
              Code(sha["B"][:16] + "…"), Text(").")]),
        Para([Strong("Semantics."), Text(" A neuron is active iff its pre-activation z satisfies "), Math("z > 0", "z > 0"),
              Text(" and inactive iff "), Math("z <= 0", r"z \le 0"),
              Text(", so every point has exactly one activation pattern; boundaries and lower-dimensional regions count.")]),
        Heading(2, [Text("Network A" + (" (the original)" if v.kind == "prune" else ""))]), *network_blocks(A),
        Heading(2, [Text("Network B" + (" (the pruned network)" if v.kind == "prune" else ""))]), *network_blocks(B),
        Heading(2, [Text("1. The regions of A||B cover the domain, each point once")]),
        Para([Text(f"A||B ({'-'.join(map(str, net.widths))}) computes A(x) and B(x) side by side; its neurons are A's "
                   "then B's in each layer (the shallower network padded with identity layers). The case split decides its "
                   "neurons in layer-major order; each branch ends in a region or is proved empty. The proof has "
                   f"{_count(len(regions), 'region')}" + (f" and {_count(len(empties), 'empty branch', 'empty branches')}."
                                                          if empties else " and no empty branch."))]),
        Heading(2, [Text("2. On each region, A and B compared")]),
        Para([Text("Both networks are affine on a region. Where their formulas are identical they are equal there; "
                   "otherwise, for each sign the norm needs, multipliers on the region's rows bound the signed difference "
                   "(weak duality: the sum of nonnegative terms is added, the x-terms cancel).")]),
    ]
    appendix: list[Block] = []
    section = region_blocks(blocks, regions, empties, 3, appendix)
    conclusion = ([Text("On every region A = B (identical formulas, or a bound 0 on each signed difference), and the "
                        "regions cover the domain. Hence A(x) = B(x) at every point of "), dom, Text(".\u00a0∎")]
                  if claim["kind"] == "equal" else
                  [Text("On every region each signed difference, hence "), norm_math, Text(", is at most "),
                   F.rational(claimed), Text("; the regions cover the domain; and the value is attained at the stated "
                                             "point. Hence the maximum over "), dom, Text(" is exactly "),
                   F.rational(claimed), Text(".\u00a0∎")])
    blocks += [Heading(2, [Text(f"{section}. Conclusion")]), Para(conclusion)]
    return recheck_blocks(blocks, v, base, cert, appendix, latex)
