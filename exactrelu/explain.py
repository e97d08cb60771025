"""``exactrelu explain``: a point's region, its exact local linear model, and exact Shapley values.

For a point ``x`` the module reports

* the **region** of ``x``: its activation pattern (DESIGN.md section 2: active iff ``z > 0``) and
  the conditions ``w . x + b > 0`` (active) or ``<= 0`` (inactive) of every hidden neuron, computed
  by walking the layers under the pattern (no enumeration);
* the region's **local model** ``alpha x + beta`` and each feature's contribution ``alpha_i x_i``
  (and ``alpha_i (x_i - b_i)`` for a baseline ``b``);
* the **interventional Shapley values** over a background set ``B`` (the definition of shap's
  exact explainer with an independent masker)::

      phi_i = sum_{S subset of F minus i} |S|! (n - |S| - 1)! / n! [v(S + i) - v(S)],
      v(S)  = mean_{b in B} f(x_S, b_{F minus S}),

  in exact rationals.  Efficiency holds exactly, ``sum_i phi_i = f(x) - mean_B f(b)``, and is
  asserted (against the plain :meth:`ReluNetwork.evaluate`) before a result is returned.

How ``f`` is evaluated at the ``2^n |B|`` hybrid points ``(x_S, b_rest)``
--------------------------------------------------------------------------
``method="auto"`` means ``"modular"`` (up to :attr:`ModularShapley.MAX_FEATURES` features, else
``"deep"``), the fastest measured by ``benchmarks/shapley.py``:

* ``"modular"`` (:class:`ModularShapley`, :mod:`exactrelu.modular`; :meth:`Explainer.explain_many`
  batches points): all hybrids of all points at once; activation signs proved in float64 (exact
  integers where the error bound cannot tell), then the integer network modulo word-size primes in
  exact float64 BLAS products, the Chinese remainder theorem, and the Shapley combination once per
  prime, on sums over background rows (:class:`ModularShapley`).  A float estimate of each Shapley
  numerator with a rigorous error bound fixes how many primes are needed.  Measured on
  n-[16,16]-1 with a global background, 5 points, 20 background points (CPU time, medians, a
  loaded machine): about 0.9 (n = 4), 1.4-1.5 (n = 8) and 1.2-1.3 (n = 10) times shap's exact
  explainer (2.4-2.5 with 50 points), and 13-32 times faster than ``deep`` (docs/benchmarks.md).

The other exact evaluators give the same values and stay for comparison:

* ``"deep"`` (:class:`IntegerNetwork`): the deep network in exact integer arithmetic (every layer
  scaled to integers, one common denominator per layer, so all points share one denominator).
  Matrix products run in python-flint's ``fmpz_mat``; the first layer of all ``2^n`` hybrids of
  one background point is a single product ``[mask bits | 1] * G_b``.
* ``"regions"`` (:class:`RegionLookup`): enumerate the regions over the domain, build the shallow
  network, and for each hybrid point find its region from the signs of the shallow network's
  hyperplanes ``H z + c`` (a dictionary from sign vectors to regions), then apply that region's
  ``alpha_k z + beta_k``.  Matching region ``k``'s conditions means having its pattern, so this is
  ``f`` even at a hybrid outside the domain; a hybrid whose pattern occurs nowhere in the domain
  (possible for a polytope domain) is evaluated with the deep evaluator.

Measured (``python benchmarks/shapley.py``, second table; 5 points, 20 background points, box
``[-2, 2]^n``; one run): lookup / deep seconds 0.007 / 0.007 on 2-[12]-1 (J = 12 hyperplanes),
0.23 / 0.010 on 2-[8,8]-1 (J = 256), 1.75 / 0.020 on 3-[10,10]-1 (J = 1440), before the
enumeration itself (0.21 s, 0.34 s, 3.8 s).  A hybrid point costs the lookup one Python operation per hyperplane,
and ``J`` grows much faster than the neuron count with depth, so the lookup at best ties (one
hidden layer, where ``J`` is the width) and never repays the enumeration; ``regions`` stays
available (``--method regions``) and is tested to agree exactly.

* ``"patterns"`` (:class:`PatternEvaluator`, :meth:`Explainer.explain_many` batches points): every
  hybrid's pattern decided in float64 with a rigorous error bound (exactly where the bound does not
  prove a sign, e.g. on a boundary), the exact affine map per pattern (cached), and the hybrids of one
  ``(x, b)`` grouped by pattern so that the Python work is per group.  Its fast-path flag says every
  hybrid lies in the closure of ``x``'s region (decided the same rigorous way).  Measured on
  n-[16,16]-1 with a global N(0, 1) background, almost every hybrid has a pattern of its own (7576
  patterns among 25600 hybrids at n = 8), so the per-pattern map costs more than ``deep``'s
  evaluation; ``patterns`` pays where hybrids share few regions.

The one-region fast path
------------------------
If ``f`` is affine, ``alpha z + beta``, on every hybrid point, then ``v`` is affine in the
coalition indicator and ``phi_i = alpha_i (x_i - mean_B b_i)`` exactly.  "``x`` and every ``b``
in one region" is **not** enough for that: a region is convex but the hybrids ``(x_S, b_rest)``
are the corners of the axis-parallel box spanned by ``x`` and ``b``, which can leave a region
(a thin diagonal band contains ``(0, 0)`` and ``(1, 1)`` but not ``(1, 0)``).  The fast path is
therefore taken when, for every ``b``, the whole box spanned by ``x`` and ``b`` lies in the
closure of the region of ``x`` (``f`` is continuous, so its affine model holds on the closure) --
decided exactly from the interval bound of each condition over the box
(``min/max of w . z + c = c + sum_i min/max(w_i x_i, w_i b_i)``), which implies that every ``b`` lies
in the closure of the region of ``x``.  It applies for any number of features.

Above :data:`MAX_EXACT_FEATURES` features (without the fast path) exact values are refused with a
message; ``samples=N`` gives a permutation-sampling estimate instead, computed with exact
arithmetic on the sampled permutations but labelled **approximate** in every output.

>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 2]], [0])])  # relu(x1) + 2 relu(x2)
>>> r = shapley_values(net, ["1", "3"], [["0", "0"]])
>>> [str(v[0]) for v in r.values], r.fast_path
(['1', '6'], True)
>>> local_model(net, ["-1", "3"]).alpha
((Fraction(0, 1), Fraction(2, 1)),)
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import itertools
import math
import random
import time
import weakref
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

from .errors import InputError, InternalError
from .modular import scaled
from .network import Matrix, ReluNetwork, Vector
from .patterns import _lcm_den
from .rationals import format_rational, parse_rational


MAX_EXACT_FEATURES = 12
METHODS = ("auto", "modular", "patterns", "deep", "regions")
CHUNK_ROWS = 1 << 15  # hybrid points evaluated per batch (bounds memory)
ZERO = Fraction(0)

Condition = tuple[Vector, Fraction, bool]  # (w, b, active): w . x + b > 0 if active, <= 0 if not


# ============================================================================ the local model
@dataclass(frozen=True)
class LocalModel:
    """The region of a point (pattern and conditions) and the affine model ``alpha x + beta`` on it."""

    pattern: tuple[tuple[bool, ...], ...]
    conditions: tuple[Condition, ...]  # one per hidden neuron, layer-major
    alpha: Matrix  # output_dim x input_dim
    beta: Vector

    def output(self, x: Sequence[Fraction]) -> Vector:
        return tuple(sum((a * v for a, v in zip(row, x)), b) for row, b in zip(self.alpha, self.beta))

    def contributions(self, x: Sequence[Fraction], baseline: Optional[Sequence[Fraction]] = None) -> Matrix:
        """``[i][o] = alpha_oi x_i`` (or ``alpha_oi (x_i - baseline_i)``)."""
        ref = baseline if baseline is not None else [ZERO] * len(x)
        return tuple(tuple(row[i] * (x[i] - ref[i]) for row in self.alpha) for i in range(len(x)))

    def holds_on_box(self, x: Sequence[Fraction], b: Sequence[Fraction]) -> bool:
        """Whether the axis-parallel box spanned by ``x`` and ``b`` lies in the closure of this region
        (exact).  The closure suffices: the region contains ``x``, so its closure is the set where the
        conditions hold with ``>=`` for ``>``, and ``f`` is continuous, so ``alpha z + beta`` holds there."""
        for w, c, active in self.conditions:
            lo = hi = c
            for wi, xi, bi in zip(w, x, b):
                if wi:
                    p, q = wi * xi, wi * bi
                    if p <= q:
                        lo, hi = lo + p, hi + q
                    else:
                        lo, hi = lo + q, hi + p
            if (active and lo < 0) or (not active and hi > 0):
                return False
        return True

    def holds_on_boxes(self, x: Sequence[Fraction], background: Sequence[Sequence[Fraction]]) -> bool:
        """:meth:`holds_on_box` for every ``b`` of ``background``, in integers (each condition and the
        points scaled by positive common denominators, which keeps every sign)."""
        Q = _lcm_den(itertools.chain(x, itertools.chain.from_iterable(background)))
        xq = [int(v * Q) for v in x]
        bqs = [[int(v * Q) for v in b] for b in background]
        for w, c, active in self.conditions:
            s = _lcm_den(itertools.chain(w, (c,)))
            ws = [int(a * s) for a in w]
            cs = int(c * s) * Q
            terms = [(a * xi, a) for a, xi in zip(ws, xq)]
            for bq in bqs:
                total = cs
                if active:
                    for (p, a), bi in zip(terms, bq):
                        q = a * bi
                        total += p if p < q else q
                    if total < 0:
                        return False
                else:
                    for (p, a), bi in zip(terms, bq):
                        q = a * bi
                        total += p if p > q else q
                    if total > 0:
                        return False
        return True


def local_model(net: ReluNetwork, x: Sequence[object]) -> LocalModel:
    """The pattern of ``x``, its conditions and its affine model, exactly (walking the layers)."""
    from .regions import compose

    point = net.coerce_point(x)
    n = net.input_dim
    hidden = net.layers[:-1]
    maps = list(zip(hidden[0].weight, hidden[0].bias)) if hidden else []
    pattern, conditions = [], []
    for l in range(len(hidden)):
        if l:
            maps = compose(hidden[l].weight, hidden[l].bias, maps, pattern[-1], n)
        bits = tuple(sum((a * v for a, v in zip(w, point)), b) > 0 for w, b in maps)
        pattern.append(bits)
        conditions += [(w, b, on) for (w, b), on in zip(maps, bits)]
    last = net.layers[-1]
    final = compose(last.weight, last.bias, maps, pattern[-1], n) if hidden else list(zip(last.weight, last.bias))
    model = LocalModel(tuple(pattern), tuple(conditions), tuple(w for w, _ in final), tuple(b for _, b in final))
    if model.output(point) != net.evaluate(point):  # self-check against the plain evaluator
        raise InternalError("the local model does not reproduce the network at its point")
    return model


# ============================================================================ exact evaluators


def _mask_bits(n: int):
    """The ``2^n x (n + 1)`` matrix ``[bit_i(mask) | 1]`` as an fmpz_mat (bit i = feature i from x)."""
    from flint import fmpz_mat

    M = 1 << n
    return fmpz_mat(M, n + 1, [((mask >> i) & 1) if i < n else 1 for mask in range(M) for i in range(n + 1)])


class IntegerNetwork:
    """Exact batched evaluation of a :class:`ReluNetwork` in integers (python-flint ``fmpz_mat``).

    Layer ``l`` is stored as integers ``A_l = t_l W_l`` and ``c_l = t_l b_l``.  A batch of points
    with numerators ``P`` over a common denominator ``Q`` has pre-activation numerators
    ``A_l V + c_l D`` over ``t_l D``: every point of a batch shares one denominator, and every value
    is exact (ReLU keeps the sign of a numerator over a positive denominator).
    """

    def __init__(self, net: ReluNetwork) -> None:
        from flint import fmpz_mat

        self.net = net
        self.n, self.m = net.input_dim, net.output_dim
        self.layers = []
        for layer in net.layers:
            t = _lcm_den(itertools.chain(itertools.chain.from_iterable(layer.weight), layer.bias))
            A = [[scaled(w, t) for w in row] for row in layer.weight]
            at = fmpz_mat(layer.in_dim, layer.out_dim, [A[j][i] for i in range(layer.in_dim) for j in range(layer.out_dim)])
            self.layers.append((A, at, [scaled(b, t) for b in layer.bias], t, layer.in_dim, layer.out_dim))

    def _finish(self, entries: list, rows: int, D: int, start: int) -> tuple[list, int]:
        """From pre-activation numerators of layer ``start - 1`` (over ``D``) to output numerators."""
        from flint import fmpz_mat

        ones = fmpz_mat(rows, 1, [1] * rows)
        for l in range(start, len(self.layers)):
            _, at, c, t, width_in, width_out = self.layers[l]
            if not rows:
                return [], D * t
            vals = [v if v > 0 else 0 for v in entries]
            bias = fmpz_mat(1, width_out, [ci * D for ci in c])
            entries = (fmpz_mat(rows, width_in, vals) * at + ones * bias).entries()
            D *= t
        return entries, D

    def evaluate_points(self, points: Sequence[Sequence[Fraction]]) -> tuple[list, int]:
        """Output numerators (row-major, ``len(points) x m``) over one common denominator."""
        from flint import fmpz_mat

        Q = _lcm_den(itertools.chain.from_iterable(points))
        A, at, c, t, _, _ = self.layers[0]
        rows = len(points)
        if not rows:
            return [], 1
        P = fmpz_mat(rows, self.n, [scaled(v, Q) for p in points for v in p])
        bias = fmpz_mat(1, len(c), [ci * Q for ci in c])
        entries = (P * at + fmpz_mat(rows, 1, [1] * rows) * bias).entries()
        return self._finish(entries, rows, Q * t, 1)

    def hybrid_first_layer(self, xq: Sequence[int], bq: Sequence[int], Q: int, bits) -> tuple[list, int]:
        """First-layer numerators (bias included) of all ``2^n`` hybrids of ``x`` and one ``b``."""
        from flint import fmpz_mat

        A, _, c, t, n, h = self.layers[0]
        G = [A[j][i] * (xq[i] - bq[i]) for i in range(n) for j in range(h)]
        G += [sum(A[j][i] * bq[i] for i in range(n)) + c[j] * Q for j in range(h)]
        return (bits * fmpz_mat(n + 1, h, G)).entries(), Q * t

    def hybrid_sums(self, x: Sequence[Fraction], background: Sequence[Sequence[Fraction]]) -> tuple[list, int]:
        """``V[mask][o] = sum_b f(x_mask, b_rest)_o`` as integer numerators over one denominator."""
        n, m = self.n, self.m
        M = 1 << n
        Q = _lcm_den(itertools.chain(x, itertools.chain.from_iterable(background)))
        xq = [int(v * Q) for v in x]
        bits = _mask_bits(n)
        V = [[0] * m for _ in range(M)]
        per_chunk = max(1, CHUNK_ROWS // M)
        D = 1
        for start in range(0, len(background), per_chunk):
            chunk = background[start : start + per_chunk]
            entries: list = []
            for b in chunk:
                first, D1 = self.hybrid_first_layer(xq, [int(v * Q) for v in b], Q, bits)
                entries += first
            out, D = self._finish(entries, len(chunk) * M, D1, 1)
            for k, value in enumerate(out):
                row = V[(k // m) % M]
                row[k % m] += int(value)
        return V, D


class RegionLookup:
    """Evaluation by region lookup on the shallow network (see the module docstring).

    Each hyperplane ``H_j z + c_j`` is scaled to integers by a positive factor (signs are all that
    matter); the region models ``alpha_k, beta_k`` share one denominator ``L``.
    """

    def __init__(self, shallow, deep: IntegerNetwork) -> None:
        self.shallow = shallow
        self.deep = deep
        self.H = []
        for h, c in zip(shallow.H, shallow.c):
            s = _lcm_den(list(h) + [c])
            self.H.append(([int(v * s) for v in h], int(c * s)))
        models = [v for a in shallow.alpha for row in a for v in row] + [v for b in shallow.beta for v in b]
        self.L = _lcm_den(models)
        self.A = [[[int(v * self.L) for v in row] for row in a] for a in shallow.alpha]
        self.B = [[int(v * self.L) for v in b] for b in shallow.beta]
        self.strict = [set(s) for s in shallow.strict]
        self.weak = [set(w) for w in shallow.weak]
        self.cache: dict[tuple[bool, ...], Optional[int]] = {}
        self.fallbacks = 0

    def region_of(self, positive: tuple[bool, ...]) -> Optional[int]:
        if positive not in self.cache:
            found = None
            for k, (s, w) in enumerate(zip(self.strict, self.weak)):
                if all(positive[j] for j in s) and not any(positive[j] for j in w):
                    found = k
                    break
            self.cache[positive] = found
        return self.cache[positive]

    def hybrid_sums(self, x: Sequence[Fraction], background: Sequence[Sequence[Fraction]]) -> tuple[list, int]:
        from flint import fmpz_mat

        n, m = self.deep.n, self.deep.m
        M = 1 << n
        J = len(self.H)
        Q = _lcm_den(itertools.chain(x, itertools.chain.from_iterable(background)))
        xq = [int(v * Q) for v in x]
        bits = _mask_bits(n)
        V = [[0] * m for _ in range(M)]
        missing: list[tuple[int, tuple[Fraction, ...]]] = []
        for b in background:
            bq = [int(v * Q) for v in b]
            if J:
                G = [self.H[j][0][i] * (xq[i] - bq[i]) for i in range(n) for j in range(J)]
                G += [sum(self.H[j][0][i] * bq[i] for i in range(n)) + self.H[j][1] * Q for j in range(J)]
                signs = (bits * fmpz_mat(n + 1, J, G)).entries()
            for mask in range(M):
                k = self.region_of(tuple(v > 0 for v in signs[mask * J : (mask + 1) * J]) if J else ())
                z = [xq[i] if (mask >> i) & 1 else bq[i] for i in range(n)]
                if k is None:
                    missing.append((mask, tuple(Fraction(v, Q) for v in z)))
                    continue
                row = V[mask]
                for o in range(m):
                    row[o] += sum(a * v for a, v in zip(self.A[k][o], z)) + self.B[k][o] * Q
        D = self.L * Q
        if missing:  # hybrids outside every region (a polytope domain): the deep evaluator
            self.fallbacks += len(missing)
            out, Dd = self.deep.evaluate_points([z for _, z in missing])
            common = math.lcm(D, Dd)
            V = [[v * (common // D) for v in row] for row in V]
            for t, (mask, _) in enumerate(missing):
                for o in range(m):
                    V[mask][o] += int(out[t * m + o]) * (common // Dd)
            D = common
        return V, D


class PatternEvaluator:
    """Exact Shapley numerators of many points from the **patterns** of their hybrid points.

    The pattern of every hybrid ``(x_S, b_rest)`` is decided by float evaluation with a rigorous error
    bound, exactly where the bound does not prove a sign (:mod:`exactrelu.patterns`); on pattern ``p``
    the network is ``alpha_p z + beta_p`` exactly.  Group the hybrids of one ``x`` and one ``b`` by
    pattern: on a group ``g`` with pattern ``p``, ``f(x_S, b_rest) = f_p(b) + sum_{j in S} u_j`` with
    ``f_p(b) = alpha_p b + beta_p`` and ``u_j = alpha_pj (x_j - b_j)``.  With
    ``c_i(S) = w(|S| - 1)`` if ``i in S`` and ``-w(|S|)`` otherwise (``w(s) = s! (n - s - 1)!``)::

        n! |B| phi_i = sum_S c_i(S) sum_b f(x_S, b_rest)
                     = sum_g [ sum_j K1^g_ij u^g_j + K^g_i f_p(b) ],
        K1^g_ij = sum_{S in g, j in S} c_i(S),   K^g_i = sum_{S in g} c_i(S).

    The ``K`` are small integers (``|K| <= 2 n!``) summed in numpy ``int64``; the ``u`` and ``f_p(b)``
    are integer numerators over ``T Q`` (``T`` the pattern maps' denominator, ``Q`` the points'), and
    the last sum is one python-flint ``fmpz_mat`` product per point.  So the Python work per point is
    proportional to the number of groups, not to the ``2^n |B|`` hybrids.
    """

    MAX_FEATURES = 20  # 2 n! < 2^63: the coalition sums fit numpy int64

    def __init__(self, net: ReluNetwork) -> None:
        from .patterns import FloatSigns, PatternMaps

        if net.input_dim > self.MAX_FEATURES:
            raise InputError(f"exact Shapley values by patterns support at most {self.MAX_FEATURES} features")
        self.net = net
        self.n, self.m = net.input_dim, net.output_dim
        self.signs = FloatSigns(net)
        self.maps = PatternMaps(net)
        n, M = self.n, 1 << net.input_dim
        masks = np.arange(M)
        self.bits = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
        C = _coalition_coefficients(n)
        self.coefficients = np.concatenate([(C[:, :, None] * self.bits[:, None, :]).reshape(M, n * n), C], axis=1)
        self.exact_hybrids = 0  # hybrids whose pattern needed exact arithmetic

    def _patterns(self, xs: Sequence[Vector], background: Sequence[Vector], xq, bq, Q: int):
        """Pattern labels (rows: point, background row, mask) and the distinct patterns' keys."""
        from .patterns import to_float

        n, M = self.n, 1 << self.n
        k, nb = len(xs), len(background)
        Xf, Xe = (a.reshape(k, n) for a in to_float([v for x in xs for v in x]))
        Bf, Be = (a.reshape(nb, n) for a in to_float([v for b in background for v in b]))
        sel = self.bits[None, None, :, :]
        Hf = np.where(sel, Xf[:, None, None, :], Bf[None, :, None, :]).reshape(-1, n)
        He = np.where(sel, Xe[:, None, None, :], Be[None, :, None, :]).reshape(-1, n) if Xe.any() or Be.any() else None
        bits, decided = self.signs.decide(Hf, He)
        undecided = np.flatnonzero(~decided)
        if len(undecided):
            self.exact_hybrids += len(undecided)
            rows = []
            for h in undecided.tolist():
                p, rest = divmod(h, nb * M)
                b, mask = divmod(rest, M)
                rows.append([xq[p][j] if (mask >> j) & 1 else bq[b][j] for j in range(n)])
            bits[undecided] = self.maps.exact_patterns(rows, Q)
        packed = np.ascontiguousarray(np.packbits(bits, axis=1))
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        unique, labels = np.unique(keys, return_inverse=True)
        width = bits.shape[1]
        patterns = [np.unpackbits(np.frombuffer(u.tobytes(), dtype=np.uint8))[:width].tobytes() for u in unique]
        return labels.reshape(-1), patterns, (Hf, He)

    def _in_closure(self, key: bytes, Hf, He, start: int, count: int, hq) -> bool:
        """Whether the hybrids ``start .. start + count`` all lie in the closure of pattern ``key``."""
        forced = np.frombuffer(key, dtype=np.uint8).astype(bool)
        inside, outside = self.signs.relaxed(Hf[start : start + count], None if He is None else He[start : start + count], forced)
        if outside.any():
            return False
        return all(self.maps.in_closure(hq(start + h), hq.Q, key) for h in np.flatnonzero(~inside).tolist())

    def shapley(self, xs: Sequence[Vector], background: Sequence[Vector], fast_path: bool = True):
        """For each point: ``(numerators, denominator, fast)``; ``phi[i][o] = numerators[i][o] / denominator``.

        ``fast`` says that every hybrid of the point lies in the closure of the point's region (the
        one-region fast path of the module docstring; the values are the same either way)."""
        from flint import fmpz_mat

        n, m, M = self.n, self.m, 1 << self.n
        nb = len(background)
        Q = _lcm_den(itertools.chain(itertools.chain.from_iterable(xs), itertools.chain.from_iterable(background)))
        xq = [[int(v * Q) for v in x] for x in xs]
        bq = [[int(v * Q) for v in b] for b in background]
        labels, patterns, (Hf, He) = self._patterns(xs, background, xq, bq, Q)
        U = len(patterns)
        group = labels + U * np.repeat(np.arange(len(xs) * nb), M)
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sums = np.add.reduceat(self.coefficients[order % M], starts, axis=0)
        sums = np.concatenate([sums[:, : n * n].reshape(-1, n, n), sums[:, n * n :, None]], axis=2)
        keys = ordered[starts].tolist()
        T = self.maps.denominator
        denominator = math.factorial(n) * nb * T * Q

        def hq(h: int) -> list[int]:
            p, rest = divmod(h, nb * M)
            b, mask = divmod(rest, M)
            return [xq[p][j] if (mask >> j) & 1 else bq[b][j] for j in range(n)]

        hq.Q = Q  # type: ignore[attr-defined]
        results = []
        g = 0
        F_cache: dict[tuple[int, int], list[int]] = {}
        for p in range(len(xs)):
            first = g
            right: list[int] = []
            while g < len(keys) and keys[g] // (U * nb) == p:
                rest, u = divmod(keys[g], U)
                b = rest % nb
                A, B = self.maps.integer_map(patterns[u])
                d = [xq[p][j] - bq[b][j] for j in range(n)]
                for j in range(n):
                    right += [A[o][j] * d[j] for o in range(m)]
                F = F_cache.get((u, b))
                if F is None:
                    F = F_cache[(u, b)] = [sum(a * v for a, v in zip(A[o], bq[b])) + B[o] * Q for o in range(m)]
                right += F
                g += 1
            G = g - first
            left = sums[first:g].transpose(1, 0, 2).reshape(n, G * (n + 1))
            product = fmpz_mat(n, G * (n + 1), left.ravel().tolist()) * fmpz_mat(G * (n + 1), m, right)
            entries = [int(v) for v in product.entries()]
            own = patterns[labels[p * nb * M + M - 1]]  # the all-features hybrid is x itself
            fast = fast_path and self._in_closure(own, Hf, He, p * nb * M, nb * M, hq)
            results.append(([entries[i * m : (i + 1) * m] for i in range(n)], denominator, fast))
        return results


class ModularShapley:
    """Exact Shapley numerators of many points from all ``2^n |B|`` hybrids of each, in one batch.

    Every hybrid's activation pattern is proved in float64 by
    :class:`~exactrelu.modular.ResidueNetwork` (integers where the floats cannot tell); with the
    patterns fixed, the integer network is linear on each hybrid, so only sums are computed modulo
    word-size primes, in float64 BLAS.  With ``F(S, b)`` the integer output numerator of the hybrid
    ``(x_S, b_rest)`` over ``D`` and ``c_i(S) = w(|S| - 1)`` if ``i in S``, ``-w(|S|)`` otherwise
    (``w(s) = s! (n - s - 1)!``)::

        N_i = n! |B| D phi_i = sum_S c_i(S) V(S),      V(S) = sum_b F(S, b) = A_L X(S) + |B| c_L D_{L-1},
        X(S) = sum_b m_{L-1}(S, b) h_{L-1}(S, b)   (the last hidden layer, masked, summed over b),

    per prime: the first layer ``h_1 = G_b + sum_{i in S} Delta_i(b)`` of all ``2^n`` coalitions as one
    product with the coalition bits, left unreduced; each later hidden layer one product; the last
    one summed over runs of background rows before its reduction (the prime's size chosen, from the
    sum's length, for the fewest primes: :meth:`~exactrelu.modular.ResidueNetwork.summing_limit`);
    the output layer and the coefficients only on the sums ``X`` (int64: ``|c| <= p/2``,
    ``0 <= V < p``, ``2^n p^2 / 2 < 2^63``).  How many primes: the float pass also gives every hybrid's output ``Y`` within a
    rigorous ``e`` (:meth:`~exactrelu.modular.ResidueNetwork.masks`), so ``y_i = fl(sum_S c_i(S)
    fl(sum_b Y))`` is within

        E = (2 n! (|B| e + gamma_{|B|+1} |B| max|Y|) + gamma_{2^n+1} 2 n! max|sum_b Y|) (1 + 2^-30)^2 + 2^-1000

    of ``N_i / D`` (``sum_S |c_i(S)| = 2 n!``; Higham's bound for the two float sums; the ``(1 + 2^-30)``
    factors cover the rounding of ``E`` itself).  Hence ``N_i - L_i`` lies in ``[0, 2 DE + 1]`` with
    ``L_i = floor(D y_i) - ceil(D E)``, and primes whose product exceeds ``2 (DE + 1) + 1`` give it
    exactly by the Chinese remainder theorem (about 45 bits fewer than the a priori bound
    ``|N_i| <= 2 n! |B| max |F|``, :meth:`~exactrelu.modular.ResidueNetwork.numerator_bound`, which
    is used instead when the floats overflow).

    The fast-path flag of a point says that every one of its hybrids lies in the closure of the
    point's region (:meth:`_closure`); such a point skips the residue pass, ``phi_i = alpha_i (x_i -
    mean b_i)`` with ``alpha`` the exact map of its pattern.
    """

    MAX_FEATURES = 14
    MAX_BACKGROUND = 1 << 26  # |V(S)| sums stay below 2^53 in float64
    CHUNK = 8192  # hybrids per batch
    _cache: dict[int, tuple["weakref.ref[ReluNetwork]", "ModularShapley"]] = {}

    @classmethod
    def of(cls, net: ReluNetwork) -> "ModularShapley":
        """The instance for ``net``, cached while ``net`` lives (by identity: hashing a network would
        cost more than a small batch)."""
        key = id(net)
        hit = cls._cache.get(key)
        if hit is None or hit[0]() is not net:
            hit = cls._cache[key] = (weakref.ref(net, lambda _: cls._cache.pop(key, None)), cls(net))
        return hit[1]

    def __init__(self, net: ReluNetwork) -> None:
        from .modular import ResidueNetwork

        n = net.input_dim
        if n > self.MAX_FEATURES:
            raise InputError(f"exact Shapley values by residues support at most {self.MAX_FEATURES} features")
        self.net, self.n, self.m = net, n, net.output_dim
        self.residue = ResidueNetwork(net)
        M = 1 << n
        self.bits = ((np.arange(M)[:, None] >> np.arange(n)) & 1).astype(bool)
        self.coefficients = _coalition_coefficients(n).T.copy()  # n x 2^n, exact in int64 and float64
        self._coefficient_floats = self.coefficients.astype(float)  # |c| <= (n - 1)! < 2^53

    def _coefficient_residues(self, primes: Sequence[int]) -> np.ndarray:
        """The coefficients as centred residues (primes x n x 2^n, ``|c| <= p/2``)."""
        P = np.array(primes, dtype=np.int64)[:, None, None]
        return (self.coefficients[None] + P // 2) % P - P // 2

    def _closure(self, fast: np.ndarray, masks: list, open_rows: np.ndarray, points: np.ndarray, numerators,
                 Q: int) -> None:
        """Clear ``fast[p]`` unless every hybrid of point ``p`` in this block (rows (background row, mask,
        point); mask ``2^n - 1`` is the point itself) lies in the closure of the point's region.  A
        hybrid with the point's pattern does; one whose pattern differs and whose signs the floats
        proved does not (at the first neuron where the patterns differ, its pre-activation has the
        strict opposite sign of the one the region asks for, with the earlier layers' patterns equal);
        the rest (rare: a pre-activation within float error of 0) are tested exactly."""
        M, kc = 1 << self.n, len(points)
        if not fast[points].any():
            return
        shape = (-1, M, kc)
        differs = np.zeros((masks[0].shape[0] // (M * kc), M, kc) if masks else (1, M, kc), dtype=bool)
        for mask in masks:  # compare 52 neurons at a time as one exact float code
            for start in range(0, mask.shape[1], 52):
                part = mask[:, start : start + 52]
                code = (part @ np.exp2(np.arange(part.shape[1]))).reshape(shape)
                differs |= code != code[:, -1:]
        if not differs.any():
            return
        exact = np.zeros(differs.shape, dtype=bool)
        exact.reshape(-1)[open_rows] = True
        fast[points[(differs & ~exact).any(axis=(0, 1))]] = False
        maps = self.residue.pattern_maps
        for r in np.flatnonzero(differs & exact).tolist():
            j, rest = divmod(r, M * kc)
            q = rest % kc
            if not fast[points[q]]:
                continue
            own = (j * M + M - 1) * kc + q
            key = np.concatenate([mask[own] for mask in masks]).astype(bool).tobytes()
            if not maps.in_closure(numerators([r])[0], Q, key):
                fast[points[q]] = False

    def _blocks(self, k: int, nb: int) -> tuple[int, list[tuple[np.ndarray, int, int]]]:
        """``(group, blocks)``: blocks ``(points, b0, b1)`` of about :attr:`CHUNK` hybrids, each a few
        points with a run of at most ``group`` background rows."""
        M = 1 << self.n
        group = min(nb, max(1, self.CHUNK // M))
        per = max(1, self.CHUNK // (M * group))
        return group, [(np.arange(p0, min(p0 + per, k)), b0, min(b0 + group, nb))
                       for p0 in range(0, k, per) for b0 in range(0, nb, group)]

    def shapley(self, xs: Sequence[Vector], background: Sequence[Vector], fast_path: bool = True):
        """For each point: ``(numerators, denominator, fast)``; ``phi[i][o] = numerators[i][o] / denominator``.

        Two passes over blocks of pairs ``(x, b)`` (:meth:`_blocks`): the float pass (masks, fast-path
        flags, the float estimate ``y`` and its bound ``E``), then the residue pass, all primes at
        once.  The first layer of a block is one product ``[bits | 1] (2^n x (n + 1)) * [Delta; G]``
        per prime, with ``Delta_i = A_1[:, i] (x_i - b_i)`` and ``G = A_1 b + c_1 Q`` as centred
        residues, left unreduced; the last hidden layer (masked) is summed over the block's
        background rows before it is reduced, and the output layer and the Shapley coefficients are
        applied to those sums (:meth:`~exactrelu.modular.ResidueNetwork.summing_limit` bounds the
        primes so that every step is exact)."""
        from .modular import crt_many
        from .patterns import SAFETY, TINY, _gamma, float_up, to_float

        n, m, M = self.n, self.m, 1 << self.n
        nb, k = len(background), len(xs)
        if nb > self.MAX_BACKGROUND:
            raise InputError(f"exact Shapley values by residues support at most {self.MAX_BACKGROUND} background points")
        rn = self.residue
        Q = _lcm_den(itertools.chain(itertools.chain.from_iterable(xs), itertools.chain.from_iterable(background)))
        xq = [[scaled(v, Q) for v in x] for x in xs]
        bq = [[scaled(v, Q) for v in b] for b in background]
        Xf, Xe = to_float([v for x in xs for v in x])
        Bf, Be = to_float([v for b in background for v in b])
        Xf, Bf = Xf.reshape(k, n), Bf.reshape(nb, n)
        errors = np.maximum(Xe.reshape(k, n).max(axis=0), Be.reshape(nb, n).max(axis=0))
        top = np.maximum(np.abs(Xf).max(axis=0), np.abs(Bf).max(axis=0))  # bounds every hybrid's |z_i|
        group, blocks = self._blocks(k, nb)
        bits = np.concatenate([self.bits, np.ones((M, 1), dtype=bool)], axis=1)  # the hybrids carry a ones column
        Xf, Bf = (np.concatenate([A, np.ones((len(A), 1))], axis=1) for A in (Xf, Bf))
        fast = np.full(k, fast_path)
        own_patterns: dict[int, bytes] = {}
        Vf = np.zeros((M, k, m))  # sum_b of the float outputs
        y_max = e_max = 0.0
        done = []
        for points, b0, b1 in blocks:  # ---- the float pass; rows ordered (background row, mask, point)
            kc, gb = len(points), b1 - b0
            Zf = np.where(bits[None, :, None, :], Xf[points][None, None, :, :], Bf[b0:b1][:, None, None, :])

            def numerators(rows: list[int], points=points, b0=b0, kc=kc) -> list[list[int]]:
                out = []
                for r in rows:
                    j, rest = divmod(r, M * kc)
                    mask, q = divmod(rest, kc)
                    x, b = xq[points[q]], bq[b0 + j]
                    out.append([x[i] if (mask >> i) & 1 else b[i] for i in range(n)])
                return out

            masks, open_rows, Y, e = rn.masks(Zf.reshape(-1, n + 1), errors, numerators, Q, top)
            if fast_path:
                self._closure(fast, masks, open_rows, points, numerators, Q)
                if b0 == 0:  # the hybrid of mask 2^n - 1 is the point itself
                    for q, p in enumerate(points.tolist()):
                        own_patterns[p] = np.concatenate([mask[(M - 1) * kc + q] for mask in masks]).tobytes()
            with np.errstate(all="ignore"):  # (inf - inf beyond the float range: the a priori bound below)
                Vf[:, points] += Y.reshape(gb, M, kc, m).sum(axis=0)
                y_max = max(y_max, float(np.abs(Y).max()))
                e_max = max(e_max, float(e.max()))
            done.append((points, b0, b1, masks))
        work = []  # the blocks restricted to the points that are not fast
        for points, b0, b1, masks in done:
            keep = ~fast[points]
            if keep.any() and not keep.all():
                masks = [mask.reshape(b1 - b0, M, len(points), -1)[:, :, keep].reshape(-1, mask.shape[1]) for mask in masks]
                points = points[keep]
            if keep.any():
                work.append((points, b0, b1, masks))
        # y_i = sum_S c_i(S) Vf(S) estimates sum_S c_i(S) V(S) / D within E (rounding of both sums included)
        total = 2 * math.factorial(n)  # sum_S |c_i(S)|
        with np.errstate(all="ignore"):  # floats beyond their range are caught below (the a priori bound)
            y = np.matmul(self._coefficient_floats, Vf.reshape(M, k * m)).reshape(n, k, m)
            v_max = float(np.abs(Vf).max())
            E = (total * (nb * e_max + _gamma(nb + 1) * nb * y_max) + _gamma(M + 1) * total * v_max) * SAFETY * SAFETY + TINY
        D = Q * rn.denominator_scale
        if math.isfinite(E) and np.isfinite(y).all():
            DE = math.ceil(Fraction(float_up(Fraction(E))) * D)
            lows = np.array([[[math.floor(Fraction(float(v)) * D) - DE for v in row] for row in block]
                             for block in y.tolist()], dtype=object)  # N_i - lows_i is in [0, 2 DE + 1]
        else:  # beyond the float range: the a priori bound |N_i| <= 2 n! |B| max |F|
            zmax = max(abs(v) for row in itertools.chain(xq, bq) for v in row)
            DE = total * nb * rn.numerator_bound(zmax, Q)
            lows = np.full((n, k, m), -DE, dtype=object)
        best: Optional[tuple[int, list[int]]] = None  # (rows per sum, primes): the fewest primes, then the longest sums
        for g in sorted({min(group, 1 << j) for j in range(group.bit_length() + 1)}):
            limit = min(rn.summing_limit(g, n + 1, nb), math.isqrt((1 << 64) // M) - 1)  # and M p^2 / 2 < 2^63
            primes = rn.primes_above(DE + 1, limit)
            if best is None or len(primes) <= len(best[1]):
                best = (g, primes)
        group, primes = best
        residues = self._residues(primes, group, xq, bq, Q, work, k)
        lows_r = np.array([(lows % p).astype(np.int64) for p in primes])
        pr = np.array(primes, dtype=np.int64)
        N = crt_many((residues - lows_r) % pr[:, None, None, None], primes)  # N_i - lows_i, centred
        modulus = math.prod(primes)
        N = np.where(N < 0, N + modulus, N) + lows
        denominator = math.factorial(n) * nb * D
        results = []
        sums = [sum(b[i] for b in bq) for i in range(n)]
        for p in range(k):
            if fast[p]:  # alpha = A / T: n! nb D phi_i = n! A_i (nb x_i - sum_b b_i)
                A, _ = rn.pattern_maps.integer_map(own_patterns[p])
                scale = math.factorial(n)
                results.append(([[scale * A[o][i] * (nb * xq[p][i] - sums[i]) for o in range(m)] for i in range(n)],
                                denominator, True))
            else:
                results.append((N[:, p, :].tolist(), denominator, False))
        return results

    def _add_runs(self, X: np.ndarray, H: np.ndarray, sel, group: int, p: float) -> None:
        """``X[:, sel] += sum_r reduce(sum of run r of H)`` for the runs of ``group`` consecutive rows of
        ``H`` (background rows x the block's entries; the last run may be shorter).  Several runs are
        summed by strided row additions into one reused array and reduced in one call."""
        from .modular import _reduce

        rn, (gb, size) = self.residue, H.shape
        runs, tail = divmod(gb, group)
        total = None
        if runs > 1:
            S = rn._scratch(("runs", runs), runs, size)
            np.copyto(S, H[: runs * group : group])
            for g in range(1, group):
                S += H[g : runs * group : group]
            _reduce(S, p, 1.0 / p, rn._scratch(("runs q", runs), runs, size))
            total = S.sum(axis=0)
        for start in ([0] if runs == 1 else []) + ([runs * group] if tail else []):
            S = H[start : start + group].sum(axis=0)
            _reduce(S, p, 1.0 / p, rn._scratch("run q", 1, size)[0])
            total = S if total is None else total + S
        X[:, sel] += total.reshape((X.shape[0], -1, X.shape[2]))

    def _residues(self, primes: Sequence[int], group: int, xq, bq, Q: int, work, k: int) -> np.ndarray:
        """``N_i mod p`` (primes x n x points x outputs, int64 in ``[0, p)``) for every prime, from the
        blocks' exact masks (the fast points' entries stay 0), the last hidden layer summed over
        ``group`` background rows at a time.  Every hidden layer but the last carries one more neuron,
        the constant 1 (mask 1), which the next layer's bias row reads."""
        from .modular import _reduce

        rn, n, m, M = self.residue, self.n, self.m, 1 << self.n
        P, nb = len(primes), len(bq)
        pr = np.array(primes, dtype=np.int64)
        pf = pr.astype(float)

        def centred(a: np.ndarray) -> np.ndarray:
            p = pr.reshape((P,) + (1,) * (a.ndim - 1))
            return (a + p // 2) % p - p // 2

        def reduce(a: np.ndarray) -> None:
            p = pf.reshape((P,) + (1,) * (a.ndim - 1))
            _reduce(a, p, 1.0 / p)

        weights, D = [], Q  # per layer: primes x (in + 1) x (out + 1), centred weights over the bias row c_l D
        for l, (_, _, t) in enumerate(rn.layers):
            W = np.array([rn._layer_residues(l, p, D) for p in primes])
            if l < len(rn.layers) - 2:  # the constant neuron: 1 = 0 x + 1
                W = np.concatenate([W, np.zeros(W.shape[:2] + (1,))], axis=2)
                W[:, -1, -1] = 1.0
            weights.append(W)
            D *= t
        first = weights[0].astype(np.int64)
        A1, c1 = first[:, :-1, :], first[:, -1, :]
        Xr = np.array([[[v % p for v in x] for x in xq] for p in primes], dtype=np.int64).reshape(P, len(xq), n)
        Br = np.array([[[v % p for v in b] for b in bq] for p in primes], dtype=np.int64).reshape(P, nb, n)
        G = centred(np.matmul(Br, A1) + c1[:, None, :])  # |terms| < p^2 / 2, n of them: int64 (constant: 1)
        bits = np.concatenate([self.bits, np.ones((M, 1), dtype=bool)], axis=1).astype(float)
        hidden = len(rn.layers) - 1
        w = weights[0].shape[2]
        X = np.zeros((P, M, k, weights[-1].shape[1] - 1 if hidden else m))  # |X| < 2 p |B|
        for points, b0, b1, masks in work:  # rows ordered (background row, mask, point)
            kc, gb = len(points), b1 - b0
            diff = (Xr[:, None, points, :] - Br[:, b0:b1, None, :]) % pr[:, None, None, None]  # primes x gb x kc x n
            Delta = centred(A1[:, None, :, None, :] * diff.transpose(0, 1, 3, 2)[..., None])  # primes x gb x n x kc x w
            right = np.concatenate([Delta, np.broadcast_to(G[:, b0:b1, None, None, :], (P, gb, 1, kc, w))], axis=2)
            right = right.reshape(P, gb, n + 1, kc * w).astype(float)
            floats = []  # the masks, with the constant neuron but for the last (reused arrays: no page faults)
            for l, mask in enumerate(masks):
                rows, width = mask.shape
                f = rn._buffer(("mask", l), rows, width) if l < hidden - 1 else rn._scratch(("mask", l), rows, width)
                f[:, :width] = mask
                floats.append(f)
            rows = gb * M * kc
            sel = slice(int(points[0]), int(points[-1]) + 1) if int(points[-1]) - int(points[0]) + 1 == kc else points
            for t in range(P):  # one prime at a time: the work arrays stay in cache (and are reused)
                H = np.matmul(bits, right[t], out=rn._scratch("first", gb * M, kc * w).reshape(gb, M, kc * w))
                H = H.reshape(rows, w)  # |H| <= (n + 1) p / 2, unreduced
                for l in range(1, hidden):
                    if l > 1:
                        _reduce(H, pf[t], 1.0 / pf[t])
                    H *= floats[l - 1]
                    H = np.matmul(H, weights[l][t], out=rn._scratch(("hidden", l), rows, weights[l].shape[2]))
                if hidden:
                    H *= floats[hidden - 1]
                self._add_runs(X[t], H.reshape(gb, -1), sel, group, pf[t])
        reduce(X)
        if hidden:  # the output layer on the sums: F = A_L X + |B| c_L D_{L-1}
            out = weights[-1]
            bias = ((nb % pr)[:, None] * out[:, -1].astype(np.int64)) % pr[:, None]
            F = np.matmul(X.reshape(P, M * k, -1), out[:, :-1]) + bias[:, None, :].astype(float)
            reduce(F)
        else:
            F = X.reshape(P, M * k, m)
        Fi = np.remainder(F.astype(np.int64), pr[:, None, None]).reshape(P, M, k * m)
        residues = np.matmul(self._coefficient_residues(primes), Fi) % pr[:, None, None]
        return residues.reshape(P, n, k, m)


# ============================================================================ Shapley values
@dataclass(frozen=True)
class ShapleyResult:
    """Shapley values ``values[i][o]`` (feature i, output o) and how they were obtained.

    ``approximate`` is True only for a sampled estimate (``samples`` permutations); every other
    result is exact.  ``f_x - mean_background == sum_i values[i]`` holds exactly in every case.
    ``local`` (the point's region and local model) is computed on first use.
    """

    values: Matrix
    f_x: Vector
    mean_background: Vector
    fast_path: bool
    method: str  # "fast path", "modular", "patterns", "deep", "regions", or "sampled (deep)"
    approximate: bool = False
    samples: Optional[int] = None
    evaluations: int = 0
    seconds: float = 0.0
    point: Vector = field(default=(), compare=False, repr=False)
    network: Optional[ReluNetwork] = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def local(self) -> LocalModel:
        return local_model(self.network, self.point)


def _coalition_weights(n: int) -> list[int]:
    """``n! * |S|!(n-|S|-1)!/n!`` for ``|S| = 0..n-1`` (integers)."""
    return [math.factorial(s) * math.factorial(n - s - 1) for s in range(n)]


def _coalition_coefficients(n: int) -> np.ndarray:
    """``C[mask, i] = c_i(S)``: ``w(|S| - 1)`` if ``i in S``, ``-w(|S|)`` if not (``S`` = the set bits of
    ``mask``; int64, ``n <= 20``), so that ``n! phi_i = sum_S c_i(S) v(S)``."""
    M = 1 << n
    bits = ((np.arange(M)[:, None] >> np.arange(n)) & 1).astype(bool)
    size = bits.sum(axis=1)
    w = np.array(_coalition_weights(n), dtype=np.int64)
    return np.where(bits, w[np.clip(size - 1, 0, n - 1)][:, None], -w[np.clip(size, 0, n - 1)][:, None])


def shapley_from_sums(V: Sequence[Sequence[int]], D: int, n: int, count: int) -> Matrix:
    """Exact Shapley values from ``V[mask][o] = sum_b f(hybrid)`` numerators over ``D``."""
    weights = _coalition_weights(n)
    m = len(V[0]) if V else 0
    denominator = math.factorial(n) * count * D
    result = []
    for i in range(n):
        bit = 1 << i
        total = [0] * m
        for mask in range(1 << n):
            if mask & bit:
                continue
            w = weights[bin(mask).count("1")]
            hi, lo = V[mask | bit], V[mask]
            for o in range(m):
                total[o] += w * (hi[o] - lo[o])
        result.append(tuple(Fraction(t, denominator) for t in total))
    return tuple(result)


def _mean(points: Sequence[Sequence[Fraction]]) -> Vector:
    return tuple(sum(col, ZERO) / len(points) for col in zip(*points))


class Explainer:
    """Shapley values of one network over one background set, for any number of points.

    Prepares once what every point shares: the integer evaluator, the background's mean output
    and, for ``method="regions"``, the region lookup.  The efficiency check of :meth:`explain`
    compares the sum of the values with ``f(x)`` (from the plain :meth:`ReluNetwork.evaluate`) minus
    that mean, so it also tests the fast path's claim that the local model holds on the background.
    Options as in :func:`shapley_values`.
    """

    def __init__(
        self,
        net: ReluNetwork,
        background: Sequence[Sequence[object]],
        *,
        method: str = "auto",
        max_features: int = MAX_EXACT_FEATURES,
        samples: Optional[int] = None,
        seed: int = 0,
        fast_path: bool = True,
        shallow=None,
        evaluator: Optional[IntegerNetwork] = None,
        lookup: Optional[RegionLookup] = None,
    ) -> None:
        if method not in METHODS:
            raise InputError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
        if not background:
            raise InputError("the background set is empty")
        if samples is not None and samples < 1:
            raise InputError("--samples: must be a positive integer")
        self.net = net
        self.background = [net.coerce_point(b, f"background point {k + 1}") for k, b in enumerate(background)]
        m = net.output_dim
        self.evaluator = evaluator or IntegerNetwork(net)
        out, D = self.evaluator.evaluate_points(self.background)
        self.mean_f = tuple(Fraction(sum(int(v) for v in out[o::m]), D * len(self.background)) for o in range(m))
        self.mean_b = _mean(self.background)
        if method == "auto":
            method = "modular" if net.input_dim <= min(max_features, ModularShapley.MAX_FEATURES) else "deep"
        self.method = method
        self.patterns: Optional[PatternEvaluator] = None
        self.modular: Optional[ModularShapley] = None
        self.max_features, self.samples, self.seed, self.fast_path = max_features, samples, seed, fast_path
        self.lookup = lookup
        if self.method == "regions" and lookup is None:
            if shallow is None:
                raise InputError("--method regions needs the shallow network (an enumeration of the domain)")
            self.lookup = RegionLookup(shallow, self.evaluator)

    def _done(self, point: Vector, f_x: Vector, values: Matrix, how: str, started: float, approx: bool = False,
              count: Optional[int] = None, evaluations: int = 0, model: Optional[LocalModel] = None) -> ShapleyResult:
        n, m = self.net.input_dim, self.net.output_dim
        for o in range(m):  # efficiency, exactly
            if sum((values[i][o] for i in range(n)), ZERO) != f_x[o] - self.mean_f[o]:
                raise InternalError(f"efficiency failed for output {o + 1}: sum of Shapley values != f(x) - mean f(b)")
        result = ShapleyResult(values, f_x, self.mean_f, how == "fast path", how, approx, count, evaluations,
                               time.perf_counter() - started, point, self.net)
        if model is not None:
            result.__dict__["local"] = model  # already computed: the cached property's value
        return result

    def explain(self, x: Sequence[object]) -> ShapleyResult:
        return self.explain_many([x])[0]

    def explain_many(self, points: Sequence[Sequence[object]],
                     progress: Optional[Callable[[int, int], None]] = None) -> list[ShapleyResult]:
        """:meth:`explain` for every point; with ``method="patterns"`` (the default) the points are
        processed in batches of about :data:`CHUNK_ROWS` hybrids.  ``progress(done, total)`` is called
        after each batch."""
        net = self.net
        pts = [net.coerce_point(x, "x" if len(points) == 1 else f"point {k + 1}") for k, x in enumerate(points)]
        n = net.input_dim
        if self.method not in ("patterns", "modular") or n > self.max_features:
            out = []
            for k, point in enumerate(pts):
                out.append(self._explain_one(point))
                if progress is not None:
                    progress(k + 1, len(pts))
            return out
        if self.method == "patterns":
            if self.patterns is None:
                self.patterns = PatternEvaluator(net)
            batch, rows = self.patterns, CHUNK_ROWS
        else:
            if self.modular is None:
                self.modular = ModularShapley.of(net)
            batch, rows = self.modular, 8 * CHUNK_ROWS
        per_chunk = max(1, rows // ((1 << n) * len(self.background)))
        out = []
        for start in range(0, len(pts), per_chunk):
            started = time.perf_counter()
            chunk = pts[start : start + per_chunk]
            f_out, D = self.evaluator.evaluate_points(chunk)  # the plain exact evaluator, for efficiency
            m = net.output_dim
            computed = batch.shapley(chunk, self.background, self.fast_path)
            share = (time.perf_counter() - started) / len(chunk)
            for k, (point, (numerators, denominator, fast)) in enumerate(zip(chunk, computed)):
                values = tuple(tuple(Fraction(v, denominator) for v in row) for row in numerators)
                f_x = tuple(Fraction(int(f_out[k * m + o]), D) for o in range(m))
                result = self._done(point, f_x, values, "fast path" if fast else self.method, time.perf_counter(),
                                    evaluations=(1 << n) * len(self.background))
                out.append(dataclasses.replace(result, seconds=share))
            if progress is not None:
                progress(len(out), len(pts))
        return out

    def _explain_one(self, point: Vector) -> ShapleyResult:
        started = time.perf_counter()
        bg = self.background
        n = self.net.input_dim
        model = local_model(self.net, point)
        f_x = model.output(point)  # equal to net.evaluate(point): local_model checks it
        if self.fast_path and model.holds_on_boxes(point, bg):
            return self._done(point, f_x, model.contributions(point, self.mean_b), "fast path", started, model=model)
        if n > self.max_features:
            if self.samples is None:
                raise InputError(
                    f"exact Shapley values need all 2^{n} coalitions for {n} features, above the limit of "
                    f"{self.max_features} (the one-region fast path does not apply here); give --samples N for a "
                    f"sampled estimate (labelled approximate) or raise --max-features")
            values, evaluations = _sampled(self.evaluator, point, bg, self.samples, self.seed)
            return self._done(point, f_x, values, "sampled (deep)", started, True, self.samples, evaluations, model)
        source = self.lookup if self.method == "regions" else self.evaluator
        V, D = source.hybrid_sums(point, bg)
        return self._done(point, f_x, shapley_from_sums(V, D, n, len(bg)), self.method, started,
                          evaluations=(1 << n) * len(bg), model=model)


def shapley_values(net: ReluNetwork, x: Sequence[object], background: Sequence[Sequence[object]], **options) -> ShapleyResult:
    """Interventional Shapley values of ``net`` at ``x`` over ``background`` (module docstring).

    Options: ``method`` ``"auto"`` (= ``"deep"``, measured), ``"deep"`` or ``"regions"`` (needs
    ``shallow``, a :class:`~exactrelu.shallow.ShallowNetwork`, or a prepared ``lookup``);
    ``fast_path=False`` forces the full coalition computation; ``samples`` allows a sampled
    (approximate) estimate when ``n > max_features``, without it such a request raises
    :class:`InputError`; ``evaluator`` reuses an :class:`IntegerNetwork`.
    """
    return Explainer(net, background, **options).explain(x)


def _sampled(evaluator: IntegerNetwork, x: Vector, bg: list[Vector], samples: int, seed: int) -> tuple[Matrix, int]:
    """Permutation-sampling estimate: each permutation's marginal contributions (exact, averaged over
    the whole background) telescope to ``f(x) - mean f(b)``, so efficiency still holds exactly.
    Permutations are evaluated in batches of at most about :data:`CHUNK_ROWS` points."""
    n, m = evaluator.n, evaluator.m
    rng = random.Random(seed)
    orders = []
    for _ in range(samples):
        order = list(range(n))
        rng.shuffle(order)
        orders.append(order)
    per_chunk = max(1, CHUNK_ROWS // (len(bg) * (n + 1)))
    sums = [[Fraction(0)] * m for _ in range(n)]
    stride = (n + 1) * m
    for start in range(0, samples, per_chunk):
        chunk = orders[start : start + per_chunk]
        points = []
        for order in chunk:
            for b in bg:
                z = list(b)
                points.append(tuple(z))
                for i in order:
                    z[i] = x[i]
                    points.append(tuple(z))
        out, D = evaluator.evaluate_points(points)
        totals = [[0] * m for _ in range(n)]
        for s, order in enumerate(chunk):
            for k in range(len(bg)):
                base = (s * len(bg) + k) * stride
                for step, i in enumerate(order):
                    for o in range(m):
                        totals[i][o] += int(out[base + (step + 1) * m + o]) - int(out[base + step * m + o])
        for i in range(n):
            for o in range(m):
                sums[i][o] += Fraction(totals[i][o], D)
    count = samples * len(bg)
    return tuple(tuple(v / count for v in row) for row in sums), samples * len(bg) * (n + 1)


# ============================================================================ input files
def iter_points_csv(path: str | Path, dim: int, what: str = "background") -> Iterator[Vector]:
    """The points of a CSV file one at a time, read line by line (memory bounded by a line): one
    point per row, no header, entries as on the command line (``1/2``, ``-0.25``, ``3``).  Blank
    lines are skipped; a file without points raises :class:`InputError` after its last line."""
    p = Path(path)
    found = False
    try:
        with p.open(encoding="utf-8", newline="") as handle:
            for line_no, row in enumerate(csv.reader(handle), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != dim:
                    raise InputError(f"{p}: line {line_no} has {len(row)} columns, the network has {dim} inputs")
                try:
                    point = tuple(parse_rational(cell.strip(), f"column {j + 1}") for j, cell in enumerate(row))
                except InputError as exc:
                    hint = " (the file must not have a header row)" if not found else ""
                    raise InputError(f"{p}: line {line_no}: {exc}{hint}") from None
                found = True
                yield point
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: cannot read the {what} file: {exc}") from None
    if not found:
        raise InputError(f"{p}: the {what} file has no points")


def read_points_csv(path: str | Path, dim: int, what: str = "background") -> list[Vector]:
    """All the points of a CSV file (:func:`iter_points_csv`), as a list."""
    return list(iter_points_csv(path, dim, what))


# ============================================================================ reports
def _q(v: Fraction) -> str:
    return format_rational(v)


def _qm(rows) -> list:
    return [[_q(v) for v in row] for row in rows]


def _pattern_text(pattern) -> str:
    return " | ".join("".join("1" if b else "0" for b in layer) for layer in pattern) or "(no hidden neurons)"


def affine_text(w: Sequence[Fraction], b: Fraction, names: Sequence[str]) -> str:
    """``2*x1 - 1/2*x2 + 3`` (exact)."""
    parts = []
    for a, name in zip(w, names):
        if not a:
            continue
        mag = abs(a)
        term = name if mag == 1 else f"{_q(mag)}*{name}"
        parts.append(("- " if a < 0 else "+ ") + term)
    if b or not parts:
        parts.append(("- " if b < 0 else "+ ") + _q(abs(b)))
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def explain_point(explainer: Explainer, x: Vector, *, baseline: Optional[Vector] = None, domain=None,
                  result: Optional[ShapleyResult] = None) -> dict:
    """Everything ``explain`` reports about ``x``, as a JSON-ready dict (rationals as strings);
    ``result`` is ``x``'s :class:`ShapleyResult` if already computed (:meth:`Explainer.explain_many`)."""
    from . import lp

    net = explainer.net
    background = explainer.background
    result = result if result is not None else explainer.explain(x)
    model = result.local
    n, m = net.input_dim, net.output_dim
    rows = (domain.rows() if domain is not None else []) + [
        (w, b, True) if on else (tuple(-a for a in w), -b, False) for w, b, on in model.conditions]
    full = lp.interior_point(rows, n) is not None
    out = {
        "x": [_q(v) for v in x],
        "output": [_q(v) for v in result.f_x],
        "region": {
            "pattern": [[int(b) for b in layer] for layer in model.pattern],
            "full_dimensional": full,
            "conditions": [{"w": [_q(a) for a in w], "b": _q(b), "rel": ">" if on else "<="}
                           for w, b, on in model.conditions],
        },
        "local_model": {"alpha": _qm(model.alpha), "beta": [_q(v) for v in model.beta]},
        "contributions": _qm(model.contributions(x)),
    }
    if baseline is not None:
        out["baseline"] = [_q(v) for v in baseline]
        out["contributions_from_baseline"] = _qm(model.contributions(x, baseline))
    out["background"] = {"points": len(background), "mean": [_q(v) for v in _mean(background)]}
    key = "shapley_approximate" if result.approximate else "shapley"
    out[key] = _qm(result.values)
    out["efficiency"] = {
        "f_x": [_q(v) for v in result.f_x],
        "mean_f_background": [_q(v) for v in result.mean_background],
        "sum_shapley": [_q(sum((result.values[i][o] for i in range(n)), ZERO)) for o in range(m)],
        "holds": "exactly",
    }
    out["fast_path"] = result.fast_path
    out["method"] = result.method
    out["exact"] = not result.approximate
    if result.approximate:
        out["approximate"] = True
        out["samples"] = result.samples
        out["note"] = f"APPROXIMATE: sampled estimate from {result.samples} random permutations (seed {explainer.seed}); not exact Shapley values"
    out["seconds"] = round(result.seconds, 4)
    return out
