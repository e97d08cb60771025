"""Shared helpers for the exactrelu tests: a reproducible factory of small exact ReLU networks,
generic and deliberately degenerate, and helpers to draw exact rational points.

Every network is built through :meth:`ReluNetwork.from_lists` from small integers and rationals
(as ``Fraction`` or ``"p/q"`` strings), so the tests exercise the exact parsing path too.

Degenerate kinds (the names accepted by :func:`make_network`):

* ``generic``       small random integer/rational weights;
* ``duplicate``     a first-layer neuron repeated exactly, and one repeated as a positive multiple;
* ``zero_row``      a neuron with a zero weight row and a nonzero bias (constant pre-activation);
* ``zero_neuron``   a neuron that is identically zero (zero row, zero bias);
* ``dead``          neurons that are always negative: zero row with negative bias, and in deeper
                    layers a row of nonpositive weights with a negative bias (inputs are >= 0);
* ``parallel``      parallel hyperplanes: same normal with another offset, the negated neuron
                    (same hyperplane, opposite side), and the negated normal with another offset;
* ``concurrent``    three hyperplanes through one rational point (normals ``u, v, u + v``);
* ``touching``      a neuron ``x1 - 1`` (and ``-x1 - 1``) whose hyperplane only touches the box
                    ``[-1, 1]^n`` on its boundary;
* ``multi_output``  generic weights with at least two outputs;
* ``mixed``         three of the first-layer degeneracies above at once.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Callable, Sequence

import pytest

from exactrelu.network import ReluNetwork

KINDS = (
    "generic",
    "duplicate",
    "zero_row",
    "zero_neuron",
    "dead",
    "parallel",
    "concurrent",
    "touching",
    "multi_output",
    "mixed",
)

_DENOMS = (1, 1, 1, 2, 3, 4)


def rand_rational(rng: random.Random, bound: int = 3) -> Fraction:
    """A small rational ``p/q`` with ``|p| <= bound`` and ``q`` in {1, 2, 3, 4}."""
    return Fraction(rng.randint(-bound, bound), rng.choice(_DENOMS))


def rand_nonzero(rng: random.Random, bound: int = 3) -> Fraction:
    while True:
        v = rand_rational(rng, bound)
        if v:
            return v


def _as_text(v: Fraction, rng: random.Random) -> object:
    """Mix the accepted input kinds: Fraction, int, or a "p/q" string."""
    choice = rng.randrange(3)
    if choice == 0:
        return v
    if choice == 1 and v.denominator == 1:
        return int(v)
    return f"{v.numerator}/{v.denominator}"


def _random_row(rng: random.Random, width: int) -> list[Fraction]:
    row = [rand_rational(rng) for _ in range(width)]
    if not any(row):
        row[rng.randrange(width)] = rand_nonzero(rng)
    return row


def _degenerate_first_layer(
    rng: random.Random, n: int, width: int, kind: str
) -> tuple[list[list[Fraction]], list[Fraction]]:
    """A first hidden layer of ``width`` neurons on ``n`` inputs carrying the degeneracy ``kind``."""
    W = [_random_row(rng, n) for _ in range(width)]
    b = [rand_rational(rng) for _ in range(width)]
    zero = [Fraction(0)] * n
    special: list[tuple[list[Fraction], Fraction]] = []
    kinds = [kind] if kind != "mixed" else rng.sample(
        ["duplicate", "zero_row", "zero_neuron", "dead", "parallel", "concurrent", "touching"], 3)
    for k in kinds:
        if k == "duplicate":
            special.append((list(W[0]), b[0]))  # exact copy of neuron 0
            special.append(([2 * a for a in W[0]], 2 * b[0]))  # positive multiple: same region split
        elif k == "zero_row":
            special.append((list(zero), rand_nonzero(rng) ** 2))  # constant positive: always active
        elif k == "zero_neuron":
            special.append((list(zero), Fraction(0)))
        elif k == "dead":
            special.append((list(zero), -abs(rand_nonzero(rng))))
        elif k == "parallel":
            w = _random_row(rng, n)
            c = rand_rational(rng)
            special.append((list(w), c))
            special.append((list(w), c + 1))
            special.append(([-a for a in w], -c))  # the same hyperplane, opposite side
            special.append(([-a for a in w], -c + Fraction(1, 2)))
        elif k == "concurrent":
            # normals u, v, u + v (linearly dependent) through one rational point p: in the
            # plane, three lines through one point; in R^n, three hyperplanes sharing an (n-2)-flat
            p = [rand_rational(rng, 1) for _ in range(n)]
            u = _random_row(rng, n)
            while True:
                v = _random_row(rng, n)
                if any(a + c for a, c in zip(u, v)):
                    break
            for w in (u, v, [a + c for a, c in zip(u, v)]):
                special.append((w, -sum((a * t for a, t in zip(w, p)), Fraction(0))))
        elif k == "touching":
            e = [Fraction(1)] + [Fraction(0)] * (n - 1)
            special.append((list(e), Fraction(-1)))  # x1 - 1: zero only on the face x1 = 1
            special.append(([-a for a in e], Fraction(-1)))  # -x1 - 1: zero only on x1 = -1
    for k, (w, c) in enumerate(special):
        pos = k % max(width, 1)
        W[pos] = w
        b[pos] = c
    if len(special) > width:  # keep every special neuron: widen the layer
        extra = special[width:]
        for w, c in extra:
            W.append(w)
            b.append(c)
    return W, b


def make_network(rng: random.Random, dims: Sequence[int], kind: str = "generic") -> ReluNetwork:
    """A small exact network with widths ``dims`` = (inputs, hidden..., outputs).

    Degenerate kinds may widen the first hidden layer to fit their special neurons; the kind
    ``multi_output`` forces at least two outputs.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    dims = list(dims)
    if kind == "multi_output" and dims[-1] < 2:
        dims[-1] = 2
    n = dims[0]
    if kind in ("generic", "multi_output"):
        W0 = [_random_row(rng, n) for _ in range(dims[1])]
        b0 = [rand_rational(rng) for _ in range(dims[1])]
    else:
        W0, b0 = _degenerate_first_layer(rng, n, dims[1], kind)
    layers = [(W0, b0)]
    width = len(W0)
    for k, out in enumerate(dims[2:]):
        hidden = k < len(dims) - 3
        W = [[rand_rational(rng) for _ in range(width)] for _ in range(out)]
        b = [rand_rational(rng) for _ in range(out)]
        if hidden and kind in ("dead", "mixed") and out >= 2:
            # nonpositive weights on nonnegative inputs and a negative bias: always dead
            W[0] = [-abs(rand_rational(rng)) for _ in range(width)]
            b[0] = -abs(rand_nonzero(rng))
        if hidden and kind in ("duplicate", "mixed") and out >= 2:
            W[-1], b[-1] = list(W[0]), b[0]
        layers.append((W, b))
        width = out
    return ReluNetwork.from_lists(
        [([[_as_text(v, rng) for v in row] for row in W], [_as_text(v, rng) for v in b]) for W, b in layers]
    )


