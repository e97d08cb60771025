"""``exactrelu plot``: exact region polygons (areas, counts, vertices), slices, the decision
boundary, the PNG file, and the bad-input errors."""

from __future__ import annotations

import json
import random
import re
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest

from exactrelu.commands import main
from exactrelu.domain import Domain
from exactrelu.errors import DomainError, InputError
from exactrelu.lp import satisfies
from exactrelu.network import ReluNetwork
from exactrelu.plot import (
    MissingExtraError,
    decision_boundary,
    order_vertices,
    parse_slice,
    polygon_area,
    polygon_vertices,
    region_polygons,
    slice_domain,
    slice_network,
)
from exactrelu.regions import enumerate_regions

PNG = b"\x89PNG\r\n\x1a\n"
TINY = ReluNetwork.from_lists([([[1, 0], [0, 1]], [0, 0]), ([[1, 2]], [0])])  # relu(x1) + 2 relu(x2)
# |x1| via x1 and -x1, plus x2: the line x1 = 0 is a lower-dimensional region (a segment)
ABS = ReluNetwork.from_lists([([[1, 0], [-1, 0], [0, 1]], [0, 0, 0]), ([[1, 1, 1]], [0])])

matplotlib = pytest.importorskip("matplotlib")


def signed_area(vertices) -> F:
    return sum((a[0] * b[1] - b[0] * a[1] for a, b in zip(vertices, [*vertices[1:], vertices[0]])), F(0)) / 2


# ----------------------------------------------------------------------------- exact geometry
def test_polygons_of_a_known_network_exactly() -> None:
    polys = region_polygons(TINY, Domain.box(["-1", "-1/2"], ["1", "1"]))
    by_pattern = {p.region.pattern: p for p in polys}
    assert by_pattern[((True, True),)].vertices == ((F(1), F(1)), (F(0), F(1)), (F(0), F(0)), (F(1), F(0)))  # CCW
    assert [p.area for p in polys] == [F(1), F(1, 2), F(1), F(1, 2)]
    assert sum(p.area for p in polys) == 3


@pytest.mark.parametrize("seed", range(6))
def test_areas_sum_exactly_to_the_box_and_counts_match(seed: int, random_network) -> None:
    rng = random.Random(seed)
    kind = ("generic", "concurrent", "parallel", "duplicate", "touching", "multi_output")[seed]
    net = random_network(rng, [2, 4, 3, 1], kind)
    lo = [F(rng.randint(-3, 0), rng.choice((1, 2, 3))) - 1 for _ in range(2)]
    hi = [F(rng.randint(1, 3), rng.choice((1, 2))) for _ in range(2)]
    domain = Domain.box(lo, hi)
    e = enumerate_regions(net, domain)
    polys = region_polygons(net, domain, e)
    assert sum(p.area for p in polys) == (hi[0] - lo[0]) * (hi[1] - lo[1])  # exactly
    assert sum(len(p.vertices) >= 3 for p in polys) == e.full_dimensional
    for p in polys:
        rows = [(u, v, False) for u, v, _ in domain.rows() + p.region.neuron_rows()]
        assert all(satisfies(row, v) for row in rows for v in p.vertices)  # vertices of the closure, exactly
        if p.full_dimensional:
            assert len(p.vertices) >= 3 and p.area > 0 and signed_area(list(p.vertices)) == p.area  # CCW
        else:
            assert 1 <= len(p.vertices) <= 2 and p.area == 0


def test_lower_dimensional_region_is_a_segment() -> None:
    polys = region_polygons(ABS, Domain.box(["-1", "-1"], ["1", "1"]))
    low = [p for p in polys if not p.full_dimensional]
    assert low and all(len(p.vertices) == 2 and p.vertices[0][0] == p.vertices[1][0] == 0 for p in low)
    assert sum(p.area for p in polys) == 4


def test_polytope_domain_areas() -> None:
    domain = Domain.polytope([[-1, 0], [0, -1], [1, 1]], [1, 1, 1])  # x1, x2 >= -1, x1 + x2 <= 1: area 9/2
    polys = region_polygons(TINY, domain)
    assert sum(p.area for p in polys) == F(9, 2) == polygon_area(polygon_vertices(domain.rows()))


