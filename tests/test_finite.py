"""The finite-weight lattice form (exactrelu.finite): equal to the deep network at random rational
points, at every region witness and exactly on region boundaries (vertices of region closures,
where pre-activations are 0); certified by an exactrelu-equivalence certificate the independent
checker verifies; exported to ONNX (run in onnxruntime) and PyTorch; the ``shallow --finite``
command."""

from __future__ import annotations

import json
import math
import random
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import checker, lp
from exactrelu.cli import main
from exactrelu.domain import Domain
from exactrelu.errors import DomainError
from exactrelu.finite import LatticeForm, _minimal_sets, certify, lattice_form, realise, write_finite
from exactrelu.io.jsonfmt import load as load_json_network, save as save_json_network, to_dict
from exactrelu.network import ReluNetwork
from exactrelu.regions import enumerate_regions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from common import random_network  # noqa: E402

F = Fraction


def small_network(seed: int, widths: list[int]) -> ReluNetwork:
    """Random weights p/q with |p| <= 3, q in {1, 2, 3} (fixed seed)."""
    rng = random.Random(seed)
    q = lambda: F(rng.randint(-3, 3), rng.choice((1, 1, 2, 3)))  # noqa: E731
    return ReluNetwork.from_lists([([[q() for _ in range(a)] for _ in range(b)], [q() for _ in range(b)])
                                   for a, b in zip(widths[:-1], widths[1:])])


def random_point(rng: random.Random, lower, upper) -> tuple[Fraction, ...]:
    return tuple(lo + (hi - lo) * F(rng.randint(0, 16), 16) for lo, hi in zip(lower, upper))
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
X_MINUS_X = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 0], [0, 1]], [0, 0])])
MAX = ReluNetwork.from_lists([([[1, -1], [0, 1], [0, -1]], [0, 0, 0]), ([[1, 1, -1]], [0])])
XOR = ReluNetwork.from_lists([([[1, 1], [1, 1]], [0, -1]), ([[1, -2]], [0])])
# a zigzag on the line: slopes 0, 1, -1, 1/2
ZIGZAG = ReluNetwork.from_lists([([[1], [1], [1]], [0, -1, -2]), ([[1, -2, "3/2"]], [0])])

CASES = {
    "abs": (ABS, None),
    "x-minus-x": (X_MINUS_X, None),
    "max": (MAX, None),
    "xor": (XOR, Domain.box(["0", "0"], ["1", "1"])),
    "zigzag": (ZIGZAG, Domain.box(["-1"], ["4"])),
    "random-2-3-2-1": (small_network(3, [2, 3, 2, 1]), Domain.box(["-1", "-1"], ["1", "1"])),
    # parallel hyperplanes x1 + x2 = 0, = 1 and the negated neuron; three lines through (0, 0)
    "parallel-2-3-2": (ReluNetwork.from_lists([([[1, 1], [1, 1], [-1, -1]], [0, -1, 0]), ([[1, -2, 1], [0, 1, "1/2"]], [0, 0])]),
                       Domain.box(["-1", "-1"], ["1", "1"])),
    "concurrent-2-3-1": (ReluNetwork.from_lists([([[1, 0], [0, 1], [1, 1]], [0, 0, 0]), ([[1, 2, -3]], [1])]),
                         Domain.box(["-2", "-2"], ["2", "2"])),
    "random-3-3-2": (small_network(11, [3, 3, 2]), Domain.box(["-1", "-1", "-1"], ["1", "1", "1"])),
    "polytope-2-3-1": (small_network(13, [2, 3, 1]), Domain.polytope([[1, 1], [-1, 0], [0, -1]], [1, 0, 0])),
    # regions with no term above the whole region: split into cells (docs/theory.md section 10.2)
    "random-2-4-4-4-1-s11": (random_network([2, 4, 4, 4, 1], seed=11), Domain.box(["-2", "-2"], ["2", "2"])),
    "random-2-4-4-4-1-s23": (random_network([2, 4, 4, 4, 1], seed=23), Domain.box(["-2", "-2"], ["2", "2"])),
}