@pytest.fixture
def random_network() -> Callable[..., ReluNetwork]:
    """The factory :func:`make_network`: ``random_network(rng, dims, kind)``."""
    return make_network


def random_point(rng: random.Random, lower: Sequence[Fraction], upper: Sequence[Fraction],
                 denominators: Sequence[int] = (1, 2, 3, 4, 5, 7, 8, 16)) -> tuple[Fraction, ...]:
    """A random rational point of the box ``[lower, upper]`` (corners and grid points included)."""
    point = []
    for lo, hi in zip(lower, upper):
        q = rng.choice(denominators)
        steps = int((hi - lo) * q)
        point.append(lo + Fraction(rng.randint(0, steps), q) if steps > 0 else lo)
    return tuple(point)


@pytest.fixture
def rational_point() -> Callable[..., tuple[Fraction, ...]]:
    """The helper :func:`random_point`: ``rational_point(rng, lower, upper)``."""
    return random_point


def unit_box(n: int) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
    return tuple([Fraction(-1)] * n), tuple([Fraction(1)] * n)


@pytest.fixture
def net_json(tmp_path):
    """Write a network as exactrelu-network JSON and return the path."""
    import json

    def write(net: ReluNetwork, name: str = "net.json"):
        path = tmp_path / name
        path.write_text(json.dumps(net.to_dict()))
        return path

    return write


@pytest.fixture
def run_main(capsys):
    """``exactrelu ARGV...`` run in-process: ``(exit code, stdout, stderr)``."""
    from exactrelu.commands import main

    def run(*argv) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def abs_model(tmp_path):
    """``|x| = relu(x) + relu(-x)`` written to ``tmp_path/abs.json``."""
    import json

    path = tmp_path / "abs.json"
    path.write_text(json.dumps(ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])]).to_dict()))
    return path


def _reference_shapley(net: ReluNetwork, x, background) -> list[list[Fraction]]:
    """The textbook Shapley formula over coalitions, term by term, with Fractions and the plain
    exact evaluator (no code shared with :mod:`exactrelu.explain` or :mod:`exactrelu.patterns`)."""
    import itertools
    import math

    n, m = net.input_dim, net.output_dim

    def v(S: frozenset) -> list[Fraction]:
        total = [Fraction(0)] * m
        for b in background:
            z = [x[i] if i in S else b[i] for i in range(n)]
            total = [t + y for t, y in zip(total, net.evaluate(z))]
        return [t / len(background) for t in total]

    phi = [[Fraction(0)] * m for _ in range(n)]
    for i in range(n):
        rest = [j for j in range(n) if j != i]
        for size in range(n):
            weight = Fraction(math.factorial(size) * math.factorial(n - size - 1), math.factorial(n))
            for S in itertools.combinations(rest, size):
                with_i, without = v(frozenset(S) | {i}), v(frozenset(S))
                phi[i] = [p + weight * (a - c) for p, a, c in zip(phi[i], with_i, without)]
    return phi


@pytest.fixture
def reference_shapley() -> Callable[..., list[list[Fraction]]]:
    """``reference_shapley(net, x, background)``: the textbook Shapley values (see :func:`_reference_shapley`)."""
    return _reference_shapley

