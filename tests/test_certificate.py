"""Certificates of many random exact networks verify with the independent checker.

Networks are small integer-weight ReLU networks drawn with ``random.Random(seed)``, degenerate
ones on purpose (duplicated and proportional neurons, zero rows, dead neurons, parallel
hyperplanes, three lines through a point, several outputs, no hidden layer, three hidden
layers), over ``R^n``, boxes and polytopes.  For each one: both equation methods succeed, the
certificate verifies with the shallow network named in a file and embedded, the shallow network
agrees with the deep one at the witnesses and at random rational points, the file is JSON whose
every rational is a string, and no temporary file is left behind.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import replace
from fractions import Fraction
from types import SimpleNamespace
from pathlib import Path

import pytest

from exactrelu import checker
from exactrelu.bruteforce import brute_force_patterns
from exactrelu.certificate import Separation, check_gates, equate, write_certificate
from exactrelu.commands import main as cli_main
from exactrelu.domain import Domain
from exactrelu.errors import InternalError
from exactrelu.io.jsonfmt import save as save_network
from exactrelu.network import ReluNetwork
from exactrelu.regions import Empty, Leaf, Split, enumerate_regions
from exactrelu.shallow import SparseLayer, build_shallow, save_shallow

KINDS = (
    "plain", "duplicated", "zero_rows", "dead", "parallel", "three_lines",
    "multi_output", "no_hidden", "deep", "degenerate_second_layer", "one_input", "three_inputs",
)
SEEDS = range(36)


# ============================================================================ random networks
def _w(rng: random.Random, lo: int = -3, hi: int = 3) -> int:
    return rng.randint(lo, hi)


def _bias(rng: random.Random) -> str:
    return rng.choice(["0", "1", "-1", "1/2", "-3/2", "2", "-1/3"])


def _layer(rng: random.Random, rows: int, cols: int) -> tuple[list, list]:
    W = [[_w(rng) for _ in range(cols)] for _ in range(rows)]
    for row in W:  # keep most neurons non-constant; zero rows are a kind of their own
        if not any(row):
            row[rng.randrange(cols)] = rng.choice([-1, 1])
    return W, [_bias(rng) for _ in range(rows)]


def draw_network(seed: int) -> tuple[str, ReluNetwork]:
    """A small network of kind ``KINDS[seed % len(KINDS)]`` (deterministic in ``seed``)."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    n = 2
    out = 1
    if kind == "plain":
        widths = [rng.randint(3, 5)] + [rng.randint(1, 3)] * rng.randint(0, 1)
    elif kind == "one_input":
        n, widths = 1, [rng.randint(2, 4), rng.randint(1, 3)]
    elif kind == "three_inputs":
        n, widths = 3, [rng.randint(2, 4)]
    elif kind == "multi_output":
        widths, out = [rng.randint(2, 3), 2], rng.randint(2, 3)
    elif kind == "deep":
        widths = [2, 2, 2]
    elif kind == "no_hidden":
        n, widths, out = rng.randint(1, 3), [], rng.randint(1, 2)
    else:
        widths = [rng.randint(3, 4)] + [2] * rng.randint(0, 1)
    layers = []
    cols = n
    for width in widths:
        layers.append(_layer(rng, width, cols))
        cols = width
    layers.append(_layer(rng, out, cols))
    W0, b0 = layers[0] if widths else ([], [])
    if kind == "duplicated":  # the same neuron twice, and a positive multiple of it
        W0[1], b0[1] = list(W0[0]), b0[0]
        W0[2], b0[2] = [2 * v for v in W0[0]], str(2 * Fraction(b0[0]))
    elif kind == "zero_rows":  # constant neurons: always active, always inactive, exactly zero
        W0[0], b0[0] = [0] * n, "1"
        W0[1], b0[1] = [0] * n, rng.choice(["0", "-2"])
    elif kind == "dead":  # inactive on every box point, and one dead in the second layer too
        W0[0], b0[0] = [1, 1], "-5"
        if len(layers) > 2:
            layers[1][0][0], layers[1][1][0] = [0] * len(layers[1][0][0]), "-1"
    elif kind == "parallel":  # w, w shifted, and -w: three parallel hyperplanes
        W0[1], b0[1] = list(W0[0]), str(Fraction(b0[0]) + 1)
        W0[2], b0[2] = [-v for v in W0[0]], "1/2"
    elif kind == "three_lines":  # x1, x2 and x1 + x2 through one point (p, q)
        p, q = rng.choice([0, 1, -1]), rng.choice([0, 1])
        W0[0], b0[0] = [1, 0], str(-p)
        W0[1], b0[1] = [0, 1], str(-q)
        W0[2], b0[2] = [1, 1], str(-p - q)
    elif kind == "degenerate_second_layer" and len(layers) > 2:
        W1, b1 = layers[1]
        W1[1], b1[1] = list(W1[0]), b1[0]  # a duplicated second-layer neuron
    return kind, ReluNetwork.from_lists(layers)


