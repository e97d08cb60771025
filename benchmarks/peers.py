"""exactrelu against the float region enumerators relucent and parx (issue 12), in one run.

    python benchmarks/peers.py [--peer-python /work/benchvenv/bin/python] [--only NAME]
                               [--parx-src DIR] [--skip relucent|parx ...]

For each of the networks 2-[12]-1, 3-[10,10]-1, 2-[16,16,16]-1 (the random float32 networks of
``benchmarks/common.py``, seed 0) over the box [-2, 2]^n, the driver writes the network once as an
``.npz`` file into a temporary folder and launches, each in its own process on that same file:

* exactrelu (this interpreter, this checkout): ``load_model`` then
  :func:`exactrelu.regions.enumerate_regions` over the box;
* relucent and parx's ``exact_python`` method through ``benchmarks/peer_runner.py`` under
  ``--peer-python``, the benchmark-only environment that holds the peers (docs/benchmarks.md,
  "Float peers"; the peers are never dependencies of exactrelu).

Each process times only its enumeration, in CPU seconds of the process and its reaped children.
The table gives the regions each tool found (exactrelu: all regions, and how many are
full-dimensional; the float tools find full-dimensional regions only, by design), marked ``(=)``
when a peer's activation patterns are exactly exactrelu's full-dimensional ones, the seconds, and
the ratios ``peer / exactrelu`` (> 1: exactrelu is faster).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NETWORKS, box, cpu_seconds, markdown_header, markdown_row, random_network  # noqa: E402

PEER_NETWORKS = ["2-[12]-1", "3-[10,10]-1", "2-[16,16,16]-1"]
RADIUS = 2  # the box of common.box
HERE = Path(__file__).resolve().parent


def exactrelu_child(path: Path) -> None:
    """Run in a fresh process: enumerate the network in ``path`` over the box, print a JSON line."""
    from exactrelu.io import load_model
    from exactrelu.regions import enumerate_regions

    net = load_model(path).network
    e, seconds = cpu_seconds(lambda: enumerate_regions(net, box(net.input_dim)))
    full = sorted("".join("1" if bit else "0" for bit in r.flat_pattern) for r in e.regions if r.full_dimensional)
    print(json.dumps({"regions": len(e.regions), "full": e.full_dimensional, "patterns": full, "cpu": seconds}))


def run_json(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": tail}
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement(peer: dict, full: list[str]) -> str:
    """A peer's region count, and whether its activation patterns are exactly exactrelu's
    full-dimensional ones (``=``) or how many it missed and added."""
    if "error" in peer:
        return f"failed: {peer['error']}"
    found, exact = set(peer["patterns"]), set(full)
    if found == exact and peer["regions"] == len(found):
        return f"{peer['regions']} (=)"
    return f"{peer['regions']} ({len(exact - found)} missed, {len(found - exact)} not regions)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default="/work/benchvenv/bin/python",
                        help="interpreter of the benchmark-only environment holding relucent and parx")
    parser.add_argument("--parx-src", help="parx package folder of a parx source tree (peer_runner's default otherwise)")
    parser.add_argument("--only", choices=PEER_NETWORKS, help="one network")
    parser.add_argument("--skip", nargs="*", default=[], choices=["relucent", "parx"], help="peers not to run")
    parser.add_argument("--exactrelu-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.exactrelu_child:
        exactrelu_child(Path(args.exactrelu_child))
        return
    from exactrelu.io.npz import save

    peers = [p for p in ["relucent", "parx"] if p not in args.skip]
    versions: dict[str, str] = {}
    markdown_header(["network", "regions (exactrelu: all / full-dim)", *[f"regions ({p})" for p in peers],
                     "exactrelu s", *[f"{p} s" for p in peers], *[f"{p} / exactrelu" for p in peers]])
    with tempfile.TemporaryDirectory(prefix="exactrelu-peers-") as folder:
        for name in PEER_NETWORKS:
            if args.only and name != args.only:
                continue
            path = Path(folder) / f"{name}.npz"
            save(random_network(NETWORKS[name], seed=0), path)
            mine = run_json([sys.executable, __file__, "--exactrelu-child", str(path)])
            if "error" in mine:
                raise SystemExit(f"{name}: exactrelu failed: {mine['error']}")
            found = {}
            for peer in peers:
                command = [args.peer_python, str(HERE / "peer_runner.py"), peer, str(path), "--radius", str(RADIUS)]
                if peer == "parx" and args.parx_src:
                    command += ["--parx-src", args.parx_src]
                found[peer] = run_json(command)
                if "version" in found[peer]:
                    versions[found[peer]["tool"]] = found[peer]["version"]
            regions = [agreement(found[p], mine["patterns"]) for p in peers]
            seconds = [f"{found[p]['cpu']:.2f}" if "cpu" in found[p] else "-" for p in peers]
            ratios = [f"{found[p]['cpu'] / mine['cpu']:.1f}" if "cpu" in found[p] else "-" for p in peers]
            markdown_row([name, f"{mine['regions']} / {mine['full']}", *regions, f"{mine['cpu']:.3f}", *seconds,
                          *ratios])
    print()
    print("peers: " + ", ".join(f"{tool} {version}" for tool, version in versions.items()))


if __name__ == "__main__":
    main()
