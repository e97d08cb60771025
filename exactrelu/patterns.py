"""Activation patterns of many points at float speed, proved exactly; exact affine maps per pattern.

:class:`FloatSigns` evaluates a batch of points in float64 (numpy) and carries, beside every
computed pre-activation ``ẑ``, a **rigorous bound** ``e >= |ẑ - z|`` on its distance from the
exact pre-activation ``z`` of the exact (rational) network at the exact (rational) point.  A
neuron's sign is *proved* when ``ẑ > e`` (then ``z > 0``: active) or ``ẑ <= -e`` (then ``z <= 0``:
inactive); a point is *decided* when every neuron's sign is proved.  A point with a pre-activation
too close to zero (in particular one exactly on a neuron's boundary, ``z = 0``) is left undecided
and its pattern is computed in exact integers (:meth:`PatternMaps.exact_patterns`).  So the
patterns returned by :func:`patterns_of` are exact, whatever the floats do.

The bound, per layer ``z = W v + b`` with fan-in ``k`` (``Ŵ, b̂`` the float weights, ``δ_W, δ_b``
their exact distances from ``W, b`` rounded up; ``v̂`` the float input with ``|v̂ - v| <= e_v``)::

    |ẑ - z| <= |fl(Ŵ v̂ + b̂) - (Ŵ v̂ + b̂)| + |Ŵ (v̂ - v)| + |(Ŵ - W) v| + |b̂ - b|
            <= γ_{k+1} (|Ŵ| |v̂| + |b̂|) + |Ŵ| e_v + δ_W (|v̂| + e_v) + δ_b

with ``γ_j = j u / (1 - j u)``, ``u = 2^-53``: Higham's forward error bound of a dot product, which
holds for every summation order and with fused multiply-adds, hence for any BLAS.  The bound is
itself computed in floats, so it is inflated by a relative ``2^-30`` (far above the relative error
``γ_{3k}`` of a computed sum of nonnegative products for ``k < 2^20``) and an absolute ``2^-1000``
(far above any underflow).  ReLU is 1-Lipschitz, so ``e_v`` of the next layer is ``e``; an inactive
neuron whose sign is proved carries exactly ``0`` (error ``0``).  A non-finite value is undecided.

:class:`PatternMaps` holds the layers as integer homogeneous matrices ``[[t W, t b], [0, t]]``
(python-flint ``fmpz_mat``) and returns, per pattern (cached), the exact affine map ``alpha x + beta``
of the network on that pattern as integer numerators over one denominator ``T`` shared by all
patterns.  For every point ``x`` with pattern ``s``, ``f(x) = alpha_s x + beta_s`` exactly.

>>> from fractions import Fraction as F
>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1], [-1]], ["1/3", 0]), ([[1, 1]], [0])])  # relu(x+1/3) + relu(-x)
>>> bits, exact = patterns_of(net, [[F(1)], [F(-1, 3)], [F(5)]])
>>> bits.tolist(), exact                # x = -1/3 lies on the first neuron's boundary: decided exactly
([[True, False], [False, True], [True, False]], 1)
>>> maps = PatternMaps(net)
>>> maps.affine(bits[1].tobytes())      # alpha, beta of the pattern (0, 1): f = -x
(((Fraction(-1, 1),),), (Fraction(0, 1),))
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Optional, Sequence

import numpy as np

from .network import Matrix, ReluNetwork, Vector

UNIT = 2.0 ** -53
SAFETY = 1.0 + 2.0 ** -30
TINY = 2.0 ** -1000


def float_up(q: Fraction) -> float:
    """A float ``>= q`` (``q >= 0``), the nearest one or the next above it."""
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def to_float(values: Sequence[Fraction]) -> tuple[np.ndarray, np.ndarray]:
    """Float64 values and rigorous bounds of their distance from the exact rationals (``0`` for a
    value that is a float: a numerator below ``2^53`` over a power of two up to ``2^1000``)."""
    floats = np.array([_to_float(v) for v in values], dtype=float)
    errors = np.array([0.0 if _is_float(v) else math.inf if math.isinf(f) else float_up(abs(Fraction(f) - v))
                       for f, v in zip(floats.tolist(), values)], dtype=float)
    return floats, errors


def _to_float(v: Fraction) -> float:
    """``float(v)``, or an infinity of ``v``'s sign beyond the float range (its error bound is then
    infinite, so no sign is ever proved from it)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _is_float(v: Fraction) -> bool:
    d = v.denominator
    return not d & (d - 1) and d.bit_length() <= 1001 and abs(v.numerator) < 1 << 53


