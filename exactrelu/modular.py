"""Exact integer evaluation of a ReLU network at many rational points, at float speed.

Scale every layer by the common denominator ``t_l`` of its weights and biases, ``A_l = t_l W_l`` and
``c_l = t_l b_l`` (integers), and write a batch of points over one common denominator ``Q`` as
integer numerators ``z``.  Then the pre-activations of layer ``l`` are the integers

    h_1 = A_1 z + c_1 Q,      h_{l+1} = A_{l+1} relu(h_l) + c_{l+1} D_l,      D_l = Q t_1 ... t_l,

over the positive denominator ``D_l`` (ReLU keeps the sign of a numerator over a positive
denominator), and the output is ``F / D`` with ``F`` the last layer's integers and ``D = D_L``.
Every ``|h|`` is at most the bound obtained by running the same recurrence on ``|A_l|``, ``|c_l|``
and ``max |z|`` (:meth:`ResidueNetwork.numerator_bound`).  The integers are long (over 100 bits
for float32 weights and data), so they are computed in two exact steps:

1. **signs.**  The network is evaluated in float64 with a rigorous bound on the distance of every
   computed pre-activation from the exact one (the bound of :mod:`exactrelu.patterns`, with the
   column maxima of ``|v|`` in place of ``|v|``, so one vector per layer); a neuron's sign is proved
   when the value clears the bound.  A point with an unproved sign (on or near a boundary, where
   ``h = 0`` is exactly what integers see) gets its pattern in exact Python integers.
2. **residues.**  With the pattern fixed, each layer is affine, so ``F mod p`` follows from the
   residues of ``z`` by the same products taken modulo ``p``.  For a prime ``p`` with
   ``(k + 1) p^2 <= 2^53`` (``k`` the largest fan-in) these products run exactly in float64 BLAS:
   the inputs are integers in ``[-p, 2p)``, the weights are centred residues ``|a| <= p/2``, so every
   product and every partial sum of a row, in whatever order a BLAS adds them, is an integer below
   ``k p^2 + p < 2^53``, hence exact.  The reduction ``x - p floor(x * (1/p))`` of such an ``x`` is
   exact and lands in ``[-p, 2p)`` (the float quotient is within 1 of ``x / p``).

Whatever is finally needed (here: a linear combination of outputs with integer coefficients, whose
magnitude the caller bounds by ``B``) is computed modulo enough primes that their product exceeds
``2 B``, and the Chinese remainder theorem (:func:`crt`) gives the integer exactly.

>>> from fractions import Fraction as F
>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1], [-1]], ["1/3", 0]), ([[1, 1]], [0])])  # relu(x+1/3) + relu(-x)
>>> rn = ResidueNetwork(net)
>>> points = [[F(-1, 3)], [F(2)], [F(-5, 7)]]          # the first lies on a neuron's boundary
>>> F_num, D = rn.evaluate(points)
>>> [F(v, D) for v in F_num[:, 0]] == [net.evaluate(p)[0] for p in points]
True
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Optional, Sequence

import numpy as np

from .network import ReluNetwork
from .patterns import SAFETY, TINY, PatternMaps, _gamma, _lcm_den, to_float

EXACT_FLOAT = 1 << 53  # every integer of magnitude <= 2^53 is a float64
_PRIMES: dict[int, list[int]] = {}  # prime limit -> the largest primes below it, descending


def scaled(v: Fraction, d: int) -> int:
    """``v * d`` for a multiple ``d`` of ``v``'s denominator (an integer)."""
    return v.numerator * (d // v.denominator)


def _is_prime(p: int) -> bool:
    """Deterministic Miller-Rabin for ``p < 3.3 * 10^24`` (the first 13 prime bases suffice)."""
    if p < 2:
        return False
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    for q in bases:
        if p % q == 0:
            return p == q
    d, s = p - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in bases:
        x = pow(a, d, p)
        if x in (1, p - 1):
            continue
        for _ in range(s - 1):
            x = x * x % p
            if x == p - 1:
                break
        else:
            return False
    return True


class ResidueNetwork:
    """A :class:`ReluNetwork` as integer layers, evaluated by float-proved signs and residues
    (module docstring).  :meth:`primes` are the largest primes with ``(k + 1) p^2 <= 2^53``."""

    def __init__(self, net: ReluNetwork) -> None:
        self.net = net
        self.n, self.m = net.input_dim, net.output_dim
        self.layers = []  # (A, c, t) integer layers
        for layer in net.layers:
            t = _lcm_den(itertools.chain(itertools.chain.from_iterable(layer.weight), layer.bias))
            self.layers.append(([[scaled(w, t) for w in row] for row in layer.weight], [scaled(b, t) for b in layer.bias], t))
        self.denominator_scale = math.prod(t for _, _, t in self.layers)
        self.floats = []  # layers in float64: [W^T; b] (+ the constant neuron), |W^T|, |b|, conversion errors, gamma
        for l, layer in enumerate(net.layers):
            Wf, We = to_float([v for row in layer.weight for v in row])
            bf, be = to_float(layer.bias)
            shape = (layer.out_dim, layer.in_dim)
            Wt = Wf.reshape(shape).T
            hidden = l < len(net.layers) - 1
            Wa = np.zeros((layer.in_dim + 1, layer.out_dim + hidden))
            Wa[:-1, : layer.out_dim], Wa[-1, : layer.out_dim] = Wt, bf
            if hidden:
                Wa[-1, -1] = 1.0  # the constant neuron 1 = 0 v + 1, the next layer's bias input
            self.floats.append((Wa, np.abs(Wt), np.abs(bf), We.reshape(shape).T.copy(), be, _gamma(layer.in_dim + 1)))
        fan_in = max(layer.in_dim for layer in net.layers)
        self.prime_limit = math.isqrt(EXACT_FLOAT // (fan_in + 1))
        self._primes: list[int] = []
        self._maps: Optional[PatternMaps] = None
        self._residue_cache: dict = {}
        self._buffers: dict = {}
        self._limits: dict[tuple[int, int, int], int] = {}
        self.exact_rows = 0  # points whose pattern needed exact integers

    # ------------------------------------------------------------------ bounds and primes
    def numerator_bound(self, zmax: int, Q: int) -> int:
        """A bound on ``|F|`` (every output numerator over ``D = Q t_1 ... t_L``) for points whose
        numerators over ``Q`` are at most ``zmax`` in magnitude."""
        bound = [zmax] * self.n
        D = Q
        for A, c, t in self.layers:
            bound = [sum(abs(a) * v for a, v in zip(row, bound)) + abs(ci) * D for row, ci in zip(A, c)]
            D *= t
        return max(bound, default=0)

    def primes(self, count: int, limit: Optional[int] = None) -> list[int]:
        """The ``count`` largest primes below ``limit`` (default :attr:`prime_limit`; cached for every
        network)."""
        limit = self.prime_limit if limit is None else limit
        self._primes = _PRIMES.setdefault(limit, [])
        p = self._primes[-1] - 1 if self._primes else limit
        while len(self._primes) < count:
            if p < 1000:
                raise ValueError("the network's fan-in is too large for word-size residues")
            if _is_prime(p):
                self._primes.append(p)
            p -= 1
        return self._primes[:count]

    def primes_above(self, bound: int, limit: Optional[int] = None) -> list[int]:
        """Enough primes below ``limit`` that their product exceeds ``2 bound + 1`` (a centred residue
        is then exact)."""
        count, product = 0, 1
        while product <= 2 * bound + 1:
            count += 1
            product = math.prod(self.primes(count, limit))
        return self.primes(count, limit)

    def summing_limit(self, group: int, inputs: int, blocks: int) -> int:
        """The largest ``p`` for which a residue pass that sums the last hidden layer over ``group``
        hybrids at a time, at most ``blocks`` such sums per entry, is exact
        (:meth:`exactrelu.explain.ModularShapley.shapley`), the first-layer residues being sums of at
        most ``inputs`` centred residues (``|.| <= p/2``).

        The bounds, with ``k_l`` the fan-in of layer ``l`` and every weight a centred residue: the
        first layer is unreduced, ``|h_0| <= inputs p/2``; a later hidden layer reads inputs of
        magnitude ``I_l`` (``I_1 = inputs p/2``, then ``2p``: reduced to ``[-p, 2p)``) and gives
        ``|h_l| <= k_l I_l p/2 + p`` (bias in ``[0, p)``), every partial sum included; the last hidden
        layer is summed over ``group`` hybrids before its reduction, and ``blocks`` reduced sums (each in
        ``[-p, 2p)``) are added; the output layer reads ``[-p, 2p)`` (``|F| <= k_L p^2 + p``).  Each must
        stay below ``2^53 - 2p`` (:func:`_reduce`)."""
        key = (group, inputs, blocks)
        hit = self._limits.get(key)
        if hit is not None:
            return hit

        def exact(p: int) -> bool:
            room = EXACT_FLOAT - 2 * p
            bound = inputs * p // 2 + 1
            hidden = self.layers[1:-1]
            for l, (A, _, _) in enumerate(hidden):
                bound = len(A[0]) * bound * p // 2 + p + 1
                if bound > room:
                    return False
                if l < len(hidden) - 1:
                    bound = 2 * p
            return group * bound <= room and 2 * p * blocks <= room and len(self.layers[-1][0][0]) * p * p + p <= room

        low, high = 1000, self.prime_limit * 4
        while low < high:  # the largest p with exact(p) (monotone in p)
            mid = (low + high + 1) // 2
            low, high = (mid, high) if exact(mid) else (low, mid - 1)
        if not exact(low):
            raise ValueError("the network's fan-in is too large for word-size residues")
        self._limits[key] = low
        return low

    # ------------------------------------------------------------------ step 1: signs
    def masks(self, Z: np.ndarray, errors: np.ndarray, numerators, Q: int,
              top0: Optional[np.ndarray] = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        """``(masks, open_rows, Y, e)`` for the points ``Z`` (float64, points x (inputs + 1), the last
        column ones; ``errors[i]`` bounds ``|Z[:, i] - z_i|`` for every point; ``top0[i]``, if given,
        bounds ``|Z[:, i]|``).  Every layer is one BLAS product with the bias as the row read by the
        ones column, and every hidden layer carries that column on (weight 0 from the inputs, 1 from
        the ones), so no bias is added row by row.

        ``masks``: the activation masks (one bool array, points x width, per hidden layer),
        exact: float-proved, and computed in integers for the points whose signs the floats leave
        open (``open_rows``, row indices; ``numerators(rows)`` gives their integer numerators over
        ``Q``).  A neuron's sign counts as proved when ``|H| > bound`` (``H > bound``: active, ``z > 0``;
        ``H < -bound``: inactive, ``z < 0``), so a point with a pre-activation exactly ``0`` is always
        open; a batch whose smallest ``|H|`` exceeds the largest bound is proved by that one comparison.  ``Y`` (points x outputs): the network's outputs in float64, within ``e[o]`` of the exact
        output ``o`` at every point (open points: the exact output rounded)."""
        N = Z.shape[0]
        undecided = None
        masks = []
        V, E = Z, errors
        with np.errstate(all="ignore"):
            for l, (Wa, absWt, absb, We, be, gamma) in enumerate(self.floats):
                H = np.matmul(V, Wa, out=self._scratch(("H", l), N, Wa.shape[1]))  # reused: no page faults
                width = absWt.shape[1]
                if not N:
                    top = np.zeros(absWt.shape[0])
                elif l:  # V >= 0 after a ReLU (and the ones); one maximum for all columns (a full reduction is fast)
                    top = np.full(absWt.shape[0], V.max())
                else:
                    top = np.abs(V[:, :-1]).max(axis=0) if top0 is None else top0
                bound = gamma * (top @ absWt + absb) + E @ absWt
                if We.any() or be.any():
                    bound += (top + E) @ We + be
                bound = bound * SAFETY + TINY
                if l == len(self.floats) - 1:
                    break
                magnitude = np.abs(H, out=self._scratch(("abs", l), N, H.shape[1]))
                if N and not magnitude.min() > bound.max():  # some sign may be open (a NaN leaves it open)
                    open_rows = ~np.greater(magnitude[:, :width], bound).all(axis=1)
                    undecided = open_rows if undecided is None else undecided | open_rows
                np.maximum(H, 0.0, out=H)  # = H where a sign is proved; open rows are redone exactly
                masks.append((H > 0.0)[:, :width])
                V, E = H, bound
        rows = np.flatnonzero(undecided) if undecided is not None else np.zeros(0, dtype=np.int64)
        if len(rows):
            self.exact_rows += len(rows)
            points = numerators(rows.tolist())
            bits = self.pattern_maps.exact_patterns(points, Q)
            start = 0
            for mask in masks:
                mask[rows] = bits[:, start : start + mask.shape[1]]
                start += mask.shape[1]
            for r, v in zip(rows.tolist(), points):
                floats, errors = to_float(self.net.evaluate([Fraction(a, Q) for a in v]))
                H[r] = floats
                bound = np.maximum(bound, errors)
        return masks, rows, H, bound

    @property
    def pattern_maps(self) -> PatternMaps:
        """The exact per-point pattern walk (for the points the floats leave open)."""
        if self._maps is None:
            self._maps = PatternMaps(self.net)
        return self._maps

    # ------------------------------------------------------------------ step 2: residues
    def first_layer(self, Zr: np.ndarray, p: int, Q: int) -> np.ndarray:
        """First-layer pre-activation residues (points x width, floats) of integer numerators whose
        residues mod ``p`` are ``Zr`` (points x inputs, floats in ``[0, p)``) over ``Q``."""
        weights = self._layer_residues(0, p, Q)
        out = Zr @ weights[:-1]
        out += weights[-1]
        return out

    def propagate(self, H: np.ndarray, masks: Sequence[np.ndarray], p: int, Q: int) -> np.ndarray:
        """``F mod p`` (points x outputs, floats in ``[-p, 2p)``) from first-layer pre-activation
        residues ``H`` (floats, integers of magnitude ``<= k p^2 + p``; overwritten) and the points'
        exact masks.  Every layer is one BLAS product with the bias as an extra input column of ones.
        The result lives in a work array that the next call overwrites."""
        inverse = 1.0 / p
        D = Q * self.layers[0][2]
        rows = H.shape[0]
        for l in range(1, len(self.layers)):
            width = H.shape[1]
            _reduce(H, p, inverse, self._scratch(("q", l), rows, width))
            V = self._buffer(l, rows, width)
            np.multiply(H, masks[l - 1], out=V[:, :width])
            weights = self._layer_residues(l, p, D)
            H = np.matmul(V, weights, out=self._scratch(("out", l), rows, weights.shape[1]))
            D *= self.layers[l][2]
        _reduce(H, p, inverse, self._scratch("q", rows, H.shape[1]))
        return H

    def _buffer(self, key, rows: int, width: int) -> np.ndarray:
        """A reused ``rows x (width + 1)`` work array whose last column is ones (the bias input)."""
        return self._scratch(("ones", key), rows, width + 1, np.ones)

    def _scratch(self, key, rows: int, width: int, make=np.empty) -> np.ndarray:
        """A reused ``rows x width`` work array (whose contents callers overwrite, ones column aside)."""
        key = (key, rows, width)
        V = self._buffers.get(key)
        if V is None:
            if len(self._buffers) > 32:
                self._buffers.clear()
            V = self._buffers[key] = make((rows, width))
        return V

    def _layer_residues(self, l: int, p: int, D: int) -> np.ndarray:
        """Layer ``l``'s weights as centred residues (``|a| <= p/2``; in x out) over one more row, the
        bias ``c_l D`` in ``[0, p)``."""
        key = (l, p, D)
        hit = self._residue_cache.get(key)
        if hit is None:
            A, c, _ = self.layers[l]
            half = p // 2
            rows = [[(a + half) % p - half for a in column] for column in zip(*A)]
            hit = np.array(rows + [[ci * D % p for ci in c]], dtype=float).reshape(len(rows) + 1, len(c))
            if len(self._residue_cache) > 256:
                self._residue_cache.clear()
            self._residue_cache[key] = hit
        return hit

    # ------------------------------------------------------------------ all together
    def evaluate(self, points: Sequence[Sequence[Fraction]]) -> tuple[np.ndarray, int]:
        """Output numerators (points x outputs, Python integers in an object array) over one
        denominator ``D``: steps 1 and 2 and the Chinese remainder theorem."""
        Q = _lcm_den(itertools.chain.from_iterable(points))
        num = [[scaled(v, Q) for v in p] for p in points]
        zmax = max((abs(v) for row in num for v in row), default=0)
        primes = self.primes_above(self.numerator_bound(zmax, Q))
        Zf, Ze = to_float([v for p in points for v in p])
        Zf = np.concatenate([Zf.reshape(len(points), self.n), np.ones((len(points), 1))], axis=1)
        errors = Ze.reshape(len(points), self.n).max(axis=0) if len(points) else np.zeros(self.n)
        masks, _, _, _ = self.masks(Zf, errors, lambda rows: [num[r] for r in rows], Q)
        R = np.array([self.propagate(self.first_layer(np.array([[v % p for v in row] for row in num], dtype=float)
                                                      .reshape(len(points), self.n), p, Q), masks, p, Q).copy()
                      for p in primes])
        return crt_many(R.astype(np.int64), primes), Q * self.denominator_scale


def _reduce(H: np.ndarray, p, inverse, q: Optional[np.ndarray] = None) -> None:
    """``H <- H - p floor(H / p)`` in place, exact for integer-valued ``|H| <= 2^53 - 2p`` (module
    docstring); the result lies in ``[-p, 2p)``.  ``p`` may be an array broadcast against ``H``;
    ``q`` is scratch space of ``H``'s shape."""
    q = np.multiply(H, inverse, out=q)
    np.floor(q, out=q)
    np.multiply(q, p, out=q)
    np.subtract(H, q, out=H)


def crt(residues: Sequence[int], primes: Sequence[int]) -> int:
    """The integer ``N`` with ``|N| < prod(primes) / 2`` and ``N = r_k mod p_k`` for every ``k``.

    >>> crt([3 % 7, 3 % 11], [7, 11]), crt([-20 % 7, -20 % 11], [7, 11])
    (3, -20)
    >>> crt_many(np.array([[3 % 7, -20 % 7], [3 % 11, -20 % 11]]), [7, 11]).tolist()
    [3, -20]
    """
    total, modulus = 0, 1
    for r, p in zip(residues, primes):
        # N = total + modulus * s with s = (r - total) / modulus mod p
        s = (r - total) * pow(modulus, -1, p) % p
        total += modulus * s
        modulus *= p
    return total - modulus if 2 * total >= modulus else total


def crt_many(residues: np.ndarray, primes: Sequence[int]) -> np.ndarray:
    """:func:`crt` for every entry: ``residues`` (primes x ...; int64) to an object array of integers."""
    modulus = math.prod(primes)
    factors = [(modulus // p) * pow(modulus // p, -1, p) for p in primes]
    total = sum((residues[k].astype(object) * f for k, f in enumerate(factors)), np.zeros(residues.shape[1:], dtype=object))
    total = total % modulus
    return np.where(2 * total >= modulus, total - modulus, total)
