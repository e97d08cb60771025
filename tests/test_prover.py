"""The early-closing prover (``verify --early``, exactrelu/prover.py) and the checker's early leaves.

Known answers by construction, some exactly on a boundary:

* ``VEE``: ``y = -|x|`` on ``[-1, 1]``: ``y > 0`` holds (closed at the root), ``y >= 0`` is
  violated only at ``x = 0``;
* ``PEAK``: ``y = -|x - 1/3|``: ``y >= 0`` only at ``x = 1/3`` (no float is 1/3), ``y > 0`` holds;
* ``ZIGZAG``: ``y = sum_i (-1)^i relu(x - (i - 3)/4)`` on ``[-1, 1]`` (8 neurons): its maximum over
  the box, computed exactly from the regions, is ``1``, at the corner ``x = 1`` only (by hand: the
  slope is 1 on ``[3/4, 1]`` and ``y(3/4) = 3/4``); ``y > 1`` holds (the prover bisects the box),
  ``y >= 1`` is violated there;
* random small networks, against the region enumeration (:func:`verify_property` without
  ``early``) as the oracle, at thresholds exactly equal to the maximum.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import random
from fractions import Fraction as F
from pathlib import Path

import pytest

from exactrelu.certificate import nested_tree

from exactrelu import checker
from exactrelu.checker import CheckFailure, Checker
from exactrelu.io.jsonfmt import network_from_dict
from exactrelu.lp import maximize, motzkin_valid
from exactrelu.network import ReluNetwork
from exactrelu.prover import GRID, Prover, System, box_rows, prove_box, snapped
from exactrelu.regions import enumerate_regions
from exactrelu.verify import region_rows, verify_property, write_property_certificate
from exactrelu.vnnlib import parse_property

TESTS = Path(__file__).resolve().parent
VEE = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[-1, -1]], [0])])
PEAK = ReluNetwork.from_lists([([[1], [-1]], ["-1/3", "1/3"]), ([[-1, -1]], [0])])
ZIGZAG = ReluNetwork.from_lists([([[1]] * 8, [F(-k, 4) for k in range(-3, 5)]),
                                 ([[(-1) ** k for k in range(8)]], [0])])
HEAD1 = "(declare-const X_0 Real)(declare-const Y_0 Real)\n(assert (>= X_0 -1))(assert (<= X_0 1))\n"


def prop1(unsafe: str):
    return parse_property(HEAD1 + unsafe + "\n", "p.vnnlib")


def maximum(net: ReluNetwork, box) -> F:
    """The exact maximum of output 0 over the box, region by region (an independent oracle)."""
    from exactrelu.domain import Domain

    domain = Domain.box(*box)
    best = None
    for region in enumerate_regions(net, domain).regions:
        top = maximize(region_rows(domain, region), region.alpha[0], region.beta[0], net.input_dim).value
        best = top if best is None else max(best, top)
    return best


def certify(tmp_path: Path, verdict, name: str = "c.json") -> Path:
    path = tmp_path / name
    write_property_certificate(path, verdict)
    return path


def tree(path: Path) -> dict:
    return json.loads(path.read_text())["tree"]["input_sets"][0]


def nodes(node, kind: str) -> list:
    """Every node of ``kind`` in a tree, flat (version 2: a list of nodes) or nested, as the very
    objects of the certificate (so that a test can tamper with them in place)."""
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack += item[::-1]
            continue
        if kind in item:
            found.append(item)
        for key in ("active", "inactive", "below", "above"):
            if isinstance(item.get(key), (dict, list)):
                stack.append(item[key])
    return found


def as_nested(tree):
    """The tree with every flat list folded into nested splits (bisections keep their halves)."""
    if isinstance(tree, dict) and "bisect" in tree:
        return {**tree, "below": as_nested(tree["below"]), "above": as_nested(tree["above"])}
    return nested_tree(tree)


# ============================================================================ answers
def test_closed_at_the_root_and_a_violation_exactly_at_the_kink(tmp_path: Path) -> None:
    holds = verify_property(VEE, prop1("(assert (> Y_0 0))"), early=True, attack_first=False)
    assert (holds.status, holds.closed, holds.regions) == ("holds", 1, 0)
    path = certify(tmp_path, holds)
    assert tree(path) == nodes(tree(path), "closed")  # the whole tree is one closed node
    c = Checker(str(path))
    c.run()
    assert "1 subproblems closed early by exact relaxations, 0 box bisections" in c.summary()
    violated = verify_property(VEE, prop1("(assert (>= Y_0 0))"), early=True, attack_first=False)
    assert violated.status == "violated" and violated.counterexample.x == (F(0),)
    assert violated.counterexample.found_by == "prover"


def test_a_violation_at_a_single_non_dyadic_point(tmp_path: Path) -> None:
    v = verify_property(PEAK, prop1("(assert (>= Y_0 0))"), early=True, attack_first=False)
    assert v.status == "violated" and v.counterexample.x == (F(1, 3),) and v.counterexample.y == (F(0),)
    h = verify_property(PEAK, prop1("(assert (> Y_0 0))"), early=True, attack_first=False)
    assert h.status == "holds"
    Checker(str(certify(tmp_path, h))).run()


def test_bisection_closes_what_the_root_cannot_and_the_boundary_is_exact(tmp_path: Path) -> None:
    top = maximum(ZIGZAG, (["-1"], ["1"]))
    assert top == 1 == ZIGZAG.evaluate([1])[0]
    strict = verify_property(ZIGZAG, prop1(f"(assert (> Y_0 {top}))"), early=True, attack_first=False)
    assert strict.status == "holds" and strict.closed > 1
    path = certify(tmp_path, strict)
    assert nodes(tree(path), "bisect")
    Checker(str(path)).run()
    weak = verify_property(ZIGZAG, prop1(f"(assert (>= Y_0 {top}))"), early=True, attack_first=False)
    assert weak.status == "violated" and ZIGZAG.evaluate(weak.counterexample.x) == (top,)


def _random_net(rng: random.Random, widths) -> ReluNetwork:
    return ReluNetwork.from_lists([([[F(rng.randint(-6, 6), 4) for _ in range(a)] for _ in range(b)],
                                    [F(rng.randint(-4, 4), 4) for _ in range(b)]) for a, b in zip(widths, widths[1:])])


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_agree_with_the_region_enumeration_at_the_exact_maximum(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    net = _random_net(rng, [2, 4, 3, 1])
    box = (["-1", "-1"], ["1", "1"])
    top = maximum(net, box)
    head = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n" \
           "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n"
    for rel, value, expected in ((">", top, "holds"), (">=", top, "violated"), (">=", top + F(1, 1000), "holds"),
                                 (">=", top - F(1, 1000), "violated")):
        prop = parse_property(head + f"(assert ({rel} Y_0 {value}))\n", "r.vnnlib")
        early = verify_property(net, prop, early=True, attack_first=False)
        assert early.status == expected == verify_property(net, prop, attack_first=False).status, (rel, value)
        if expected == "holds":
            Checker(str(certify(tmp_path, early))).run()
        else:
            assert prop.unsafe_disjunct(net.evaluate(early.counterexample.x)) is not None


def test_the_time_limit_gives_unknown_with_the_open_subproblems_counted() -> None:
    v = verify_property(ZIGZAG, prop1("(assert (> Y_0 1))"), early=True, attack_first=False, timeout=1e-9)
    assert v.status == "unknown" and v.open >= 1 and "subproblems of input set 0 open" in v.reason


def test_the_fast_layer_bounds_equal_the_checkers_row_by_row_bounds() -> None:
    rng = random.Random(3)
    for _ in range(10):
        net = _random_net(rng, [2, 3, 3, 2, 1])
        lo, hi = [F(-1), F(-1)], [F(1), F(1)]
        bits = tuple(rng.random() < 0.5 for _ in range(rng.randint(0, 4)))
        prover = Prover(net, [[((F(1),), F(0), False)]], lambda x: None, None)
        rows = box_rows(lo, hi) + prover._fixed_rows(bits)[0]
        fast, slow = System(net, lo, hi, bits, rows), System(net, lo, hi, bits, rows)
        for (down, up), bounds in zip(prover.bounds(fast, bits), fast.bounds):
            low, high = slow.proved({m: F(k, GRID) for m, k in down.items()}, {m: F(k, GRID) for m, k in up.items()})
            assert bounds == snapped(low, high)
            slow.add_neuron(*bounds)


def test_snapped_bounds_enclose_and_keep_slope_denominators_short() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        low = F(rng.randint(-10 ** 9, 10 ** 9), rng.randint(1, 10 ** 6))
        high = low + F(rng.randint(0, 10 ** 9), rng.randint(1, 10 ** 6))
        l, u = snapped(low, high)
        assert l <= low and high <= u and (l * 2 ** 20).denominator == (u * 2 ** 20).denominator == 1
        if l < 0 < u:
            width = int((u - l) * 2 ** 20)
            assert width <= (high - low) * F(9, 8) * 2 ** 20 + 2   # at most an eighth wider, plus the grid
            odd = width // (width & -width)
            assert odd <= 15
            assert 45045 * 2 ** 60 % ((u / (u - l)).denominator) == 0


def test_the_checkers_integer_combination_equals_the_rational_one() -> None:
    rng = random.Random(11)
    q = lambda: F(rng.randint(-50, 50), rng.choice([1, 2, 3, 8, 10 ** 9, 7 * 2 ** 20]))  # noqa: E731
    for _ in range(200):
        rows = [({k: q() for k in rng.sample(range(6), rng.randint(0, 4))}, q(), rng.random() < 0.2) for _ in range(8)]
        pairs = [[m, str(abs(q()) or 1)] for m in rng.sample(range(8), rng.randint(0, 5))]
        lower = [q() for _ in range(6)]
        upper = [a + abs(q()) for a in lower]
        start = ({k: q() for k in rng.sample(range(6), 3)}, q())
        acc, const, strict = dict(start[0]), start[1], False
        for m, lam in pairs:
            form, c, s = rows[m]
            for k, a in form.items():
                acc[k] = acc.get(k, 0) + F(lam) * a
            const += F(lam) * c
            strict = strict or s
        top = const + sum((a * (upper[k] if a > 0 else lower[k]) for k, a in acc.items()), F(0))
        combined = checker._sparse_combine([checker._early_row(*row) for row in rows], pairs, "t",
                                           checker._early_row(*start, False))
        assert (checker._box_supremum(combined, lower, upper), combined[3]) == (top, strict)


def test_the_float_guide_encloses_the_network_and_bisects_where_it_matters(tmp_path: Path) -> None:
    rng = random.Random(2)
    net = _random_net(rng, [3, 6, 6, 2])
    prover = Prover(net, [[((F(1), F(0)), F(0), False)]], lambda x: None, None)
    lo, hi = (F(-1),) * 3, (F(1),) * 3
    bounds, _ = prover.guide.bounds(lo, hi, ())
    layers = net.float_layers()
    for _ in range(200):
        v = [rng.uniform(-1, 1) for _ in range(3)]
        for (W, b), (l, u) in zip(layers[:-1], bounds):
            z = W @ v + b
            assert (l - 1e-9 <= z).all() and (z <= u + 1e-9).all()
            v = [max(a, 0.0) for a in z]
    # ZIGZAG on x_1, beside a wide, heavy, irrelevant x_0: the look-ahead cuts x_1 (width times weight would cut x_0)
    wide = ReluNetwork.from_lists([([[100, 0]] + [[0, 1]] * 8, [0] + [F(-k, 4) for k in range(-3, 5)]),
                                   ([[0] + [(-1) ** k for k in range(8)]], [0])])
    head = ("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n"
            "(assert (>= X_0 -8))(assert (<= X_0 8))(assert (>= X_1 -1))(assert (<= X_1 1))\n")
    verdict = verify_property(wide, parse_property(head + "(assert (> Y_0 1))\n", "w.vnnlib"), early=True,
                              attack_first=False)
    path = certify(tmp_path, verdict)
    assert verdict.status == "holds" and tree(path)["bisect"][0] == 1
    Checker(str(path)).run()


def test_a_counterexample_of_a_complete_pattern_must_be_one() -> None:
    from exactrelu.errors import InternalError

    with pytest.raises(InternalError, match="not a counterexample"):
        prove_box(VEE, [F(-1)], [F(1)], [[((F(1),), F(0), False)]], lambda x: None)


# ============================================================================ tampering
@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("early-certs")
    v = verify_property(ZIGZAG, prop1("(assert (> Y_0 1))"), early=True, attack_first=False)
    write_property_certificate(folder / "zigzag.json", v)
    w = verify_property(VEE, prop1("(assert (> Y_0 0))"), early=True, attack_first=False)
    write_property_certificate(folder / "vee.json", w)
    net = _random_net(random.Random(0), [2, 4, 3, 1])
    head = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n" \
           "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n"
    prop = parse_property(head + f"(assert (> Y_0 {maximum(net, (['-1', '-1'], ['1', '1']))}))\n", "d.vnnlib")
    deep = verify_property(net, prop, early=True, attack_first=False)
    write_property_certificate(folder / "deep.json", deep)
    return {"zigzag": json.loads((folder / "zigzag.json").read_text()),
            "vee": json.loads((folder / "vee.json").read_text()),
            "deep": json.loads((folder / "deep.json").read_text())}


def _first(c, kind: str = "closed") -> dict:
    return nodes(c["tree"]["input_sets"][0], kind)[0]


def _deep_closed(c) -> dict:
    """A closed node with a nontrivial bound proof (multipliers on earlier rows)."""
    return next(n for n in nodes(c["tree"]["input_sets"][0], "closed") if any(p[0] or p[1] for p in n["closed"]["proofs"]))


def _richest(c) -> list:
    """The closure with the most multipliers (so their ratios matter)."""
    return max((n["closed"]["unsafe"][0] for n in nodes(c["tree"]["input_sets"][0], "closed")), key=len)


def _tighten(c, side: int) -> None:
    body = _first(c)["closed"]
    q = F(body["bounds"][0][side]) + (F(1, 1000) if side == 0 else -F(1, 1000))
    body["bounds"][0][side] = str(q)


def _swap_closed(c) -> None:
    """Put a closed node proved for one half of the box into the other half."""
    b = _first(c, "bisect")
    b["below"], b["above"] = b["above"], b["below"]


def _cut(c, value: str) -> None:
    _first(c, "bisect")["bisect"][1] = value


def _bisect_below_split(c) -> None:
    c["tree"]["input_sets"][0] = [{"split": [0, 0]}, copy.deepcopy(c["tree"]["input_sets"][0]),
                                  copy.deepcopy(c["tree"]["input_sets"][0])]


TAMPERS = [
    ("vee", lambda c: _tighten(c, 0), "tree.input_sets[0][0].closed.bounds[0]", "is above the proved"),
    ("vee", lambda c: _tighten(c, 1), "tree.input_sets[0][0].closed.bounds[0]", "is below the proved"),
    ("vee", lambda c: _first(c)["closed"]["unsafe"][0].pop(), "tree.input_sets[0][0].closed.unsafe[0]",
     "no contradiction"),
    ("vee", lambda c: _first(c)["closed"]["unsafe"][0][0].__setitem__(1, "-1"), "tree.input_sets[0][0].closed.unsafe[0][0]",
     "is not positive"),
    ("vee", lambda c: _first(c)["closed"]["unsafe"][0][0].__setitem__(0, 99), "tree.input_sets[0][0].closed.unsafe[0][0][0]",
     "expected an integer"),
    ("vee", lambda c: _first(c)["closed"]["bounds"].pop(), "tree.input_sets[0][0].closed.bounds", "expected 2 entries"),
    ("vee", lambda c: _first(c)["closed"]["unsafe"].append([]), "tree.input_sets[0][0].closed.unsafe", "expected 1 entries"),
    ("vee", lambda c: c["property"]["input_sets"].__setitem__(
        0, {"kind": "polytope", "dim": 1, "A": [["1"], ["-1"], ["1"]], "b": ["1", "1", "2"]}) or _rehash(c),
     "tree.input_sets[0][0].closed", "needs a box input set"),
    ("vee", lambda c: c["property"]["unsafe"][0][0].__setitem__("strict", False) or _rehash(c),
     "tree.input_sets[0][0].closed.unsafe[0]", "reaches 0 on the box with no strict row"),  # y >= 0: violated at 0
    ("vee", lambda c: _first(c)["closed"]["unsafe"][0].append(list(_first(c)["closed"]["unsafe"][0][0])),
     "tree.input_sets[0][0].closed.unsafe[0][1]", "appears twice"),
    ("zigzag", lambda c: c["property"]["input_sets"].__setitem__(
        0, {"kind": "polytope", "dim": 1, "A": [["-1"], ["1"], ["1"]], "b": ["1", "1", "2"]}) or _rehash(c),
     "tree.input_sets[0]", "a bisection of an input set that is not a box"),
    ("zigzag", lambda c: _tighten(c, 1), "tree.input_sets[0]", "is below the proved"),
    ("deep", lambda c: _deep_closed(c)["closed"]["proofs"][-1][1].pop(), "tree.input_sets[0]", "proved"),
    ("deep", lambda c: [n["closed"]["unsafe"][0].pop() for n in nodes(c["tree"]["input_sets"][0], "closed")],
     "tree.input_sets[0]", "no contradiction"),  # the disjunct's row (the last) left out of every closure
    ("deep", lambda c: _richest(c)[0].__setitem__(1, str(F(_richest(c)[0][1]) * 1000)), "tree.input_sets[0]",
     "no contradiction"),
    ("zigzag", _swap_closed, "tree.input_sets[0]", ""),
    ("zigzag", lambda c: _cut(c, "7"), "tree.input_sets[0].bisect", "not strictly inside"),
    ("zigzag", lambda c: _cut(c, "-1/8"), "tree.input_sets[0]", ""),
    ("zigzag", _bisect_below_split, "tree.input_sets[0][1]", "expected 'split', 'leaf' or 'empty'"),
]


def _rehash(cert: dict) -> None:
    cert["property_sha256"] = checker.canonical_sha256(checker.canonical_property(cert["property"], "p"))


@pytest.mark.parametrize("which,tamper,where,reason", TAMPERS, ids=[f"{t[0]}-{k}" for k, t in enumerate(TAMPERS)])
def test_tampered_early_certificates_are_rejected(which, tamper, where, reason, made, tmp_path: Path) -> None:
    cert = copy.deepcopy(made[which])
    Checker(str(_write(tmp_path, cert))).run()  # the untouched one verifies
    tamper(cert)
    with pytest.raises(CheckFailure) as info:
        Checker(str(_write(tmp_path, cert))).run()
    assert info.value.location.startswith(where) and reason in info.value.reason, info.value


def test_early_nodes_belong_to_property_certificates_only(tmp_path: Path) -> None:
    from exactrelu.certificate import write_certificate
    from exactrelu.domain import Domain
    from exactrelu.shallow import build_shallow

    enumeration = enumerate_regions(VEE, Domain.box(["-1"], ["1"]))
    path = tmp_path / "s.json"
    write_certificate(path, enumeration, build_shallow(enumeration))
    cert = json.loads(path.read_text())
    cert["tree"] = [{"closed": {"bounds": [], "proofs": [], "unsafe": []}}]
    with pytest.raises(CheckFailure, match="an early leaf belongs to property trees"):
        Checker(str(_write(tmp_path, cert))).run()


def _write(tmp_path: Path, cert: dict) -> Path:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(cert))
    return path


# ============================================================================ random single-value mutations
def _helpers():
    spec = importlib.util.spec_from_file_location("tampering_helpers", TESTS / "test_tampering.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _independently_valid(cert: dict) -> bool:
    """Re-check a (mutated, accepted) early certificate with the producer's exact System, not the
    checker: every closed node's stated bounds are implied by its multipliers and every closure holds."""
    net = network_from_dict(cert["network"], "network")
    conjs = [[(tuple(F(a) for a in r["u"]), F(r["v"]), r["strict"]) for r in conj] for conj in cert["property"]["unsafe"]]
    d = cert["property"]["input_sets"][0]
    stack = [(as_nested(cert["tree"]["input_sets"][0]), [F(v) for v in d["lower"]], [F(v) for v in d["upper"]], ())]
    prover = Prover(net, conjs, lambda x: None, None)
    while stack:
        node, lo, hi, bits = stack.pop()
        if "bisect" in node:
            i, c = node["bisect"][0], F(node["bisect"][1])
            if not lo[i] < c < hi[i]:
                return False
            stack += [(node["below"], lo, hi[:i] + [c] + hi[i + 1:], bits), (node["above"], lo[:i] + [c] + lo[i + 1:], hi, bits)]
        elif "split" in node:
            for key, side in (("active", True), ("inactive", False)):
                if "empty" not in node[key]:
                    stack.append((node[key], lo, hi, bits + (side,)))
                elif not motzkin_valid(box_rows(lo, hi) + prover._fixed_rows(bits + (side,))[0],
                                       {m: F(v) for m, v in node[key]["empty"]}, net.input_dim):
                    return False
        else:
            body = node["closed"]
            system = System(net, lo, hi, bits, box_rows(lo, hi) + prover._fixed_rows(bits)[0])
            for (low, high), (down, up) in zip(body["bounds"], body["proofs"]):
                proved = system.proved({m: F(v) for m, v in down}, {m: F(v) for m, v in up})
                if F(low) > proved[0] or F(high) < proved[1]:
                    return False
                system.add_neuron(F(low), F(high))
            if not all(system.closes(conj, {m: F(v) for m, v in pairs}) for conj, pairs in zip(conjs, body["unsafe"])):
                return False
    return True


