"""The brute-force baseline: every one of the ``2^N`` activation patterns decided by exact LP.

It shares nothing with the tree search of :mod:`exactrelu.regions` but the LP module: for each
pattern it builds the region's rows directly from the weights and asks :func:`exactrelu.lp.decide`.
Used by the tests (as an independent count) and the benchmarks (as the baseline).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Optional

from .domain import Domain
from .lp import Row, decide, interior_point
from .network import ReluNetwork


def pattern_rows(network: ReluNetwork, pattern: tuple[bool, ...], domain: Domain) -> list[Row]:
    """The rows of the region of a flat pattern, computed layer by layer with matrix products."""
    n = network.input_dim
    # affine maps of x: (W, b) with W as a list of rows; start with the identity
    W = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    b = [Fraction(0)] * n
    rows = list(domain.rows())
    k = 0
    for layer in network.layers[:-1]:
        Z = [[sum((layer.weight[i][j] * W[j][t] for j in range(len(W))), Fraction(0)) for t in range(n)]
             for i in range(layer.out_dim)]
        z = [sum((layer.weight[i][j] * b[j] for j in range(len(b))), layer.bias[i]) for i in range(layer.out_dim)]
        bits = pattern[k : k + layer.out_dim]
        k += layer.out_dim
        for zi, ci, on in zip(Z, z, bits):
            rows.append((tuple(zi), ci, True) if on else (tuple(-a for a in zi), -ci, False))
        W = [zi if on else [Fraction(0)] * n for zi, on in zip(Z, bits)]
        b = [ci if on else Fraction(0) for ci, on in zip(z, bits)]
    return rows


def brute_force_patterns(
    network: ReluNetwork, domain: Optional[Domain] = None
) -> dict[tuple[bool, ...], bool]:
    """Every nonempty flat pattern, mapped to whether its region is full-dimensional."""
    n = network.input_dim
    domain = domain or Domain.reals(n)
    found = {}
    for pattern in itertools.product((True, False), repeat=network.neuron_count):
        rows = pattern_rows(network, pattern, domain)
        if decide(rows, n).nonempty:
            found[pattern] = interior_point(rows, n) is not None
    return found
