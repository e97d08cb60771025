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

Reading a file: the input part becomes a union of boxes or polytopes, the output part a
disjunction of conjunctions (DNF); ``0.1`` is exactly ``1/10``.

>>> q = parse_property('''
... (declare-const X_0 Real) (declare-const Y_0 Real) (declare-const Y_1 Real)
... (assert (<= X_0 0.1)) (assert (>= X_0 -1e-3))
... (assert (or (< Y_0 Y_1) (and (>= Y_0 3) (<= Y_1 0))))''', "example")
>>> q.input_sets[0].describe(), len(q.unsafe)
('[-1/1000, 1/10]', 2)
>>> q.unsafe_disjunct(["0", "1"]), q.unsafe_disjunct(["1", "1"]), q.unsafe_disjunct(["3", "0"])
(0, None, 1)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Optional, Sequence, Union

from .domain import Domain
from .errors import InputError, PropertyError
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


# ----------------------------------------------------------------------------- reading

MAX_DISJUNCTS = 100_000
"""The largest DNF (number of conjunctions) an input or output part may expand to."""

MAX_NESTING = 200
"""The deepest parenthesis nesting read (VNN-COMP files nest 4 or 5 deep); deeper is refused as it
is read, since the formula's evaluation recurses once per level (``checker.py`` has the same
bound, so the two accept the same files)."""

_IGNORED = {"set-logic", "set-info", "set-option", "check-sat", "get-model", "exit"}
_VARIABLE = re.compile(r"([XY])_(0|[1-9][0-9]*)")
_RELATIONS = {"<=", ">=", "<", ">", "="}

Expr = Union[str, "_SList"]


class _SList(list):
    """A parenthesised s-expression, remembering the line it starts on."""

    line = 0


# A linear term: coefficients by variable (("X", i) or ("Y", j)) and a constant.
Linear = tuple[dict[tuple[str, int], Fraction], Fraction]
# An atom of the DNF: which side it constrains ("X" or "Y") and its row over that side.
Atom = tuple[str, Row]
Term = tuple[Atom, ...]


def load_property(path: Union[str, Path]) -> Property:
    """Read a VNN-LIB 1.0 property file (see :func:`parse_property`)."""
    from .io import read_text

    return parse_property(read_text(path, "property", PropertyError)[0], str(path))


def parse_property(text: str, where: str) -> Property:
    """The property a VNN-LIB 1.0 text states; ``where`` names it in messages.

    Declarations ``(declare-const X_i Real)`` / ``(declare-const Y_j Real)`` (indices 0, 1, ...
    without gaps); assertions built from ``and``, ``or`` and the relations ``<=``, ``>=``, ``<``,
    ``>``, ``=`` (chains allowed) between linear terms (``+``, ``-``, ``*`` by a constant, ``/`` by
    a constant; constants are exact decimals, integers or ``p/q``).  Several assertions are a
    conjunction.  Every atom constrains the inputs only or the outputs only; each assertion must
    be a product (union of input sets) x (output DNF), which the standard forms are.  Strict
    relations over the outputs are strict rows; a strict relation over the inputs is refused (an
    input set is closed).  Raises :class:`~exactrelu.errors.PropertyError` naming the file, the
    line and the variables ``X_i`` / ``Y_j`` as the file writes them.
    """
    stripped = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
    forms = _sexprs(stripped, where)
    declared = {"X": set(), "Y": set()}
    asserts: list[_SList] = []
    for form in forms:
        if not isinstance(form, _SList) or not form or not isinstance(form[0], str):
            raise PropertyError(f"{where}: unexpected {_show(form)} at top level")
        at = f"{where}, line {form.line}"
        head = form[0]
        if head == "declare-const":
            if len(form) != 3 or not isinstance(form[1], str) or form[2] != "Real":
                raise PropertyError(f"{at}: expected (declare-const NAME Real), got {_show(form)}")
            m = _VARIABLE.fullmatch(form[1])
            if not m:
                raise PropertyError(f"{at}: variable {form[1]!r} is not named X_i (an input) or Y_j (an output)")
            side, index = m.group(1), int(m.group(2))
            if index in declared[side]:
                raise PropertyError(f"{at}: {form[1]} is declared twice")
            declared[side].add(index)
        elif head == "assert":
            if len(form) != 2:
                raise PropertyError(f"{at}: (assert ...) takes one formula, got {_show(form)}")
            asserts.append(form)
        elif head not in _IGNORED:
            raise PropertyError(f"{at}: unsupported command {head!r} (VNN-LIB 1.0 uses declare-const and assert)")
    dims = {}
    for side in ("X", "Y"):
        indices = declared[side]
        dims[side] = len(indices)
        gap = next((i for i in range(len(indices)) if i not in indices), None)
        if gap is not None:
            raise PropertyError(f"{where}: {side}_{max(indices)} is declared but {side}_{gap} is not (indices must be 0, 1, ...)")
    if dims["X"] == 0:
        raise PropertyError(f"{where}: no input variables X_i declared")
    reader = _Reader(where, declared, dims)
    inputs: list[tuple[Row, ...]] = [()]
    outputs: list[tuple[Row, ...]] = [()]
    for form in asserts:
        for conjunct in _conjuncts(form[1]):
            ins, outs = reader.factor(conjunct, form.line)
            inputs = _and(inputs, ins, f"{where}: the input constraints")
            outputs = _and(outputs, outs, f"{where}: the output constraints")
    sets = tuple(_input_set(rows, dims["X"], where if len(inputs) == 1 else f"{where}: input set {k}")
                 for k, rows in enumerate(inputs))
    return Property(dims["X"], dims["Y"], sets, tuple(outputs), where)


