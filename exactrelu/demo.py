"""``exactrelu demo``: the whole pipeline on the bundled Iris classifier.

The bundled network (``exactrelu/data/demo_classifier.json``, trained by ``examples/iris/train.py``)
maps petal length and width to three class scores.  The demo reads it exactly, enumerates its
regions over the box ``[0, 7] x [0, 3]`` (cm), builds the three-hidden-layer network, writes it with
its certificate and a proof report, runs the independent checker on the certificate, and prints a
summary ending with the checker's verdict.  With the ``plot`` extra the proof comes with a picture
of the regions (``proof.regions.png``).
"""

from __future__ import annotations

import contextlib
import io
import time
from importlib import resources
from pathlib import Path

from .certificate import equate, write_certificate
from .domain import Domain
from .io.jsonfmt import network_from_dict, read_json, save
from .regions import enumerate_regions
from .report import write_report
from .shallow import build_shallow, save_shallow

DEMO_BOX = (("0", "0"), ("7", "3"))


def bundled_network():
    """The bundled demo classifier as an exact network."""
    with resources.as_file(resources.files("exactrelu") / "data" / "demo_classifier.json") as path:
        return network_from_dict(read_json(Path(path), "bundled network"), "bundled network")


def run_demo(out_dir: str | Path, quiet: bool = False) -> int:
    """Run the demo into ``out_dir``; return the checker's exit code (0 when verified)."""
    from . import checker

    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = bundled_network()
    domain = Domain.box(*DEMO_BOX, where="demo box")
    deep_path, shallow_path = out / "deep.json", out / "shallow.json"
    cert_path, proof_path = out / "shallow.cert.json", out / "proof.md"
    save(net, deep_path)
    e = enumerate_regions(net, domain)
    s = build_shallow(e)
    equate(e, s, "flint")
    save_shallow(s, shallow_path)
    size = write_certificate(cert_path, e, s, shallow_path)
    write_report(cert_path, proof_path, files={"model": deep_path})
    picture = (out / "proof.regions.png").is_file()
    produced = time.perf_counter() - started
    verdict_out, verdict_err = io.StringIO(), io.StringIO()
    check_started = time.perf_counter()
    with contextlib.redirect_stdout(verdict_out), contextlib.redirect_stderr(verdict_err):
        code = checker.main([str(cert_path), "--model", str(deep_path)])
    checked = time.perf_counter() - check_started
    lines = [
        "exactrelu demo: Iris petal classifier (examples/iris/train.py), float32 weights read exactly",
        f"  domain            {domain.describe()}",
        f"  deep network      {'-'.join(map(str, net.widths))} ({len(net.hidden_widths)} hidden layers, {net.parameter_count} parameters)",
        f"  shallow network   {'-'.join(map(str, (s.input_dim, *s.hidden_widths, s.output_dim)))} "
        f"(3 hidden layers, {s.infinite_weights} infinite weights)",
        f"  regions           {len(e.regions)} ({e.full_dimensional} full-dimensional, {e.lower_dimensional} lower-dimensional)",
        f"  hyperplanes       {s.hyperplanes}",
        f"  time              {produced:.2f} s to produce, {checked:.2f} s to check",
        f"  files in {out}/: deep.json, shallow.json, shallow.cert.json ({size} bytes), proof.md"
        + (", proof.regions.png" if picture else " (install the 'plot' extra for a picture of the regions)"),
        f"  re-check with     exactrelu check {cert_path} --model {deep_path}",
    ]
    if not quiet:
        print("\n".join(lines))
    print(verdict_out.getvalue().strip())
    if code != 0:
        print(verdict_err.getvalue().strip())
    return code