def test_random_single_value_mutations_of_an_early_certificate(made, tmp_path: Path) -> None:
    helpers = _helpers()
    valid = made["deep"]
    paths = [p for p in helpers.scalar_paths(valid) if p[0] in ("tree", "network", "property")]
    rng = random.Random(7)
    problems, kinds = [], set()
    for _ in range(300):
        path = rng.choice(paths)
        old = helpers.get(valid, path)
        new = helpers.mutate(old, rng)
        cert = copy.deepcopy(valid)
        helpers.put(cert, path, new)
        try:
            Checker(str(_write(tmp_path, cert))).run()
        except CheckFailure:
            kinds.add("rejected")
            continue
        except Exception as exc:  # noqa: BLE001 - any other exception is a checker bug
            problems.append(f"{path} {old!r}->{new!r}: {type(exc).__name__}: {exc}")
            continue
        kinds.add("accepted")
        # an accepted mutation must be a multiplier or a looser bound that still proves the claim
        if path[0] != "tree" or not _independently_valid(cert):
            problems.append(f"{path} {old!r}->{new!r} was VERIFIED")
    assert not problems, "\n".join(problems[:20])
    assert "rejected" in kinds


# ============================================================================ --workers: the same certificate
def _parallel_cases():
    """(network, property text, expected answer): on a bisected boundary, at an exact maximum, off it."""
    cases = [(ZIGZAG, HEAD1 + "(assert (> Y_0 1))\n", "holds"), (ZIGZAG, HEAD1 + "(assert (>= Y_0 1))\n", "violated"),
             (VEE, HEAD1 + "(assert (>= Y_0 0))\n", "violated")]
    head = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n" \
           "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n"
    for seed in (0, 3):
        net = _random_net(random.Random(seed), [2, 4, 3, 1])
        top = maximum(net, (["-1", "-1"], ["1", "1"]))
        cases += [(net, head + f"(assert (> Y_0 {top}))\n", "holds"), (net, head + f"(assert (>= Y_0 {top}))\n", "violated")]
    return cases


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("distributed")
    from exactrelu.parallel import dask_client

    with dask_client(workers=2) as c:
        yield c


