"""Region enumeration benchmark (issues 3 and 12).

    python benchmarks/regions.py [--brute-limit 16] [--only NAME] [--no-acasxu] [--acasxu DIR]
    python benchmarks/regions.py --large [--large-widths 3,32,32,32,1]

For each benchmark network over the box [-2, 2]^n, and for ACAS Xu networks over small boxes
(half-width 0.5% and 1% of each input's stated range around the midpoint of the stated bounds),
measured in one run, in CPU seconds of this process:

* the engine (:func:`exactrelu.regions.enumerate_regions`): regions, tree nodes, exact LPs, LPs per
  region, the share of child decisions taken without an LP, seconds, regions per second;
* the frozen pre-issue-12 engine (``benchmarks/baseline_engine.py``) on the same input, and the
  speed-up ``baseline / engine`` (> 1: the engine is faster);
* the brute force over all 2^N patterns (one exact LP each) when N <= --brute-limit, and the
  speed-up ``brute force / engine``.

Both engines must find the same regions (the script stops otherwise).  ``--large`` instead
enumerates one large network (default 3-[32,32,32]-1 over [-2, 2]^3) in a fresh process per size
and reports regions, seconds and peak RSS, to show memory growing linearly with the regions.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_engine import baseline_enumerate_regions  # noqa: E402
from common import ACASXU, NETWORKS, acasxu_case, box, cpu_seconds, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.bruteforce import brute_force_patterns  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402

ACASXU_CASES = [("1_1", Fraction(5, 1000)), ("1_1", Fraction(1, 100)), ("2_3", Fraction(1, 100))]


def cases(args):
    for name, widths in NETWORKS.items():
        if not args.only or name == args.only:
            yield name, random_network(widths, seed=0), box(widths[0])
    if args.no_acasxu or args.only:
        return
    for name, fraction in ACASXU_CASES:
        found = acasxu_case(Path(args.acasxu), name, fraction)
        if found is None:
            print(f"(ACAS Xu network {name} not found in {args.acasxu}: row skipped)", file=sys.stderr)
            continue
        yield f"ACAS Xu {name}, ±{float(fraction) * 100:g}%", *found


def main_table(args) -> None:
    markdown_header(["network", "N", "regions", "full-dim", "nodes", "LPs", "LPs / region", "decisions without LP",
                     "seconds", "regions/s", "baseline s", "baseline / engine", "brute force s", "brute / engine"])
    for name, net, domain in cases(args):
        e, seconds = cpu_seconds(lambda: enumerate_regions(net, domain))
        b, baseline_s = cpu_seconds(lambda: baseline_enumerate_regions(net, domain))
        if {r.flat_pattern: r.full_dimensional for r in b.regions} != {r.flat_pattern: r.full_dimensional for r in e.regions}:
            raise SystemExit(f"{name}: the baseline engine disagrees with the engine")
        brute_s, brute_ratio = "-", "-"
        if net.neuron_count <= args.brute_limit:
            found, elapsed = cpu_seconds(lambda: brute_force_patterns(net, domain))
            if found != {r.flat_pattern: r.full_dimensional for r in e.regions}:
                raise SystemExit(f"{name}: the brute force disagrees with the engine")
            brute_s, brute_ratio = f"{elapsed:.2f}", f"{elapsed / seconds:.0f}"
        free = 1 - e.lp_decisions / e.decisions if e.decisions else 1
        markdown_row([name, net.neuron_count, len(e.regions), e.full_dimensional, e.nodes, e.lps,
                      f"{e.lps / len(e.regions):.2f}", f"{100 * free:.1f}%", f"{seconds:.3f}",
                      f"{len(e.regions) / seconds:.0f}", f"{baseline_s:.2f}", f"{baseline_s / seconds:.1f}",
                      brute_s, brute_ratio])


def large_child(widths: list[int]) -> None:
    """Run in a fresh process: enumerate one large network and print a JSON line."""
    net = random_network(widths, seed=0)
    e, seconds = cpu_seconds(lambda: enumerate_regions(net, box(widths[0])))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes
    print(json.dumps({"regions": len(e.regions), "nodes": e.nodes, "lps": e.lps, "seconds": seconds, "peak": peak}))


def large_table(args) -> None:
    markdown_header(["network", "N", "regions", "nodes", "LPs", "seconds", "regions/s", "peak RSS MB",
                     "peak RSS KB / region"])
    for text in args.large_widths:
        widths = [int(w) for w in text.split(",")]
        out = subprocess.run([sys.executable, __file__, "--large-child", text], capture_output=True, text=True,
                             check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        name = f"{widths[0]}-[{','.join(map(str, widths[1:-1]))}]-{widths[-1]}"
        markdown_row([name, sum(widths[1:-1]), r["regions"], r["nodes"], r["lps"], f"{r['seconds']:.1f}",
                      f"{r['regions'] / r['seconds']:.0f}", f"{r['peak'] / 2**20:.0f}",
                      f"{r['peak'] / 1024 / r['regions']:.1f}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brute-limit", type=int, default=16, help="run the brute force when N <= this")
    parser.add_argument("--only", help="one benchmark network by name (no ACAS Xu rows)")
    parser.add_argument("--no-acasxu", action="store_true", help="skip the ACAS Xu rows")
    parser.add_argument("--acasxu", default=str(ACASXU), help="folder of the ACAS Xu .nnet files")
    parser.add_argument("--large", action="store_true", help="only the large networks, with peak RSS")
    parser.add_argument("--large-widths", nargs="+", default=["3,32,32,1", "3,32,32,32,1"],
                        help="widths of the large networks (input,hidden...,output)")
    parser.add_argument("--large-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large_child:
        large_child([int(w) for w in args.large_child.split(",")])
    elif args.large:
        large_table(args)
    else:
        main_table(args)


if __name__ == "__main__":
    main()
