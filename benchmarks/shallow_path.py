"""The size of the checker's shallow-certificate path: how many statements of ``exactrelu/checker.py``
run when it checks a shallow certificate (issue 12's target: at most 600).

It writes, in a scratch folder, a version-2 certificate (``exactrelu shallow``) and a version-3 one
(``exactrelu shallow --stream``) for the same random network over a box, runs the checker on each
(``exactrelu.checker.main([CERT])``, nothing pinned) under coverage.py, and prints the union of the
statements executed: in all (module level included: imports, ``def`` and ``class`` lines,
constants) and inside function bodies, with the lines of checker.py and its statements.

    PYTHONPATH=$PWD:/path/to/coverage python benchmarks/shallow_path.py [--widths 2,6,5,1] [--seed 3]

coverage.py is not a dependency of the package: install it anywhere on the path (for example
``pip install --target /work/covlib coverage`` and add that folder to ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import tempfile
from pathlib import Path

import coverage

from common import random_network

import exactrelu.checker as checker_module
from exactrelu.cli import main as cli_main

CHECKER = Path(checker_module.__file__).resolve()


def function_lines(source: str) -> set:
    """The line numbers inside the bodies of functions and methods (their ``def`` lines excluded)."""
    inside = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(range(node.body[0].lineno, node.end_lineno + 1))
    return inside


def write_certificates(folder: Path, widths: list, seed: int) -> list:
    """The network's JSON file, then a version-2 and a version-3 certificate of it over [-2, 2]^n."""
    net = random_network(widths, seed)
    model = folder / "net.json"
    model.write_text(net.canonical_json())
    box = "--box=-2:2"
    certs = []
    for name, extra in (("v2", []), ("v3", ["--stream"])):
        cert = folder / f"{name}.cert.json"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = cli_main(["shallow", str(model), box, "-o", str(folder / f"{name}.shallow.json"),
                             "--certificate", str(cert), "--quiet", *extra])
        if code != 0:
            raise SystemExit(f"exactrelu shallow {' '.join(extra)} failed (exit {code})")
        certs.append(cert)
    return certs


def executed(certs: list) -> tuple:
    """The statements of checker.py, and those run while it is imported afresh and checks ``certs``
    (each must verify)."""
    import importlib

    cov = coverage.Coverage(data_file=None, include=[str(CHECKER)], branch=False)
    cov.start()
    try:
        fresh = importlib.reload(checker_module)  # module-level statements are counted too
        for cert in certs:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = fresh.main([str(cert)])
            if code != 0:
                raise SystemExit(f"{cert.name}: {out.getvalue().strip()} (exit {code})")
    finally:
        cov.stop()
    _, statements, _, missing, _ = cov.analysis2(str(CHECKER))
    return statements, set(statements) - set(missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", default="2,6,5,1", help="the random network's widths (default 2,6,5,1)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    source = CHECKER.read_text()
    inside = function_lines(source)
    print(f"network {args.widths} seed {args.seed}, box [-2,2]^{widths[0]}; checker.py: "
          f"{len(source.splitlines())} lines, ", end="")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        v2, v3 = write_certificates(Path(scratch), widths, args.seed)
        for label, certs in (("version 2", [v2]), ("version 3", [v3]), ("both (the shallow path)", [v2, v3])):
            statements, run = executed(certs)
            rows.append(f"| {label} | {len(run)} | {len(run & inside)} |")
    print(f"{len(statements)} statements")
    print("| certificates checked | statements run | of them inside functions |")
    print("| --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
