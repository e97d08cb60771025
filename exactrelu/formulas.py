"""How a person reads the objects of a proof: affine formulas, conditions, patterns, region numbers.

Every function returns a :class:`~exactrelu.document.Math` span with a plain spelling (Markdown,
the form ``exactrelu`` prints elsewhere, e.g. ``3*x1/2 - x2 + 1/4``) and a LaTeX spelling
(``\\frac{3}{2} x_{1} - x_{2} + \\frac{1}{4}``).  Invariant: both spellings denote exactly the
rational affine function given (no coefficient is rounded or dropped, a zero function prints
``0``); relations are ``>``, ``\\le``, ``\\ge``.  The region numbering is the one of the
certificate and of ``exactrelu plot``: leaf ``k`` (0-based, in enumeration order) is Region ``k + 1``.

>>> from fractions import Fraction as F
>>> e = affine([F(3, 2), F(-1)], F(1, 4))
>>> e.plain, e.latex
('3*x1/2 - x2 + 1/4', '\\\\frac{3}{2} x_{1} - x_{2} + \\\\frac{1}{4}')
>>> condition([F(1), F(0)], F(0), active=False).latex
'x_{1} \\\\le 0'
>>> pattern_text([True, False, True], [2, 1]), region_name(0)
('10 | 1', 'Region 1')
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from .document import Math
from .rationals import format_rational


def region_name(k: int) -> str:
    """The name of leaf ``k`` (0-based) in the report and on the plot."""
    return f"Region {k + 1}"


def pattern_text(bits: Sequence[bool], widths: Sequence[int]) -> str:
    """Activation bits grouped by hidden layer (``1`` active), layers separated by ``|``; a partial
    pattern stops where it stops."""
    out, start = [], 0
    for w in widths:
        out.append("".join("1" if b else "0" for b in bits[start : start + w]))
        start += w
    while out and not out[-1]:
        out.pop()
    return " | ".join(out) if out else "(no neuron decided)"


def rational(v: Fraction) -> Math:
    v = Fraction(v)
    if v.denominator == 1:
        return Math(str(v.numerator), str(v.numerator))
    sign = "-" if v < 0 else ""
    return Math(format_rational(v), f"{sign}\\frac{{{abs(v.numerator)}}}{{{v.denominator}}}")


def variable(name: str, index: int) -> Math:
    """``x3`` / ``x_{3}``; ``v1_2`` / ``v^{(1)}_{2}`` for a name with a layer, ``a_4`` / ``a_{4}``."""
    if "_" in name:
        head, layer = name.split("_", 1)
        return Math(f"{head}{layer}_{index}", f"{head}^{{({layer})}}_{{{index}}}")
    return Math(f"{name}{index}", f"{name}_{{{index}}}")


def affine(w: Sequence[Fraction], b: Fraction, names: Sequence[Math] = ()) -> Math:
    """``sum w_i names_i + b``; ``names`` default to ``x1, x2, ...``."""
    names = list(names) or [variable("x", i + 1) for i in range(len(w))]
    plain: list[str] = []
    latex: list[str] = []
    for a, name in zip(w, names):
        a = Fraction(a)
        if a == 0:
            continue
        m = abs(a)
        p = name.plain if m == 1 else (f"{m.numerator}*{name.plain}" if m.numerator != 1 else name.plain) + (
            f"/{m.denominator}" if m.denominator != 1 else "")
        lt = name.latex if m == 1 else f"{rational(m).latex} {name.latex}"
        _term(plain, latex, a < 0, p, lt)
    b = Fraction(b)
    if b != 0 or not plain:
        _term(plain, latex, b < 0, format_rational(abs(b)), rational(abs(b)).latex)
    return Math(" ".join(plain), " ".join(latex))


def _term(plain: list[str], latex: list[str], negative: bool, p: str, lt: str) -> None:
    if not plain:
        plain.append(("-" if negative else "") + p)
        latex.append(("-" if negative else "") + lt)
    else:
        plain += ["-" if negative else "+", p]
        latex += ["-" if negative else "+", lt]


def relation(left: Math, rel: str, right: Math) -> Math:
    """``rel`` one of ``>``, ``>=``, ``<=``, ``=``."""
    tex = {">": ">", ">=": r"\ge", "<=": r"\le", "=": "=", "<": "<"}[rel]
    return Math(f"{left.plain} {rel} {right.plain}", f"{left.latex} {tex} {right.latex}")


ZERO_MATH = Math("0", "0")


def condition(w: Sequence[Fraction], b: Fraction, active: bool) -> Math:
    """A neuron's condition as its pre-activation ``z = w . x + b``: ``z > 0`` or ``z <= 0``."""
    return relation(affine(w, b), ">" if active else "<=", ZERO_MATH)


def row_text(row) -> Math:
    """A row ``(u, v, strict)`` as it is used in a Motzkin sum: ``u . x + v > 0`` or ``>= 0``."""
    return relation(affine(row[0], row[1]), ">" if row[2] else ">=", ZERO_MATH)


def point(values: Sequence[Fraction]) -> Math:
    parts = [rational(v) for v in values]
    return Math("(" + ", ".join(p.plain for p in parts) + ")", "(" + r",\allowbreak\ ".join(p.latex for p in parts) + ")")


def joined(parts: Sequence[Math], plain_sep: str, latex_sep: str) -> Math:
    return Math(plain_sep.join(p.plain for p in parts), latex_sep.join(p.latex for p in parts))


def numbers(ks: Sequence[int]) -> str:
    """Region numbers (1-based, given 0-based) with runs shortened: ``1, 3-5``."""
    ks = sorted(k + 1 for k in ks)
    runs: list[list[int]] = []
    for k in ks:
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    return ", ".join(str(a) if a == b else (f"{a}, {b}" if b == a + 1 else f"{a}–{b}") for a, b in runs)
