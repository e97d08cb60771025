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
2. **affine maps.**  With the pattern fixed the network is affine, ``F = a_p . z + c_p Q``, and its
   integer map is the product of the masked layers (:meth:`ResidueNetwork.affine_maps`): computed
   once per distinct pattern of a batch (:meth:`ResidueNetwork.patterns` packs the masks into exact
   float codes and makes them unique), modulo word-size primes, then each point costs one dot
   product of ``n + 1`` residues with its pattern's row.  A point with a pre-activation exactly
   ``0`` may take either branch of that neuron (its output is ``0`` on both), so any pattern
   consistent with the exact signs gives its exact value.  For a prime ``p`` with
   ``(k + 1) (p/2 + 2)^2 <= 2^53 - 2p`` (``k`` the largest fan-in) everything runs exactly in float64
   (BLAS for the products of the layers): every residue is centred, ``|r| <= p/2 + 2`` (the reduction
   :func:`_round`), so every product and every partial sum of a row, in whatever order a BLAS adds
   them, is an integer below ``2^53``.

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
    (module docstring).  :meth:`primes` are the largest primes with ``(k + 1) (p/2 + 2)^2 <= 2^53 - 2p``."""

    MAP_CHUNK = 2048  # patterns composed at a time (affine_maps)

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
        p = math.isqrt(4 * EXACT_FLOAT // (fan_in + 1))
        while (fan_in + 1) * (p // 2 + 2) ** 2 > EXACT_FLOAT - 2 * p:
            p -= 1
        self.prime_limit = p  # the largest p with (k + 1) (p/2 + 2)^2 <= 2^53 - 2p
        self._augmented_cache: dict[int, list[np.ndarray]] = {}
        self._primes: list[int] = []
        self._maps: Optional[PatternMaps] = None
        self._buffers: dict = {}
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

    # ------------------------------------------------------------------ step 2: one affine map per pattern
    @staticmethod
    def patterns(masks: Sequence[np.ndarray], rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(inverse, codes, bits)``: the distinct activation patterns of ``rows`` points (``masks`` as
        from :meth:`masks`), point ``r`` having the pattern ``inverse[r]``, whose mask row (all hidden
        neurons) is ``bits[inverse[r]]`` and whose code is ``codes[inverse[r]]`` (52 neurons to a
        word, each an exact float: distinct patterns have distinct codes)."""
        bits = np.concatenate(masks, axis=1) if masks else np.zeros((rows, 0), dtype=bool)
        total = bits.shape[1]
        weights = np.zeros((total, max(1, -(-total // 52))))
        for w in range(weights.shape[1]):
            weights[52 * w : 52 * (w + 1), w] = np.exp2(np.arange(min(52, total - 52 * w)))
        codes, first, inverse = _unique_rows(bits @ weights)
        return inverse, codes, bits[first]

    def affine_maps(self, patterns: np.ndarray, primes: Sequence[int]) -> np.ndarray:
        """The integer affine maps of the mask rows ``patterns`` (patterns x hidden neurons, bool)
        modulo each prime (primes x patterns x (inputs + 1) x outputs, floats holding residues with
        ``|r| <= p/2 + 2``): for numerators ``z`` over ``Q`` of a point with that pattern,
        ``F = R[:n]^T z + R[n]^T Q`` (mod ``p``) is its output numerator over ``D = Q t_1 ... t_L``.
        At a point whose pre-activation is exactly ``0`` either branch of that neuron gives the same
        value (its output is ``0`` on both), so any pattern consistent with the exact signs
        (:meth:`masks` decides ties either way) gives the point's exact output.

        The masked layers are composed from the output backwards, one BLAS product per layer for
        all patterns: a row ``[r | s]`` (coefficients of the layer's masked inputs, and of ``Q``)
        becomes ``[r A_l | s + r . c_l T_l]`` (``T_l = t_1 ... t_{l-1}``), starting from the output
        layer's ``[A_L[o] | c_L[o] T_L]``, the inputs of layer ``l`` masked by ``m_{l-1}``
        (:func:`_round` after each product).  Exactness: every product sums at most ``k + 1`` terms
        (``k`` the fan-in) of magnitude at most ``(p/2 + 2)^2``, below ``2^53 - 2p`` for
        ``p <= prime_limit``."""
        U = len(patterns)
        out = np.empty((len(primes), U, self.n + 1, self.m))
        starts = np.cumsum([0] + [len(c) for _, c, _ in self.layers[:-1]])
        masks = [_with_one(patterns[:, starts[l] : starts[l + 1]])[:, None, :] for l in range(len(starts) - 1)]
        for k, p in enumerate(primes):
            layers = self._augmented(p)
            for u0 in range(0, U, self.MAP_CHUNK):  # chunks of patterns: the work arrays stay in cache
                u1 = min(U, u0 + self.MAP_CHUNK)
                R = np.broadcast_to(layers[-1][None], (u1 - u0,) + layers[-1].shape)
                for l in range(len(self.layers) - 2, -1, -1):
                    R = np.matmul((R * masks[l][u0:u1]).reshape((u1 - u0) * self.m, -1), layers[l]).reshape(u1 - u0, self.m, -1)
                    _round(R, p)
                out[k, u0:u1] = R.transpose(0, 2, 1)
        return out

    def _augmented(self, p: int) -> list[np.ndarray]:
        """Each layer modulo ``p`` as ``[[A_l, c_l T_l], [0, 1]]`` (out + 1 x in + 1, centred residues as
        floats; the output layer without the last row), cached per prime."""
        hit = self._augmented_cache.get(p)
        if hit is None:
            half, scale, hit = p // 2, 1, []
            for l, (A, c, t) in enumerate(self.layers):
                M = np.zeros((len(c) + 1, self.net.layers[l].in_dim + 1))
                M[:-1, :-1] = np.array([[(a + half) % p - half for a in row] for row in A], dtype=float).reshape(len(c), -1)
                M[:-1, -1] = [(ci * scale + half) % p - half for ci in c]
                M[-1, -1] = 1.0
                hit.append(M if l < len(self.layers) - 1 else M[:-1])
                scale *= t
            if len(self._augmented_cache) > 64:
                self._augmented_cache.clear()
            self._augmented_cache[p] = hit
        return hit

    def _scratch(self, key, rows: int, width: int, make=np.empty) -> np.ndarray:
        """A reused ``rows x width`` work array (whose contents callers overwrite)."""
        key = (key, rows, width)
        V = self._buffers.get(key)
        if V is None:
            if len(self._buffers) > 32:
                self._buffers.clear()
            V = self._buffers[key] = make((rows, width))
        return V

    # ------------------------------------------------------------------ all together
    def evaluate(self, points: Sequence[Sequence[Fraction]]) -> tuple[np.ndarray, int]:
        """Output numerators (points x outputs, Python integers in an object array) over one
        denominator ``D``: step 1, each point through its pattern's affine map modulo enough primes
        (step 2), and the Chinese remainder theorem."""
        Q = _lcm_den(itertools.chain.from_iterable(points))
        num = [[scaled(v, Q) for v in p] for p in points]
        zmax = max((abs(v) for row in num for v in row), default=0)
        primes = self.primes_above(self.numerator_bound(zmax, Q))
        Zf, Ze = to_float([v for p in points for v in p])
        Zf = np.concatenate([Zf.reshape(len(points), self.n), np.ones((len(points), 1))], axis=1)
        errors = Ze.reshape(len(points), self.n).max(axis=0) if len(points) else np.zeros(self.n)
        masks, _, _, _ = self.masks(Zf, errors, lambda rows: [num[r] for r in rows], Q)
        inverse, _, patterns = self.patterns(masks, len(points))
        maps = self.affine_maps(patterns, primes)
        R = np.array([np.einsum("rj,rjo->ro", centred_residues([row + [Q] for row in num], p).reshape(len(points), self.n + 1),
                                maps[t][inverse]) for t, p in enumerate(primes)])  # |R| <= (n + 1) (p/2 + 2)^2: exact
        return crt_many(R.astype(np.int64), primes), Q * self.denominator_scale


def _unique_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(unique, first, inverse)`` of the rows of ``codes`` (a 2-d float array; one column is sorted
    as numbers, faster than rows)."""
    if codes.shape[1] == 1:
        unique, first, inverse = np.unique(codes[:, 0], return_index=True, return_inverse=True)
        return unique[:, None], first, inverse.reshape(-1)
    unique, first, inverse = np.unique(codes, axis=0, return_index=True, return_inverse=True)
    return unique, first, inverse.reshape(-1)


def merge_patterns(blocks: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[list[np.ndarray], np.ndarray]:
    """``(ids, bits)`` for batches' ``(codes, bits)`` from :meth:`ResidueNetwork.patterns`: the
    distinct patterns of all batches (mask rows ``bits``), batch ``j``'s pattern ``u`` being
    ``bits[ids[j][u]]``."""
    if not blocks:
        return [], np.zeros((0, 0), dtype=bool)
    _, first, inverse = _unique_rows(np.concatenate([codes for codes, _ in blocks]))
    bits = np.concatenate([b for _, b in blocks])[first]
    cuts = np.cumsum([len(codes) for codes, _ in blocks])[:-1]
    return np.split(inverse, cuts), bits


def centred_residues(rows: Sequence[Sequence[int]], p: int) -> np.ndarray:
    """The integers ``rows`` as centred residues modulo ``p`` (floats, ``|r| <= p/2``)."""
    half = p // 2
    return np.array([[(v + half) % p - half for v in row] for row in rows], dtype=float)


def _with_one(mask: np.ndarray) -> np.ndarray:
    """``[mask | 1]`` (rows x width + 1): a layer's mask with the constant input's."""
    return np.concatenate([mask, np.ones((len(mask), 1), dtype=bool)], axis=1)


def _round(H: np.ndarray, p) -> None:
    """``H <- H - p rint(H / p)`` in place, for integer-valued ``|H| <= 2^53 - 2p``: the float quotient
    (two roundings) is within ``2^-52 |H| / p <= 2 / p`` of ``H / p``, so the result is ``H mod p``
    with ``|.| <= p/2 + 2``, exactly (``p rint(.)`` is an integer of magnitude at most ``2^53``).
    ``p`` may be an array broadcast against ``H``."""
    q = H * (1.0 / p)
    np.rint(q, out=q)
    q *= p
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