def _gamma(k: int) -> float:
    """An upper bound of ``γ_k = k u / (1 - k u)`` (``k u < 1/100``)."""
    if k * UNIT >= 0.01:
        raise ValueError("fan-in too large for the float error bound")
    return k * UNIT * 1.0102


class FloatSigns:
    """Float64 evaluation of a network with a rigorous error bound on every pre-activation."""

    def __init__(self, net: ReluNetwork) -> None:
        self.layers = []
        for layer in net.layers[:-1]:
            W = [v for row in layer.weight for v in row]
            Wf, We = to_float(W)
            bf, be = to_float(layer.bias)
            shape = (layer.out_dim, layer.in_dim)
            Wf, We = Wf.reshape(shape), We.reshape(shape)
            exact = not We.any() and not be.any()
            self.layers.append((Wf.T.copy(), np.abs(Wf).T.copy(), bf, np.abs(bf), We.T.copy(), be,
                                _gamma(layer.in_dim + 1), exact))
        self.width = sum(net.hidden_widths)

    def _layer_bound(self, layer, V: np.ndarray, E: Optional[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(Z, bound)``: the computed pre-activations and rigorous bounds of their errors."""
        Wt, absWt, b, absb, We, be, gamma, exact = layer
        Z = V @ Wt + b
        absV = np.abs(V)
        bound = gamma * (absV @ absWt + absb)
        if E is not None:
            bound += E @ absWt
        if not exact:
            bound += (absV if E is None else absV + E) @ We + be
        return Z, bound * SAFETY + TINY

    def decide(self, V: np.ndarray, E: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
        """``(bits, decided)`` for a batch ``V`` (points x inputs) with input error bounds ``E``:
        ``bits[p]`` the pattern (layer-major, active = True), exact where ``decided[p]``."""
        N = V.shape[0]
        decided = np.ones(N, dtype=bool)
        out = np.empty((N, self.width), dtype=bool)
        start = 0
        if E is not None and not E.any():
            E = None
        with np.errstate(all="ignore"):
            for layer in self.layers:
                Z, bound = self._layer_bound(layer, V, E)
                active = Z > bound
                inactive = Z <= -bound
                decided &= (active | inactive).all(axis=1)
                width = Z.shape[1]
                out[:, start : start + width] = active
                start += width
                V = np.where(inactive, 0.0, np.maximum(Z, 0.0))
                E = np.where(inactive, 0.0, bound)
        return out, decided

    def relaxed(self, V: np.ndarray, E: Optional[np.ndarray], forced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Under the fixed pattern ``forced`` (one row of bits), whether each point is proved to satisfy
        every condition of that pattern relaxed (``z >= 0`` for active, ``z <= 0`` for inactive: the
        closure of the region) and whether it is proved to violate one (``z < 0``, resp. ``z > 0``)."""
        N = V.shape[0]
        inside = np.ones(N, dtype=bool)
        outside = np.zeros(N, dtype=bool)
        start = 0
        if E is not None and not E.any():
            E = None
        with np.errstate(all="ignore"):
            for layer in self.layers:
                Z, bound = self._layer_bound(layer, V, E)
                on = forced[start : start + Z.shape[1]]
                start += Z.shape[1]
                inside &= np.where(on, Z - bound >= 0, Z + bound <= 0).all(axis=1)
                outside |= np.where(on, Z < -bound, Z > bound).any(axis=1)
                V = np.where(on, Z, 0.0)
                E = np.where(on, bound, 0.0)
        return inside, outside


def _lcm_den(values) -> int:
    """The least common multiple of the denominators of ``values`` (Fractions)."""
    return math.lcm(*{v.denominator for v in values})


class PatternMaps:
    """Exact affine maps of a network per activation pattern, in integers (see the module docstring)."""

    def __init__(self, net: ReluNetwork) -> None:
        from flint import fmpz_mat

        self.net = net
        self.n, self.m = net.input_dim, net.output_dim
        self.widths = net.hidden_widths
        self.homogeneous = []
        self.integer_layers = []
        T = 1
        for layer in net.layers:
            t = _lcm_den(itertools.chain(itertools.chain.from_iterable(layer.weight), layer.bias))
            A = [[int(w * t) for w in row] for row in layer.weight]
            c = [int(b * t) for b in layer.bias]
            rows, cols = layer.out_dim + 1, layer.in_dim + 1
            entries = [v for row, ci in zip(A, c) for v in (*row, ci)] + [0] * layer.in_dim + [t]
            self.homogeneous.append(fmpz_mat(rows, cols, entries))
            self.integer_layers.append((A, c, t))
            T *= t
        self.denominator = T
        self.cache: dict[bytes, tuple[list, list]] = {}

    def integer_map(self, key: bytes) -> tuple[list[list[int]], list[int]]:
        """``(A, B)``: ``alpha = A / T`` (m x n) and ``beta = B / T`` for the pattern whose bits
        (layer-major, one byte per neuron as numpy's ``bool.tobytes()``) are ``key``."""
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        from flint import fmpz_mat

        P = self.homogeneous[0]
        start = 0
        for l, width in enumerate(self.widths):
            bits = key[start : start + width]
            start += width
            diag = [0] * ((width + 1) * (width + 1))
            for i in range(width):
                if bits[i]:
                    diag[i * (width + 2)] = 1
            diag[-1] = 1
            P = self.homogeneous[l + 1] * (fmpz_mat(width + 1, width + 1, diag) * P)
        n, m = self.n, self.m
        entries = [int(v) for v in P.entries()]
        A = [entries[o * (n + 1) : o * (n + 1) + n] for o in range(m)]
        B = [entries[o * (n + 1) + n] for o in range(m)]
        self.cache[key] = (A, B)
        return A, B

    def affine(self, key: bytes) -> tuple[Matrix, Vector]:
        """The exact ``(alpha, beta)`` of a pattern, as rationals."""
        A, B = self.integer_map(key)
        T = self.denominator
        return tuple(tuple(Fraction(a, T) for a in row) for row in A), tuple(Fraction(b, T) for b in B)

    def _walk(self, v: Sequence[int], Q: int, forced: Optional[bytes]):
        """Pre-activation numerators of every hidden layer at ``v / Q``, under ``forced`` if given
        (else under the point's own pattern)."""
        D, start = Q, 0
        for A, c, t in self.integer_layers[:-1]:
            z = [sum(a * x for a, x in zip(row, v)) + ci * D for row, ci in zip(A, c)]
            on = [zi > 0 for zi in z] if forced is None else [bool(f) for f in forced[start : start + len(z)]]
            start += len(z)
            yield z, on
            v = [zi if o else 0 for zi, o in zip(z, on)]
            D *= t

    def exact_patterns(self, numerators: Sequence[Sequence[int]], Q: int) -> np.ndarray:
        """Exact patterns of the points ``numerators / Q`` (Python integers, layer by layer)."""
        out = np.empty((len(numerators), sum(self.widths)), dtype=bool)
        for p, v in enumerate(numerators):
            out[p] = [o for _, on in self._walk(v, Q, None) for o in on]
        return out

    def in_closure(self, v: Sequence[int], Q: int, key: bytes) -> bool:
        """Whether ``v / Q`` satisfies every condition of pattern ``key`` relaxed, exactly."""
        return all((zi >= 0) if o else (zi <= 0) for z, on in self._walk(v, Q, key) for zi, o in zip(z, on))


def patterns_of(net: ReluNetwork, points: Sequence[Sequence[Fraction]], signs: Optional[FloatSigns] = None,
                maps: Optional[PatternMaps] = None) -> tuple[np.ndarray, int]:
    """The exact patterns of rational ``points`` (rows of bools) and how many needed exact arithmetic."""
    signs = signs or FloatSigns(net)
    flat = [v for p in points for v in p]
    V, E = to_float(flat)
    shape = (len(points), net.input_dim)
    bits, decided = signs.decide(V.reshape(shape), E.reshape(shape))
    undecided = np.flatnonzero(~decided)
    if len(undecided):
        maps = maps or PatternMaps(net)
        Q = _lcm_den(flat)
        bits[undecided] = maps.exact_patterns([[int(v * Q) for v in points[i]] for i in undecided], Q)
    return bits, len(undecided)
