"""Which regions of a 2-D picture touch along a segment, decided exactly, and a colouring of them.

Two full-dimensional regions are *adjacent* when their closures share a segment of positive
length.  Their closures are convex polygons with disjoint interiors, so that happens exactly when
an edge of one and an edge of the other lie on the same line and their extents along it overlap
in an interval of positive length.  :func:`adjacent_pairs` decides this with rational arithmetic
only: each edge's line is reduced to a canonical key ``(a, b, c)`` (``a x + b y + c = 0``, first
nonzero of ``a, b`` equal to ``1``), edges are grouped by key, and extents are compared exactly.
Polygons that meet in a single point are not adjacent.

:func:`colouring` colours the graph greedily in smallest-last order (repeatedly set aside a
vertex of least remaining degree, then colour in the reverse order, each vertex with the smallest
colour none of its coloured neighbours has).  Invariant: adjacent vertices get different
colours; a planar graph (such as this one) gets at most 6 colours, since every planar graph has a
vertex of degree at most 5.

>>> from fractions import Fraction as F
>>> square = lambda x, y: [(F(x), F(y)), (F(x + 1), F(y)), (F(x + 1), F(y + 1)), (F(x), F(y + 1))]
>>> polys = [square(0, 0), square(1, 0), square(1, 1), square(5, 5)]   # 0|1 share an edge, 0 and 2 a corner
>>> sorted(adjacent_pairs(polys))
[(0, 1), (1, 2)]
>>> colouring(4, adjacent_pairs(polys))
[0, 1, 0, 0]
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Iterable, Sequence

Point = tuple[Fraction, ...]


def _edge_key(p: Point, q: Point) -> tuple[tuple[Fraction, Fraction, Fraction], tuple[Fraction, Fraction]]:
    """The canonical line of segment ``pq`` and the segment's extent along it."""
    a, b = q[1] - p[1], p[0] - q[0]
    scale = a if a != 0 else b
    a, b = a / scale, b / scale
    c = -(a * p[0] + b * p[1])
    along = 0 if b != 0 else 1  # a non-vertical line is parametrised by x, a vertical one by y
    lo, hi = sorted((p[along], q[along]))
    return (a, b, c), (lo, hi)


def adjacent_pairs(polygons: Sequence[Sequence[Point]]) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of polygons (vertices in order; fewer than 3 vertices: not a
    polygon, never adjacent) whose closures share a segment of positive length."""
    lines: dict = defaultdict(list)
    for i, vertices in enumerate(polygons):
        if len(vertices) < 3:
            continue
        for p, q in zip(vertices, [*vertices[1:], vertices[0]]):
            key, extent = _edge_key(p, q)
            lines[key].append((extent, i))
    pairs: set[tuple[int, int]] = set()
    for edges in lines.values():
        edges.sort()
        for s, ((lo, hi), i) in enumerate(edges):
            for (lo2, hi2), j in edges[s + 1:]:
                if lo2 >= hi:  # sorted by start: no later edge overlaps this one
                    break
                if i != j and min(hi, hi2) > lo2:
                    pairs.add((min(i, j), max(i, j)))
    return pairs


def colouring(count: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Colours ``0, 1, ...`` for vertices ``0..count-1``, different on every pair (module docstring)."""
    neighbours: list[set[int]] = [set() for _ in range(count)]
    for i, j in pairs:
        neighbours[i].add(j)
        neighbours[j].add(i)
    degree = [len(s) for s in neighbours]
    removed = [False] * count
    order: list[int] = []
    for _ in range(count):  # smallest-last: a vertex of least remaining degree, ties by index
        v = min((d, i) for i, d in enumerate(degree) if not removed[i])[1]
        removed[v] = True
        order.append(v)
        for u in neighbours[v]:
            degree[u] -= 1
    colour = [-1] * count
    for v in reversed(order):
        used = {colour[u] for u in neighbours[v]}
        colour[v] = next(c for c in range(count + 1) if c not in used)
    return colour
