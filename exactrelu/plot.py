"""Every activation region of a 2-input network drawn as its exact polygon.

The regions come from :func:`exactrelu.regions.enumerate_regions` over a bounded domain (a box, or
a bounded polytope).  Each region's closure is a convex polygon (full-dimensional regions), a
segment or a point (lower-dimensional ones).  Its vertices are computed **exactly** by
:func:`exactrelu.lp.vertices` (pycddlib's GMP interface) from the H-representation (the domain's
rows and the region's neuron rows, strict rows closed), ordered by angle around their centroid with exact cross products, and
its area is the exact shoelace formula.  Floats appear only at the last step, for drawing.

For more than two inputs, ``--slice x3=0,x4=1/2`` fixes all inputs but two; the fixed values are
substituted exactly into the first layer, giving an exact 2-input network (and the domain is
sliced the same way).  Optional extras: a heat map of the output (floats, drawing only) and the
decision boundary, computed exactly: for several outputs the set where the largest output is
attained twice (``argmax`` ties), for one output its zero set; in each region these are the
segments of the cells ``{l_a >= l_c for all c}`` lying on a line ``l_a = l_c``.

matplotlib (the ``plot`` extra) is imported only inside :func:`plot_regions`, with the Agg backend.

>>> from exactrelu.network import ReluNetwork
>>> from exactrelu.domain import Domain
>>> net = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 1]], [0])])
>>> polys = region_polygons(net, Domain.box(["-1", "-1"], ["1", "1"]))
>>> [str(p.area) for p in polys], sum(p.area for p in polys)
(['1', '1', '1', '1'], Fraction(4, 1))
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence

from .errors import DomainError, InputError, InternalError
from .lp import vertices
from .network import AffineLayer, ReluNetwork
from .rationals import format_rational, parse_rational


DEFAULT_BOX = ("-1", "1")
GRID = 300  # heat map resolution (pixels per side)
Point = tuple[Fraction, ...]


class MissingExtraError(InputError, ImportError):
    """An optional dependency is not installed (an :class:`InputError` for the command line, an
    :class:`ImportError` for callers such as the demo that skip the picture)."""


# ============================================================================ exact geometry
def polygon_vertices(rows) -> list[Point]:
    """Vertices of ``{x : u . x + v >= 0 for every row}`` (strict rows closed), exactly, in
    counter-clockwise order for a polygon; ``[]`` if the set is empty.  Raises
    :class:`DomainError` if the set is unbounded."""
    return order_vertices(vertices(rows))


def order_vertices(vertices: Sequence[Point]) -> list[Point]:
    """Counter-clockwise order around the centroid, decided exactly (half-plane, then cross
    product); a segment's two ends or a single point are returned as they are (sorted)."""
    if len(vertices) <= 2:
        return sorted(vertices)
    cx = sum((v[0] for v in vertices), Fraction(0)) / len(vertices)
    cy = sum((v[1] for v in vertices), Fraction(0)) / len(vertices)

    def half(v: Point) -> int:
        dx, dy = v[0] - cx, v[1] - cy
        return 0 if dy > 0 or (dy == 0 and dx > 0) else 1

    def compare(a: Point, b: Point) -> int:
        ha, hb = half(a), half(b)
        if ha != hb:
            return ha - hb
        cross = (a[0] - cx) * (b[1] - cy) - (a[1] - cy) * (b[0] - cx)
        return -1 if cross > 0 else (1 if cross < 0 else 0)

    return sorted(vertices, key=functools.cmp_to_key(compare))


def polygon_area(vertices: Sequence[Point]) -> Fraction:
    """The exact shoelace area of a polygon given in order (0 for a segment or a point)."""
    if len(vertices) < 3:
        return Fraction(0)
    twice = sum((a[0] * b[1] - b[0] * a[1] for a, b in zip(vertices, [*vertices[1:], vertices[0]])), Fraction(0))
    return abs(twice) / 2


