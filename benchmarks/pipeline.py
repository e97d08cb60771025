"""Shallow construction and certificate benchmark (issues: shallow network, certificates).

    python benchmarks/pipeline.py [--only NAME] [--sympy-limit 800]
    python benchmarks/pipeline.py --large [--large-widths 3,56,56,1]     (not run by default: ~1 hour)

For each benchmark network over [-2, 2]^n, measured in one run:

* the enumeration time and the construction time of the three-hidden-layer network, with its size
  (hyperplanes J, regions K, neurons per hidden layer, infinite weights);
* the producer's region-by-region equation with python-flint matrices and with sympy expressions
  (sympy only when K <= --sympy-limit), and their ratio;
* the certificate's size and the independent checker's time against the producing time
  (enumeration + construction + equation + writing), the target being under a quarter;
* the check in 2 processes (``check --workers 2``) against the serial check, in wall-clock seconds
  (the best of 3 runs each, since the helper's CPU time is not this process's).

Times are CPU seconds (fairer than wall time on a shared machine), except the three ``wall`` columns.
Two measures of check / produce, each comparing like with like:

* **in process** (``produce s``, ``check s``): ``time.process_time`` of this process around the
  library calls, both warm, so both sides exclude the interpreter's start and the imports; the
  producer's side holds enumeration, construction, equation and writing both files, the checker's
  side reading both files, hashing and every check (``Checker(cert).run()``);
* **as commands** (``... CPU s (commands)``): the user + system CPU seconds (``wait4``) of
  ``python -m exactrelu shallow MODEL --box=... -o S.json`` against ``python -m exactrelu.checker
  S.cert.json``, each a fresh process, so both sides include their fixed costs (interpreter start,
  imports: printed under the table, measured with ``--help``); the same for ``shallow --stream``
  (version 3, read line by line by the checker).

``--large`` instead runs the scale row: one large network (default 3-[56,56]-1 over [-2, 2]^3, about
1.4e5 regions) through ``exactrelu shallow --stream`` (version-3 certificate) and then the checker,
each in a fresh process, and prints wall and CPU seconds of each phase, each process's peak RSS, and
the sizes of the certificate and of the shallow network's file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NETWORKS, box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu import checker  # noqa: E402
from exactrelu.certificate import equate, write_certificate  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402
from exactrelu.shallow import build_shallow, save_shallow  # noqa: E402


def measured(command: list[str]) -> tuple[str, float, float, int]:
    """Run ``command``; its stdout, wall seconds, CPU seconds (user + system) and peak RSS in bytes."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {child.returncode}")
    return out, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024  # Linux: kilobytes


