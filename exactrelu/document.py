"""A small document model with two renderings: Markdown and a LaTeX file that ``pdflatex`` compiles.

A proof report is built once as a list of blocks (:class:`Heading`, :class:`Para`, :class:`Items`,
:class:`Table`, :class:`Image`, :class:`Appendix`) whose text is a list of spans: plain
:class:`Text`, :class:`Strong` text, :class:`Code` (file names, commands, JSON) and :class:`Math`
(a formula in two spellings, plain for Markdown and LaTeX for ``pdflatex``).  The renderers, not
the report, own the escaping.

Invariant of :func:`to_latex`: every character of a :class:`Text`, :class:`Strong` or
:class:`Code` span is set literally (TeX's special characters ``# $ % & ~ _ ^ \\ { }`` and the
characters OT1 fonts misprint in text, ``< > | `` and the backtick, are escaped or put in math mode;
any other non-ASCII character is refused with :class:`ValueError` unless it has a spelling in
:data:`UNICODE`), mathematics is only ever in math mode, and no group is left open between
blocks, so a document of any length nests at most a few groups deep (long material is in
``longtable`` and plain paragraphs, never in one group).

>>> doc = [Heading(1, [Text("Claim")]), Para([Text("x_1 > 0 on R_1: "), Math("x1 > 0", "x_{1} > 0")])]
>>> print(to_markdown(doc))
# Claim
<BLANKLINE>
x_1 > 0 on R_1: `x1 > 0`
<BLANKLINE>
>>> print(to_latex(doc).split(r"\\begin{document}")[1].strip())
\\section*{Claim}
<BLANKLINE>
x\\_1 $>$ 0 on R\\_1: $x_{1} > 0$
<BLANKLINE>
\\end{document}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence, Union


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Math:
    plain: str
    latex: str


Span = Union[Text, Strong, Code, Math]


@dataclass(frozen=True)
class Heading:
    level: int  # 1: the title, 2: a section, 3: a subsection
    spans: Sequence[Span]


@dataclass(frozen=True)
class Para:
    spans: Sequence[Span]


@dataclass(frozen=True)
class Items:
    items: Sequence[Sequence[Span]]


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[Sequence[Span]]]
    widths: Sequence[float] = field(default=())  # LaTeX column widths, fractions of \linewidth


@dataclass(frozen=True)
class Image:
    path: str
    caption: str


@dataclass(frozen=True)
class Appendix:
    """Everything after it is an appendix (LaTeX ``\\appendix``; nothing in Markdown)."""


Block = Union[Heading, Para, Items, Table, Image, Appendix]

# Non-ASCII characters a report may contain in text, and how pdflatex sets them.
UNICODE = {"…": r"\ldots{}", "–": "--", "—": "---", "∎": r"$\blacksquare$", "×": r"$\times$", "≤": r"$\le$",
           "≥": r"$\ge$", "∞": r"$\infty$", "·": r"$\cdot$", "→": r"$\to$", "−": "$-$", "‖": r"$\|$", "±": r"$\pm$", "\u00a0": "~"}
_TEXT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&",
         "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": "$<$", ">": "$>$", "|": r"$|$",
         "`": r"\textasciigrave{}"}
_CODE = {**_TEXT, "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", "-": "-{}", "'": r"\textquotesingle{}",
         " ": r"\ "}

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[a4paper,margin=2.2cm]{geometry}
\usepackage{amsmath}
\usepackage{amssymb}
\usepackage{longtable}
\usepackage{array}
\usepackage{graphicx}
\usepackage{textcomp}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5ex plus 0.3ex}
\sloppy
\begin{document}
"""


