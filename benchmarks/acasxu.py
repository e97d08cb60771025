"""``exactrelu verify`` on the VNN-COMP 2021 ACAS Xu instances, with a per-instance time limit.

Reads ``acasxu_instances.csv`` (network, property, VNN-COMP time limit) from the ACAS Xu folder
(default ``../shared/acasxu`` beside the project's root, the main checkout's also from a git worktree), loads each ONNX network exactly, answers the
property with :func:`exactrelu.verify.verify_property`, writes the certificate of every answer and
checks it with the independent checker (naming the VNN-LIB file), and prints a Markdown table:
instance, answer, seconds, regions, subproblems (tree nodes / closed early / left open),
certificate size, check seconds; then the totals.

    python benchmarks/acasxu.py --timeout 60 --limit 20
    python benchmarks/acasxu.py --early --timeout 60 --only prop_3.vnnlib,prop_4.vnnlib --limit 10
    python benchmarks/acasxu.py --early --timeout 60 --only prop_3.vnnlib --limit 5 --shrink 1/100

``--shrink F`` scales every input box about its centre by the rational ``F`` (a smaller property of
the same network; its certificate is then checked against the embedded property, not the file).

``--limit N`` takes N instances round-robin over the properties (so every property appears);
``--only prop_2.vnnlib,...`` keeps the instances of those properties.

``--nnenum PYTHON`` also runs the peer nnenum (github stanleybak/nnenum, installed in a
benchmark-only environment whose interpreter is PYTHON, e.g. ``/work/benchvenv/bin/python``) on
the same instance with the same time limit and one process, right after exactrelu, and adds its
answer and wall seconds (process start and ONNX load included) to the row:

    python benchmarks/acasxu.py --early --timeout 20 --nnenum /work/benchvenv/bin/python

``--workers N`` runs the prover's subproblems (and any enumeration) on a local Dask cluster of N
processes, as ``verify --workers N`` does; the certificate column shows the first digits of each
certificate's SHA-256, so a serial and a parallel run can be compared byte for byte:

    python benchmarks/acasxu.py --early --timeout 300 --only prop_3.vnnlib --limit 1 --shrink 3/4 --workers 2
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import markdown_header, markdown_row, require_folder, shared_folder  # noqa: E402

from exactrelu.checker import CheckFailure, Checker  # noqa: E402
from exactrelu.domain import Domain  # noqa: E402
from exactrelu.io import load_model  # noqa: E402
from exactrelu.verify import verify_property, write_property_certificate  # noqa: E402
from exactrelu.vnnlib import parse_property  # noqa: E402

DEFAULT_FOLDER = shared_folder() / "acasxu"


def instances(folder: Path, limit: int | None, only: str | None = None) -> list[tuple[str, str, float]]:
    with open(folder / "acasxu_instances.csv", newline="") as fh:
        rows = [(net.strip(), prop.strip(), float(t)) for net, prop, t in csv.reader(fh) if net.strip()]
    if only:
        rows = [row for row in rows if row[1] in only.split(",")]
    if limit is None:
        return rows
    by_property: dict[str, list] = {}
    for row in rows:
        by_property.setdefault(row[1], []).append(row)
    queues = [by_property[p] for p in sorted(by_property, key=lambda p: int(p.split("_")[1].split(".")[0]))]
    picked: list = []
    while len(picked) < min(limit, len(rows)):
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


def shrunk(box: Domain, factor: Fraction) -> Domain:
    """The box scaled about its centre by ``factor``, exactly."""
    centre = [(a + b) / 2 for a, b in zip(box.lower, box.upper)]
    half = [(b - a) / 2 * factor for a, b in zip(box.lower, box.upper)]
    return Domain.box([c - h for c, h in zip(centre, half)], [c + h for c, h in zip(centre, half)])


def run_nnenum(python: str, onnx: Path, vnnlib: Path, timeout: float, tmp: str) -> tuple[str, float]:
    """nnenum's answer (``holds``, ``violated``, or what it printed) and its wall seconds, one process."""
    out = Path(tmp) / "nnenum.txt"
    out.unlink(missing_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    t = time.perf_counter()
    try:
        subprocess.run([python, "-m", "nnenum.nnenum", str(onnx), str(vnnlib), f"{timeout:g}", str(out), "1"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout + 60)
    except subprocess.TimeoutExpired:
        return "killed", time.perf_counter() - t
    seconds = time.perf_counter() - t
    answer = out.read_text().split()[0] if out.exists() and out.read_text().split() else "error"
    return answer, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="the ACAS Xu folder (with the CSV)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per instance (default 60)")
    parser.add_argument("--limit", type=int, help="how many instances (round-robin over the properties)")
    parser.add_argument("--only", metavar="PROPS", help="only these properties, e.g. prop_2.vnnlib,prop_7.vnnlib")
    parser.add_argument("--early", action="store_true", help="the early-closing prover (verify --early)")
    parser.add_argument("--shrink", type=Fraction, help="scale every input box about its centre by this rational")
    parser.add_argument("--nnenum", metavar="PYTHON", help="also run nnenum with this interpreter")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="the prover's subproblems on a local Dask cluster of N processes (verify --workers)")
    args = parser.parse_args(argv)
    require_folder(args.folder, "acasxu_instances.csv", "--folder")
    with contextlib.ExitStack() as stack:
        parallel = {}
        if args.workers:
            from exactrelu.parallel import dask_client, enumerate_parallel
            from exactrelu.prover import prove_parallel

            client = stack.enter_context(dask_client(args.workers))
            parallel = dict(enumerator=functools.partial(enumerate_parallel, client=client),
                            prover=functools.partial(prove_parallel, client=client))
        return run(args, parser, parallel)


