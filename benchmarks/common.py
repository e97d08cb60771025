"""Shared set-up of the benchmarks: the benchmark networks (random, float32 weights, fixed seeds)."""

from __future__ import annotations

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


def markdown_header(columns: list[str]) -> None:
    """Print the head of a Markdown table."""
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join(" --- " for _ in columns) + "|", flush=True)


def markdown_row(cells: list[object]) -> None:
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)