def domain_of(prop: Property) -> Domain:
    """The input set of ``prop`` as one domain, or :class:`PropertyError` if it is a union."""
    if len(prop.input_sets) != 1:
        raise PropertyError(f"{prop.path}: the input set is a union of {len(prop.input_sets)} sets, not one box or "
                            f"polytope, so it is not a domain; answer the property with `exactrelu verify MODEL {prop.path}`")
    return prop.input_sets[0]


class _Reader:
    """Turns formulas into DNFs of atoms, with messages naming the file and line."""

    def __init__(self, where: str, declared: dict[str, set[int]], dims: dict[str, int]) -> None:
        self.where, self.declared, self.dims = where, declared, dims

    def factor(self, expr: Expr, line: int) -> tuple[list[tuple[Row, ...]], list[tuple[Row, ...]]]:
        """A conjunct as (input DNF, output DNF) whose product it equals, or an error."""
        terms = self.dnf(expr, line)
        if not terms:
            raise PropertyError(f"{self.where}, line {line}: {_show(expr, 60)} is constantly false, so no input "
                                f"satisfies the property's constraints (an empty input set)")
        split = [(tuple(r for s, r in t if s == "X"), tuple(r for s, r in t if s == "Y")) for t in terms]
        ins = list(dict.fromkeys(frozenset(i) for i, _ in split))
        outs = list(dict.fromkeys(frozenset(o) for _, o in split))
        if set((frozenset(i), frozenset(o)) for i, o in split) != set(product(ins, outs)):
            raise PropertyError(
                f"{self.where}, line {line}: {_show(expr, 60)} mixes input and output constraints in an 'or' "
                f"whose disjuncts are not all combinations of its input parts with its output parts; "
                f"only (union of input sets) x (unsafe output set) can be answered")
        first_in: dict[frozenset, tuple[Row, ...]] = {}
        first_out: dict[frozenset, tuple[Row, ...]] = {}
        for i, o in split:
            first_in.setdefault(frozenset(i), i)
            first_out.setdefault(frozenset(o), o)
        return list(first_in.values()), list(first_out.values())

    def dnf(self, expr: Expr, line: int) -> list[Term]:
        at = f"{self.where}, line {getattr(expr, 'line', line)}"
        if isinstance(expr, str):
            if expr == "true":
                return [()]
            if expr == "false":
                return []
            raise PropertyError(f"{at}: {expr!r} is not a formula")
        if not expr or not isinstance(expr[0], str):
            raise PropertyError(f"{at}: {_show(expr, 60)} is not a formula")
        head, args = expr[0], expr[1:]
        if head == "and":
            result: list[Term] = [()]
            for arg in args:
                result = _and(result, self.dnf(arg, line), f"{at}: this 'and'")
            return result
        if head == "or":
            if not args:
                return []
            result = [t for arg in args for t in self.dnf(arg, line)]
            if len(result) > MAX_DISJUNCTS:
                raise PropertyError(f"{at}: this 'or' expands to more than {MAX_DISJUNCTS} disjuncts")
            return list(dict.fromkeys(result))
        if head in _RELATIONS:
            if len(args) < 2:
                raise PropertyError(f"{at}: {head!r} needs at least two operands in {_show(expr, 60)}")
            terms = [self.linear(a, at) for a in args]
            atoms: list[Atom] = []
            for left, right in zip(terms, terms[1:]):
                for lhs, rhs, rel in _oriented(left, right, head):
                    atom = self.atom(lhs, rhs, rel, expr, at)
                    if atom is False:
                        return []
                    if atom is not True:
                        atoms.append(atom)
            return [tuple(dict.fromkeys(atoms))]
        raise PropertyError(f"{at}: unsupported operator {head!r} in {_show(expr, 60)} "
                            f"(a VNN-LIB 1.0 formula uses and, or, <=, >=, <, >)")

    def atom(self, big: Linear, small: Linear, strict: bool, expr: Expr, at: str) -> Union[Atom, bool]:
        """``big > small`` (strict) or ``big >= small``, as a row over one side, or a constant truth value."""
        coefficients = dict(big[0])
        for key, c in small[0].items():
            coefficients[key] = coefficients.get(key, Fraction(0)) - c
        coefficients = {k: c for k, c in coefficients.items() if c}
        v = big[1] - small[1]
        sides = {side for side, _ in coefficients}
        if not sides:
            return v > 0 if strict else v >= 0
        if len(sides) == 2:
            raise PropertyError(f"{at}: {_show(expr, 60)} mixes inputs X_i and outputs Y_j in one constraint")
        side = sides.pop()
        if side == "X" and strict:
            raise PropertyError(f"{at}: {_show(expr, 60)} is a strict constraint on the inputs; an input set is "
                                f"closed (write <= or >=)")
        u = [Fraction(0)] * self.dims[side]
        for (_, i), c in coefficients.items():
            u[i] = c
        return side, (tuple(u), v, strict)

    def linear(self, expr: Expr, at: str) -> Linear:
        if isinstance(expr, str):
            m = _VARIABLE.fullmatch(expr)
            if m:
                side, i = m.group(1), int(m.group(2))
                if i not in self.declared[side]:
                    raise PropertyError(f"{at}: {expr} is not declared")
                return {(side, i): Fraction(1)}, Fraction(0)
            return {}, _constant(expr, at)
        if not expr or not isinstance(expr[0], str):
            raise PropertyError(f"{at}: {_show(expr, 60)} is not a term")
        head, args = expr[0], [self.linear(a, at) for a in expr[1:]]
        if head == "+" and args:
            return _sum(args)
        if head == "-" and len(args) == 1:
            return _scale(args[0], Fraction(-1))
        if head == "-" and args:
            return _sum([args[0]] + [_scale(a, Fraction(-1)) for a in args[1:]])
        if head == "*" and args:
            variable = [a for a in args if a[0]]
            if len(variable) > 1:
                raise PropertyError(f"{at}: {_show(expr, 60)} multiplies two variables (not linear)")
            result: Linear = ({}, Fraction(1))
            for a in args:
                result = _scale(a, result[1]) if a[0] else _scale(result, a[1])
            return result
        if head == "/" and len(args) == 2:
            if args[1][0]:
                raise PropertyError(f"{at}: {_show(expr, 60)} divides by a variable (not linear)")
            if args[1][1] == 0:
                raise PropertyError(f"{at}: {_show(expr, 60)} divides by zero")
            return _scale(args[0], 1 / args[1][1])
        raise PropertyError(f"{at}: unsupported term {_show(expr, 60)} (a linear term uses +, -, * and / by constants)")