def run(args, parser, parallel: dict) -> int:
    networks: dict[str, object] = {}
    markdown_header(["instance", "answer", "seconds", "regions", "nodes / closed / open", "certificate bytes (sha256)",
                     "check seconds"] + (["nnenum", "nnenum seconds"] if args.nnenum else []))
    totals = {"holds": 0, "violated": 0, "unknown": 0}
    peer: dict[str, int] = {}
    peer_seconds = solve_seconds = check_seconds = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for onnx, prop_name, _limit in instances(args.folder, args.limit, args.only):
            if onnx not in networks:
                networks[onnx] = load_model(args.folder / onnx).network
            raw = (args.folder / prop_name).read_bytes()
            prop = parse_property(raw.decode("utf-8"), str(args.folder / prop_name))
            if args.shrink is not None:
                prop = dataclasses.replace(prop, input_sets=tuple(shrunk(d, args.shrink) for d in prop.input_sets))
            verdict = verify_property(networks[onnx], prop, timeout=args.timeout, early=args.early, **parallel)
            totals[verdict.status] += 1
            solve_seconds += verdict.seconds
            size, check = "-", "-"
            if verdict.status != "unknown":
                cert = Path(tmp) / "cert.json"
                size = write_property_certificate(cert, verdict, hashlib.sha256(raw).hexdigest())
                size = f"{size} ({hashlib.sha256(cert.read_bytes()).hexdigest()[:12]})"
                t = time.perf_counter()
                try:
                    Checker(str(cert), prop=None if args.shrink is not None else str(args.folder / prop_name)).run()
                    check_seconds += time.perf_counter() - t
                    check = f"{time.perf_counter() - t:.2f}"
                except CheckFailure as exc:  # would be a bug: reported, never hidden
                    check = f"NOT VERIFIED ({exc})"
            answer = verdict.status + (f" ({verdict.counterexample.found_by})" if verdict.counterexample else "")
            extra = []
            if args.nnenum:
                if args.shrink is not None:
                    parser.error("--nnenum runs the property files as they are: not with --shrink")
                other, seconds = run_nnenum(args.nnenum, args.folder / onnx, args.folder / prop_name, args.timeout, tmp)
                peer[other] = peer.get(other, 0) + 1
                peer_seconds += seconds
                extra = [other, f"{seconds:.1f}"]
            markdown_row([f"{onnx.replace('ACASXU_run2a_', '').replace('_batch_2000.onnx', '')} {prop_name}",
                          answer, f"{verdict.seconds:.1f}", verdict.regions,
                          f"{verdict.nodes} / {verdict.closed} / {verdict.open}", size, check] + extra)
    print(f"\nanswered {totals['holds'] + totals['violated']} ({totals['holds']} holds, {totals['violated']} violated), "
          f"unknown {totals['unknown']}; {solve_seconds:.0f} s deciding, {check_seconds:.0f} s checking, "
          f"{time.perf_counter() - started:.0f} s in total, time limit "
          f"{args.timeout:g} s per instance" + (f", boxes shrunk by {args.shrink}" if args.shrink is not None else ""),
          flush=True)
    if args.nnenum:
        print("nnenum: " + ", ".join(f"{k} {v}" for k, v in sorted(peer.items())) + f"; {peer_seconds:.0f} s in total",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
