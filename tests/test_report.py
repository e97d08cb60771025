"""``exactrelu report``: the Markdown and LaTeX proofs of shallow, equivalence and prune certificates.

LaTeX: every proofs/ example compiles with ``pdflatex`` (when installed; CI installs
``texlive-latex-base``) with no error and at most :data:`OVERFULL_ALLOWED` overfull boxes, and so does
a report with about 2,000 regions (slow).  Markdown: the gate argument of the network in place, the
shallow network's layers, no empty heading, the checking command with every binding, implied
conditions dropped exactly (checked here by an independent exact test), and reports of equivalence
and prune certificates.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from fractions import Fraction as F
from pathlib import Path

import pytest

from exactrelu import document as doc
from exactrelu.cli import main
from exactrelu.domain import Domain
from exactrelu.errors import InputError, RejectedCertificateError
from exactrelu.lp import decide
from exactrelu.network import ReluNetwork
from exactrelu.report import read_certificate, render

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"
DIRS = sorted(p.name for p in PROOFS.iterdir() if p.is_dir())
OVERFULL_ALLOWED = 2  # documented in docs/user-guide.md ("exactrelu report"); today's reports have none
PDFLATEX = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed (apt-get install texlive-latex-base)")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def compile_latex(tex: Path) -> tuple[list[str], int]:
    """Run pdflatex on ``tex`` (in its folder); return the error lines of the log and the number of
    overfull boxes."""
    subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tex.parent,
                   capture_output=True, timeout=600)
    log = tex.with_suffix(".log").read_text(encoding="latin-1")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert tex.with_suffix(".pdf").is_file() or errors, "pdflatex wrote no PDF and reported no error"
    return errors, len(re.findall(r"^Overfull \\[hv]box", log, re.M))


# ----------------------------------------------------------------------------- the document model
def test_latex_escapes_text_and_refuses_unknown_unicode() -> None:
    tex = doc.to_latex([doc.Para([doc.Text("a_b {c} `d` <e> 50% #1 & ~ ^ \\ |"), doc.Code("{\"k\": `x_1`}")])])
    body = tex.split(r"\begin{document}")[1]
    assert r"a\_b \{c\} \textasciigrave{}d\textasciigrave{} $<$e$>$ 50\% \#1 \& \textasciitilde{} " in body
    assert r"\texttt{\{" in body and "`" not in body.replace(r"\textasciigrave", "")
    with pytest.raises(ValueError, match="no LaTeX spelling"):
        doc.to_latex([doc.Para([doc.Text("ä")])])
    assert doc.to_markdown([doc.Heading(2, [doc.Text("T")]), doc.Items([[doc.Math("x > 0", "x > 0")]])]) == "## T\n\n- `x > 0`\n"


# ----------------------------------------------------------------------------- LaTeX compiles
@needs_pdflatex
@pytest.mark.parametrize("name", DIRS)
def test_latex_report_of_every_proof_compiles(name: str, tmp_path: Path, capsys) -> None:
    work = tmp_path / name
    shutil.copytree(PROOFS / name, work)
    tex = work / "built.tex"
    assert run_cli(capsys, "report", work / "shallow.cert.json", "--model", work / "net.json", "--latex", "-o", tex)[0] == 0
    text = tex.read_text(encoding="utf-8")
    assert text.isascii(), "pdflatex must not meet a character it cannot set"
    assert r"\blacksquare" in text and r"\le" in text
    errors, overfull = compile_latex(tex)
    assert errors == [], f"{name}: LaTeX errors {errors}"
    assert overfull <= OVERFULL_ALLOWED


def _random_net(rng: random.Random, widths) -> ReluNetwork:
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers.append(([[F(rng.randint(-9, 9), rng.choice((1, 2, 4))) for _ in range(a)] for _ in range(b)],
                       [F(rng.randint(-9, 9), rng.choice((1, 2, 4))) for _ in range(b)]))
    return ReluNetwork.from_lists(layers)


@needs_pdflatex
@pytest.mark.slow
def test_latex_report_with_about_2000_regions_compiles(tmp_path: Path, capsys) -> None:
    """A 2-[40,40]-1 network over a box: about 2,000 regions (measured in docs/user-guide.md)."""
    from exactrelu.io.jsonfmt import save

    net = _random_net(random.Random(7), [2, 40, 40, 1])
    save(net, tmp_path / "net.json")
    assert run_cli(capsys, "shallow", tmp_path / "net.json", "--box=-4:4", "-o", tmp_path / "s.json")[0] == 0
    leaves = json.loads((tmp_path / "s.cert.json").read_text())["leaves"]
    assert len(leaves) >= 1500
    tex = tmp_path / "big.tex"
    assert run_cli(capsys, "report", tmp_path / "s.cert.json", "--latex", "--no-picture", "-o", tex)[0] == 0
    errors, overfull = compile_latex(tex)
    assert errors == [] and overfull <= OVERFULL_ALLOWED
    assert r"\begin{longtable}" in tex.read_text()


# ----------------------------------------------------------------------------- what the report says
def test_abs_report_states_the_gate_argument_and_the_shallow_layers() -> None:
    text = render(PROOFS / "abs" / "shallow.cert.json", files={"model": PROOFS / "abs" / "net.json"}, base=PROOFS / "abs")
    # region 1 (x > 0): its own gate V1 = p1 + a2 is 0, and h1 > 0 closes regions 2 and 3 via a1
    assert "gate open: `V1 = p1 + a2`; here `h1 > 0`, so `p1 = 0` and `h2 <= 0`, so `a2 = 0`: `V1 = 0`" in text
    assert "closed by `z1_1`: `h1 > 0` here, so `a1 > 0` in V of regions 2, 3" in text
    assert "closed by `z1_1`: `h1 <= 0` here, so `p1 = 1` in V of region 1" in text
    assert "Widths 1-8-10-6-1" in text and "- `p1 = relu(-∞*a1 + 1)`" in text
    assert "- `g1+ = relu(-∞*p1 - ∞*a2 + l1+ - l1-)`" in text
    # the real command, relative to the report's folder
    assert "`exactrelu check shallow.cert.json --model net.json --shallow shallow.json`" in text
    # region 1: x1 > 0 makes -x1 <= 0 redundant; it is named, not listed
    assert "conditions (with `x` in the domain): `z1_1`: `x1 > 0`\n- implied by these and the domain, so not listed: `z1_2`" in text


def test_no_empty_heading_and_placeholders_explained(tmp_path: Path, capsys) -> None:
    net = tmp_path / "net.json"
    net.write_text(json.dumps({"format": "exactrelu-network", "version": 1, "input_dim": 1,
                               "layers": [{"weight": [["1"]], "bias": ["0"]}, {"weight": [["2"]], "bias": ["1"]}]}))
    assert run_cli(capsys, "shallow", net, "--box=-1:1", "-o", tmp_path / "s.json")[0] == 0
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "proof.md"
    assert run_cli(capsys, "report", tmp_path / "s.cert.json", "-o", out)[0] == 0
    text = out.read_text()
    assert "no empty branch" in text and "empty branches" not in text.split("## ")[-1]
    assert "The empty branches" not in text  # no heading over nothing
    headings = re.findall(r"^(#+ .*)\n\n(#+ |$)", text, re.M)
    assert headings == []
    assert "`exactrelu check ../s.cert.json --model NET.json --shallow ../s.json --box=-1:1`" in text
    assert "Here NET.json is your copy of the deep network" in text


def _path_conditions(network: dict, pattern: list) -> list:
    """Each hidden neuron's pre-activation ``(w, b)`` (``w . x + b``) under ``pattern``, layer-major,
    composed exactly here from the network's weights: the conditions of the leaf with that pattern."""
    layers = [([[F(a) for a in row] for row in L["weight"]], [F(c) for c in L["bias"]]) for L in network["layers"]]
    n = len(layers[0][0][0])
    inputs = [([F(int(i == j)) for j in range(n)], F(0)) for i in range(n)]  # x_i as affine functions
    out = []
    for (W, bias), bits in zip(layers, pattern):
        z = [([sum(a * u[0][t] for a, u in zip(row, inputs)) for t in range(n)], c + sum(a * u[1] for a, u in zip(row, inputs)))
             for row, c in zip(W, bias)]
        out += z
        inputs = [u if on else ([F(0)] * n, F(0)) for u, on in zip(z, bits)]
    return out


