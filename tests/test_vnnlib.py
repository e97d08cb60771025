"""VNN-LIB 1.0 properties: every construct, every error, the ten ACAS Xu forms (small copies)."""

from __future__ import annotations

from fractions import Fraction as F
from pathlib import Path

import pytest

from exactrelu.domain import Domain, load_domain
from exactrelu.errors import DomainError, PropertyError
from exactrelu.vnnlib import Property, load_property, parse_property


def decls(n: int, m: int) -> str:
    return "".join(f"(declare-const X_{i} Real)\n" for i in range(n)) + \
        "".join(f"(declare-const Y_{j} Real)\n" for j in range(m))


def box(bounds: list[tuple[str, str]]) -> str:
    return "".join(f"(assert (<= X_{i} {hi}))\n(assert (>= X_{i} {lo}))\n" for i, (lo, hi) in enumerate(bounds))


def prop(body: str, n: int = 2, m: int = 3) -> Property:
    return parse_property(decls(n, m) + body, "t.vnnlib")


def row(u, v, strict=False):
    return (tuple(F(a) for a in u), F(v), strict)


# ------------------------------------------------------------------ exact constants

def test_constants_are_exact_decimals() -> None:
    p = prop(box([("0.1", "0.700434925"), ("-1e-3", "3")]) + "(assert (>= Y_0 3.991125645861615))")
    d = p.input_sets[0]
    assert d.kind == "box"
    assert d.lower == (F(1, 10), F(-1, 1000)) and d.upper == (F(700434925, 10**9), F(3))
    assert p.unsafe == ((row([1, 0, 0], F(-3991125645861615, 10**15)),),)
    # not the binary float nearest to 0.1
    assert d.lower[0] != F(0.1)


def test_linear_terms_every_operator() -> None:
    # 2*X_0 - (X_1 / 4) + (- 1/2) + (* 3 0.5 X_1) - X_0 <= 1  =>  X_0 + (5/4) X_1 <= 3/2
    p = prop("(assert (<= (+ (* 2 X_0) (- (/ X_1 4)) (- 1/2) (* 3 0.5 X_1) (- X_0)) 1))"
             "(assert (>= (- Y_0 Y_1 (* -1 Y_2) 2) 0))")
    d = p.input_sets[0]
    assert d.kind == "polytope" and d.A == ((F(1), F(5, 4)),) and d.b == (F(3, 2),)
    assert p.unsafe == ((row([1, -1, 1], -2),),)
    assert p.input_satisfied(["3/2", "0"]) == 0 and p.input_satisfied(["3/2", "1/1000"]) is None


def test_relations_strict_and_chains() -> None:
    p = prop(box([("0", "1"), ("0", "1")]) +
             "(assert (or (< Y_0 Y_1) (> Y_2 0) (and (<= 0 Y_0 1) (= Y_1 Y_2))))")
    assert p.unsafe == (
        (row([-1, 1, 0], 0, True),),
        (row([0, 0, 1], 0, True),),
        (row([1, 0, 0], 0), row([-1, 0, 0], 1), row([0, 1, -1], 0), row([0, -1, 1], 0)),
    )
    # strict on the boundary: y_0 = y_1 is not unsafe by the first disjunct
    assert p.unsafe_disjunct(["1", "1", "0"]) is None
    assert p.unsafe_disjunct(["1", "2", "0"]) == 0
    assert p.unsafe_disjunct(["1", "1", "1/7"]) == 1
    assert p.unsafe_disjunct(["1", "-3", "-3"]) == 2
    assert p.unsafe_disjunct(["2", "-3", "-3"]) is None


def test_nested_and_or_normalise_to_dnf() -> None:
    # (a or b) and (c or (d and e))  ->  ac, ad e, bc, bd e
    p = prop(box([("0", "1"), ("0", "1")]) +
             "(assert (and (or (>= Y_0 1) (>= Y_1 1)) (or (>= Y_2 1) (and (<= Y_0 0) (<= Y_1 0)))))")
    a, b, c = row([1, 0, 0], -1), row([0, 1, 0], -1), row([0, 0, 1], -1)
    d, e = row([-1, 0, 0], 0), row([0, -1, 0], 0)
    assert p.unsafe == ((a, c), (a, d, e), (b, c), (b, d, e))


def test_several_asserts_are_a_conjunction_and_duplicates_collapse() -> None:
    p = prop(box([("0", "1"), ("0", "1")]) + "(assert (<= X_0 1/2))(assert (<= Y_0 Y_1))(assert (<= Y_0 Y_1))")
    assert p.input_sets[0].upper == (F(1, 2), F(1))       # the tighter bound wins
    assert p.unsafe == ((row([-1, 1, 0], 0),),)


def test_polytope_input_and_reals() -> None:
    p = prop("(assert (<= (+ X_0 X_1) 1))(assert (>= X_0 0))(assert (>= X_1 0))(assert (<= Y_0 0))")
    d = p.input_sets[0]
    assert d.kind == "polytope" and len(d.A) == 3
    assert p.input_satisfied(["1/2", "1/2"]) == 0 and p.input_satisfied(["1/2", "2/3"]) is None
    q = prop("(assert (<= Y_0 0))")
    assert q.input_sets == (Domain.reals(2),)


