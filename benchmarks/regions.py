"""Region enumeration benchmark (issue: exact region enumeration).

    python benchmarks/regions.py [--brute-limit 16] [--only NAME]

For each benchmark network over the box [-2, 2]^n: regions, tree nodes, LPs, seconds and regions
per second of the exact search, and, measured in the same run, the time ratios against

* the brute force over all 2^N patterns (one exact LP each; run when N <= --brute-limit), and
* the same search with float LPs (scipy's HiGHS) making the decisions (no proof, no exactness).

A ratio > 1 means the exact search is that many times slower than the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NETWORKS, box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.bruteforce import brute_force_patterns  # noqa: E402
from exactrelu.lp import Decision, is_constant  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402


class FloatOracle:
    """The decisions of :func:`exactrelu.lp.decide` taken by HiGHS in floating point (tolerance
    1e-9).  For measuring what exactness costs only: its answers are not evidence."""

    TOL = 1e-9

    def __init__(self) -> None:
        from scipy.optimize import linprog

        self.linprog = linprog

    def _solve(self, rows, dim, slack):
        active = [r for r in rows if not is_constant(r)]
        if not active:
            return 1.0, np.zeros(dim)
        # variables (x, t): maximise t s.t. -(u x) + s t <= v, t <= 1
        A = np.array([[-float(a) for a in u] + [1.0 if s else 0.0] for (u, v, _), s in zip(active, slack(active))])
        b = np.array([float(v) for _, v, _ in active])
        c = np.zeros(dim + 1)
        c[-1] = -1.0
        bounds = [(None, None)] * dim + [(None, 1.0)]
        res = self.linprog(c, A_ub=A, b_ub=b, bounds=bounds, method="highs")
        if res.status != 0:
            return -1.0, None
        return -res.fun, res.x[:dim]

    def decide(self, rows, dim):
        for r in rows:
            if is_constant(r) and not (r[1] > 0 or (r[1] == 0 and not r[2])):
                return Decision(multipliers={0: Fraction(1)})
        t, x = self._solve(rows, dim, lambda act: [True] * len(act))
        if t > self.TOL:
            return Decision(point=tuple(Fraction(float(v)) for v in x), interior=True)
        if t < -self.TOL:
            return Decision(multipliers={0: Fraction(1)})
        t, x = self._solve(rows, dim, lambda act: [r[2] for r in act])
        if t > self.TOL:
            return Decision(point=tuple(Fraction(float(v)) for v in x), interior=False)
        return Decision(multipliers={0: Fraction(1)})

    def interior_point(self, rows, dim):
        t, x = self._solve(rows, dim, lambda act: [True] * len(act))
        return tuple(Fraction(float(v)) for v in x) if t > self.TOL else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brute-limit", type=int, default=16, help="run the brute force when N <= this")
    parser.add_argument("--only", help="one network name")
    args = parser.parse_args()
    markdown_header(["network", "N", "regions", "full-dim", "nodes", "LPs", "seconds", "regions/s",
                     "brute force s", "exact / brute", "float-LP s", "exact / float", "same regions"])
    for name, widths in NETWORKS.items():
        if args.only and name != args.only:
            continue
        net = random_network(widths, seed=0)
        domain = box(widths[0])
        started = time.perf_counter()
        e = enumerate_regions(net, domain)
        exact_s = time.perf_counter() - started
        started = time.perf_counter()
        f = enumerate_regions(net, domain, oracle=FloatOracle())
        float_s = time.perf_counter() - started
        same = "yes" if {r.flat_pattern for r in f.regions} == {r.flat_pattern for r in e.regions} else "NO"
        brute_s, ratio = "-", "-"
        if net.neuron_count <= args.brute_limit:
            started = time.perf_counter()
            found = brute_force_patterns(net, domain)
            elapsed = time.perf_counter() - started
            if set(found) != {r.flat_pattern for r in e.regions}:
                raise SystemExit(f"{name}: the brute force disagrees with the search")
            brute_s, ratio = f"{elapsed:.2f}", f"{exact_s / elapsed:.4f}"
        markdown_row([name, net.neuron_count, len(e.regions), e.full_dimensional, e.nodes, e.lps, f"{exact_s:.2f}",
                      f"{len(e.regions) / exact_s:.0f}", brute_s, ratio, f"{float_s:.2f}", f"{exact_s / float_s:.2f}", same])

if __name__ == "__main__":
    main()
