"""Input domains: all of ``R^n``, a box, or a polytope ``A x <= b``.

Invariant: a :class:`Domain` is described by weak rows ``u . x + v >= 0`` (see :mod:`exactrelu.lp`)
over exact rationals; :func:`check_nonempty` proves it has a point before any search starts.

>>> d = Domain.box(["-1", "0"], ["1", "1/2"])
>>> d.contains(["1", "1/2"]), d.contains(["0", "1"])
(True, False)
>>> parse_box("-1/2:3", 2).to_dict()
{'kind': 'box', 'dim': 2, 'lower': ['-1/2', '-1/2'], 'upper': ['3', '3']}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

from .errors import DomainError, InputError
from .lp import Row, decide, satisfies
from .rationals import format_rational, parse_rational

Vector = tuple[Fraction, ...]


@dataclass(frozen=True)
class Domain:
    """``R^n`` (``kind == "reals"``), a box ``lower <= x <= upper``, or a polytope ``A x <= b``."""

    kind: str
    dim: int
    lower: Optional[Vector] = None
    upper: Optional[Vector] = None
    A: Optional[tuple[Vector, ...]] = None
    b: Optional[Vector] = None

    # ------------------------------------------------------------- constructors
    @classmethod
    def reals(cls, dim: int) -> "Domain":
        return cls("reals", dim)

    @classmethod
    def box(cls, lower: Sequence[object], upper: Sequence[object], where: str = "box") -> "Domain":
        if len(lower) != len(upper):
            raise DomainError(f"{where}: {len(lower)} lower bounds but {len(upper)} upper bounds")
        lo = tuple(parse_rational(v, f"{where} lower bound {i + 1}") for i, v in enumerate(lower))
        hi = tuple(parse_rational(v, f"{where} upper bound {i + 1}") for i, v in enumerate(upper))
        for i, (a, c) in enumerate(zip(lo, hi)):
            if a > c:
                raise DomainError(f"{where}: input {i + 1} has LO > HI ({format_rational(a)} > {format_rational(c)}); the domain is empty")
        return cls("box", len(lo), lower=lo, upper=hi)

    @classmethod
    def polytope(cls, A: Sequence[Sequence[object]], b: Sequence[object], where: str = "polytope") -> "Domain":
        if len(A) != len(b) or not A:
            raise DomainError(f"{where}: A has {len(A)} rows and b has {len(b)} entries (need equal, nonzero)")
        width = len(A[0])
        rows = []
        for i, row in enumerate(A):
            if len(row) != width:
                raise DomainError(f"{where}: row {i} of A has {len(row)} entries, row 0 has {width}")
            rows.append(tuple(parse_rational(v, f"{where} A[{i}][{j}]") for j, v in enumerate(row)))
        bb = tuple(parse_rational(v, f"{where} b[{i}]") for i, v in enumerate(b))
        return cls("polytope", width, A=tuple(rows), b=bb)

    # ------------------------------------------------------------- semantics
    def rows(self) -> list[Row]:
        """The domain as weak rows ``u . x + v >= 0``, in a fixed documented order:
        for a box, ``x_i - lower_i >= 0`` then ``upper_i - x_i >= 0`` for each ``i``;
        for a polytope, ``b_i - A_i x >= 0``."""
        n = self.dim
        if self.kind == "box":
            result: list[Row] = []
            for i in range(n):
                e = tuple(Fraction(1 if j == i else 0) for j in range(n))
                result.append((e, -self.lower[i], False))
                result.append((tuple(-a for a in e), self.upper[i], False))
            return result
        if self.kind == "polytope":
            return [(tuple(-a for a in row), bi, False) for row, bi in zip(self.A, self.b)]
        return []

    def contains(self, x: Sequence[object]) -> bool:
        """Exact membership test."""
        point = tuple(parse_rational(v, "x") for v in x)
        return all(satisfies(row, point) for row in self.rows())

    def check_dimension(self, dim: int, what: str = "the network") -> None:
        if self.dim != dim:
            raise DomainError(f"domain has dimension {self.dim} but {what} has {dim} inputs")

    def check_nonempty(self) -> Vector:
        """A point of the domain, or :class:`DomainError` if it is empty (decided exactly)."""
        decision = decide(self.rows(), self.dim)
        if not decision.nonempty:
            raise DomainError("the domain is empty (its constraints have no common point)")
        return decision.point

    @property
    def bounded_box(self) -> Optional[tuple[Vector, Vector]]:
        return (self.lower, self.upper) if self.kind == "box" else None

    def describe(self) -> str:
        if self.kind == "reals":
            return f"R^{self.dim}"
        if self.kind == "box":
            return " x ".join(f"[{format_rational(a)}, {format_rational(c)}]" for a, c in zip(self.lower, self.upper))
        return f"polytope with {len(self.A)} constraints A x <= b in R^{self.dim}"

    def to_dict(self) -> dict:
        if self.kind == "box":
            return {"kind": "box", "dim": self.dim,
                    "lower": [format_rational(v) for v in self.lower],
                    "upper": [format_rational(v) for v in self.upper]}
        if self.kind == "polytope":
            return {"kind": "polytope", "dim": self.dim,
                    "A": [[format_rational(v) for v in row] for row in self.A],
                    "b": [format_rational(v) for v in self.b]}
        return {"kind": "reals", "dim": self.dim}

    @classmethod
    def from_dict(cls, data: object, where: str = "domain") -> "Domain":
        """Inverse of :meth:`to_dict`; also accepts the user forms ``{"box": [[lo, hi], ...]}`` and
        ``{"A": [[...]], "b": [...]}``."""
        if not isinstance(data, dict):
            raise DomainError(f"{where}: expected a JSON object")
        if "box" in data:
            pairs = data["box"]
            if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise DomainError(f"{where}: field 'box' must be a list of [LO, HI] pairs")
            return cls.box([p[0] for p in pairs], [p[1] for p in pairs], where)
        kind = data.get("kind")
        try:
            if kind == "reals":
                dim = data.get("dim")
                if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
                    raise DomainError(f"{where}: field 'dim' must be a nonnegative integer")
                return cls.reals(dim)
            if kind == "box":
                return cls.box(data["lower"], data["upper"], where)
            if kind == "polytope" or (kind is None and "A" in data):
                return cls.polytope(data["A"], data["b"], where)
        except (KeyError, TypeError) as exc:
            raise DomainError(f"{where}: missing or malformed field {exc}") from None
        raise DomainError(f"{where}: expected 'box', 'A'/'b', or 'kind' in reals/box/polytope")


_BOUND = r"\s*([^:,\s]+)\s*"


def parse_box(text: str, dim: int) -> Domain:
    """Parse ``--box=LO:HI,LO:HI,...`` (or one ``LO:HI`` for every input)."""
    parts = text.split(",")
    pairs = []
    for i, part in enumerate(parts):
        m = re.fullmatch(_BOUND + ":" + _BOUND, part)
        if not m:
            raise DomainError(f"--box: entry {i + 1} {part!r} is not LO:HI")
        pairs.append((m.group(1), m.group(2)))
    if len(pairs) == 1:
        pairs = pairs * dim
    if len(pairs) != dim:
        raise DomainError(f"--box: has {len(pairs)} intervals but the network has {dim} inputs")
    try:
        return Domain.box([p[0] for p in pairs], [p[1] for p in pairs], "--box")
    except InputError as exc:
        raise DomainError(str(exc)) from None


def load_domain(path: str | Path) -> Domain:
    """Read a domain from a JSON file or a VNN-LIB file (its input constraints only)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainError(f"{p}: cannot read domain: {exc}") from None
    if not text.strip():
        raise DomainError(f"{p}: empty domain file")
    if p.suffix.lower() == ".vnnlib":
        return _parse_vnnlib(text, str(p))
    from .io.jsonfmt import parse_json_text

    data = parse_json_text(text, p, DomainError)
    try:
        return Domain.from_dict(data, str(p))
    except InputError as exc:
        raise DomainError(str(exc) if str(exc).startswith(str(p)) else f"{p}: {exc}") from None