@dataclass(frozen=True)
class RegionPolygon:
    """One region of the enumeration with the exact vertices of its closure."""

    index: int
    region: object  # exactrelu.regions.Region
    vertices: tuple[Point, ...]
    area: Fraction

    @property
    def full_dimensional(self) -> bool:
        return self.region.full_dimensional


def closed_rows(domain, region) -> list:
    return [(u, v, False) for u, v, _ in list(domain.rows()) + region.neuron_rows()]


def region_polygons(net: ReluNetwork, domain, enumeration=None, max_regions: Optional[int] = None) -> list[RegionPolygon]:
    """The exact polygon (or segment, or point) of every region of ``net`` over ``domain``."""
    from .regions import enumerate_regions

    if net.input_dim != 2:
        raise InputError(f"region polygons need a 2-input network, this one has {net.input_dim} inputs")
    e = enumeration or enumerate_regions(net, domain, max_regions=max_regions)
    result = []
    for k, region in enumerate(e.regions):
        vertices = polygon_vertices(closed_rows(e.domain, region))
        result.append(RegionPolygon(k, region, tuple(vertices), polygon_area(vertices)))
    return result


def domain_polygon(domain) -> list[Point]:
    """The exact vertices of a bounded 2-D domain."""
    return polygon_vertices(domain.rows())


def decision_boundary(polygons: Sequence[RegionPolygon], domain) -> list[tuple[Point, Point]]:
    """Exact segments of the decision boundary (module docstring), region by region."""
    segments: list[tuple[Point, Point]] = []
    for poly in polygons:
        if not poly.full_dimensional:
            continue
        alpha, beta = poly.region.alpha, poly.region.beta
        m = len(beta)
        base = closed_rows(domain, poly.region)
        if m == 1:
            cells = [[(alpha[0], beta[0])]]
            lines = [[(alpha[0], beta[0])]]
        else:
            diffs = [[(tuple(p - q for p, q in zip(alpha[a], alpha[c])), beta[a] - beta[c]) for c in range(m) if c != a]
                     for a in range(m)]
            cells, lines = diffs, diffs
        for cell, candidates in zip(cells, lines):
            vertices = polygon_vertices(base + [(u, v, False) for u, v in cell])
            if len(vertices) < 3:
                continue
            live = [(u, v) for u, v in candidates if any(u) or v]  # skip outputs tied everywhere
            for p, q in zip(vertices, [*vertices[1:], vertices[0]]):
                if any(_value(u, v, p) == 0 and _value(u, v, q) == 0 for u, v in live):
                    segments.append((p, q))
    return segments


def _value(u, v, p) -> Fraction:
    return sum((a * b for a, b in zip(u, p)), v)


# ============================================================================ slices
_SLICE = re.compile(r"^\s*x(\d+)\s*=\s*(\S+)\s*$")


def parse_slice(text: str, n: int) -> dict[int, Fraction]:
    """``x3=0,x4=1/2`` -> ``{2: 0, 3: 1/2}`` (0-based); must leave exactly two inputs free."""
    fixed: dict[int, Fraction] = {}
    for part in text.split(","):
        m = _SLICE.match(part)
        if not m:
            raise InputError(f"--slice: {part.strip()!r} is not of the form xK=VALUE (e.g. x3=1/2)")
        k = int(m.group(1))
        if not 1 <= k <= n:
            raise InputError(f"--slice: x{k} is not an input (the network has inputs x1..x{n})")
        if k - 1 in fixed:
            raise InputError(f"--slice: x{k} is fixed twice")
        fixed[k - 1] = parse_rational(m.group(2), f"--slice x{k}")
    free = n - len(fixed)
    if free != 2:
        raise InputError(f"--slice: fixes {len(fixed)} of {n} inputs, leaving {free} free; a plot needs exactly 2 free")
    return fixed


