"""VNN-LIB 1.0 properties, read exactly.

Invariant: a :class:`Property` means "for every ``x`` in the union of ``input_sets``, ``f(x)``
is outside the union of the ``unsafe`` conjunctions"; it is *violated* iff some input of the set
reaches an unsafe disjunct.  Every constant is the exact rational the file writes (``0.1`` is
``1/10``), strict ``<``/``>`` are strict rows, and rows are :data:`exactrelu.lp.Row` over the
outputs ``y``: ``u . y + v > 0`` (strict) or ``>= 0`` (weak).

>>> from fractions import Fraction as F
>>> from exactrelu.domain import Domain
>>> p = Property(1, 2, (Domain.box(["0"], ["1"]),),
...              (((( F(1), F(-1)), F(0), True),),),   # unsafe: y_0 - y_1 > 0
...              "")
>>> p.input_satisfied(["1/2"]), p.input_satisfied(["2"])
(0, None)
>>> p.unsafe_disjunct([F(1), F(1)]), p.unsafe_disjunct(["3/2", "1"])
(None, 0)
>>> p.to_dict()["unsafe"]
[[{'u': ['1', '-1'], 'v': '0', 'strict': True}]]
>>> len(p.sha256())
64
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from .domain import Domain
from .errors import InputError
from .lp import Row, satisfies
from .network import canonical_dumps
from .rationals import format_rational, parse_rational

FORMAT = "exactrelu-vnnlib-property"


@dataclass(frozen=True)
class Property:
    """A VNN-LIB 1.0 property: the input set is the UNION of ``input_sets`` (each a Domain: box or
    polytope), the unsafe output set is the UNION over ``unsafe`` of the conjunctions of its rows
    (each row over the outputs y: ``u . y + v > 0`` / ``>= 0``).  The property is VIOLATED iff
    some x in the input set has y = f(x) in the unsafe set; it HOLDS otherwise."""

    input_dim: int
    output_dim: int
    input_sets: tuple[Domain, ...]
    unsafe: tuple[tuple[Row, ...], ...]
    path: str = ""

    def to_dict(self) -> dict:
        """The canonical JSON form (rationals as ``"p/q"`` strings); ``path`` is not part of it."""
        return {
            "format": FORMAT,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "input_sets": [d.to_dict() for d in self.input_sets],
            "unsafe": [[_row_dict(row) for row in conj] for conj in self.unsafe],
        }

    def sha256(self) -> str:
        """SHA-256 (hex) of the canonical JSON text of :meth:`to_dict`."""
        return hashlib.sha256(canonical_dumps(self.to_dict()).encode("utf-8")).hexdigest()

    def input_satisfied(self, x: Sequence[object]) -> Optional[int]:
        """The index of the first input set that contains ``x`` exactly, or ``None``."""
        point = _point(x, self.input_dim, "input point")
        for k, d in enumerate(self.input_sets):
            if all(satisfies(row, point) for row in d.rows()):
                return k
        return None

    def unsafe_disjunct(self, y: Sequence[object]) -> Optional[int]:
        """The index of the first unsafe disjunct ``y`` satisfies exactly, or ``None``."""
        point = _point(y, self.output_dim, "output point")
        for k, conj in enumerate(self.unsafe):
            if all(satisfies(row, point) for row in conj):
                return k
        return None


def _row_dict(row: Row) -> dict:
    u, v, strict = row
    return {"u": [format_rational(a) for a in u], "v": format_rational(v), "strict": bool(strict)}


def _point(values: Sequence[object], dim: int, what: str) -> tuple:
    point = tuple(parse_rational(v, f"{what} entry {i}") for i, v in enumerate(values))
    if len(point) != dim:
        raise InputError(f"{what} has {len(point)} entries, the property has {dim}")
    return point