def _domain(net, domain):
    return domain or Domain.reals(net.input_dim)


@pytest.fixture(scope="module")
def forms():
    """Every case certified once: name -> FiniteForm."""
    return {name: certify(enumerate_regions(net, _domain(net, domain))) for name, (net, domain) in CASES.items()}


def _boundary_points(e) -> list[tuple[Fraction, ...]]:
    """Vertices of every region's closure (bounded domains), where some pre-activations or domain
    rows are exactly 0, and every witness (those of lower-dimensional regions lie on hyperplanes)."""
    points = [r.witness for r in e.regions]
    if e.domain.kind != "reals":
        for r in e.regions:
            points += lp.vertices(e.domain.rows() + r.neuron_rows())
    return points


@pytest.mark.parametrize("name", sorted(CASES))
def test_equal_at_random_points_witnesses_and_boundaries(name, forms):
    form = forms[name]
    deep, e, finite = form.enumeration.network, form.enumeration, form.network
    rng = random.Random(name)
    n = deep.input_dim
    if e.domain.kind == "box":
        lower, upper = e.domain.lower, e.domain.upper
    else:
        lower, upper = (F(-3),) * n, (F(3),) * n
    points = [random_point(rng, lower, upper) for _ in range(60)]
    points = [x for x in points if e.domain.contains(x)]
    boundary = _boundary_points(e)
    on_hyperplane = [x for x in boundary
                     if any(sum((a * v for a, v in zip(w, x)), b) == 0 for w, b in e.regions[e.locate(x)].preactivations)]
    assert on_hyperplane, "the test must reach points where a pre-activation is exactly 0"
    for x in points + boundary:
        assert finite.evaluate(x) == deep.evaluate(x), x
        assert form.lattice.evaluate(x) == deep.evaluate(x), x


@pytest.mark.parametrize("name", sorted(CASES))
def test_certificate_verifies_and_binds_both_networks(name, forms, tmp_path, capsys):
    form = forms[name]
    out, cert = tmp_path / "F.json", tmp_path / "F.cert.json"
    size = write_finite(form, out, cert)
    assert size == cert.stat().st_size
    assert load_json_network(out) == form.network
    deep_path = tmp_path / "deep.json"
    save_json_network(form.enumeration.network, deep_path)
    assert checker.main([str(cert), "--model-a", str(deep_path), "--model-b", str(out)]) == 0  # both pinned
    verdict = capsys.readouterr()
    assert verdict.out.strip() == "s VERIFIED" and verdict.err.count(", pinned (") == 2
    data = json.loads(cert.read_text())
    assert data["format"] == "exactrelu-equivalence" and data["claim"] == {"kind": "equal", "norm": "inf"}
    assert data["networks"]["B"] == to_dict(form.network, sparse=True)  # sparse weights
    assert json.loads(out.read_text())["layers"][0]["weight"]["shape"] == [form.network.widths[1], form.network.input_dim]
    other = tmp_path / "other.json"
    save_json_network(ABS if form.enumeration.network.input_dim != 1 else MAX, other)
    assert checker.main([str(cert), "--model-a", str(other), "--model-b", str(out)]) == 1
    assert capsys.readouterr().out.strip() == "s NOT VERIFIED"


def test_a_wrong_finite_network_is_rejected(forms, tmp_path, capsys):
    """Change one weight of F in the certificate (and its hash, consistently): the leaves no longer hold."""
    form = forms["zigzag"]
    cert = tmp_path / "F.cert.json"
    write_finite(form, tmp_path / "F.json", cert)
    data = json.loads(cert.read_text())
    layer = data["networks"]["B"]["layers"][-1]
    layer["bias"][0] = str(F(layer["bias"][0]) + F(1, 1000))
    changed = load_json_network_from_dict(data["networks"]["B"])
    data["network_sha256"]["B"] = changed.sha256()
    cert.write_text(json.dumps(data))
    assert checker.main([str(cert)]) == 1
    assert capsys.readouterr().out.strip() == "s NOT VERIFIED"