def _sexprs(text: str, where: str) -> list:
    """The top-level s-expressions of an SMT-LIB text, as nested lists of atoms."""
    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    stack: list[list] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise DomainError(f"{where}: unbalanced ')'")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    if len(stack) != 1:
        raise DomainError(f"{where}: unbalanced '(' (truncated file?)")
    return stack[0]


def _atoms(expr) -> list[str]:
    return [expr] if isinstance(expr, str) else [a for e in expr for a in _atoms(e)]


def _parse_vnnlib(text: str, where: str) -> Domain:
    """Input bounds of a VNN-LIB property: ``(assert (<= X_i c))`` and ``(assert (>= X_i c))``
    (either operand order).  Constraints on the outputs ``Y_j`` alone are ignored (they state the
    property, not the domain); any other constraint that mentions an input is refused."""
    text = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
    forms = _sexprs(text, where)
    n = 0
    lower: dict[int, Fraction] = {}
    upper: dict[int, Fraction] = {}
    for form in forms:
        if not isinstance(form, list) or not form:
            raise DomainError(f"{where}: unexpected {form!r} at top level")
        if form[0] == "declare-const":
            if len(form) == 3 and isinstance(form[1], str) and form[1].startswith("X_") and form[2] == "Real":
                n = max(n, int(form[1][2:]) + 1) if form[1][2:].isdigit() else n
            continue
        if form[0] != "assert":
            continue
        atoms = _atoms(form[1:])
        if not any(a.startswith("X_") for a in atoms) and any(a.startswith("Y_") for a in atoms):
            continue  # an output property
        expr = form[1] if len(form) == 2 else None
        simple = (isinstance(expr, list) and len(expr) == 3 and expr[0] in ("<=", ">=")
                  and all(isinstance(a, str) for a in expr[1:]) and sum(a.startswith("X_") for a in expr[1:]) == 1
                  and not any(a.startswith("Y_") for a in expr[1:]))
        if not simple:
            raise DomainError(f"{where}: unsupported input constraint {_show(form)} (only bounds (<= X_i c) and (>= X_i c) are read)")
        op, a, b = expr
        var, value, is_upper = (a, b, op == "<=") if a.startswith("X_") else (b, a, op == ">=")
        if not var[2:].isdigit():
            raise DomainError(f"{where}: bad variable name {var}")
        i = int(var[2:])
        c = parse_rational(value, f"{where}: bound of {var}")
        if is_upper:
            upper[i] = min(upper[i], c) if i in upper else c
        else:
            lower[i] = max(lower[i], c) if i in lower else c
    if n == 0:
        raise DomainError(f"{where}: no input variables X_i declared")
    undeclared = sorted(i for i in set(lower) | set(upper) if i >= n)
    if undeclared:
        raise DomainError(f"{where}: variable X_{undeclared[0]} was not declared")
    missing = [f"X_{i}" for i in range(n) if i not in lower or i not in upper]
    if missing:
        raise DomainError(f"{where}: inputs without both bounds: {', '.join(missing)}")
    return Domain.box([lower[i] for i in range(n)], [upper[i] for i in range(n)], where)


def _show(form) -> str:
    return form if isinstance(form, str) else "(" + " ".join(_show(f) for f in form) + ")"
