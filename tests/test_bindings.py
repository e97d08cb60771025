"""A verdict is about exactly the files the auditor names (issue 11, section 1).

Each test holds files as an auditor would: a model, a shallow / pruned / second network, a domain
and a certificate from someone else.  A certificate verifies only against the files named, the
verdict's comment lines say which network and domain were *pinned* (compared with a named file) and
which were *embedded* (taken from the certificate alone), and a certificate of another kind than
the options ask for is ``s NOT VERIFIED``.
"""

from __future__ import annotations

import copy
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import checker, cli
from exactrelu.certificate import write_certificate
from exactrelu.domain import Domain
from exactrelu.equiv import compare, write_equivalence_certificate
from exactrelu.io import npz
from exactrelu.io.jsonfmt import save as save_network
from exactrelu.network import ReluNetwork
from exactrelu.prune import certify, prune
from exactrelu.regions import enumerate_regions
from exactrelu.shallow import build_shallow, save_shallow

F = Fraction
ABS = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])          # |x|
RELU_X = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, -1]], [0])])     # relu(x) - relu(-x) = x
IDENTITY = ReluNetwork.from_lists([([[1]], [0])])                              # x
WITH_DEAD = ReluNetwork.from_lists([([[1], [0], [-1]], [0, -1, 0]), ([[1, 5, 1]], [0])])  # |x|, a dead neuron


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = checker.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A shallow certificate naming its shallow file, an equivalence and a prune certificate, and
    the networks and domain each is about, as files in one folder."""
    box = Domain.box(["-1"], ["2"])
    e = enumerate_regions(ABS, box)
    s = build_shallow(e)
    paths = {name: tmp_path / f"{name}.json" for name in
             ("model", "other", "S", "S.cert", "A", "B", "equiv.cert", "orig", "pruned", "prune.cert", "box", "box2")}
    save_network(ABS, paths["model"])
    save_network(RELU_X, paths["other"])
    save_shallow(s, paths["S"])
    write_certificate(paths["S.cert"], e, s, paths["S"])
    save_network(RELU_X, paths["A"])
    save_network(IDENTITY, paths["B"])
    write_equivalence_certificate(paths["equiv.cert"], compare(RELU_X, IDENTITY, box))
    result = prune(WITH_DEAD, box)
    save_network(WITH_DEAD, paths["orig"])
    save_network(result.pruned, paths["pruned"])
    write_equivalence_certificate(paths["prune.cert"], certify(result), purpose="prune")
    paths["box"].write_text(json.dumps({"box": [["-1", "2"]]}))
    paths["box2"].write_text(json.dumps({"box": [["-1", "3"]]}))
    return paths


def comment(err: str, what: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith(f"c {what}: ")]
    assert len(lines) == 1, err
    return lines[0]


# ----------------------------------------------------------------------------- shallow certificates
def test_shallow_certificate_names_every_binding(files, capsys) -> None:
    code, out, err = run(capsys, files["S.cert"], "--model", files["model"], "--shallow", files["S"],
                         "--domain", files["box"])
    assert (code, out) == (0, "s VERIFIED\n")
    assert comment(err, "kind").startswith("c kind: shallow certificate")
    assert comment(err, "deep network").endswith(f"pinned ({files['model']})")
    assert comment(err, "shallow network").endswith(f"pinned ({files['S']})")
    assert comment(err, "domain") == f"c domain: [-1, 2], pinned ({files['box']})"
    # without options every network is the certificate's own, and the verdict says so
    code, out, err = run(capsys, files["S.cert"])
    assert code == 0 and comment(err, "deep network").endswith("embedded (taken from the certificate alone)")
    assert comment(err, "domain").endswith("embedded (taken from the certificate alone)")
    # the shallow file the certificate names is read from disk by default
    assert "named by the certificate" in comment(err, "shallow network") and "not pinned" in comment(err, "shallow network")


def test_the_shallow_file_beside_the_certificate_is_what_is_checked(files, capsys) -> None:
    data = json.loads(files["S"].read_text())
    data["layers"][0]["bias"][0] = "1/7" if data["layers"][0]["bias"][0] != "1/7" else "2/7"
    files["S"].write_text(json.dumps(data))
    code, out, err = run(capsys, files["S.cert"], "--model", files["model"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c shallow.sha256: does not match")
    code, out, err = run(capsys, files["S.cert"], "--model", files["model"], "--shallow", files["S"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and f"does not match the shallow network {files['S']}" in err


def test_a_shallow_binding_must_be_a_regular_file(files, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, files["S.cert"], "--shallow", tmp_path)
    assert (code, out) == (1, "s NOT VERIFIED\n") and "must be a regular file" in err
    cert = json.loads(files["S.cert"].read_text())
    for bad in ("/etc/hostname", "", 7):
        cert["shallow"]["file"] = bad
        files["S.cert"].write_text(json.dumps(cert))
        code, out, err = run(capsys, files["S.cert"])
        assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c shallow.file: expected the relative name")


def test_another_kind_is_refused_with_the_reason(files, capsys) -> None:
    """An equivalence certificate saved as S.cert.json does not verify as the shallow certificate."""
    files["S.cert"].write_text(files["equiv.cert"].read_text())
    code, out, err = run(capsys, files["S.cert"], "--model", files["model"])
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.startswith("c format: this is an equivalence certificate") and "not the shallow certificate" in err
    code, out, err = run(capsys, files["prune.cert"], "--model-a", files["orig"], "--model-b", files["pruned"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and "this is a prune certificate" in err
    code, out, err = run(capsys, files["equiv.cert"], "--expect", "prune")
    assert (code, out) == (1, "s NOT VERIFIED\n") and "not the prune certificate" in err
    cert = json.loads(files["equiv.cert"].read_text())
    cert["purpose"] = "shallow"
    files["equiv.cert"].write_text(json.dumps(cert))
    code, out, err = run(capsys, files["equiv.cert"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c purpose: expected")


@pytest.mark.parametrize("flags, message", [
    (["--model", "M", "--model-a", "A"], "--model does not apply to a equivalence"),
    (["--shallow", "S", "--pruned", "P"], "--shallow does not apply to a prune"),
    (["--expect", "shallow", "--model-b", "B"], "--model-b does not apply to a shallow"),
    (["--domain", "D", "--box=0:1"], "either --domain or --box"),
])
def test_contradictory_options_are_a_usage_error(flags, message, files, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        checker.main([str(files["S.cert"]), *flags])
    assert info.value.code == 2 and message.replace(" a equivalence", " a equivalence") in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--model", "--shallow", "--domain", "--box", "--model-a", "--pruned"])
def test_an_empty_value_is_a_usage_error(flag, files, capsys) -> None:
    """``--model ""`` (an unset shell variable) must not fall back to the certificate's own network."""
    with pytest.raises(SystemExit) as info:
        checker.main([str(files["S.cert"]), flag, ""])
    assert info.value.code == 2 and "empty value" in capsys.readouterr().err
    assert cli.main(["check", str(files["S.cert"]), flag, ""]) == 2
    assert "empty value" in capsys.readouterr().err