def load_json_network_from_dict(d):
    from exactrelu.io.jsonfmt import network_from_dict

    return network_from_dict(d, "B")


# ----------------------------------------------------------------------------- the lattice form itself
def test_zigzag_lattice_by_hand():
    """f = 0 on [-1, 0], x on [0, 1], 2 - x on [1, 2], x/2 - 1 on [2, 4].  By hand: S = {0, 2 - x} on
    [-1, 0], where 0 alone is below f on every piece (f >= 0), so the term is {0}; {x, 2 - x} on
    [0, 1] (x is not below 2 - x on [1, 2], 2 - x is not below x on [0, 1]) and again on [1, 2] (a
    duplicate, dropped); S = {x/2 - 1, x} on [2, 4], where x/2 - 1 alone is below f everywhere (it is
    <= 0 on [-1, 2]), so the term is {x/2 - 1}: f = max(0, min(x, 2 - x), x/2 - 1)."""
    e = enumerate_regions(ZIGZAG, Domain.box(["-1"], ["4"]))
    form = lattice_form(e)
    maps = [(w[0], b) for w, b in form.maps[0]]
    zero, x, two_minus_x, half = (F(0), F(0)), (F(1), F(0)), (F(-1), F(2)), (F(1, 2), F(-1))
    assert sorted(maps) == sorted([zero, x, two_minus_x, half])
    terms = sorted(sorted(maps[j] for j in t) for t in form.terms[0])
    assert terms == sorted([[zero], sorted([x, two_minus_x]), [half]])


def test_terms_are_an_antichain_and_depth_matches_the_trees(forms):
    for name, form in forms.items():
        lattice = form.lattice
        expected = 0
        for maps, terms in zip(lattice.maps, lattice.terms):
            assert len(set(maps)) == len(maps), name
            sets = [set(t) for t in terms]
            assert all(not (a < b) for a in sets for b in sets), name
            assert set().union(*sets) == set(range(len(maps))), name
            depth = math.ceil(math.log2(max(len(t) for t in terms))) + math.ceil(math.log2(len(terms)))
            expected = max(expected, depth)
        assert form.depth == expected, name
        assert form.width == max(form.network.hidden_widths, default=0)


def test_minimal_sets_drop_supersets_and_duplicates():
    sets = [frozenset(s) for s in ({1, 2}, {2}, {2, 3}, {4}, {4}, {1, 4, 5})]
    assert _minimal_sets(sets) == [(2,), (4,)]


def test_realise_balanced_trees_and_padding():
    """Output 0: max(min(l0, l1, l2), l3) needs 2 + 1 levels; output 1 (affine) is padded."""
    one, zero = F(1), F(0)
    maps0 = (((one,), zero), ((-one,), one), ((F(2),), F(-3)), ((zero,), F(1, 2)))
    form = LatticeForm(1, (maps0,), (((0, 1, 2), (3,)),))
    two = LatticeForm(1, (maps0, (((F(3),), F(1)),)), (((0, 1, 2), (3,)), ((0,),)))
    net = realise(two)
    assert len(net.hidden_widths) == 3
    for t in range(-12, 13):
        x = (F(t, 4),)
        v = [m[0][0] * x[0] + m[1] for m in form.maps[0]]
        assert net.evaluate(x) == (max(min(v[:3]), v[3]), 3 * x[0] + 1)
        assert net.evaluate(x) == two.evaluate(x)


def test_affine_function_gives_a_network_without_hidden_layers():
    dead = ReluNetwork.from_lists([([[1, 1]], [-5]), ([[2], [3]], ["1/2", 1])])  # dead on [0,1]^2
    form = certify(enumerate_regions(dead, Domain.box(["0", "0"], ["1", "1"])))
    assert form.depth == 0 and form.network.widths == (2, 2)
    assert form.network.evaluate(["1/3", "1"]) == (F(1, 2), F(1))


