"""``exactrelu demo``: the whole pipeline on the bundled Iris classifier (:mod:`exactrelu.demo`).

It enumerates the regions over the demo box, builds the three-hidden-layer network, writes the deep
network, the shallow network, its certificate and a proof report (with a picture of the regions
when the ``plot`` extra is installed) together, runs the independent checker on the files written,
and prints a summary ending with the checker's verdict.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

from .options import box_flag, check_command

SUMMARY = "run the whole pipeline on the bundled Iris classifier"
EXAMPLE = "exactrelu demo --out exactrelu-demo"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="exactrelu-demo", help="output folder (default exactrelu-demo)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")


def run_demo(out_dir: str | Path, quiet: bool = False) -> int:
    """Run the demo into ``out_dir``; return the checker's exit code (0 when verified)."""
    from .. import checker
    from ..certificate import equate, stream_shallow_certificate
    from ..demo import DEMO_BOX, bundled_network
    from ..domain import Domain
    from ..io.jsonfmt import dumps
    from ..io.output import Outputs
    from ..regions import enumerate_regions
    from ..report import read_certificate
    from ..shallow import build_shallow, dumps_shallow
    from .report import plan_proof, render_proof

    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = bundled_network()
    domain = Domain.box(*DEMO_BOX, where="demo box")
    deep_path, shallow_path, cert_path = out / "deep.json", out / "shallow.json", out / "shallow.cert.json"
    with Outputs() as outputs:
        deep, shallow, cert = outputs.add(deep_path), outputs.add(shallow_path), outputs.add(cert_path)
        outputs.open()
        e = enumerate_regions(net, domain)
        s = build_shallow(e)
        equate(e, s, "flint")
        deep.write(dumps(net))
        shallow.write(dumps_shallow(s))
        stream_shallow_certificate(cert, e, s, shallow_path.name)
        outputs.commit()
    produced = time.perf_counter() - started
    verdict_out, verdict_err = io.StringIO(), io.StringIO()
    check_started = time.perf_counter()
    bindings = ["--model", str(deep_path), "--shallow", str(shallow_path), box_flag(domain)]
    with contextlib.redirect_stdout(verdict_out), contextlib.redirect_stderr(verdict_err):
        code = checker.main([str(cert_path), *bindings])
    checked = time.perf_counter() - check_started
    image = None
    if code == 0:  # the proof is rendered only from what the checker verified, against the same files
        with Outputs() as outputs:
            proof, image, picture = plan_proof(outputs, str(out / "proof.md"), net, domain)
            outputs.open()
            verified = read_certificate(cert_path, {"model": deep_path, "shallow": shallow_path,
                                                    "box": box_flag(domain).split("=", 1)[1]})
            render_proof(verified, False, proof, image, picture, out)
            outputs.commit()
    lines = [
        "exactrelu demo: Iris petal classifier (examples/iris/train.py), float32 weights read exactly",
        f"  domain            {domain.describe()}",
        f"  deep network      {'-'.join(map(str, net.widths))} ({len(net.hidden_widths)} hidden layers, {net.parameter_count} parameters)",
        f"  shallow network   {'-'.join(map(str, (s.input_dim, *s.hidden_widths, s.output_dim)))} "
        f"(3 hidden layers, {s.infinite_weights} infinite weights)",
        f"  regions           {len(e.regions)} ({e.full_dimensional} full-dimensional, {e.lower_dimensional} lower-dimensional)",
        f"  hyperplanes       {s.hyperplanes}",
        f"  time              {produced:.2f} s to produce, {checked:.2f} s to check",
        f"  files in {out}/: deep.json, shallow.json, shallow.cert.json ({cert.size} bytes), proof.md"
        + (", proof.regions.png" if image is not None else " (install the 'plot' extra for a picture of the regions)"),
        f"  re-check with     {check_command(str(cert_path), bindings)}",
    ]
    if not quiet:
        print("\n".join(lines))
    print(verdict_out.getvalue().strip())
    if code != 0:
        print(verdict_err.getvalue().strip())
    return code


def run(args: argparse.Namespace) -> int:
    return 0 if run_demo(args.out, quiet=args.quiet) == 0 else 1
