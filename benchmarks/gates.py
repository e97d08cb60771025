"""The producer's gate self-check, linear in the tree, against the pairwise test it replaced.

    python benchmarks/gates.py [--only NAME] [--seeds 0 1]

Before a version-2 certificate is written, ``exactrelu.certificate.check_gates`` confirms the
combinatorial core of the construction lemma: every two regions ``k != k'`` have a hyperplane ``j``
strict in one and weak in the other.  It checks a property that implies this, on the case-split
tree (:class:`exactrelu.certificate.Separation`, docs/theory.md section 4), in time linear in the
tree (it also recomputes each region's gates from its conditions).  The check it replaced went
through the pairs, quadratic in the number of regions ``K``; it is kept here as the baseline, as it
was (gate rows, then the pairs with integer bit sets).  For each benchmark network over [-2, 2]^n
and each seed: ``K``, the CPU seconds of ``check_gates`` (the best of 3) and of the baseline (one
run, which also confirms that the pairs close), and their ratio, measured in one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NETWORKS, box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.certificate import check_gates  # noqa: E402
from exactrelu.extended import Infinity  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402
from exactrelu.shallow import build_shallow  # noqa: E402


def pairwise(shallow) -> None:
    """The quadratic baseline, the check as it was: each region's gate rows test exactly its gates,
    and every ordered pair of regions has a ``j`` in ``strict & weak`` (integer bit sets)."""
    J, m = shallow.hyperplanes, shallow.output_dim
    infinite: dict[int, set[int]] = {}
    for i, j, w in shallow.layers[2].entries:
        if isinstance(w, Infinity):
            infinite.setdefault(i, set()).add(j)
    strict = [sum(1 << j for j in s) for s in shallow.strict]
    weak = [sum(1 << j for j in w) for w in shallow.weak]
    for k in range(shallow.regions):
        own = set(shallow.strict[k]) | {J + j for j in shallow.weak[k]}
        if any(infinite.get(row, set()) != own for row in range(2 * k * m, 2 * (k + 1) * m)):
            raise SystemExit(f"region {k}: a gate row does not test exactly its gates")
        for other in range(shallow.regions):
            if other != k and not ((strict[other] & weak[k]) or (weak[other] & strict[k])):
                raise SystemExit(f"check_gates passed but the gate of region {other} is not closed on region {k}")


def best_of(count: int, run) -> float:
    """The least CPU seconds of ``count`` calls of ``run``."""
    times = []
    for _ in range(count):
        started = time.process_time()
        run()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds of the random networks")
    args = parser.parse_args()
    markdown_header(["network", "seed", "K", "check_gates (now) s", "pairwise (before) s", "before / now"])
    for name, widths in NETWORKS.items():
        if args.only and name != args.only:
            continue
        for seed in args.seeds:
            e = enumerate_regions(random_network(widths, seed=seed), box(widths[0]))
            s = build_shallow(e)
            linear = best_of(3, lambda: check_gates(e, s))
            quadratic = best_of(1, lambda: pairwise(s))
            markdown_row([name, seed, s.regions, f"{linear:.3f}", f"{quadratic:.3f}", f"{quadratic / linear:.1f}"])


if __name__ == "__main__":
    main()
