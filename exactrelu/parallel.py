"""The case-split tree enumerated on a Dask cluster, merged into the serial run's result.

The producer expands the top of the tree itself (:func:`expand_frontier`: the pending node with
the largest cheap size estimate is expanded one level at a time until there are enough pending
nodes for the workers), sends each pending node (its partial pattern and its cell or witness, a
:class:`~exactrelu.regions.Pending`) to a worker, which resumes the engine there
(:func:`~exactrelu.regions.enumerate_subtree`) with a node budget; a subtree larger than the budget
comes back partial, its pending nodes are sent out again (the further splitting of large subtrees;
Dask's work stealing balances the queue).  A part travels as integers (:func:`encode`: exact
rationals as numerators over common denominators, shared objects once), not as pickled
``Fraction`` objects.  :func:`merge` walks the tree in its order (active side before inactive),
decodes each returned part in its pending node's place and renumbers the leaves.

Invariant: the merged :class:`~exactrelu.regions.Enumeration` has the serial run's tree and regions
exactly (same order, same witnesses, same multipliers), because a resumed node's subtree is the
serial subtree there and the serial regions are the leaves in tree order; so a certificate written
from it is byte-identical (:func:`encode` loses nothing: every rational is its numerator over a
multiple of its denominator).  Parts are released from the cluster as they arrive; the merging
side holds a part, encoded, only until the walk reaches it and its decoded integers only until its
walk ends, and hands out each region as soon as it is in order.  With a sink (the version-3
writer of ``shallow --stream``) the merge hands it the tree node by node in the serial preorder
and keeps neither tree nor regions.

Dask (the ``dask`` extra) is imported only by :func:`dask_client` and :func:`enumerate_parallel`.
Without a cluster the same frontier and merge run in one process:

>>> from exactrelu.network import ReluNetwork
>>> from exactrelu.domain import Domain
>>> from exactrelu.regions import enumerate_regions, enumerate_subtree, root_node
>>> net = ReluNetwork.from_lists([([[1, 0], [0, 1], [1, 1]], [0, 0, -1]), ([[1, -1, 1]], [0])])
>>> box = Domain.box([-1, -1], [1, 1])
>>> parts, pending = expand_frontier(net, box, root_node(net, box), size=3)
>>> len(pending) >= 3
True
>>> for node in pending:
...     parts[node.path] = part_of(enumerate_subtree(net, box, node), node.depth)
>>> merged, serial = merge(net, box, parts.pop), enumerate_regions(net, box)
>>> merged.tree == serial.tree and merged.regions == serial.regions
True
"""

from __future__ import annotations

import gc
import math
import pickle
import sys
import time
import uuid
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator, Optional, Sequence

from .domain import Domain
from .errors import IncompleteError, InputError, InternalError
from .network import ReluNetwork
from .regions import (Child, Empty, Enumeration, Leaf, Pending, ProgressFn, Region, Sink, Split, enumerate_subtree,
                      neuron_order, root_node)

COUNTS = ("nodes", "lps", "empty_children", "decisions", "lp_decisions", "vertex_proofs", "box_proofs")
Path = tuple[bool, ...]
LEAF, SPLIT, EMPTY, PENDING = range(4)  # the tags of the wire form (encode)
ZERO = Fraction(0)


@dataclass(frozen=True)
class Part:
    """A (possibly partial) subtree as it travels from a worker: ``code``, its tree and regions as
    integers (:func:`encode`), decoded once, by :func:`merge`; its pending nodes in tree order; the
    number of its regions; the engine's counters (:data:`COUNTS`) and the seconds it took."""

    code: bytes
    pending: list[Pending]
    regions: int
    counts: tuple[int, ...]
    seconds: float


def part_of(e: Enumeration, depth: int) -> Part:
    """The part of a subtree result ``e`` whose root is at ``depth`` (the depth of its pending node)."""
    code, pending = encode(e.network, e.tree, e.regions, depth)
    return Part(code, pending, len(e.regions), tuple(getattr(e, name) for name in COUNTS), e.seconds)


