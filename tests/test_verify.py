"""``exactrelu verify``: exact answers to VNN-LIB properties, their certificates and the checker.

The networks are small and their functions known by construction:

* ``ABS2``: ``y_0 = |x_0|``, ``y_1 = x_1`` (hidden ``x_0, -x_0, x_1, -x_1``), over the union of the
  boxes ``[-1, 1]^2`` and ``[2, 3] x [-1, 0]``; so ``y_0 <= 3`` with equality only on the segment
  ``x_0 = 3`` of the second box, and ``y_0 >= 3, y_1 <= -1`` only at the corner ``(3, -1)``;
* ``PEAK``: ``y = -|x - 1/3|`` on ``[-1, 1]``: ``y >= 0`` only at ``x = 1/3``, which no float is,
  so no float attack finds it and the region LPs must;
* ``FLAT``: ``y = relu(x)`` on ``[-1, 0]``: ``y = 0`` everywhere, so ``y > 0`` holds and ``y >= 0``
  is violated.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import shutil
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest

from exactrelu import checker, cli
from exactrelu.checker import CheckFailure, Checker
from exactrelu.certificate import nested_tree
from exactrelu.commands.verify import results_text, smt_value
from exactrelu.domain import Domain
from exactrelu.errors import DomainError
from exactrelu.lp import motzkin_valid, satisfies
from exactrelu.network import ReluNetwork
from exactrelu.regions import enumerate_regions
from exactrelu.verify import pull_back, region_rows, verify_property, write_property_certificate
from exactrelu.vnnlib import Property, parse_property

TESTS = Path(__file__).resolve().parent
ABS2 = ReluNetwork.from_lists([([[1, 0], [-1, 0], [0, 1], [0, -1]], [0, 0, 0, 0]),
                               ([[1, 1, 0, 0], [0, 0, 1, -1]], [0, 0])])
PEAK = ReluNetwork.from_lists([([[1], [-1]], ["-1/3", "1/3"]), ([[-1, -1]], [0])])
FLAT = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
HEAD2 = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)\n"
UNION = ("(assert (or (and (>= X_0 -1) (<= X_0 1) (>= X_1 -1) (<= X_1 1))\n"
         "            (and (>= X_0 2) (<= X_0 3) (>= X_1 -1) (<= X_1 0))))\n")
HEAD1 = "(declare-const X_0 Real)(declare-const Y_0 Real)\n"


def abs2(unsafe: str) -> tuple[Property, str]:
    text = HEAD2 + UNION + unsafe + "\n"
    return parse_property(text, "abs2.vnnlib"), text


def one(net_box: tuple[str, str], unsafe: str) -> tuple[Property, str]:
    lo, hi = net_box
    text = HEAD1 + f"(assert (>= X_0 {lo}))(assert (<= X_0 {hi}))\n{unsafe}\n"
    return parse_property(text, "one.vnnlib"), text


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def check(cert: Path, *flags: str) -> tuple[int, str, str]:
    """The checker's verdict as a lone file with no site-packages (``python -S checker.py``)."""
    result = subprocess.run([sys.executable, "-S", checker.__file__, str(cert), *flags],
                            capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def location(cert: Path, **kw) -> str | None:
    try:
        Checker(str(cert), **kw).run()
    except CheckFailure as exc:
        return exc.location
    return None


# ============================================================================ answers
@pytest.mark.parametrize("attack_first", [True, False])
def test_holds_with_a_certificate_the_checker_verifies(attack_first: bool, tmp_path: Path, capsys) -> None:
    prop, text = abs2("(assert (or (and (>= Y_0 4)) (and (>= Y_1 2)) (and (> Y_0 3))))")
    verdict = verify_property(ABS2, prop, attack_first=attack_first)
    assert verdict.status == "holds" and verdict.counterexample is None
    enumerations = [enumerate_regions(ABS2, d) for d in prop.input_sets]
    counts = [len(e.regions) for e in enumerations]
    assert counts == [9, 2] and verdict.regions == 11
    empty = sum(e.empty_children for e in enumerations)
    assert [len(c.refutations) for c in verdict.cases] == counts
    assert all(len(p) == 3 for c in verdict.cases for p in c.refutations)
    cert = tmp_path / "c.json"
    write_property_certificate(cert, verdict, "0" * 64)
    vnnlib = write(tmp_path, "p.vnnlib", text)
    model = write(tmp_path, "net.json", json.dumps(ABS2.to_dict()))
    capsys.readouterr()
    assert checker.main([str(cert), "--model", str(model), "--property", str(vnnlib)]) == 0
    out, err = capsys.readouterr()
    assert out == "s VERIFIED\n"
    assert err.endswith("c the property holds: 11 regions over 2 input sets, each disjoint from the 3 unsafe disjuncts, "
                        f"{empty} branches proved empty, 4 neurons; about the property file " + str(vnnlib)
                        + " (the same property; its text differs from the file certified)\n")
    assert f"c network: sha256 {ABS2.sha256()}, pinned ({model})" in err and f"pinned ({vnnlib})" in err
    code, out, err = check(cert, "--property", str(vnnlib))
    assert (code, out) == (0, "s VERIFIED\n") and "the property holds: 11 regions" in err


def test_violated_with_an_exact_counterexample_in_the_second_input_set(tmp_path: Path) -> None:
    prop, text = abs2("(assert (or (and (>= Y_0 4)) (and (>= Y_0 5/2) (<= Y_1 -1/2))))")
    for attack_first in (True, False):
        v = verify_property(ABS2, prop, attack_first=attack_first)
        c = v.counterexample
        assert v.status == "violated" and (c.input_set, c.disjunct) == (1, 1)
        assert c.x[0] >= F(5, 2) and c.x[1] <= F(-1, 2) and ABS2.evaluate(c.x) == c.y == (c.x[0], c.x[1])
        assert c.found_by == ("attack" if attack_first else "regions")
        cert = tmp_path / "v.json"
        write_property_certificate(cert, v)
        vnnlib = write(tmp_path, "p.vnnlib", text)
        code, out, err = check(cert, "--property", str(vnnlib))
        assert (code, out) == (0, "s VERIFIED\n") and "is in unsafe disjunct 1" in err
        assert "(the certificate states no file hash)" in err


@pytest.mark.parametrize("attack_first", [True, False])
def test_a_violation_only_on_a_segment_or_at_a_corner_is_found(attack_first: bool) -> None:
    prop, _ = abs2("(assert (>= Y_0 3))")  # only on x_0 = 3 (a segment of the second box)
    v = verify_property(ABS2, prop, attack_first=attack_first)
    assert v.status == "violated" and v.counterexample.x[0] == 3 and v.counterexample.input_set == 1
    prop, _ = abs2("(assert (or (and (>= Y_0 4)) (and (>= Y_0 3) (<= Y_1 -1))))")  # only at (3, -1)
    v = verify_property(ABS2, prop, attack_first=attack_first)
    assert v.status == "violated" and v.counterexample.x == (3, -1) and v.counterexample.disjunct == 1
    prop, _ = abs2("(assert (or (and (> Y_0 3)) (and (>= Y_0 3) (< Y_1 -1))))")  # strict on that boundary
    assert verify_property(ABS2, prop, attack_first=attack_first).status == "holds"


def test_a_violation_at_a_single_non_dyadic_point_is_found_by_the_regions_and_strict_holds(tmp_path: Path) -> None:
    prop, _ = one(("-1", "1"), "(assert (>= Y_0 0))")
    v = verify_property(PEAK, prop)
    assert v.status == "violated" and v.attack_points > 0
    assert v.counterexample.x == (F(1, 3),) and v.counterexample.y == (0,) and v.counterexample.found_by == "regions"
    assert results_text(v) == "sat\n((X_0 (/ 1 3))\n (Y_0 0))\n"
    prop, _ = one(("-1", "1"), "(assert (> Y_0 0))")
    assert verify_property(PEAK, prop).status == "holds"
    prop, _ = one(("-1", "0"), "(assert (> Y_0 0))")
    assert verify_property(FLAT, prop).status == "holds"
    prop, _ = one(("-1", "0"), "(assert (>= Y_0 0))")
    v = verify_property(FLAT, prop, attack_first=False)
    assert v.status == "violated" and v.counterexample.y == (0,)


def test_unknown_on_budget_is_never_a_guess() -> None:
    prop, _ = abs2("(assert (>= Y_0 4))")
    v = verify_property(ABS2, prop, max_regions=5)
    assert v.status == "unknown" and v.counterexample is None and not v.cases[1:]
    assert v.regions >= 6 and v.reason == "region budget of 5 exceeded while enumerating input set 0"
    assert results_text(v) == "unknown\n"
    v = verify_property(ABS2, prop, max_regions=10)  # the first set fits, the second does not
    assert v.status == "unknown" and v.regions >= 11 and "input set 1" in v.reason
    v = verify_property(ABS2, prop, timeout=0)
    assert v.status == "unknown" and v.reason.startswith("time limit of 0 s") and results_text(v) == "timeout\n"
    assert verify_property(ABS2, prop, max_regions=11).status == "holds"


class _Clock:
    """A ``time.perf_counter`` that jumps by an hour once ``after`` readings have been taken."""

    def __init__(self, after: int) -> None:
        self.readings, self.after = 0, after

    def __call__(self) -> float:
        self.readings += 1
        return 3600.0 * (self.readings > self.after)


def test_the_time_limit_stops_an_enumeration_under_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is checked in the progress reports of a long enumeration (with a clock that jumps)."""
    import exactrelu.regions
    import exactrelu.verify

    net = ReluNetwork.from_lists([([[1, k] for k in range(-6, 7)], [F(k, 7) for k in range(13)]), ([[1] * 13], [0])])
    prop, _ = parse_property(HEAD2.replace("(declare-const Y_1 Real)", "") + UNION + "(assert (>= Y_0 1000))", "p"), ""
    seen = []
    clock = _Clock(after=3)
    monkeypatch.setattr(exactrelu.verify.time, "perf_counter", clock)
    monkeypatch.setattr(exactrelu.regions.time, "perf_counter", clock)
    v = verify_property(net, prop, timeout=60, attack_first=False, progress=lambda *c: seen.append(c))
    assert v.status == "unknown" and v.reason == "time limit of 60 s reached while enumerating input set 0"
    assert seen and v.nodes == seen[-1][1] > 0


def test_an_empty_input_set_is_proved_empty(tmp_path: Path) -> None:
    box = Domain.box(["-1", "-1"], ["1", "1"])
    empty = Domain.polytope([["1", "1"], ["-1", "0"], ["0", "-1"]], ["-1", "0", "0"])  # x0 + x1 <= -1, x >= 0
    prop = Property(2, 2, (empty, box), (((( F(1), F(0)), F(-2), False),),), "")
    v = verify_property(ABS2, prop)
    assert v.status == "holds" and v.cases[0].enumeration is None and v.regions == 9
    cert = tmp_path / "e.json"
    write_property_certificate(cert, v)
    data = json.loads(cert.read_text())
    assert [list(node) for node in data["tree"]["input_sets"][0]] == [["empty"]]
    assert location(cert) is None
    data["tree"]["input_sets"][0][0]["empty"] = [[0, "1"]]
    cert.write_text(json.dumps(data))
    assert location(cert) == "tree.input_sets[0][0].empty"


def test_a_polytope_input_set_is_attacked_through_its_vertices() -> None:
    tri = Domain.polytope([["-1", "0"], ["0", "-1"], ["1", "1"]], ["0", "0", "3"])  # x >= 0, x0 + x1 <= 3
    prop = Property(2, 2, (tri,), ((((F(1), F(0)), F(-3), False),),), "")  # y_0 = |x_0| >= 3: at (3, 0) only
    v = verify_property(ABS2, prop)
    assert v.status == "violated" and v.counterexample.found_by == "attack" and v.counterexample.x == (3, 0)
    ray = Domain.polytope([["-1", "0"]], ["0"])  # x_0 >= 0: unbounded, no vertices
    prop = Property(2, 2, (ray,), ((((F(1), F(0)), F(-3), False),),), "")
    v = verify_property(ABS2, prop, max_regions=50)
    assert v.status == "violated"


def test_pull_back_and_dimension_checks() -> None:
    with pytest.raises(DomainError, match="the property has 1 inputs and 1 outputs, the network 2 and 2"):
        verify_property(ABS2, one(("0", "1"), "(assert (>= Y_0 0))")[0])
    region = enumerate_regions(ABS2, Domain.box(["1/2", "1/2"], ["1", "1"])).regions[0]
    row = pull_back(((F(2), F(-1)), F(1), True), region.alpha, region.beta)  # 2|x0| - x1 + 1 > 0
    assert row == ((F(2), F(-1)), F(1), True)
    assert len(region_rows(Domain.box(["1/2", "1/2"], ["1", "1"]), region)) == 4 + 4


# ============================================================================ the command
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_answers_writes_results_and_names_the_check(tmp_path: Path, capsys) -> None:
    model = write(tmp_path, "net.json", json.dumps(ABS2.to_dict()))
    _, text = abs2("(assert (>= Y_0 4))")
    p = safe = write(tmp_path, "p.vnnlib", text)
    cert, results = tmp_path / "c.json", tmp_path / "r.txt"
    code, out, _ = run_cli(capsys, "verify", str(model), str(p), "--certificate", str(cert), "--results", str(results))
    assert code == 0 and out.startswith("holds: no input of the 2 input set(s) reaches any of the 1 unsafe")
    assert results.read_text() == "unsat\n"
    command = out.splitlines()[-1].split("check it with: ")[1].split()
    assert command == ["exactrelu", "check", str(cert), "--model", str(model), "--property", str(p)]
    code, out, err = run_cli(capsys, *command[1:])
    assert (code, out) == (0, "s VERIFIED\n") and "(byte-identical to the one certified)" in err
    _, text = abs2("(assert (or (and (>= Y_0 4)) (and (>= Y_0 3) (<= Y_1 -1))))")
    p = write(tmp_path, "q.vnnlib", text)
    code, out, _ = run_cli(capsys, "verify", str(model), str(p), "--certificate", str(cert), "--results", str(results))
    assert code == 1 and "  X_0 = 3\n  X_1 = -1\n  Y_0 = 3\n  Y_1 = -1\n" in out
    assert results.read_text() == "sat\n((X_0 3)\n (X_1 -1)\n (Y_0 3)\n (Y_1 -1))\n"
    assert run_cli(capsys, "check", str(cert), "--property", str(p), "--json")[0] == 0
    code, out, _ = run_cli(capsys, "verify", str(model), str(safe), "--max-regions", "2", "--results", str(results),
                           "--certificate", str(cert), "--quiet")
    assert code == 3 and out.startswith("unknown: region budget of 2 exceeded") and results.read_text() == "unknown\n"


def test_the_command_answers_as_json(tmp_path: Path, capsys) -> None:
    """``--json``: the answer, the counterexample in exact ``"p/q"`` strings (``1/3``, which no float
    is), the counts, the certificate and the command that checks it; ``null`` where a field does
    not apply.  With the certificate on stdout (``-``) the summary goes to stderr."""
    model = write(tmp_path, "peak.json", json.dumps(PEAK.to_dict()))
    p = write(tmp_path, "p.vnnlib", one(("-1", "1"), "(assert (>= Y_0 0))")[1])
    code, out, err = run_cli(capsys, "verify", str(model), str(p), "--json", "--certificate", str(tmp_path / "c.json"))
    answer = json.loads(out)
    assert code == 1 and err == "" and answer["answer"] == "violated"
    assert answer["counterexample"] == {"x": ["1/3"], "y": ["0"], "input_set": 0, "unsafe_disjunct": 0, "found_by": "regions"}
    assert answer["regions"] == 3 and answer["attack_points"] > 0 and answer["reason"] is None
    assert (answer["input_sets"], answer["unsafe_disjuncts"], answer["closed_early"]) == (1, 1, None)
    written = answer["certificate"]
    assert written == str(tmp_path / "c.json") and answer["certificate_bytes"] == (tmp_path / "c.json").stat().st_size
    assert answer["check"] == f"exactrelu check {written} --model {model} --property {p}"
    assert run_cli(capsys, *answer["check"].split()[1:])[:2] == (0, "s VERIFIED\n")  # the violation, certified
    p = write(tmp_path, "q.vnnlib", one(("-1", "1"), "(assert (> Y_0 0))")[1])
    code, out, _ = run_cli(capsys, "verify", str(model), str(p), "--json", "--early", "--results", str(tmp_path / "r.txt"))
    answer = json.loads(out)
    assert code == 0 and answer["answer"] == "holds" and answer["counterexample"] is None
    assert answer["closed_early"] >= 1 and answer["open_subproblems"] == 0
    assert (answer["certificate"], answer["check"], answer["results"]) == (None, None, str(tmp_path / "r.txt"))
    code, out, _ = run_cli(capsys, "verify", str(model), str(p), "--json", "--max-regions", "1", "--certificate",
                           str(tmp_path / "u.json"))
    answer = json.loads(out)
    assert code == 3 and answer["answer"] == "unknown" and answer["reason"].startswith("region budget of 1 exceeded")
    assert answer["certificate"] is None and not (tmp_path / "u.json").exists()
    for flags in (["--json"], []):
        code, out, err = run_cli(capsys, "verify", str(model), str(p), "--certificate", "-", *flags)
        assert code == 0 and json.loads(out)["format"] == "exactrelu-property"
        assert (json.loads(err)["certificate"] == "-") if flags else err.startswith("holds: no input")


def test_the_command_on_an_onnx_model_notes_the_conversion(tmp_path: Path, capsys) -> None:
    from exactrelu.io.npz import save

    model = tmp_path / "net.npz"
    save(ABS2, model)
    p = write(tmp_path, "p.vnnlib", abs2("(assert (>= Y_0 4))")[1])
    code, out, err = run_cli(capsys, "verify", str(model), str(p), "--certificate", str(tmp_path / "c.json"))
    command = f"exactrelu check {tmp_path / 'c.json'} --model {model} --property {p}"
    assert code == 0 and out.splitlines()[-1].endswith(f"check it with: {command}")
    assert run_cli(capsys, *command.split()[1:])[:2] == (0, "s VERIFIED\n")


@pytest.mark.parametrize("argv,message", [
    (["--timeout", "0"], "--timeout: 0.0 is not a positive number of seconds"),
    (["PROPERTY=absent.vnnlib"], "absent.vnnlib: cannot read property"),
    (["PROPERTY=one.vnnlib"], "the property has 1 inputs and 1 outputs, the network 2 and 2"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path: Path, capsys) -> None:
    model = write(tmp_path, "net.json", json.dumps(ABS2.to_dict()))
    prop = write(tmp_path, "p.vnnlib", abs2("(assert (>= Y_0 4))")[1])
    write(tmp_path, "one.vnnlib", one(("0", "1"), "(assert (>= Y_0 0))")[1])
    if argv[0].startswith("PROPERTY="):
        prop, argv = tmp_path / argv[0].split("=")[1], []
    code, out, err = run_cli(capsys, "verify", str(model), str(prop), *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_smt_values_are_exact() -> None:
    assert [smt_value(F(v)) for v in ("0", "-1/2", "7/20", "1/1024", "-2/3", "12")] == \
        ["0", "-0.5", "0.35", "0.0009765625", "(/ -2 3)", "12"]


def test_vnncomp_scripts(tmp_path: Path) -> None:
    scripts = TESTS.parent / "scripts" / "vnncomp"
    model = write(tmp_path, "net.json", json.dumps(ABS2.to_dict()))
    p = write(tmp_path, "p.vnnlib", abs2("(assert (>= Y_0 3))")[1])
    env = {"PATH": "/usr/bin:/bin", "EXACTRELU_PYTHON": sys.executable, "PYTHONPATH": str(TESTS.parent)}
    run = lambda name, *a: subprocess.run(["bash", str(scripts / name), *a], capture_output=True, text=True,  # noqa: E731
                                          env=env, timeout=120)
    assert run("prepare_instance.sh", "v1", "test", str(model), str(p)).returncode == 0
    assert run("prepare_instance.sh", "v2", "test", str(model), str(p)).returncode == 1
    assert run("prepare_instance.sh", "v1", "test", str(tmp_path / "absent.onnx"), str(p)).returncode == 1
    results = tmp_path / "out.txt"
    assert run("run_instance.sh", "v1", "test", str(model), str(p), str(results), "30").returncode == 0
    assert results.read_text().splitlines()[0] == "sat" and "(X_0 3)" in results.read_text()
    assert run("run_instance.sh", "v1", "test", str(tmp_path / "absent.json"), str(p), str(results), "30").returncode == 2
    assert results.read_text() == "unknown\n"
    assert run("run_instance.sh", "v2", "test", str(model), str(p), str(results), "30").returncode == 1


# ============================================================================ the checker's VNN-LIB reader
READER_TEXTS = [
    HEAD2 + UNION + "(assert (or (and (>= Y_0 4)) (and (>= Y_1 2)) (and (> Y_0 3))))",
    HEAD2 + "(assert (<= (+ X_0 (* 2 X_1)) 1))(assert (>= X_0 (- 1)))(assert (>= X_1 0))\n"
            "(assert (< (- Y_0 Y_1) (/ 1 3)))(assert (= Y_0 (* Y_1 2)))",
    HEAD2 + "; a comment\n(assert (<= -1 X_0 1))(assert (<= 0.5 X_1 3/2))(assert (<= 1 2))(assert (>= Y_0 Y_1 -3))",
    HEAD2 + "(assert (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1)))",
]


@pytest.mark.parametrize("k", range(len(READER_TEXTS)))
def test_the_checker_reads_vnnlib_as_the_library_does(k: int) -> None:
    text = READER_TEXTS[k]
    prop = parse_property(text, "t")
    assert checker.read_vnnlib(text, "t") == checker.property_terms(checker.canonical_property(prop.to_dict(), "p"))


@pytest.mark.parametrize("text,message", [
    ("(declare-const X_0 Real))", "unbalanced ')'"),
    ("(declare-const X_0 Real", "unbalanced '('"),
    ("(declare-const Z_0 Real)", "unsupported top-level form"),
    ("(declare-const X_1 Real)", "the variables are not X_0, X_1"),
    (HEAD1 + "(assert (<= X_0 Q))", "'Q' is neither a declared variable nor a number"),
    (HEAD1 + "(assert (<= (* X_0 X_0) 1))", "unsupported term"),
    (HEAD1 + "(assert (<= X_0 Y_0))", "mixes inputs and outputs"),
    (HEAD1 + "(assert (not (<= X_0 1)))", "unsupported formula"),
])
def test_the_checker_reader_refuses_what_it_does_not_read(text: str, message: str) -> None:
    with pytest.raises(CheckFailure, match=message.replace("(", r"\(").replace(")", r"\)")):
        checker.read_vnnlib(text, "t")


def test_the_reader_keeps_constant_truths_and_drops_false_terms() -> None:
    base = HEAD1 + "(assert (>= X_0 0))(assert (<= X_0 1))"
    assert checker.read_vnnlib(base + "(assert (or (and (< 1 0) (>= Y_0 1)) (>= Y_0 2)))", "t") == \
        checker.read_vnnlib(base + "(assert (>= Y_0 2))", "t")
    assert checker.read_vnnlib(base + "(assert (< 0 1))", "t") == checker.read_vnnlib(base, "t")


# ============================================================================ tampering
@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("property-certs")
    prop, text = abs2("(assert (or (and (>= Y_0 4)) (and (>= Y_1 2))))")
    holds = verify_property(ABS2, prop)
    write_property_certificate(folder / "holds.json", holds, "0" * 64)
    vprop, vtext = abs2("(assert (or (and (>= Y_0 4)) (and (>= Y_0 3) (<= Y_1 -1))))")
    violated = verify_property(ABS2, vprop)
    write_property_certificate(folder / "violated.json", violated)
    return {"folder": folder, "holds": holds, "text": text, "vtext": vtext,
            "holds_cert": json.loads((folder / "holds.json").read_text()),
            "violated_cert": json.loads((folder / "violated.json").read_text())}


def _rehash(cert: dict) -> None:
    cert["network_sha256"] = checker.Network(cert["network"], "n").sha256()
    cert["property_sha256"] = checker.canonical_sha256(checker.canonical_property(cert["property"], "p"))


def _leaf0(c):
    return c["leaves"][0]


TAMPERS = [
    ("holds", lambda c: _leaf0(c)["unsafe"][0].__setitem__(0, [_leaf0(c)["unsafe"][0][0][0], "12345"]),
     "leaves[0].unsafe[0]", "do not cancel the variables"),
    ("holds", lambda c: _leaf0(c)["unsafe"].pop(), "leaves[0].unsafe", "expected 2 entries, found 1"),
    ("holds", lambda c: _leaf0(c).pop("unsafe"), "leaves[0].unsafe", "missing field"),
    ("holds", lambda c: c["property"]["unsafe"][0][0].__setitem__("v", "-3"), "property_sha256", "does not match"),
    ("holds", lambda c: (c["property"]["unsafe"][0][0].__setitem__("v", "-3"), _rehash(c)), "leaves[", "no contradiction"),
    ("holds", lambda c: (c["property"]["input_sets"][1]["upper"].__setitem__(0, "4"), _rehash(c)), "leaves[",
     "no contradiction"),
    ("holds", lambda c: c["tree"]["input_sets"].pop(), "tree.input_sets", "expected 2 entries, found 1"),
    ("holds", lambda c: c["tree"]["input_sets"].reverse(), "tree.input_sets[0]", ""),
    ("holds", lambda c: c.__setitem__("tree", c["tree"]["input_sets"][0]), "tree", "expected a JSON object"),
    ("holds", lambda c: c.__setitem__("verdict", "violated"), "counterexample", "missing field"),
    ("holds", lambda c: c.__setitem__("verdict", "maybe"), "verdict", "expected 'holds' or 'violated'"),
    ("holds", lambda c: c.__setitem__("version", 3), "version", "unsupported version"),
    ("holds", lambda c: c["property"].__setitem__("format", "x"), "property.format", "expected"),
    ("holds", lambda c: c["property"].__setitem__("input_sets", []), "property", "at least one input set"),
    ("holds", lambda c: c["property"]["input_sets"][0].__setitem__("dim", 3), "property.input_sets[0].dim",
     "the property has 2 inputs"),
    ("holds", lambda c: c["property"]["unsafe"][0][0].__setitem__("strict", 1), "property.unsafe[0][0].strict",
     "expected true or false"),
    ("holds", lambda c: (c["property"].__setitem__("output_dim", 1),
                         [r.__setitem__("u", r["u"][:1]) for conj in c["property"]["unsafe"] for r in conj], _rehash(c)),
     "property", "has 2 inputs and 1 outputs, the network 2 and 2"),
    ("holds", lambda c: c.__setitem__("property_file_sha256", 7), "property_file_sha256", "expected a SHA-256"),
    ("holds", lambda c: c["network"]["layers"][0]["bias"].__setitem__(0, "1"), "network_sha256", "does not match"),
    ("holds", lambda c: c["leaves"].append(copy.deepcopy(c["leaves"][0])), "leaves[11]", "is not reached"),
    ("holds", lambda c: _leaf0(c).__setitem__("conditions", []), "leaves[0].conditions",  # an earlier release's form
     "leaf conditions are no longer written (they are derived from the path); regenerate it with exactrelu verify"),
    ("violated", lambda c: c["counterexample"]["x"].__setitem__(0, "4"), "counterexample.x",
     "is outside input set 1 (violates its row 1)"),
    ("violated", lambda c: c["counterexample"]["y"].__setitem__(0, "4"), "counterexample.y", "differs from the exact output"),
    ("violated", lambda c: c["counterexample"].__setitem__("disjunct", 0), "counterexample.y",
     "does not satisfy row 0 of unsafe disjunct 0"),
    ("violated", lambda c: c["counterexample"].__setitem__("input_set", 2), "counterexample.input_set", "expected an integer"),
]


@pytest.mark.parametrize("which,tamper,where,reason", TAMPERS, ids=[f"{t[0]}-{k}" for k, t in enumerate(TAMPERS)])
def test_tampered_property_certificates_are_rejected(which, tamper, where, reason, made, tmp_path: Path) -> None:
    cert = copy.deepcopy(made[f"{which}_cert"])
    tamper(cert)
    path = write(tmp_path, "t.json", json.dumps(cert))
    with pytest.raises(CheckFailure) as info:
        Checker(str(path)).run()
    assert info.value.location.startswith(where) and reason in info.value.reason, info.value


def test_the_auditor_bindings(made, tmp_path: Path, capsys) -> None:
    folder = made["folder"]
    holds, violated = folder / "holds.json", folder / "violated.json"
    other_net = write(tmp_path, "other.json", json.dumps(PEAK.to_dict()))
    same_net = write(tmp_path, "net.json", json.dumps(ABS2.to_dict()))
    p = write(tmp_path, "p.vnnlib", made["text"])
    assert location(holds, model=str(other_net)) == "format"  # --model alone asks for a shallow certificate
    assert location(holds, model=str(other_net), prop=str(p)) == "network"
    assert location(holds, model=str(same_net), prop=str(p)) is None
    assert location(violated, prop=str(p)) == "property"  # the certificate is about another property
    assert location(holds, prop=str(tmp_path / "absent.vnnlib")) == str(tmp_path / "absent.vnnlib")
    for alone in ({"domain": str(p)}, {"box": "0:1"}):  # a domain alone implies no kind: refused, not ignored
        assert location(holds, **alone) == "--domain"
    for wrong in ({"domain": str(p)}, {"box": "0:1"}, {"shallow": str(p)}):
        with pytest.raises(checker.UsageError, match="does not apply to a property certificate"):
            Checker(str(holds), prop=str(p), **wrong)
    q = write(tmp_path, "q.vnnlib", made["vtext"])
    assert location(violated, prop=str(q)) is None
    capsys.readouterr()
    assert checker.main([str(violated), "--dump"]) == 0
    assert checker.main([str(holds), "--dump"]) == 0
    err = capsys.readouterr().err
    assert "property certificate: verdict violated" in err and "leaves: 11" in err and "unsafe disjunct 1:" in err


# ---------------------------------------------------------------------------- random single-value mutations
def _tampering_helpers():
    spec = importlib.util.spec_from_file_location("tampering_helpers", TESTS / "test_tampering.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _still_proved(cert: dict, holds) -> bool:
    """Independent re-verification (with exactrelu.lp, not the checker) of every Motzkin proof and
    witness of an (accepted) holds certificate whose tree and leaves are the producer's."""
    regions = [(case, r) for case in holds.cases for r in case.enumeration.regions]
    for k, ((case, region), leaf) in enumerate(zip(regions, cert["leaves"])):
        domain = case.enumeration.domain
        rows = region_rows(domain, region)
        x = tuple(F(v) for v in leaf["witness"])
        if not all(satisfies(r, x) for r in rows):
            return False
        if leaf["full_dimensional"] and any(any(r[0]) and not satisfies((r[0], r[1], True), x) for r in rows):
            return False  # full dimension is claimed: strictly inside every non-constant row
        for conj, pairs in zip(holds.property.unsafe, leaf["unsafe"]):
            full = rows + [pull_back(r, region.alpha, region.beta) for r in conj]
            if not motzkin_valid(full, {m: F(lam) for m, lam in pairs}, 2) or len(pairs) != len({m for m, _ in pairs}):
                return False
    return True


def _tree_proofs_ok(cert: dict, helpers) -> bool:
    """Independent re-check (test_tampering's helpers, not the checker) of every emptiness proof
    in the trees of a property certificate."""
    q = helpers._q
    layers = [([[q(v) for v in row] for row in L["weight"]], [q(v) for v in L["bias"]]) for L in cert["network"]["layers"]]
    n = len(layers[0][0][0])

    def walk(node, bits, base) -> bool:
        if "leaf" in node:
            return True
        maps, _ = helpers.preactivations(layers, n, bits)
        for key, side in (("active", True), ("inactive", False)):
            child = node[key]
            rows = base + [helpers.neuron_row(m, s) for m, s in zip(maps, bits + [side])]
            if not (helpers.motzkin_ok(rows, child["empty"]) if "empty" in child else walk(child, bits + [side], base)):
                return False
        return True

    return all(walk(tree, [], helpers.domain_rows(cert["property"]["input_sets"][s], n))
               for s, tree in enumerate(nested_tree(cert["tree"])["input_sets"]))


MAY_STAY_VALID = {"producer", "order", "property_file_sha256", "full_dimensional", "witness", "motzkin"}


def _category(path: tuple, old, new) -> str | None:
    if path[0] in ("producer", "order", "property_file_sha256"):
        return path[0]
    if path[0] == "leaves" and path[2] == "full_dimensional":
        return "full_dimensional" if (old, new) == (True, False) else None
    if path[0] == "leaves" and path[2] == "witness":
        return "witness"
    if (path[0] == "leaves" and path[2] == "unsafe") or (path[0] == "tree" and "empty" in path):
        return "motzkin"
    return None


@pytest.mark.parametrize("which,count,seed", [("holds", 400, 11), ("violated", 150, 5)])
def test_random_single_value_mutations(which: str, count: int, seed: int, made, tmp_path: Path) -> None:
    helpers = _tampering_helpers()
    valid = made[f"{which}_cert"]
    paths = list(helpers.scalar_paths(valid))
    rng = random.Random(seed)
    problems, accepted, sections = [], set(), set()
    path_file = tmp_path / "m.json"
    for _ in range(count):
        path = rng.choice(paths)
        old = helpers.get(valid, path)
        new = helpers.mutate(old, rng)
        cert = copy.deepcopy(valid)
        helpers.put(cert, path, new)
        path_file.write_text(json.dumps(cert))
        sections.add(path[0])
        try:
            Checker(str(path_file)).run()
            where = None
        except CheckFailure as exc:
            where = exc.location
        except Exception as exc:  # noqa: BLE001 - any other exception is a checker bug
            problems.append(f"{path} {old!r}->{new!r}: {type(exc).__name__}: {exc}")
            continue
        kind = _category(path, old, new)
        if where is None:
            if kind not in MAY_STAY_VALID:
                problems.append(f"{path} {old!r}->{new!r} was VERIFIED")
            elif kind in ("witness", "motzkin") and not (_still_proved(cert, made["holds"])
                                                         and _tree_proofs_ok(cert, helpers)):
                problems.append(f"{path} {old!r}->{new!r} was VERIFIED but the independent re-check fails")
            accepted.add(kind)
        elif kind in ("witness", "motzkin") and which == "holds" and _still_proved(cert, made["holds"]) \
                and _tree_proofs_ok(cert, helpers):
            problems.append(f"{path} {old!r}->{new!r} is valid (independent re-check) but was rejected at {where}")
    assert not problems, "\n".join(problems[:20])
    assert {"network", "property", "counterexample" if which == "violated" else "leaves"} <= sections
    assert "producer" in accepted
