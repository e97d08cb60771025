"""Extended rationals ``Q ∪ {+inf, -inf}`` with the conventions of DESIGN.md section 3.

``inf * 0 = 0``, ``inf + a = inf`` for finite ``a``, ``relu(inf) = inf``, ``relu(-inf) = 0``;
``inf - inf`` raises :class:`~exactrelu.errors.ExtendedArithmeticError`.  Finite values are
plain :class:`fractions.Fraction`; the two infinities are the singletons :data:`INF` and
:data:`NEG_INF`.

>>> add(INF, Fraction(3)) is INF, mul(NEG_INF, Fraction(0)), relu(NEG_INF)
(True, Fraction(0, 1), Fraction(0, 1))
>>> add(INF, NEG_INF)
Traceback (most recent call last):
...
exactrelu.errors.ExtendedArithmeticError: inf - inf is undefined
"""

from __future__ import annotations

from fractions import Fraction
from typing import Union

from .errors import ExtendedArithmeticError, InputError
from .rationals import format_rational, parse_rational


class Infinity:
    """One of the two infinities; compare with ``is``."""

    __slots__ = ("sign",)

    def __init__(self, sign: int) -> None:
        self.sign = sign

    def __repr__(self) -> str:
        return "INF" if self.sign > 0 else "NEG_INF"

    def __neg__(self) -> "Infinity":
        return NEG_INF if self.sign > 0 else INF

    def __reduce__(self):
        return (_infinity, (self.sign,))


INF = Infinity(1)
NEG_INF = Infinity(-1)

Extended = Union[Fraction, Infinity]


def _infinity(sign: int) -> Infinity:
    return INF if sign > 0 else NEG_INF


def is_infinite(a: Extended) -> bool:
    return isinstance(a, Infinity)


def sign(a: Extended) -> int:
    if isinstance(a, Infinity):
        return a.sign
    return (a > 0) - (a < 0)


def add(a: Extended, b: Extended) -> Extended:
    """``a + b``; raises on ``inf - inf``."""
    if isinstance(a, Infinity):
        if isinstance(b, Infinity) and b is not a:
            raise ExtendedArithmeticError("inf - inf is undefined")
        return a
    if isinstance(b, Infinity):
        return b
    return a + b


def mul(a: Extended, b: Extended) -> Extended:
    """``a * b`` with ``inf * 0 = 0``."""
    if isinstance(a, Infinity) or isinstance(b, Infinity):
        s = sign(a) * sign(b)
        return Fraction(0) if s == 0 else _infinity(s)
    return a * b


def relu(a: Extended) -> Extended:
    if isinstance(a, Infinity):
        return a if a.sign > 0 else Fraction(0)
    return a if a > 0 else Fraction(0)


def parse_extended(value: object, where: str) -> Extended:
    """``"inf"``, ``"-inf"`` or an exact rational (see :func:`exactrelu.rationals.parse_rational`)."""
    if value == "inf" or value == "+inf":
        return INF
    if value == "-inf":
        return NEG_INF
    if isinstance(value, float):
        raise InputError(f"{where}: JSON float {value!r} where a rational string belongs")
    return parse_rational(value, where)


def format_extended(a: Extended) -> str:
    if isinstance(a, Infinity):
        return "inf" if a.sign > 0 else "-inf"
    return format_rational(a)