def slice_network(net: ReluNetwork, fixed: dict[int, Fraction]) -> tuple[ReluNetwork, list[int]]:
    """The exact 2-input network ``(x_a, x_b) -> net(x with the fixed values)`` and the free indices."""
    free = [i for i in range(net.input_dim) if i not in fixed]
    first = net.layers[0]
    weight = tuple(tuple(row[i] for i in free) for row in first.weight)
    bias = tuple(b + sum((row[i] * v for i, v in fixed.items()), Fraction(0)) for row, b in zip(first.weight, first.bias))
    return ReluNetwork((AffineLayer(weight, bias), *net.layers[1:]), len(free)), free


def slice_domain(domain, fixed: dict[int, Fraction], free: Sequence[int]):
    """The domain restricted to the slice, as a 2-D domain (an error if the slice misses it)."""
    from .domain import Domain

    if domain.kind == "reals":
        return Domain.reals(len(free))
    if domain.kind == "box":
        for i, v in fixed.items():
            if not domain.lower[i] <= v <= domain.upper[i]:
                raise InputError(f"--slice: x{i + 1}={format_rational(v)} is outside the domain "
                                 f"[{format_rational(domain.lower[i])}, {format_rational(domain.upper[i])}] of x{i + 1}")
        return Domain.box([domain.lower[i] for i in free], [domain.upper[i] for i in free], "sliced box")
    A = [[row[i] for i in free] for row in domain.A]
    b = [bi - sum((row[i] * v for i, v in fixed.items()), Fraction(0)) for row, bi in zip(domain.A, domain.b)]
    sliced = Domain.polytope(A, b, "sliced polytope")
    try:
        sliced.check_nonempty()
    except DomainError:
        raise InputError("--slice: the slice does not meet the domain (the point is outside the domain)") from None
    return sliced


# ============================================================================ drawing
@dataclass
class PlotResult:
    """What was drawn: the exact polygons, counts and areas."""

    path: object  # the path or binary file object the PNG was written to
    polygons: list[RegionPolygon]
    domain_area: Fraction
    boundary_segments: int

    @property
    def full_dimensional(self) -> int:
        return sum(p.full_dimensional for p in self.polygons)

    @property
    def lower_dimensional(self) -> int:
        return len(self.polygons) - self.full_dimensional

    @property
    def total_area(self) -> Fraction:
        return sum((p.area for p in self.polygons), Fraction(0))


def load_matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("plotting needs matplotlib: pip install 'exactrelu[plot]'") from None
    return matplotlib, Figure, FigureCanvasAgg