# ----------------------------------------------------------------------------- the wire form
def _numerators(out: list[int], values: Sequence[Fraction]) -> None:
    """Append ``values`` as their common denominator ``D`` and the numerators over ``D``."""
    den = math.lcm(*(v.denominator for v in values))
    out.append(den)
    out.extend(v.numerator * (den // v.denominator) for v in values)


def encode(network: ReluNetwork, tree: object, regions: Sequence[Region], depth: int = 0) -> tuple[bytes, list[Pending]]:
    """A subtree rooted at ``depth`` as integers (pickled, protocol 5) and its pending nodes in tree order.

    Preorder, active side first; a split is its tag (its neuron is the split order's at its depth);
    a leaf is its tag and its region: the pattern bits and full-dimensionality as one integer, per
    hidden layer its pre-activation maps (an integer matrix ``(w | b)`` over one denominator, sent
    once per part and then named by its index: the regions of one layer cell share them), the
    witness and the output map ``(alpha | beta)`` as numerators over one denominator; an empty child
    is its multipliers' ``(row, numerator, denominator)`` (a proof shared by sub-cells is sent once,
    then named by its index); a pending node is its tag (the node itself travels as an object).

    >>> from exactrelu.network import ReluNetwork
    >>> net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])   # |x|
    >>> e = enumerate_subtree(net, Domain.box([-1], [1]), root_node(net, Domain.box([-1], [1])))
    >>> code = pickle.loads(encode(net, e.tree, e.regions)[0])
    >>> code[:5], code[5:11]    # split, split, empty (rows 2 and 3, each times 1/1); leaf ...
    ([1, 1, 2, -3, 2], [1, 1, 3, 1, 1, 0])
    >>> code[11:18]             # ... pattern 10 and full (0b101); layer 0, new: over 1, (1 | 0), (-1 | 0)
    [5, -1, 1, 1, 0, -1, 0]
    >>> code[18:23]             # ... the witness over 2: (1,), so x = 1/2; alpha | beta over 1: (1 | 0)
    [2, 1, 1, 1, 0]
    """
    order, widths = neuron_order(network), network.hidden_widths
    out: list[int] = []
    pending: list[Pending] = []
    blocks: dict[tuple[int, ...], int] = {}
    proofs: dict[int, int] = {}
    stack = [(tree, depth)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, Split):
            if item.neuron != order[d]:
                raise InternalError(f"a split at depth {d} is on neuron {item.neuron}, not {order[d]}")
            out.append(SPLIT)
            stack += ((item.inactive, d + 1), (item.active, d + 1))
        elif isinstance(item, Leaf):
            region = regions[item.index]
            bits = 0
            for bit in region.flat_pattern:
                bits = bits << 1 | bit
            out += (LEAF, bits << 1 | region.full_dimensional)
            start = 0
            for width in widths:
                block = region.preactivations[start:start + width]
                start += width
                key = tuple(map(id, block))
                ref = blocks.get(key)
                if ref is None:
                    blocks[key] = len(blocks)
                    out.append(-1)
                    _numerators(out, [c for w, b in block for c in (*w, b)])
                else:
                    out.append(ref)
            _numerators(out, region.witness)
            _numerators(out, [c for row, b in zip(region.alpha, region.beta) for c in (*row, b)])
        elif isinstance(item, Empty):
            out.append(EMPTY)
            ref = proofs.get(id(item))
            if ref is None:
                proofs[id(item)] = len(proofs)
                out.append(-1 - len(item.multipliers))
                for row, y in item.multipliers.items():
                    out += (row, y.numerator, y.denominator)
            else:
                out.append(ref)
        elif isinstance(item, Pending):
            out.append(PENDING)
            pending.append(item)
        else:
            raise InternalError(f"not a node of a case-split tree: {type(item).__name__}")
    return pickle.dumps(out, protocol=5), pending


class _Decoder:
    """Reads one part's integers back (the inverse of :func:`encode`), region by region."""

    __slots__ = ("code", "at", "pending", "blocks", "proofs", "network")

    def __init__(self, network: ReluNetwork, part: Part, totals: list[int]) -> None:
        """The decoder of ``part``, whose counters are added to ``totals``."""
        self.code, self.at, self.pending, self.network = pickle.loads(part.code), 0, iter(part.pending), network
        for k, c in enumerate(part.counts):
            totals[k] += c
        self.blocks: list[tuple] = []
        self.proofs: list[Empty] = []

    def take(self, count: int) -> list[int]:
        """The next ``count + 1`` integers: a denominator and ``count`` numerators over it."""
        at = self.at
        self.at = at + count + 1
        return self.code[at:at + count + 1]

    def affine(self, rows: int, cols: int) -> list[tuple[tuple[Fraction, ...], Fraction]]:
        """``rows`` affine maps ``(w, b)`` with ``cols - 1`` inputs, from a denominator and numerators."""
        den, *nums = self.take(rows * cols)
        values = [Fraction(c, den) if c else ZERO for c in nums]
        return [(tuple(values[k:k + cols - 1]), values[k + cols - 1]) for k in range(0, len(values), cols)]

    def region(self, spans: Sequence[tuple[int, int]], fmt: str) -> Region:
        code, n = self.code, self.network.input_dim
        head = code[self.at]
        self.at += 1
        flat = [c == "1" for c in format(head >> 1, fmt)]
        preactivations = []
        for a, b in spans:
            ref = code[self.at]
            self.at += 1
            if ref < 0:  # sent here for the first time
                block = tuple(self.affine(b - a, n + 1))
                self.blocks.append(block)
            else:
                block = self.blocks[ref]
            preactivations += block
        den, *nums = self.take(n)
        witness = tuple(Fraction(c, den) if c else ZERO for c in nums)
        final = self.affine(self.network.output_dim, n + 1)
        return Region(pattern=tuple(tuple(flat[a:b]) for a, b in spans), preactivations=tuple(preactivations),
                      witness=witness, alpha=tuple(w for w, _ in final), beta=tuple(b for _, b in final),
                      full_dimensional=bool(head & 1))

    def empty(self) -> Empty:
        code, at = self.code, self.at
        ref = code[at]
        if ref >= 0:
            self.at = at + 1
            return self.proofs[ref]
        end = at + 1 + 3 * (-1 - ref)
        self.at = end
        proof = Empty({code[k]: Fraction(code[k + 1], code[k + 2]) for k in range(at + 1, end, 3)})
        self.proofs.append(proof)
        return proof


def estimate(node: Pending, neurons: int) -> int:
    """A cheap size estimate of the subtree below ``node``: the neurons left to decide, times the
    number of vertices of its cell (vertex search)."""
    return (neurons - node.depth) * (len(node.cell) if node.cell is not None else 1)


def tree_order(node: Pending) -> tuple[int, ...]:
    """Sort key: pending nodes (never prefixes of one another) in tree order, active side first."""
    return tuple(0 if side else 1 for side in node.path)


def expand_frontier(network: ReluNetwork, domain: Domain, root: Pending, size: int) -> tuple[dict[Path, Part], list[Pending]]:
    """Expand the tree from ``root`` in this process, one level of the largest pending node (by
    :func:`estimate`) at a time, until ``size`` nodes are pending or none is left; the expanded parts
    (by path) and the pending nodes in tree order."""
    neurons = len(neuron_order(network))
    parts: dict[Path, Part] = {}
    frontier = [root]
    while frontier and len(frontier) < size:
        node = frontier.pop(max(range(len(frontier)), key=lambda k: estimate(frontier[k], neurons)))
        parts[node.path] = part = part_of(enumerate_subtree(network, domain, node, max_depth=node.depth + 1), node.depth)
        frontier += part.pending
    return parts, sorted(frontier, key=tree_order)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused (reference counting still frees everything): the merge
    builds only acyclic objects that all stay alive, and the collector's repeated passes over the
    growing result cost more than the decoding itself (4-[8,8,8]-2, in a process holding a large
    heap: 10 ms a part with the collector running, 6 ms with it paused, its one pass on resuming
    included)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def merge(network: ReluNetwork, domain: Domain, fetch: Callable[[Path], Part],
          on_region: Optional[Callable[[Region], None]] = None, sink: Optional[Sink] = None) -> Enumeration:
    """The whole tree from its parts: ``fetch(path)`` gives the part below the pending node at
    ``path`` (the root's path is ``()``), waiting for it if need be; each part is decoded once, as the
    walk reaches it, and dropped when its walk ends; regions are numbered in tree order and handed
    to ``on_region`` as soon as they are in order.  With a ``sink`` (:class:`~exactrelu.regions.Sink`)
    the tree is handed to it node by node in preorder, exactly as the serial search hands it over,
    and nothing of it is kept (as :func:`~exactrelu.regions.enumerate_regions` with a sink: ``tree``
    ``None``, ``regions`` empty, ``streamed`` counts them)."""
    result = Enumeration(network, domain, [], Leaf(0))
    totals = [0] * len(COUNTS)
    order = neuron_order(network)
    spans = []
    for width in network.hidden_widths:
        start = spans[-1][1] if spans else 0
        spans.append((start, start + width))
    fmt = f"0{len(order)}b"

    def below(path: Path) -> Child:
        reader = _Decoder(network, fetch(path), totals)  # the part itself is not kept
        return walk(reader, len(path))

    def walk(reader: _Decoder, depth: int) -> Child:
        tag = reader.code[reader.at]
        reader.at += 1
        if tag == SPLIT:
            if sink is not None:
                sink.split(order[depth])
            active = walk(reader, depth + 1)
            inactive = walk(reader, depth + 1)
            return Split(order[depth], active, inactive) if sink is None else None
        if tag == LEAF:
            region = reader.region(spans, fmt)
            if sink is None:
                result.regions.append(region)
                found = len(result.regions)
            else:
                sink.leaf(result.streamed, region)
                result.streamed += 1
                found = result.streamed
            if on_region is not None:
                on_region(region)
            return Leaf(found - 1)
        if tag == EMPTY:
            child = reader.empty()
            if sink is not None:
                sink.empty(child)
            return child
        return below(next(reader.pending).path)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 8 * len(order) + 1000))
    try:
        # the collector is paused only while the result grows (with a sink nothing is kept)
        with _collector_paused() if sink is None else nullcontext():
            tree = below(())
        result.tree = tree if sink is None else None
    finally:
        sys.setrecursionlimit(limit)
    for name, value in zip(COUNTS, totals):
        setattr(result, name, value)
    return result


