"""The command layer in its own room: library modules import no command module (statically, and
in a fresh process), every command is registered, an empty flag value is a usage error, and the
command-side bindings: ``info`` prints a shallow file's SHA-256 as the checker computes it, an
empty domain is refused at production, and the printed check hints name every binding."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from exactrelu import checker, commands
from exactrelu.network import ReluNetwork

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "exactrelu"
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
PLANE = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 1]], [0])])


@pytest.fixture
def model(abs_model: Path) -> Path:
    return abs_model


# ============================================================================ layering
def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against the package."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(ROOT).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names |= {f"{module}.{a.name}" for a in node.names}
    return names


def test_no_library_module_imports_the_command_layer() -> None:
    library = [p for p in PACKAGE.rglob("*.py") if "commands" not in p.relative_to(PACKAGE).parts
               and p.name not in ("cli.py", "__main__.py")]
    assert len(library) > 20
    for path in library:
        upward = {m for m in _imports(path) if m.startswith("exactrelu.commands") or m == "exactrelu.cli"}
        assert not upward, f"{path.relative_to(ROOT)} imports {upward}"
        assert "argparse" not in _imports(path) or path.name == "checker.py", path


def test_the_checker_imports_nothing_from_the_package() -> None:
    assert not {m for m in _imports(PACKAGE / "checker.py") if m.startswith("exactrelu")}


def test_library_modules_load_no_command_module_and_no_argparse() -> None:
    code = ("import sys, json, exactrelu.plot, exactrelu.explain, exactrelu.equiv, exactrelu.prune, exactrelu.report, "
            "exactrelu.demo\n"
            "print(json.dumps(sorted(m for m in sys.modules if m == 'argparse' or m.startswith('exactrelu.commands') "
            "or m == 'exactrelu.cli')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout) == [], done.stderr


def test_every_command_has_its_module() -> None:
    assert set(commands.COMMANDS) == {"info", "eval", "convert", "regions", "shallow", "check", "report", "demo",
                                      "equiv", "prune", "explain", "plot", "verify"}
    for name, module_name in commands.COMMANDS.items():
        module = __import__(module_name, fromlist=["run"])
        assert module.SUMMARY and module.EXAMPLE.startswith(f"exactrelu {name}")
        assert callable(module.configure) and callable(module.run)


def test_a_command_that_cannot_import_does_not_take_the_others_down(monkeypatch, run_main, model) -> None:
    monkeypatch.setitem(commands.COMMANDS, "plot", "exactrelu.commands.no_such_module")
    code, out, err = run_main("eval", model, "--x", "2")
    assert code == 0 and out == "2\n"
    code, _, err = run_main("plot", model, "-o", "x.png")
    assert code == 2 and "the command 'plot' is unavailable" in err


def test_python_dash_m_runs_the_command_layer(model) -> None:
    done = subprocess.run([sys.executable, "-m", "exactrelu", "eval", str(model), "--x", "-1/3"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and done.stdout == "1/3\n", done.stderr


# ============================================================================ empty values
@pytest.mark.parametrize("argv, flag", [
    (["check", "c.json", "--model", ""], "--model"),
    (["check", "c.json", "--domain="], "--domain"),
    (["check", "c.json", "--shallow", ""], "--shallow"),
    (["shallow", "{model}", "-o", ""], "-o"),
    (["shallow", "{model}", "--box", "", "-o", "s.json"], "--box"),
    (["regions", "{model}", "--domain", ""], "--domain"),
    (["info", ""], "argument 2"),
    (["equiv", "{model}", "{model}", "--certificate="], "--certificate"),
])
def test_an_empty_flag_value_is_a_usage_error(run_main, model, argv, flag) -> None:
    code, out, err = run_main(*[a.format(model=model) for a in argv])
    assert code == 2 and out == ""
    assert err == f"exactrelu: error: {flag}: empty value (an unset shell variable?)\n"


def test_a_nul_byte_in_an_argument_is_one_clear_line(run_main, model) -> None:
    code, _, err = run_main("info", f"{model}\0x")
    assert code == 2 and err == "exactrelu: error: argument 2 contains a NUL byte\n"


# ============================================================================ bindings
def test_info_prints_the_shallow_sha256_the_certificate_records(run_main, tmp_path, model) -> None:
    code, out, _ = run_main("shallow", model, "--box=-1:1", "-o", tmp_path / "s.json")
    assert code == 0
    code, out, _ = run_main("info", tmp_path / "s.json", "--json")
    info = json.loads(out)
    cert = json.loads((tmp_path / "s.cert.json").read_text())
    assert info["sha256"] == cert["shallow"]["sha256"]
    assert info["sha256"] == checker.raw_sha256(json.loads((tmp_path / "s.json").read_text()))
    assert info["deep_sha256"] == ABS.sha256()


def test_info_prints_both_hashes_a_certificate_may_record_labelled(run_main, tmp_path, model) -> None:
    """A version-2 certificate pins the shallow file's JSON value (canonical text), a version-3 one
    (``--stream``) the file's bytes: ``info`` prints both, each labelled with the version that pins
    it, and each equals what that version's certificate records."""
    import hashlib

    for flags, version, key in (([], 2, "sha256"), (["--stream"], 3, "file_sha256")):
        folder = tmp_path / f"v{version}"
        folder.mkdir()
        assert run_main("shallow", model, "--box=-1:1", *flags, "-o", folder / "s.json")[0] == 0
        data = (folder / "s.json").read_bytes()
        cert = json.loads((folder / "s.cert.json").read_text().splitlines()[0] if version == 3 else
                          (folder / "s.cert.json").read_text())
        assert cert["version"] == version
        code, out, _ = run_main("info", folder / "s.json", "--json")
        info = json.loads(out)
        assert info[key] == cert["shallow"]["sha256"]
        assert info["file_sha256"] == hashlib.sha256(data).hexdigest()
        assert info["sha256"] == checker.raw_sha256(json.loads(data))
        # the streamed file is the canonical text itself; the default one is indented
        assert (info["sha256"] == info["file_sha256"]) == (version == 3)
        code, out, _ = run_main("info", folder / "s.json")
        lines = out.splitlines()
        assert code == 0 and lines[-2:] == [
            f"sha256 (of its JSON value, sorted keys, no spaces: pinned by version-2 certificates): {info['sha256']}",
            f"sha256 of the file's bytes (pinned by version-3 certificates, shallow --stream): {info['file_sha256']}"]
    # a deep network keeps its one hash, unlabelled
    code, out, _ = run_main("info", model)
    assert code == 0 and out.splitlines()[-1] == f"sha256: {ABS.sha256()}"


