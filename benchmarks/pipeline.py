"""Shallow construction and certificate benchmark (issues: shallow network, certificates).

    python benchmarks/pipeline.py [--only NAME] [--sympy-limit 800]

For each benchmark network over [-2, 2]^n, measured in one run:

* the enumeration time and the construction time of the three-hidden-layer network, with its size
  (hyperplanes J, regions K, neurons per hidden layer, infinite weights);
* the producer's region-by-region equation with python-flint matrices and with sympy expressions
  (sympy only when K <= --sympy-limit), and their ratio;
* the certificate's size and the independent checker's time against the producing time
  (enumeration + construction + equation + writing), the target being under a quarter;
* the check in 2 processes (``check --workers 2``) against the serial check, in wall-clock seconds
  (the best of 3 runs each, since the helper's CPU time is not this process's).

Times are CPU seconds of this process (``time.process_time``), fairer than wall time on a shared
machine, except the last three columns.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--sympy-limit", type=int, default=800, help="run the sympy equation when K <= this")
    args = parser.parse_args()
    markdown_header(["network", "K", "J", "hidden widths", "infinite weights", "LPs / region", "enumerate s", "construct s",
                     "flint equation s", "sympy equation s", "sympy / flint", "certificate MB", "produce s",
                     "check s", "check / produce", "check wall s", "2 workers wall s", "speed-up"])
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
                      f"{(t5 - t4) / produce:.2f}", f"{walls[0]:.2f}", f"{walls[1]:.2f}", f"{walls[0] / walls[1]:.2f}"])


def _wall(cert_path, workers: int) -> float:
    start = time.perf_counter()
    checker.Checker(str(cert_path), workers=workers).run()
    return time.perf_counter() - start

if __name__ == "__main__":
    main()
