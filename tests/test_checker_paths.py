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
