"""Exact equivalence and maximum deviation of two ReLU networks.

The two networks are run side by side on the same input (:func:`side_by_side`): one network
``A||B`` whose outputs are ``A(x)`` followed by ``B(x)``.  Its activation regions are the common
refinement of the regions of ``A`` and of ``B`` (:func:`exactrelu.regions.enumerate_regions`), and
on each region both networks are affine, so they are compared map against map.

* On a region where the two affine maps are identical, ``A = B`` there.
* Elsewhere the producer maximises ``±(A_o - B_o)`` (inf-norm) or ``sum_o s_o (A_o - B_o)`` for every
  sign vector ``s`` (1-norm) over the region's closure by exact LP (:func:`exactrelu.lp.maximize`).
  The supremum over the region equals that maximum, and it is attained *in the domain*: ``A - B`` is
  continuous and equals the region's affine map on the closure, which lies in the (closed) domain.
  The LP duals prove each bound with arithmetic only.

So the maximum deviation ``max_{x in D} ||A(x) - B(x)||`` is exact, and ``A = B`` on ``D`` iff it
is ``0``.  A region can be lower-dimensional, and there the two maps may differ as affine maps and
still agree on the region; the LP bound ``0`` proves it.

The side-by-side network (the checker rebuilds it the same way, from ``A`` and ``B`` alone): with
``H`` the larger number of hidden layers, the shallower network is padded to ``H`` hidden layers.
A network with hidden layers gets identity layers ``(I, 0)`` inserted after its last hidden layer;
they are exact because the values they carry are ReLU outputs, ``>= 0``, and they add no region
(each copy's activation repeats the neuron it copies).  A network with no hidden layer, ``W x + b``,
becomes ``relu(v) - relu(-v)`` with ``v = W x + b`` (first layer ``[W; -W]``, identity layers, output
``[I, -I]``).  Then the first layers are stacked (both read ``x``), every later layer is
block-diagonal, and the outputs are ``A``'s then ``B``'s.

>>> from exactrelu.network import ReluNetwork
>>> A = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, -1]], [0])])   # relu(x) - relu(-x)
>>> B = ReluNetwork.from_lists([([[1]], [0])])                               # x
>>> side_by_side(A, B).widths
(1, 4, 2)
>>> result = compare(A, B)
>>> result.equal, result.max_deviation, len(result.enumeration.regions)
(True, Fraction(0, 1), 3)
>>> C = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, "-999/1000"]], [0])])
>>> from exactrelu.domain import Domain
>>> result = compare(A, C, Domain.box(["-2"], ["3"]))
>>> result.equal, result.max_deviation, result.argmax
(False, Fraction(1, 500), (Fraction(-2, 1),))
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from .errors import InputError, InternalError
from .rationals import format_rational

if TYPE_CHECKING:  # pragma: no cover
    from .domain import Domain
    from .network import ReluNetwork
    from .regions import Enumeration, Region

Vector = tuple[Fraction, ...]
ZERO = Fraction(0)
ONE = Fraction(1)
NORMS = ("inf", "1")
EQUIV_FORMAT = "exactrelu-equivalence"
EQUIV_VERSION = 2
COMBINATION = "side-by-side"
MAX_ONE_NORM_OUTPUTS = 12



# ----------------------------------------------------------------------------- the side-by-side network
def _identity(width: int) -> tuple[list[list[Fraction]], list[Fraction]]:
    return [[ONE if i == j else ZERO for j in range(width)] for i in range(width)], [ZERO] * width


def padded_layers(network: "ReluNetwork", hidden: int) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    """The layers of ``network`` padded to ``hidden`` hidden layers, computing the same function
    exactly (see the module docstring)."""
    layers = [([list(row) for row in layer.weight], list(layer.bias)) for layer in network.layers]
    own = len(layers) - 1
    if own > hidden:
        raise ValueError("cannot pad a network to fewer hidden layers than it has")
    if own == hidden:
        return layers
    if own >= 1:
        width = len(layers[-2][1])
        return layers[:-1] + [_identity(width) for _ in range(hidden - own)] + layers[-1:]
    W, b = layers[0]
    m = len(b)
    first = (W + [[-a for a in row] for row in W], b + [-c for c in b])
    out = ([[ONE if j == i else -ONE if j == i + m else ZERO for j in range(2 * m)] for i in range(m)], [ZERO] * m)
    return [first] + [_identity(2 * m) for _ in range(hidden - 1)] + [out]


def side_by_side(a: "ReluNetwork", b: "ReluNetwork") -> "ReluNetwork":
    """The network ``x -> (A(x), B(x))`` (the construction in the module docstring)."""
    from .network import ReluNetwork

    check_compatible(a, b)
    hidden = max(len(a.layers), len(b.layers)) - 1
    la, lb = padded_layers(a, hidden), padded_layers(b, hidden)
    layers = []
    for k, ((Wa, ba), (Wb, bb)) in enumerate(zip(la, lb)):
        if k == 0:
            W = Wa + Wb
        else:
            ca, cb = len(Wa[0]), len(Wb[0])
            W = [row + [ZERO] * cb for row in Wa] + [[ZERO] * ca + row for row in Wb]
        layers.append((W, ba + bb))
    return ReluNetwork.from_lists(layers, "A||B")


def check_compatible(a: "ReluNetwork", b: "ReluNetwork", names: tuple[str, str] = ("A", "B")) -> None:
    """Raise :class:`InputError` unless the input and output dimensions match."""
    if a.input_dim != b.input_dim:
        raise InputError(f"{names[0]} has {a.input_dim} inputs but {names[1]} has {b.input_dim}: "
                         "the networks must read the same input dimension")
    if a.output_dim != b.output_dim:
        raise InputError(f"{names[0]} has {a.output_dim} outputs but {names[1]} has {b.output_dim}: "
                         "the networks must have the same output dimension")


# ----------------------------------------------------------------------------- a faster exact oracle
class _PairOracle:
    """:mod:`exactrelu.lp` with one shortcut: when the newest row is the opposite of an earlier one
    (``u' = -t u`` with ``t > 0``) and the two cannot hold together, the Motzkin certificate
    ``{earlier: t, newest: 1}`` is returned without an LP (checked exactly with
    :func:`exactrelu.lp.motzkin_valid` before it is returned, like every other proof of lp.py).  In
    ``A||B`` this is frequent: a padding neuron repeats the neuron it copies, and networks with
    common neurons repeat each other's hyperplanes."""

    _LIMIT = 200_000

    def __init__(self) -> None:
        self._rows: dict[int, tuple] = {}  # id(row) -> (row, direction id, opposite id, offset, scale)
        self._directions: dict[tuple, int] = {}

    def _info(self, row) -> tuple:
        entry = self._rows.get(id(row))
        if entry is not None and entry[0] is row:  # the entry holds the row, so its id is not reused
            return entry
        if len(self._rows) > self._LIMIT or len(self._directions) > self._LIMIT:
            self._rows.clear()
            self._directions.clear()
        u, v, _ = row
        pivot = next((a for a in u if a), None)
        if pivot is None:
            entry = (row, None, None, None, None)
        else:
            scale = abs(pivot)
            key = tuple(a / scale for a in u)
            ident = self._directions.setdefault(key, len(self._directions))
            opposite = self._directions.setdefault(tuple(-a for a in key), len(self._directions))
            entry = (row, ident, opposite, v / scale, scale)
        self._rows[id(row)] = entry
        return entry

    def decide(self, rows, dim):
        from . import lp

        if len(rows) >= 2:
            last = self._info(rows[-1])
            if last[1] is not None:
                newest = len(rows) - 1
                for m in range(newest):
                    info = self._info(rows[m])
                    if info[1] == last[2]:
                        total = info[3] + last[3]
                        if total < 0 or (total == 0 and (rows[m][2] or rows[newest][2])):
                            multipliers = {m: last[4] / info[4], newest: ONE}
                            if not lp.motzkin_valid(rows, multipliers, dim):
                                raise InternalError("a proof for opposite hyperplanes did not check")
                            return lp.Decision(multipliers=multipliers)
        return lp.decide(rows, dim)

    def interior_point(self, rows, dim):
        from . import lp

        return lp.interior_point(rows, dim)


# ----------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Term:
    """Evidence that ``sum_o sign_o (A_o - B_o)(x) <= bound`` on a region: dual multipliers
    (row index -> positive rational) over the region's rows read as weak (domain rows first, then
    one row per neuron of ``A||B`` in layer-major order)."""

    sign: tuple[int, ...]
    multipliers: dict[int, Fraction]
    bound: Fraction
    exact: bool  # the bound is the region's maximum (an LP optimum), not only an upper bound


@dataclass
class Comparison:
    """The outcome of :func:`compare`.

    Invariants: ``max_deviation`` is ``None`` iff ``unbounded``; otherwise it is the exact maximum of
    ``||A(x) - B(x)||`` over the domain, attained at ``argmax`` (a point of the domain, checked by
    evaluating both networks there).  ``terms[k]`` is ``None`` when the two affine maps of region
    ``k`` are identical, else one :class:`Term` per sign vector of the norm, each bound
    ``<= max_deviation``.  ``counterexample`` is a point of the domain where ``A(x) != B(x)``, or
    ``None`` iff the networks are equal on the domain.
    """

    a: "ReluNetwork"
    b: "ReluNetwork"
    domain: "Domain"
    norm: str
    combined: "ReluNetwork"
    enumeration: "Enumeration"
    terms: list[Optional[list[Term]]]
    max_deviation: Optional[Fraction]
    argmax: Optional[Vector]
    unbounded: bool
    counterexample: Optional[Vector]
    per_output: Optional[list[tuple[Fraction, Vector]]] = None
    lps: int = 0
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return self.counterexample is None

    @property
    def identical_regions(self) -> int:
        return sum(t is None for t in self.terms)


def sign_vectors(norm: str, m: int) -> list[tuple[int, ...]]:
    """The sign vectors whose bounds together bound the norm: ``±e_o`` (inf) or ``{±1}^m`` (1)."""
    if norm == "inf":
        return [tuple(s if j == o else 0 for j in range(m)) for o in range(m) for s in (1, -1)]
    if norm == "1":
        return list(itertools.product((1, -1), repeat=m))
    raise InputError(f"--norm: expected one of {', '.join(NORMS)}, got {norm!r}")


def deviation(a_out: Sequence[Fraction], b_out: Sequence[Fraction], norm: str) -> Fraction:
    """``||a - b||`` in the inf-norm or the 1-norm, exactly."""
    diffs = [abs(x - y) for x, y in zip(a_out, b_out)]
    return max(diffs, default=ZERO) if norm == "inf" else sum(diffs, ZERO)


def _dot(u: Sequence[Fraction], x: Sequence[Fraction]) -> Fraction:
    return sum((a * b for a, b in zip(u, x)), ZERO)


class _Exceeded(Exception):
    """The enumeration of :func:`_compare` stops: a point of the domain where the deviation exceeds the
    bound it was given."""

    def __init__(self, point: Vector) -> None:
        super().__init__()
        self.point = point


def _region_tasks(region: "Region", m: int, signs, box) -> Optional[list[tuple]]:
    """``(sign, d, c0, cheap)`` for every sign vector: ``sign . (A - B) = d . x + c0`` on the region, and
    ``cheap`` its bound from the box rows alone (``None`` without a box); ``None`` when the two maps
    are identical there."""
    n = len(region.alpha[0]) if region.alpha else 0
    da = [tuple(x - y for x, y in zip(region.alpha[o], region.alpha[m + o])) for o in range(m)]
    db = [region.beta[o] - region.beta[m + o] for o in range(m)]
    if not any(any(row) for row in da) and not any(db):
        return None
    tasks = []
    for s in signs:
        d = tuple(sum((so * row[t] for so, row in zip(s, da) if so), ZERO) for t in range(n))
        c0 = sum((so * v for so, v in zip(s, db) if so), ZERO)
        cheap = None
        if box is not None:
            lo, hi = box
            cheap = c0 + sum((dt * (hi[t] if dt > 0 else lo[t]) for t, dt in enumerate(d)), ZERO)
        tasks.append((s, d, c0, cheap))
    return tasks


def _beyond(point: Vector, ray: Vector, d: Vector, c0: Fraction, level: Fraction) -> Vector:
    """A point ``point + t ray`` (``t >= 0``) on an unbounded ray along which ``d . x + c0`` grows,
    with ``d . x + c0 >= level``."""
    value = _dot(d, point) + c0
    t = max(ZERO, (level - value) / _dot(d, ray))
    return tuple(p + t * r for p, r in zip(point, ray))


def compare(
    a: "ReluNetwork",
    b: "ReluNetwork",
    domain: Optional["Domain"] = None,
    *,
    norm: str = "inf",
    max_regions: Optional[int] = None,
    progress: Optional[Callable[[int, int, int], None]] = None,
) -> Comparison:
    """Compare ``a`` and ``b`` on ``domain`` (default ``R^n``) exactly (see the module docstring)."""
    return _compare(a, b, domain, norm=norm, max_regions=max_regions, progress=progress)


def _compare(a, b, domain=None, *, norm="inf", max_regions=None, progress=None,
             stop_above: Optional[Fraction] = None) -> Comparison:
    """:func:`compare`; with ``stop_above``, each region is maximised as the enumeration finds it (an
    LP only where the box bound does not already stay ``<= stop_above``), and the first whose exact
    maximum exceeds ``stop_above`` stops everything: :class:`_Exceeded` with its maximiser."""
    from . import lp
    from .domain import Domain
    from .regions import enumerate_regions

    started = time.perf_counter()
    check_compatible(a, b)
    n, m = a.input_dim, a.output_dim
    if norm == "1" and m > MAX_ONE_NORM_OUTPUTS:
        raise InputError(f"--norm 1: {m} outputs need 2^{m} bounds per region; use --norm inf "
                         f"(at most {MAX_ONE_NORM_OUTPUTS} outputs are supported with the 1-norm)")
    signs = sign_vectors(norm, m)
    domain = domain or Domain.reals(n)
    domain.check_dimension(n)
    combined = side_by_side(a, b)
    domain_rows = domain.rows()
    box = domain.bounded_box
    solved: dict[tuple[int, tuple[int, ...]], "lp.Optimum"] = {}  # LPs run during the enumeration
    arrived: list[int] = [0]

    def early(region: "Region") -> None:
        k = arrived[0]
        arrived[0] += 1
        for s, d, c0, cheap in _region_tasks(region, m, signs, box) or ():
            if cheap is not None and cheap <= stop_above:
                continue
            if not any(d):
                if c0 > stop_above:
                    raise _Exceeded(region.witness)
                continue
            opt = solved[k, s] = lp.maximize(domain_rows + region.neuron_rows(), d, c0, n)
            if opt.status == "unbounded":
                raise _Exceeded(_beyond(opt.point, opt.ray, d, c0, stop_above + ONE))
            if opt.status == "optimal" and opt.value > stop_above:
                raise _Exceeded(opt.point)

    e = enumerate_regions(combined, domain, max_regions=max_regions, progress=progress, oracle=_PairOracle(),
                          on_region=None if stop_above is None else early)

    # every (region, sign) whose map is not identically zero in A - B
    terms: list[Optional[dict[tuple[int, ...], Term]]] = []
    tasks = []
    for k, region in enumerate(e.regions):
        found = _region_tasks(region, m, signs, box)
        terms.append(None if found is None else {})
        tasks += [(k, s, d, c0, cheap) for s, d, c0, cheap in found or ()]
    if box is not None:
        tasks.sort(key=lambda task: -task[4])  # stable: ties keep region order

    group = (lambda s: next(o for o, so in enumerate(s) if so)) if norm == "inf" else (lambda s: 0)
    groups = m if norm == "inf" else 1
    best: list[Fraction] = [ZERO] * groups
    best_at: list[Optional[Vector]] = [None] * groups
    lps = 0
    unbounded_at = None
    for k, s, d, c0, cheap in tasks:
        g = group(s)
        if cheap is not None and cheap <= best[g]:
            lo, hi = box
            multipliers = {}
            for t, dt in enumerate(d):
                if dt > 0:
                    multipliers[2 * t + 1] = dt  # hi_t - x_t >= 0
                elif dt < 0:
                    multipliers[2 * t] = -dt  # x_t - lo_t >= 0
            terms[k][s] = Term(s, multipliers, cheap, exact=False)
            continue
        if not any(d):  # a constant: its own bound, no multipliers needed
            terms[k][s] = Term(s, {}, c0, exact=True)
            if c0 > best[g]:
                best[g], best_at[g] = c0, e.regions[k].witness
            continue
        region = e.regions[k]
        lps += 1
        opt = solved.get((k, s)) or lp.maximize(domain_rows + region.neuron_rows(), d, c0, n)
        if opt.status == "infeasible":
            raise InternalError(f"region {k} has a witness but its closure was found empty")
        if opt.status == "unbounded":
            unbounded_at = (opt.point, opt.ray, d, c0)
            break
        terms[k][s] = Term(s, opt.multipliers, opt.value, exact=True)
        if opt.value > best[g]:
            best[g], best_at[g] = opt.value, opt.point

    a_eval = a.evaluate
    b_eval = b.evaluate
    result = Comparison(a, b, domain, norm, combined, e, [], None, None, False, None, lps=lps)
    if unbounded_at is not None:
        point, ray, d, c0 = unbounded_at
        x = _beyond(point, ray, d, c0, ONE)
        result.unbounded = True
        result.terms = [None if ts is None else list(ts.values()) for ts in terms]
        result.counterexample = x
    else:
        result.terms = [None if ts is None else [ts[s] for s in signs] for ts in terms]
        value = max(best)
        if value > 0:
            g = best.index(value)
            argmax = best_at[g]
        else:
            argmax = e.regions[0].witness
        got = deviation(a_eval(argmax), b_eval(argmax), norm)
        if got != value:
            raise InternalError(f"the deviation at the maximiser is {got}, the LP said {value}")
        if norm == "inf":
            result.per_output = []
            for o in range(m):
                at = best_at[o] if best_at[o] is not None else argmax
                if abs(a_eval(at)[o] - b_eval(at)[o]) != best[o]:
                    raise InternalError(f"output {o}: the deviation at the maximiser differs from the LP optimum")
                result.per_output.append((best[o], at))
        result.max_deviation, result.argmax = value, argmax
        result.counterexample = argmax if value > 0 else None
    if result.counterexample is not None:
        ya, yb = a_eval(result.counterexample), b_eval(result.counterexample)
        if ya == yb or not domain.contains(result.counterexample):
            raise InternalError("the counterexample does not separate the networks inside the domain")
        result.outputs = {"A": ya, "B": yb}
    result.seconds = time.perf_counter() - started
    return result


# ----------------------------------------------------------------------------- the certificate
@dataclass(frozen=True)
class Answer:
    """The outcome of :func:`decide`: ``verdict`` ``"equal"`` (within the tolerance, ``0`` by default)
    or ``"differ"``, found by ``method`` ``"structural"`` (``facts``), ``"counterexample"`` (a float
    search confirmed exactly: ``point`` and its exact ``deviation``, a lower bound of the maximum),
    ``"region"`` (the first region of the enumeration whose maximum exceeds the tolerance: its
    maximiser and deviation, again a lower bound) or ``"enumeration"`` (``comparison``, with the exact
    maximum).  ``witness`` is a point of the domain (the domain is proved nonempty before any proof:
    a claim about no point proves nothing)."""

    a: "ReluNetwork"
    b: "ReluNetwork"
    domain: "Domain"
    norm: str
    tolerance: Fraction
    verdict: str
    method: str
    point: Optional[Vector] = None
    deviation: Optional[Fraction] = None
    facts: object = None
    comparison: Optional[Comparison] = None
    seconds: float = 0.0
    witness: Optional[Vector] = None


def _float_grad_steps(layers, X: "np.ndarray", sign: "np.ndarray", outputs: "np.ndarray") -> "np.ndarray":
    """Gradients of ``sign * (A_o - B_o)`` at the rows of ``X`` (float guidance only)."""
    import numpy as np

    grads = np.zeros_like(X)
    for net_layers, factor in layers:
        G = None
        v = X
        masks = []
        for W, c in net_layers[:-1]:
            z = v @ W.T + c
            masks.append(z > 0)
            v = np.maximum(z, 0)
        W_out = net_layers[-1][0]
        G = W_out[outputs]  # (points, width)
        for (W, _), mask in zip(reversed(net_layers[:-1]), reversed(masks)):
            G = (G * mask) @ W
        grads += factor * sign[:, None] * G
    return grads


def float_counterexample(a: "ReluNetwork", b: "ReluNetwork", domain: "Domain", tolerance: Fraction = ZERO,
                         norm: str = "inf", samples: int = 2000, steps: int = 20, seed: int = 0) -> Optional[tuple[Vector, Fraction]]:
    """A point of ``domain`` where ``||A(x) - B(x)|| > tolerance``, with that exact deviation, or ``None``.

    Floats only propose: random points of the domain's box (or of ``N(0, 4)`` on ``R^n``), then a few
    projected gradient steps on the best ones; each proposal is converted to an exact rational point,
    clipped into the box exactly, and kept only if it lies in the domain and its *exact* deviation
    exceeds the tolerance.  ``None`` proves nothing."""
    import numpy as np

    n = a.input_dim
    rng = np.random.default_rng(seed)
    box = domain.bounded_box
    if domain.kind == "polytope":
        return None
    if box is not None:
        lo = np.array([float(v) for v in box[0]])
        hi = np.array([float(v) for v in box[1]])
        X = lo + (hi - lo) * rng.random((samples, n))
    else:
        lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
        X = rng.normal(scale=2.0, size=(samples, n))
    fa, fb = a.float_layers(), b.float_layers()
    width = np.where(np.isfinite(hi - lo), hi - lo, 4.0)

    def gaps(P):
        return a.evaluate_float(P) - b.evaluate_float(P)

    D = gaps(X)
    score = np.abs(D).max(axis=1) if norm == "inf" else np.abs(D).sum(axis=1)
    best = np.argsort(-score)[:16]
    P = X[best].copy()
    for t in range(steps):
        D = gaps(P)
        o = np.abs(D).argmax(axis=1)
        sign = np.sign(D[np.arange(len(P)), o])
        grad = _float_grad_steps([(fa, 1.0), (fb, -1.0)], P, sign, o)
        P = np.clip(P + (0.1 / (1 + t)) * width * np.sign(grad), lo, hi)
    candidates = np.concatenate([P, X[best]])
    D = gaps(candidates)
    score = np.abs(D).max(axis=1) if norm == "inf" else np.abs(D).sum(axis=1)
    for k in np.argsort(-score)[:8].tolist():
        x = tuple(Fraction(float(v)) for v in candidates[k])
        if box is not None:
            x = tuple(min(max(v, l), h) for v, l, h in zip(x, box[0], box[1]))
        if not domain.contains(x):
            continue
        d = deviation(a.evaluate(x), b.evaluate(x), norm)
        if d > tolerance:
            return x, d
    return None


def decide(a: "ReluNetwork", b: "ReluNetwork", domain: Optional["Domain"] = None, *, tolerance: Fraction = ZERO,
           norm: str = "inf", structural: bool = True, search: bool = True, first_region: bool = True,
           max_regions: Optional[int] = None, progress: Optional[Callable[[int, int, int], None]] = None) -> Answer:
    """Is ``||A - B|| <= tolerance`` on the domain?  The cheapest proof first: a structural mapping
    (:mod:`exactrelu.structural`, tolerance-free: it proves ``A = B``), a float-found counterexample
    confirmed exactly, and only then the enumeration of :func:`compare`, which (with ``first_region``)
    stops at the first region whose exact maximum deviation exceeds the tolerance: ``differ`` by
    method ``"region"``, that region's maximiser and its deviation, a lower bound of the maximum.
    A complete enumeration decides by its exact maximum (method ``"enumeration"``)."""
    from .domain import Domain
    from .structural import structural_facts

    started = time.perf_counter()
    check_compatible(a, b)
    sign_vectors(norm, a.output_dim)
    domain = domain or Domain.reals(a.input_dim)
    domain.check_dimension(a.input_dim)
    if tolerance < 0:
        raise InputError("--tolerance: must be >= 0")
    witness = domain.check_nonempty()  # DomainError on an empty domain: no answer, no certificate

    def answer(verdict, method, **kw) -> Answer:
        return Answer(a, b, domain, norm, tolerance, verdict, method, seconds=time.perf_counter() - started,
                      witness=witness, **kw)

    if structural:
        facts = structural_facts(a, b, domain)
        if facts is not None:
            return answer("equal", "structural", facts=facts, deviation=ZERO)
    if search:
        found = float_counterexample(a, b, domain, tolerance, norm)
        if found is not None:
            return answer("differ", "counterexample", point=found[0], deviation=found[1])
    try:
        result = _compare(a, b, domain, norm=norm, max_regions=max_regions, progress=progress,
                          stop_above=tolerance if first_region else None)
    except _Exceeded as stop:
        x = stop.point
        gap = deviation(a.evaluate(x), b.evaluate(x), norm)
        if gap <= tolerance or not domain.contains(x):
            raise InternalError("the region's maximiser does not exceed the tolerance inside the domain") from None
        return answer("differ", "region", point=x, deviation=gap)
    if result.unbounded:
        x = result.counterexample
        return answer("differ", "enumeration", point=x, deviation=deviation(*result.outputs.values(), norm),
                      comparison=result)
    within = result.max_deviation <= tolerance
    return answer("equal" if within else "differ", "enumeration", point=result.argmax,
                  deviation=result.max_deviation, comparison=result)


def write_answer_certificate(path: str | Path, ans: Answer) -> int:
    """Certificate of an :class:`Answer` (:func:`answer_certificate_text`) written to ``path``;
    returns the size in bytes."""
    from .io.output import write_text

    return write_text(path, answer_certificate_text(ans))


def answer_certificate_text(ans: Answer) -> str:
    """The certificate of an :class:`Answer`: structural facts or a counterexample (no tree, no
    leaves), or the enumeration's equivalence certificate."""
    import io

    tol = None if not ans.tolerance else format_rational(ans.tolerance)
    if ans.method == "enumeration" and ans.verdict == "equal":
        buffer = io.StringIO()
        stream_equivalence_certificate(buffer, ans.comparison,
                                       equivalence_header(ans.comparison, ans.tolerance if tol else None))
        return buffer.getvalue()
    header = {**header_fields(ans.a, ans.b, ans.domain), "method": "counterexample" if ans.verdict == "differ" else ans.method}
    if ans.verdict == "equal":
        header["claim"] = {"kind": "equal", "norm": ans.norm}
        header["witness"] = [format_rational(v) for v in ans.witness]

        def fact(f):
            return "dead" if f == "dead" else [f[0], format_rational(f[1])]

        header["structure"] = [
            {net: [fact(f) for f in layer[net]] for net in ("A", "B")}
            | {"dead": [{"network": net, "neuron": j, "rule": rule, "bound": format_rational(v)}
                        for (net, j), (rule, v) in sorted(layer["dead"].items())]}
            for layer in ans.facts.layers]
    else:
        header["claim"] = {"kind": "differ", "norm": ans.norm, "point": [format_rational(v) for v in ans.point],
                           "deviation": format_rational(ans.deviation), "tolerance": tol}
    return json.dumps(header, sort_keys=True, separators=(",", ":")) + "\n"


def _leaf_json(region: "Region", terms: Optional[list[Term]]) -> str:
    from .certificate import json_rational, leaf_json

    bounds = ",".join(
        '{"sign":[%s],"multipliers":[%s],"bound":%s}' % (
            ",".join(str(s) for s in term.sign),
            ",".join("[%d,%s]" % (r, json_rational(y)) for r, y in term.multipliers.items()),
            json_rational(term.bound))
        for term in (terms or [])
    )
    return leaf_json(region, ',"bounds":[%s]' % bounds)


def claim_of(comparison: Comparison, tolerance: Optional[Fraction] = None) -> dict:
    """The certificate's claim: ``equal``, or the exact ``max_deviation`` (at most ``tolerance``)."""
    if comparison.unbounded:
        raise InputError("no certificate: the deviation is unbounded on this domain")
    if comparison.equal:
        return {"kind": "equal", "norm": comparison.norm}
    if tolerance is not None and comparison.max_deviation > tolerance:
        raise InputError("no certificate: the maximum deviation exceeds the tolerance")
    return {"kind": "max_deviation", "norm": comparison.norm, "value": format_rational(comparison.max_deviation),
            "argmax": [format_rational(v) for v in comparison.argmax],
            "tolerance": None if tolerance is None else format_rational(tolerance)}


def equivalence_header(comparison: Comparison, tolerance: Optional[Fraction] = None,
                       purpose: str = "equivalence") -> dict:
    """The certificate's header: ``A``, ``B`` (with their SHA-256), the domain and the claim; raises
    :class:`InputError` if there is no claim to certify (see :func:`claim_of`).  ``purpose`` is
    ``"equivalence"`` or ``"prune"`` (``A`` the original, ``B`` the pruned network): the checker
    refuses a certificate of another purpose than the auditor asks for."""
    return {**header_fields(comparison.a, comparison.b, comparison.domain, purpose), "claim": claim_of(comparison, tolerance)}


def header_fields(a: ReluNetwork, b: ReluNetwork, domain: Domain, purpose: str = "equivalence") -> dict:
    """The fields every ``exactrelu-equivalence`` header opens with: format, version, purpose,
    producer, the two networks with their SHA-256, the domain, the combination and the order."""
    from .certificate import producer_versions

    return {
        "format": EQUIV_FORMAT,
        "version": EQUIV_VERSION,
        "purpose": purpose,
        "producer": producer_versions(),
        "networks": {"A": a.to_dict(), "B": b.to_dict()},
        "network_sha256": {"A": a.sha256(), "B": b.sha256()},
        "domain": domain.to_dict(),
        "combination": COMBINATION,
        "order": "layer-major",
    }


def stream_equivalence_certificate(out, comparison: Comparison, header: dict) -> None:
    """Write an ``exactrelu-equivalence`` certificate with ``header`` to the text stream ``out``.

    It embeds ``A`` and ``B``, not ``A||B``: the checker rebuilds the side-by-side network itself."""
    from .certificate import stream_certificate

    leaves = (_leaf_json(region, comparison.terms[k]) for k, region in enumerate(comparison.enumeration.regions))
    stream_certificate(out, header, leaves, comparison.enumeration.tree)


def write_equivalence_certificate(path: str | Path, comparison: Comparison,
                                  tolerance: Optional[Fraction] = None, purpose: str = "equivalence") -> int:
    """Write an ``exactrelu-equivalence`` certificate to ``path`` (through :mod:`exactrelu.io.output`,
    so it appears only complete); return its size in bytes."""
    from .io.output import write_with

    header = equivalence_header(comparison, tolerance, purpose)
    return write_with(path, lambda out: stream_equivalence_certificate(out, comparison, header))