def plot_regions(
    net: ReluNetwork,
    domain=None,
    path="regions.png",
    heatmap: bool = True,
    *,
    boundary: bool = True,
    heat_output: Optional[int] = None,
    names: Sequence[str] = ("x1", "x2"),
    title: Optional[str] = None,
    max_regions: Optional[int] = None,
    dpi: int = 120,
) -> PlotResult:
    """Draw every region of the 2-input ``net`` over ``domain`` (default and ``R^2``: the box
    ``[-1, 1]^2``) as a PNG to ``path``, a path or a writable binary file object (the command layer
    passes a buffer and writes it through :mod:`exactrelu.io.output`).  ``heat_output`` (0-based) selects the output of the heat map; by
    default one output is shown as its value, several as the predicted class."""
    import numpy as np

    from .domain import Domain

    matplotlib, Figure, FigureCanvasAgg = load_matplotlib()
    if net.input_dim != 2:
        raise InputError(f"plot_regions needs a 2-input network (this one has {net.input_dim}); slice it first")
    if domain is None or domain.kind == "reals":
        domain = Domain.box([DEFAULT_BOX[0]] * 2, [DEFAULT_BOX[1]] * 2, "default plot box")
    domain.check_dimension(2)
    outline = domain_polygon(domain)
    polygons = region_polygons(net, domain, max_regions=max_regions)
    if sum((p.area for p in polygons), Fraction(0)) != polygon_area(outline):
        raise InternalError("the exact region areas do not sum to the domain's area")
    if any((len(p.vertices) >= 3) != p.full_dimensional for p in polygons):
        raise InternalError("a region's vertex count contradicts its dimension")
    segments = decision_boundary(polygons, domain) if boundary else []
    m = net.output_dim
    if heat_output is not None and not 0 <= heat_output < m:
        raise InputError(f"--heat-output: the network has outputs 1..{m}")

    xs = [float(v[0]) for v in outline]
    ys = [float(v[1]) for v in outline]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    padx, pady = (x1 - x0) * 0.02 or 0.5, (y1 - y0) * 0.02 or 0.5
    panels = 2 if heatmap else 1
    fig = Figure(figsize=(6.4 * panels, 5.6))
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, panels, k + 1) for k in range(panels)]
    cmap = matplotlib.colormaps["tab20"]
    full = [p for p in polygons if p.full_dimensional]
    low = [p for p in polygons if not p.full_dimensional]

    def draw_regions(ax, filled: bool) -> None:
        from matplotlib.patches import Polygon

        for k, p in enumerate(full):
            ax.add_patch(Polygon([(float(a), float(b)) for a, b in p.vertices], closed=True,
                                 facecolor=cmap(k % 20) if filled else "none",
                                 edgecolor="black" if filled else "white", linewidth=0.6 if filled else 0.4,
                                 alpha=0.9 if filled else 0.7))
        for p in low:
            pts = [(float(a), float(b)) for a, b in p.vertices]
            if len(pts) == 1:
                ax.plot([pts[0][0]], [pts[0][1]], "o", color="crimson", markersize=3.5, zorder=4)
            else:
                ax.plot([q[0] for q in pts], [q[1] for q in pts], "-", color="crimson", linewidth=1.6, zorder=4)
        ax.set_xlim(x0 - padx, x1 + padx)
        ax.set_ylim(y0 - pady, y1 + pady)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])

    draw_regions(axes[0], True)
    counts = f"{len(polygons)} regions ({len(full)} full-dimensional, {len(low)} lower-dimensional)"
    axes[0].set_title(f"{title}: {counts}" if title else counts, fontsize=10)
    if heatmap:
        ax = axes[1]
        gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        values = net.evaluate_float(grid)
        inside = np.ones(len(grid), dtype=bool)
        for u, v, _ in domain.rows():  # float mask, drawing only
            inside &= grid @ np.array([float(a) for a in u]) + float(v) >= -1e-12
        if m == 1 or heat_output is not None:
            o = heat_output or 0
            z = np.where(inside, values[:, o], np.nan).reshape(GRID, GRID)
            image = ax.imshow(z, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", cmap="viridis")
            fig.colorbar(image, ax=ax, label=f"output y{o + 1}")
            heading = f"output y{o + 1}"
        else:
            z = np.where(inside, values.argmax(axis=1).astype(float), np.nan).reshape(GRID, GRID)
            image = ax.imshow(z, origin="lower", extent=(x0, x1, y0, y1), aspect="auto",
                              cmap=matplotlib.colormaps["tab10"], vmin=-0.5, vmax=9.5, interpolation="nearest")
            bar = fig.colorbar(image, ax=ax, ticks=range(m), label="predicted class (argmax)")
            bar.ax.set_ylim(-0.5, m - 0.5)
            bar.set_ticklabels([f"y{o + 1}" for o in range(m)])
            heading = "predicted class"
        draw_regions(ax, False)
        target = ax
    else:
        target = axes[0]
        heading = ""
    for p, q in segments:
        target.plot([float(p[0]), float(q[0])], [float(p[1]), float(q[1])], "-", color="black", linewidth=2.2, zorder=5)
    if heatmap:
        axes[1].set_title(heading + (" with the exact decision boundary" if segments else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, format="png")
    return PlotResult(path, polygons, polygon_area(outline), len(segments))
