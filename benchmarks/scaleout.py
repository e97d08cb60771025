"""Scale-out benchmark (issue 15): the case-split tree on a Dask LocalCluster.

    python benchmarks/scaleout.py [--only NAME] [--split-nodes 2000]

For the largest benchmark networks over [-2, 2]^n: wall seconds of the serial engine, and of
:func:`exactrelu.parallel.enumerate_parallel` on a LocalCluster of 1 and of 2 worker processes
(cluster start-up not included), the frontier and the number of subtree tasks, the speed-up serial
/ 2 workers, and the overhead per subtree task ``(wall with 1 worker - serial) / tasks``.  Every
parallel result is compared with the serial one (tree and regions equal, else the script stops).

Projection to W workers from the 1-worker run's measured costs: client-side frontier expansion
``T0`` (serial), task seconds ``t_i`` (their sum and maximum), per-task overhead ``o`` on the client
and scheduler (serial): ``T(W) = T0 + max(sum(t_i) / W + max(t_i), tasks * o)`` (list scheduling with
perfect work stealing; no memory or network limits; the same tasks as measured, whereas a real run
with 8 W frontier nodes would send more, smaller ones).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.parallel import dask_client, enumerate_parallel  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402

CASES = {"2-[16,16,16]-1": [2, 16, 16, 16, 1], "4-[8,8,8]-2": [4, 8, 8, 8, 2], "3-[32,32]-1": [3, 32, 32, 1]}


def timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--split-nodes", type=int, default=2000)
    args = parser.parse_args()
    cases = {k: v for k, v in CASES.items() if args.only in (None, k)}
    measured = {}
    for name, widths in cases.items():
        net, domain = random_network(widths, seed=0), box(widths[0])
        serial, t_serial = timed(lambda: enumerate_regions(net, domain))
        measured[name] = {"serial": t_serial, "regions": len(serial.regions), "nodes": serial.nodes, "result": serial}
    for workers in (1, 2):
        with dask_client(workers=workers) as client:
            for name, widths in cases.items():
                net, domain = random_network(widths, seed=0), box(widths[0])
                stats: dict = {}
                started = time.perf_counter()
                result = enumerate_parallel(net, domain, client, split_nodes=args.split_nodes, stats=stats)
                wall = time.perf_counter() - started
                serial = measured[name]["result"]
                if serial.tree != result.tree or serial.regions != result.regions:
                    raise SystemExit(f"{name}: the parallel result differs from the serial one")
                measured[name][workers] = (wall, stats)
    markdown_header(["network", "regions", "nodes", "serial s", "1 worker s", "2 workers s", "speed-up (2)",
                     "frontier / tasks", "overhead per task ms", "projected 16 s", "projected 128 s"])
    for name, m in measured.items():
        (w1, s1), (w2, s2) = m[1], m[2]
        t = s1["task_seconds"]
        total, longest, tasks = sum(t), max(t, default=0.0), len(t)
        overhead = max(0.0, (w1 - m["serial"]) / max(tasks, 1))
        front = max(0.0, w1 - total - tasks * overhead)  # client-side expansion and merge

        def project(W: int) -> float:
            return front + max(total / W + longest, tasks * overhead)

        markdown_row([name, m["regions"], m["nodes"], f"{m['serial']:.1f}", f"{w1:.1f}", f"{w2:.1f}",
                      f"{m['serial'] / w2:.2f}", f"{s1['frontier']} / {tasks}", f"{1000 * overhead:.1f}",
                      f"{project(16):.1f}", f"{project(128):.1f}"])


if __name__ == "__main__":
    main()