# ----------------------------------------------------------------------------- Dask
def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("--workers/--scheduler need Dask: pip install 'exactrelu[dask]' "
                         "(dask[distributed])") from None
    return distributed


@contextmanager
def dask_client(workers: Optional[int] = None, scheduler: Optional[str] = None, timeout: float = 5.0) -> Iterator:
    """A Dask client: of a new local cluster of ``workers`` processes (one thread each), or of the
    running scheduler at ``scheduler``; closed (with the local cluster) on leaving, also on Ctrl-C.
    A scheduler that cannot be reached within ``timeout`` seconds, or has no worker, is an
    :class:`InputError`."""
    distributed = _distributed()
    cluster = None
    if scheduler is not None:
        try:
            distributed.comm.get_address_host_port(scheduler)
        except ValueError as exc:  # refused before any connection is tried
            raise InputError(f"--scheduler {scheduler}: not a scheduler address such as tcp://host:8786 ({exc})") from None
        try:
            client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot reach a Dask scheduler within {timeout:g} s "
                             f"({type(exc).__name__}: {exc})") from None
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            client.close()
            raise InputError(f"--scheduler {scheduler}: the scheduler has no worker ({exc})") from None
    else:
        cluster, client = _local_cluster(distributed, workers or 1)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


WORKER_PROCESS = "Dask Worker process (from Nanny)"  # the name a nanny gives its worker process