@pytest.mark.parametrize("name", ["three-inputs", "iris-classifier", "max"])
def test_dropped_conditions_are_implied_and_kept_ones_are_not(name: str) -> None:
    """Independently of the report: a dropped condition's negation is infeasible with the kept ones
    (and the domain), so the kept ones define the region; a kept one's negation is feasible with the
    other kept ones (none of them is redundant)."""
    cert = json.loads((PROOFS / name / "shallow.cert.json").read_text())
    domain = Domain.from_dict(cert["domain"])
    text = (PROOFS / name / "proof.md").read_text()
    checked = 0
    for k, leaf in enumerate(cert["leaves"][:12]):
        block = text.split(f"**Region {k + 1}** ")[1].split("**Region")[0]
        dropped = set(re.findall(r"z\d+_\d+", block.split("so not listed: ")[1].split("\n")[0])) if "so not listed" in block else set()
        rows, names = [], []
        widths = [len(layer) for layer in leaf["pattern"]]
        bits = [bit == 1 for layer in leaf["pattern"] for bit in layer]
        for d, ((w, b), active) in enumerate(zip(_path_conditions(cert["network"], leaf["pattern"]), bits)):
            if not any(w):
                continue
            l = next(t for t in range(len(widths)) if d < sum(widths[: t + 1]))
            names.append(f"z{l + 1}_{d - sum(widths[:l]) + 1}")
            rows.append((tuple(w), b, True) if active else (tuple(-a for a in w), -b, False))
        kept = [r for r, nm in zip(rows, names) if nm not in dropped]
        for r, nm in zip(rows, names):
            negation = (tuple(-a for a in r[0]), -r[1], not r[2])
            others = [q for q in kept if q is not r]
            assert decide([*domain.rows(), *others, negation], domain.dim).nonempty == (nm not in dropped), (k, nm)
            checked += 1
    assert checked > 0


