"""The checker is independent of the code that produces certificates (DESIGN.md sections 4-5).

Each property is tested in a fresh interpreter (``subprocess``), so that nothing this test
session imported can hide a dependency:

* ``import exactrelu.checker`` loads no other ``exactrelu`` module (nor numpy, cdd, flint, sympy);
* ``exactrelu/checker.py`` loaded as a lone file verifies a certificate without any of them;
* a copy of ``checker.py`` alone in an empty folder, run as ``python checker.py CERT`` with no
  site-packages at all (``-S``), verifies a certificate and rejects a tampered one;
* statically, ``checker.py`` imports only the standard library (and sympy, lazily).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import exactrelu.checker
from exactrelu.certificate import write_certificate
from exactrelu.domain import Domain
from exactrelu.network import ReluNetwork
from exactrelu.regions import enumerate_regions
from exactrelu.shallow import build_shallow, save_shallow

CHECKER = Path(exactrelu.checker.__file__).resolve()
REPO = CHECKER.parent.parent
HEAVY = ("numpy", "cdd", "flint", "sympy")


def run_python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    """An embedded certificate, a certificate naming its shallow file, and a tampered one."""
    folder = tmp_path_factory.mktemp("independence")
    net = ReluNetwork.from_lists([([[1, 0], [-1, 0], [1, -1]], [0, 0, "1/2"]), ([[1, 2, -1], [0, 1, 1]], [0, "-1/3"])])
    e = enumerate_regions(net, Domain.box(["-1", "-1"], ["1", "1"]))
    s = build_shallow(e)
    embedded = folder / "embedded.cert.json"
    write_certificate(embedded, e, s)
    save_shallow(s, folder / "shallow.json")
    named = folder / "named.cert.json"
    write_certificate(named, e, s, folder / "shallow.json")
    data = json.loads(embedded.read_text())
    data["leaves"][0]["alpha"][0][0] = "12345"
    tampered = folder / "tampered.cert.json"
    tampered.write_text(json.dumps(data))
    return {"embedded": embedded, "named": named, "tampered": tampered}


def test_importing_the_checker_loads_no_other_exactrelu_module() -> None:
    code = (
        "import sys, json\n"
        "import exactrelu.checker\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'exactrelu' or m.startswith('exactrelu.')"
        f" or m.split('.')[0] in {HEAVY!r})))\n"
    )
    result = run_python("-c", code, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["exactrelu", "exactrelu.checker"]


def test_the_checker_file_alone_verifies_without_numpy_cdd_flint_sympy(certs) -> None:
    code = (
        "import importlib.util, json, sys, io, contextlib\n"
        f"spec = importlib.util.spec_from_file_location('lone_checker', {str(CHECKER)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "codes = []\n"
        "for path in sys.argv[1:]:\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        codes.append((module.main([path]), out.getvalue()))\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('exactrelu', 'numpy', 'cdd', 'flint', 'sympy'))\n"
        "print(json.dumps({'codes': codes, 'loaded': loaded}))\n"
    )
    result = run_python("-c", code, str(certs["embedded"]), str(certs["named"]), str(certs["tampered"]), cwd=certs["embedded"].parent)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["codes"] == [[0, "s VERIFIED\n"], [0, "s VERIFIED\n"], [1, "s NOT VERIFIED\n"]]
    assert report["loaded"] == []
    assert "c leaves[0].alpha: the affine map differs" in result.stderr


def test_a_copy_of_checker_py_alone_verifies(certs, tmp_path: Path) -> None:
    folder = tmp_path / "lone"
    folder.mkdir()
    shutil.copy(CHECKER, folder / "checker.py")
    assert sorted(p.name for p in folder.iterdir()) == ["checker.py"]
    # -S: no site-packages (so neither exactrelu nor numpy/sympy is importable); -I: isolated mode
    for name in ("embedded", "named"):
        result = run_python("-S", "-I", "checker.py", str(certs[name]), cwd=folder)
        assert (result.returncode, result.stdout) == (0, "s VERIFIED\n"), result.stderr
        assert result.stderr.startswith("c ") and "regions" in result.stderr
    result = run_python("-S", "-I", "checker.py", str(certs["tampered"]), cwd=folder)
    assert (result.returncode, result.stdout) == (1, "s NOT VERIFIED\n")
    assert result.stderr.startswith("c leaves[0].alpha: ") and "Traceback" not in result.stderr
    # --symbolic needs sympy: without it the verdict is a refusal, never a traceback
    result = run_python("-S", "-I", "checker.py", "--symbolic", str(certs["embedded"]), cwd=folder)
    assert (result.returncode, result.stdout) == (1, "s NOT VERIFIED\n")
    assert result.stderr.splitlines()[0] == "c --symbolic: sympy is not installed"
    # and with the usual site-packages, --symbolic works from the lone file
    result = run_python("checker.py", "--symbolic", str(certs["embedded"]), cwd=folder)
    assert (result.returncode, result.stdout) == (0, "s VERIFIED\n"), result.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name != "__pycache__") == ["checker.py"]


def test_python_dash_m_exactrelu_checker(certs) -> None:
    result = run_python("-m", "exactrelu.checker", str(certs["named"]), cwd=REPO)
    assert (result.returncode, result.stdout) == (0, "s VERIFIED\n"), result.stderr


def test_checker_source_imports_only_the_standard_library() -> None:
    tree = ast.parse(CHECKER.read_text(encoding="utf-8"))
    top_level, nested = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, "checker.py must not use relative imports"
                names = {node.module.split(".")[0]}
            else:
                names = {alias.name.split(".")[0] for alias in node.names}
            (top_level if node in tree.body else nested).update(names)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    assert top_level <= stdlib, top_level - stdlib
    assert nested - stdlib <= {"sympy"}, nested - stdlib
    assert "exactrelu" not in top_level | nested


def test_json_numbers_in_a_model_file_become_their_binary64_value_without_floats() -> None:
    """The checker reads a ``--model`` file's JSON numbers as the binary64 values they denote, in
    integer arithmetic; it must agree with Python's correctly rounded ``float`` everywhere: normal
    and subnormal numbers, exact ties (rounded to even), the largest finite value, and overflow."""
    import random
    import struct
    from fractions import Fraction

    from exactrelu.checker import CheckFailure, nearest_binary64

    rng = random.Random(7)
    texts = ["0.1", "-0.25", "1e-3", "3.141592653589793", "5e-324", "2.4703282292062328e-324",
             "2.4703282292062327e-324", "1.7976931348623157e308", "2.2250738585072014e-308",
             "9007199254740993", "9007199254740995", "0.30000000000000004", "-0.0"]
    for _ in range(2000):
        bits = rng.getrandbits(64) & ~(0x7FF << 52) | (rng.randrange(0x7FF) << 52)
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
        texts.append(repr(value))
        texts.append(f"{value:.{rng.randrange(1, 25)}e}")
    for text in texts:
        assert nearest_binary64(Fraction(text), "x") == Fraction(float(text)), text
    with pytest.raises(CheckFailure, match="not a finite binary64"):
        nearest_binary64(Fraction("1.8e308"), "x")
