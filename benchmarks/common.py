"""Shared set-up of the benchmarks: the benchmark networks (random, float32 weights, fixed seeds),
the ACAS Xu small boxes, CPU timing and Markdown output."""

from __future__ import annotations

import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from exactrelu.domain import Domain
from exactrelu.network import ReluNetwork

# name -> widths (input, hidden..., output); the networks of the region issue
NETWORKS = {
    "2-[12]-1": [2, 12, 1],
    "2-[8,8]-1": [2, 8, 8, 1],
    "2-[16,16,16]-1": [2, 16, 16, 16, 1],
    "3-[10,10]-1": [3, 10, 10, 1],
    "4-[8,8,8]-2": [4, 8, 8, 8, 2],
}


def random_network(widths: list[int], seed: int = 0) -> ReluNetwork:
    """He-style random weights rounded to float32 (then read exactly, as any loader would)."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        w = (rng.normal(size=(fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.normal(size=fan_out) * 0.5).astype(np.float32)
        layers.append((w.astype(float).tolist(), b.astype(float).tolist()))
    return ReluNetwork.from_lists(layers)


def box(n: int) -> Domain:
    return Domain.box(["-2"] * n, ["2"] * n)


def shared_folder() -> Path:
    """``../shared`` beside the project's root: beside the main checkout, also when this file is in
    a git worktree of it (the worktree's common git folder is the main checkout's ``.git``), else
    beside the repository holding this file; whatever the current folder."""
    here = Path(__file__).resolve().parents[1]
    try:
        common = subprocess.run(["git", "-C", str(here), "rev-parse", "--git-common-dir"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # no git, or not a repository (an unpacked copy)
        return here.parent / "shared"
    return (here / common).resolve().parent.parent / "shared"


def require_folder(folder: Path, needed: str, flag: str) -> None:
    """One clear line (and exit 1) when ``folder / needed`` is not there."""
    if not (folder / needed).exists():
        raise SystemExit(f"{sys.argv[0]}: no {folder / needed} (the ACAS Xu files); name their folder with {flag} DIR")


ACASXU = shared_folder() / "acasxu" / "nnet"  # the benchmark's ACAS Xu .nnet folder (--acasxu DIR overrides)


def acasxu_case(folder: Path, name: str, fraction: Fraction) -> Optional[tuple[ReluNetwork, Domain]]:
    """The ACAS Xu network ``name`` (e.g. ``"1_1"``) as read by ``exactrelu.io.load_model`` (input
    normalisation folded in), over the box around the midpoint of its stated input bounds with
    half-width ``fraction`` of each input's stated range; ``None`` when the file is not there."""
    from exactrelu.io import load_model

    path = folder / f"ACASXU_run2a_{name}_batch_2000.nnet"
    if not path.is_file():
        return None
    model = load_model(path)
    lo, hi = model.default_box
    mid = [(a + c) / 2 for a, c in zip(lo, hi)]
    half = [fraction * (c - a) for a, c in zip(lo, hi)]
    return model.network, Domain.box([m - h for m, h in zip(mid, half)], [m + h for m, h in zip(mid, half)])


def cpu_seconds(run: Callable[[], object]) -> tuple[object, float]:
    """``run()`` and the CPU seconds it took (this process; fairer than wall time on a shared machine)."""
    started = time.process_time()
    result = run()
    return result, time.process_time() - started


def markdown_header(columns: list[str]) -> None:
    """Print the head of a Markdown table."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join(" --- " for _ in columns) + "|", flush=True)


def markdown_row(cells: list[object]) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
