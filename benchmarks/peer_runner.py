"""Run one float peer enumerator on one network and print one JSON line (benchmark only).

    /work/benchvenv/bin/python benchmarks/peer_runner.py relucent NET.npz --radius 2
    /work/benchvenv/bin/python benchmarks/peer_runner.py parx NET.npz --radius 2 [--parx-src DIR]

Runs under the benchmark-only environment (docs/benchmarks.md, "Float peers"), never under
exactrelu's: it imports neither exactrelu nor anything exactrelu depends on beyond numpy.  ``NET.npz``
holds the arrays ``W0, b0, W1, b1, ...`` (out x in) that ``benchmarks/peers.py`` wrote; the domain
is the box ``[-radius, radius]^n``.  Printed: ``{"tool", "version", "regions", "patterns", "cpu",
"wall"}`` (``patterns``: each region's activation pattern over the hidden neurons, layer-major, as
a string of ``1`` = active, ``z > 0``, and ``0``), where ``cpu`` is the CPU time of this process
plus that of its reaped children (relucent always computes in a worker pool) and ``wall`` the
elapsed time, both around the enumeration only.

* relucent: ``Complex(torch model).bfs(start=0, cube_mode="intersect", cube_radius=radius,
  nworkers=1, verify=False)``: every cell meeting the box; Gurobi limited to one thread.
* parx: the pure-Python exact method (``exact_python``: DFS over layers, facet flipping inside a
  layer, a HiGHS Chebyshev-centre LP per candidate and an LP per local facet).  parx's public
  entry point enumerates over all of R^n and its package ``__init__`` refuses to load without Julia,
  so the runner loads ``parx.methods`` from the source tree without that ``__init__`` and calls the
  method's own DFS (``_dfs_exact``) with the box rows as the initial constraint system, which is
  what ``find`` does with an empty one.  Only cells with a positive Chebyshev radius are found.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sys
import time
import types
from pathlib import Path

import numpy as np


def read_layers(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    archive = np.load(path, allow_pickle=False)
    count = len(archive.files) // 2
    return [(np.asarray(archive[f"W{k}"], dtype=np.float64), np.asarray(archive[f"b{k}"], dtype=np.float64))
            for k in range(count)]


def cpu_now() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(run):
    cpu, wall = cpu_now(), time.perf_counter()
    result = run()
    return result, cpu_now() - cpu, time.perf_counter() - wall


def run_relucent(layers, radius: float) -> dict:
    import torch

    import relucent
    from relucent._internal.gurobi import get_env

    get_env(num_threads=1)
    modules = []
    for k, (w, b) in enumerate(layers):
        linear = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if k < len(layers) - 1:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    complex_ = relucent.Complex(model)
    start = np.zeros(layers[0][0].shape[1])
    result, cpu, wall = timed(lambda: complex_.bfs(start=start, cube_mode="intersect", cube_radius=radius,
                                                   nworkers=1, verify=False, verbose=0))
    if not result.complete:
        raise SystemExit(f"relucent: search incomplete ({len(result.bad_shi_computations)} failed neighbours)")
    patterns = sorted({"".join("1" if s > 0 else "0" for s in poly.ss_np.ravel()) for poly in complex_})
    return {"tool": "relucent", "version": relucent.__version__, "regions": len(complex_), "patterns": patterns,
            "cpu": cpu, "wall": wall}


def load_parx_exact_python(source: Path):
    """``parx.methods.exact_python`` from a source tree, without parx's Julia-checking ``__init__``."""
    if "parx" not in sys.modules:
        package = types.ModuleType("parx")
        package.__path__ = [str(source)]
        sys.modules["parx"] = package
    spec = importlib.util.find_spec("parx.methods.exact_python")
    if spec is None:
        raise SystemExit(f"parx: no parx/methods/exact_python.py under {source}")
    return importlib.import_module("parx.methods.exact_python")


def run_parx(layers, radius: float, source: Path) -> dict:
    exact_python = load_parx_exact_python(source)
    hidden = layers[:-1]  # parx partitions by the hidden ReLU layers only (include_output_layer=False)
    weights = [w for w, _ in hidden]
    biases = [b for _, b in hidden]
    n = weights[0].shape[1]
    box_rows = np.vstack([np.eye(n), -np.eye(n)])
    box_rhs = np.full(2 * n, radius)
    results: list = []

    def enumerate_box():
        exact_python._dfs_exact(weights=weights, biases=biases, layer=0, A_prev=np.eye(n), c_prev=np.zeros(n),
                                D_prev=box_rows, g_prev=box_rhs, q_path=[], x_parent=np.zeros(n),
                                r_parent=float(radius), results=results)

    _, cpu, wall = timed(enumerate_box)
    version = "?"
    pyproject = source.parent.parent / "pyproject.toml"
    if pyproject.is_file():
        for line in pyproject.read_text().splitlines():
            if line.startswith("version"):
                version = line.split("=", 1)[1].strip().strip('"')
                break
    patterns = sorted({"".join("1" if bit else "0" for bit in np.concatenate(path)) for path, *_ in results})
    return {"tool": "parx exact_python", "version": version, "regions": len(results), "patterns": patterns,
            "cpu": cpu, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tool", choices=["relucent", "parx"])
    parser.add_argument("network", type=Path, help=".npz with W0, b0, W1, b1, ...")
    parser.add_argument("--radius", type=float, default=2.0, help="the box is [-radius, radius]^n")
    parser.add_argument("--parx-src", type=Path, default=Path("/work/benchvenv/src/parx/src/parx"),
                        help="the parx package folder of a parx source tree")
    args = parser.parse_args()
    layers = read_layers(args.network)
    if args.tool == "relucent":
        out = run_relucent(layers, args.radius)
    else:
        out = run_parx(layers, args.radius, args.parx_src)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
