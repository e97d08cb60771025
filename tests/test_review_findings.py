"""Regression tests for defects an adversarial review found: a sparse weight whose declared shape
would be expanded densely (one clear refusal, no MemoryError), and a shallow file the certificate
names reported as such, not as pinned."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exactrelu.errors import InputError
from exactrelu.io.jsonfmt import network_from_dict

CHECKER = Path(__file__).resolve().parents[1] / "exactrelu" / "checker.py"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# A 150-byte file whose sparse first layer claims 10**13 columns: both readers used to expand it to a
# dense list of lists before anything else, so the answer was a MemoryError traceback (or, for a
# shape of about 1e9, gigabytes of memory) instead of one clear line.
HUGE = {"format": "exactrelu-network", "version": 1,
        "layers": [{"weight": {"shape": [1, 10 ** 13], "entries": []}, "bias": [0]},
                   {"weight": [[1]], "bias": [0]}]}


def test_sparse_huge_shape_is_refused_by_the_loader():
    with pytest.raises(InputError, match="shape 1 x 10000000000000 is held densely"):
        network_from_dict(HUGE, "huge")


def test_sparse_huge_shape_is_refused_by_the_checker(tmp_path):
    cert = {"format": "exactrelu-certificate", "version": 2, "network": HUGE}
    path = tmp_path / "huge.cert.json"
    path.write_text(json.dumps(cert))
    result = subprocess.run([sys.executable, str(CHECKER), str(path)], capture_output=True, text=True)
    assert "Traceback" not in result.stderr and result.returncode == 1 and result.stdout == "s NOT VERIFIED\n"
    assert "network.layers[0].weight.shape" in result.stderr and "refused" in result.stderr


def test_a_file_the_certificate_names_is_not_reported_pinned(tmp_path):
    from exactrelu import checker

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    (tmp_path / "decoy").mkdir()
    (tmp_path / "ship").mkdir()
    result = subprocess.run([sys.executable, "-m", "exactrelu", "shallow", str(tmp_path / "net.json"), "--box=-1:1",
                             "--stream", "-o", str(tmp_path / "decoy" / "S.json"),
                             "--certificate", str(tmp_path / "ship" / "S.cert.json"), "--quiet"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    check = checker.Checker(str(tmp_path / "ship" / "S.cert.json"), model=str(tmp_path / "net.json"))
    check.run()
    (status,) = [status for what, _, status in check.bindings if what == "shallow network"]
    assert not status.startswith("pinned")


def _abs_certificate(tmp_path, *extra):
    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    result = subprocess.run([sys.executable, "-m", "exactrelu", "shallow", str(tmp_path / "net.json"), "--box=-1:1",
                             "-o", str(tmp_path / "S.json"), *extra], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return tmp_path / "S.cert.json"


def test_a_node_with_two_kinds_is_refused(tmp_path):
    from exactrelu import checker

    path = _abs_certificate(tmp_path)
    cert = json.loads(path.read_text())
    assert cert["tree"][0] == {"split": [0, 0]}
    cert["tree"][0]["empty"] = []
    path.write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure, match="a node has one kind, this one has 'split' and 'empty'"):
        checker.Checker(str(path)).run()


@pytest.mark.parametrize("command", [["info"], ["report", "-o", "r.md"], ["plot", "-o", "p.png"]])
def test_commands_that_read_version_2_name_a_streamed_certificate(tmp_path, command):
    path = _abs_certificate(tmp_path, "--stream")
    result = subprocess.run([sys.executable, "-m", "exactrelu", command[0], str(path), *command[1:]],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "a streamed (version 3) certificate: only `exactrelu check` reads that form" in result.stderr
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "p.png").exists()


def test_sparse_huge_shape_is_refused_in_process(tmp_path):
    from exactrelu import checker

    path = tmp_path / "huge.cert.json"
    path.write_text(json.dumps({"format": "exactrelu-certificate", "version": 2, "network": HUGE}))
    with pytest.raises(checker.CheckFailure, match="is held densely in memory") as failure:
        checker.Checker(str(path)).run()
    assert failure.value.location == "network.layers[0].weight.shape"


# A certificate that is not a regular file: /dev/zero made the checker read one endless "line"
# (stream_header's readline, memory without bound, no verdict); a pipe (`cat C | check /dev/stdin`)
# had its first line eaten by stream_header and was then reported as an "empty certificate".
@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_certificate_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    import os

    from exactrelu import checker

    path = {"device": "/dev/zero", "fifo": str(tmp_path / "c.fifo"), "folder": str(tmp_path)}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    with pytest.raises(checker.CheckFailure, match="the certificate must be a regular file"):
        checker.Checker(path).run()


def test_a_piped_certificate_is_not_called_empty(tmp_path):
    path = _abs_certificate(tmp_path)
    result = subprocess.run([sys.executable, str(CHECKER), "/dev/stdin"], input=path.read_text(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stdout == "s NOT VERIFIED\n" and "Traceback" not in result.stderr
    assert "the certificate must be a regular file" in result.stderr and "empty" not in result.stderr


# A network with no hyperplane (every pre-activation constant on the domain: J = 0): shallow
# --stream wrote layer 1's bias as [,"-18",...], invalid JSON, and still said "wrote ... check it
# with"; the checker then answered "invalid or truncated JSON".
def test_streamed_shallow_file_without_hyperplanes_is_valid_json(tmp_path):
    from exactrelu import checker

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [["0", "0"]], "bias": ["-1"]}, {"weight": [["0"], ["1"]], "bias": ["-2", "3"]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    for extra, name in (["--stream"], "S3.json"), ([], "S2.json"):
        result = subprocess.run([sys.executable, "-m", "exactrelu", "shallow", str(tmp_path / "net.json"),
                                 "--box=-2:1,0:1", "-o", str(tmp_path / name), "--quiet", *extra],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    streamed = json.loads((tmp_path / "S3.json").read_text())
    assert streamed == json.loads((tmp_path / "S2.json").read_text()) and streamed["H"] == []
    assert streamed["layers"][0]["bias"] == ["-2", "2", "3", "-3"]
    check = checker.Checker(str(tmp_path / "S3.cert.json"), model=str(tmp_path / "net.json"),
                            shallow=str(tmp_path / "S3.json"))
    check.run()


# Weights near the float range (10^300): the exact Shapley values were right, but numpy's
# "RuntimeWarning: invalid value encountered in matmul" (the float estimate overflowing, which the
# code then handles with the a priori bound) was printed on the user's stderr by `exactrelu explain`.
@pytest.mark.parametrize("sign", [1, -1])
def test_shapley_beyond_the_float_range_warns_nothing(reference_shapley, sign):
    import warnings

    from exactrelu.explain import Explainer
    from exactrelu.network import ReluNetwork

    big = 10 ** 300
    net = ReluNetwork.from_lists([([[big, -big], [-big, big]], [0, 0]), ([[big, sign * big]], [0])])
    background = [[1, 2], [1, 1], [2, 1]]
    points = [[2, 1], [1, 3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = Explainer(net, background, method="modular", fast_path=False).explain_many(points)
    for x, result in zip(points, results):
        assert [list(row) for row in result.values] == reference_shapley(net, x, background)


def _structural_certificate(tmp_path):
    a = {"format": "exactrelu-network", "version": 1,
         "layers": [{"weight": [["1", "-1"]], "bias": ["0"]}, {"weight": [["1"]], "bias": ["0"]}]}
    b = {"format": "exactrelu-network", "version": 1,
         "layers": [{"weight": [["1", "-1"], ["0", "0"]], "bias": ["0", "-1"]}, {"weight": [["1", "5"]], "bias": ["0"]}]}
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    result = subprocess.run([sys.executable, "-m", "exactrelu", "equiv", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                             "--box=-1:1", "--certificate", str(tmp_path / "eq.cert.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    cert = json.loads((tmp_path / "eq.cert.json").read_text())
    assert cert["method"] == "structural" and "tree" not in cert
    return cert


# A structural equivalence certificate had no tree and no witness, so nothing showed its domain has
# a point: with the box edited to lower > upper it was "s VERIFIED" (a claim about no point), though
# the user guide says a certificate over an empty domain is not verified (tree kinds refuse it).
def test_a_structural_certificate_over_an_empty_box_is_refused(tmp_path):
    from exactrelu import checker

    cert = _structural_certificate(tmp_path)
    cert["domain"]["lower"][0] = "2"
    (tmp_path / "empty.cert.json").write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure, match="exceeds the upper bound 1: the box is empty") as failure:
        checker.Checker(str(tmp_path / "empty.cert.json")).run()
    assert failure.value.location == "domain.lower[0]"


# The same over an empty polytope was "s VERIFIED" too (the checker cannot find a point without
# searching): the certificate now carries a witness point, which no empty domain has.
def test_a_structural_certificate_over_an_empty_polytope_is_refused(tmp_path):
    from exactrelu import checker

    cert = _structural_certificate(tmp_path)
    assert cert["witness"] == ["-1", "-1"]  # the box's lower corner
    cert["domain"] = {"dim": 2, "kind": "polytope", "A": [["1", "0"], ["-1", "0"]], "b": ["-1", "-1"]}  # x1 <= -1, x1 >= 1
    (tmp_path / "empty.cert.json").write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure, match="is outside the domain \\(violates domain row 1\\)") as failure:
        checker.Checker(str(tmp_path / "empty.cert.json")).run()
    assert failure.value.location == "witness"


# `exactrelu report C -o S.json`, S.json the shallow file the certificate names: the checker read it
# to verify the certificate, and the report then replaced it with the Markdown proof (only the files
# named by options counted as inputs).
def test_report_does_not_overwrite_the_shallow_file_the_certificate_names(tmp_path):
    path = _abs_certificate(tmp_path)
    before = (tmp_path / "S.json").read_bytes()
    result = subprocess.run([sys.executable, "-m", "exactrelu", "report", str(path), "-o", str(tmp_path / "S.json"),
                             "--no-picture"], capture_output=True, text=True)
    assert result.returncode == 2 and "is also an input; refusing to overwrite it" in result.stderr
    assert (tmp_path / "S.json").read_bytes() == before


# The package's JSON readers took the last of two equal keys ("H": [], "H": [...]) where the checker
# refuses the file: `exactrelu info` printed the legitimate file's value hash for it, and `eval` ran it.
def test_the_package_refuses_a_duplicate_key_as_the_checker_does(tmp_path):
    from exactrelu.errors import NetworkFormatError
    from exactrelu.io.jsonfmt import read_json

    path = _abs_certificate(tmp_path).parent / "S.json"
    text = path.read_text()
    assert text.startswith("{") and '"H":' in text
    (tmp_path / "dup.json").write_text('{"H":[],' + text[1:])
    with pytest.raises(NetworkFormatError, match="the field 'H' appears twice in one JSON object"):
        read_json(tmp_path / "dup.json", "shallow network")
    result = subprocess.run([sys.executable, "-m", "exactrelu", "info", str(tmp_path / "dup.json")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "appears twice" in result.stderr and "sha256" not in result.stdout


# verify --early never ended on this 3-6-4-1 network (input X_0 is read by no neuron): every tie of
# the look-ahead's scores went to coordinate 0, whose halves change no bound, so the same box was
# cut along X_0 forever (the default enumeration answers in 0.05 s).
def test_verify_early_ends_when_an_input_is_read_by_no_neuron(tmp_path):
    net = {"format": "exactrelu-network", "version": 1, "layers": [
        {"weight": [["0", "-3", "-1"], ["0", "3", "1"], ["0", "3", "1"], ["0", "-3", "-1"], ["0", "3", "1"], ["0", "3", "1"]],
         "bias": ["1", "0", "1/2", "1", "0", "1/2"]},
        {"weight": [["-3", "-2", "-3/4", "-3/4", "-3/2", "0"], ["-2", "-3/2", "1", "-2", "3", "-3"],
                    ["-3/2", "-3/2", "1/3", "0", "1", "3/4"], ["-3", "-2", "-3/4", "-3/4", "-3/2", "0"]],
         "bias": ["-2/3", "1", "-1", "-2/3"]},
        {"weight": [["-3", "3/4", "-1/4", "-3"]], "bias": ["2"]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    box = [("-2", "-1"), ("-1", "1"), ("0", "2")]  # the maximum of Y_0 on it is 2
    (tmp_path / "p.vnnlib").write_text("".join(f"(declare-const X_{i} Real)\n" for i in range(3)) + "(declare-const Y_0 Real)\n"
                                       + "".join(f"(assert (>= X_{i} {lo}))\n(assert (<= X_{i} {hi}))\n" for i, (lo, hi) in enumerate(box))
                                       + "(assert (> Y_0 2))\n")
    result = subprocess.run([sys.executable, "-m", "exactrelu", "verify", str(tmp_path / "net.json"), str(tmp_path / "p.vnnlib"),
                             "--early", "--json", "--certificate", str(tmp_path / "p.cert.json")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and json.loads(result.stdout)["answer"] == "holds", result.stderr
    check = subprocess.run([sys.executable, str(CHECKER), str(tmp_path / "p.cert.json"), "--model", str(tmp_path / "net.json"),
                            "--property", str(tmp_path / "p.vnnlib")], capture_output=True, text=True)
    assert check.stdout == "s VERIFIED\n"


# The other equivalence certificates over an empty polytope: an enumerated one has a tree whose every
# branch is proved empty and no leaf, and the tree walk refuses it (as for the shallow kind).
def test_an_enumerated_equivalence_certificate_over_an_empty_polytope_is_refused(tmp_path):
    from exactrelu import checker
    from exactrelu.domain import Domain
    from exactrelu.equiv import compare, write_equivalence_certificate
    from exactrelu.network import ReluNetwork

    A = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, -1]], [0])])   # relu(x) - relu(-x) = x
    B = ReluNetwork.from_lists([([[1]], [0])])
    write_equivalence_certificate(tmp_path / "c.json", compare(A, B, Domain.box(["-1"], ["1"])))
    checker.Checker(str(tmp_path / "c.json")).run()
    cert = json.loads((tmp_path / "c.json").read_text())
    cert["domain"] = {"kind": "polytope", "dim": 1, "A": [["-1"], ["1"]], "b": ["-1", "0"]}   # x >= 1 and x <= 0
    proof = {"empty": [[0, "1"], [1, "1"]]}                                      # (x - 1) + (0 - x) = -1 < 0
    cert["tree"], cert["leaves"] = [proof], []
    (tmp_path / "c.json").write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure, match="the domain is empty") as failure:
        checker.Checker(str(tmp_path / "c.json")).run()
    assert failure.value.location == "domain"


def _nested_property(levels: int) -> str:
    """A 2-input property whose output atom sits inside ``levels`` nested ``(and ...)``."""
    return ("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
            "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n"
            "(assert " + "(and " * levels + "(> Y_0 1)" + ")" * levels + ")\n")


# A property nested 500 deep (`(assert (and (and ... (> Y_0 1) ...)))`): `exactrelu verify` ended in a
# RecursionError traceback with exit 1 (the code of "violated"), and `exactrelu regions --domain`
# likewise; the checker answered s NOT VERIFIED blaming "tree: nested too deeply" for the property file.
def test_a_property_nested_too_deeply_is_refused_in_one_line(tmp_path):
    from exactrelu import checker
    from exactrelu.errors import PropertyError
    from exactrelu.vnnlib import MAX_NESTING, parse_property

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [["1", "1"]], "bias": ["0"]}, {"weight": [["1/2"]], "bias": ["0"]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    (tmp_path / "deep.vnnlib").write_text(_nested_property(500))
    for command in (["verify", "net.json", "deep.vnnlib"], ["regions", "net.json", "--domain", "deep.vnnlib"]):
        result = subprocess.run([sys.executable, "-m", "exactrelu", *command], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr and result.stdout == ""
        assert result.stderr == f"exactrelu: error: deep.vnnlib, line 8: parentheses nested more than {MAX_NESTING} deep\n"
    # the deepest accepted property (the assert, MAX_NESTING - 2 ands, the atom) is answered, and its
    # certificate checks against that file; one level more is refused by both readers alike.
    limit = MAX_NESTING - 2
    assert parse_property(_nested_property(limit), "ok").unsafe == parse_property("(declare-const X_0 Real)(declare-const X_1 Real)"
                                                                                "(declare-const Y_0 Real)(assert (> Y_0 1))", "ok").unsafe
    with pytest.raises(PropertyError, match="nested more than"):
        parse_property(_nested_property(limit + 1), "too deep")
    (tmp_path / "ok.vnnlib").write_text(_nested_property(limit))
    result = subprocess.run([sys.executable, "-m", "exactrelu", "verify", "net.json", "ok.vnnlib", "--certificate", "c.json"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("holds"), result.stderr  # max of (x0 + x1) / 2 is 1
    check = checker.Checker(str(tmp_path / "c.json"), model=str(tmp_path / "net.json"), prop=str(tmp_path / "ok.vnnlib"))
    check.run()
    (tmp_path / "ok.vnnlib").write_text(_nested_property(limit + 1))
    with pytest.raises(checker.CheckFailure, match=f"parentheses nested more than {checker.VNNLIB_NESTING} deep") as failure:
        checker.Checker(str(tmp_path / "c.json"), model=str(tmp_path / "net.json"), prop=str(tmp_path / "ok.vnnlib")).run()
    assert failure.value.location == str(tmp_path / "ok.vnnlib")
    assert checker.VNNLIB_NESTING == MAX_NESTING


# formats.md lets a property use `true`, `false` and `(* c ... t)` (several constant factors, a
# constant computed by a term); exactrelu verify read them and printed "check it with: exactrelu
# check C --model M --property P", but the checker's own VNN-LIB reader refused all three
# ('unsupported formula "true"', 'unsupported term ["*", "2", ["/", "1", "4"], "Y_0"]'), so a true
# certificate was s NOT VERIFIED against the very file it was written for.
@pytest.mark.parametrize("formula, answer", [
    ("(and true (>= Y_0 2))", "holds"),             # max of Y_0 = (x0 + x1) / 2 on [0, 1]^2 is 1
    ("(or false (>= Y_0 1))", "violated"),          # at (1, 1), exactly on the boundary
    ("true", "violated"),
    ("(> (* 2 (/ 1 4) Y_0 3) 3/2)", "holds"),       # 3/2 Y_0 > 3/2 never: Y_0 <= 1
    ("(>= (* (+ 1 1) (- Y_0 1/2) 1/4) 1/4)", "violated"),  # (Y_0 - 1/2) / 2 >= 1/4 iff Y_0 >= 1
])
def test_the_checker_reads_every_vnnlib_form_verify_reads(tmp_path, formula, answer):
    from exactrelu import checker

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [["1", "1"]], "bias": ["0"]}, {"weight": [["1/2"]], "bias": ["0"]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    (tmp_path / "p.vnnlib").write_text("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
                                       "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n"
                                       f"(assert {formula})\n")
    result = subprocess.run([sys.executable, "-m", "exactrelu", "verify", "net.json", "p.vnnlib", "--certificate", "c.json",
                             "--json"], capture_output=True, text=True, cwd=tmp_path)
    assert json.loads(result.stdout)["answer"] == answer, result.stderr
    if answer == "violated":
        x = [checker.Fraction(v) for v in json.loads(result.stdout)["counterexample"]["x"]]
        assert x == [1, 1] or formula == "true"
    check = checker.Checker(str(tmp_path / "c.json"), model=str(tmp_path / "net.json"), prop=str(tmp_path / "p.vnnlib"))
    check.run()
    assert any(what == "property" and status.startswith("pinned") for what, _, status in check.bindings)


# The same for the SMT-LIB commands formats.md says are "allowed and ignored" (set-logic, check-sat,
# ...): verify ignored them, the checker refused the file ('unsupported top-level form ["set-logic",
# "QF_LRA"]'), so the certificate verify wrote was s NOT VERIFIED against its own property file.
def test_the_checker_ignores_the_commands_verify_ignores(tmp_path):
    from exactrelu import checker

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [["1", "1"]], "bias": ["0"]}, {"weight": [["1/2"]], "bias": ["0"]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    (tmp_path / "p.vnnlib").write_text('(set-logic QF_LRA)\n(set-info :status unsat)\n(set-option :produce-models true)\n'
                                       "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
                                       "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n"
                                       "(assert (> Y_0 1))\n(check-sat)\n(get-model)\n(exit)\n")
    result = subprocess.run([sys.executable, "-m", "exactrelu", "verify", "net.json", "p.vnnlib", "--certificate", "c.json"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("holds"), result.stderr
    checker.Checker(str(tmp_path / "c.json"), model=str(tmp_path / "net.json"), prop=str(tmp_path / "p.vnnlib")).run()
    (tmp_path / "p.vnnlib").write_text((tmp_path / "p.vnnlib").read_text() + "(push 1)\n")
    with pytest.raises(checker.CheckFailure, match=r'unsupported top-level form \["push", "1"\]'):
        checker.Checker(str(tmp_path / "c.json"), model=str(tmp_path / "net.json"), prop=str(tmp_path / "p.vnnlib")).run()


# A 25-byte number with a huge exponent: the checker built 10**999999999 (minutes, gigabytes, no
# verdict) for `1e999999999` as a VNN-LIB constant (--property) or as a JSON number in a --model
# file; the package's readers refuse it at once (rationals.MAX_EXPONENT).
@pytest.mark.parametrize("where", ["property", "model"])
def test_the_checker_refuses_a_huge_exponent_at_once(tmp_path, where):
    from exactrelu import checker

    net = {"format": "exactrelu-network", "version": 1,
           "layers": [{"weight": [["1", "1"]], "bias": ["0"]}, {"weight": [["1/2"]], "bias": ["0"]}]}
    (tmp_path / "net.json").write_text(json.dumps(net))
    text = ("(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n"
            "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (>= X_1 0))\n(assert (<= X_1 1))\n(assert (> Y_0 1))\n")
    (tmp_path / "p.vnnlib").write_text(text)
    result = subprocess.run([sys.executable, "-m", "exactrelu", "verify", "net.json", "p.vnnlib", "--certificate", "c.json"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    if where == "property":
        (tmp_path / "p.vnnlib").write_text(text.replace("(> Y_0 1)", "(> Y_0 1e999999999)"))
        location = str(tmp_path / "p.vnnlib")
    else:
        (tmp_path / "net.json").write_text(json.dumps(net).replace('"1/2"', "1e999999999"))
        location = f"network {tmp_path / 'net.json'}.layers[1].weight[0][0]"
    with pytest.raises(checker.CheckFailure, match=r"'1e999999999' is not a number \(p/q, or a decimal\)") as failure:
        checker.Checker(str(tmp_path / "c.json"), model=str(tmp_path / "net.json"), prop=str(tmp_path / "p.vnnlib")).run()
    assert failure.value.location == location


@pytest.mark.parametrize("constant, reason", [("foo", "'foo' is neither a declared variable nor a number"),
                                              ("1_000", "'1_000' is neither a declared variable nor a number"),
                                              ("3/0", "'3/0' is not a number")])
def test_the_checker_reads_vnnlib_constants_as_verify_does(constant, reason):
    from exactrelu import checker
    from exactrelu.errors import PropertyError
    from exactrelu.vnnlib import parse_property

    text = f"(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 0))(assert (<= X_0 1))(assert (> Y_0 {constant}))"
    with pytest.raises(checker.CheckFailure, match=re.escape(reason)):
        checker.read_vnnlib(text, "p.vnnlib")
    with pytest.raises(PropertyError):
        parse_property(text, "p.vnnlib")


# A defect inside a command (an internal self-check that fails, or any unexpected exception) used
# to end with exit 1, which `verify` and `equiv` use for a negative answer: it is now exit 3, one
# line, no traceback, and says there is no answer.
@pytest.mark.parametrize("raised, said", [("internal", "internal self-check failed: region 0 differs"),
                                          ("unexpected", "internal error (RecursionError: too deep)")])
def test_a_defect_in_a_command_is_no_answer_and_never_exit_1(monkeypatch, capsys, raised, said):
    import exactrelu.commands.verify as verify_command
    from exactrelu.commands import main
    from exactrelu.errors import InternalError

    def broken(args):
        raise InternalError("region 0 differs") if raised == "internal" else RecursionError("too deep")

    monkeypatch.setattr(verify_command, "run", broken)
    code = main(["verify", str(EXAMPLES / "abs.json"), "p.vnnlib"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("exactrelu: INCOMPLETE: " + said) and "there is no answer" in err
    assert "Traceback" not in err and err.count("\n") == 1
