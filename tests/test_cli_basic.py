"""The ``exactrelu`` command: info, eval, convert, regions, shallow, check, and the exit codes and
one-line messages of bad input (2) and of an exhausted region budget (3)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.commands import main
from exactrelu.io import load_model
from exactrelu.network import ReluNetwork
from exactrelu.shallow import load_shallow

F = Fraction
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])  # |x|: 3 regions over R
# y = relu(x1 + 2 x2) - relu(-x1 + x2 + 1) + 1/2
HAND = ReluNetwork.from_lists([([[1, 2], [-1, 1]], [0, 1]), ([[1, -1]], ["1/2"])])


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exactrelu", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def assert_one_line_error(err: str, pattern: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("exactrelu: error: ")
    import re

    assert re.search(pattern, lines[0]), lines[0]


@pytest.fixture
def abs_path(net_json) -> Path:
    return net_json(ABS, "abs.json")


@pytest.fixture
def hand_path(net_json) -> Path:
    return net_json(HAND, "hand.json")


# ============================================================================ info / eval / convert
def test_info(capsys, hand_path: Path) -> None:
    code, out, err = run(capsys, "info", str(hand_path))
    assert code == 0
    assert "format: json" in out and "inputs: 2" in out and "outputs: 1" in out
    assert "widths: [2, 2, 1]" in out and "neurons: 2" in out and "parameters: 9" in out
    assert f"sha256: {HAND.sha256()}" in out
    code, out, _ = run(capsys, "info", str(hand_path), "--json")
    info = json.loads(out)
    assert code == 0 and info["widths"] == [2, 2, 1] and info["sha256"] == HAND.sha256()


def test_eval_exact_line_and_json(capsys, hand_path: Path) -> None:
    code, out, err = run(capsys, "eval", str(hand_path), "--x", "1/3,-0.25")
    assert (code, out, err) == (0, "1/12\n", "")
    code, out, err = run(capsys, "eval", str(hand_path), "--x", "2,1", "--json")
    assert code == 0 and json.loads(out) == {"output": ["9/2"]}


def test_eval_negative_first_entry(capsys, abs_path: Path, hand_path: Path) -> None:
    assert run(capsys, "eval", str(abs_path), "--x", "-1/3") == (0, "1/3\n", "")
    assert run(capsys, "eval", str(abs_path), "--x=-1/3") == (0, "1/3\n", "")
    # z1 = -3 + 1 = -2; z2 = 3 + 1/2 + 1 = 9/2; y = -9/2 + 1/2 = -4
    assert run(capsys, "eval", str(hand_path), "--x", "-3,1/2") == (0, "-4\n", "")


def test_eval_by_subprocess_with_negative_point(tmp_path: Path, abs_path: Path) -> None:
    result = run_process("eval", str(abs_path), "--x", "-1/3", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"output": ["1/3"]}


def test_convert(capsys, tmp_path: Path) -> None:
    src = tmp_path / "floaty.json"
    src.write_text(json.dumps({"format": "exactrelu-network", "version": 1,
                               "layers": [{"weight": [[0.1, "1/3"]], "bias": [0.5]}, {"weight": [["2"]], "bias": ["-1e-3"]}]}))
    out_path = tmp_path / "exact.json"
    code, out, err = run(capsys, "convert", str(src), str(out_path))
    assert code == 0 and "wrote" in err
    converted = load_model(out_path).network
    assert converted == load_model(src).network
    assert converted.layers[0].weight[0] == (F(0.1), F(1, 3)) and converted.layers[1].bias == (F(-1, 1000),)
    data = json.loads(out_path.read_text(), parse_float=lambda t: pytest.fail(f"JSON float {t}"))
    assert data["layers"][0]["weight"][0][0] == "3602879701896397/36028797018963968"


# ============================================================================ regions
def _rational_fields(item: dict) -> list:
    values = list(item["witness"]) + list(item["beta"])
    values += [v for row in item["alpha"] for v in row]
    for cond in item["conditions"]:
        values += list(cond["w"]) + [cond["b"]]
    return values


def test_regions_json_stdout(capsys, abs_path: Path) -> None:
    code, out, err = run(capsys, "regions", str(abs_path), "--json", "-")
    assert code == 0
    data = json.loads(out)  # nothing but the JSON on stdout
    assert (data["regions"], data["full_dimensional"], data["lower_dimensional"]) == (3, 2, 1)
    patterns = {tuple(map(tuple, item["pattern"])): item for item in data["items"]}
    assert set(patterns) == {((1, 0),), ((0, 1),), ((0, 0),)}
    zero = patterns[((0, 0),)]
    assert zero["full_dimensional"] is False and zero["witness"] == ["0"]
    assert [c["rel"] for c in zero["conditions"]] == ["<=", "<="]
    assert [c["rel"] for c in patterns[((1, 0),)]["conditions"]] == [">", "<="]


def test_regions_json_file_has_every_rational_as_string(capsys, tmp_path: Path, hand_path: Path) -> None:
    out_path = tmp_path / "regions.json"
    code, out, err = run(capsys, "regions", str(hand_path), "--box", "-1/2:3/2,-1:1", "--json", str(out_path))
    assert code == 0
    assert out.startswith(f"{json.loads(out_path.read_text())['regions']} regions (")
    data = json.loads(out_path.read_text(), parse_float=lambda t: pytest.fail(f"JSON float {t}"))
    assert data["domain"] == {"kind": "box", "dim": 2, "lower": ["-1/2", "-1"], "upper": ["3/2", "1"]}
    assert data["items"]
    for item in data["items"]:
        fields = _rational_fields(item)
        assert fields and all(isinstance(v, str) for v in fields)
        # each witness evaluates, through the region's model, to the network's value
        x = [F(v) for v in item["witness"]]
        model = sum((F(a) * v for a, v in zip(item["alpha"][0], x)), F(item["beta"][0]))
        assert HAND.evaluate(x) == (model,)


def test_regions_budget_exits_3_and_writes_nothing(capsys, tmp_path: Path, abs_path: Path) -> None:
    out_path = tmp_path / "regions.json"
    code, out, err = run(capsys, "regions", str(abs_path), "--max-regions", "1", "--json", str(out_path))
    assert code == 3
    assert "INCOMPLETE" in err and len(err.strip().splitlines()) == 1
    assert not out_path.exists() and out == ""
    shallow_path = tmp_path / "s.json"
    code, out, err = run(capsys, "shallow", str(abs_path), "--max-regions", "2", "-o", str(shallow_path))
    assert code == 3
    assert not shallow_path.exists() and not (tmp_path / "s.cert.json").exists()
    assert list(tmp_path.iterdir()) == [abs_path]  # no temporary files left either
    code, out, err = run(capsys, "regions", str(abs_path), "--max-regions", "3")
    assert code == 0 and out.startswith("3 regions (2 full-dimensional, 1 lower-dimensional)")


# ============================================================================ shallow / check
def test_shallow_writes_network_and_certificate_and_check_verifies(capsys, tmp_path: Path, hand_path: Path) -> None:
    out_path = tmp_path / "hand_shallow.json"
    code, out, err = run(capsys, "shallow", str(hand_path), "--box", "-2:2", "-o", str(out_path))
    assert code == 0, err
    cert = tmp_path / "hand_shallow.cert.json"
    assert out_path.is_file() and cert.is_file()
    s = load_shallow(out_path)
    assert len(s.layers) == 4 and s.deep_sha256 == HAND.sha256()
    for x in ([F(1, 3), F(-1, 4)], [F(2), F(1)], [F(0), F(0)], [F(-2), F(2)]):
        assert s.evaluate(x) == HAND.evaluate(x)
    code, out, err = run(capsys, "check", str(cert))
    assert (code, out) == (0, "s VERIFIED\n")
    code, out, err = run(capsys, "check", str(cert), "--model", str(hand_path))
    assert (code, out) == (0, "s VERIFIED\n")
    # a shallow file is recognised by info and eval
    code, out, _ = run(capsys, "info", str(out_path), "--json")
    assert code == 0 and json.loads(out)["format"] == "exactrelu-shallow"
    assert run(capsys, "eval", str(out_path), "--x", "1/3,-0.25") == (0, "1/12\n", "")


def test_check_by_subprocess(tmp_path: Path, abs_path: Path) -> None:
    result = run_process("shallow", str(abs_path), "-o", str(tmp_path / "s.json"), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run_process("check", str(tmp_path / "s.cert.json"), cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "s VERIFIED\n"


def test_check_refuses_a_certificate_for_another_model(capsys, tmp_path: Path, abs_path: Path, hand_path: Path) -> None:
    out_path = tmp_path / "s.json"
    assert run(capsys, "shallow", str(abs_path), "-o", str(out_path), "--quiet")[0] == 0
    code, out, err = run(capsys, "check", str(tmp_path / "s.cert.json"), "--model", str(hand_path))
    assert (code, out) == (1, "s NOT VERIFIED\n")


def test_eval_of_shallow_outside_its_box_warns(capsys, tmp_path: Path, abs_path: Path) -> None:
    out_path = tmp_path / "s.json"
    assert run(capsys, "shallow", str(abs_path), "--box", "-1:1", "-o", str(out_path), "--quiet")[0] == 0
    code, out, err = run(capsys, "eval", str(out_path), "--x", "5")
    assert code == 0 and out == "5\n"  # the pattern of x = 5 occurs in the box
    assert err.startswith("warning: the point is outside the domain [-1, 1]")
    code, out, err = run(capsys, "eval", str(out_path), "--x", "1/2")
    assert (code, out, err) == (0, "1/2\n", "")


# ============================================================================ bad input: exit 2
@pytest.mark.parametrize(
    "argv, pattern",
    [
        (["eval", "{hand}", "--x", "1"], r"--x: has 1 entries, the network has 2 inputs"),
        (["eval", "{hand}", "--x", "1,2,3"], r"--x: has 3 entries, the network has 2 inputs"),
        (["eval", "{hand}", "--x", "1,abc"], r"--x entry 2: 'abc' is not a rational number"),
        (["eval", "{hand}", "--x", "1,,2"], r"--x: expected comma-separated numbers"),
        (["eval", "{hand}", "--x", "nan,1"], r"--x entry 1: 'nan' is not a rational number"),
        (["info", "{dir}/model.h5"], r"unknown file extension '\.h5'; supported: \.json, \.nnet, \.npz, \.onnx, \.pt, \.pth"),
        (["info", "{dir}/absent.json"], r"absent\.json: no such file"),
        (["eval", "{dir}/absent.json", "--x", "1"], r"absent\.json: no such file"),
        (["info", "{dir}/broken.json"], r"broken\.json: invalid JSON at line \d+ column \d+"),
        (["info", "{dir}/empty.json"], r"empty\.json: empty network"),
        (["regions", "{hand}", "--box", "1:0,0:1"], r"--box: input 1 has LO > HI \(1 > 0\)"),
        (["regions", "{hand}", "--box=-1:1,0:1,0:1"], r"--box: has 3 intervals but the network has 2 inputs"),
        (["shallow", "{hand}", "--box", "0:1,0:1,0:1", "-o", "{dir}/s.json"], r"--box: has 3 intervals"),
        (["regions", "{hand}", "--box", "x"], r"--box: entry 1 'x' is not LO:HI"),
        (["regions", "{hand}", "--domain", "{dir}/dom3.json"], r"domain has dimension 3 but the network has 2 inputs"),
        (["regions", "{hand}", "--box", "0:1", "--domain", "{dir}/dom3.json"], r"either --box or --domain"),
        (["shallow", "{hand}", "-o", "{dir}/nofolder/s.json"], r"does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, tmp_path: Path, hand_path: Path, argv: list, pattern: str) -> None:
    (tmp_path / "model.h5").write_text("x")
    (tmp_path / "broken.json").write_text('{"format": "exactrelu-network", "layers": [')
    (tmp_path / "empty.json").write_text("")
    (tmp_path / "dom3.json").write_text('{"box": [[0, 1], [0, 1], [0, 1]]}')
    args = [a.format(hand=hand_path, dir=tmp_path) for a in argv]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, pattern)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_bad_input_by_subprocess_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = run_process("eval", str(bad), "--x", "1", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert_one_line_error(result.stderr, r"bad\.json: invalid JSON")


def test_eval_of_tampered_shallow_exits_2(capsys, tmp_path: Path, abs_path: Path) -> None:
    out_path = tmp_path / "s.json"
    assert run(capsys, "shallow", str(abs_path), "-o", str(out_path), "--quiet")[0] == 0
    data = json.loads(out_path.read_text())
    weights = data["layers"][2]["weights"]
    weights[weights.index([0, 0, "-inf"])] = [0, 0, "inf"]  # gate of x > 0: +inf p_0 - inf a_1
    out_path.write_text(json.dumps(data))
    code, out, err = run(capsys, "eval", str(out_path), "--x", "-2")
    assert code == 2 and out == ""
    assert_one_line_error(err, r"inf - inf is undefined \(the shallow network is malformed\)")


# ============================================================================ known bugs
def _sorted_shallow_file(tmp_path: Path, random_network) -> Path:
    """A valid shallow file re-serialised with sorted keys (the project's own canonical key order),
    large enough that its "format" field lies beyond the first 4096 characters."""
    import random

    from exactrelu.regions import enumerate_regions
    from exactrelu.shallow import build_shallow

    net = random_network(random.Random(34), [3, 8, 1], "generic")
    s = build_shallow(enumerate_regions(net))
    text = json.dumps(s.to_dict(), sort_keys=True, indent=1)
    assert text.index('"format"') > 4096
    path = tmp_path / "sorted_shallow.json"
    path.write_text(text)
    assert load_shallow(path).to_dict() == s.to_dict()  # the file is a valid shallow network
    return path


def test_sorted_shallow_file_is_valid(tmp_path: Path, random_network) -> None:
    _sorted_shallow_file(tmp_path, random_network)


@pytest.mark.parametrize("command", [["info"], ["eval", "--x", "0,0,0"]])
def test_info_and_eval_recognise_a_shallow_file_with_sorted_keys(capsys, tmp_path: Path, random_network, command) -> None:
    path = _sorted_shallow_file(tmp_path, random_network)
    code, out, err = run(capsys, command[0], str(path), *command[1:])
    assert code == 0, err


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", "{abs}", "{dir}/missing/out.json"],
        ["convert", "{abs}", "{dir}/folder"],
        ["regions", "{abs}", "--json", "{dir}/missing/regions.json"],
        ["regions", "{abs}", "--json", "{dir}/folder"],
        ["shallow", "{abs}", "-o", "{dir}/folder", "--quiet"],
        ["shallow", "{abs}", "-o", "{dir}/s.json", "--certificate", "{dir}/folder", "--quiet"],
    ],
)
def test_unwritable_output_exits_2_with_one_line(tmp_path: Path, abs_path: Path, argv: list) -> None:
    (tmp_path / "folder").mkdir()
    args = [a.format(abs=abs_path, dir=tmp_path) for a in argv]
    result = run_process(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert_one_line_error(result.stderr, r"folder|missing")


def test_deeply_nested_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    result = run_process("info", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, r"deep\.json")


def test_check_json_reports_the_verdict(tmp_path: Path, capsys) -> None:
    """``check --json`` prints one JSON object: verified with the sizes, or the reason and place."""
    net = tmp_path / "abs.json"
    net.write_text('{"format": "exactrelu-network", "version": 1, "layers": ['
                   '{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}')
    assert main(["shallow", str(net), "-o", str(tmp_path / "s.json"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path / "s.cert.json"), "--json"]) == 0
    good = json.loads(capsys.readouterr().out)
    assert good["verified"] is True and good["leaves"] == 3 and good["empty"] == 1
    cert = tmp_path / "s.cert.json"
    data = json.loads(cert.read_text())
    data["version"] = 3
    cert.write_text(json.dumps(data))
    assert main(["check", str(cert), "--json"]) == 1
    bad = json.loads(capsys.readouterr().out)
    assert bad["verified"] is False and bad["location"] == "version" and "unsupported" in bad["reason"]
    assert bad["kind"] == "shallow" and bad["bindings"] == []
    assert good["kind"] == "shallow" and [b["what"] for b in good["bindings"]] == ["deep network", "domain", "shallow network"]
    assert good["bindings"][2]["status"].startswith("named by the certificate (") and good["bindings"][0]["status"].startswith("embedded")


def test_check_domain_pins_the_domain(tmp_path: Path, capsys) -> None:
    """``check --domain FILE`` verifies only a certificate about exactly that domain (a certificate
    over a smaller box must not pass for the box the auditor asked about)."""
    net = tmp_path / "abs.json"
    net.write_text('{"format": "exactrelu-network", "version": 1, "layers": ['
                   '{"weight": [[1], [-1]], "bias": [0, 0]}, {"weight": [[1, 1]], "bias": [0]}]}')
    assert main(["shallow", str(net), "--box=-1:1/2", "-o", str(tmp_path / "s.json"), "--quiet"]) == 0
    same, wider = tmp_path / "same.json", tmp_path / "wider.json"
    same.write_text('{"box": [[-1, 0.5]]}')  # JSON numbers are read exactly: 0.5 is 1/2
    wider.write_text('{"box": [["-1", "1"]]}')
    capsys.readouterr()
    assert main(["check", str(tmp_path / "s.cert.json"), "--domain", str(same)]) == 0
    assert capsys.readouterr().out == "s VERIFIED\n"
    assert main(["check", str(tmp_path / "s.cert.json"), "--domain", str(wider)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "s NOT VERIFIED\n" and "another domain" in captured.err
