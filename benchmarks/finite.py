"""Finite-weight lattice form against the three-hidden-layer form (issue 16).

    python benchmarks/finite.py [--only NAME] [--skip NAME ...]

For each network (the benchmark networks over [-2, 2]^n, and small random test networks with
small rational weights over [-1, 1]^n), measured in one run:

* the deep network's regions, the distinct affine maps (per output, summed), the lattice terms
  (sets left after dropping supersets) and the largest set, and the exact LPs that decided them;
* the finite form: hidden layers (depth), widest hidden layer, parameters (dense count), nonzero
  weights (what its sparse file holds) and the size of that file;
* the three-hidden-layer form of the same regions: hidden widths and infinite weights;
* the lattice certificate deep = finite (over the deep network's own regions): the regions whose
  check (a) is split into cells, the exact LPs of its per-region evidence, its size, the independent checker's verdict with both networks pinned, and
  the seconds of lattice + realisation, evidence and check.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NETWORKS, box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu import checker  # noqa: E402
from exactrelu.domain import Domain  # noqa: E402
from exactrelu.finite import certify, write_finite  # noqa: E402
from exactrelu.io.jsonfmt import save  # noqa: E402
from exactrelu.network import ReluNetwork  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402
from exactrelu.shallow import build_shallow  # noqa: E402

# name -> widths of small random test networks (weights p/q, |p| <= 3, q in {1, 2, 3})
TEST_NETWORKS = {"rand 1-[4]-1": [1, 4, 1], "rand 2-[3,2]-1": [2, 3, 2, 1], "rand 2-[4]-2": [2, 4, 2],
                 "rand 3-[3]-1": [3, 3, 1], "rand 2-[3,3]-1": [2, 3, 3, 1]}
# name -> (widths, seed) of random_network test networks with a region that no single term lies
# above (split into cells, docs/theory.md section 10.2), over [-2, 2]^n
CELL_NETWORKS = {"2-[4,4,4]-1 seed 11": ([2, 4, 4, 4, 1], 11), "2-[4,4,4]-1 seed 23": ([2, 4, 4, 4, 1], 23),
                 "2-[4,4,4]-2 seed 23": ([2, 4, 4, 4, 2], 23)}


def small_network(widths: list[int], seed: int = 0) -> ReluNetwork:
    rng = random.Random(seed)
    q = lambda: Fraction(rng.randint(-3, 3), rng.choice((1, 1, 2, 3)))  # noqa: E731
    return ReluNetwork.from_lists([([[q() for _ in range(a)] for _ in range(b)], [q() for _ in range(b)])
                                   for a, b in zip(widths[:-1], widths[1:])])


def cases():
    for name, widths in TEST_NETWORKS.items():
        yield name, small_network(widths), Domain.box(["-1"] * widths[0], ["1"] * widths[0])
    for name, (widths, seed) in CELL_NETWORKS.items():
        yield name, random_network(widths, seed=seed), box(widths[0])
    for name, widths in NETWORKS.items():
        yield name, random_network(widths, seed=0), box(widths[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--skip", nargs="*", default=[], help="network names to leave out")
    args = parser.parse_args()
    markdown_header(["network", "regions", "distinct maps", "lattice terms", "largest set", "lattice LPs",
                     "finite depth", "finite width", "finite parameters", "nonzero weights", "F KB", "3-layer widths",
                     "infinite weights",
                     "split regions", "evidence LPs", "certificate KB", "checker", "build s", "evidence s", "check s"])
    for name, net, domain in cases():
        if (args.only and name != args.only) or name in args.skip:
            continue
        e = enumerate_regions(net, domain)
        s = build_shallow(e)
        three = ("-".join(map(str, s.hidden_widths)), s.infinite_weights)
        form = certify(e)
        lattice, finite = form.lattice, form.network
        with tempfile.TemporaryDirectory() as tmp:
            size = write_finite(form, Path(tmp) / "F.json", Path(tmp) / "F.cert.json")
            f_kb = (Path(tmp) / "F.json").stat().st_size / 1024
            deep = Path(tmp) / "deep.json"
            save(net, deep)
            t = time.perf_counter()
            run = checker.Checker(str(Path(tmp) / "F.cert.json"), model_a=str(deep), model_b=str(Path(tmp) / "F.json"))
            try:
                run.run()
                verdict = "s VERIFIED"
            except checker.CheckFailure as exc:
                verdict = f"s NOT VERIFIED ({exc.location})"
            check_s = time.perf_counter() - t
        markdown_row([name, len(e.regions), sum(form.distinct_maps), sum(len(t) for t in lattice.terms),
                      max(len(x) for t in lattice.terms for x in t), lattice.lps, form.depth, form.width,
                      finite.parameter_count, sum(1 for layer in finite.layers for row in layer.weight for w in row if w),
                      f"{f_kb:.0f}", *three, sum(any(ev.cell.split is not None for ev in evs) for evs in form.evidence),
                      form.evidence_lps,
                      f"{size / 1024:.0f}", verdict, f"{form.build_seconds:.2f}", f"{form.evidence_seconds:.2f}",
                      f"{check_s:.2f}"])


if __name__ == "__main__":
    main()
