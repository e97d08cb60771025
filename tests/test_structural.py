"""Equivalence that stops when it knows: structural facts (permuted, rescaled, dead and duplicate
neurons), float-found counterexamples confirmed exactly, their certificates, and tampered ones."""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction as F

import pytest

from exactrelu import checker
from exactrelu.domain import Domain
from exactrelu.equiv import compare, decide, float_counterexample, write_answer_certificate
from exactrelu.network import ReluNetwork
from exactrelu.structural import structural_facts

BOX = Domain.box(["-2", "-2"], ["2", "2"])


def rnet(widths, seed):
    rng = random.Random(seed)
    return [([[F(rng.randint(-9, 9), rng.choice([1, 2, 5])) for _ in range(a)] for _ in range(b)],
             [F(rng.randint(-5, 5), rng.choice([1, 3])) for _ in range(b)]) for a, b in zip(widths[:-1], widths[1:])]


def transformed(layers, seed):
    """Permute every hidden layer, rescale every neuron by a positive factor, add a dead neuron (zero
    weights, negative bias) and a duplicate of neuron 0 (half its weights, sharing its outgoing weight)."""
    rng = random.Random(seed)
    layers = copy.deepcopy(layers)
    for k in range(len(layers) - 1):
        W, b = layers[k]
        Wn, bn = layers[k + 1]
        order = list(range(len(b)))
        rng.shuffle(order)
        scales = [F(rng.randint(1, 7), rng.randint(1, 7)) for _ in order]
        W = [[s * v for v in W[i]] for i, s in zip(order, scales)]
        b = [s * b[i] for i, s in zip(order, scales)]
        Wn = [[row[i] / s for i, s in zip(order, scales)] for row in Wn]
        W.append([v / 2 for v in W[0]]); b.append(b[0] / 2)                     # a duplicate of neuron 0
        Wn = [row[:1] + row[1:] + [row[0]] for row in Wn]
        Wn = [[row[0] / 2] + row[1:-1] + [row[-1]] for row in Wn]              # outgoing split 1/2 : 1
        W.append([F(0)] * len(W[0])); b.append(F(-1))                           # a dead neuron
        Wn = [row + [F(rng.randint(-3, 3))] for row in Wn]
        layers[k], layers[k + 1] = (W, b), (Wn, bn)
    return layers


def write_and_check(tmp_path, answer, edit=None):
    path = tmp_path / "c.json"
    write_answer_certificate(path, answer)
    if edit is not None:
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    c = checker.Checker(str(path))
    c.run()
    return c


def reject(tmp_path, answer, edit, match):
    with pytest.raises(checker.CheckFailure, match=match):
        write_and_check(tmp_path, answer, edit)


@pytest.mark.parametrize("seed", range(4))
def test_structural_facts_prove_what_enumeration_confirms(seed, tmp_path):
    A = ReluNetwork.from_lists(rnet([2, 4, 3, 1], seed))
    B = ReluNetwork.from_lists(transformed(rnet([2, 4, 3, 1], seed), seed))
    answer = decide(A, B, BOX)
    assert (answer.verdict, answer.method) == ("equal", "structural")
    assert compare(A, B, BOX).equal  # the independent check: every region of A||B
    c = write_and_check(tmp_path, answer)
    assert "structural" in c.summary()


def test_dead_by_box_and_its_bound(tmp_path):
    A = ReluNetwork.from_lists([([[1, 0], [1, 1]], [0, -5]), ([[2, 7]], [1])])   # x1 + x2 - 5 <= -1 on the box
    B = ReluNetwork.from_lists([([["1/2", 0]], [0]), ([[4]], [1])])
    answer = decide(A, B, BOX)
    assert answer.method == "structural"
    assert answer.facts.layers[0]["dead"] == {("A", 1): ("box", F(-1))}
    write_and_check(tmp_path, answer)
    assert structural_facts(A, B, Domain.reals(2)) is None  # not dead on R^2
    reject(tmp_path, answer, lambda d: d.update(domain={"kind": "reals", "dim": 2}), "needs a box domain")
    reject(tmp_path, answer, lambda d: d["structure"][0]["dead"][0].update(bound="-2"), "interval upper bound")