def test_the_shallow_hint_names_every_binding_and_verifies(run_main, tmp_path, model) -> None:
    out_path = tmp_path / "s.json"
    code, out, _ = run_main("shallow", model, "--box=-1/2:3", "-o", out_path)
    hint = out.splitlines()[-1]
    assert hint == (f"check it with: exactrelu check {tmp_path / 's.cert.json'} --model {model} "
                    f"--shallow {out_path} --box=-1/2:3")
    domain = tmp_path / "d.json"
    domain.write_text(json.dumps({"box": [["-1/2", 3]]}))
    code, out, _ = run_main("shallow", model, "--domain", domain, "-o", out_path, "--json")
    summary = json.loads(out)
    assert summary["check"].endswith(f"--model {model} --shallow {out_path} --domain {domain}")
    code, out, _ = run_main(*summary["check"].split()[1:])
    assert code == 0 and out == "s VERIFIED\n"  # the hint runs as printed


def test_the_equiv_and_prune_hints_name_both_networks(run_main, tmp_path, model) -> None:
    code, out, _ = run_main("equiv", model, model, "--box=-1:1", "--certificate", tmp_path / "e.json")
    assert code == 0
    assert out.splitlines()[-1].endswith(f"exactrelu check {tmp_path / 'e.json'} --model-a {model} --model-b {model} "
                                         "--box=-1:1")
    code, out, _ = run_main("prune", model, "--box=0:1", "-o", tmp_path / "p.json")
    assert code == 0
    assert out.splitlines()[-1].endswith(f"exactrelu check {tmp_path / 'p.cert.json'} --model {model} "
                                         f"--pruned {tmp_path / 'p.json'} --box=0:1")


def test_an_empty_domain_is_an_error_at_production(run_main, tmp_path, model) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"A": [[1], [-1]], "b": [-1, -1]}))  # x <= -1 and x >= 1
    for argv in (["shallow", model, "--domain", empty, "-o", tmp_path / "s.json"],
                 ["regions", model, "--domain", empty],
                 ["equiv", model, model, "--domain", empty],
                 ["shallow", model, "--box=1:-1", "-o", tmp_path / "s.json"]):
        code, out, err = run_main(*argv)
        assert code == 2 and out == "" and len(err.splitlines()) == 1 and "the domain is empty" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abs.json", "empty.json"]


def test_a_malformed_domain_file_is_one_clear_line(run_main, tmp_path, model) -> None:
    for text in ('{"box": [[0, 1]', '{"box": "0:1"}', '{"A": [[1]], "b": ["x"]}', "\x00\x01"):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        code, out, err = run_main("regions", model, "--domain", bad)
        assert code == 2 and out == "" and len(err.splitlines()) == 1 and str(bad) in err, err