def test_constant_atoms_and_comments() -> None:
    p = prop("; a comment (with parentheses\n" + box([("0", "1"), ("0", "1")]) +
             "(assert (<= 0 1)) ; true\n(assert (or (< 1 0) (<= Y_0 0)))\n(assert true)\n(check-sat)")
    assert p.unsafe == ((row([-1, 0, 0], 0),),)


def test_no_output_constraints_means_every_output_is_unsafe() -> None:
    p = parse_property(decls(1, 0) + box([("0", "1")]), "t")
    assert p.output_dim == 0 and p.unsafe == ((),) and p.unsafe_disjunct([]) == 0


def test_canonical_form_is_stable_and_path_free() -> None:
    body = box([("0", "1"), ("-1", "0.5")]) + "(assert (or (<= Y_0 Y_1) (< Y_2 -0.25)))"
    p = prop(body)
    q = parse_property(decls(2, 3) + "; other file\n" + body, "elsewhere.vnnlib")
    assert p.to_dict() == q.to_dict() and p.sha256() == q.sha256()
    assert p.to_dict()["unsafe"][1] == [{"u": ["0", "0", "-1"], "v": "-1/4", "strict": True}]
    assert prop(body.replace("-0.25", "-0.26")).sha256() != p.sha256()


def test_membership_checks_dimension() -> None:
    p = prop(box([("0", "1"), ("0", "1")]) + "(assert (<= Y_0 0))")
    with pytest.raises(Exception, match=r"input point has 3 entries, the property has 2"):
        p.input_satisfied([0, 0, 0])


# ------------------------------------------------------------------ the ten ACAS Xu forms, small

B = [("-0.5", "0.5"), ("0.45", "0.5")]


def acas(k: int) -> str:
    ys = lambda a, b: f"(<= Y_{a} Y_{b})"
    if k == 1:
        return box(B) + "(assert (>= Y_0 3.991125645861615))"
    if k == 2:
        return box(B) + "".join(f"(assert {ys(j, 0)})" for j in (1, 2))
    if k in (3, 4):
        bounds = B if k == 3 else [("0.0", "0.0"), ("0.3", "0.5")]
        return box(bounds) + "".join(f"(assert {ys(0, j)})" for j in (1, 2))
    if k in (5, 9, 10):
        t = {5: 2, 9: 1, 10: 0}[k]
        return box(B) + "(assert (or\n" + "".join(f"    (and {ys(j, t)})\n" for j in range(3) if j != t) + "))"
    if k == 6:
        b1 = "(<= X_0 0.700434925) (>= X_0 -0.129289109) (<= X_1 0.499999896) (>= X_1 0.11140846)"
        b2 = "(<= X_0 0.700434925) (>= X_0 -0.129289109) (<= X_1 -0.11140846) (>= X_1 -0.499999896)"
        return (f"(assert (or\n    (and {b1})\n    (and {b2})\n))\n"
                "(assert (or\n    (and (<= Y_1 Y_0))\n    (and (<= Y_2 Y_0))\n))")
    if k == 7:
        return box(B) + "(assert (or\n    (and (<= Y_2 Y_0) (<= Y_2 Y_1))\n    (and (<= Y_1 Y_0) (<= Y_1 Y_2))\n))"
    assert k == 8
    return box(B) + "(assert (or\n    (and (<= Y_2 Y_0) (<= Y_2 Y_1))\n    (and (<= Y_0 Y_1))\n))"


