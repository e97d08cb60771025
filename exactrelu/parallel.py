"""The case-split tree enumerated on a Dask cluster, merged into the serial run's result.

The producer expands the top of the tree itself (:func:`expand_frontier`: the pending node with
the largest cheap size estimate is expanded one level at a time until there are enough pending
nodes for the workers), sends each pending node (its partial pattern and its cell or witness, a
:class:`~exactrelu.regions.Pending`) to a worker, which resumes the engine there
(:func:`~exactrelu.regions.enumerate_subtree`) with a node budget; a subtree larger than the budget
comes back partial, its pending nodes are sent out again (the further splitting of large subtrees;
Dask's work stealing balances the queue).  :func:`merge` walks the tree in its order (active side
before inactive), puts each returned part in its pending node's place and renumbers the leaves.

Invariant: the merged :class:`~exactrelu.regions.Enumeration` has the serial run's tree and regions
exactly (same order, same witnesses, same multipliers), because a resumed node's subtree is the
serial subtree there and the serial regions are the leaves in tree order; so a certificate written
from it is byte-identical.  Parts are released from the cluster as they arrive; the merging side
holds a part only until the walk reaches it, and hands out each region as soon as it is in order.

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
...     parts[node.path] = part_of(enumerate_subtree(net, box, node))
>>> merged, serial = merge(net, box, parts.pop), enumerate_regions(net, box)
>>> merged.tree == serial.tree and merged.regions == serial.regions
True
"""

from __future__ import annotations

import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from .domain import Domain
from .errors import IncompleteError, InputError
from .network import ReluNetwork
from .regions import (Child, Enumeration, Leaf, Pending, ProgressFn, Region, Split, enumerate_subtree,
                      neuron_order, root_node)

COUNTS = ("nodes", "lps", "empty_children", "decisions", "lp_decisions", "vertex_proofs", "box_proofs")
Path = tuple[bool, ...]


@dataclass(frozen=True)
class Part:
    """A (possibly partial) subtree as a worker returns it: the tree, its regions (leaf indices local),
    the engine's counters (:data:`COUNTS`) and the seconds it took."""

    tree: object  # a Child, or a Pending
    regions: list[Region]
    counts: tuple[int, ...]
    seconds: float


def part_of(e: Enumeration) -> Part:
    return Part(e.tree, e.regions, tuple(getattr(e, name) for name in COUNTS), e.seconds)


def pendings(tree: object) -> list[Pending]:
    """The pending nodes of a partial tree, in tree order."""
    found, stack = [], [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, Pending):
            found.append(item)
        elif isinstance(item, Split):
            stack += [item.inactive, item.active]
    return found


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
        parts[node.path] = part = part_of(enumerate_subtree(network, domain, node, max_depth=node.depth + 1))
        frontier += pendings(part.tree)
    return parts, sorted(frontier, key=tree_order)


def merge(network: ReluNetwork, domain: Domain, fetch: Callable[[Path], Part],
          on_region: Optional[Callable[[Region], None]] = None) -> Enumeration:
    """The whole tree from its parts: ``fetch(path)`` gives the part below the pending node at
    ``path`` (the root's path is ``()``), waiting for it if need be; regions are numbered in tree
    order and handed to ``on_region`` as soon as they are in order."""
    result = Enumeration(network, domain, [], Leaf(0))
    totals = [0] * len(COUNTS)

    def resolve(child: object, part: Part) -> Child:
        if isinstance(child, Pending):
            below = fetch(child.path)
            for k, c in enumerate(below.counts):
                totals[k] += c
            return resolve(below.tree, below)
        if isinstance(child, Leaf):
            region = part.regions[child.index]
            result.regions.append(region)
            if on_region is not None:
                on_region(region)
            return Leaf(len(result.regions) - 1)
        if isinstance(child, Split):
            active = resolve(child.active, part)
            return Split(child.neuron, active, resolve(child.inactive, part))
        return child  # an Empty

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 8 * len(neuron_order(network)) + 1000))
    try:
        result.tree = resolve(Pending(()), Part(None, [], (), 0.0))
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
    import logging

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
        # dashboard_address ":0": a free port (None would still take 8787 and warn when it is in use)
        cluster = distributed.LocalCluster(n_workers=workers or 1, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=logging.CRITICAL)
        client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _explore(context: tuple[ReluNetwork, Domain], node: Pending, max_nodes: int, max_regions: Optional[int]) -> Part:
    """A worker's task: the subtree below ``node``, left partial after ``max_nodes`` nodes."""
    network, domain = context
    return part_of(enumerate_subtree(network, domain, node, max_nodes=max_nodes, max_regions=max_regions))


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
    stats: Optional[dict] = None,
) -> Enumeration:
    """:func:`~exactrelu.regions.enumerate_regions` on the Dask cluster of ``client``, with the same
    result (module docstring).  ``frontier`` pending nodes (default 8 per worker) are sent first; a
    worker leaves a subtree partial after ``split_nodes`` nodes; a task that fails is retried
    ``retries`` times (a task on a worker that dies is recomputed by the scheduler).  ``stats``, if
    given, receives the frontier size, the number of tasks and their seconds."""
    distributed = _distributed()
    started = time.perf_counter()
    domain = domain or Domain.reals(network.input_dim)
    workers = max(1, len(client.scheduler_info()["workers"]))
    parts, first = expand_frontier(network, domain, root_node(network, domain, method), frontier or 8 * workers)
    run = uuid.uuid4().hex[:12]
    context = client.scatter([(network, domain)], broadcast=True, hash=False)[0]  # a key of its own: a
    # cancelled earlier run of the same network must not take this run's data with it
    waiting = distributed.as_completed(loop=client.loop)
    live: dict[str, tuple[object, Path]] = {}  # key -> (future, path)
    found = [sum(len(p.regions) for p in parts.values()), sum(p.counts[0] for p in parts.values()),
             sum(p.counts[1] for p in parts.values())]
    task_seconds: list[float] = []
    if max_regions is not None and found[0] > max_regions:
        raise IncompleteError(f"stopped at the budget of {max_regions} regions: the enumeration is incomplete")

    def submit(node: Pending) -> None:
        key = f"exactrelu-{run}-" + "".join("1" if side else "0" for side in node.path)
        future = client.submit(_explore, context, node, split_nodes, max_regions, key=key, retries=retries, pure=False)
        live[future.key] = (future, node.path)
        waiting.add(future)

    def fetch(path: Path) -> Part:
        while path not in parts:
            future = next(waiting)
            part = future.result()
            parts[live.pop(future.key)[1]] = part
            future.release()
            task_seconds.append(part.seconds)
            found[0] += len(part.regions)
            found[1] += part.counts[0]
            found[2] += part.counts[1]
            if max_regions is not None and found[0] > max_regions:
                raise IncompleteError(f"stopped at the budget of {max_regions} regions: the enumeration is incomplete")
            if progress is not None:
                progress(*found)
            for node in pendings(part.tree):
                submit(node)
        return parts.pop(path)

    try:
        for node in first:
            submit(node)
        result = merge(network, domain, fetch, on_region)
    finally:
        if live:
            client.cancel([future for future, _ in live.values()])
        context.release()
    result.seconds = time.perf_counter() - started
    if stats is not None:
        stats.update(frontier=len(first), tasks=len(task_seconds), task_seconds=task_seconds, workers=workers)
    return result