@pytest.mark.parametrize("frontier", [1, 2, 8])
def test_workers_give_the_serial_certificate_and_counterexample(client, frontier: int, tmp_path: Path) -> None:
    import functools

    from exactrelu.prover import prove_parallel

    stats: dict = {}
    prover = functools.partial(prove_parallel, client=client, frontier=frontier, stats=stats)
    for k, (net, text, expected) in enumerate(_parallel_cases()):
        prop = parse_property(text, "p.vnnlib")
        serial = verify_property(net, prop, early=True, attack_first=False)
        parallel = verify_property(net, prop, early=True, attack_first=False, prover=prover)
        assert serial.status == parallel.status == expected, k
        if expected == "violated":
            assert parallel.counterexample == serial.counterexample
            assert prop.unsafe_disjunct(net.evaluate(parallel.counterexample.x)) is not None
            continue
        assert (parallel.nodes, parallel.closed, parallel.lps) == (serial.nodes, serial.closed, serial.lps)
        a, b = certify(tmp_path, serial, f"s{k}.json"), certify(tmp_path, parallel, f"p{k}.json")
        assert a.read_bytes() == b.read_bytes()
        Checker(str(b)).run()
        assert len(stats["task_nodes"]) == stats["tasks"] and stats["top"] + sum(stats["task_nodes"]) == serial.nodes
        if frontier <= 2 and serial.nodes > 1:  # open nodes of the top went to the workers (with 8, these
            assert stats["tasks"] >= 1 and stats["top"] < serial.nodes   # small trees may close in the top)


