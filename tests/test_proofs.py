"""The worked examples in ``proofs/``: every stored certificate verifies, and every stored file is current.

Each directory of ``proofs/`` holds a network, the ``command.sh`` that produced its files (run from
inside the directory), and those files: ``shallow.json``, ``shallow.cert.json`` and ``proof.md``
(and, for the NNet example, ``net.json``, the exact conversion of ``net.nnet``).  Here:

* the independent checker verifies each stored certificate against the stored network;
* the commands of each ``command.sh`` are run again, in a copy of the directory from which their
  outputs were deleted, and every regenerated file must equal the stored one.  The output is
  deterministic, with one deliberate exception: the certificate's ``producer`` field (and the line
  of ``proof.md`` that quotes it) records the versions of exactrelu and of its libraries, so it is
  left out of the comparison.  Everything else is compared byte for byte.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import checker
from exactrelu.rationals import format_rational

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"

# directory -> (network file given to --model, regions, lower-dimensional regions)
EXPECTED = {
    "abs": ("net.json", 3, 1),
    "x-minus-x": ("net.json", 3, 1),
    "max": ("net.json", 6, 2),
    "xor": ("net.json", 3, 1),
    "iris-classifier": ("net.json", 14, 0),
    "three-inputs": ("net.json", 43, 1),
    "nnet": ("net.json", 9, 0),
    "zigzag-finite": ("net.json", 4, 0),
}
# directory -> (regions of the deep network, lower-dimensional ones) of its lattice certificate
# finite.cert.json (shallow --finite)
FINITE = {"zigzag-finite": (4, 0)}
DIRS = sorted(EXPECTED)
GENERATED = ("shallow.json", "shallow.cert.json", "proof.md")
PRODUCER_RE = re.compile(r'"producer":\{[^{}]*\}')


def commands(directory: Path) -> list[list[str]]:
    """The commands of ``command.sh``: one per non-blank, non-comment line, each an ``exactrelu`` call."""
    out = []
    for number, line in enumerate((directory / "command.sh").read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line)
        assert argv[0] == "exactrelu", f"{directory.name}/command.sh line {number}: not an exactrelu command: {line}"
        out.append(argv[1:])
    return out


VALUE_OPTIONS = {"-o", "--output", "--certificate", "--box", "--domain", "--max-regions", "--limit-denominator",
                 "--equation", "--model", "--shallow", "--x"}


def outputs(argv: list[str]) -> list[str]:
    """The files an ``exactrelu`` command writes (``convert``: OUT; ``shallow``: -o and its certificate;
    ``report``: -o)."""
    options, positional, i = {}, [], 1
    while i < len(argv):
        item = argv[i]
        if item.startswith("-") and "=" in item:
            key, value = item.split("=", 1)
            options[key] = value
        elif item in VALUE_OPTIONS:
            options[item] = argv[i + 1]
            i += 1
        elif not item.startswith("-"):
            positional.append(item)
        i += 1
    output = options.get("-o", options.get("--output"))
    if argv[0] == "convert":
        return [positional[1]]
    if argv[0] == "shallow":  # also with --finite: -o and the certificate beside it
        cert = options.get("--certificate") or (output[:-5] + ".cert.json" if output.endswith(".json")
                                                 else output + ".cert.json")
        return [output, cert]
    if argv[0] == "report":
        return [output]
    return []


def without_producer(path: Path) -> str:
    """The file's text with the producer versions left out (certificates and proof reports)."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".cert.json"):
        assert len(PRODUCER_RE.findall(text)) == 1, f"{path}: expected one producer field"
        return PRODUCER_RE.sub('"producer":{}', text)
    if path.suffix in (".md", ".tex"):
        return "".join(line for line in text.splitlines(keepends=True) if "producer:" not in line)
    return text