def tamper_cases():
    def scale(d):
        d["structure"][0]["B"][0][1] = str(F(d["structure"][0]["B"][0][1]) * 2)

    def negative(d):
        d["structure"][0]["B"][0][1] = "-" + d["structure"][0]["B"][0][1]

    def permutation(d):
        facts = d["structure"][0]["B"]
        facts[0], facts[1] = facts[1], facts[0]

    def not_dead(d):
        d["structure"][0]["B"][0] = "dead"
        d["structure"][0]["dead"].append({"network": "B", "neuron": 0, "rule": "zero", "bound": "0"})

    def no_evidence(d):
        d["structure"][0]["dead"].pop()

    def stray_evidence(d):
        d["structure"][0]["dead"].append({"network": "A", "neuron": 0, "rule": "zero", "bound": "0"})

    def bad_rule(d):
        d["structure"][0]["dead"][-1]["rule"] = "trust me"

    def bad_network(d):
        d["structure"][0]["dead"][-1]["network"] = "C"

    def self_map(d):
        rep = d["structure"][0]["A"][0][0]
        d["structure"][0]["A"][rep] = [rep, "2"]

    def output(d):
        d["networks"]["B"]["layers"][-1]["bias"][0] = "12345"

    def kind(d):
        d["claim"]["kind"] = "max_deviation"

    def method(d):
        d["method"] = "magic"

    def norm(d):
        d["claim"]["norm"] = "2"

    return [(scale, "times that of neuron"), (negative, "not positive"), (permutation, "times that of neuron"),
            (not_dead, "not all 0"), (no_evidence, "needs its evidence"), (stray_evidence, "not stated dead"),
            (bad_rule, "expected 'zero' or 'box'"), (bad_network, "expected 'A' or 'B'"),
            (self_map, "map to itself"),
            (output, "network_sha256|output layers"), (kind, "claims equality"), (method, "expected 'enumeration'"),
            (norm, "expected 'inf' or '1'")]


@pytest.mark.parametrize("edit,match", tamper_cases())
def test_tampered_structural_certificates_are_rejected(edit, match, tmp_path):
    A = ReluNetwork.from_lists(rnet([2, 4, 3, 1], 1))
    B = ReluNetwork.from_lists(transformed(rnet([2, 4, 3, 1], 1), 1))
    reject(tmp_path, decide(A, B, BOX), edit, match)


def test_output_layers_that_differ_are_rejected_with_a_fresh_hash(tmp_path):
    A = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    B = ReluNetwork.from_lists([([[2]], [0]), ([["1/2"]], [0])])
    answer = decide(A, B, Domain.box(["-1"], ["1"]))
    other = ReluNetwork.from_lists([([[2]], [0]), ([["1/3"]], [0])])

    def edit(d):
        d["networks"]["B"] = other.to_dict()
        d["network_sha256"]["B"] = other.sha256()

    reject(tmp_path, answer, edit, "output layers")

    def deeper(d):
        net = ReluNetwork.from_lists([([[2]], [0]), ([[1]], [0]), ([["1/2"]], [0])])
        d["networks"]["B"] = net.to_dict()
        d["network_sha256"]["B"] = net.sha256()

    reject(tmp_path, answer, deeper, "different numbers of layers")


def test_not_structural_falls_back_to_enumeration():
    A = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, -1]], [0])])   # relu(x) - relu(-x) = x
    B = ReluNetwork.from_lists([([[1]], [0])])                               # x, no hidden layer
    answer = decide(A, B, Domain.box(["-1"], ["1"]))
    assert (answer.verdict, answer.method) == ("equal", "enumeration")