def _oriented(left: Linear, right: Linear, relation: str) -> list[tuple[Linear, Linear, bool]]:
    """The relation ``left REL right`` as ``big >= small`` / ``big > small`` pairs."""
    if relation == "<=":
        return [(right, left, False)]
    if relation == "<":
        return [(right, left, True)]
    if relation == ">=":
        return [(left, right, False)]
    if relation == ">":
        return [(left, right, True)]
    return [(left, right, False), (right, left, False)]  # "="


def _sum(terms: list[Linear]) -> Linear:
    coefficients: dict[tuple[str, int], Fraction] = {}
    constant = Fraction(0)
    for c, k in terms:
        for key, a in c.items():
            coefficients[key] = coefficients.get(key, Fraction(0)) + a
        constant += k
    return coefficients, constant


def _scale(term: Linear, factor: Fraction) -> Linear:
    return {key: a * factor for key, a in term[0].items()}, term[1] * factor


def _constant(text: str, at: str) -> Fraction:
    try:
        return parse_rational(text, at)
    except InputError:
        raise PropertyError(f"{at}: {text!r} is neither a declared variable nor a number") from None


def _and(left: list, right: list, what: str) -> list:
    """The DNF of the conjunction of two DNFs (terms concatenated; equal terms, as sets, once)."""
    if len(left) * len(right) > MAX_DISJUNCTS:
        raise PropertyError(f"{what} expand to more than {MAX_DISJUNCTS} disjuncts")
    result: dict[frozenset, tuple] = {}
    for a in left:
        for b in right:
            term = tuple(dict.fromkeys(a + b))
            result.setdefault(frozenset(term), term)
    return list(result.values())


