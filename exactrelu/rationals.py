"""Exact rational parsing and printing.

Invariant: every value returned by :func:`parse_rational` is a :class:`fractions.Fraction`
equal to the number the input denotes.  A binary float is converted exactly (it is a dyadic
rational); a decimal string is an exact decimal (``"0.1"`` is 1/10); nothing is rounded.

>>> parse_rational("1/3")
Fraction(1, 3)
>>> parse_rational("-0.25")
Fraction(-1, 4)
>>> parse_rational("1e-3")
Fraction(1, 1000)
>>> parse_rational(0.1) == Fraction(3602879701896397, 36028797018963968)
True
>>> format_rational(Fraction(-6, 4))
'-3/2'
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Iterable, Optional, Sequence

from .errors import InputError

__all__ = ["Fraction", "parse_rational", "format_rational", "parse_vector", "format_vector"]

# "p/q" (ASCII digits, optional sign, whitespace around "/") or a decimal with an optional exponent
_RATIONAL_RE = re.compile(r"^\s*[+-]?(?:[0-9]+\s*/\s*[0-9]+|([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?)\s*$")
MAX_EXPONENT = 100_000  # a decimal exponent beyond this is refused: 10**e alone would take long to build


def parse_rational(value: object, where: str = "value") -> Fraction:
    """Return the exact rational ``value`` denotes, or raise :class:`InputError` naming ``where``.

    Accepted: ``int``, ``Fraction``, finite ``float`` (converted exactly), numpy scalars of those
    kinds, and strings ``"p/q"``, ``"-3"``, ``"0.25"``, ``"1e-3"``.  Booleans, NaN and infinities
    are refused.
    """
    if isinstance(value, bool):
        raise InputError(f"{where}: expected a number, got a boolean")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{where}: {value!r} is not a finite number")
        return Fraction(value)
    if isinstance(value, str):
        match = _RATIONAL_RE.match(value)
        if not match:
            shown = repr(value) if len(value) <= 60 else repr(value[:57] + "...")
            raise InputError(f"{where}: {shown} is not a rational number (write p/q or a decimal)")
        exponent = match.group(2)
        if exponent is not None and (len(exponent.lstrip("+-").lstrip("0")) > 6 or abs(int(exponent)) > MAX_EXPONENT):
            raise InputError(f"{where}: the exponent of {value.strip()[:60]!r} exceeds {MAX_EXPONENT} in magnitude")
        try:
            result = Fraction(re.sub(r"\s+", "", value))
        except (ValueError, ZeroDivisionError) as exc:
            raise InputError(f"{where}: {value!r} is not a rational number ({exc})") from None
        return result
    # numpy scalars and other number-like objects
    kind = type(value).__name__
    if hasattr(value, "dtype"):
        item = value.item()  # type: ignore[attr-defined]
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            return parse_rational(item, where)
    raise InputError(f"{where}: expected a number, got {kind}")


def format_rational(value: Fraction) -> str:
    """The canonical text of a rational: ``"p/q"`` in lowest terms with ``q > 1``, else ``"p"``."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def decimal_text(value: Fraction) -> Optional[str]:
    """The exact decimal text of ``value`` with the fewest digits, or ``None`` when it has no finite
    decimal expansion (its lowest-terms denominator has a prime other than 2 and 5).

    >>> decimal_text(Fraction(-3, 8)), decimal_text(Fraction(5)), decimal_text(Fraction(7, 20)), decimal_text(Fraction(1, 3))
    ('-0.375', '5', '0.35', None)
    """
    rest, twos, fives = value.denominator, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return None
    places = max(twos, fives)
    digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


def parse_vector(text: str, where: str = "--x") -> tuple[Fraction, ...]:
    """Parse comma-separated rationals such as ``"1/2,-3,0.25"``."""
    parts = [p for p in text.split(",")]
    if not text.strip() or any(not p.strip() for p in parts):
        raise InputError(f"{where}: expected comma-separated numbers, got {text!r}")
    return tuple(parse_rational(p.strip(), f"{where} entry {i + 1}") for i, p in enumerate(parts))


def format_vector(values: Iterable[Fraction]) -> list[str]:
    """The canonical texts of a sequence of rationals."""
    return [format_rational(v) for v in values]


def parse_matrix(rows: object, where: str) -> tuple[tuple[Fraction, ...], ...]:
    """Parse a list of equally long lists of rationals (a JSON matrix)."""
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        raise InputError(f"{where}: expected a list of rows")
    result = []
    width = None
    for i, row in enumerate(rows):
        if not isinstance(row, Sequence) or isinstance(row, str):
            raise InputError(f"{where}[{i}]: expected a list of numbers")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise InputError(f"{where}[{i}]: has {len(row)} entries, row 0 has {width}")
        result.append(tuple(parse_rational(v, f"{where}[{i}][{j}]") for j, v in enumerate(row)))
    return tuple(result)


def parse_list(values: object, where: str) -> tuple[Fraction, ...]:
    """Parse a JSON list of rationals."""
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise InputError(f"{where}: expected a list of numbers")
    return tuple(parse_rational(v, f"{where}[{i}]") for i, v in enumerate(values))