@pytest.mark.parametrize("seed", range(4))
def test_early_differ_is_an_exact_point_with_its_exact_deviation(seed, tmp_path):
    layers = rnet([2, 5, 4, 2], seed)
    A = ReluNetwork.from_lists(layers)
    layers[1][0][0][0] += F(1, 1000)
    B = ReluNetwork.from_lists(layers)
    tol = F(1, 10**9)
    answer = decide(A, B, BOX, tolerance=tol)
    assert answer.verdict == "differ"
    x = answer.point
    assert BOX.contains(x)
    assert answer.deviation == max(abs(p - q) for p, q in zip(A.evaluate(x), B.evaluate(x))) > tol
    full = compare(A, B, BOX)
    assert full.max_deviation >= answer.deviation  # a lower bound of the exact maximum
    if answer.method == "counterexample":
        write_and_check(tmp_path, answer)
        reject(tmp_path, answer, lambda d: d["claim"].update(deviation="1"), "deviation at claim.point")
        reject(tmp_path, answer, lambda d: d["claim"].update(tolerance="1000"), "does not exceed the tolerance")
        reject(tmp_path, answer, lambda d: d["claim"].update(point=["3", "0"]), "outside the domain")
        reject(tmp_path, answer, lambda d: d["claim"].update(kind="equal"), "claims 'differ'")
        reject(tmp_path, answer, lambda d: d.update(purpose="prune"), "claims 'differ'")


def test_counterexample_search_on_reals_and_polytopes():
    A = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    B = ReluNetwork.from_lists([([[1]], ["-1/4"]), ([[1]], [0])])
    x, d = float_counterexample(A, B, Domain.reals(1))
    assert d == abs(A.evaluate(x)[0] - B.evaluate(x)[0]) > 0
    assert float_counterexample(A, B, Domain.polytope([[1]], [1])) is None
    assert float_counterexample(A, A, Domain.box(["-1"], ["1"])) is None
    answer = decide(A, B, Domain.box(["-1"], ["1"]), tolerance=F(1, 4), norm="1")
    assert answer.verdict == "equal" and answer.deviation == F(1, 4)


def test_differ_found_by_enumeration_gets_a_counterexample_certificate(tmp_path):
    A = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    B = ReluNetwork.from_lists([([[1]], ["-1/4"]), ([[1]], [0])])
    box = Domain.box(["-1"], ["1"])
    full = decide(A, B, box, search=False, structural=False, first_region=False)
    assert (full.verdict, full.method, full.deviation) == ("differ", "enumeration", F(1, 4))
    first = decide(A, B, box, search=False, structural=False)
    assert (first.verdict, first.method) == ("differ", "region") and 0 < first.deviation <= F(1, 4)
    for answer in (full, first):
        c = write_and_check(tmp_path, answer)
        assert "differ" in c.summary()
        dump = __import__("io").StringIO()
        c.dump(dump)
        assert "claim differ" in dump.getvalue()
    reject(tmp_path, first, lambda d: d["claim"].update(deviation=str(first.deviation + 1)), "deviation")


@pytest.mark.parametrize("seed", range(3))
def test_the_enumeration_stops_at_the_first_region_over_the_tolerance(seed, tmp_path):
    """B is A with one weight moved: the first region of A||B whose exact maximum exceeds the tolerance
    ends the search, long before the budget that the full enumeration exceeds."""
    layers = rnet([2, 6, 5, 1], seed)
    A = ReluNetwork.from_lists(layers)
    moved = copy.deepcopy(layers)
    moved[-1][1][0] += F(1, 10)  # the output bias: A - B = -1/10 everywhere
    B = ReluNetwork.from_lists(moved)
    everything = compare(A, B, BOX)
    budget = len(everything.enumeration.regions) - 1
    with pytest.raises(Exception, match="budget"):
        compare(A, B, BOX, max_regions=budget)
    answer = decide(A, B, BOX, tolerance=F(1, 20), search=False, structural=False, max_regions=budget)
    assert (answer.verdict, answer.method) == ("differ", "region")
    assert answer.deviation == F(1, 10) == everything.max_deviation and BOX.contains(answer.point)
    assert answer.deviation == abs(A.evaluate(answer.point)[0] - B.evaluate(answer.point)[0])
    write_and_check(tmp_path, answer)
    within = decide(A, B, BOX, tolerance=F(1, 10), search=False, structural=False)
    assert (within.verdict, within.method, within.deviation) == ("equal", "enumeration", F(1, 10))