# ----------------------------------------------------------------------------- the layout
def test_every_directory_is_listed_and_complete():
    found = sorted(p.name for p in PROOFS.iterdir() if p.is_dir())
    assert found == DIRS
    readme = (PROOFS / "README.md").read_text(encoding="utf-8")
    for name in DIRS:
        d = PROOFS / name
        assert (d / "command.sh").is_file()
        assert (d / "net.json").is_file() or (d / "net.nnet").is_file()
        for f in GENERATED:
            assert (d / f).is_file(), f"{name}/{f} is missing"
        assert f"[{name}/]({name}/)" in readme, f"proofs/README.md does not list {name}"
        steps = [argv[0] for argv in commands(d) if argv[0] != "convert"]
        assert steps[:3] == ["shallow", "check", "report"] and set(steps[3:]) <= {"report", "shallow", "check"}, \
            f"{name}/command.sh: {steps}"


def test_iris_network_is_the_bundled_one():
    bundled = ROOT / "exactrelu" / "data" / "demo_classifier.json"
    assert (PROOFS / "iris-classifier" / "net.json").read_bytes() == bundled.read_bytes()


# ----------------------------------------------------------------------------- the stored certificates
@pytest.mark.parametrize("name", DIRS)
def test_stored_certificate_verifies(name, capsys):
    d = PROOFS / name
    model, regions, lower = EXPECTED[name]
    code = checker.main([str(d / "shallow.cert.json"), "--model", str(d / model)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == "s VERIFIED"
    leaves = json.loads((d / "shallow.cert.json").read_text(encoding="utf-8"))["leaves"]
    assert len(leaves) == regions
    assert sum(not leaf["full_dimensional"] for leaf in leaves) == lower


@pytest.mark.parametrize("name", sorted(FINITE))
def test_stored_finite_certificate_verifies_with_both_networks_pinned(name, capsys):
    from exactrelu.io.jsonfmt import load

    d = PROOFS / name
    code = checker.main([str(d / "finite.cert.json"), "--model-a", str(d / "net.json"),
                         "--model-b", str(d / "finite.json")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip() == "s VERIFIED" and captured.err.count(", pinned (") == 2
    cert = json.loads((d / "finite.cert.json").read_text(encoding="utf-8"))
    assert cert["format"] == "exactrelu-equivalence" and cert["claim"]["kind"] == "equal"
    assert cert["method"] == "lattice" and [len(t) for t in cert["lattice"][0]["terms"]] == [1, 1, 2]
    assert (len(cert["leaves"]), sum(not leaf["full_dimensional"] for leaf in cert["leaves"])) == FINITE[name]
    deep, finite = load(d / "net.json"), load(d / "finite.json")
    for t in range(-16, 65):  # [-1, 4] in steps of 1/16, every kink included
        x = [Fraction(t, 16)]
        assert finite.evaluate(x) == deep.evaluate(x)


def test_lower_dimensional_regions_are_where_the_readme_says():
    """x/-x: the point {0}; XOR: the corner (0, 0) of the box; max: two half-lines on x2 = 0."""
    def lower(name):
        cert = json.loads((PROOFS / name / "shallow.cert.json").read_text(encoding="utf-8"))
        return [leaf for leaf in cert["leaves"] if not leaf["full_dimensional"]]

    (point,) = lower("x-minus-x")
    assert point["witness"] == ["0"] and point["pattern"] == [[0, 0]] and point["beta"] == ["0", "0"]
    assert "(lower-dimensional), pattern `00`" in (PROOFS / "x-minus-x" / "proof.md").read_text(encoding="utf-8")
    (corner,) = lower("xor")
    assert corner["witness"] == ["0", "0"] and corner["pattern"] == [[0, 0]]
    assert all(leaf["witness"][1] == "0" for leaf in lower("max"))


def _nnet_numbers(path: Path) -> list[list[Fraction]]:
    """The numeric lines of an .nnet file, parsed here independently of exactrelu.io.nnet."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("//"):
            rows.append([Fraction(f.strip()) for f in line.split(",") if f.strip()])
    return rows


def test_nnet_example_exercises_normalisation():
    """net.json must compute range_out * N((x - mean) / range) + mean_out, N the network written in net.nnet."""
    from exactrelu.io.jsonfmt import load

    rows = _nnet_numbers(PROOFS / "nnet" / "net.nnet")
    (num_layers, n, m, _), sizes = map(int, rows[0]), [int(v) for v in rows[1]]
    mins, maxes, means, ranges = rows[3], rows[4], rows[5], rows[6]
    assert any(v != 0 for v in means) and any(v != 1 for v in ranges), "the example must normalise"
    layers, pos = [], 7
    for k in range(num_layers):
        weight = rows[pos : pos + sizes[k + 1]]
        bias = [r[0] for r in rows[pos + sizes[k + 1] : pos + 2 * sizes[k + 1]]]
        layers.append((weight, bias))
        pos += 2 * sizes[k + 1]
    assert pos == len(rows)

    def raw(x):
        v = [(x[j] - means[j]) / ranges[j] for j in range(n)]
        for k, (weight, bias) in enumerate(layers):
            v = [sum((w * a for w, a in zip(row, v)), b) for row, b in zip(weight, bias)]
            if k < num_layers - 1:
                v = [max(a, Fraction(0)) for a in v]
        return [ranges[n] * a + means[n] for a in v]

    net = load(PROOFS / "nnet" / "net.json")
    assert net.input_dim == n and net.output_dim == m
    grid = [[mins[j] + (maxes[j] - mins[j]) * Fraction(t, 7) for t in range(8)] for j in range(n)]
    for a in grid[0]:
        for b in grid[1]:
            assert list(net.evaluate((a, b))) == raw([a, b])
    cert = json.loads((PROOFS / "nnet" / "shallow.cert.json").read_text(encoding="utf-8"))
    # no --box: the domain is the file's own input bounds
    assert cert["domain"] == {"kind": "box", "dim": n, "lower": [format_rational(v) for v in mins],
                              "upper": [format_rational(v) for v in maxes]}


def test_stored_pdf_is_built_from_the_stored_latex():
    """proofs/xor/proof.pdf (scripts/build_proof_pdf.sh) records the SHA-256 of the proof.tex it was
    compiled from; proof.tex itself is checked to be current by test_stored_files_are_current."""
    import hashlib

    pdf = (PROOFS / "xor" / "proof.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    recorded = re.findall(rb"/Subject \(exactrelu proof.tex sha256 ([0-9a-f]{64})\)", pdf)
    tex = hashlib.sha256((PROOFS / "xor" / "proof.tex").read_bytes()).hexdigest()
    assert recorded == [tex.encode()], "proofs/xor/proof.pdf is out of date: run scripts/build_proof_pdf.sh"
    assert "proof.pdf" in (PROOFS / "README.md").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the stored files are current
@pytest.mark.parametrize("name", DIRS)
def test_stored_files_are_current(name, tmp_path):
    stored = PROOFS / name
    work = tmp_path / name
    shutil.copytree(stored, work)
    steps = commands(stored)
    written = [f for argv in steps for f in outputs(argv)]
    assert set(GENERATED) <= set(written)
    for f in written:
        (work / f).unlink()
    for argv in steps:
        result = subprocess.run([sys.executable, "-m", "exactrelu", *argv], cwd=work,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{name}: exactrelu {' '.join(argv)}: {result.stderr}"
        if argv[0] == "check":
            assert result.stdout.strip() == "s VERIFIED"
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in stored.iterdir()), \
        f"{name}: command.sh writes other files than those stored"
    for picture in work.glob("*.png"):  # drawn by `report` for 2-input networks; not compared byte for byte
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name}/{picture.name} is not a PNG"
        assert f"]({picture.name})" in (work / "proof.md").read_text(encoding="utf-8")
    for f in written:
        old, new = stored / f, work / f
        if f.endswith(".cert.json"):
            a = json.loads(old.read_text(encoding="utf-8"))
            b = json.loads(new.read_text(encoding="utf-8"))
            a.pop("producer")
            b.pop("producer")
            assert a == b, f"{name}/{f} is out of date: run `bash command.sh` in proofs/{name}"
        assert without_producer(new) == without_producer(old), \
            f"{name}/{f} is out of date: run `bash command.sh` in proofs/{name}"
