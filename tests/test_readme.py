"""Every command of README.md's "60-second tour" runs and does what its comment promises.

The tour is the first ```` ```sh ```` block after the heading "A 60-second tour".  Each line is
``exactrelu ARGS   # comment``; it is run as ``python -m exactrelu ARGS`` in a scratch folder that
holds a copy of the repository's ``examples/`` folder, in order (later commands read the files
earlier ones wrote).  Every command must exit with code 0, and the promises in the comments are
checked:

* ``# exact output: 1/3``, ``# ...: 1/3``: the output is exactly that rational;
* ``# 3 regions ...``: the output says ``3 regions``;
* ``# s VERIFIED``: the checker's verdict line is ``s VERIFIED``;
* ``# writes A and B``: both files exist;
* ``-o FILE``: the file exists (and is not empty);
* ``# widths, counts, SHA-256``: ``info`` shows the widths and the SHA-256.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RATIONAL_AT_END = re.compile(r":\s*(-?\d+(?:/\d+)?)\s*$")
REGIONS = re.compile(r"\b(\d+) regions\b")
WRITES = re.compile(r"\bwrites ([\w./-]+) and ([\w./-]+)")


def tour() -> list[tuple[str, str]]:
    """``(command, comment)`` for each line of the README's tour block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    heading = text.index("60-second tour")
    block = re.search(r"```sh\n(.*?)```", text[heading:], re.S)
    assert block, "README.md: no ```sh block after the '60-second tour' heading"
    result = []
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        command, _, comment = line.partition("#")
        result.append((command.strip(), comment.strip()))
    return result


TOUR = tour()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tour")
    shutil.copytree(ROOT / "examples", folder / "examples")
    return folder


def test_the_tour_is_there():
    assert len(TOUR) >= 7
    commands = " ".join(c for c, _ in TOUR)
    for name in ("info", "eval", "regions", "shallow", "check", "report"):
        assert f"exactrelu {name} " in commands


@pytest.mark.parametrize("index", range(len(TOUR)), ids=[c for c, _ in TOUR])
def test_tour_command(index: int, workspace: Path):
    # run the earlier commands first if this one is run alone (they are cheap)
    for earlier in range(index):
        if not (workspace / f".done-{earlier}").exists():
            _run(TOUR[earlier][0], workspace)
            (workspace / f".done-{earlier}").touch()
    command, comment = TOUR[index]
    proc = _run(command, workspace)
    (workspace / f".done-{index}").touch()
    out = proc.stdout
    checked = 0
    m = RATIONAL_AT_END.search(comment)
    if m:
        assert out.strip() == m.group(1), f"{command}: printed {out.strip()!r}, the README promises {m.group(1)}"
        checked += 1
    m = REGIONS.search(comment)
    if m:
        assert f"{m.group(1)} regions" in out, f"{command}: {out!r} does not say {m.group(1)} regions"
        checked += 1
    if "s VERIFIED" in comment:
        assert out.splitlines()[0] == "s VERIFIED", f"{command}: verdict {out!r}"
        checked += 1
    m = WRITES.search(comment)
    if m:
        for name in m.groups():
            assert (workspace / name).is_file(), f"{command}: did not write {name}"
        checked += 1
    words = shlex.split(command)
    if "-o" in words:
        target = workspace / words[words.index("-o") + 1]
        assert target.is_file() and target.stat().st_size > 0, f"{command}: did not write {target.name}"
        checked += 1
    if "SHA-256" in comment:
        assert "sha256:" in out and "widths:" in out, f"{command}: {out!r}"
        checked += 1
    assert checked, f"{command}: no promise of its comment {comment!r} was understood by this test"


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    assert words[0] == "exactrelu", f"the tour command {command!r} does not start with 'exactrelu'"
    proc = subprocess.run([sys.executable, "-m", "exactrelu", *words[1:]], cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"$ {command}\nexit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc
