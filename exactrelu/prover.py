"""The early-closing prover: a case-split tree whose subtrees are closed by an exact relaxation.

A *node* is a box ``lo <= x <= hi`` and the activation pattern ``bits`` of the first ``d`` hidden
neurons (layer-major order).  Its *system* (:class:`System`) has one variable per input and one per
unfixed neuron (its post-activation ``y``); every row of it holds at the point ``(x, relu(z(x)))``
of every ``x`` of the node:

* the node's rows (box rows, then the fixed neurons' rows, as in the case-split tree);
* per unfixed neuron ``t`` (pre-activation ``z_t``, an affine form of the earlier variables),
  five rows: ``z_t - l_t >= 0``, ``u_t - z_t >= 0``, ``y_t >= 0``, ``y_t - z_t >= 0`` and the upper
  row ``u_t (z_t - l_t) / (u_t - l_t) - y_t >= 0`` (``z_t - y_t`` when ``l_t >= 0``, ``-y_t`` when
  ``u_t <= 0``), whose bounds ``[l_t, u_t]`` are *proved*: nonnegative multipliers ``lambda`` over
  the rows before neuron ``t`` give ``z_t <= sup (z_t + sum lambda g)`` and
  ``z_t >= -sup (-z_t + sum lambda g)``, the suprema taken over the variables' box (inputs in
  ``[lo, hi]``, ``y_k`` in ``[max(l_k, 0), max(u_k, 0)]``) by interval arithmetic; the producer
  states them rounded outward to the grid ``2^-20`` (:func:`outward`) to keep the rows short.

A node is **closed** when, for every unsafe disjunct, multipliers ``mu`` over the system's rows and
the disjunct's rows (the output layer applied to the last layer's variables) give a form whose
supremum over the box is ``< 0`` (or ``= 0`` with a strict row used): no point of the node reaches
the disjunct.  Floats only propose (CROWN-style back-substitution for the bounds' multipliers, a
HiGHS LP for ``mu``); every bound and every closure is computed or checked here in rationals, and
a rounded proposal that fails falls back to an exact cdd LP (small systems) or to a split.

The search below a node depends on that node alone (its box, its pattern, and the float look-ahead
its parent's bisection made for it), so :func:`prove_parallel` can run subtrees on several
processes and put them back in place: the same tree, certificate and counterexample as
:func:`prove_box`.

>>> from fractions import Fraction as F
>>> from exactrelu.network import ReluNetwork
>>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[-1, -1]], [0])])     # y = -|x|
>>> s = System(net, [F(-1)], [F(1)], [], [((F(1),), F(1), False), ((F(-1),), F(1), False)])
>>> for _ in range(2):                                   # z = x, then z = -x: no multipliers needed
...     s.add_neuron(*s.proved({}, {}))
>>> s.bounds
[(Fraction(-1, 1), Fraction(1, 1)), (Fraction(-1, 1), Fraction(1, 1))]
>>> s.closes([((F(1),), F(-3, 2), False)], {12: F(1)})   # y >= 3/2: y = -y_0 - y_1 <= 0 on the box
True
>>> s.closes([((F(1),), F(1, 2), False)], {12: F(1)})    # y >= -1/2: this combination proves nothing
False
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

from . import lp
from .errors import InternalError
from .lp import Row

ROWS_PER_NEURON = 5
ZERO, ONE = Fraction(0), Fraction(1)
Form = tuple[dict[int, Fraction], Fraction]
SparseRow = tuple[dict[int, Fraction], Fraction, bool]
GRID = 2 ** 24
MARGIN = 1e-9  # a float LP slack above this: not worth an exact closure attempt
LOOK_AHEAD = 2  # coordinates whose bisection the guide tries by float LPs (:meth:`Guide.bisection`)
CLIMB_STEPS = 30  # gradient steps from an open node's LP point (:meth:`Prover._open`)


def add_scaled(acc: dict[int, Fraction], scale: Fraction, form: dict[int, Fraction]) -> None:
    """``acc += scale * form`` on sparse forms, dropping zeros."""
    for k, a in form.items():
        v = acc.get(k, ZERO) + scale * a
        if v:
            acc[k] = v
        else:
            acc.pop(k, None)


def affine(weights: Sequence[Fraction], bias: Fraction, inputs: Sequence[Form]) -> Form:
    """``sum_p weights[p] * inputs[p] + bias`` as a sparse form."""
    acc: dict[int, Fraction] = {}
    const = bias
    for w, (form, c) in zip(weights, inputs):
        if w:
            add_scaled(acc, w, form)
            const += w * c
    return acc, const


def neuron_rows(z: Form, var: int, low: Fraction, high: Fraction) -> list[SparseRow]:
    """The five rows of an unfixed neuron with ``z`` in ``[low, high]`` and post-activation ``var``."""
    zf, zc = z
    neg = {k: -a for k, a in zf.items()}
    y = {var: ONE}
    y_minus_z = dict(neg)
    add_scaled(y_minus_z, ONE, y)
    if low >= 0:
        upper = dict(zf)
        add_scaled(upper, -ONE, y)
        upper_row = (upper, zc, False)
    elif high <= 0:
        upper_row = ({var: -ONE}, ZERO, False)
    else:
        s = high / (high - low)
        upper = {k: s * a for k, a in zf.items()}
        add_scaled(upper, -ONE, y)
        upper_row = (upper, s * (zc - low), False)
    return [(dict(zf), zc - low, False), (neg, high - zc, False), (y, ZERO, False), (y_minus_z, -zc, False), upper_row]


def _variable(value: Form):
    """The index ``k`` when ``value`` is the variable ``v_k`` itself, ``None`` when it is 0, else ``False``."""
    form, const = value
    if const:
        return False
    if not form:
        return None
    if len(form) == 1:
        (k, a), = form.items()
        return k if a == ONE else False
    return False


def outward(q: Fraction, direction: int, grid: int = 2 ** 20) -> Fraction:
    """``q`` rounded to the grid ``1/grid`` away from zero in ``direction`` (down for -1, up for 1): a
    looser bound with a small denominator, so relaxation rows stay short.

    >>> outward(Fraction(1, 3), 1, 8), outward(Fraction(1, 3), -1, 8), outward(Fraction(1, 4), 1, 8)
    (Fraction(3, 8), Fraction(1, 4), Fraction(1, 4))
    """
    scaled = q * grid
    whole = scaled.numerator // scaled.denominator
    if direction > 0 and whole != scaled:
        whole += 1
    return Fraction(whole, grid)


def snapped(low: Fraction, high: Fraction, grid: int = 2 ** 20) -> tuple[Fraction, Fraction]:
    """Looser bounds ``[l, u]`` around ``[low, high]`` on the grid ``1/grid`` (:func:`outward`) such
    that, when ``l < 0 < u``, the width ``u - l`` is ``m 2^e / grid`` with ``m <= 16``: every triangle
    slope ``u / (u - l)`` then has a denominator dividing ``45045 * 2^k`` (odd part at most 15), so
    the exact combinations of many relaxation rows keep short denominators.  The width grows by at
    most an eighth, split evenly on both sides.

    >>> snapped(Fraction(-17, 16), Fraction(17, 16), 16)       # width 34/16 becomes 36/16 = 9 * 2^2 / 16
    (Fraction(-9, 8), Fraction(9, 8))
    >>> snapped(Fraction(1, 3), Fraction(2, 3), 8)             # a stable neuron: outward only
    (Fraction(1, 4), Fraction(3, 4))
    """
    l, u = outward(low, -1, grid), outward(high, 1, grid)
    if not l < 0 < u:
        return l, u
    width = int((u - l) * grid)
    e = max(width.bit_length() - 4, 0)
    m = -(-width // 2 ** e)                     # the smallest m with m 2^e >= width: m <= 16
    extra = m * 2 ** e - width
    l -= Fraction(extra // 2, grid)
    return l, l + Fraction(m * 2 ** e, grid)


def snapped_floats(low, high, grid: int = 2 ** 20):
    """:func:`snapped` on float arrays with ``low < 0 < high`` (``|low|, |high| < 2^32``): the same
    values, since scaling by the power of two ``grid`` and rounding to integers are exact in floats."""
    import numpy as np

    l, u = np.floor(low * grid), np.ceil(high * grid)
    width = (u - l).astype(np.int64)
    e = np.maximum(np.frexp(width.astype(float))[1] - 4, 0)           # bit_length(width) - 4
    size = 2.0 ** e
    m = np.ceil(width / size)
    extra = m * size - width
    l = l - np.floor(extra / 2)
    return l / grid, (l + m * size) / grid


def combine(rows: Sequence[SparseRow], multipliers: dict[int, Fraction], start: Optional[Form] = None):
    """``start + sum mu_m g_m`` and whether a strict row has a positive multiplier."""
    acc = dict(start[0]) if start else {}
    const = start[1] if start else ZERO
    strict = False
    for m, mu in multipliers.items():
        form, c, is_strict = rows[m]
        add_scaled(acc, mu, form)
        const += mu * c
        strict = strict or is_strict
    return acc, const, strict


def supremum(form: dict[int, Fraction], const: Fraction, lower: Sequence[Fraction], upper: Sequence[Fraction]) -> Fraction:
    """The maximum of ``form + const`` over the box ``[lower, upper]``, exactly."""
    return const + sum((a * (upper[k] if a > 0 else lower[k]) for k, a in form.items()), ZERO)


class System:
    """The rows known valid at a node (module docstring), built neuron by neuron as bounds are proved."""

    def __init__(self, network, lo: Sequence[Fraction], hi: Sequence[Fraction], bits: Sequence[bool],
                 node_rows: Sequence[Row]) -> None:
        n, d = network.input_dim, len(bits)
        self.network, self.n = network, n
        self.lower, self.upper = list(lo), list(hi)
        self.z: list[Form] = []
        self.layer_of: list[int] = []
        prev: list[Form] = [({i: ONE}, ZERO) for i in range(n)]
        flat = 0
        for l, layer in enumerate(network.layers[:-1]):
            cur = []
            single = [_variable(v) for v in prev]
            plain = False not in single  # every earlier value a variable or 0: z just reads the weights
            for row, c in zip(layer.weight, layer.bias):
                z = ({k: w for k, w in zip(single, row) if k is not None and w}, c) if plain else affine(row, c, prev)
                if flat < d:
                    cur.append(z if bits[flat] else ({}, ZERO))
                else:
                    self.z.append(z)
                    self.layer_of.append(l)
                    cur.append(({n + flat - d: ONE}, ZERO))
                flat += 1
            prev = cur
        last = network.layers[-1]
        self.out = [affine(row, c, prev) for row, c in zip(last.weight, last.bias)]
        self.rows: list[SparseRow] = [({i: a for i, a in enumerate(u) if a}, v, s) for u, v, s in node_rows]
        self.base = len(self.rows)
        self.bounds: list[tuple[Fraction, Fraction]] = []

    def proved(self, lower_mult: dict[int, Fraction], upper_mult: dict[int, Fraction]) -> tuple[Fraction, Fraction]:
        """The bounds of the next unfixed neuron that multipliers over the rows so far prove (the
        checker's computation, row by row)."""
        zf, zc = self.z[len(self.bounds)]
        up = combine(self.rows, upper_mult, (zf, zc))
        lo = combine(self.rows, lower_mult, ({k: -a for k, a in zf.items()}, -zc))
        return -supremum(lo[0], lo[1], self.lower, self.upper), supremum(up[0], up[1], self.lower, self.upper)

    def add_neuron(self, low: Fraction, high: Fraction) -> None:
        """Record proved bounds of the next unfixed neuron: its rows and its variable's box."""
        t = len(self.bounds)
        self.bounds.append((low, high))
        self.rows += neuron_rows(self.z[t], self.n + t, low, high)
        self.lower.append(max(low, ZERO))
        self.upper.append(max(high, ZERO))

    def disjunct_rows(self, conj: Sequence[Row]) -> list[SparseRow]:
        """The rows ``u . y + v`` of an unsafe disjunct over the system's variables."""
        rows = []
        for u, v, strict in conj:
            form, const = affine(u, v, self.out)
            rows.append((form, const, strict))
        return rows

    def closes(self, conj: Sequence[Row], multipliers: dict[int, Fraction]) -> bool:
        """Whether positive ``multipliers`` (over the system's rows, then the disjunct's) prove that no
        point of the node reaches the disjunct ``conj``."""
        form, const, strict = combine(self.rows + self.disjunct_rows(conj), multipliers)
        top = supremum(form, const, self.lower, self.upper)
        return top < 0 or (top == 0 and strict)


# ----------------------------------------------------------------------------- the tree
@dataclass
class Closed:
    """A node closed early: the proved bounds, their multipliers (integer numerators over ``GRID``,
    as :meth:`Prover.bounds` gives them), and one closure per disjunct (rationals)."""

    bounds: list[tuple[Fraction, Fraction]]
    proofs: list[tuple[dict[int, int], dict[int, int]]]
    unsafe: list[dict[int, Fraction]]

    def chunks(self) -> list[str]:
        from .certificate import json_rational

        pairs = lambda mult: "[%s]" % ",".join("[%d,%s]" % (m, json_rational(v)) for m, v in mult.items())  # noqa: E731
        grid = lambda mult: "[%s]" % ",".join('[%d,"%s"]' % (m, _over_grid(k)) for m, k in mult.items())  # noqa: E731
        bounds = ",".join("[%s,%s]" % (json_rational(a), json_rational(b)) for a, b in self.bounds)
        proofs = ",".join("[%s,%s]" % (grid(a), grid(b)) for a, b in self.proofs)
        return ['{"closed":{"bounds":[%s],"proofs":[%s],"unsafe":[%s]}}' % (bounds, proofs, ",".join(map(pairs, self.unsafe)))]


def _over_grid(k: int) -> str:
    """The canonical text of ``k / GRID`` (``k > 0``), by integer shifts.

    >>> _over_grid(3 * 2 ** 20), _over_grid(GRID), _over_grid(2 * GRID)
    ('3/16', '1', '2')
    """
    shift = min((k & -k).bit_length() - 1, GRID.bit_length() - 1)
    num, den = k >> shift, GRID >> shift
    return str(num) if den == 1 else f"{num}/{den}"


@dataclass
class Bisect:
    """The box cut at ``x_coordinate = cut`` into ``below`` (``x_i <= cut``) and ``above`` (``x_i >= cut``)."""

    coordinate: int
    cut: Fraction
    below: object
    above: object

    def chunks(self) -> list:
        from .certificate import json_rational

        return ['{"bisect":[%d,%s],"below":' % (self.coordinate, json_rational(self.cut)), self.below, ',"above":',
                self.above, "}"]


def box_rows(lo: Sequence[Fraction], hi: Sequence[Fraction]) -> list[Row]:
    """``x_i - lo_i >= 0`` then ``hi_i - x_i >= 0`` for each ``i`` (the order of ``Domain.rows()``)."""
    n = len(lo)
    rows: list[Row] = []
    for i in range(n):
        e = tuple(ONE if j == i else ZERO for j in range(n))
        rows += [(e, -lo[i], False), (tuple(-a for a in e), hi[i], False)]
    return rows


def box_empty(w: Sequence[Fraction], lo: Sequence[Fraction], hi: Sequence[Fraction], row: int, active: bool):
    """Motzkin multipliers for "``w . x + b`` has the sign ``active`` asks" (the row ``row``) over the box
    rows when the box bound decides the other way: ``|w_i|`` on the box rows that bound ``w . x``."""
    mult = {row: ONE}
    for i, a in enumerate(w):
        if a:
            mult[2 * i + (1 if (a > 0) == active else 0)] = abs(a)
    return dict(sorted(mult.items()))


def _multipliers(values: Sequence[float]) -> dict[int, Fraction]:
    """Float multipliers rounded to the grid ``1/GRID``; the ones that round to 0 are left out."""
    return {m: Fraction(k, GRID) for m, v in enumerate(values) if (k := round(v * GRID)) > 0}


def float_rows(conjs: Sequence[Sequence[Row]], outputs: int) -> list:
    """Per disjunct, its rows ``u . y + v`` over ``outputs`` outputs as float arrays ``(U, V)``
    (guidance only)."""
    import numpy as np

    return [(np.array([[float(a) for a in u] for u, _, _ in conj], dtype=float).reshape(len(conj), outputs),
             np.array([float(v) for _, v, _ in conj], dtype=float)) for conj in conjs]


def float_margins(layers, xs, U, V):
    """Per float point of ``xs`` (rows), the smallest margin ``u . f(x) + v`` over a disjunct's rows
    ``(U, V)`` and its gradient in ``x`` (guidance only)."""
    import numpy as np

    masks, v = [], xs
    for w, b in layers[:-1]:
        z = v @ w.T + b
        masks.append(z > 0)
        v = np.maximum(z, 0.0)
    w, b = layers[-1]
    y = v @ w.T + b
    margins = y @ U.T + V if len(V) else np.full((len(xs), 1), np.inf)
    worst = np.argmin(margins, axis=1)
    g = U[worst] if len(V) else np.zeros((len(xs), y.shape[1]))
    g = g @ w
    for (w, _), mask in zip(reversed(layers[:-1]), reversed(masks)):
        g = (g * mask) @ w
    return margins[np.arange(len(xs)), worst], g


def climb(layers, xs, U, V, lo, hi, steps: int, deadline: Optional[float] = None):
    """The float points ``xs`` (rows) after ``steps`` projected sign-gradient steps up the worst row
    margin of ``(U, V)`` in the box ``[lo, hi]`` (steps of an eighth of the box, shrinking by 0.85;
    fewer once the ``deadline`` has passed): proposals for a counterexample, never a claim."""
    import numpy as np

    step = (hi - lo) / 8
    for _ in range(steps):
        if deadline is not None and time.perf_counter() > deadline:
            break
        _, g = float_margins(layers, xs, U, V)
        xs = np.clip(xs + step * np.sign(g), lo, hi)
        step = step * 0.85
    return xs


class Guide:
    """Float guidance for a node (never a decision): CROWN bounds of every neuron (the slopes
    :meth:`Prover._crown` uses, then :func:`snapped` as the exact bounds will be) and the float
    triangle LP of each disjunct, all in numpy.  :meth:`Prover.node` spends exact work only on a
    node this predicts to close; a node it does not is split at once, a box bisection on the
    coordinate :meth:`bisection` picks by looking one cut ahead."""

    def __init__(self, network) -> None:
        import numpy as np

        self.np = np
        self.layers = network.float_layers()
        self.widths = network.hidden_widths
        self.ahead: dict = {}  # (lo, hi) -> evaluate(...) of the halves the last bisections chose

    def slopes(self, l, u, fixed):
        """Per neuron of a layer: (upper slope, upper intercept, lower slope) as in :meth:`Prover._crown`;
        ``fixed`` is +1/-1 for a neuron fixed active/inactive, 0 when unfixed."""
        np = self.np
        unstable = (l < 0) & (u > 0)
        width = np.where(unstable, u - l, 1.0)
        up = np.where(l >= 0, 1.0, np.where(unstable, u / width, 0.0))
        inter = np.where(unstable, -u * l / width, 0.0)
        low = np.where(l >= 0, 1.0, np.where(unstable & (u >= -l), 1.0, 0.0))
        up = np.where(fixed > 0, 1.0, np.where(fixed < 0, 0.0, up))
        low = np.where(fixed > 0, 1.0, np.where(fixed < 0, 0.0, low))
        inter = np.where(fixed != 0, 0.0, inter)
        return up, inter, low

    def bounds(self, lo, hi, bits):
        """Float bounds ``(l, u)`` per hidden layer (snapped like the exact ones where unfixed) and
        the fixed-sign vector per layer."""
        np = self.np
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        fixed, start = [], 0
        for w in self.widths:
            f = np.zeros(w)
            part = bits[start:start + w]
            f[:len(part)] = [1.0 if b else -1.0 for b in part]
            fixed.append(f)
            start += w
        out, relax = [], []
        for j, (W, b) in enumerate(self.layers[:-1]):
            ends = []
            for sign in (1.0, -1.0):
                lam, const = sign * W, sign * b
                for k in range(j - 1, -1, -1):
                    up, inter, low = relax[k]
                    pos = np.maximum(lam, 0.0)
                    const = const + pos @ inter
                    lam = pos * up + np.minimum(lam, 0.0) * low
                    const = const + lam @ self.layers[k][1]
                    lam = lam @ self.layers[k][0]
                const = const + np.maximum(lam, 0.0) @ hi + np.minimum(lam, 0.0) @ lo
                ends.append(sign * const)
            u, l = ends
            live = (l < 0) & (u > 0) & (fixed[j] == 0)
            l[live], u[live] = snapped_floats(l[live], u[live])
            out.append((l, u))
            relax.append(self.slopes(l, u, fixed[j]))
        return out, fixed

    def slack(self, lo, hi, bounds, fixed, conjs, stop: float = float("inf")):
        """The largest over the disjuncts of the float triangle LP's common slack ``t <= 1`` of the
        disjunct's rows (``<= 0`` predicts the node closes), with a float input point of that LP
        (``None`` when the LP fails: then ``t`` is ``inf``); disjuncts after one above ``stop`` are
        skipped."""
        from scipy.optimize import linprog

        np = self.np
        n, N = len(lo), sum(self.widths)
        dim = n + N + 1
        blocks, rhs = [], []

        def rows(a, c):  # rows a . v + c >= 0, as -a . v <= c
            blocks.append(-a)
            rhs.append(c)

        var_lo = list(map(float, lo)) + [0.0] * N + [None]
        var_hi = list(map(float, hi)) + [None] * N + [1.0]
        prev, start = list(range(n)), n
        for j, (W, b) in enumerate(self.layers[:-1]):
            w = W.shape[0]
            cols = list(range(start, start + w))
            l, u = bounds[j]
            f = fixed[j]
            Z = np.zeros((w, dim))
            Z[:, prev] = W
            Y = np.zeros((w, dim))
            Y[np.arange(w), cols] = 1.0
            active = (f > 0) | ((f == 0) & (l >= 0))
            unstable = (f == 0) & (l < 0) & (u > 0)
            rows((Y - Z)[active | unstable], -b[active | unstable])        # y >= z
            rows((Z - Y)[active], b[active])                                # y <= z
            rows(Z[f > 0], b[f > 0])                                        # z >= 0
            rows(-Z[f < 0], -b[f < 0])                                      # z <= 0
            s = np.where(unstable, u / np.where(unstable, u - l, 1.0), 0.0)
            rows((s[:, None] * Z - Y)[unstable], (s * (b - l))[unstable])  # y <= s (z - l)
            for p in range(w):
                if f[p] < 0 or (f[p] == 0 and u[p] <= 0):
                    var_hi[start + p] = 0.0
                elif f[p] == 0:
                    var_hi[start + p] = float(u[p])
            prev, start = cols, start + w
        W, b = self.layers[-1]
        Y = np.zeros((W.shape[0], dim))
        Y[:, prev] = W
        cost = np.zeros(dim)
        cost[-1] = -1.0
        base = np.vstack(blocks) if blocks else np.zeros((0, dim))
        base_rhs = np.concatenate(rhs) if rhs else np.zeros(0)
        worst, point = -float("inf"), None
        for conj in conjs:
            U = np.array([[float(a) for a in r[0]] for r in conj])
            V = np.array([float(r[1]) for r in conj])
            G = U @ Y
            G[:, -1] = -1.0                                                 # u . f + v - t >= 0
            res = linprog(cost, A_ub=np.vstack([base, -G]), b_ub=np.concatenate([base_rhs, U @ b + V]),
                          bounds=list(zip(var_lo, var_hi)), method="highs")
            if res.status != 0:
                return float("inf"), None
            if -res.fun > worst:
                worst, point = -res.fun, res.x[:n]
            if worst > stop:
                break
        return worst, point

    def gap(self, bounds, fixed) -> float:
        """A cheap measure of a node's looseness: the sum over its unstable unfixed neurons of the
        triangle's height ``-u l / (u - l)``."""
        np = self.np
        total = 0.0
        for (l, u), f in zip(bounds, fixed):
            live = (l < 0) & (u > 0) & (f == 0)
            total += float((-u[live] * l[live] / (u[live] - l[live])).sum())
        return total

    def bisection(self, lo, hi, conjs) -> int:
        """For a node with no neuron fixed, the input coordinate whose bisection leaves the smallest
        worse-half :meth:`slack` among the ``LOOK_AHEAD`` coordinates with the smallest worse-half
        :meth:`gap`, ties going to the widest coordinate, then the first (an input that no neuron
        reads leaves every gap and slack as they were: bisected on a tie by index, it was chosen
        forever and the search never ended)."""
        halves = []
        for i in range(len(lo)):
            cut = (lo[i] + hi[i]) / 2
            halves.append([(a, b, self.bounds(a, b, ())) for a, b in
                           ((lo, hi[:i] + (cut,) + hi[i + 1:]), (lo[:i] + (cut,) + lo[i + 1:], hi))])
        gaps = [max(self.gap(*guess) for _, _, guess in pair) for pair in halves]
        width = [hi[i] - lo[i] for i in range(len(lo))]  # ties go to the widest (an input no neuron reads ties forever)
        shortlist = sorted(range(len(lo)), key=lambda i: (gaps[i], -width[i]))[:LOOK_AHEAD]
        scores, seen = {}, {}
        for i in shortlist:
            seen[i] = {(a, b): guess + self.slack(a, b, *guess, conjs) for a, b, guess in halves[i]}
            scores[i] = max(v[2] for v in seen[i].values())
        best = min(sorted(shortlist), key=lambda i: (scores[i], -width[i]))
        self.ahead.update(seen[best])
        return best

    def evaluate(self, lo, hi, bits, conjs):
        """``(bounds, fixed, slack, point)`` of a node (as :meth:`bounds` and :meth:`slack` give them,
        the slack possibly cut short above ``MARGIN``), taken from the look-ahead when it saw the node."""
        if not bits and (lo, hi) in self.ahead:
            return self.ahead.pop((lo, hi))
        guess = self.bounds(lo, hi, bits)
        return guess + self.slack(lo, hi, *guess, conjs, stop=MARGIN)


class Prover:
    """Search for a closed tree over one box input set (see :func:`prove_box`)."""

    def __init__(self, network, conjs: Sequence[Sequence[Row]], confirm, deadline: Optional[float],
                 neuron_splits_below: int = 4) -> None:
        import numpy as np

        self.np = np
        self.network, self.conjs, self.confirm, self.deadline = network, conjs, confirm, deadline
        self.floats = network.float_layers()
        self.float_conjs = float_rows(conjs, network.output_dim)
        self.exact_layers = [_flint_layer(layer) for layer in network.layers]
        self.order = [(l, i) for l, w in enumerate(network.hidden_widths) for i in range(w)]
        self.neuron_splits_below = neuron_splits_below
        self.lps = 0
        self.guide = Guide(network)

    # ---- bounds: float back-substitution proposes, the System proves
    def bounds(self, system: System, bits: Sequence[bool]) -> list[dict]:
        """Prove every unfixed neuron's bounds; return per neuron its (lower, upper) multipliers, each
        ``{row: k}`` for the multiplier ``k / GRID``."""
        widths = self.network.hidden_widths
        starts = [sum(widths[:k]) for k in range(len(widths))]
        proofs = []
        t = 0
        while t < len(system.z):
            j = system.layer_of[t]
            targets = [t + k for k in range(len(system.z) - t) if system.layer_of[t + k] == j]
            ups, up_grids = self._crown(system, bits, j, targets, 1.0, starts)
            downs, down_grids = self._crown(system, bits, j, targets, -1.0, starts)
            highs = self._exact(system, bits, j, targets, up_grids, 1, starts)
            lows = self._exact(system, bits, j, targets, down_grids, -1, starts)
            for k in range(len(targets)):
                system.add_neuron(*snapped(lows[k], highs[k]))
                proofs.append((downs[k], ups[k]))
            t += len(targets)
        return proofs

    def _exact(self, system: System, bits, j: int, targets: list[int], grids: dict, sign: int, starts) -> list:
        """``sign`` times the bound :meth:`System.proved` gives for each target, computed layer by layer
        with python-flint matrices (the same exact sum, grouped by layer: ``E @ W_k``); ``grids[k]``
        holds the multipliers of layer ``k`` as integers over ``GRID`` (:meth:`_crown`)."""
        import flint

        d, n = len(bits), system.n
        W, b = self.exact_layers[j]
        T = len(targets)
        local = [d + t - starts[j] for t in targets]
        C = flint.fmpq_mat(T, W.ncols(), [sign * W[p, c] for p in local for c in range(W.ncols())])
        const = [flint.fmpq(sign) * b[p, 0] for p in local]
        unit = flint.fmpq(1, GRID)
        for k in range(j - 1, -1, -1):
            Wk, bk = self.exact_layers[k]
            width = Wk.nrows()
            slopes, passes = flint.fmpq_mat(width, width), flint.fmpq_mat(width, width)
            shift = flint.fmpq_mat(width, 1)  # -slope * low on the upper rows of unstable neurons
            columns = []
            for p in range(width):
                flat = starts[k] + p
                if flat < d:
                    if bits[flat]:
                        passes[p, p] = 1
                    continue
                t = flat - d
                low, high = system.bounds[t]
                slope = ONE if low >= 0 else (ZERO if high <= 0 else high / (high - low))
                slopes[p, p] = _q(slope)
                if 0 < slope < 1:
                    shift[p, 0] = -_q(slope * low)
                if system.upper[n + t]:  # a dead neuron's variable lies in [0, 0]: its residual adds 0
                    columns.append((p, _q(system.lower[n + t]), _q(system.upper[n + t])))
            up, down2, down3 = (flint.fmpq_mat(flint.fmpz_mat(T, width, [int(v) for v in g.ravel()])) * unit
                                for g in grids[k])
            residual = (C + down2 + down3 - up).entries()
            for q in range(T):
                row = q * width
                const[q] += sum((a * (hi if a > 0 else lo) for p, lo, hi in columns if (a := residual[row + p])),
                                flint.fmpq(0))
            E = up * slopes - down3 + C * passes
            moved = E * bk + up * shift
            for q in range(T):
                const[q] += moved[q, 0]
            C = E * Wk
        edges = [(flint.fmpq(a.numerator, a.denominator), flint.fmpq(c.numerator, c.denominator))
                 for a, c in zip(system.lower[:n], system.upper[:n])]
        final = C.entries()
        for q in range(T):
            const[q] += sum((a * (hi if a > 0 else lo) for (lo, hi), a in zip(edges, final[q * n:(q + 1) * n]) if a),
                            flint.fmpq(0))
        return [sign * Fraction(int(c.p), int(c.q)) for c in const]

    def _crown(self, system: System, bits: Sequence[bool], j: int, targets: list[int], sign: float, starts):
        """Float back-substitution of the targets' bounds: the multipliers per target (integer
        numerators over ``GRID``), and per layer ``k`` the same as integer arrays ``(upper rows,
        y rows, y - z rows)``."""
        np, d = self.np, len(bits)
        W = self.floats[j][0]
        lam = sign * W[[d + t - starts[j] for t in targets]]
        mults = [dict() for _ in targets]
        grids = {}
        for k in range(j - 1, -1, -1):
            Wk = self.floats[k][0]
            width = Wk.shape[0]
            up_s, up_t, lo_a, unfixed = np.zeros(width), np.zeros(width), np.zeros(width), np.full(width, -1)
            for p in range(width):
                flat = starts[k] + p
                if flat < d:
                    up_s[p] = lo_a[p] = 1.0 if bits[flat] else 0.0
                    continue
                t = flat - d
                l, u = (float(v) for v in system.bounds[t])
                if u <= 0:  # y = 0 on the variable's box [0, 0]: no multiplier needed
                    continue
                unfixed[p] = t
                if l >= 0:
                    up_s[p] = lo_a[p] = 1.0
                elif u > 0:
                    up_s[p] = u / (u - l)
                    up_t[p] = -u * l / (u - l)
                    lo_a[p] = 1.0 if u >= -l else 0.0
            pos = lam > 0
            live = unfixed >= 0
            up = np.rint(np.where(pos & live, lam, 0.0) * GRID)
            down = np.rint(np.where(~pos & live, -lam, 0.0) * GRID)
            grids[k] = (up, np.where(lo_a > 0, 0.0, down), np.where(lo_a > 0, down, 0.0))
            for grid, offset in ((up, np.full(width, 4)), (down, np.where(lo_a > 0, 3, 2))):
                for q, p in zip(*np.nonzero(grid > 0)):
                    mults[q][system.base + ROWS_PER_NEURON * int(unfixed[p]) + int(offset[p])] = int(grid[q, p])
            lam = lam * np.where(pos, up_s, lo_a)
            lam = lam @ Wk
        return [dict(sorted(mult.items())) for mult in mults], grids

    # ---- closing
    def close(self, system: System, conj: Sequence[Row]):
        """``(multipliers, None)`` closing the disjunct, or ``(None, x)`` with a float point to try."""
        rows = system.rows + system.disjunct_rows(conj)
        goals = [m >= len(system.rows) for m in range(len(rows))]
        self.lps += 1
        found = lp.float_slack([(f, c) for f, c, _ in rows], goals, [float(v) for v in system.lower],
                               [float(v) for v in system.upper])
        if found is None:
            return None, None
        t, point, duals = found
        if t > 1e-9:  # a float point with slack: worth an exact try as a counterexample
            return None, point[: system.n]
        mult = _multipliers(duals)
        if system.closes(conj, mult):
            return mult, None
        return self._exact_close(system, rows, goals, conj), point[: system.n]

    def _exact_close(self, system: System, rows, goals, conj) -> Optional[dict[int, Fraction]]:
        """The exact fallback: maximise the common slack of the disjunct rows with cdd (small systems only)."""
        dim = len(system.lower)
        if dim > 40:
            return None
        dense = []
        for (form, const, _), goal in zip(rows, goals):
            u = [form.get(k, ZERO) for k in range(dim)] + [-ONE if goal else ZERO]
            dense.append((tuple(u), const, False))
        for k in range(dim):
            e = tuple(ONE if j == k else ZERO for j in range(dim + 1))
            dense += [(e, -system.lower[k], False), (tuple(-a for a in e), system.upper[k], False)]
        dense.append((tuple(ZERO for _ in range(dim)) + (-ONE,), ONE, False))
        self.lps += 1
        best = lp.maximize(dense, tuple(ZERO for _ in range(dim)) + (ONE,), ZERO, dim + 1)
        if best.status != "optimal" or best.value > 0:
            return None
        mult = {m: v for m, v in best.multipliers.items() if m < len(rows)}
        return mult if system.closes(conj, mult) else None

    def node(self, lo, hi, bits):
        """Decide one node: ``("closed", Closed)``, ``("violated", counterexample)`` or ``("open",
        Open)``.  The float :class:`Guide` is asked first; exact bounds and closures are computed only
        when it predicts that the node closes."""
        fixed_rows, nxt = self._fixed_rows(bits)
        rows = box_rows(lo, hi) + fixed_rows
        if len(bits) == len(self.order):  # exact: one LP over x per disjunct
            closures = []
            for conj in self.conjs:
                self.lps += 1
                decision = lp.decide(rows + [self._pull(bits, row) for row in conj], self.network.input_dim)
                if decision.nonempty:
                    found = getattr(self.confirm, "exact", self.confirm)(decision.point)  # no float gate here
                    if found is None:
                        raise InternalError("a point of a complete pattern and an unsafe set is not a counterexample")
                    return "violated", found
                closures.append(decision.multipliers)
            return "closed", Closed([], [], closures)
        guess, fixed, slack, point = self.guide.evaluate(lo, hi, bits, self.conjs)
        unstable = sum(int(((l < 0) & (u > 0) & (f == 0)).sum()) for (l, u), f in zip(guess, fixed))
        self.lps += len(self.conjs)
        if slack > MARGIN:
            return self._open(lo, hi, nxt, unstable, point)
        system = System(self.network, lo, hi, bits, rows)
        proofs = self.bounds(system, bits)
        closures = []
        for conj in self.conjs:
            mult, point = self.close(system, conj)
            if mult is None:
                return self._open(lo, hi, nxt, unstable, point)
            closures.append(mult)
        return "closed", Closed(system.bounds, proofs, closures)

    def _open(self, lo, hi, nxt, unstable: int, point):
        """An open node, after trying as counterexamples the float ``point`` (if any) and the points
        :func:`climb` reaches from it in the node's box, one per disjunct."""
        if point is not None:
            np = self.np
            flo, fhi = np.array([float(v) for v in lo]), np.array([float(v) for v in hi])
            start = np.clip(np.asarray(point, dtype=float), flo, fhi)[None, :]
            for p in [start] + [climb(self.floats, start, U, V, flo, fhi, CLIMB_STEPS) for U, V in self.float_conjs]:
                found = self.confirm(tuple(min(max(Fraction(float(v)), a), c) for v, a, c in zip(p[0], lo, hi)))
                if found is not None:
                    return "violated", found
        w, c = nxt
        low = c + sum((a * (lo[i] if a > 0 else hi[i]) for i, a in enumerate(w)), ZERO)
        high = c + sum((a * (hi[i] if a > 0 else lo[i]) for i, a in enumerate(w)), ZERO)
        return "open", Open(unstable, low, high, w)

    def _pull(self, bits, row: Row) -> Row:
        """An output row ``u . y + v`` over the inputs, for a complete pattern ``bits``."""
        n = self.network.input_dim
        system = System(self.network, [ZERO] * n, [ZERO] * n, bits, [])
        form, const, strict = system.disjunct_rows([row])[0]
        return tuple(form.get(k, ZERO) for k in range(n)), const, strict

    def _fixed_rows(self, bits):
        """The rows of the neurons fixed by ``bits`` over the inputs, and the affine form ``(w, b)``
        of the next neuron (``None`` when every neuron is fixed)."""
        from .regions import neuron_row

        n = self.network.input_dim
        rows, prev = [], [(tuple(ONE if j == i else ZERO for j in range(n)), ZERO) for i in range(n)]
        flat = 0
        for layer in self.network.layers[:-1]:
            cur = []
            for row, c in zip(layer.weight, layer.bias):
                w = tuple(sum((a * p[0][t] for a, p in zip(row, prev) if a), ZERO) for t in range(n))
                b = sum((a * p[1] for a, p in zip(row, prev) if a), c)
                if flat == len(bits):
                    return rows, (w, b)
                rows.append(neuron_row(w, b, bits[flat]))
                cur.append((w, b) if bits[flat] else (tuple(ZERO for _ in w), ZERO))
                flat += 1
            prev = cur
        return rows, None


@dataclass
class Open:
    """A node left open: its count of unstable unfixed neurons (float guidance) and the exact
    bounds ``[low, high]`` over the box of the next neuron in layer-major order, an affine form
    ``w . x + b`` there (every earlier neuron is fixed)."""

    unstable: int
    low: Fraction
    high: Fraction
    w: tuple


def _q(v: Fraction):
    import flint

    return flint.fmpq(v.numerator, v.denominator)


def _flint_layer(layer):
    """A layer's weight (``out x in``) and bias (``out x 1``) as python-flint ``fmpq_mat``."""
    import flint

    q = lambda v: flint.fmpq(v.numerator, v.denominator)  # noqa: E731
    W = flint.fmpq_mat(layer.out_dim, layer.in_dim, [q(v) for row in layer.weight for v in row])
    return W, flint.fmpq_mat(layer.out_dim, 1, [q(v) for v in layer.bias])


@dataclass
class Outcome:
    """The result of :func:`prove_box`: ``tree`` (closed), or a ``counterexample``, or ``open`` > 0
    subproblems left when the time ran out; ``nodes``, ``closed`` and ``lps`` count the work, and
    ``seconds`` is the time of a worker's task (:func:`prove_parallel`)."""

    tree: object = None
    counterexample: object = None
    open: int = 0
    nodes: int = 0
    closed: int = 0
    lps: int = 0


def step(prover: "Prover", lo: tuple, hi: tuple, bits: tuple):
    """Decide one node and say how the search goes on below it (the same in a serial and a parallel
    run): ``("violated", counterexample)``, ``("closed", Closed)``, ``("bisect", (i, cut), children)``
    or ``("split", neuron, children)`` with ``children`` two items in tree order, each ``("visit",
    (lo, hi, bits))`` or ``("built", Empty)``: a node that does not close is bisected (no neuron fixed
    yet and more unstable neurons than ``Prover.neuron_splits_below``) or split on its next neuron
    in layer-major order (a side the box bound decides is proved empty by :func:`box_empty`)."""
    from .regions import Empty

    status, result = prover.node(lo, hi, bits)
    if status != "open":
        return status, result
    if not bits and result.unstable > prover.neuron_splits_below:
        i = prover.guide.bisection(lo, hi, prover.conjs)
        cut = (lo[i] + hi[i]) / 2
        return "bisect", (i, cut), [("visit", (lo, hi[:i] + (cut,) + hi[i + 1:], bits)),
                                    ("visit", (lo[:i] + (cut,) + lo[i + 1:], hi, bits))]
    l, u = result.low, result.high
    row = 2 * len(lo) + len(bits)
    children = []
    for side in (True, False):
        if (side and u <= 0) or (not side and l > 0):
            children.append(("built", Empty(box_empty(result.w, lo, hi, row, side))))
        else:
            children.append(("visit", (lo, hi, bits + (side,))))
    return "split", prover.order[len(bits)], children


def prove_box(network, lo: Sequence[Fraction], hi: Sequence[Fraction], conjs: Sequence[Sequence[Row]], confirm,
              deadline: Optional[float] = None, bits: tuple = (), hint=None) -> Outcome:
    """Search a tree over the box ``[lo, hi]`` (below the pattern ``bits``) whose every subproblem
    is closed (no point reaches any disjunct of ``conjs``), depth first, node by node as
    :func:`step` says.  ``confirm(x)`` returns an exact counterexample at ``x`` or ``None`` (it may
    skip points a float gate finds far from the unsafe set; then ``confirm.exact(x)`` must exist and
    skip nothing: it decides the exact LP points of complete patterns);
    ``hint`` is the look-ahead :meth:`Guide.evaluate` of the start node (when its parent's
    bisection saw it), so that the search below a node depends on that node alone."""
    from .regions import Split

    prover = Prover(network, conjs, confirm, deadline)
    if hint is not None:
        prover.guide.ahead[tuple(lo), tuple(hi)] = hint
    out = Outcome()
    stack: list = [("visit", (tuple(lo), tuple(hi), tuple(bits)))]
    built: list = []
    while stack:
        kind, item = stack.pop()
        if kind == "built":
            built.append(item)
            continue
        if kind in ("bisect", "split"):
            second, first = built.pop(), built.pop()
            built.append(Bisect(*item, first, second) if kind == "bisect" else Split(item, first, second))
            continue
        if deadline is not None and time.perf_counter() > deadline:
            out.open = 1 + sum(1 for k, _ in stack if k == "visit")
            break
        out.nodes += 1
        status, result, *children = step(prover, *item)
        if status == "violated":
            out.counterexample = result
            break
        if status == "closed":
            out.closed += 1
            built.append(result)
            continue
        stack += [(status, result), children[0][1], children[0][0]]
    out.lps = prover.lps
    if out.counterexample is None and not out.open:
        out.tree = built.pop()
    return out


# ----------------------------------------------------------------------------- on several processes
def flatten(tree) -> list:
    """A tree of the prover in preorder as a flat list, which pickles at any depth: ``("b", i, cut)``
    for a bisection, ``("s", neuron)`` for a split, a :class:`Closed` or
    :class:`~exactrelu.regions.Empty` as itself; :func:`unflatten` is its inverse.

    >>> from exactrelu.regions import Empty, Split
    >>> tree = Bisect(0, Fraction(1, 2), Split((0, 1), Closed([], [], []), Empty({2: ONE})), Closed([], [], []))
    >>> [item if isinstance(item, tuple) else type(item).__name__ for item in flatten(tree)]
    [('b', 0, Fraction(1, 2)), ('s', (0, 1)), 'Closed', 'Empty', 'Closed']
    >>> unflatten(flatten(tree)) == tree
    True
    """
    from .regions import Split

    out, stack = [], [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, Bisect):
            out.append(("b", item.coordinate, item.cut))
            stack += [item.above, item.below]
        elif isinstance(item, Split):
            out.append(("s", item.neuron))
            stack += [item.inactive, item.active]
        else:
            out.append(item)
    return out


def unflatten(flat: Sequence) -> object:
    """The tree of a :func:`flatten` list (read backwards: a node's two subtrees are built first)."""
    from .regions import Split

    built: list = []
    for item in reversed(flat):
        if isinstance(item, tuple):
            first, second = built.pop(), built.pop()
            built.append(Bisect(item[1], item[2], first, second) if item[0] == "b" else Split(item[1], first, second))
        else:
            built.append(item)
    return built.pop()


class _Slot:
    """A node of the tree's top, expanded by :func:`prove_parallel` itself: ``node`` is ``(lo, hi,
    bits)``; ``value`` its subtree (a leaf, ``(kind, data, first, second)`` with two slots, or a
    worker's tree), ``None`` while it is open."""

    __slots__ = ("node", "depth", "value")

    def __init__(self, node, depth: int, value=None) -> None:
        self.node, self.depth, self.value = node, depth, value

    def tree(self):
        """The subtree in place (the top is a few levels deep: recursion is fine)."""
        from .regions import Split

        if not isinstance(self.value, tuple):
            return self.value
        kind, data, first, second = self.value
        return (Bisect(*data, first.tree(), second.tree()) if kind == "bisect"
                else Split(data, first.tree(), second.tree()))


def _subtree(context: tuple, node: tuple, hint, wall_deadline: Optional[float]) -> Outcome:
    """A worker's task: :func:`prove_box` below ``node`` (its tree :func:`flatten`-ed), with the
    run's deadline given in wall-clock seconds (``time.time``), which every process shares."""
    network, conjs, confirm = context
    deadline = None if wall_deadline is None else time.perf_counter() + wall_deadline - time.time()
    started = time.perf_counter()
    out = prove_box(network, node[0], node[1], conjs, confirm, deadline, node[2], hint)
    out.seconds = time.perf_counter() - started
    if out.tree is not None:
        out.tree = flatten(out.tree)
    return out


def prove_parallel(network, lo: Sequence[Fraction], hi: Sequence[Fraction], conjs: Sequence[Sequence[Row]], confirm,
                   deadline: Optional[float] = None, *, client, frontier: Optional[int] = None,
                   retries: int = 3, stats: Optional[dict] = None) -> Outcome:
    """:func:`prove_box` with the subproblems on the Dask cluster of ``client``.

    The top of the tree is expanded here, node by node as :func:`step` says (always the shallowest
    open node, the first in tree order among them) until ``frontier`` (default 4 per worker) nodes
    are open; each open node goes to a worker with the look-ahead its parent's bisection made for
    it (``hint``: then the search below it is the serial one, which depends on the node alone), and
    the returned subtrees are put in place.  So without a time limit hit the tree, and the
    counterexample (the first in tree order: every node before it must have closed), are the serial
    run's; ``confirm`` must pickle (e.g. a ``functools.partial``).  The time limit ``deadline``
    (``time.perf_counter``) holds for the whole run: at it the tasks still running are cancelled and
    each counts as one open subproblem, with the ones the workers left open.  ``stats``, if given,
    receives the nodes decided here and their seconds (``top``, ``top_seconds``), the number of tasks
    sent, and per finished task its nodes and its seconds on the worker (``task_nodes``, ``task_seconds``)."""
    started = time.perf_counter()
    prover = Prover(network, conjs, confirm, deadline)
    size = frontier or 4 * max(1, len(client.scheduler_info()["workers"]))
    out = Outcome()
    root = _Slot((tuple(lo), tuple(hi), ()), 0)
    pending, found = [root], None
    while pending and len(pending) < size:
        if deadline is not None and time.perf_counter() > deadline:
            out.open = len(pending)
            out.lps = prover.lps
            return out
        k = min(range(len(pending)), key=lambda k: pending[k].depth)
        slot = pending[k]
        out.nodes += 1
        status, result, *children = step(prover, *slot.node)
        if status == "violated":  # the nodes after it in tree order no longer matter
            found = result
            del pending[k:]
            break
        if status == "closed":
            out.closed += 1
            slot.value = result
            del pending[k]
            continue
        slots = [_Slot(item, slot.depth + 1) if kind == "visit" else _Slot(None, slot.depth + 1, item)
                 for kind, item in children[0]]
        slot.value = (status, result, *slots)
        pending[k:k + 1] = [s for s in slots if s.value is None]
    out.lps = prover.lps
    results: list[Optional[Outcome]] = [None] * len(pending)
    top, top_seconds = out.nodes, time.perf_counter() - started
    if pending:
        wall = None if deadline is None else time.time() + deadline - time.perf_counter()
        context = client.scatter([(network, conjs, confirm)], broadcast=True, hash=False)[0]
        run = uuid.uuid4().hex[:12]
        futures = [client.submit(_subtree, context, s.node, prover.guide.ahead.get((s.node[0], s.node[1]))
                                 if not s.node[2] else None, wall, key=f"exactrelu-prove-{run}-{k}", pure=False,
                                 retries=retries) for k, s in enumerate(pending)]
        try:
            for k, f in enumerate(futures):  # in tree order: a counterexample ends the run once all before closed
                left = None if deadline is None else max(deadline - time.perf_counter(), 0.0)
                try:
                    results[k] = f.result(timeout=left)
                except TimeoutError:
                    break
                if results[k].counterexample is not None:
                    break
            for k, f in enumerate(futures):  # at the time limit: the tasks that finished meanwhile count
                if results[k] is None and f.done() and f.status == "finished":
                    results[k] = f.result()
        finally:
            client.cancel([f for f, r in zip(futures, results) if r is None])
            context.release()
    for r in results:
        if r is not None:
            out.nodes, out.closed, out.lps = out.nodes + r.nodes, out.closed + r.closed, out.lps + r.lps
    if stats is not None:
        done = [r for r in results if r is not None]
        stats.update(top=top, top_seconds=top_seconds, tasks=len(pending), task_nodes=[r.nodes for r in done],
                     task_seconds=[r.seconds for r in done])
    found = next((r.counterexample for r in results if r is not None and r.counterexample is not None), found)
    if found is not None:
        out.counterexample = found
        return out
    out.open = sum(1 if r is None else r.open for r in results)
    if not out.open:
        for s, r in zip(pending, results):
            s.value = unflatten(r.tree)
        out.tree = root.tree()
    return out
