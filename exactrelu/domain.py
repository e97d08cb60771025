"""Input domains: all of ``R^n``, a box, or a polytope ``A x <= b``.

Invariant: a :class:`Domain` is described by weak rows ``u . x + v >= 0`` (see :mod:`exactrelu.lp`)
over exact rationals; :func:`check_nonempty` proves it has a point before any search starts.

>>> d = Domain.box(["-1", "0"], ["1", "1/2"])
>>> d.contains(["1", "1/2"]), d.contains(["0", "1"])
(True, False)
>>> parse_box("-1/2:3", 2).to_dict()
{'kind': 'box', 'dim': 2, 'lower': ['-1/2', '-1/2'], 'upper': ['3', '3']}
>>> print(bounds_warning(d, ["-1", "0"], ["1", "1"], "m.nnet"))
None
>>> print(bounds_warning(d, ["0", "0"], ["1", "1"], "m.nnet"))
the domain [-1, 1] x [0, 1/2] is not inside the input bounds [0, 1] x [0, 1] stated by m.nnet
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

from .errors import DomainError, InputError
from .lp import Row, decide, maximize, satisfies
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
        """A point of the domain, or :class:`DomainError` if it is empty (decided exactly): ``0`` in
        ``R^n``, a box's lower corner (its constructor refuses ``lower > upper``), a polytope's point
        from an exact LP."""
        if self.kind == "reals":
            return (Fraction(0),) * self.dim
        if self.kind == "box":
            return self.lower
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


def bounds_warning(domain: Domain, lower: Sequence[object], upper: Sequence[object], what: str) -> Optional[str]:
    """``None`` when ``domain`` lies inside the box ``[lower, upper]`` (decided exactly, by linear
    programs for a polytope), else a one-line warning naming both boxes and ``what`` states them."""
    box = Domain.box(lower, upper, f"{what} input bounds")
    box.check_dimension(domain.dim, "the domain")
    if not _inside(domain, box):
        return f"the domain {domain.describe()} is not inside the input bounds {box.describe()} stated by {what}"
    return None


def _inside(domain: Domain, box: Domain) -> bool:
    if domain.kind == "box":
        return all(a <= lo and hi <= c for a, lo, hi, c in zip(box.lower, domain.lower, domain.upper, box.upper))
    rows, n = domain.rows(), domain.dim
    for i in range(n):
        for sign, bound in ((1, box.upper[i]), (-1, -box.lower[i])):
            best = maximize(rows, tuple(Fraction(sign if j == i else 0) for j in range(n)), Fraction(0), n)
            if best.status == "unbounded" or (best.status == "optimal" and best.value > bound):
                return False
    return True


def load_domain(path: str | Path) -> Domain:
    """Read a domain from a JSON file or a VNN-LIB property file.

    The domain of a VNN-LIB file is its input set (read by :mod:`exactrelu.vnnlib`; the output
    constraints state the property, not the domain) and must be one box or polytope: a union of
    input sets is refused, pointing to ``exactrelu verify``."""
    from .io import read_text

    p = Path(path)
    text = read_text(p, "domain", DomainError)[0]
    if p.suffix.lower() == ".vnnlib":
        from .vnnlib import domain_of, parse_property

        try:
            return domain_of(parse_property(text, str(p)))
        except InputError as exc:
            raise DomainError(str(exc)) from None
    from .io.jsonfmt import parse_json_text

    data = parse_json_text(text, p, DomainError)
    try:
        return Domain.from_dict(data, str(p))
    except InputError as exc:
        raise DomainError(str(exc) if str(exc).startswith(str(p)) else f"{p}: {exc}") from None
