"""``check --workers N``: one certificate checked in N processes (this one and N - 1 forked helpers,
each checking the evidence of one range of the tree's nodes) gives the serial run's verdict, and
when it fails the serial run's first failure: the earliest node in preorder, at one node the
helper's check (which a serial run makes first).

Random certificates of degenerate networks verify in 1, 2 and 3 processes; the stored tampered
certificates and random single-value mutations fail with the same location and reason; a fault
placed in every part of the tree (so in every helper's range, and in the main process's share)
is reported as the serial run reports it, also when two faults lie in different ranges.
"""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import checker
from exactrelu.certificate import write_certificate
from exactrelu.checker import CheckFailure, Checker
from exactrelu.domain import Domain
from exactrelu.regions import enumerate_regions
from exactrelu.shallow import build_shallow, save_shallow

TAMPERED = Path(__file__).resolve().parent / "data" / "tampered"
KINDS = ("generic", "duplicate", "zero_row", "dead", "parallel", "concurrent", "touching", "mixed")


def outcome(path: Path, workers: int) -> tuple:
    try:
        Checker(str(path), workers=workers).run()
    except CheckFailure as exc:
        return exc.location, exc.reason
    return None, None


def certificate(tmp_path: Path, seed: int, make_network, dims=(2, 4, 3, 1)) -> Path:
    """A certificate (shallow network in a file) of a network of kind ``KINDS[seed % ...]``."""
    rng = random.Random(seed)
    net = make_network(rng, dims, KINDS[seed % len(KINDS)])
    e = enumerate_regions(net, Domain.box(["-1"] * dims[0], ["1"] * dims[0]))
    s = build_shallow(e)
    save_shallow(s, tmp_path / f"s{seed}.json")
    write_certificate(tmp_path / f"c{seed}.json", e, s, tmp_path / f"s{seed}.json")
    return tmp_path / f"c{seed}.json"


@pytest.mark.parametrize("seed", range(10))
def test_random_certificates_verify_in_one_two_and_three_processes(seed: int, tmp_path: Path, random_network) -> None:
    path = certificate(tmp_path, seed, random_network)
    assert [outcome(path, w) for w in (1, 2, 3)] == [(None, None)] * 3
    check = Checker(str(path), workers=3)
    check.run()
    serial = Checker(str(path))
    serial.run()
    assert check.summary() == serial.summary() and check.stats == serial.stats


@pytest.mark.parametrize("name", sorted(p.stem for p in TAMPERED.glob("*.json")))
def test_stored_tampered_certificates_fail_alike(name: str) -> None:
    path = TAMPERED / f"{name}.json"
    serial = outcome(path, 1)
    assert outcome(path, 2) == serial and outcome(path, 4) == serial


def _faulty(cert: dict, t: int) -> str:
    """Spoil node ``t`` of the flat tree (an empty node's multiplier, a leaf's witness, checked by a
    helper, or its affine map, checked by the main process); its kind."""
    node = cert["tree"][t]
    if "empty" in node:
        node["empty"][0][1] = str(-Fraction(node["empty"][0][1]))
        return "empty"
    if "leaf" in node and t % 2:
        cert["leaves"][node["leaf"]]["witness"] = ["7"] * len(cert["leaves"][node["leaf"]]["witness"])
        return "witness"
    if "leaf" in node:
        cert["leaves"][node["leaf"]]["beta"][0] = str(Fraction(cert["leaves"][node["leaf"]]["beta"][0]) + 1)
        return "map"
    node["split"] = [0, 0] if node["split"] != [0, 0] else [0, 1]
    return "split"


@pytest.mark.parametrize("seed", range(3))
def test_faults_anywhere_and_in_pairs_are_reported_as_serially(seed: int, tmp_path: Path, random_network) -> None:
    path = certificate(tmp_path, seed, random_network, dims=(2, 5, 3, 1))
    valid = json.loads(path.read_text())
    count = len(valid["tree"])
    rng = random.Random(seed)
    spots = sorted(rng.sample(range(count), min(count, 16)))
    kinds = set()
    bad = tmp_path / "bad.json"
    for t in spots:
        cert = copy.deepcopy(valid)
        kinds.add(_faulty(cert, t))
        if rng.random() < 0.5 and t + 1 < count:  # a second fault later: the earlier one must be reported
            _faulty(cert, rng.randrange(t + 1, count))
        bad.write_text(json.dumps(cert))
        serial = outcome(bad, 1)
        assert serial[0] is not None
        assert outcome(bad, 2) == serial and outcome(bad, 3) == serial, (t, serial)
    assert "empty" in kinds and len(kinds & {"witness", "map"}) >= 1 and len(kinds) >= 3


def test_a_fault_after_the_walk_is_the_main_processs(tmp_path: Path, random_network) -> None:
    path = certificate(tmp_path, 1, random_network)
    shallow = tmp_path / "s1.json"
    data = json.loads(shallow.read_text())
    data["c"][0] = "12345"
    shallow.write_text(json.dumps(data))
    cert = json.loads(path.read_text())
    cert["shallow"]["sha256"] = checker.raw_sha256(data)
    path.write_text(json.dumps(cert))
    assert outcome(path, 1) == outcome(path, 2) == ("shallow.c[0]", "differs from the construction over the leaves")


def test_one_process_and_no_fork_are_serial(tmp_path: Path, random_network, monkeypatch) -> None:
    path = certificate(tmp_path, 2, random_network)
    started = []
    monkeypatch.setattr(checker, "_helper", lambda *args: started.append(args))
    assert outcome(path, 1) == (None, None) and not started
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert outcome(path, 3) == (None, None) and not started


def test_a_helper_that_dies_is_no_verdict(tmp_path: Path, random_network, monkeypatch) -> None:
    import os

    path = certificate(tmp_path, 3, random_network)
    monkeypatch.setattr(checker, "_helper", lambda send, share: os._exit(3))
    location, reason = outcome(path, 2)
    assert location == "--workers" and reason == "a helper process ended without a verdict"


def test_the_command_line_option(tmp_path: Path, random_network, capsys) -> None:
    from exactrelu.commands import main as cli_main

    path = certificate(tmp_path, 4, random_network)
    assert checker.main([str(path), "--workers", "2"]) == 0
    assert capsys.readouterr().out == "s VERIFIED\n"
    assert cli_main(["check", str(path), "--workers", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is True
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SystemExit) as exc:
            checker.main([str(path), "--workers", bad])
        assert exc.value.code == 2
        assert "expected a positive integer" in capsys.readouterr().err
