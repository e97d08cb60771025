"""Exact answers to VNN-LIB properties: ``holds`` with a proof, ``violated`` with a point, or ``unknown``.

A :class:`~exactrelu.vnnlib.Property` is violated iff some ``x`` in one of its input sets has
``f(x)`` in one of its unsafe disjuncts.  :func:`verify_property` decides it exactly:

1. a cheap float attack (random sampling, the box corners, and projected sign-gradient steps on
   the float network) proposes points; each is turned into an exact rational point of an input set
   (a float is a dyadic rational; it is clamped into the box exactly) and, when its float output is
   near an unsafe disjunct (:class:`Confirm`), evaluated exactly; a proposal that fails is discarded;
2. then, for every input set, every activation region ``R`` of the set (exact enumeration,
   :func:`exactrelu.regions.enumerate_regions`) and every unsafe disjunct ``D``, one exact LP
   (:func:`exactrelu.lp.decide`) decides whether the region's rows plus ``D``'s rows pulled back
   through the region's affine map (``u . y + v`` with ``y = alpha x + beta`` becomes
   ``(u alpha) . x + (u . beta + v)``, strictness kept) have a common point.  A common point is a
   counterexample; otherwise the Motzkin multipliers prove ``f(R)`` misses ``D``;
3. or, with ``early=True``, every box input set goes to the early-closing prover
   (:mod:`exactrelu.prover`): a tree of box bisections and neuron splits whose subproblems are
   closed by an exact relaxation (docs/theory.md, rules E and B), so no region is listed.

Invariants of the returned :class:`Verdict`: ``violated`` carries a point that was re-evaluated
exactly (in an input set, output in the named disjunct) just before it was returned; ``holds``
carries, for every input set, the complete case-split tree and, for every leaf and every disjunct,
multipliers checked exactly by :mod:`exactrelu.lp`; ``unknown`` is returned only when the time or
region budget ran out, never as a guess.  Boundaries count: the LP sees strict rows as strict,
so a violation only on a lower-dimensional set or at a single point is found, and a property that
is safe only because a constraint is strict exactly on the boundary holds.

>>> from fractions import Fraction as F
>>> from exactrelu.domain import Domain
>>> from exactrelu.network import ReluNetwork
>>> from exactrelu.vnnlib import Property
>>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[-1, -1]], [0])])    # y = -|x|
>>> box = (Domain.box(["-1"], ["1"]),)
>>> verify_property(net, Property(1, 1, box, ((((F(1),), F(0), True),),))).status   # y > 0 ?
'holds'
>>> v = verify_property(net, Property(1, 1, box, ((((F(1),), F(0), False),),)))     # y >= 0 ?
>>> v.status, v.counterexample.x, v.counterexample.y
('violated', (Fraction(0, 1),), (Fraction(0, 1),))
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from . import lp
from .errors import DomainError, IncompleteError, InternalError
from .lp import Row
from .network import ReluNetwork, Vector

if TYPE_CHECKING:  # pragma: no cover
    from .domain import Domain
    from .regions import Enumeration, Region
    from .vnnlib import Property

HOLDS, VIOLATED, UNKNOWN = "holds", "violated", "unknown"
PROPERTY_FORMAT = "exactrelu-property"
PROPERTY_VERSION = 2
ZERO = Fraction(0)
CORNER_DIM = 10  # boxes with at most this many inputs: the attack starts from every corner too
FAR, NEAR = 0.5, 0.05  # the attack's best relative float margin: stop early below -FAR, go on above -NEAR

ProgressFn = Callable[[int, int, int], None]


@dataclass(frozen=True)
class Counterexample:
    """An exact input ``x`` in input set ``input_set`` whose exact output ``y`` satisfies every row
    of unsafe disjunct ``disjunct``; ``found_by`` is ``"attack"``, ``"regions"`` or ``"prover"``."""

    x: Vector
    y: Vector
    input_set: int
    disjunct: int
    found_by: str


@dataclass
class Case:
    """The proof over one input set: its region enumeration and, per region and per disjunct,
    the Motzkin multipliers over ``rows(region) + pulled-back disjunct rows``; or, for an input
    set with no point, Motzkin multipliers over its own rows (``empty``); or a tree of the
    early-closing prover (``early``)."""

    enumeration: Optional["Enumeration"]
    refutations: list[list[dict[int, Fraction]]] = field(default_factory=list)
    empty: Optional[dict[int, Fraction]] = None
    early: object = None  # a tree of the early-closing prover (exactrelu.prover), with no leaves


@dataclass
class Verdict:
    """The answer of :func:`verify_property` (see module docstring for the invariants)."""

    status: str
    network: ReluNetwork
    property: "Property"
    cases: list[Case] = field(default_factory=list)
    counterexample: Optional[Counterexample] = None
    reason: str = ""
    regions: int = 0
    nodes: int = 0
    lps: int = 0
    attack_points: int = 0
    seconds: float = 0.0
    closed: int = 0
    open: int = 0


class _OutOfTime(Exception):
    pass


# ----------------------------------------------------------------------------- exact pieces
def pull_back(row: Row, alpha: Sequence[Sequence[Fraction]], beta: Sequence[Fraction]) -> Row:
    """The output row ``u . y + v (> or >=) 0`` as a row over ``x`` where ``y = alpha x + beta``.

    >>> from fractions import Fraction as F
    >>> pull_back(((F(1), F(-1)), F(2), True), ((F(1), F(0)), (F(3), F(1))), (F(0), F(5)))
    ((Fraction(-2, 1), Fraction(-1, 1)), Fraction(-3, 1), True)
    """
    u, v, strict = row
    n = len(alpha[0]) if alpha else 0
    w = tuple(sum((a * alpha[o][t] for o, a in enumerate(u) if a), ZERO) for t in range(n))
    return w, sum((a * b for a, b in zip(u, beta) if a), v), strict


def region_rows(domain: "Domain", region: "Region") -> list[Row]:
    """The rows of a leaf, indexed as in the certificate: the input set's rows, then one row per
    hidden neuron in layer-major order."""
    return domain.rows() + region.neuron_rows()


def confirm(network: ReluNetwork, prop: "Property", x: Sequence[Fraction], found_by: str) -> Optional[Counterexample]:
    """``x`` as a counterexample if it is one exactly (in an input set, output in a disjunct)."""
    s = prop.input_satisfied(x)
    if s is None:
        return None
    y = network.evaluate(x)
    d = prop.unsafe_disjunct(y)
    return None if d is None else Counterexample(tuple(x), y, s, d, found_by)


class Confirm:
    """:func:`confirm` behind a float gate: ``Confirm(network, prop, found_by)(x)`` evaluates ``x``
    exactly only when its float output lies within ``TOLERANCE`` (relative) of an unsafe disjunct
    (:meth:`near`), since an exact evaluation costs about a thousand float ones.  The gate only
    skips work: a returned counterexample is always confirmed exactly, and a point it skips is
    merely not tried (it pickles, for the prover's workers)."""

    TOLERANCE = 1e-6

    def __init__(self, network: ReluNetwork, prop: "Property", found_by: str) -> None:
        self.network, self.prop, self.found_by = network, prop, found_by
        self._floats = None

    def __getstate__(self) -> dict:
        return dict(self.__dict__, _floats=None)

    def margins(self, xs):
        """Per float point of ``xs`` (one per row): the largest over the disjuncts of its smallest row
        margin ``u . y + v`` at the float output ``y`` (``>= 0``: float-unsafe; ``inf`` for an empty
        disjunct), and ``max |y_i|``."""
        import numpy as np

        if self._floats is None:
            from .prover import float_rows

            self._floats = (self.network.float_layers(), float_rows(self.prop.unsafe, self.prop.output_dim))
        layers, rows = self._floats
        v = np.atleast_2d(np.asarray(xs, dtype=float))
        for w, b in layers[:-1]:
            v = np.maximum(v @ w.T + b, 0.0)
        y = v @ layers[-1][0].T + layers[-1][1]
        best = np.full(len(y), -np.inf)
        for U, V in rows:
            best = np.maximum(best, (y @ U.T + V).min(axis=1, initial=np.inf))
        return best, np.abs(y).max(axis=1, initial=0.0)

    def near(self, xs) -> "list[bool]":
        """Per float point of ``xs`` (one per row), whether some disjunct's every row is ``>= -TOLERANCE
        (1 + |y|)`` at the float output ``y``."""
        return list(self.within(*self.margins(xs)))

    @classmethod
    def within(cls, best, size):
        """Given :meth:`margins`, whether each point's best margin is ``>= -TOLERANCE (1 + |y|)``."""
        return best >= -cls.TOLERANCE * (1.0 + size)

    def __call__(self, x: Sequence[Fraction]) -> Optional[Counterexample]:
        if not self.near([[float(v) for v in x]])[0]:
            return None
        return self.exact(x)

    def exact(self, x: Sequence[Fraction]) -> Optional[Counterexample]:
        """:func:`confirm` without the gate (for points an exact computation says are unsafe)."""
        return confirm(self.network, self.prop, x, self.found_by)


def simplest(network: ReluNetwork, prop: "Property", found: Counterexample) -> Counterexample:
    """A counterexample with small denominators near ``found`` (``limit_denominator(10^k)`` for
    growing ``k``, each confirmed exactly after the float gate of :class:`Confirm`), else ``found`` itself."""
    gate = Confirm(network, prop, found.found_by)
    for k in range(13):
        shorter = gate(tuple(v.limit_denominator(10 ** k) for v in found.x))
        if shorter is not None:
            return shorter
    return found


# ----------------------------------------------------------------------------- the float attack
def _box_candidates(layers, rows, domain, rng, samples: int, restarts: int, steps: int,
                    deadline: Optional[float] = None) -> list[tuple[Fraction, ...]]:
    """One round of the box attack: per disjunct, the ``restarts`` best of ``samples`` uniform points
    and the centre, and the ``restarts`` best corners of the box (up to ``CORNER_DIM`` inputs), each
    climbed by projected sign-gradient steps on the worst row margin (fewer steps once the
    ``deadline`` has passed); the starts and the points reached, clamped into the box exactly."""
    import numpy as np

    from .prover import climb, float_margins

    lo = np.array([float(a) for a in domain.lower])
    hi = np.array([float(a) for a in domain.upper])
    groups = [np.vstack([lo + (hi - lo) * rng.random((samples, len(lo))), (lo + hi) / 2])]
    if len(lo) <= CORNER_DIM:
        groups.append(np.array(list(itertools.product(*zip(lo, hi)))))
    candidates = []
    for U, V in rows:
        for xs in groups:
            margins, _ = float_margins(layers, xs, U, V)
            start = xs[np.argsort(-margins)[:restarts]]
            for p in np.vstack([climb(layers, start, U, V, lo, hi, steps, deadline), start]):
                candidates.append(tuple(min(max(Fraction(float(c)), a), b)
                                        for c, a, b in zip(p, domain.lower, domain.upper)))
    return candidates


def attack(network: ReluNetwork, prop: "Property", *, samples: int = 512, restarts: int = 8, steps: int = 40,
           seed: int = 0, deadline: Optional[float] = None,
           extended: Optional[float] = None) -> tuple[Optional[Counterexample], int]:
    """Float-guided search for a counterexample; every proposal is confirmed exactly.

    Returns the first confirmed counterexample (or ``None``) and the number of points tried: each
    is evaluated in floats, and exactly when the float gate of :class:`Confirm` finds it near a
    disjunct (best float margin first; once the deadline has passed, only a round's best).
    Boxes get rounds of sampling and projected sign-gradient ascent of the worst row margin
    (:func:`_box_candidates`): one round without a ``deadline``, else rounds with fresh seeds, each
    four times larger than the last, until the deadline; other input sets get their exact points
    (a point from the LP and, when bounded, exact convex combinations of their vertices).
    The budget adapts to the best float margin ``m`` seen, relative to the largest ``|y_i|`` seen:
    after two rounds with ``m < -FAR`` the attack stops (the proof search is the better bet), and
    while ``m > -NEAR`` it may go on to the later deadline ``extended``."""
    import numpy as np

    from .prover import float_rows

    layers = network.float_layers()
    rows = float_rows(prop.unsafe, prop.output_dim)
    gate = Confirm(network, prop, "attack")
    tried = 0
    rounds = 0
    best, size = -float("inf"), 0.0
    while True:
        rng = np.random.default_rng(seed + rounds)
        scale = min(4 ** rounds, 64)
        for s, domain in enumerate(prop.input_sets):
            candidates: list[tuple[Fraction, ...]] = []
            if domain.kind == "box":
                candidates = _box_candidates(layers, rows, domain, rng, samples * scale, restarts * scale, steps,
                                             deadline)
            elif rounds == 0:
                decision = lp.decide(domain.rows(), network.input_dim)
                if not decision.nonempty:
                    continue
                candidates.append(decision.point)
                try:
                    corners = lp.vertices(domain.rows()) if network.input_dim <= 8 else []
                except DomainError:
                    corners = []
                candidates += corners
                for _ in range(samples // 16 if corners else 0):
                    weights = [Fraction(float(w)) for w in rng.random(len(corners))]
                    total = sum(weights, ZERO)
                    if total:
                        candidates.append(tuple(sum((w * c[t] for w, c in zip(weights, corners)), ZERO) / total
                                                for t in range(network.input_dim)))
            if not candidates:
                continue
            margins, sizes = gate.margins([[float(v) for v in x] for x in candidates])
            best, size = max(best, float(margins.max())), max(size, float(sizes.max()))
            tried += len(candidates)
            close = Confirm.within(margins, sizes)
            near = [k for k in np.argsort(-margins) if close[k]]
            for rank, k in enumerate(near):  # the best first; past the deadline, only the best
                if rank and deadline is not None and time.perf_counter() > deadline:
                    break
                found = confirm(network, prop, candidates[k], "attack")
                if found is not None:
                    return simplest(network, prop, found), tried
        rounds += 1
        if deadline is None or all(d.kind != "box" for d in prop.input_sets):
            return None, tried
        relative = best / size if size > 0 else best
        if rounds >= 2 and relative < -FAR:
            return None, tried
        if time.perf_counter() > deadline:
            if extended is None or relative <= -NEAR:
                return None, tried
            deadline, extended = extended, None


# ----------------------------------------------------------------------------- the prover
def verify_property(
    network: ReluNetwork,
    prop: "Property",
    *,
    timeout: Optional[float] = None,
    max_regions: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
    attack_first: bool = True,
    early: bool = False,
    enumerator: Optional[Callable] = None,
    prover: Optional[Callable] = None,
) -> Verdict:
    """Decide ``prop`` for ``network`` exactly (see module docstring).

    ``timeout`` (seconds) and ``max_regions`` (regions over all input sets) bound the work; when
    either runs out the verdict is ``unknown`` with the regions and nodes counted so far.
    ``progress(regions, nodes, lps)`` is called now and then during the enumerations.  With
    ``early``, every box input set is decided by the early-closing prover
    (:func:`exactrelu.prover.prove_box`: subproblems closed by an exact relaxation, box
    bisections and neuron splits) instead of the region enumeration; an ``unknown`` then counts
    the subproblems left open (``Verdict.open``).  ``enumerator`` replaces
    :func:`~exactrelu.regions.enumerate_regions` (same arguments and result), e.g. by
    :func:`exactrelu.parallel.enumerate_parallel` on a cluster, and ``prover`` replaces
    :func:`~exactrelu.prover.prove_box` (e.g. by :func:`exactrelu.prover.prove_parallel`)."""
    from .regions import enumerate_regions

    enumerator = enumerator or enumerate_regions

    started = time.perf_counter()
    if prop.input_dim != network.input_dim or prop.output_dim != network.output_dim:
        raise DomainError(f"the property has {prop.input_dim} inputs and {prop.output_dim} outputs, "
                          f"the network {network.input_dim} and {network.output_dim}")
    deadline = None if timeout is None else started + timeout
    verdict = Verdict(UNKNOWN, network, prop)

    def finish(status: str, reason: str = "") -> Verdict:
        verdict.status, verdict.reason = status, reason
        verdict.seconds = time.perf_counter() - started
        return verdict

    if attack_first:
        budget = None if timeout is None else started + timeout / 10
        longer = None if timeout is None else started + timeout / 4
        found, verdict.attack_points = attack(network, prop, deadline=budget, extended=longer)
        if found is not None:
            verdict.counterexample = found
            return finish(VIOLATED)
    n = network.input_dim
    seen = [0, 0, 0]  # regions, nodes, lps of the enumeration under way

    def watch(regions: int, nodes: int, lps: int) -> None:
        seen[:] = [regions, nodes, lps]
        if progress is not None:
            progress(verdict.regions + regions, verdict.nodes + nodes, verdict.lps + lps)
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime

    for s, domain in enumerate(prop.input_sets):
        rows = domain.rows()
        decision = lp.decide(rows, n)
        if not decision.nonempty:
            verdict.cases.append(Case(None, empty=decision.multipliers))
            continue
        if early and domain.kind == "box":
            from .prover import prove_box

            outcome = (prover or prove_box)(network, domain.lower, domain.upper, prop.unsafe,
                                            Confirm(network, prop, "prover"), deadline)
            verdict.nodes += outcome.nodes
            verdict.lps += outcome.lps
            verdict.closed += outcome.closed
            if outcome.counterexample is not None:
                verdict.counterexample = simplest(network, prop, outcome.counterexample)
                verdict.cases = []
                return finish(VIOLATED)
            if outcome.tree is None:
                verdict.open = outcome.open
                return finish(UNKNOWN, f"time limit of {timeout} s reached with {outcome.open} subproblems of input "
                                       f"set {s} open ({outcome.closed} closed)")
            verdict.cases.append(Case(None, early=outcome.tree))
            continue
        left = None if max_regions is None else max_regions - verdict.regions
        try:
            enumeration = enumerator(network, domain, max_regions=left, progress=watch)
        except (IncompleteError, _OutOfTime) as exc:  # counts: the last progress report, at least
            over = isinstance(exc, IncompleteError)
            verdict.regions += max(seen[0], left + 1 if over else 0)
            verdict.nodes += seen[1]
            verdict.lps += seen[2]
            if over:
                return finish(UNKNOWN, f"region budget of {max_regions} exceeded while enumerating input set {s}")
            return finish(UNKNOWN, f"time limit of {timeout} s reached while enumerating input set {s}")
        verdict.regions += len(enumeration.regions)
        verdict.nodes += enumeration.nodes
        verdict.lps += enumeration.lps
        case = Case(enumeration)
        verdict.cases.append(case)
        for region in enumeration.regions:
            base = region_rows(domain, region)
            proofs = []
            for d, conj in enumerate(prop.unsafe):
                if deadline is not None and time.perf_counter() > deadline:
                    return finish(UNKNOWN, f"time limit of {timeout} s reached while deciding the regions of "
                                           f"input set {s}")
                verdict.lps += 1
                result = lp.decide(base + [pull_back(row, region.alpha, region.beta) for row in conj], n)
                if result.nonempty:
                    found = confirm(network, prop, result.point, "regions")
                    if found is None:
                        raise InternalError("a point of a region and an unsafe set is not a counterexample")
                    verdict.counterexample = found
                    verdict.cases = []
                    return finish(VIOLATED)
                proofs.append(result.multipliers)
            case.refutations.append(proofs)
    return finish(HOLDS)


# ----------------------------------------------------------------------------- the certificate
def _header(verdict: Verdict, property_file_sha256: Optional[str]) -> dict:
    from .certificate import producer_versions

    return {
        "format": PROPERTY_FORMAT,
        "version": PROPERTY_VERSION,
        "producer": producer_versions(),
        "network": verdict.network.to_dict(),
        "network_sha256": verdict.network.sha256(),
        "property": verdict.property.to_dict(),
        "property_sha256": verdict.property.sha256(),
        "property_file_sha256": property_file_sha256,
        "verdict": verdict.status,
        "order": "layer-major",
    }


def stream_property_certificate(out, verdict: Verdict, property_file_sha256: Optional[str] = None) -> None:
    """Write the ``exactrelu-property`` certificate of a ``holds`` or ``violated`` verdict to the text
    stream ``out`` (docs/certificate-format.md).  ``property_file_sha256`` is the SHA-256 of the
    VNN-LIB file's bytes."""
    from .certificate import json_rational, leaf_json, stream_certificate
    from .network import canonical_dumps
    from .rationals import format_rational
    from .regions import Empty

    header = _header(verdict, property_file_sha256)
    if verdict.status == VIOLATED:
        c = verdict.counterexample
        header["counterexample"] = {"input_set": c.input_set, "disjunct": c.disjunct,
                                    "x": [format_rational(v) for v in c.x], "y": [format_rational(v) for v in c.y]}
        out.write(canonical_dumps(header) + "\n")
        return
    if verdict.status != HOLDS:
        raise InternalError(f"no certificate for a verdict {verdict.status!r}")

    def leaves():
        for case in verdict.cases:
            if case.enumeration is None:
                continue
            for region, proofs in zip(case.enumeration.regions, case.refutations):
                unsafe = ",".join("[%s]" % ",".join("[%d,%s]" % (m, json_rational(lam)) for m, lam in p.items())
                                  for p in proofs)
                yield leaf_json(region, ',"unsafe":[%s]' % unsafe)

    trees, offset = [], 0
    for case in verdict.cases:
        if case.early is not None:
            trees.append(case.early)
        elif case.enumeration is None:
            trees.append(Empty(case.empty))
        else:
            trees.append(_shifted(case.enumeration.tree, offset))
            offset += len(case.enumeration.regions)
    stream_certificate(out, header, leaves(), trees)


def write_property_certificate(path: str | Path, verdict: Verdict, property_file_sha256: Optional[str] = None) -> int:
    """:func:`stream_property_certificate` to ``path`` (through :mod:`exactrelu.io.output`, so it
    appears only complete); return its size in bytes."""
    from .io.output import write_with

    return write_with(path, lambda out: stream_property_certificate(out, verdict, property_file_sha256))


def _shifted(tree, offset: int):
    """The tree with every leaf index moved by ``offset`` (leaves of all input sets form one list)."""
    from .regions import Leaf, Split

    if offset == 0:
        return tree
    stack, built = [(tree, False)], []
    while stack:  # post-order without recursion: trees are as deep as there are neurons
        node, done = stack.pop()
        if isinstance(node, Split):
            if done:
                inactive, active = built.pop(), built.pop()
                built.append(Split(node.neuron, active, inactive))
            else:
                stack += [(node, True), (node.inactive, False), (node.active, False)]
        else:
            built.append(Leaf(node.index + offset) if isinstance(node, Leaf) else node)
    return built.pop()
