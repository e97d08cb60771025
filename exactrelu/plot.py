"""``exactrelu plot``: every activation region of a 2-input network drawn as its exact polygon.

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
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

from .errors import DomainError, InputError, InternalError
from .lp import vertices
from .network import AffineLayer, ReluNetwork
from .rationals import format_rational, parse_rational


DEFAULT_BOX = ("-1", "1")
GRID = 300  # heat map resolution (pixels per side)
MAX_DPI = 600  # --dpi above this is refused (the 12.8 x 5.6 inch figure would exceed 7680 x 3360 pixels)
LABEL_FONT = 7  # points: the size of region labels
PALETTE = "Set3"  # 12 light colours; the greedy colouring of a planar adjacency graph needs at most 6
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


# ============================================================================ labels
def label_point(domain, poly: RegionPolygon, half_width: Fraction, half_height: Fraction) -> Optional[Point]:
    """The centre of the largest scaled copy of the label's box (half sizes in data units) inside
    the region's closure, if the box at full size fits, else ``None``: maximise ``s`` subject to
    ``u . x + v >= s (|u_1| w + |u_2| h)`` for every row (exact LP, :func:`exactrelu.lp.maximize`).
    The point is checked exactly to satisfy every row of the region (strict ones strictly)."""
    from .lp import maximize, satisfies

    if not poly.full_dimensional:
        return None
    rows = list(domain.rows()) + poly.region.neuron_rows()
    lifted = [((u[0], u[1], -(abs(u[0]) * half_width + abs(u[1]) * half_height)), v, False) for u, v, _ in rows]
    best = maximize(lifted, (Fraction(0), Fraction(0), Fraction(1)), Fraction(0), 3)
    if best.status != "optimal" or best.value < 1:
        return None
    point = best.point[:2]
    if not all(satisfies(row, point) for row in rows):
        raise InternalError(f"the label point of region {poly.index + 1} is not inside it")
    return point


# ============================================================================ drawing
@dataclass
class PlotResult:
    """What was drawn: the exact polygons, counts and areas."""

    path: Path
    polygons: list[RegionPolygon]
    domain_area: Fraction
    boundary_segments: int
    labels: dict = field(default_factory=dict)  # region index -> the exact point its label is centred on
    colours: dict = field(default_factory=dict)  # region index (full-dimensional) -> palette index
    adjacent: set = field(default_factory=set)  # pairs of region indices whose closures share a segment

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
    patterns: bool = False,
    labels: bool = True,
) -> PlotResult:
    """Draw every region of the 2-input ``net`` over ``domain`` (default and ``R^2``: the box
    ``[-1, 1]^2``) as a PNG to ``path``, a path or a writable binary file object (the command layer
    passes a buffer and writes it through :mod:`exactrelu.io.output`).  ``heat_output`` (0-based) selects the output of the heat map; by
    default one output is shown as its value, several as the predicted class.

    Each full-dimensional region is labelled with its number (Region ``k + 1`` for the ``k``-th
    region, the report's numbering) and, with ``patterns``, its activation pattern, where the label
    fits (:func:`label_point`; a region too small for it stays unlabelled).  Adjacent regions never
    share a colour (:mod:`exactrelu.adjacency`).  ``dpi`` above :data:`MAX_DPI` and a domain of zero
    area are refused with :class:`InputError`."""
    import numpy as np

    from .domain import Domain

    matplotlib, Figure, FigureCanvasAgg = load_matplotlib()
    if net.input_dim != 2:
        raise InputError(f"plot_regions needs a 2-input network (this one has {net.input_dim}); slice it first")
    if domain is None or domain.kind == "reals":
        domain = Domain.box([DEFAULT_BOX[0]] * 2, [DEFAULT_BOX[1]] * 2, "default plot box")
    domain.check_dimension(2)
    if not 1 <= dpi <= MAX_DPI:
        raise InputError(f"--dpi: {dpi} is outside 1..{MAX_DPI} (the image would be "
                         f"{round(6.4 * (2 if heatmap else 1) * dpi)} x {round(5.6 * dpi)} pixels)")
    outline = domain_polygon(domain)
    if polygon_area(outline) == 0:
        raise InputError(f"the domain {domain.describe()} has no area (a box needs LO < HI for both plotted "
                         "inputs): there is no picture to draw")
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
    from .adjacency import adjacent_pairs, colouring

    cmap = matplotlib.colormaps[PALETTE]
    full = [p for p in polygons if p.full_dimensional]
    low = [p for p in polygons if not p.full_dimensional]
    adjacent = {(full[i].index, full[j].index) for i, j in adjacent_pairs([p.vertices for p in full])}
    position = {p.index: i for i, p in enumerate(full)}
    colour_of = colouring(len(full), [(position[a], position[b]) for a, b in adjacent])
    if colour_of and max(colour_of) >= cmap.N:
        raise InternalError("the region colouring needs more colours than the palette has")
    colours = {p.index: c for p, c in zip(full, colour_of)}

    def draw_regions(ax, filled: bool) -> None:
        from matplotlib.patches import Polygon

        for p in full:
            ax.add_patch(Polygon([(float(a), float(b)) for a, b in p.vertices], closed=True,
                                 facecolor=cmap(colours[p.index]) if filled else "none",
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
    handles = _legend(matplotlib, low, segments, m)
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
    fig.dpi = dpi
    placed = _place_labels(fig, axes[0], domain, full, widths=net.hidden_widths, patterns=patterns) if labels else {}
    fig.savefig(path, dpi=dpi, format="png")
    return PlotResult(path, polygons, polygon_area(outline), len(segments), placed, colours, adjacent)


def _legend(matplotlib, low, segments, m: int) -> list:
    """Legend entries for what a colour does not explain: lower-dimensional regions, the boundary."""
    from matplotlib.lines import Line2D

    handles = []
    if low:
        handles.append(Line2D([], [], color="crimson", marker="o", markersize=3.5, linewidth=1.6,
                              label="lower-dimensional region (segment or point)"))
    if segments:
        what = ("zero level set y1 = 0 (where the output changes sign)" if m == 1
                else "decision boundary (the two largest outputs tie)")
        handles.append(Line2D([], [], color="black", linewidth=2.2, label=what))
    return handles


def _place_labels(fig, ax, domain, full, widths, patterns: bool) -> dict:
    """Draw ``k + 1`` (and the pattern) in every full-dimensional region where it fits; return the
    exact label points.  The label's size in data units is estimated in floats (it only guides
    where to look); the point itself is exact and checked to lie in its region."""
    from .formulas import pattern_text

    box = ax.get_window_extent()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    per_px_x, per_px_y = (x1 - x0) / box.width, (y1 - y0) / box.height
    px_per_pt = fig.dpi / 72
    placed = {}
    for p in full:
        texts = [str(p.index + 1)]
        if patterns:
            texts.insert(0, f"{p.index + 1}: {pattern_text(p.region.flat_pattern, widths)}")
        for text in texts:
            half_w = Fraction(0.5 * 0.62 * LABEL_FONT * len(text) * px_per_pt * per_px_x).limit_denominator(10**6)
            half_h = Fraction(0.5 * 1.3 * LABEL_FONT * px_per_pt * per_px_y).limit_denominator(10**6)
            point = label_point(domain, p, half_w, half_h)
            if point is not None:
                ax.text(float(point[0]), float(point[1]), text, fontsize=LABEL_FONT, ha="center", va="center", zorder=6)
                placed[p.index] = point
                break
    return placed