def test_lower_dimensional_domain_is_refused():
    e = enumerate_regions(MAX, Domain.box(["0", "1"], ["1", "1"]))
    with pytest.raises(DomainError, match="no interior.*full-dimensional domain"):
        lattice_form(e)


# ----------------------------------------------------------------------------- exports
def _float_bound(net: ReluNetwork, x, rounding: Fraction) -> float:
    """A bound on |float64 evaluation - exact value|: the weight rounding propagated through the
    layers (absolute weights), plus 2^-40 times the size of every intermediate value."""
    return float(rounding) * 10 ** (len(net.layers) + 1) * (1 + max(abs(float(v)) for v in x)) + 2.0 ** -40 * 10 ** len(net.layers)


@pytest.mark.parametrize("name", ["zigzag", "random-3-3-2", "random-2-3-2-1"])
def test_onnx_export_runs_in_onnxruntime(name, forms, tmp_path):
    pytest.importorskip("onnx", reason="the ONNX export needs the onnx extra")
    ort = pytest.importorskip("onnxruntime", reason="running the export needs onnxruntime (pip install 'exactrelu[onnx]')")
    import numpy as np
    from exactrelu.io import onnxfmt

    form = forms[name]
    net = form.network
    path = tmp_path / "F.onnx"
    error = onnxfmt.save(net, path, round_to_nearest=True)
    exact_weights = all(F(float(w)) == w for layer in net.layers for row in layer.weight for w in row) and \
        all(F(float(b)) == b for layer in net.layers for b in layer.bias)
    assert (error == 0) == exact_weights
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = random.Random(1)
    for x in _boundary_points(form.enumeration)[:20] + [tuple(F(rng.randint(-8, 8), 8) for _ in range(net.input_dim))]:
        (got,) = session.run(None, {"input": np.array([[float(v) for v in x]], dtype=np.float64)})
        for g, want in zip(got[0], net.evaluate(x)):
            assert abs(g - float(want)) <= _float_bound(net, x, error), (x, g, want)
    if exact_weights:
        assert onnxfmt.load(path) == net  # read back exactly


def test_rounding_is_reported(tmp_path):
    """A weight 1/3 is not a float64: refused without rounding, rounded to nearest with the error."""
    pytest.importorskip("onnx", reason="the ONNX export needs the onnx extra")
    from exactrelu.errors import NetworkFormatError
    from exactrelu.io import onnxfmt

    third = certify(enumerate_regions(ReluNetwork.from_lists([([["1/3"], [-1]], [0, 0]), ([[1, 1]], [0])])))
    with pytest.raises(NetworkFormatError, match="not a float64"):
        onnxfmt.save(third.network, tmp_path / "t.onnx")
    error = onnxfmt.save(third.network, tmp_path / "t.onnx", round_to_nearest=True)
    weights = [w for layer in third.network.layers for row in layer.weight for w in row]
    weights += [b for layer in third.network.layers for b in layer.bias]
    assert any(w.denominator == 3 for w in weights)  # the form keeps non-dyadic weights
    assert error == max(abs(F(float(w)) - w) for w in weights)
    assert 0 < error <= max(abs(w) for w in weights) / 2**53


def test_torch_export_is_an_nn_sequential_of_float64(forms, tmp_path):
    torch = pytest.importorskip("torch", reason="the PyTorch export needs the torch extra")
    from exactrelu.io import torchfmt

    form = forms["random-3-3-2"]
    net = form.network
    path = tmp_path / "F.pt"
    error = torchfmt.save(net, path, round_to_nearest=True)
    state = torch.load(path, weights_only=True)  # the state dict of an nn.Sequential: Linear at 0, 2, 4, ...
    modules = []
    for k, layer in enumerate(net.layers):
        modules += [torch.nn.ReLU()] * bool(k) + [torch.nn.Linear(net.widths[k], net.widths[k + 1], dtype=torch.float64)]
    model = torch.nn.Sequential(*modules)
    model.load_state_dict(state)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    for x in _boundary_points(form.enumeration)[:30]:
        got = model(torch.tensor([[float(v) for v in x]], dtype=torch.float64))[0].tolist()
        for g, want in zip(got, net.evaluate(x)):
            assert abs(g - float(want)) <= _float_bound(net, x, error)
    if error == 0:
        assert torchfmt.load(path) == net


