"""The shell examples of the documentation run, and say what they print.

Convention (documented at the top of docs/user-guide.md):

* a fenced block whose info string is ``console`` holds a session: each line starting with ``$ ``
  is a command, and the lines after it (up to the next ``$ `` line or the end of the block) are its
  expected output;
* a command must start with ``exactrelu`` (run here as ``python -m exactrelu``) or
  ``python -m exactrelu.checker``; it must exit with code 0, or with ``N`` when the line ends with
  the comment ``# exit N``;
* the expected output is compared with the command's stdout followed by its stderr, or its stderr
  followed by its stdout (a terminal interleaves them), like a doctest with ELLIPSIS and
  NORMALIZE_WHITESPACE: ``...`` stands for any text (timings, sizes, elided lines); no expected
  lines means the output is not checked;
* a fenced block whose info string is ``<language> file=NAME`` (e.g. ```` ```json file=net.json ````)
  is written to ``NAME`` before the commands that follow it.

Each documentation page runs in its own scratch folder holding a copy of the repository's
``examples/`` folder, in document order (later commands use the files earlier ones wrote).

Also here: the trusted-base size stated in docs/certificate-format.md must stay within 60 lines of
``wc -l exactrelu/checker.py``.
"""

from __future__ import annotations

import doctest
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ("user-guide.md", "certificate-format.md")
FENCE = re.compile(r"^```(\S*)(.*)$")
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
TIMEOUT = 600


@dataclass
class Step:
    """One thing a page asks for, in order: write a file, or run a command."""

    page: str
    line: int
    command: str = ""
    expected: str = ""
    code: int = 0
    file: str = ""
    content: str = ""

    @property
    def name(self) -> str:
        what = f"writes {self.file}" if self.file else self.command
        return f"{self.page}:{self.line}: {what}"


def parse_page(page: str) -> list[Step]:
    """The file blocks and console commands of ``docs/<page>``, in document order."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    steps: list[Step] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1):
            i += 1
            continue
        language, rest = m.group(1), m.group(2)
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        name = re.search(r"\bfile=(\S+)", rest)
        if name:
            steps.append(Step(page, start + 1, file=name.group(1), content="\n".join(body) + "\n"))
        elif language == "console":
            current = None
            for offset, text in enumerate(body):
                if text.startswith("$ "):
                    command = text[2:]
                    code = 0
                    exit_match = EXIT.search(command)
                    if exit_match:
                        code = int(exit_match.group(1))
                        command = command[: exit_match.start()]
                    current = Step(page, start + 2 + offset, command=command.strip(), code=code)
                    steps.append(current)
                elif current is not None:
                    current.expected += text + "\n"
    return steps


def argv_of(command: str) -> list[str]:
    words = shlex.split(command, comments=True)
    if words[:1] == ["exactrelu"]:
        return [sys.executable, "-m", "exactrelu", *words[1:]]
    if words[:3] == ["python", "-m", "exactrelu.checker"]:
        return [sys.executable, "-m", "exactrelu.checker", *words[3:]]
    raise AssertionError(f"documented command {command!r} is neither 'exactrelu ...' nor 'python -m exactrelu.checker ...'")


def output_matches(expected: str, stdout: str, stderr: str) -> bool:
    if not expected.strip():
        return True
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    want = expected.rstrip("\n") + "\n"
    for got in (stdout + stderr, stderr + stdout):
        if checker.check_output(want, got.rstrip("\n") + "\n", flags):
            return True
    return False


ALL_STEPS = [step for page in PAGES for step in parse_page(page)]
COMMANDS = [step for step in ALL_STEPS if step.command]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """Run every page's steps once, in order, each page in its own folder; results by step name."""
    results = {}
    for page in PAGES:
        folder = tmp_path_factory.mktemp(page.replace(".", "_"))
        shutil.copytree(ROOT / "examples", folder / "examples")
        for step in parse_page(page):
            if step.file:
                (folder / step.file).write_text(step.content, encoding="utf-8")
                continue
            proc = subprocess.run(argv_of(step.command), cwd=folder, capture_output=True, text=True,
                                  timeout=TIMEOUT)
            results[step.name] = proc
    return results


def test_the_pages_have_examples():
    assert len([s for s in COMMANDS if s.page == "user-guide.md"]) >= 20
    assert any(s.page == "certificate-format.md" for s in COMMANDS)


@pytest.mark.parametrize("step", COMMANDS, ids=[s.name for s in COMMANDS])
def test_documented_command(step: Step, sessions):
    proc = sessions[step.name]
    report = f"$ {step.command}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
    assert proc.returncode == step.code, f"exit code {proc.returncode}, documented {step.code}\n{report}"
    assert output_matches(step.expected, proc.stdout, proc.stderr), (
        f"output differs from the documentation:\n--- documented\n{step.expected}{report}")


def test_output_matching_convention():
    assert output_matches("3 regions ... s\n", "3 regions over R^1; 0.01 s\n", "")
    assert output_matches("s VERIFIED\nc 3 regions\n", "s VERIFIED\n", "c 3 regions\n")
    assert output_matches("note: rounded\n1\n", "1\n", "note: rounded\n")
    assert not output_matches("s VERIFIED\n", "s NOT VERIFIED\n", "")
    assert output_matches("", "anything\n", "")


# ----------------------------------------------------------------------------- the trusted base
def test_trusted_base_line_count_is_stated_honestly():
    """docs/certificate-format.md states the checker's size as '**N lines**'; it must be within 60
    lines of the real ``wc -l exactrelu/checker.py`` (number of newline characters)."""
    text = (DOCS / "certificate-format.md").read_text(encoding="utf-8")
    stated = re.search(r"`exactrelu/checker\.py`, \*\*(\d+) lines\*\*", text)
    assert stated, "the trusted-base sentence ('`exactrelu/checker.py`, **N lines**') is missing"
    real = (ROOT / "exactrelu" / "checker.py").read_bytes().count(b"\n")
    assert abs(int(stated.group(1)) - real) <= 60, (
        f"docs/certificate-format.md says {stated.group(1)} lines, `wc -l` gives {real}: update the doc")