def escape_latex(text: str, table: dict = _TEXT) -> str:
    """``text`` spelled so that LaTeX prints it literally (text mode)."""
    out = []
    for ch in text:
        if ch in table:
            out.append(table[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in UNICODE:
            out.append(UNICODE[ch])
        else:
            raise ValueError(f"no LaTeX spelling for the character {ch!r} in {text!r}")
    return "".join(out)


def _code_latex(text: str) -> str:
    # \texttt with breakable points after separators and every 16 characters of a long run (hashes)
    parts, run = [], 0
    for ch in text:
        run = 0 if ch in " /,:=" else run + 1
        parts.append(_CODE.get(ch, ch) + (r"\allowbreak{}" if ch in "/,:=" or run % 16 == 0 and run else ""))
    escaped = "".join(parts)
    return r"\texttt{" + escape_latex(escaped, {}) + "}"


def span_latex(span: Span) -> str:
    if isinstance(span, Math):
        return f"${span.latex}$"
    if isinstance(span, Code):
        return _code_latex(span.text)
    if isinstance(span, Strong):
        return r"\textbf{" + escape_latex(span.text) + "}"
    return escape_latex(span.text)


def span_markdown(span: Span) -> str:
    if isinstance(span, Math):
        return f"`{span.plain}`"
    if isinstance(span, Code):
        return f"`{span.text}`"
    if isinstance(span, Strong):
        return f"**{span.text}**"
    return span.text


def _spans(spans: Sequence[Span], render) -> str:
    merged: list[Span] = []
    for s in spans:  # adjacent formulas are one formula (one pair of backticks, one $...$)
        if isinstance(s, Math) and merged and isinstance(merged[-1], Math):
            merged[-1] = Math(merged[-1].plain + s.plain, merged[-1].latex + s.latex)
        elif not (isinstance(s, Text) and not s.text):
            merged.append(s)
    return "".join(render(s) for s in merged)


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + _spans(block.spans, span_markdown), ""]
        elif isinstance(block, Para):
            out += [_spans(block.spans, span_markdown), ""]
        elif isinstance(block, Items):
            out += ["- " + _spans(item, span_markdown) for item in block.items] + [""]
        elif isinstance(block, Table):
            out.append("| " + " | ".join(block.header) + " |")
            out.append("|" + " --- |" * len(block.header))
            out += ["| " + " | ".join(_spans(cell, span_markdown).replace("|", "\\|") for cell in row) + " |"
                    for row in block.rows]
            out.append("")
        elif isinstance(block, Image):
            out += [f"![{block.caption}]({block.path})", ""]
    return "\n".join(out)


_SECTION = {1: r"\section*", 2: r"\subsection*", 3: r"\subsubsection*"}


def to_latex(blocks: Sequence[Block]) -> str:
    out: list[str] = [PREAMBLE]
    for block in blocks:
        if isinstance(block, Heading):
            out += [_SECTION[block.level] + "{" + _spans(block.spans, span_latex) + "}", ""]
        elif isinstance(block, Para):
            out += [_spans(block.spans, span_latex), ""]
        elif isinstance(block, Items):
            out.append(r"\begin{itemize}\setlength{\itemsep}{0pt}\setlength{\parskip}{0pt}")
            out += [r"\item " + _spans(item, span_latex) for item in block.items]
            out += [r"\end{itemize}", ""]
        elif isinstance(block, Table):
            widths = block.widths or [0.9 / len(block.header)] * len(block.header)
            columns = "".join(r">{\raggedright\arraybackslash}p{%.3f\linewidth}" % w for w in widths)
            head = " & ".join(r"\textbf{" + escape_latex(h) + "}" for h in block.header) + r" \\ \hline"
            out += [r"\begin{longtable}{" + columns + "}", head, r"\endhead"]
            out += [" & ".join(_spans(cell, span_latex) for cell in row) + r" \\" for row in block.rows]
            out += [r"\end{longtable}", ""]
        elif isinstance(block, Image):
            stem, dot, ext = block.path.rpartition(".")
            name = "{" + stem + "}" + dot + ext if "." in stem else block.path  # graphicx: one dot only
            out += [r"\begin{center}", r"\includegraphics[width=0.8\linewidth]{" + name + "}", r"\end{center}", ""]
        elif isinstance(block, Appendix):
            out += [r"\appendix", ""]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