def test_workers_keep_the_whole_run_to_the_time_limit(client) -> None:
    import functools

    from exactrelu.prover import prove_parallel

    for frontier, timeout in ((2, 1e-9), (2, 0.05), (1, 0.2)):
        prover = functools.partial(prove_parallel, client=client, frontier=frontier)
        v = verify_property(ZIGZAG, prop1("(assert (> Y_0 1))"), early=True, attack_first=False, timeout=timeout,
                            prover=prover)
        assert v.status in ("unknown", "holds") and (v.status == "unknown" or timeout > 1e-9)
        if v.status == "unknown":
            assert v.open >= 1 and "subproblems of input set 0 open" in v.reason and not v.cases


@pytest.mark.slow
def test_verify_workers_on_the_command_line_writes_the_serial_certificate(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from exactrelu.commands import main

    (tmp_path / "z.json").write_text(json.dumps(ZIGZAG.to_dict()))
    (tmp_path / "p.vnnlib").write_text(HEAD1 + "(assert (> Y_0 1))\n")
    common = [str(tmp_path / "z.json"), str(tmp_path / "p.vnnlib"), "--early", "--quiet"]
    assert main(["verify", *common, "--certificate", str(tmp_path / "s.json")]) == 0
    assert main(["verify", *common, "--workers", "2", "--certificate", str(tmp_path / "p.json")]) == 0
    assert (tmp_path / "s.json").read_bytes() == (tmp_path / "p.json").read_bytes()
    Checker(str(tmp_path / "p.json")).run()


def test_verify_early_imports_nothing_of_dask_without_the_options(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "z.json").write_text(json.dumps(ZIGZAG.to_dict()))
    (tmp_path / "p.vnnlib").write_text(HEAD1 + "(assert (> Y_0 1))\n")
    code = ("import sys; from exactrelu.commands import main; "
            f"rc = main(['verify', {str(tmp_path / 'z.json')!r}, {str(tmp_path / 'p.vnnlib')!r}, '--early', '--quiet']); "
            "print(rc, sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))")
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"


# ============================================================================ float guidance never decides
def test_the_float_snapping_equals_the_exact_snapping() -> None:
    import numpy as np

    from exactrelu.prover import snapped_floats

    rng = np.random.default_rng(7)
    grid_points = [-(2.0 ** -20), -3 * 2.0 ** -20, -1.0, -0.75]       # on the grid already
    low = np.concatenate([-rng.random(2000) * 10.0 ** rng.integers(-7, 4, 2000), grid_points])
    high = np.concatenate([rng.random(2000) * 10.0 ** rng.integers(-7, 4, 2000), [2.0 ** -20, 1.0, 15 * 2.0 ** -20, 0.25]])
    l, u = snapped_floats(low, high)
    for a, b, c, d in zip(low, high, l, u):
        assert snapped(F(float(a)), F(float(b))) == (F(float(c)), F(float(d)))


def test_the_float_gate_lets_every_boundary_counterexample_through() -> None:
    import pickle

    from exactrelu.verify import Confirm

    weak, strict = prop1("(assert (>= Y_0 0))"), prop1("(assert (> Y_0 0))")
    gate = Confirm(VEE, weak, "prover")
    found = gate((F(0),))                               # y = 0 exactly: on the boundary of the unsafe set
    assert found is not None and found.y == (F(0),) and found.found_by == "prover"
    assert gate.near([[0.5], [-1e-3], [0.0]]) == [False, False, True]
    assert gate((F(1, 2),)) is None                     # far: skipped, and it is no counterexample either
    assert Confirm(VEE, strict, "prover")((F(0),)) is None   # near, but exactly not in the strict set
    again = pickle.loads(pickle.dumps(gate))
    assert again._floats is None and again((F(0),)) == found
    always = dataclasses.replace(weak, unsafe=((),))       # an empty conjunction: every output is unsafe
    assert Confirm(VEE, always, "attack")((F(1, 2),)).disjunct == 0


@pytest.mark.parametrize("seed", range(4))
def test_two_output_disjunctions_at_their_exact_maxima(seed: int, tmp_path: Path) -> None:
    from exactrelu.domain import Domain

    rng = random.Random(100 + seed)
    net = _random_net(rng, [2, 4, 4, 2])
    domain = Domain.box(["-1", "-1"], ["1", "1"])
    tops = [max(maximize(region_rows(domain, r), r.alpha[k], r.beta[k], 2).value
                for r in enumerate_regions(net, domain).regions) for k in range(2)]
    head = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)\n" \
           "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n"
    cases = [((">", ">"), (0, 0), "holds"), ((">", ">="), (0, 0), "violated"), ((">=", ">"), (0, 0), "violated"),
             ((">=", ">="), (F(1, 1000), F(1, 1000)), "holds")]
    for (r0, r1), (e0, e1), expected in cases:
        text = head + f"(assert (or (and ({r0} Y_0 {tops[0] + e0})) (and ({r1} Y_1 {tops[1] + e1}))))\n"
        prop = parse_property(text, "d.vnnlib")
        for attack_first in (True, False):
            v = verify_property(net, prop, early=True, attack_first=attack_first)
            assert v.status == expected, (r0, r1, attack_first)
            if expected == "holds":
                Checker(str(certify(tmp_path, v))).run()
            else:
                y = net.evaluate(v.counterexample.x)
                assert prop.unsafe_disjunct(y) is not None and y[v.counterexample.disjunct] == tops[v.counterexample.disjunct]


def test_the_attack_finds_a_violation_only_at_a_corner() -> None:
    v = verify_property(ZIGZAG, prop1("(assert (>= Y_0 1))"), early=True)
    assert v.status == "violated" and v.counterexample.x == (F(1),) and v.counterexample.found_by == "attack"


def test_a_complete_pattern_decides_its_counterexample_without_the_float_gate(monkeypatch) -> None:
    from exactrelu.verify import Confirm

    prop = prop1("(assert (>= Y_0 0))")                 # violated only at x = 0
    monkeypatch.setattr(Confirm, "near", lambda self, xs: [False] * len(xs))  # a gate that lets nothing through
    out = prove_box(VEE, [F(-1)], [F(1)], prop.unsafe, Confirm(VEE, prop, "prover"))
    assert out.counterexample is not None and out.counterexample.x == (F(0),) and out.counterexample.y == (F(0),)