def _local_cluster(distributed, workers: int) -> tuple:
    """A ``LocalCluster`` of ``workers`` processes, its workers started, and a client of it.  The
    scheduler starts first (it runs in this process, in a fraction of a second), then the workers;
    interrupted meanwhile (Ctrl-C), the worker processes started so far are killed and the cluster
    is closed (in a tenth of a second): a graceful close waits until every worker has started
    (seconds), and an interrupt left to Dask's exit handler printed a traceback.  The client is
    made only then: a close after an interrupted client start is cancelled and leaves the exit
    handler waiting."""
    import logging
    import multiprocessing

    before = set(multiprocessing.active_children())
    # dashboard_address ":0": a free port (None would still take 8787 and warn when it is in use)
    cluster = distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       silence_logs=logging.CRITICAL)
    try:
        cluster.scale(workers)
        cluster.wait_for_workers(workers)
        client = distributed.Client(cluster, set_as_default=False)
    except BaseException:
        for process in set(multiprocessing.active_children()) - before:
            if process.name == WORKER_PROCESS:
                process.kill()
        with suppress(Exception):  # the interrupt goes on
            cluster.close(timeout=5)
        raise
    return cluster, client


def _explore(context: tuple[ReluNetwork, Domain], node: Pending, max_nodes: int, max_regions: Optional[int]) -> Part:
    """A worker's task: the subtree below ``node``, left partial after ``max_nodes`` nodes."""
    network, domain = context
    return part_of(enumerate_subtree(network, domain, node, max_nodes=max_nodes, max_regions=max_regions), node.depth)