def large_rows(widths_list: list[str], folder: str) -> None:
    """The scale row(s): produce (``shallow --stream``) and check, in fresh processes."""
    markdown_header(["network", "regions", "J", "produce wall s", "produce CPU s", "of it enumerate wall s", "shallow file wall s",
                     "producer peak RSS MB", "certificate MB", "shallow file MB", "check wall s", "check CPU s",
                     "checker peak RSS MB", "check / produce (CPU)"])
    env_python = [sys.executable]
    for text in widths_list:
        widths = [int(w) for w in text.split(",")]
        name = f"{widths[0]}-[{','.join(map(str, widths[1:-1]))}]-{widths[-1]}"
        model, shallow = Path(folder) / f"{name}.json", Path(folder) / f"{name}.shallow.json"
        model.write_text(json.dumps(random_network(widths, seed=0).to_dict()))
        box_flag = "--box=" + ",".join(["-2:2"] * widths[0])
        out, wall, cpu, peak = measured([*env_python, "-m", "exactrelu", "shallow", str(model), box_flag, "--stream",
                                         "--json", "-o", str(shallow)])
        produced = json.loads(out)
        cert = produced["certificate"]
        _, check_wall, check_cpu, check_peak = measured([*env_python, "-m", "exactrelu.checker", cert])
        markdown_row([name, produced["regions"], produced["hyperplanes"], f"{wall:.0f}", f"{cpu:.0f}",
                      f"{produced['enumeration_seconds']:.0f}", f"{produced['shallow_write_seconds']:.0f}",
                      f"{peak / 2**20:.0f}", f"{produced['certificate_bytes'] / 1e6:.0f}",
                      f"{produced['shallow_bytes'] / 1e6:.0f}", f"{check_wall:.0f}", f"{check_cpu:.0f}",
                      f"{check_peak / 2**20:.0f}", f"{check_cpu / cpu:.2f}"])
        sys.stdout.flush()
        for path in (model, shallow, Path(cert)):
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--sympy-limit", type=int, default=800, help="run the sympy equation when K <= this")
    parser.add_argument("--large", action="store_true", help="only the scale row (shallow --stream, then check)")
    parser.add_argument("--large-widths", nargs="+", default=["3,56,56,1"],
                        help="widths of the large networks (input,hidden...,output)")
    parser.add_argument("--folder", help="where the large row's files go (default: a temporary folder)")
    args = parser.parse_args()
    if args.large:
        if args.folder:
            return large_rows(args.large_widths, args.folder)
        with tempfile.TemporaryDirectory() as folder:
            return large_rows(args.large_widths, folder)
    markdown_header(["network", "K", "J", "hidden widths", "infinite weights", "LPs / region", "enumerate s", "construct s",
                     "flint equation s", "sympy equation s", "sympy / flint", "certificate MB", "produce s",
                     "check s", "check / produce", "produce CPU s (commands)", "check CPU s (commands)",
                     "check / produce (commands)", "v3 produce CPU s", "v3 check CPU s", "v3 check / produce",
                     "check wall s", "2 workers wall s", "speed-up"])
    for name, widths in NETWORKS.items():
        if args.only and name != args.only:
            continue
        net = random_network(widths, seed=0)
        t0 = time.process_time()
        e = enumerate_regions(net, box(widths[0]))
        t1 = time.process_time()
        s = build_shallow(e)
        t2 = time.process_time()
        equate(e, s, "flint")
        t3 = time.process_time()
        with tempfile.TemporaryDirectory() as tmp:
            shallow_path, cert_path = Path(tmp) / "s.json", Path(tmp) / "s.cert.json"
            save_shallow(s, shallow_path)
            size = write_certificate(cert_path, e, s, shallow_path)
            t4 = time.process_time()
            check = checker.Checker(str(cert_path))
            check.run()
            t5 = time.process_time()
            walls = [min(_wall(cert_path, workers) for _ in range(3)) for workers in (1, 2)]
            commands = [_commands(net, widths[0], Path(tmp), stream) for stream in (False, True)]
        sympy_s, ratio = "-", "-"
        if len(e.regions) <= args.sympy_limit:
            t6 = time.process_time()
            equate(e, s, "sympy")
            elapsed = time.process_time() - t6
            sympy_s, ratio = f"{elapsed:.2f}", f"{elapsed / (t3 - t2):.1f}"
        produce = t4 - t0
        hidden = "-".join(map(str, s.hidden_widths))
        markdown_row([name, s.regions, s.hyperplanes, hidden, s.infinite_weights, f"{e.lps / len(e.regions):.2f}",
                      f"{t1 - t0:.2f}", f"{t2 - t1:.2f}",
                      f"{t3 - t2:.2f}", sympy_s, ratio, f"{size / 1e6:.2f}", f"{produce:.2f}", f"{t5 - t4:.2f}",
                      f"{(t5 - t4) / produce:.2f}",
                      *(f"{v:.2f}" for made, checked in commands for v in (made, checked, checked / made)),
                      f"{walls[0]:.2f}", f"{walls[1]:.2f}", f"{walls[0] / walls[1]:.2f}"])
        sys.stdout.flush()
    fixed = [measured([sys.executable, "-m", *command, "--help"])[2] for command in (["exactrelu", "shallow"], ["exactrelu.checker"])]
    print(f"\nfixed costs (CPU s of `--help`: interpreter start and imports): shallow {fixed[0]:.2f}, checker {fixed[1]:.2f}")


def _commands(net, n: int, folder: Path, stream: bool) -> tuple[float, float]:
    """CPU seconds of ``exactrelu shallow`` (``--stream``: version 3) and of the checker on what it
    wrote, each in a fresh process (fixed costs included on both sides)."""
    model, shallow = folder / "model.json", folder / ("v3.json" if stream else "v2.json")
    model.write_text(json.dumps(net.to_dict()))
    box_flag = "--box=" + ",".join(["-2:2"] * n)
    _, _, made, _ = measured([sys.executable, "-m", "exactrelu", "shallow", str(model), box_flag, "-o", str(shallow),
                              *(["--stream"] if stream else [])])
    _, _, checked, _ = measured([sys.executable, "-m", "exactrelu.checker", str(shallow)[:-5] + ".cert.json"])
    return made, checked


def _wall(cert_path, workers: int) -> float:
    start = time.perf_counter()
    checker.Checker(str(cert_path), workers=workers).run()
    return time.perf_counter() - start

if __name__ == "__main__":
    main()