def test_check_box_pins_the_domain(files, capsys) -> None:
    code, out, err = run(capsys, files["S.cert"], "--box=-1:2")
    assert code == 0 and comment(err, "domain") == "c domain: [-1, 2], pinned (--box=-1:2)"
    code, out, err = run(capsys, files["S.cert"], "--box=-1:3")
    assert (code, out) == (1, "s NOT VERIFIED\n") and "another domain than --box=-1:3" in err
    code, out, err = run(capsys, files["S.cert"], "--domain", files["box2"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and "another domain" in err
    code, out, err = run(capsys, files["S.cert"], "--box=0:1,0:1")
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c --box: expected 1 bounds")


def test_dump_parses_the_certificate_once(files, capsys, monkeypatch) -> None:
    """What ``--dump`` shows is what is verified: the certificate file is read once."""
    reads = []
    original = checker.load_json

    def counting(path, what):
        reads.append(what)
        return original(path, what)

    monkeypatch.setattr(checker, "load_json", counting)
    code, out, err = run(capsys, files["S.cert"], "--dump", "--model", files["model"])
    assert code == 0 and "deep network: widths" in err
    assert reads.count("certificate") == 1


def test_an_empty_domain_is_not_verified(tmp_path: Path, capsys) -> None:
    """A certificate over an empty polytope has no leaf: it proves nothing, whatever its tree says
    (an empty box is refused as it is read: test_review_findings)."""
    e = enumerate_regions(ABS, Domain.box(["-1"], ["1"]))
    s = build_shallow(e)
    write_certificate(tmp_path / "c.json", e, s)
    cert = json.loads((tmp_path / "c.json").read_text())
    cert["domain"] = {"kind": "polytope", "dim": 1, "A": [["-1"], ["1"]], "b": ["-1", "0"]}   # x >= 1 and x <= 0
    proof = {"empty": [[0, "1"], [1, "1"]]}                                      # (x - 1) + (0 - x) = -1 < 0
    cert["tree"] = [{"split": [0, 0]}, proof, proof]
    cert["leaves"] = []
    (tmp_path / "c.json").write_text(json.dumps(cert))
    code, out, err = run(capsys, tmp_path / "c.json")
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c domain: the domain is empty")


def test_digits_beyond_pythons_default_limit(tmp_path: Path, capsys) -> None:
    """A weight with 5000 digits (Python refuses int(str) beyond 4300 by default) is read exactly."""
    big = "7" * 5000
    net = ReluNetwork.from_lists([([[big], [-1]], [0, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net, Domain.box(["-1"], ["1"]))
    s = build_shallow(e)
    save_shallow(s, tmp_path / "s.json")
    write_certificate(tmp_path / "c.json", e, s, tmp_path / "s.json")
    save_network(net, tmp_path / "m.json")
    code, out, _ = run(capsys, tmp_path / "c.json", "--model", tmp_path / "m.json")
    assert (code, out) == (0, "s VERIFIED\n")


# ----------------------------------------------------------------------------- two networks
def test_equivalence_pins_both_networks(files, capsys) -> None:
    code, out, err = run(capsys, files["equiv.cert"], "--model-a", files["A"], "--model-b", files["B"],
                         "--domain", files["box"])
    assert (code, out) == (0, "s VERIFIED\n")
    assert comment(err, "network A").endswith(f"pinned ({files['A']})")
    assert comment(err, "network B").endswith(f"pinned ({files['B']})")
    code, out, err = run(capsys, files["equiv.cert"], "--model-a", files["A"], "--model-b", files["model"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c network B: the certificate is about another")


def test_prune_pins_the_original_and_the_pruned_file(files, capsys) -> None:
    code, out, err = run(capsys, files["prune.cert"], "--model", files["orig"], "--pruned", files["pruned"])
    assert (code, out) == (0, "s VERIFIED\n")
    assert comment(err, "original network").endswith(f"pinned ({files['orig']})")
    assert comment(err, "pruned network").endswith(f"pinned ({files['pruned']})")
    # a pruned file changed on disk after the certificate was written
    data = json.loads(files["pruned"].read_text())
    data["layers"][-1]["bias"][0] = "1/1000"
    files["pruned"].write_text(json.dumps(data))
    code, out, err = run(capsys, files["prune.cert"], "--model", files["orig"], "--pruned", files["pruned"])
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c pruned network: the certificate is about another")


def test_other_model_formats(files, tmp_path: Path, capsys) -> None:
    """``exactrelu check`` converts other formats (and says the conversion is outside the trusted
    base); the lone checker reads exactrelu JSON only and says so."""
    npz.save(ABS, tmp_path / "model.npz")
    code, out, err = run_cli(capsys, "check", files["S.cert"], "--model", tmp_path / "model.npz")
    assert (code, out) == (0, "s VERIFIED\n")
    assert "outside the checker's trusted base" in err and comment(err, "deep network").endswith("pinned (%s)" % (tmp_path / "model.npz"))
    code, out, err = run(capsys, files["S.cert"], "--model", tmp_path / "model.npz")
    assert (code, out) == (1, "s NOT VERIFIED\n") and "reads exactrelu-network JSON only" in err


# ----------------------------------------------------------------------------- random mutations
def _scalars(obj, path=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _scalars(value, (*path, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _scalars(value, (*path, i))
    else:
        yield path


def _mutate(old, rng: random.Random):
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return old + rng.choice([1, -1])
    try:
        q = F(old)
    except (TypeError, ValueError, ZeroDivisionError):
        return (old or "x") + rng.choice(["0", "a", "/"])
    new = rng.choice([q + 1, -q, q / 2, q + F(1, 1000), F(rng.randint(-5, 5), rng.randint(1, 5))])
    new = new if new != q else q + 1
    return str(new.numerator) if new.denominator == 1 else f"{new.numerator}/{new.denominator}"


@pytest.mark.parametrize("name, flags", [
    ("equiv.cert", ("--model-a", "A", "--model-b", "B", "--domain", "box")),
    ("prune.cert", ("--model", "orig", "--pruned", "pruned", "--domain", "box")),
])
def test_random_mutations_with_both_networks_pinned(name, flags, files, tmp_path: Path) -> None:
    """With both networks and the domain pinned, a mutated certificate verifies only if what it then
    claims is still true: both networks are the auditor's files, and the claim is still equality."""
    valid = json.loads(files[name].read_text())
    paths = list(_scalars(valid))
    rng = random.Random(11)
    target = tmp_path / "mutated.json"
    bindings = {flags[i].lstrip("-").replace("-", "_"): str(files[flags[i + 1]]) for i in range(0, len(flags), 2)}
    accepted = 0
    for _ in range(300):
        path = rng.choice(paths)
        cert = copy.deepcopy(valid)
        obj = cert
        for step in path[:-1]:
            obj = obj[step]
        obj[path[-1]] = _mutate(obj[path[-1]], rng)
        target.write_text(json.dumps(cert))
        c = checker.Checker(str(target), **bindings)
        try:
            c.run()
        except checker.CheckFailure:
            continue
        accepted += 1
        assert all(status.startswith("pinned") for _, _, status in c.bindings), path
        assert c.claim["kind"] == "equal", path  # the networks are equal: only a true claim may verify
        assert path[0] in ("producer", "leaves", "tree"), path
    assert accepted < 300


def test_report_renders_only_what_verifies(files, tmp_path: Path, capsys) -> None:
    """``report`` runs the checker first: a rejected certificate gets no proof ending in a ∎."""
    out = tmp_path / "proof.md"
    assert run_cli(capsys, "report", files["S.cert"], "-o", out, "--no-picture")[0] == 0
    assert "∎" in out.read_text()
    cert = json.loads(files["S.cert"].read_text())
    cert["leaves"][0]["alpha"][0][0] = "5"
    files["S.cert"].write_text(json.dumps(cert))
    out.unlink()
    code, _, err = run_cli(capsys, "report", files["S.cert"], "-o", out, "--no-picture")
    assert code == 1 and "the checker does not verify it (leaves[0].alpha:" in err and not out.exists()


@pytest.mark.parametrize("text, same", [("1 / 3", True), ("1\t/\t3", True), ("+2 /6", True), ("1/3", True),
                                        ("1_000", False), ("2.5/5", False), ("- 1/3", False)])
def test_model_numbers_are_read_as_the_loaders_read_them(text, same, tmp_path: Path, capsys) -> None:
    """``"1 / 3"`` (allowed by docs/formats.md) is the same number to the loaders and the checker;
    what the loaders refuse, the checker refuses too."""
    from exactrelu.errors import InputError
    from exactrelu.rationals import parse_rational

    net = ReluNetwork.from_lists([([["1/3"], [-1]], [0, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net, Domain.box(["-1"], ["1"]))
    s = build_shallow(e)
    write_certificate(tmp_path / "c.json", e, s)
    model = json.loads(json.dumps(net.to_dict()))
    model["layers"][0]["weight"][0][0] = text
    (tmp_path / "m.json").write_text(json.dumps(model))
    code, _, err = run(capsys, tmp_path / "c.json", "--model", tmp_path / "m.json")
    if same:
        assert parse_rational(text) == F(1, 3) and code == 0
    else:
        with pytest.raises(InputError):
            parse_rational(text)
        assert code == 1 and "is not a number" in err
