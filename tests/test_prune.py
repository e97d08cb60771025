"""``exactrelu prune``: exact, lossless pruning on a domain, certified by an equivalence certificate.

The pruned network is checked three independent ways: the checker verifies the certificate, both
networks are evaluated exactly at random rational points of the domain (and at the corners), and
the neurons reported removed are compared with neurons that were built to be dead or stable.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from itertools import product
from pathlib import Path

import pytest

from exactrelu import checker, commands
from exactrelu.domain import Domain
from exactrelu.equiv import compare, write_equivalence_certificate
from exactrelu.network import ReluNetwork
from exactrelu.prune import certify, neuron_status, prune

F = Fraction


def net(*layers) -> ReluNetwork:
    return ReluNetwork.from_lists(list(layers))


def verified(path: Path) -> bool:
    c = checker.Checker(str(path))
    try:
        c.run()
    except checker.CheckFailure as exc:  # pragma: no cover - shown on failure
        raise AssertionError(f"{exc.location}: {exc.reason}") from None
    return True


def same_on_box(a: ReluNetwork, b: ReluNetwork, lo, hi, rng: random.Random, count: int = 60) -> None:
    """Equal at the corners and at ``count`` random rational points of the box ``[lo, hi]``."""
    for corner in product(*zip(lo, hi)):
        assert a.evaluate(corner) == b.evaluate(corner), corner
    for _ in range(count):
        x = [lo_i + (hi_i - lo_i) * F(rng.randint(0, 48), 48) for lo_i, hi_i in zip(lo, hi)]
        assert a.evaluate(x) == b.evaluate(x), x


@pytest.fixture
def run_cli(capsys):

    def run(*argv):
        code = commands.main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# A network built so that on [-1, 1]^2:
#   L0.0 = x1 unstable, L0.1 = x2 + 5 active, L0.2 = x1 + x2 - 9 dead, L0.3 = 1 (constant, active),
#   L0.4 = -x1 - x2 - 3 dead;
#   L1.0 = x1+ + (x2 + 5) + 1 > 0 active, L1.1 = -(x2 + 5) - 1 + ... dead: layer 1 is affine on the box.
BUILT = net(
    ([[1, 0], [0, 1], [1, 1], [0, 0], [-1, -1]], [0, 5, -9, 1, -3]),
    ([[1, 1, 1, 1, 7], [0, -1, 3, -1, 2]], [0, 0]),
    ([[1, 2]], ["1/2"]),
)


def test_a_built_network_loses_exactly_its_dead_and_stable_parts(tmp_path: Path) -> None:
    box = Domain.box(["-1", "-1"], ["1", "1"])
    result = prune(BUILT, box)
    assert neuron_status(result.enumeration) == [
        ["unstable", "active", "inactive", "active", "inactive"], ["active", "inactive"]]
    assert result.dead == [(0, 2), (0, 4), (1, 1)]
    assert result.folded_layers == [1] and result.folded_active == [(1, 0)]
    assert result.folded_constant == [(0, 3)]
    assert result.kept_active == [(0, 1)]
    # relu(x1) + relu(x2 + 5) + 1 + 1/2, as a 2-2-1 network
    assert result.pruned.widths == (2, 2, 1)
    same_on_box(BUILT, result.pruned, box.lower, box.upper, random.Random(0))
    comparison = certify(result)
    assert comparison.equal
    path = tmp_path / "p.cert.json"
    write_equivalence_certificate(path, comparison)
    assert verified(path)
    # the pruning holds on the domain only: on a larger box the networks differ
    big = compare(BUILT, result.pruned, Domain.box(["-20", "-20"], ["20", "20"]))
    assert not big.equal
    x = big.counterexample
    assert BUILT.evaluate(x) != result.pruned.evaluate(x)


def test_a_network_affine_on_the_domain_becomes_one_affine_layer(tmp_path: Path) -> None:
    a = net(([[1, 0], [0, -1], [1, 1]], [3, 4, -10]), ([[1, 1, 5], [2, 0, 1]], [1, -1]), ([[1, -1]], [0]))
    result = prune(a, Domain.box(["-1", "-1"], ["1", "1"]))
    assert result.pruned.widths == (2, 1) and result.folded_layers == [0, 1]
    # x1 - x2 + 8 - (2 x1 + 5)
    assert result.pruned.layers[0].weight == ((F(-1), F(-1)),) and result.pruned.layers[0].bias == (F(3),)
    comparison = certify(result)
    path = tmp_path / "affine.cert.json"
    write_equivalence_certificate(path, comparison)  # A||B pads B = affine through (v, -v)
    assert verified(path)


def test_a_network_constant_on_the_domain_becomes_a_constant() -> None:
    a = net(([[1, 1], [-1, 0]], [-5, -2]), ([[1, 2]], [3]), ([[2], [-1]], [1, 0]))
    result = prune(a, Domain.box(["-1", "-1"], ["1", "1"]))
    assert result.constant and result.pruned.widths == (2, 2)
    assert result.pruned.evaluate(["0", "0"]) == (F(7), F(-3)) == a.evaluate(["1/3", "-1"])
    assert certify(result).equal


def test_unused_neurons_are_removed() -> None:
    """L0.1 feeds only L1.1, which is dead: L1.1 goes, then L0.1 has no outgoing weight."""
    a = net(([[1, 0], [0, 1], [1, -1]], [0, 0, 0]), ([[1, 0, 1], [0, 1, 0], [1, 0, "-1/2"]], [0, -5, 0]),
            ([[1, 1, 1]], [0]))
    result = prune(a, Domain.box(["-1", "-1"], ["1", "1"]))
    assert (1, 1) in result.dead and result.unused == [(0, 1)]
    assert result.pruned.widths == (2, 2, 2, 1)
    assert certify(result).equal


@pytest.mark.parametrize("kind", ["dead", "mixed", "zero_row", "duplicate", "generic"])
@pytest.mark.parametrize("seed", range(3))
def test_random_networks_prune_losslessly(kind: str, seed: int, tmp_path: Path, random_network) -> None:
    rng = random.Random(1000 * seed + len(kind))
    dims = [2, rng.randint(3, 5), rng.randint(2, 3), 1] if seed % 2 else [2, rng.randint(3, 5), 1]
    a = random_network(rng, dims, kind)
    lo, hi = (F(-1), F(-1)), (F(1), F(1))
    result = prune(a, Domain.box(lo, hi))
    assert result.pruned.neuron_count <= a.neuron_count
    assert result.pruned.neuron_count == a.neuron_count - len(result.dead) - len(result.folded_active) \
        - len(result.folded_constant) - len(result.unused)
    same_on_box(a, result.pruned, lo, hi, rng, 25)
    comparison = certify(result)
    path = tmp_path / "r.cert.json"
    write_equivalence_certificate(path, comparison)
    assert verified(path)


def test_the_command_writes_the_network_and_a_certificate_that_checks(tmp_path: Path, run_cli) -> None:
    src = tmp_path / "net.json"
    src.write_text(json.dumps(BUILT.to_dict()))
    out = tmp_path / "small.json"
    code, text, err = run_cli("prune", src, "--box=-1:1", "-o", out)
    assert code == 0, err
    assert "removed 3 neurons inactive on every region: L0.2, L0.4, L1.1" in text
    assert "folded 1 hidden layers" in text and "L1" in text
    assert (tmp_path / "small.cert.json").is_file()
    assert run_cli("check", tmp_path / "small.cert.json")[:2] == (0, "s VERIFIED\n")
    code, text, _ = run_cli("equiv", src, out, "--box=-1:1", "--json")
    assert code == 0 and json.loads(text)["verdict"] == "equal"
    code, text, _ = run_cli("prune", src, "--box=-1:1", "-o", out, "--json", "--certificate", tmp_path / "c.json")
    summary = json.loads(text)
    assert code == 0 and summary["widths_after"] == [2, 2, 1] and summary["removed_inactive"] == [[0, 2], [0, 4], [1, 1]]
    assert summary["neurons_before"] == 7 and summary["neurons_after"] == 2
    code, _, err = run_cli("prune", src, "-o", tmp_path / "nowhere" / "p.json")
    assert code == 2 and "does not exist" in err