def enumerate_parallel(
    network: ReluNetwork,
    domain: Optional[Domain],
    client,
    *,
    method: str = "auto",
    max_regions: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
    frontier: Optional[int] = None,
    split_nodes: int = 2000,
    retries: int = 3,
    on_region: Optional[Callable[[Region], None]] = None,
    sink: Optional[Sink] = None,
    stats: Optional[dict] = None,
) -> Enumeration:
    """:func:`~exactrelu.regions.enumerate_regions` on the Dask cluster of ``client``, with the same
    result (module docstring).  ``frontier`` pending nodes (default 8 per worker) are sent first; a
    worker leaves a subtree partial after ``split_nodes`` nodes; a task that fails is retried
    ``retries`` times (a task on a worker that dies is recomputed by the scheduler).  ``stats``, if
    given, receives the frontier size, the number of nodes expanded here and the seconds that took,
    the number of tasks and their seconds, and the CPU seconds of this thread (expansion, submission
    and merge; Dask's client and a local scheduler run in other threads).  With a ``sink`` the merged
    tree goes to it node by node in preorder, as in the serial run, and is not kept (:func:`merge`)."""
    distributed = _distributed()
    started, thread_started = time.perf_counter(), time.thread_time()
    domain = domain or Domain.reals(network.input_dim)
    workers = max(1, len(client.scheduler_info()["workers"]))
    parts, first = expand_frontier(network, domain, root_node(network, domain, method), frontier or 8 * workers)
    expanded = time.perf_counter() - started
    run = uuid.uuid4().hex[:12]
    context = client.scatter([(network, domain)], broadcast=True, hash=False)[0]  # a key of its own: a
    # cancelled earlier run of the same network must not take this run's data with it
    waiting = distributed.as_completed(loop=client.loop)
    live: dict[str, tuple[object, Path]] = {}  # key -> (future, path)
    found = [sum(p.regions for p in parts.values()), sum(p.counts[0] for p in parts.values()),
             sum(p.counts[1] for p in parts.values())]
    task_seconds: list[float] = []
    if max_regions is not None and found[0] > max_regions:
        raise IncompleteError(f"stopped at the budget of {max_regions} regions: the enumeration is incomplete")

    def submit(node: Pending) -> None:
        key = f"exactrelu-{run}-" + "".join("1" if side else "0" for side in node.path)
        future = client.submit(_explore, context, node, split_nodes, max_regions, key=key, retries=retries, pure=False)
        live[future.key] = (future, node.path)
        waiting.add(future)

    def absorb(future) -> None:
        """A finished task's part, kept until the merge reaches it; its pending nodes go out."""
        part = future.result()
        parts[live.pop(future.key)[1]] = part
        future.release()
        task_seconds.append(part.seconds)
        found[0] += part.regions
        found[1] += part.counts[0]
        found[2] += part.counts[1]
        if max_regions is not None and found[0] > max_regions:
            raise IncompleteError(f"stopped at the budget of {max_regions} regions: the enumeration is incomplete")
        if progress is not None:
            progress(*found)
        for node in part.pending:
            submit(node)

    def fetch(path: Path) -> Part:
        while path not in parts:
            absorb(next(waiting))
        while waiting.has_ready():  # every part already done, so that its pending nodes go out before
            absorb(next(waiting))   # this part is decoded (the workers would wait for them meanwhile)
        return parts.pop(path)

    try:
        for node in first:
            submit(node)
        result = merge(network, domain, fetch, on_region, sink)
    finally:
        if live:
            client.cancel([future for future, _ in live.values()])
        context.release()
    result.seconds = time.perf_counter() - started
    if stats is not None:
        stats.update(frontier=len(first), expanded=len(parts), expand_seconds=expanded, tasks=len(task_seconds),
                     task_seconds=task_seconds, workers=workers, thread_cpu=time.thread_time() - thread_started)
    return result