def test_latex_and_markdown_say_the_same_numbers() -> None:
    cert = PROOFS / "xor" / "shallow.cert.json"
    md = render(cert, files={"model": PROOFS / "xor" / "net.json"})
    tex = render(cert, latex=True, files={"model": PROOFS / "xor" / "net.json"})
    assert md.count("**Region ") == tex.count(r"\textbf{Region ") == 3
    assert r"$y_{1} = -x_{1} - x_{2} + 2$" in tex and "`y1 = -x1 - x2 + 2`" in md
    assert r"[0, 1] \times [0, 1]" in tex and "\\section*{" in tex and "∎" not in tex


# ----------------------------------------------------------------------------- the checker comes first
def test_report_refuses_a_certificate_about_another_network(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "report", PROOFS / "abs" / "shallow.cert.json", "--model", PROOFS / "xor" / "net.json",
                           "-o", tmp_path / "p.md")
    assert code == 1 and "the certificate is about another network" in err and not (tmp_path / "p.md").exists()
    with pytest.raises(RejectedCertificateError, match="not the equivalence certificate the options ask for"):
        read_certificate(PROOFS / "abs" / "shallow.cert.json", {"model_a": PROOFS / "abs" / "net.json"})
    with pytest.raises(InputError, match="--shallow does not apply"):
        read_certificate(PROOFS / "abs" / "shallow.cert.json", {"model_a": "A.json", "shallow": "S.json"})


# ----------------------------------------------------------------------------- equivalence and prune
def _write(path: Path, layers) -> Path:
    path.write_text(json.dumps(ReluNetwork.from_lists(layers).to_dict()))
    return path


def test_equivalence_reports_equal_and_max_deviation(tmp_path: Path, capsys) -> None:
    a = _write(tmp_path / "A.json", [([[1], [-1]], [0, 0]), ([[1, -1]], [0])])  # relu(x) - relu(-x) = x
    b = _write(tmp_path / "B.json", [([[1]], [0])])
    c = _write(tmp_path / "C.json", [([[1], [-1]], [0, 0]), ([[1, "-999/1000"]], [0])])
    assert run_cli(capsys, "equiv", a, b, "--box=-2:3", "--certificate", tmp_path / "ab.cert.json")[0] == 0
    assert run_cli(capsys, "report", tmp_path / "ab.cert.json", "--model-a", a, "--model-b", b, "-o", tmp_path / "ab.md")[0] == 0
    text = (tmp_path / "ab.md").read_text()
    assert text.startswith("# Proof: A = B") and text.count("the formulas of A and B are identical") == 3
    assert "`exactrelu check ab.cert.json --model-a A.json --model-b B.json --box=-2:3`" in text
    assert run_cli(capsys, "equiv", a, c, "--box=-2:3", "--tolerance", "1/100", "--certificate", tmp_path / "ac.cert.json")[0] == 0
    assert run_cli(capsys, "report", tmp_path / "ac.cert.json", "-o", tmp_path / "ac.md")[0] == 0
    text = (tmp_path / "ac.md").read_text()
    # max |x - 999x/1000| over [-2, 3] on x < 0 is at x = -2: 2/1000; the dual bound is written out
    assert "is exactly `1/500`, attained at x = `(-2)` where A(x) = `(-2)` and B(x) = `(-999/500)`" in text
    assert "`-(A1 - B1)(x) = -x1/1000`; adding `1/1000 × (x1 + 2 >= 0)`" in text
    assert "`-(A1 - B1)(x) <= 1/500`, at most the claimed `1/500`" in text
    assert "--model-a A.json --model-b B.json" in text and "A.json is your copy of network A" in text


def test_prune_report(tmp_path: Path, capsys) -> None:
    net = _write(tmp_path / "net.json", [([[1, 0], [0, 1], [0, 0]], [0, 0, -1]), ([[1, 1, 5]], [0])])  # neuron 3 dead
    assert run_cli(capsys, "prune", net, "--box=0:1", "-o", tmp_path / "p.json")[0] == 0
    assert run_cli(capsys, "report", tmp_path / "p.cert.json", "--model", net, "--pruned", tmp_path / "p.json",
                   "--latex", "-o", tmp_path / "p.tex")[0] == 0
    tex = (tmp_path / "p.tex").read_text()
    assert "the pruned network equals the original" in tex
    assert r"\texttt{exactrelu\ check\ p.cert.json\ -{}-{}model\ net.json\ -{}-{}pruned\ p.json" in tex
    if PDFLATEX:
        errors, overfull = compile_latex(tmp_path / "p.tex")
        assert errors == [] and overfull <= OVERFULL_ALLOWED