# ----------------------------------------------------------------------------- the command
def test_shallow_finite_command(tmp_path, capsys):
    deep = tmp_path / "zig.json"
    save_json_network(ZIGZAG, deep)
    out = tmp_path / "F.json"
    code = main(["shallow", str(deep), "--box=-1:4", "--finite", "-o", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    cert = tmp_path / "F.cert.json"
    assert f"check it with: exactrelu check {cert} --model-a {deep} --model-b {out} --box=-1:4" in printed
    assert "finite network 1-" in printed
    assert checker.main([str(cert), "--model-a", str(deep), "--model-b", str(out), "--box=-1:4"]) == 0
    assert capsys.readouterr().out.strip() == "s VERIFIED"
    finite = load_json_network(out)
    for t in range(-8, 33):
        assert finite.evaluate([F(t, 8)]) == ZIGZAG.evaluate([F(t, 8)])
    code = main(["shallow", str(deep), "--box=-1:4", "--finite", "-o", str(out), "--json",
                 "--certificate", str(tmp_path / "c.json")])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["depth"] == len(finite.hidden_widths)
    assert summary["regions"] == 4 and summary["distinct_maps"] == [4] and summary["lattice_terms"] == [3]
    assert (tmp_path / "c.json").is_file()


def test_shallow_finite_refuses_a_flat_box(tmp_path, capsys):
    deep = tmp_path / "max.json"
    save_json_network(MAX, deep)
    code = main(["shallow", str(deep), "--box=0:1,1:1", "--finite", "-o", str(tmp_path / "F.json")])
    err = capsys.readouterr().err
    assert code == 2 and "full-dimensional domain" in err and "Traceback" not in err
    assert not (tmp_path / "F.json").exists()


# ----------------------------------------------------------------------------- sparse weights
SPARSE = {"format": "exactrelu-network", "version": 1,
          "layers": [{"weight": {"shape": [2, 2], "entries": [[0, 0, "1"], [1, 1, "-1/2"]]}, "bias": ["0", "1"]},
                     {"weight": {"shape": [1, 2], "entries": [[0, 1, 3]]}, "bias": ["0"]}]}


def test_a_sparse_weight_is_the_same_network_for_the_loader_and_the_checker(tmp_path):
    from exactrelu.io.jsonfmt import network_from_dict

    net = network_from_dict(SPARSE, "net")
    assert net.layers[0].weight == ((F(1), F(0)), (F(0), F(-1, 2))) and net.layers[1].weight == ((F(0), F(3)),)
    assert to_dict(net, sparse=True)["layers"][1]["weight"] == {"shape": [1, 2], "entries": [[0, 1, "3"]]}
    assert network_from_dict(to_dict(net, sparse=True), "net") == net
    assert checker.Network(SPARSE, "net").layers == [(list(map(list, layer.weight)), list(layer.bias)) for layer in net.layers]
    assert checker.Network(SPARSE, "net").sha256() == net.sha256() == checker.Network(net.to_dict(), "net").sha256()


def _sparse_with(change):
    data = json.loads(json.dumps(SPARSE))
    change(data["layers"][0]["weight"], data["layers"][1]["weight"])
    return data


SPARSE_FAULTS = [  # (change, the loader's message, the checker's location)
    (lambda w, _: w.update(shape=[2]), "'shape': [rows, cols]", "layers[0].weight.shape"),
    (lambda w, _: w.update(shape=[0, 2]), "'shape': [rows, cols]", "layers[0].weight.shape[0]"),
    (lambda _, w: w.update(shape=[1, 3]), "has 3 columns", "layers[1].weight.shape[1]"),
    (lambda w, _: w.update(entries={}), "'entries': a list", "layers[0].weight.entries"),
    (lambda w, _: w["entries"].append([1, 1]), "entry 2 must be [i, j, value]", "layers[0].weight.entries[2]"),
    (lambda w, _: w["entries"].append([2, 0, "1"]), "entry 2 must be [i, j, value]", "layers[0].weight.entries[2][0]"),
    (lambda w, _: w["entries"].append([1, 2, "1"]), "entry 2 must be [i, j, value]", "layers[0].weight.entries[2][1]"),
    (lambda w, _: w["entries"].reverse(), "strictly increasing", "layers[0].weight.entries[1]"),
    (lambda w, _: w["entries"][0].__setitem__(2, "x"), "weight[0][0]", "layers[0].weight.entries[0][2]"),
]


@pytest.mark.parametrize("change, message, where", SPARSE_FAULTS)
def test_a_malformed_sparse_weight_is_refused_in_one_line(change, message, where, tmp_path):
    from exactrelu.errors import NetworkFormatError
    from exactrelu.io.jsonfmt import network_from_dict

    data = _sparse_with(change)
    with pytest.raises(NetworkFormatError) as info:
        network_from_dict(data, "net")
    assert message in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(checker.CheckFailure) as failure:
        checker.Network(data, "net")
    assert failure.value.location == f"net.{where}"


# ----------------------------------------------------------------------------- regions split into cells
def _whole_region_terms_fail(e) -> list[int]:
    """The full-dimensional regions ``R_i`` (output 0) whose set ``S_i = {j : l_j >= l_i on cl R_i}``
    (exact LPs, over the regions' maps) has every map above ``f`` at some point of some region
    ``R_k`` (an exact feasibility LP): no term above ``l_i`` on the whole of ``R_i`` is ``<= f``."""
    rows = [e.domain.rows() + r.neuron_rows() for r in e.regions]
    maps = [(r.alpha[0], r.beta[0]) for r in e.regions]

    def minus(p, q):
        return [a - c for a, c in zip(p[0], q[0])], p[1] - q[1]

    failing = []
    for i, r in enumerate(e.regions):
        if not r.full_dimensional:
            continue
        above = [m for m in maps if lp.maximize(rows[i], *minus(maps[i], m), 2).value <= 0]
        if any(lp.decide(rows[k] + [(*minus(m, maps[k]), True) for m in above], 2).nonempty for k in range(len(maps))):
            failing.append(i)
    return failing


@pytest.mark.parametrize("name", ["random-2-4-4-4-1-s11", "random-2-4-4-4-1-s23"])
def test_a_region_without_a_term_above_it_whole_is_split_into_cells(name, forms, tmp_path, capsys):
    """On these networks over [-2, 2]^2 some region has no term above it on its whole closure that
    is <= f (checked independently here by exact LPs): the finite form splits such a region into
    cells by hyperplanes l_j = l_i, and its certificate splits check (a) of that region alike
    ("split" in the leaf); equality at every closure vertex and the pinned verdict are checked by
    the parametrized tests above."""
    form = forms[name]
    e = form.enumeration
    failing = _whole_region_terms_fail(e)
    assert failing
    split = [k for k, ev in enumerate(form.evidence) if ev[0].cell.split is not None]
    assert set(failing) <= set(split)
    out, cert, deep = tmp_path / "F.json", tmp_path / "F.cert.json", tmp_path / "deep.json"
    write_finite(form, out, cert)
    save_json_network(e.network, deep)
    leaves = json.loads(cert.read_text())["leaves"]
    assert all("split" in leaves[k]["lattice"][0] for k in split)
    assert checker.main([str(cert), "--model-a", str(deep), "--model-b", str(out), "--box=-2:2,-2:2"]) == 0
    assert capsys.readouterr().out.strip() == "s VERIFIED"
