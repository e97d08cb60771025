"""Directed faults for the checker's remaining refusals: each one a certificate or an option that
must be ``NOT VERIFIED`` (or a usage error) at the stated place, so that no line of the trusted base
is untested trust."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exactrelu import checker
from exactrelu.domain import Domain
from exactrelu.equiv import compare, write_equivalence_certificate
from exactrelu.network import ReluNetwork

RELU_X = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, -1]], [0])])
IDENTITY = ReluNetwork.from_lists([([[1]], [0])])
SHIFTED = ReluNetwork.from_lists([([[1]], ["1/2"])])


@pytest.fixture
def equal_cert(tmp_path: Path) -> dict:
    path = tmp_path / "e.json"
    write_equivalence_certificate(path, compare(RELU_X, IDENTITY, Domain.box(["-1"], ["2"])))
    return json.loads(path.read_text())


@pytest.fixture
def deviation_cert(tmp_path: Path) -> dict:
    path = tmp_path / "d.json"
    write_equivalence_certificate(path, compare(IDENTITY, SHIFTED, Domain.box(["-1"], ["2"])))
    return json.loads(path.read_text())


def location(tmp_path: Path, cert: dict, **options) -> str:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure) as info:
        checker.Checker(str(path), **options).run()
    return info.value.location


def rehash(cert: dict) -> None:
    for name in ("A", "B"):
        cert["network_sha256"][name] = checker.Network(cert["networks"][name], name).sha256()


def test_networks_of_other_dimensions(equal_cert, tmp_path: Path) -> None:
    equal_cert["networks"]["B"] = ReluNetwork.from_lists([([[1, 1]], [0])]).to_dict()
    rehash(equal_cert)
    assert location(tmp_path, equal_cert) == "networks"


def test_domain_of_another_dimension(equal_cert, tmp_path: Path) -> None:
    equal_cert["domain"] = {"kind": "box", "dim": 2, "lower": ["0", "0"], "upper": ["1", "1"]}
    assert location(tmp_path, equal_cert) == "domain.dim"


def test_a_prune_certificate_claims_equality(deviation_cert, tmp_path: Path) -> None:
    deviation_cert["purpose"] = "prune"
    assert location(tmp_path, deviation_cert) == "claim.kind"


def test_the_one_norm_is_bounded_as_the_producer_bounds_it(equal_cert, tmp_path: Path) -> None:
    wide = ReluNetwork.from_lists([([[1]] * 13, [0] * 13)])
    equal_cert["networks"]["A"] = equal_cert["networks"]["B"] = wide.to_dict()
    equal_cert["claim"]["norm"] = "1"
    rehash(equal_cert)
    assert location(tmp_path, equal_cert) == "claim.norm"


def test_a_maximiser_outside_the_domain(deviation_cert, tmp_path: Path) -> None:
    deviation_cert["claim"]["argmax"] = ["3"]
    assert location(tmp_path, deviation_cert) == "claim.argmax"


def test_an_unknown_expected_kind_is_a_usage_error(equal_cert, tmp_path: Path) -> None:
    with pytest.raises(checker.UsageError, match="unknown kind"):
        checker.Checker(str(tmp_path / "c.json"), expect="magic")


def test_a_domain_file_in_the_short_polytope_form(equal_cert, tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text(json.dumps({"A": [[1], [-1]], "b": [2, 1]}))  # x <= 2, -x <= 1
    path = tmp_path / "c.json"
    path.write_text(json.dumps(equal_cert))
    assert location(tmp_path, equal_cert, domain=str(tmp_path / "d.json")) == "domain"  # a polytope, not the box


@pytest.mark.parametrize("text", ["1e9999999", "1_000", "0x10", "1/0"])
def test_number_strings_of_a_model_file_that_are_no_numbers(text, equal_cert, tmp_path: Path) -> None:
    model = RELU_X.to_dict()
    model["layers"][0]["weight"][0][0] = text
    (tmp_path / "m.json").write_text(json.dumps(model))
    assert location(tmp_path, equal_cert, model_a=str(tmp_path / "m.json")).endswith("weight[0][0]")


# ----------------------------------------------------------------------------- --symbolic on its own
TAMPERED = Path(__file__).resolve().parent / "data" / "tampered"


def test_symbolic_without_sympy_is_a_clear_failure(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "sympy", None)  # the import then fails as when it is not installed
    with pytest.raises(checker.CheckFailure) as info:
        checker.Checker(str(TAMPERED / "valid.json"), symbolic=True).run()
    assert (info.value.location, info.value.reason) == ("--symbolic", "sympy is not installed")


def test_symbolic_rederivation_catches_a_wrong_first_layer_on_its_own(tmp_path: Path, monkeypatch) -> None:
    """With the construction's comparison switched off, a first-layer row of the shallow network
    that is not the leaf's affine map is still refused, by sympy's re-derivation alone."""
    cert = json.loads((TAMPERED / "valid.json").read_text())
    layer = cert["shallow"]["network"]["layers"][0]
    J = len(cert["shallow"]["network"]["H"])
    row = next(e for e in layer["weights"] if e[0] == J)  # leaf 0's output row, alpha part
    row[2] = str(checker.rational(row[2], "w") + 1)
    cert["shallow"]["sha256"] = checker.raw_sha256(cert["shallow"]["network"])
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    monkeypatch.setattr(checker.Checker, "_check_shallow", lambda self: None)
    checker.Checker(str(path)).run()  # the comparison that would refuse it is off
    with pytest.raises(checker.CheckFailure) as info:
        checker.Checker(str(path), symbolic=True).run()
    assert (info.value.location, info.value.reason) == ("leaves[0]", "symbolic: output 0 of the deep and the shallow network differ")


def test_symbolic_rederivation_catches_a_wrong_composition_of_a_and_b(equal_cert, tmp_path: Path, monkeypatch) -> None:
    """A composition that went wrong the same way for A and B (so the claim's arithmetic cannot
    see it) is refused by sympy's re-derivation of the leaf's affine map."""
    real = checker.Checker._leaf_record

    def shifted(self, k, *args):
        real(self, k, *args)
        if k == 0:
            alpha = self.verified_leaves[0]["alpha"]
            for o in (0, len(alpha) // 2):
                alpha[o][0] += 1

    path = tmp_path / "c.json"
    path.write_text(json.dumps(equal_cert))
    monkeypatch.setattr(checker.Checker, "_leaf_record", shifted)
    checker.Checker(str(path)).run()
    with pytest.raises(checker.CheckFailure) as info:
        checker.Checker(str(path), symbolic=True).run()
    assert (info.value.location, info.value.reason) == ("leaves[0]", "symbolic: output 0 of A||B differs from the leaf's affine map")


def test_a_multiplier_written_as_a_json_integer_is_read_as_that_integer(tmp_path: Path) -> None:
    """``rational`` reads a JSON integer as that integer: so does the multipliers' integer reader
    (``ratio``), and a boolean stays refused."""
    cert = json.loads((TAMPERED / "valid.json").read_text())
    t = next(t for t, node in enumerate(cert["tree"]) if "empty" in node and node["empty"][0][1] == "1")
    cert["tree"][t]["empty"][0][1] = 1
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    checker.Checker(str(path)).run()
    cert["tree"][t]["empty"][0][1] = True
    assert location(tmp_path, cert) == f"tree[{t}].empty[0][1]"


def test_a_repeated_weight_of_the_shallow_network_is_named(tmp_path: Path) -> None:
    cert = json.loads((TAMPERED / "valid.json").read_text())
    weights = cert["shallow"]["network"]["layers"][1]["weights"]
    weights.insert(3, list(weights[2]))
    cert["shallow"]["sha256"] = checker.raw_sha256(cert["shallow"]["network"])
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure) as info:
        checker.Checker(str(path)).run()
    assert info.value.location == "shallow.layers[1].weights[3]"  # where the construction has its next entry
    assert info.value.reason.startswith(f"is {weights[2]}".replace('"', "'")), info.value.reason


HEAD2 = ("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n"
         "(assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n")
# y = relu(relu(x0 + x1) + relu(x0 - x1) - 2 relu(x0)) on [-1, 1]^2: by hand, y = |x1| - x0 where
# |x1| > x0 >= 0, y = relu(x0 + |x1|) <= 1 where x0 < 0; its maximum is 1, exactly at x0 = 0, |x1| = 1.
# Where the first two neurons are both fixed active, the second layer's affine form cancels in x1.
CANCELS = ReluNetwork.from_lists([([[1, 1], [1, -1], [1, 0]], [0, 0, 0]), ([[1, 1, -2]], [0]), ([[1]], [0])])


def test_an_early_leaf_whose_fixed_neurons_cancel_an_input(tmp_path: Path) -> None:
    from exactrelu.verify import verify_property, write_property_certificate
    from exactrelu.vnnlib import parse_property

    weak = verify_property(CANCELS, parse_property(HEAD2 + "(assert (>= Y_0 1))\n", "w.vnnlib"), early=True,
                           attack_first=False)
    assert weak.status == "violated" and CANCELS.evaluate(weak.counterexample.x) == (1,)
    assert weak.counterexample.x[0] == 0 and abs(weak.counterexample.x[1]) == 1
    strict = verify_property(CANCELS, parse_property(HEAD2 + "(assert (> Y_0 1))\n", "s.vnnlib"), early=True,
                             attack_first=False)
    assert strict.status == "holds" and strict.closed > 1
    path = tmp_path / "s.json"
    write_property_certificate(path, strict)
    c = checker.Checker(str(path))
    c.run()
    assert f"{strict.closed} subproblems closed early" in c.summary()
    # each closed node's bound on a neuron, raised by one above what its multipliers prove, is refused
    cert = json.loads(path.read_text())
    node = next(n for n in cert["tree"]["input_sets"][0] if isinstance(n, dict) and "closed" in n)
    body = node["closed"]
    body["bounds"][0][1] = str(checker.rational(body["bounds"][0][1], "b") - 1)
    tampered = tmp_path / "t.json"
    tampered.write_text(json.dumps(cert))
    with pytest.raises(checker.CheckFailure) as info:
        checker.Checker(str(tampered)).run()
    assert ".bounds[0]" in info.value.location or ".proofs[0]" in info.value.location

def test_a_property_file_checked_against_a_certificate_stating_no_file_hash(tmp_path: Path) -> None:
    from exactrelu.verify import verify_property, write_property_certificate
    from exactrelu.vnnlib import parse_property

    text = HEAD2 + "(assert (> Y_0 1))\n"
    verdict = verify_property(CANCELS, parse_property(text, "p.vnnlib"))
    assert verdict.status == "holds"
    cert, prop = tmp_path / "c.json", tmp_path / "p.vnnlib"
    write_property_certificate(cert, verdict)  # no property_file_sha256
    prop.write_text(text)
    assert json.loads(cert.read_text())["property_file_sha256"] is None
    c = checker.Checker(str(cert), prop=str(prop))
    c.run()
    assert f"the property file {prop} (the certificate states no file hash)" in c.summary()


def test_a_node_of_one_kind_with_another_key_is_that_kind() -> None:
    """A node with one of the four kinds and a key of no kind (a note, say) is that kind: the extra
    key claims nothing, and the node is checked as the kind it has; two kinds are refused."""
    assert checker.node_kind({"leaf": 0, "note": "x"}, "tree[0]") == "leaf"
    assert checker.node_kind({"note": "x", "split": [0, 0]}, "tree[0]") == "split"
    with pytest.raises(checker.CheckFailure, match="expected 'split', 'leaf' or 'empty'"):
        checker.node_kind({"note": "x"}, "tree[0]")


def test_the_dev_extra_installs_what_measures_the_checker_coverage():
    """That no line of the trusted base is untested is measured with coverage.py, configured in
    pyproject.toml's [tool.coverage.run]: `pip install -e .[dev]` must install it."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["coverage"]["run"]
    assert "coverage>=7" in config["project"]["optional-dependencies"]["dev"]
