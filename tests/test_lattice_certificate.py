"""The lattice certificate (``exactrelu-equivalence``, ``"method": "lattice"``) of the finite form:
the checker's own realisation of a max-min formula is the producer's, weight for weight; the
certificates of the random test networks and of the benchmark network 2-[12]-1 verify with both
networks pinned, the finite form equal to the deep network exactly at every vertex of every region
closure; tampered certificates (a wrong set ``S_t``, a changed weight of ``F``, a changed
multiplier, a missing term, a wrong term ``i0``, a malformed formula) are rejected at the field that
is wrong."""

from __future__ import annotations

import io
import json
import random
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import checker, lp
from exactrelu.domain import Domain
from exactrelu.finite import LatticeForm, certify, realise, write_finite
from exactrelu.io.jsonfmt import network_from_dict, save as save_json_network
from exactrelu.regions import enumerate_regions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from common import box, random_network  # noqa: E402
from finite import TEST_NETWORKS, small_network  # noqa: E402

F = Fraction
ZIGZAG_LISTS = [([[1], [1], [1]], [0, -1, -2]), ([[1, -2, "3/2"]], [0])]


def _cases():
    for name, widths in TEST_NETWORKS.items():
        yield name, small_network(widths), Domain.box(["-1"] * widths[0], ["1"] * widths[0])
    yield "2-[12]-1", random_network([2, 12, 1], seed=0), box(2)
    # regions with no term above the whole region: check (a) split by hyperplanes l_j = l
    yield "2-[4,4,4]-1 seed 11", random_network([2, 4, 4, 4, 1], seed=11), box(2)
    yield "2-[4,4,4]-2 seed 23", random_network([2, 4, 4, 4, 2], seed=23), box(2)


CASES = {name: (net, domain) for name, net, domain in _cases()}


@pytest.fixture(scope="module")
def forms():
    return {name: certify(enumerate_regions(net, domain)) for name, (net, domain) in CASES.items()}


def _write(form, tmp_path):
    out, cert, deep = tmp_path / "F.json", tmp_path / "F.cert.json", tmp_path / "deep.json"
    write_finite(form, out, cert)
    save_json_network(form.enumeration.network, deep)
    return out, cert, deep


def _check(path, **pins):
    """``(True, None)`` or ``(False, (location, reason))`` for the certificate at ``path``, the same
    serially and in 2 processes (``check --workers 2``)."""
    verdicts = []
    for workers in (1, 2):
        try:
            checker.Checker(str(path), workers=workers, **pins).run()
            verdicts.append((True, None))
        except checker.CheckFailure as exc:
            verdicts.append((False, (exc.location, exc.reason)))
    assert verdicts[0] == verdicts[1], verdicts
    return verdicts[0]


# ----------------------------------------------------------------------------- rule 1: the realisation
def _as_formula(form: LatticeForm):
    return [(list(maps), [list(t) for t in terms]) for maps, terms in zip(form.maps, form.terms)]


def test_checker_realisation_is_the_producers_on_random_formulas():
    """Random formulas, constant maps and one-map terms included (layers with no neuron, constants
    folded): the checker's stdlib construction gives exactly finite.realise's weights."""
    rng = random.Random(5)
    values = [F(0), F(0), F(1), F(-1), F(1, 2), F(-3, 2)]
    for _ in range(150):
        n, m = rng.randint(1, 3), rng.randint(1, 3)
        maps_all, terms_all = [], []
        for _ in range(m):
            maps = tuple({(tuple(rng.choice(values) for _ in range(n)), rng.choice(values)) for _ in range(rng.randint(1, 6))})
            terms = tuple(sorted({tuple(sorted(rng.sample(range(len(maps)), rng.randint(1, len(maps)))))
                                  for _ in range(rng.randint(1, 5))}))
            maps_all.append(maps)
            terms_all.append(terms)
        form = LatticeForm(n, tuple(maps_all), tuple(terms_all))
        net = realise(form)
        want = [([list(r) for r in layer.weight], list(layer.bias)) for layer in net.layers]
        assert checker.lattice_layers(n, _as_formula(form)) == want
        x = [rng.choice(values) for _ in range(n)]
        assert net.evaluate(x) == form.evaluate(x)