def random_domain(seed: int, n: int) -> Domain:
    """``R^n``, a box or a simplex; every kind of network meets every kind of domain."""
    choice = (seed + seed // len(KINDS)) % 3
    if choice == 0:
        return Domain.reals(n)
    rng = random.Random(1000 + seed)
    if choice == 1 or n == 1 and seed % 2:
        lo = [rng.choice(["-2", "-1", "-3/2", "0"]) for _ in range(n)]
        hi = [str(Fraction(a) + rng.choice([1, 2, Fraction(5, 2)])) for a in lo]
        return Domain.box(lo, hi)
    # a simplex: x_i >= -1 for every i and x_1 + ... + x_n <= 1
    A = [[-1 if j == i else 0 for j in range(n)] for i in range(n)] + [[1] * n]
    b = ["1"] * n + ["1"]
    return Domain.polytope(A, b)


def rational_points(domain: Domain, rng: random.Random, count: int) -> list[tuple[Fraction, ...]]:
    """Random rational points of ``domain`` (rejection sampling in a box around it)."""
    n = domain.dim
    points = []
    while len(points) < count:
        if domain.kind == "box":
            x = tuple(a + (c - a) * Fraction(rng.randint(0, 12), 12) for a, c in zip(domain.lower, domain.upper))
        else:
            x = tuple(Fraction(rng.randint(-36, 36), 12) for _ in range(n))
        if domain.contains(x):
            points.append(x)
    return points


# ============================================================================ JSON walking
INT_FIELDS = re.compile(
    r"(.*\.)?(version|input_dim|output_dim|dim|rows|cols)"
    r"|leaves\[\d+\]\.pattern\[\d+\]\[\d+\]|tree\[\d+\]\.(leaf|split\[[01]\]|empty\[\d+\]\[0\])"
    r"|shallow\.network\.layers\[\d+\]\.weights\[\d+\]\[[01]\]|shallow\.network\.(strict|weak)\[\d+\]\[\d+\]"
)
RATIONAL_FIELDS = re.compile(
    r"network\.layers\[\d+\]\.(weight\[\d+\]|bias)\[\d+\]|domain\.(lower|upper|b|A\[\d+\])\[\d+\]"
    r"|leaves\[\d+\]\.(witness\[\d+\]|alpha\[\d+\]\[\d+\]|beta\[\d+\])"
    r"|tree\[\d+\]\.empty\[\d+\]\[1\]|shallow\.network\.(H\[\d+\]\[\d+\]|c\[\d+\]|alpha\[\d+\]\[\d+\]\[\d+\]|beta\[\d+\]\[\d+\])"
    r"|shallow\.network\.layers\[\d+\]\.(weights\[\d+\]\[2\]|bias\[\d+\])"
)
RATIONAL = re.compile(r"-?\d+(/\d+)?")


def walk(value, path: str = ""):
    """Yield ``(path, value)`` for every scalar (the tree is flat: ``tree[t].split``, ``tree[t].leaf``,
    ``tree[t].empty[i][j]``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")
    else:
        yield path, value


def assert_rationals_are_strings(text: str) -> None:
    """Valid JSON, no float anywhere, integers only where counts and indices belong, and every
    rational (weights, bounds, witnesses, maps, multipliers, shallow weights) a ``"p/q"`` string."""
    def no_float(token: str):
        raise AssertionError(f"JSON float {token} in the certificate")

    data = json.loads(text, parse_float=no_float, parse_constant=no_float)
    rationals = 0
    for path, value in walk(data):
        assert not isinstance(value, float), path
        if isinstance(value, bool) or value is None:
            assert re.fullmatch(r"leaves\[\d+\]\.full_dimensional", path), path
        elif isinstance(value, int):
            assert INT_FIELDS.fullmatch(path), f"integer {value} at {path}"
        elif RATIONAL_FIELDS.fullmatch(path):
            rationals += 1
            assert isinstance(value, str), path
            if not (path.startswith("shallow.network.layers") and value in ("inf", "-inf")):
                assert RATIONAL.fullmatch(value) and Fraction(value).denominator == int((value.split("/") + ["1"])[1]), \
                    f"{path}: {value!r} is not a rational in lowest terms"
        else:
            assert isinstance(value, str), path
    assert rationals > 0


# ============================================================================ helpers
def run_checker(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = checker.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def certify(tmp_path: Path, net: ReluNetwork, domain: Domain):
    """The enumeration and the shallow network (``tmp_path`` unused: kept for symmetry of calls)."""
    e = enumerate_regions(net, domain)
    s = build_shallow(e)
    return e, s


CASES = {seed: draw_network(seed) for seed in SEEDS}


def gates_pairwise_closed(s) -> bool:
    """The quadratic definition: every two regions have a ``j`` strict in one and weak in the other."""
    strict, weak = [set(v) for v in s.strict], [set(v) for v in s.weak]
    return all(strict[k] & weak[o] or weak[k] & strict[o] for k in range(s.regions) for o in range(k))


def test_the_cases_cover_every_kind_and_domain() -> None:
    kinds = {kind for kind, _ in CASES.values()}
    assert kinds == set(KINDS)
    domains = {random_domain(seed, net.input_dim).kind for seed, (_, net) in CASES.items()}
    assert domains == {"reals", "box", "polytope"}
    assert len(CASES) >= 30


@pytest.mark.parametrize("seed", SEEDS)
def test_random_network_certificate_verifies(seed: int, tmp_path: Path, capsys) -> None:
    kind, net = CASES[seed]
    domain = random_domain(seed, net.input_dim)
    e, s = certify(tmp_path, net, domain)
    equate(e, s, "flint")
    equate(e, s, "sympy")
    assert gates_pairwise_closed(s)  # what check_gates (inside equate) claims, pair by pair

    shallow_path = tmp_path / "shallow.json"
    named = tmp_path / "named.cert.json"
    embedded = tmp_path / "embedded.cert.json"
    save_shallow(s, shallow_path)
    assert write_certificate(named, e, s, shallow_path) == named.stat().st_size
    write_certificate(embedded, e, s)
    assert sorted(os.listdir(tmp_path)) == ["embedded.cert.json", "named.cert.json", "shallow.json"]

    stats = f"c {len(e.regions)} regions, {e.empty_children} branches proved empty, {s.hyperplanes} hyperplanes, " \
            f"{net.neuron_count} neurons\n"
    for cert, guard in ((named, "--guard"), (embedded, "--symbolic")):
        code, out, err = run_checker(capsys, cert, guard)
        assert (code, out) == (0, "s VERIFIED\n") and err.endswith(stats), (kind, cert.name)
        assert_rationals_are_strings(cert.read_text(encoding="utf-8"))
    named_json = json.loads(named.read_text(encoding="utf-8"))
    embedded_json = json.loads(embedded.read_text(encoding="utf-8"))
    assert named_json["shallow"] == {"file": "shallow.json", "sha256": s.sha256()}
    assert embedded_json["shallow"]["network"] == json.loads(shallow_path.read_text(encoding="utf-8"))
    assert len(embedded_json["leaves"]) == len(e.regions)

    # the producer's shallow network is the deep network, at every witness and at random points
    rng = random.Random(seed)
    points = [r.witness for r in e.regions] + rational_points(domain, rng, 6)
    for x in points:
        assert s.evaluate(x) == net.evaluate(x), (kind, x)


CONFTEST_KINDS = ("generic", "duplicate", "zero_row", "zero_neuron", "dead", "parallel", "concurrent", "touching",
                  "multi_output", "mixed")


@pytest.mark.parametrize("kind", CONFTEST_KINDS)
def test_shared_factory_networks_certify(kind: str, random_network, tmp_path: Path, capsys) -> None:
    """The degenerate kinds of tests/conftest.py (two and three inputs, over the box [-1, 1]^n,
    where ``touching`` hyperplanes only meet the boundary) certify too."""
    rng = random.Random(f"certificate-{kind}")
    for dims in ((2, 3, 2, 1), (3, 3, 1)):
        net = random_network(rng, dims, kind)
        n = net.input_dim
        e, s = certify(tmp_path, net, Domain.box(["-1"] * n, ["1"] * n))
        equate(e, s, "flint")
        write_certificate(tmp_path / "c.json", e, s)
        assert run_checker(capsys, tmp_path / "c.json")[:2] == (0, "s VERIFIED\n"), (kind, dims)
        for x in rational_points(e.domain, rng, 4):
            assert s.evaluate(x) == net.evaluate(x)


@pytest.mark.parametrize("seed", [s for s in SEEDS if len(CASES[s][1].hidden_widths) and CASES[s][1].neuron_count <= 5][:6])
def test_regions_match_brute_force(seed: int) -> None:
    """The certified leaves are exactly the nonempty patterns found by deciding all ``2^N``."""
    _, net = CASES[seed]
    domain = random_domain(seed, net.input_dim)
    e = enumerate_regions(net, domain)
    brute = brute_force_patterns(net, domain)
    assert {r.flat_pattern: r.full_dimensional for r in e.regions} == brute


def test_lower_dimensional_regions_are_certified(tmp_path: Path, capsys) -> None:
    """``x, -x`` meet at ``x = 0``: the lower-dimensional region is a leaf with a witness on it."""
    net = ReluNetwork.from_lists([([[1, 0], [-1, 0], [1, 1], [0, 1]], [0, 0, 0, 0]), ([[1, 2, -1, 3], [0, 1, 1, 0]], [0, 1])])
    e, s = certify(tmp_path, net, Domain.box(["-1", "-1"], ["1", "1"]))
    assert e.lower_dimensional > 0 and e.empty_children > 0
    equate(e, s, "flint")
    write_certificate(tmp_path / "c.json", e, s)
    leaves = json.loads((tmp_path / "c.json").read_text())["leaves"]
    assert sum(not leaf["full_dimensional"] for leaf in leaves) == e.lower_dimensional
    assert run_checker(capsys, tmp_path / "c.json")[:2] == (0, "s VERIFIED\n")


@pytest.mark.parametrize("seed", [0, 5, 8, 13, 21])
def test_symbolic_check_verifies(seed: int, tmp_path: Path, capsys) -> None:
    _, net = CASES[seed]
    e, s = certify(tmp_path, net, random_domain(seed, net.input_dim))
    write_certificate(tmp_path / "c.json", e, s)
    code, out, _ = run_checker(capsys, tmp_path / "c.json", "--symbolic")
    assert (code, out) == (0, "s VERIFIED\n")


def test_equation_methods_refuse_a_wrong_shallow_network(tmp_path: Path) -> None:
    """Same regions, other affine maps: both methods must refuse to equate (and an unknown one too)."""
    deep = ReluNetwork.from_lists([([[1, 0], [-1, 1]], [0, "1/2"]), ([[1, 2]], [0])])
    twice = ReluNetwork.from_lists([([[1, 0], [-1, 1]], [0, "1/2"]), ([[2, 4]], [1])])
    e, s = certify(tmp_path, deep, Domain.reals(2))
    e2, s2 = certify(tmp_path, twice, Domain.reals(2))
    assert [r.pattern for r in e.regions] == [r.pattern for r in e2.regions]
    equate(e, s, "flint")
    equate(e, s, "sympy")
    for method in ("flint", "sympy"):
        with pytest.raises(InternalError, match=r"region \d+: deep and shallow outputs differ"):
            equate(e, s2, method)
    with pytest.raises(Exception, match="unknown method 'maple'"):
        equate(e, s, "maple")


def test_model_option_binds_the_certificate_to_its_network(tmp_path: Path, capsys) -> None:
    _, net = CASES[1]
    _, other = CASES[2]
    e, s = certify(tmp_path, net, random_domain(1, net.input_dim))
    write_certificate(tmp_path / "c.json", e, s)
    save_network(net, tmp_path / "net.json")
    save_network(other, tmp_path / "other.json")
    assert run_checker(capsys, tmp_path / "c.json", "--model", tmp_path / "net.json")[:2] == (0, "s VERIFIED\n")
    code, out, err = run_checker(capsys, tmp_path / "c.json", "--model", tmp_path / "other.json")
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.startswith("c deep network: the certificate is about another network than ")


def test_model_written_with_json_floats_is_the_same_network(tmp_path: Path, capsys) -> None:
    """``--model`` accepts the network format's JSON numbers, converted exactly: 0.75 is 3/4, but
    0.1 is the binary64 value nearest 1/10, which is not 1/10."""
    net = ReluNetwork.from_lists([([["3/4", "-1/2"], ["1/8", 2]], ["1/4", "-5/2"]), ([[1, "-3/2"]], ["1/16"])])
    e, s = certify(tmp_path, net, Domain.box(["-1", "-1"], ["1", "1"]))
    write_certificate(tmp_path / "c.json", e, s)
    data = net.to_dict()
    data["layers"] = [{"weight": [[float(Fraction(v)) for v in row] for row in layer["weight"]],
                       "bias": [float(Fraction(v)) for v in layer["bias"]]} for layer in data["layers"]]
    (tmp_path / "floats.json").write_text(json.dumps(data))
    assert "0.75" in (tmp_path / "floats.json").read_text()
    assert run_checker(capsys, tmp_path / "c.json", "--model", tmp_path / "floats.json")[:2] == (0, "s VERIFIED\n")
    # a certificate about the output bias 1/10 is not about the binary64 number 0.1
    tenth = ReluNetwork.from_lists([([["3/4", "-1/2"], ["1/8", 2]], ["1/4", "-5/2"]), ([[1, "-3/2"]], ["1/10"])])
    e, s = certify(tmp_path, tenth, Domain.box(["-1", "-1"], ["1", "1"]))
    write_certificate(tmp_path / "tenth.cert.json", e, s)
    data["layers"][1]["bias"] = [0.1]
    (tmp_path / "tenth.json").write_text(json.dumps(data))
    code, out, err = run_checker(capsys, tmp_path / "tenth.cert.json", "--model", tmp_path / "tenth.json")
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c deep network: ")
    data["layers"][1]["bias"] = ["1/10"]
    (tmp_path / "tenth.json").write_text(json.dumps(data))
    assert run_checker(capsys, tmp_path / "tenth.cert.json", "--model", tmp_path / "tenth.json")[:2] == (0, "s VERIFIED\n")


def test_shallow_option_and_a_moved_shallow_file(tmp_path: Path, capsys) -> None:
    _, net = CASES[3]
    e, s = certify(tmp_path, net, random_domain(3, net.input_dim))
    (tmp_path / "sub").mkdir()
    save_shallow(s, tmp_path / "sub" / "s.json")
    write_certificate(tmp_path / "c.json", e, s, tmp_path / "sub" / "s.json")
    assert json.loads((tmp_path / "c.json").read_text())["shallow"]["file"] == os.path.join("sub", "s.json")
    assert run_checker(capsys, tmp_path / "c.json")[:2] == (0, "s VERIFIED\n")
    os.replace(tmp_path / "sub" / "s.json", tmp_path / "moved.json")
    code, out, err = run_checker(capsys, tmp_path / "c.json")
    assert (code, out) == (1, "s NOT VERIFIED\n") and "cannot read the shallow network: no such file" in err
    assert run_checker(capsys, tmp_path / "c.json", "--shallow", tmp_path / "moved.json")[:2] == (0, "s VERIFIED\n")
    # another shallow network (of another deep network) does not pass for this one
    _, other = CASES[4]
    e2, s2 = certify(tmp_path, other, random_domain(4, other.input_dim))
    save_shallow(s2, tmp_path / "other-shallow.json")
    code, out, err = run_checker(capsys, tmp_path / "c.json", "--shallow", tmp_path / "other-shallow.json")
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.startswith(f"c shallow.sha256: does not match the shallow network {tmp_path / 'other-shallow.json'}\n")


def test_dump_prints_the_network_and_sizes(tmp_path: Path, capsys) -> None:
    net = ReluNetwork.from_lists([([[1, "-1/2"], [0, 3]], ["1/3", -1]), ([[1, 1]], [0])])
    domain = Domain.box(["-1", "-1"], ["1", "2"])
    e, s = certify(tmp_path, net, domain)
    write_certificate(tmp_path / "c.json", e, s)
    code, out, err = run_checker(capsys, tmp_path / "c.json", "--dump")
    assert (code, out) == (0, "s VERIFIED\n")
    lines = err.splitlines()
    assert lines[0] == f"deep network: widths [2, 2, 1], sha256 {net.sha256()}"
    assert lines[1] == "  layer 0: W = [['1', '-1/2'], ['0', '3']], b = ['1/3', '-1']"
    assert lines[2] == "  layer 1: W = [['1', '1']], b = ['0']"
    assert lines[3].startswith("domain: ") and json.loads(lines[3][8:]) == domain.to_dict()
    assert lines[4] == f"shallow network: layer widths {[layer.rows for layer in s.layers]}, sha256 {s.sha256()}"
    assert lines[5] == f"leaves: {len(e.regions)}"
    assert lines[6].startswith('producer: {"exactrelu": ')
    assert lines[-1].startswith(f"c {len(e.regions)} regions, ")
    # the command-line front end passes the same flags through
    capsys.readouterr()
    assert cli_main(["check", str(tmp_path / "c.json"), "--dump", "--symbolic"]) == 0
    out2, err2 = capsys.readouterr()
    assert out2 == "s VERIFIED\n" and err2.splitlines()[:6] == lines[:6]


def test_certificate_writing_is_atomic(tmp_path: Path, monkeypatch) -> None:
    """A failure while streaming leaves neither a partial file nor a temporary file, and an
    existing certificate at the path stays as it was."""
    import exactrelu.certificate as certificate

    _, net = CASES[0]
    e, s = certify(tmp_path, net, random_domain(0, net.input_dim))
    path = tmp_path / "c.json"
    write_certificate(path, e, s)
    before = path.read_bytes()
    assert os.listdir(tmp_path) == ["c.json"]
    real_chunks = certificate.tree_chunks

    def failing(tree):
        yield from real_chunks(tree)
        assert any(name.endswith(".tmp") for name in os.listdir(tmp_path))  # streamed beside the target
        raise OSError("disk full")

    monkeypatch.setattr(certificate, "tree_chunks", failing)
    with pytest.raises(OSError, match="disk full"):
        write_certificate(path, e, s)
    assert os.listdir(tmp_path) == ["c.json"] and path.read_bytes() == before
    with pytest.raises(OSError, match="disk full"):
        write_certificate(tmp_path / "new.json", e, s)
    assert os.listdir(tmp_path) == ["c.json"]
    monkeypatch.undo()
    save_shallow(s, tmp_path / "s.json")
    write_certificate(tmp_path / "n.json", e, s, tmp_path / "s.json")
    assert sorted(os.listdir(tmp_path)) == ["c.json", "n.json", "s.json"]


# ============================================================================ deep trees
def test_a_network_with_two_thousand_hidden_neurons_verifies(tmp_path: Path, capsys) -> None:
    """1-[2000]-1 over [-1, 1]: the tree is 2000 splits deep (every neuron is split, one child of most
    splits is proved empty); stored flat, it needs no JSON nesting, and the checker walks it without
    recursion.  Nested (version 1), the same tree would be 2000 levels deep."""
    N = 2000
    inside = [Fraction(-1, 2), Fraction(0), Fraction(1, 2)]  # three breakpoints in the box, the rest outside
    ts = inside + [(-1) ** i * (2 + Fraction(i, N)) for i in range(N - len(inside))]
    net = ReluNetwork.from_lists([([[(-1) ** i] for i in range(N)], [-(-1) ** i * t for i, t in enumerate(ts)]),
                                  ([[Fraction(1, i + 1) for i in range(N)]], [0])])
    e = enumerate_regions(net, Domain.box(["-1"], ["1"]))
    assert len(e.regions) == 4  # [-1, -1/2], (-1/2, 0], (0, 1/2], (1/2, 1]: by construction
    s = build_shallow(e)
    cert = tmp_path / "deep.cert.json"
    write_certificate(cert, e, s)
    data = json.loads(cert.read_text(encoding="utf-8"))
    assert data["version"] == 2 and sum("split" in node for node in data["tree"]) == 4 + e.empty_children - 1
    assert all(not isinstance(v, dict) for node in data["tree"] for v in node.values())  # no nesting at all
    code, out, err = run_checker(capsys, cert)
    assert (code, out) == (0, "s VERIFIED\n")
    assert err.endswith(f"c 4 regions, {e.empty_children} branches proved empty, {N} hyperplanes, {N} neurons\n")
    data["tree"][-1] = {"leaf": 0}  # leaf 0 twice: the very last node is still checked
    cert.write_text(json.dumps(data), encoding="utf-8")
    assert run_checker(capsys, cert)[:2] == (1, "s NOT VERIFIED\n")


def test_check_gates_refuses_gates_that_do_not_close(tmp_path: Path) -> None:
    """The producer's self-check, linear in the tree (certificate.Separation), refuses shallow
    networks and trees whose gates do not follow the regions: swapped gates, a gate row without one
    of its infinite weights, leaves out of preorder."""
    net = ReluNetwork.from_lists([([[1, 0], [0, 1], [1, 1]], [0, 0, "-1/2"]), ([[1, -1, 2]], [0])])
    e, s = certify(tmp_path, net, Domain.box(["-1", "-1"], ["1", "1"]))
    check_gates(e, s)
    assert len(e.regions) > 2 and gates_pairwise_closed(s)
    swapped = replace(s, strict=(s.weak[0], *s.strict[1:]), weak=(s.strict[0], *s.weak[1:]))
    with pytest.raises(InternalError, match="the gates of region 0 are not the hyperplanes of its conditions"):
        check_gates(e, swapped)
    third = s.layers[2]
    cut = SparseLayer(third.rows, third.cols, third.entries[1:], third.bias)
    with pytest.raises(InternalError, match="gate 0 of region 0 does not test exactly the region's conditions"):
        check_gates(e, replace(s, layers=(s.layers[0], s.layers[1], cut, s.layers[3])))
    tree = e.tree
    assert isinstance(tree, Split)
    with pytest.raises(InternalError, match=r"the tree's leaf 0 in preorder names region \d+"):
        check_gates(replace(e, tree=Split(tree.neuron, tree.inactive, tree.active)), s)
    with pytest.raises(InternalError, match="the tree is incomplete or has 0 leaves"):
        check_gates(replace(e, tree=Empty({0: Fraction(1)})), s)


def test_separation_names_the_split_that_does_not_separate() -> None:
    """:class:`Separation` on hand-made leaves: a split must name one hyperplane for every region below
    it, strict on its active side and weak on its inactive side; a constant pre-activation (no
    hyperplane) may have regions on one side only; the tree must end."""
    net = SimpleNamespace(layers=[SimpleNamespace(out_dim=2), SimpleNamespace(out_dim=1)])
    planes = {"a": 0, "b": 1, "c": None}

    def region(*pre: str) -> list:  # the hyperplane of each neuron's pre-activation
        return [planes[p] for p in pre]

    def run(*steps) -> None:
        check = Separation(net)
        for step in steps:
            if step[0] == "split":
                check.split(step[1])
            elif step[0] == "empty":
                check.empty()
            else:
                check.leaf(*step[1:])
        check.finish(sum(step[0] == "leaf" for step in steps))

    run(("split", (0, 0)), ("leaf", 0, region("a", "b"), [0], [1]), ("leaf", 1, region("a", "a"), [], [0]))
    run(("split", (0, 1)), ("split", (0, 0)), ("leaf", 0, region("a", "b"), [0, 1], []), ("empty",),
        ("leaf", 1, region("b", "b"), [], [1]))
    with pytest.raises(InternalError, match=r"region 1: the split on neuron 0 \(layer-major\) has hyperplane 1, another region below it 0"):
        run(("split", (0, 0)), ("leaf", 0, region("a"), [0], []), ("leaf", 1, region("b"), [], [1]))
    with pytest.raises(InternalError, match="region 1: hyperplane 0 of the split on neuron 0 .* is not among its weak gates"):
        run(("split", (0, 0)), ("leaf", 0, region("a"), [0], []), ("leaf", 1, region("a"), [0], []))
    with pytest.raises(InternalError, match="region 0: hyperplane 1 of the split on neuron 1 .* is not among its strict gates"):
        run(("split", (0, 1)), ("leaf", 0, region("a", "b"), [0], [1]), ("empty",))
    run(("split", (0, 0)), ("empty",), ("leaf", 0, region("c"), [], []))
    with pytest.raises(InternalError, match="region 1: the split on neuron 0 .* has a constant pre-activation and regions on both sides"):
        run(("split", (0, 0)), ("leaf", 0, region("c"), [], []), ("leaf", 1, region("c"), [], []))
    with pytest.raises(InternalError, match="the tree is incomplete or has 1 leaves for 1 regions"):
        run(("split", (1, 0)), ("leaf", 0, region("a", "a", "b"), [1], []))