def test_decide_rejects_a_negative_tolerance():
    A = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    with pytest.raises(Exception, match="tolerance"):
        decide(A, A, tolerance=F(-1))


def test_a_fact_must_name_a_representative(tmp_path):
    A = ReluNetwork.from_lists(transformed(rnet([2, 4, 3, 1], 2), 2))   # A has the duplicate and the dead neuron
    B = ReluNetwork.from_lists(rnet([2, 4, 3, 1], 2))
    answer = decide(A, B, BOX)
    assert answer.method == "structural"
    duplicate = 4  # the duplicate of A's neuron 0: not a representative
    assert answer.facts.layers[0]["A"][duplicate][0] != duplicate
    reject(tmp_path, answer, lambda d: d["structure"][0]["B"][0].__setitem__(0, duplicate), "not a representative")


# A structural certificate's facts say nothing about an empty domain, so it carries a point of its
# domain (the witness) and the checker verifies by arithmetic that the point satisfies every row.
def test_a_structural_certificate_carries_a_point_of_its_polytope(tmp_path):
    A = ReluNetwork.from_lists([([[1, 0], [-1, 0]], [0, 0]), ([[1, 1]], [0])])      # |x1|
    B = ReluNetwork.from_lists([([[-3, 0], ["1/2", 0]], [0, 0]), ([["1/3", 2]], [0])])
    triangle = Domain.polytope([[-1, 0], [0, -1], [1, 1]], [0, 0, 1])               # x >= 0, x1 + x2 <= 1
    answer = decide(A, B, triangle)
    assert answer.method == "structural" and triangle.contains(answer.witness)
    c = write_and_check(tmp_path, answer)
    assert "structural" in c.summary()
    data = json.loads((tmp_path / "c.json").read_text())
    assert [F(v) for v in data["witness"]] == list(answer.witness)
    reject(tmp_path, answer, lambda d: d.update(witness=["1", "1"]), "violates domain row 2")    # x1 + x2 = 2 > 1
    reject(tmp_path, answer, lambda d: d.update(witness=["0", "-1/7"]), "violates domain row 1")
    reject(tmp_path, answer, lambda d: d.pop("witness"), "missing field")
    reject(tmp_path, answer, lambda d: d.update(witness=["0"]), "expected 2 entries")


def test_a_witness_outside_the_box_is_refused(tmp_path):
    A = ReluNetwork.from_lists(rnet([2, 4, 3, 1], 0))
    B = ReluNetwork.from_lists(transformed(rnet([2, 4, 3, 1], 0), 0))
    answer = decide(A, B, BOX)
    assert answer.witness == (-2, -2)
    write_and_check(tmp_path, answer, lambda d: d.update(witness=["2", "0"]))  # any point of the box will do
    with pytest.raises(checker.CheckFailure, match="violates domain row 3") as failure:
        write_and_check(tmp_path, answer, lambda d: d.update(witness=["0", "21/10"]))
    assert failure.value.location == "witness"
    answer = decide(A, B, Domain.reals(2))  # no dead-by-box rule is needed for this pair
    assert answer.method == "structural" and answer.witness == (0, 0)
    write_and_check(tmp_path, answer, lambda d: d.update(witness=["-100", "7/3"]))


def test_no_answer_over_an_empty_polytope():
    from exactrelu.errors import DomainError

    A = ReluNetwork.from_lists([([[1]], [0]), ([[1]], [0])])
    empty = Domain.polytope([[1], [-1]], [-1, -1])  # x <= -1 and x >= 1
    assert structural_facts(A, A, empty) is not None  # the facts alone would "prove" A = A on no point
    with pytest.raises(DomainError, match="the domain is empty"):
        decide(A, A, empty)