# ----------------------------------------------------------------------------- verified
@pytest.mark.parametrize("name", sorted(CASES))
def test_lattice_certificate_verifies_with_both_networks_pinned(name, forms, tmp_path, capsys):
    form = forms[name]
    out, cert, deep = _write(form, tmp_path)
    assert checker.main([str(cert), "--model-a", str(deep), "--model-b", str(out)]) == 0
    verdict = capsys.readouterr()
    assert verdict.out.strip() == "s VERIFIED" and verdict.err.count(", pinned (") == 2
    regions = len(form.enumeration.regions)
    assert f"{regions} regions of A" in verdict.err and "lattice: B realises max-min" in verdict.err
    data = json.loads(cert.read_text())
    assert (data["method"], data["combination"], len(data["leaves"])) == ("lattice", "lattice", regions)


def _on_first_layer_hyperplanes(net, domain) -> list:
    """Points of the box where a first-layer neuron is exactly 0: on each hyperplane, the point whose
    other coordinates are a grid value, and (two inputs) every crossing of two hyperplanes."""
    W, b = net.layers[0].weight, net.layers[0].bias
    lo, hi = domain.lower, domain.upper
    points = []
    grid = [lo[0] + (hi[0] - lo[0]) * F(t, 8) for t in range(9)]
    for w, c in zip(W, b):
        if w[-1]:
            for g in grid:
                rest = (g,) * (len(w) - 1)
                points.append((*rest, -(c + sum(a * v for a, v in zip(w, rest))) / w[-1]))
    if len(lo) == 2:
        for i in range(len(W)):
            for j in range(i):
                det = W[i][0] * W[j][1] - W[i][1] * W[j][0]
                if det:
                    points.append(((-b[i] * W[j][1] + b[j] * W[i][1]) / det, (-W[i][0] * b[j] + W[j][0] * b[i]) / det))
    return [x for x in points if domain.contains(x)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_finite_form_equals_the_deep_network_on_boundaries(name, forms):
    """Points where first-layer pre-activations are exactly 0 (two at once where hyperplanes cross),
    every witness, and on the networks with up to 40 regions every vertex of every region's closure:
    the finite form's exact output is the deep network's."""
    form = forms[name]
    e = form.enumeration
    points = [r.witness for r in e.regions] + _on_first_layer_hyperplanes(e.network, e.domain)
    if len(e.regions) <= 40:
        for r in e.regions:
            points += lp.vertices(e.domain.rows() + r.neuron_rows())
    zero = [x for x in points if any(sum((a * v for a, v in zip(w, x)), c) == 0
                                     for w, c in zip(e.network.layers[0].weight, e.network.layers[0].bias))]
    assert len(zero) >= len(e.network.layers[0].bias)
    finite = checker.Network(form.network.to_dict(), "F")  # exact, in integers: fast on F's sparse layers
    for x in points:
        assert finite.evaluate(list(x)) == list(e.network.evaluate(x)), x


def test_dump_and_symbolic(forms, tmp_path, capsys):
    out, cert, deep = _write(forms["rand 2-[3,2]-1"], tmp_path)
    assert checker.main([str(cert), "--model-b", str(out), "--dump", "--symbolic"]) == 0
    err = capsys.readouterr().err
    assert "lattice certificate: A = B" in err and "output 0:" in err and "leaves: 4" in err


# ----------------------------------------------------------------------------- tampered
@pytest.fixture(scope="module")
def zigzag():
    from exactrelu.network import ReluNetwork

    return certify(enumerate_regions(ReluNetwork.from_lists(ZIGZAG_LISTS), Domain.box(["-1"], ["4"])))


def _tampered(form, tmp_path, change, rebuild=False):
    """Write the certificate, apply ``change`` to its JSON; with ``rebuild`` B is re-realised from the
    changed formula and rehashed (a consistent forgery: only rule 2 can catch it)."""
    _, cert, _ = _write(form, tmp_path)
    data = json.loads(cert.read_text())
    change(data)
    if rebuild:
        form2 = LatticeForm(1, tuple(tuple((tuple(F(a) for a in mp["w"]), F(mp["b"])) for mp in out["maps"])
                                     for out in data["lattice"]),
                            tuple(tuple(tuple(t) for t in out["terms"]) for out in data["lattice"]))
        data["networks"]["B"] = realise(form2).to_dict()
        data["network_sha256"]["B"] = realise(form2).sha256()
    path = tmp_path / "bad.cert.json"
    path.write_text(json.dumps(data))
    return path


def _leaf_rows(form, k):
    r = form.enumeration.regions[k]
    return form.enumeration.domain.rows() + r.neuron_rows()


def test_zigzag_formula_is_the_documented_one(zigzag):
    """max(x/2 - 1, 0, min(2 - x, x)), maps numbered x/2 - 1, 2 - x, x, 0: the sets {x/2 - 1, x} of
    [2, 4] and {2 - x, 0} of [-1, 0] shrink to one map each (each alone is below f on the domain)."""
    assert zigzag.lattice.maps[0] == (((F(1, 2),), F(-1)), ((F(-1),), F(2)), ((F(1),), F(0)), ((F(0),), F(0)))
    assert zigzag.lattice.terms[0] == ((0,), (3,), (1, 2))


def test_wrong_set_is_rejected_by_the_realisation_and_by_the_leaves(zigzag, tmp_path):
    def wrong_set(d):  # term {x/2 - 1} becomes {x/2 - 1, 0}
        d["lattice"][0]["terms"][0] = [0, 3]

    ok, (where, reason) = _check(_tampered(zigzag, tmp_path, wrong_set))
    assert not ok and where.startswith("networks.B.layers[") and "the realisation" in reason
    ok, (where, reason) = _check(_tampered(zigzag, tmp_path, wrong_set, rebuild=True))
    assert not ok and where.startswith("leaves[") and ".lattice[0]." in where


def test_a_changed_weight_of_f_is_rejected(zigzag, tmp_path):
    def change(d):
        layer = d["networks"]["B"]["layers"][0]
        layer["bias"][0] = str(F(layer["bias"][0]) + F(1, 1000))
        d["network_sha256"]["B"] = network_from_dict(d["networks"]["B"], "B").sha256()

    ok, (where, reason) = _check(_tampered(zigzag, tmp_path, change))
    assert not ok and where == "networks.B.layers[0]" and reason.startswith("neuron 0 differs")
    ok, (where, _) = _check(_tampered(zigzag, tmp_path, lambda d: None), model_b=str(tmp_path / "deep.json"))
    assert not ok and where == "network B"  # F pinned to another file


def test_changed_multipliers_are_rejected(forms, tmp_path):
    form = forms["2-[12]-1"]
    k, ev = next((k, ev[0]) for k, ev in enumerate(form.evidence) if any(ev[0].cell.above) and
                 any(len(y) > 1 for y in ev[0].below))
    s = next(s for s, y in enumerate(ev.cell.above) if y)
    t = next(t for t, y in enumerate(ev.below) if len(y) > 1)

    def above(d):
        pair = d["leaves"][k]["lattice"][0]["above"][s][0]
        pair[1] = str(F(pair[1]) * 2)

    def below(d):
        d["leaves"][k]["lattice"][0]["below"][t].pop()

    ok, (where, reason) = _check(_tampered(form, tmp_path, above))
    assert not ok and where == f"leaves[{k}].lattice[0].above[{s}]" and "do not reproduce the objective" in reason
    ok, (where, _) = _check(_tampered(form, tmp_path, below))
    assert not ok and where == f"leaves[{k}].lattice[0].below[{t}]"


def _split_leaf(form):
    """The first leaf whose check (a) of output 0 is split, and the JSON of that output's evidence."""
    return next(k for k, ev in enumerate(form.evidence) if ev[0].cell.split is not None)


def test_every_output_of_a_two_output_network_has_split_cells(forms):
    form = forms["2-[4,4,4]-2 seed 23"]
    assert all(any(ev[o].cell.split is not None for ev in form.evidence) for o in range(2))


def test_swapped_sides_of_a_split_are_rejected(forms, tmp_path):
    """ge and le exchanged: a part's multipliers read the split row with the wrong sign (some part
    uses it, else its term would lie above on the whole region and no split was made)."""
    form = forms["2-[4,4,4]-1 seed 11"]
    k = _split_leaf(form)

    def swap(d):
        ev = d["leaves"][k]["lattice"][0]
        ev["ge"], ev["le"] = ev["le"], ev["ge"]

    ok, (where, reason) = _check(_tampered(form, tmp_path, swap))
    assert not ok and where.startswith(f"leaves[{k}].lattice[0].") and ".above[" in where, where
    assert "do not reproduce the objective" in reason or "not <= 0" in reason


@pytest.mark.parametrize("change, suffix, reason", [
    (lambda ev: ev.update(split=10 ** 6), "split", "expected an integer"),
    (lambda ev: ev.pop("le"), "le", "missing field"),
    (lambda ev: ev.update(ge=5), "ge", "expected a JSON object"),
])
def test_malformed_splits_are_rejected(forms, tmp_path, change, suffix, reason):
    form = forms["2-[4,4,4]-1 seed 11"]
    k = _split_leaf(form)
    ok, failure = _check(_tampered(form, tmp_path, lambda d: change(d["leaves"][k]["lattice"][0])))
    assert not ok and failure[0] == f"leaves[{k}].lattice[0].{suffix}" and reason in failure[1], failure


def test_missing_term_is_rejected(zigzag, tmp_path):
    """Drop the term min(2 - x, x) (the region [0, 1]'s own) and its evidence, F rebuilt: the region
    [0, 1] has no term above its map any more."""
    def drop(d):
        assert d["lattice"][0]["terms"].pop() == [1, 2]
        for leaf in d["leaves"]:
            ev = leaf["lattice"][0]
            ev["below"].pop()
            if ev["term"] == 2:
                ev["term"], ev["above"] = 0, [[]]

    ok, (where, reason) = _check(_tampered(zigzag, tmp_path, drop, rebuild=True))
    assert not ok and ".lattice[0].above[" in where


def test_wrong_top_term_with_honest_multipliers_is_rejected(zigzag, tmp_path):
    """On [2, 4] (map x/2 - 1) claim the term min(2 - x, x) lies above, with the exact LP duals of
    max (l - l_j) over the region: the bound they prove is positive."""
    e = zigzag.enumeration
    k = next(k for k, r in enumerate(e.regions) if r.alpha[0] == (F(1, 2),))
    maps, bad = zigzag.lattice.maps[0], 2
    proofs = []
    for j in zigzag.lattice.terms[0][bad]:
        d = (F(1, 2) - maps[j][0][0],)
        opt = lp.maximize(_leaf_rows(zigzag, k), d, F(-1) - maps[j][1], 1)
        proofs.append([[m, str(y)] for m, y in opt.multipliers.items()])

    def change(d):
        d["leaves"][k]["lattice"][0]["term"] = bad
        d["leaves"][k]["lattice"][0]["above"] = proofs

    ok, (where, reason) = _check(_tampered(zigzag, tmp_path, change))
    assert not ok and where.startswith(f"leaves[{k}].lattice[0].above[") and "not <= 0" in reason


@pytest.mark.parametrize("change, where, reason", [
    (lambda d: d.update(combination="side-by-side"), "combination", "expected 'lattice'"),
    (lambda d: d.update(order="pattern"), "order", "layer-major"),
    (lambda d: d.update(claim={"kind": "max_deviation", "norm": "inf"}), "claim.kind", "claims equality"),
    (lambda d: d["lattice"][0]["terms"].append([]), "lattice[0].terms[3]", "empty term"),
    (lambda d: d["lattice"][0].update(terms=[]), "lattice[0].terms", "no term"),
    (lambda d: d["lattice"][0]["terms"][0].append(9), "lattice[0].terms[0][1]", ""),
    (lambda d: d["networks"].update(B=d["networks"]["A"]), "networks.B", "has 2 layers, the realisation of the lattice formula 4"),
    (lambda d: d["leaves"][0]["lattice"][0].update(term=7), "leaves[0].lattice[0].term", ""),
])
def test_malformed_lattice_certificates_are_rejected(zigzag, tmp_path, change, where, reason):
    def apply(d):
        change(d)
        d["network_sha256"]["B"] = network_from_dict(d["networks"]["B"], "B").sha256()

    ok, failure = _check(_tampered(zigzag, tmp_path, apply))
    assert not ok and failure[0] == where and reason in failure[1], failure


def test_a_layer_of_another_width_is_rejected(zigzag, tmp_path):
    def widen(d):
        d["networks"]["B"] = network_from_dict(d["networks"]["B"], "B").to_dict()  # dense, to widen it
        layers = d["networks"]["B"]["layers"]
        layers[0]["weight"].append(["0"])
        layers[0]["bias"].append("0")
        for row in layers[1]["weight"]:
            row.append("0")
        d["network_sha256"]["B"] = network_from_dict(d["networks"]["B"], "B").sha256()

    ok, (where, reason) = _check(_tampered(zigzag, tmp_path, widen))
    assert not ok and where == "networks.B.layers[0]" and "neurons, the realisation" in reason


def test_stats_report_lines(zigzag, tmp_path):
    _, cert, deep = _write(zigzag, tmp_path)
    run = checker.Checker(str(cert), model_a=str(deep))
    out, err = io.StringIO(), io.StringIO()
    assert checker.report(run, out=out, err=err) == 0
    assert "4 regions of A" in err.getvalue() and "3 terms" in err.getvalue()
    assert run.stats["leaves"] == 4


def test_report_renders_the_zigzag_lattice_certificate(zigzag, tmp_path):
    """The formula, the pieces and, per region, the term t0 with its bounds and every term's Motzkin
    sum, with the zigzag's own values: on [2, 4] (map x/2 - 1) term 3 = min(2 - x, x) is at most A
    because 2 - x > x/2 - 1 and x - 2 > 0 add up (3/2 and 1) to 0 > 0; on [0, 1] the term
    min(l2, l3) lies above x since 2 - x - x <= 0 after 2 * (1 - x >= 0)."""
    from exactrelu.cli import main

    out, cert, deep = _write(zigzag, tmp_path)
    for latex, name in ((False, "p.md"), (True, "p.tex")):
        args = ["report", str(cert), "--model-a", str(deep), "--model-b", str(out), "-o", str(tmp_path / name)]
        assert main(args + (["--latex"] if latex else [])) == 0
    md, tex = (tmp_path / "p.md").read_text(), (tmp_path / "p.tex").read_text()
    assert "# Proof: A = B, B the finite-weight lattice form of A" in md
    for line in ("- `l1(x) = x1/2 - 1`", "- `l2(x) = -x1 + 2`", "- `l3(x) = x1`", "- `l4(x) = 0`",
                 "`f(x) = max(l1, l4, min(l2, l3))`."):
        assert line in md, line
    assert "widths 1-5-4-3-1, 53 parameters" in md and "4 regions and 3 empty branches" in md
    regions = md.split("\n\n**Region ")[1:]
    assert len(regions) == 4
    by_map = {next(line for line in b.splitlines() if line.startswith("- A's map")): b for b in regions}
    top = by_map["- A's map: `A = x1/2 - 1`"]
    assert "- term `l1` (term 1) lies above `A` on the region's closure:" in top
    assert "- term 1 is at most `A`: its map `l1 = A` everywhere" in top
    assert ("- term 3 is at most `A`: a point of the region with `l2 > A` would satisfy `3/2 × (x1 - 2 > 0)` + "
            "`1 × (-3*x1/2 + 3 > 0)`, whose x-terms cancel, leaving `0 > 0`, which is false") in top
    rise = by_map["- A's map: `A = x1`"]
    assert "- term `min(l2, l3)` (term 3) lies above `A` on the region's closure:" in rise
    assert ("- above: `A - l2 = 2*x1 - 2`; adding `2 × (-x1 + 1 >= 0)` (the region's rows, closed) cancels the "
            "x-terms: `A - l2 <= 0`, and `0 <= 0`") in rise
    assert "- above: `A - l3 = 0` everywhere" in rise
    assert md.count(" is at most `A`: ") == 4 * 3  # every term on every region
    assert "Hence A(x) = B(x) at every point of `[-1, 4]`.\u00a0∎" in md
    assert r"f(x) = \max(l_{1}, l_{4}, \min(l_{2}, l_{3}))" in tex and r"\frac{3}{2} \times" in tex


def test_report_renders_a_split_region(forms, tmp_path):
    """A region whose check (a) is split: each part, its half-space and its own term, recomputed."""
    from exactrelu.cli import main

    form = forms["2-[4,4,4]-1 seed 11"]
    out, cert, deep = _write(form, tmp_path)
    assert main(["report", str(cert), "--model-a", str(deep), "--model-b", str(out), "-o", str(tmp_path / "p.md")]) == 0
    md = (tmp_path / "p.md").read_text()
    splits = sum(json.dumps(leaf).count('"split"') for leaf in json.loads(cert.read_text())["leaves"])
    assert splits and md.count("on the part where ") == 2 * splits
    assert md.count(" >= A` (a closed half-space") == md.count(" <= A` (a closed half-space") == splits
    assert "lies above `A` on that part:" in md