@pytest.mark.parametrize("k", range(1, 11))
def test_acasxu_forms(k: int, tmp_path: Path) -> None:
    path = tmp_path / f"prop_{k}.vnnlib"
    path.write_text(decls(2, 3) + acas(k))
    p = load_property(path)
    assert p.input_dim == 2 and p.output_dim == 3 and p.path == str(path)
    shapes = {1: [1], 2: [2], 3: [2], 4: [2], 5: [1, 1], 6: [1, 1], 7: [2, 2], 8: [2, 1], 9: [1, 1], 10: [1, 1]}
    assert [len(c) for c in p.unsafe] == shapes[k]
    assert all(d.kind == "box" for d in p.input_sets)
    assert len(p.input_sets) == (2 if k == 6 else 1)
    if k == 6:
        assert p.input_sets[1].lower == (F(-129289109, 10**9), F(-499999896, 10**9))
        assert p.input_satisfied(["0", "0.2"]) == 0 and p.input_satisfied(["0", "-0.2"]) == 1
        assert p.input_satisfied(["0", "0"]) is None
        with pytest.raises(DomainError, match=r"union of 2 sets.*exactrelu verify"):
            load_domain(path)
    else:
        assert load_domain(path) == p.input_sets[0]
    if k == 4:
        assert p.input_sets[0].lower[0] == p.input_sets[0].upper[0] == 0
    # semantics at exact points: outputs (y0, y1, y2)
    expect = {1: [((4, 0, 0), 0), ((F(3991125645861615, 10**15), 9, 9), 0), ((3, 0, 0), None)],
              2: [((1, 1, 1), 0), ((1, 2, 0), None)],
              5: [((0, 1, 0), 0), ((1, 0, 0), 1), ((1, 1, 0), None)],
              7: [((1, 1, 0), 0), ((1, 0, 2), 1), ((0, 1, 2), None)],
              8: [((0, 1, 1), 1), ((1, 0, 1), None)]}
    for y, index in expect.get(k, []):
        assert p.unsafe_disjunct(y) == index


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("body, message", [
    ("(assert (<= X_0 Y_0))", r"t\.vnnlib, line 6: \(<= X_0 Y_0\) mixes inputs X_i and outputs Y_j in one constraint"),
    ("(assert (or (<= X_0 0) (<= Y_0 0)))", r"line 6: .* mixes input and output constraints in an 'or'"),
    ("(assert (or (and (<= X_0 0) (<= Y_0 0)) (and (>= X_0 1) (>= Y_0 1))))", r"only \(union of input sets\) x \(unsafe"),
    ("(assert (< X_1 1))", r"\(< X_1 1\) is a strict constraint on the inputs"),
    ("(assert (<= X_2 1))", r"X_2 is not declared"),
    ("(assert (<= X_0 foo))", r"'foo' is neither a declared variable nor a number"),
    ("(assert (<= (* X_0 X_1) 1))", r"multiplies two variables"),
    ("(assert (<= (/ 1 X_1) 1))", r"divides by a variable"),
    ("(assert (<= (/ X_1 0) 1))", r"divides by zero"),
    ("(assert (<= (exp X_1) 1))", r"unsupported term \(exp X_1\)"),
    ("(assert (not (<= X_0 1)))", r"unsupported operator 'not'"),
    ("(assert (<= X_0))", r"'<=' needs at least two operands"),
    ("(assert X_0)", r"'X_0' is not a formula"),
    ("(assert (<= X_0 1) (<= X_0 2))", r"takes one formula"),
    ("(define-fun f () Real 1)", r"line 6: unsupported command 'define-fun'"),
    ("(declare-const Z Real)", r"'Z' is not named X_i"),
    ("(declare-const X_0 Real)", r"X_0 is declared twice"),
    ("(declare-const X_1 Int)", r"expected \(declare-const NAME Real\)"),
    ("(declare-const X_3 Real)", r"X_3 is declared but X_2 is not"),
    ("(assert (<= X_0 1)", r"unbalanced '\(' opened on line 6"),
    ("(assert (<= X_0 1)))", r"line 6: unbalanced '\)'"),
    ("x", r"unexpected x at top level"),
    ("(assert (or))", r"\(or\) is constantly false"),
    ("(assert (<= X_0 0))(assert (>= X_0 1))", r"X_0 has lower bound 1 above its upper bound 0"),
    ("(assert (< 1 0))", r"\(< 1 0\) is constantly false"),
])
def test_errors_name_file_line_and_variables(body: str, message: str) -> None:
    with pytest.raises(PropertyError, match=message):
        parse_property(decls(2, 3) + body, "t.vnnlib")


def test_constant_false_and_union_errors() -> None:
    with pytest.raises(PropertyError, match=r"line 10: \(or \(< 1 0\) false\) is constantly false"):
        prop(box([("0", "1"), ("0", "1")]) + "(assert (or (< 1 0) false))")
    with pytest.raises(PropertyError, match=r"input set 1: X_0 has lower bound"):
        prop("(assert (or (and (<= 0 X_0 1) (<= 0 X_1 1)) (and (<= 2 X_0 1) (<= 0 X_1 1))))(assert (<= Y_0 0))")
    with pytest.raises(PropertyError, match=r"no input variables X_i declared"):
        parse_property(decls(0, 1), "t")


def test_dnf_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import exactrelu.vnnlib as v

    monkeypatch.setattr(v, "MAX_DISJUNCTS", 8)
    # (a or b) and (a or b) and (a or b): a, a b, b (equal conjunctions collapse)
    assert len(prop("(assert (or (<= Y_0 0) (<= Y_1 0)))" * 3).unsafe) == 3
    with pytest.raises(PropertyError, match=r"more than 8 disjuncts"):
        prop(box([("0", "1"), ("0", "1")]) + "(assert (or (<= Y_0 0) (<= Y_1 1) (<= Y_2 2)))"
             "(assert (or (>= Y_0 0) (>= Y_1 1) (>= Y_2 2)))")
    with pytest.raises(PropertyError, match=r"more than 8 disjuncts"):
        prop("(assert (or " + " ".join(f"(<= Y_0 {k})" for k in range(9)) + "))")


def test_load_property_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PropertyError, match=r"cannot read property"):
        load_property(tmp_path / "missing.vnnlib")
    (tmp_path / "e.vnnlib").write_text("  \n")
    with pytest.raises(PropertyError, match=r"empty property file"):
        load_property(tmp_path / "e.vnnlib")