def test_order_vertices_and_unbounded_sets() -> None:
    square = [(F(1), F(1)), (F(-1), F(-1)), (F(1), F(-1)), (F(-1), F(1))]
    ordered = order_vertices(square)
    assert signed_area(ordered) == 4 and polygon_area(ordered) == 4
    with pytest.raises(DomainError, match="unbounded"):
        polygon_vertices([((F(1), F(0)), F(0), False)])
    assert polygon_vertices([((F(1), F(0)), F(-2), False), ((F(-1), F(0)), F(1), False),
                             ((F(0), F(1)), F(0), False), ((F(0), F(-1)), F(1), False)]) == []  # empty set


def test_decision_boundary_is_exact_argmax_ties() -> None:
    from exactrelu.demo import DEMO_BOX, bundled_network

    net = bundled_network()
    domain = Domain.box(*DEMO_BOX)
    polys = region_polygons(net, domain)
    segments = decision_boundary(polys, domain)
    assert segments
    for p, q in segments:
        for point in (p, q, ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)):
            out = sorted(net.evaluate(point), reverse=True)
            assert out[0] == out[1]  # the largest score is attained twice, exactly


# ----------------------------------------------------------------------------- slices
def test_slice_network_is_exact() -> None:
    rng = random.Random(4)
    net = ReluNetwork.from_lists([([[1, 2, -1, F(1, 3)], [0, 1, 1, -2], [2, -1, 0, 1]], [0, F(-1, 2), 1]),
                                  ([[1, -1, 2]], [F(1, 4)])])
    fixed = parse_slice("x2=1/2, x4=-3", 4)
    sliced, free = slice_network(net, fixed)
    assert free == [0, 2] and sliced.input_dim == 2
    for _ in range(20):
        a, b = F(rng.randint(-9, 9), rng.randint(1, 5)), F(rng.randint(-9, 9), rng.randint(1, 5))
        assert sliced.evaluate([a, b]) == net.evaluate([a, F(1, 2), b, F(-3)])


@pytest.mark.parametrize("text, message", [
    ("x3=0", r"fixes 1 of 4 inputs, leaving 3 free"),
    ("x3=0,x3=1,x4=0", r"x3 is fixed twice"),
    ("x5=0,x4=0", r"x5 is not an input"),
    ("y3=0,x4=0", r"not of the form xK=VALUE"),
    ("x3=abc,x4=0", r"'abc' is not a rational"),
])
def test_parse_slice_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_slice(text, 4)


def test_slice_domain() -> None:
    box = Domain.box(["-1"] * 3, ["1"] * 3)
    assert slice_domain(box, {2: F(1, 2)}, [0, 1]).describe() == "[-1, 1] x [-1, 1]"
    with pytest.raises(InputError, match=r"x3=2 is outside the domain \[-1, 1\] of x3"):
        slice_domain(box, {2: F(2)}, [0, 1])
    poly = Domain.polytope([[1, 1, 1], [-1, 0, 0], [0, -1, 0], [0, 0, -1]], [1, 0, 0, 0])
    assert slice_domain(poly, {2: F(1, 2)}, [0, 1]).contains([F(1, 2), 0])
    with pytest.raises(InputError, match="outside the domain"):
        slice_domain(poly, {2: F(2)}, [0, 1])


# ----------------------------------------------------------------------------- the picture
@pytest.fixture
def write_net(tmp_path: Path):
    def write(net: ReluNetwork, name: str = "net.json") -> Path:
        p = tmp_path / name
        p.write_text(json.dumps(net.to_dict()))
        return p

    return write


def test_plot_regions_writes_a_png(tmp_path: Path) -> None:
    from exactrelu.plot import plot_regions

    domain = Domain.box(["-1", "-1"], ["1", "1"])
    result = plot_regions(ABS, domain, tmp_path / "abs.png")
    assert (tmp_path / "abs.png").read_bytes()[:8] == PNG
    e = enumerate_regions(ABS, domain)
    assert result.full_dimensional == e.full_dimensional and len(result.polygons) == len(e.regions)
    assert result.total_area == result.domain_area == 4
    plain = plot_regions(TINY, None, tmp_path / "plain.png", heatmap=False, boundary=False)
    assert (tmp_path / "plain.png").read_bytes()[:8] == PNG and plain.domain_area == 4  # default box [-1, 1]^2