def _conjuncts(expr: Expr) -> list[Expr]:
    """The top-level conjuncts of a formula (nested ``and`` flattened)."""
    if isinstance(expr, _SList) and expr and expr[0] == "and":
        return [c for arg in expr[1:] for c in _conjuncts(arg)]
    return [expr]


def _input_set(rows: tuple[Row, ...], n: int, where: str) -> Domain:
    """A conjunction of weak input rows as a box (when it bounds every input on both sides by
    single-variable rows only) or else a polytope ``A x <= b`` (``R^n`` when there are no rows)."""
    if not rows:
        return Domain.reals(n)
    lower: dict[int, Fraction] = {}
    upper: dict[int, Fraction] = {}
    bounds_only = True
    for u, v, _ in rows:
        support = [i for i, a in enumerate(u) if a]
        if len(support) != 1:
            bounds_only = False
            continue
        i = support[0]
        bound = -v / u[i]
        if u[i] > 0:
            lower[i] = max(lower.get(i, bound), bound)
        else:
            upper[i] = min(upper.get(i, bound), bound)
    for i in sorted(set(lower) & set(upper)):
        if lower[i] > upper[i]:
            raise PropertyError(f"{where}: X_{i} has lower bound {format_rational(lower[i])} above its upper bound "
                                f"{format_rational(upper[i])}; the input set is empty")
    if bounds_only and len(lower) == len(upper) == n:
        return Domain.box([lower[i] for i in range(n)], [upper[i] for i in range(n)], where)
    return Domain.polytope([[-a for a in u] for u, _, _ in rows], [v for _, v, _ in rows], where)


def _sexprs(text: str, where: str) -> list[Expr]:
    """The top-level s-expressions of an SMT-LIB text, as nested lists of atoms."""
    stack: list[_SList] = [_SList()]
    for number, content in enumerate(text.split("\n"), start=1):
        for token in re.findall(r"\(|\)|[^\s()]+", content):
            if token == "(":
                if len(stack) > MAX_NESTING:
                    raise PropertyError(f"{where}, line {number}: parentheses nested more than {MAX_NESTING} deep")
                node = _SList()
                node.line = number
                stack.append(node)
            elif token == ")":
                if len(stack) == 1:
                    raise PropertyError(f"{where}, line {number}: unbalanced ')'")
                done = stack.pop()
                stack[-1].append(done)
            else:
                stack[-1].append(token)
    if len(stack) != 1:
        raise PropertyError(f"{where}: unbalanced '(' opened on line {stack[-1].line} (truncated file?)")
    return list(stack[0])


def _show(expr: Expr, limit: int = 0) -> str:
    text = expr if isinstance(expr, str) else "(" + " ".join(_show(e) for e in expr) + ")"
    return text if not limit or len(text) <= limit else text[: limit - 3] + "..."