def test_cli_plot(write_net, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.png"
    assert main(["plot", str(write_net(ABS)), "--box=-1:1,-1/2:2", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG
    text = capsys.readouterr().out
    assert re.search(r"6 regions \(4 polygons, 2 lower-dimensional\).*areas sum to 5 = the domain's area", text)


def test_cli_plot_slice(write_net, tmp_path: Path, capsys) -> None:
    net = ReluNetwork.from_lists([([[1, 0, 1], [0, 1, -1], [1, 1, 1]], [0, 0, F(-1, 2)]), ([[1, 2, -1], [0, 1, 1]], [0, 0])])
    out = tmp_path / "s.png"
    assert main(["plot", str(write_net(net)), "--box=-1:1", "--slice", "x3=1/2", "-o", str(out), "--heat-output", "2"]) == 0
    assert out.read_bytes()[:8] == PNG
    assert "(slice x3=1/2)" in capsys.readouterr().out


@pytest.mark.parametrize("net, extra, message", [
    (ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])]), [],
     r"plot needs a network with at least 2 inputs; this one has 1"),
    (ReluNetwork.from_lists([([[1, 0, 1]], [0]), ([[1]], [0])]), [],
     r"the network has 3 inputs; give --slice fixing all but two, e\.g\. --slice x3=0"),
    (ReluNetwork.from_lists([([[1, 0, 1]], [0]), ([[1]], [0])]), ["--slice", "x3=5", "--box=-1:1"],
     r"x3=5 is outside the domain"),
    (TINY, ["--slice", "x2=0"], r"the network has 2 inputs; there is nothing to fix"),
    (TINY, ["--heat-output", "3"], r"--heat-output: the network has outputs 1\.\.1"),
    (TINY, ["--box=-1:1,-1:1,0:1"], r"--box: has 3 intervals but the network has 2 inputs"),
])
def test_cli_plot_bad_input_exit_2(write_net, tmp_path: Path, capsys, net, extra, message) -> None:
    assert main(["plot", str(write_net(net)), "-o", str(tmp_path / "x.png"), *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not (tmp_path / "x.png").exists()


def test_missing_matplotlib_is_a_clear_error(write_net, tmp_path: Path, monkeypatch, capsys) -> None:
    from exactrelu.plot import plot_regions

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'exactrelu\[plot\]'") as exc:
        plot_regions(TINY, None, tmp_path / "x.png")
    assert isinstance(exc.value, ImportError) and isinstance(exc.value, InputError)
    assert main(["plot", str(write_net(TINY)), "-o", str(tmp_path / "x.png")]) == 2
    assert "exactrelu[plot]" in capsys.readouterr().err


def test_demo_includes_the_picture(tmp_path: Path, capsys) -> None:
    from exactrelu.commands.demo import run_demo

    assert run_demo(tmp_path / "demo", quiet=True) == 0
    assert (tmp_path / "demo" / "proof.regions.png").read_bytes()[:8] == PNG
    assert "](proof.regions.png)" in (tmp_path / "demo" / "proof.md").read_text()


# ----------------------------------------------------------------------------- labels, colours, limits
def _leaf_contains(net: ReluNetwork, leaf: dict, x) -> bool:
    """``x`` satisfies the leaf's conditions (``z > 0`` or ``z <= 0`` for each hidden neuron, as its
    pattern says), exactly: the pattern of ``x`` is the leaf's."""
    return [[int(bit) for bit in layer] for layer in net.pattern(x)] == leaf["pattern"]


@pytest.mark.parametrize("name,box", [("iris-classifier", "0:7,0:3"), ("xor", "0:1"), ("nnet", None)])
def test_picture_labels_and_report_numbers_agree(name: str, box, tmp_path: Path, capsys) -> None:
    """Label k + 1 of the picture lies in the region the report (and the certificate) calls Region
    k + 1, checked exactly against the leaf's conditions (its pattern), and in no other."""
    from exactrelu.io import load_model
    from exactrelu.plot import plot_regions

    root = Path(__file__).resolve().parent.parent / "proofs" / name
    cert = json.loads((root / "shallow.cert.json").read_text())
    domain = Domain.from_dict(cert["domain"])
    net = load_model(root / "net.json").network
    result = plot_regions(net, domain, tmp_path / "p.png", patterns=True)
    assert result.labels, "no region got a label"
    report = (root / "proof.md").read_text()
    for k, point in result.labels.items():
        assert [j for j, leaf in enumerate(cert["leaves"]) if _leaf_contains(net, leaf, point)] == [k]
        if k < 12:
            assert f"**Region {k + 1}** " in report
    assert all(result.polygons[k].full_dimensional for k in result.labels)


def _independent_adjacency(polygons) -> set:
    """Two full-dimensional regions are adjacent iff their closures meet in more than one point:
    the closed rows of both together have two distinct vertices (exact, by cdd)."""
    from exactrelu.lp import vertices

    full = [p for p in polygons if p.full_dimensional]
    pairs = set()
    for s, p in enumerate(full):
        for q in full[s + 1:]:
            rows = [(u, v, False) for u, v, _ in p.region.neuron_rows() + q.region.neuron_rows()]
            if len(vertices(rows + [(u, v, False) for u, v, _ in BOX.rows()])) >= 2:
                pairs.add((p.index, q.index))
    return pairs


BOX = Domain.box(["-1", "-1"], ["1", "1"])


@pytest.mark.parametrize("seed", range(4))
def test_adjacent_regions_never_share_a_colour(seed: int, random_network, tmp_path: Path) -> None:
    from exactrelu.plot import plot_regions

    net = random_network(random.Random(seed), [2, 5, 3, 1], ("generic", "concurrent", "parallel", "touching")[seed])
    result = plot_regions(net, BOX, tmp_path / "p.png", heatmap=False)
    assert result.adjacent == _independent_adjacency(result.polygons)
    assert result.adjacent, "the example should have adjacent regions"
    for a, b in result.adjacent:
        assert result.colours[a] != result.colours[b]
    assert max(result.colours.values()) < 6


def test_corner_contact_is_not_adjacency(tmp_path: Path) -> None:
    from exactrelu.plot import plot_regions

    result = plot_regions(TINY, BOX, tmp_path / "p.png", heatmap=False)  # four quadrants meeting at 0
    by_pattern = {p.region.pattern: p.index for p in result.polygons}
    diagonal = tuple(sorted((by_pattern[((True, True),)], by_pattern[((False, False),)])))
    assert diagonal not in result.adjacent and len(result.adjacent) == 4
    assert result.colours[diagonal[0]] == result.colours[diagonal[1]]  # two colours suffice, and are used


def test_absurd_sizes_are_clear_errors(write_net, tmp_path: Path, capsys, recwarn) -> None:
    from exactrelu.plot import MAX_DPI

    path = write_net(TINY)
    code = main(["plot", str(path), "--box=-1:1", "--dpi", "100000", "-o", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert code == 2 and f"--dpi: 100000 is outside 1..{MAX_DPI}" in err and "Traceback" not in err
    code = main(["plot", str(path), "--box=0:0,-1:1", "-o", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert code == 2 and "has no area" in err and not (tmp_path / "p.png").exists()
    assert not [w for w in recwarn if "matplotlib" in str(w.filename) or "xlims" in str(w.message)]


def test_legend_explains_lower_dimensional_regions_and_the_zero_set(tmp_path: Path, monkeypatch) -> None:
    from exactrelu import plot

    seen = {}
    original = plot._legend

    def spy(*args):
        seen["handles"] = original(*args)
        return seen["handles"]

    monkeypatch.setattr(plot, "_legend", spy)
    net = ReluNetwork.from_lists([([[1, 0], [-1, 0], [0, 1]], [0, 0, 0]), ([[1, 1, -1]], ["-1/2"])])
    plot.plot_regions(net, BOX, tmp_path / "p.png")
    labels = [h.get_label() for h in seen["handles"]]
    assert labels == ["lower-dimensional region (segment or point)",
                      "zero level set y1 = 0 (where the output changes sign)"]
