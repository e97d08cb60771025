"""Version-3 (streamed) shallow certificates: written by ``shallow --stream`` and by
:func:`exactrelu.certificate.stream_lines`, read by the checker as a stream.

* the engine's sink receives exactly the version-2 tree, node by node in preorder, and keeps none;
* on random networks (and on a tampered certificate) version 3 and version 2 give the same
  verdict and the same summary; ``--stream`` writes the same shallow network as the default path
  and the same nodes and leaves as the version-2 certificate;
* tampered version-3 files are refused, each with its line named.
"""

from __future__ import annotations

import hashlib
import json
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu.certificate import stream_lines, tree_chunks, write_certificate
from exactrelu.checker import CheckFailure, Checker
from exactrelu.cli import main
from exactrelu.domain import Domain
from exactrelu.network import ReluNetwork
from exactrelu.regions import enumerate_regions
from exactrelu.shallow import build_shallow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from common import random_network  # noqa: E402

BOX2 = Domain.box(["-2", "-2"], ["2", "2"])


class Recorder:
    """A sink that keeps what it is given, as version-2 node objects."""

    def __init__(self) -> None:
        self.nodes, self.regions = [], []

    def split(self, neuron) -> None:
        self.nodes.append('{"split":[%d,%d]}' % neuron)

    def empty(self, child) -> None:
        self.nodes.append("".join(tree_chunks(child))[1:-1])

    def leaf(self, index, region) -> None:
        self.nodes.append('{"leaf":%d}' % index)
        self.regions.append(region)


@pytest.mark.parametrize("domain", [BOX2, None])
def test_the_sink_gets_the_version_2_tree_in_preorder(domain) -> None:
    net = random_network([2, 6, 5, 1], seed=3)
    whole = enumerate_regions(net, domain)
    sink = Recorder()
    streamed = enumerate_regions(net, domain, sink=sink)
    assert "[" + ",".join(sink.nodes) + "]" == "".join(tree_chunks(whole.tree))
    assert sink.regions == whole.regions
    assert streamed.tree is None and streamed.regions == [] and streamed.streamed == len(whole.regions)
    assert streamed.nodes == whole.nodes


def v2_certificate(tmp_path: Path, net: ReluNetwork, domain: Domain, name: str = "c") -> Path:
    e = enumerate_regions(net, domain)
    path = tmp_path / f"{name}.v2.json"
    write_certificate(path, e, build_shallow(e))  # the shallow network embedded
    return path


def v3_from(v2: Path, edit=None) -> Path:
    """The version-3 lines of a version-2 file (``edit(lines)`` may change them)."""
    lines = list(stream_lines(json.loads(v2.read_text())))
    if edit is not None:
        lines = edit(lines)
    path = v2.with_name(v2.name.replace(".v2.", ".v3."))
    path.write_text("".join(lines))
    return path


def verdict(path: Path):
    check = Checker(str(path))
    try:
        check.run()
    except CheckFailure as exc:
        return False, exc.location, exc.reason
    return True, check.summary(), check.verdict_lines()


@pytest.mark.parametrize("seed,widths", [(0, [2, 5, 1]), (1, [2, 4, 4, 1]), (2, [3, 5, 4, 2]), (3, [2, 3, 3, 3, 1])])
def test_version_3_and_version_2_agree(tmp_path, seed, widths) -> None:
    net = random_network(widths, seed=seed)
    domain = Domain.box(["-2"] * widths[0], ["2"] * widths[0])
    v2 = v2_certificate(tmp_path, net, domain)
    ok2, summary2, lines2 = verdict(v2)
    ok3, summary3, lines3 = verdict(v3_from(v2))
    assert ok2 and ok3 and summary2 == summary3 and lines2 == lines3


def test_a_tampered_witness_fails_in_both_versions(tmp_path) -> None:
    net = random_network([2, 4, 4, 1], seed=1)
    v2 = v2_certificate(tmp_path, net, BOX2)
    cert = json.loads(v2.read_text())
    cert["leaves"][2]["witness"] = ["7", "7"]  # outside the domain: a row fails
    v2.write_text(json.dumps(cert))
    ok2, where2, reason2 = verdict(v2)
    ok3, where3, reason3 = verdict(v3_from(v2))
    line = next(t for t, node in enumerate(cert["tree"]) if node.get("leaf") == 2) + 2
    assert not ok2 and not ok3 and reason2 == reason3
    assert where2 == "leaves[2].witness" and where3 == f"line {line} (leaves[2].witness)"


def test_shallow_stream_writes_what_the_default_path_writes(tmp_path) -> None:
    net = random_network([2, 5, 4, 2], seed=4)
    model = tmp_path / "net.json"
    model.write_text(json.dumps(net.to_dict()))
    assert main(["shallow", str(model), "--box=-2:2,-2:2", "-o", str(tmp_path / "a.json"), "--quiet"]) == 0
    assert main(["shallow", str(model), "--box=-2:2,-2:2", "-o", str(tmp_path / "b.json"), "--stream", "--quiet"]) == 0
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads((tmp_path / "b.json").read_text())
    v2 = json.loads((tmp_path / "a.cert.json").read_text())
    streamed = (tmp_path / "b.cert.json").read_text().splitlines(keepends=True)
    converted = list(stream_lines(v2))
    assert list(map(json.loads, streamed[1:])) == list(map(json.loads, converted[1:]))  # the same nodes, leaves, counts
    header = json.loads(streamed[0])
    assert header["version"] == 3 and header["stream"] == "jsonl"
    assert header["shallow"] == {"file": "b.json", "sha256": hashlib.sha256((tmp_path / "b.json").read_bytes()).hexdigest()}
    # the file is its canonical form, so the hash of its bytes is the one version 2 records (and `info` prints)
    from exactrelu.network import canonical_sha256

    assert header["shallow"]["sha256"] == v2["shallow"]["sha256"] == canonical_sha256(json.loads((tmp_path / "b.json").read_text()))
    assert {k: v for k, v in header.items() if k != "shallow"} == \
        {k: v for k, v in json.loads(converted[0]).items() if k != "shallow"}
    ok, summary, lines = verdict(tmp_path / "b.cert.json")
    assert ok and summary == verdict(tmp_path / "a.cert.json")[1]
    assert any("named by the certificate (" in line and "b.json; not pinned" in line for line in lines)
    # --shallow pins the same file; another file is refused by its hash
    check = Checker(str(tmp_path / "b.cert.json"), shallow=str(tmp_path / "b.json"), model=str(model))
    check.run()
    with pytest.raises(CheckFailure, match="sha256"):
        Checker(str(tmp_path / "b.cert.json"), shallow=str(tmp_path / "a.json")).run()


def test_stream_refuses_what_it_cannot_do(tmp_path, capsys) -> None:
    model = tmp_path / "net.json"
    model.write_text(json.dumps(random_network([2, 3, 1], seed=0).to_dict()))
    assert main(["shallow", str(model), "--box=-1:1,-1:1", "-o", "-", "--certificate", str(tmp_path / "c.json"),
                 "--stream"]) == 2
    assert "--stream writes regular files" in capsys.readouterr().err
    assert main(["shallow", str(model), "--box=-1:1,-1:1", "-o", str(tmp_path / "s.json"), "--stream", "--finite"]) == 2
    assert "--stream writes the exact-weight form" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists() and not (tmp_path / "c.json").exists()


# ----------------------------------------------------------------------------- tampering
@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("v3")
    v2 = v2_certificate(folder, random_network([2, 4, 4, 1], seed=1), BOX2, "t")
    path = v3_from(v2)
    assert verdict(path)[0]
    return folder, path.read_text().splitlines(keepends=True)


def refused(valid, lines: list[str] | str) -> tuple[str, str]:
    folder, _ = valid
    path = folder / "tampered.v3.json"
    path.write_text(lines if isinstance(lines, str) else "".join(lines))
    ok, where, reason = verdict(path)
    assert not ok
    return where, reason


def first(lines: list[str], kind: str) -> int:
    return next(t for t, line in enumerate(lines) if t and line.startswith('{"%s"' % kind))


def test_truncated_files_are_refused(valid) -> None:
    _, lines = valid
    text = "".join(lines)
    middle = len(lines[0]) + (len(text) - len(lines[0])) // 2  # half-way through the lines after the header
    where, reason = refused(valid, text[:middle])
    assert where.startswith("line ") and "truncated" in reason
    where, reason = refused(valid, lines[:-1])
    assert where == f"line {len(lines) - 1}" and "without its end line" in reason
    where, reason = refused(valid, lines[:-3] + lines[-1:])
    assert where == f"line {len(lines) - 2}" and "counts" in reason


def test_the_end_line_and_what_follows(valid) -> None:
    _, lines = valid
    end = json.loads(lines[-1])
    for key in ("nodes", "leaves"):
        changed = {"end": {**end["end"], key: end["end"][key] + 1}}
        where, reason = refused(valid, lines[:-1] + [json.dumps(changed) + "\n"])
        assert where == f"line {len(lines)}" and "counts" in reason
    where, reason = refused(valid, lines[:-1] + ['{"end": {"nodes": 1}}\n'])
    assert where == f"line {len(lines)}"
    where, reason = refused(valid, lines + ['{"split": [0, 0]}\n'])
    assert where == f"line {len(lines) + 1}" and "after the end line" in reason
    where, reason = refused(valid, lines + ["\n"])
    assert where == f"line {len(lines) + 1}" and "after the end line" in reason


def test_a_blank_or_invalid_line_is_named(valid) -> None:
    _, lines = valid
    where, reason = refused(valid, lines[:3] + ["\n"] + lines[3:])
    assert where == "line 4" and reason == "a blank line"
    where, reason = refused(valid, lines[:3] + ['{"split": [0, \n'] + lines[4:])
    assert where == "line 4" and "invalid JSON" in reason
    where, reason = refused(valid, lines[:3] + ['{"split": [0, 1.5]}\n'] + lines[4:])
    assert where == "line 4.split"


def test_leaf_indices_must_come_in_sequence(valid) -> None:
    _, lines = valid
    t = first(lines, "leaf")
    second = next(u for u in range(t + 1, len(lines)) if lines[u].startswith('{"leaf"'))
    swapped = list(lines)
    swapped[t] = lines[t].replace('{"leaf":0', '{"leaf":1', 1)
    where, reason = refused(valid, swapped)
    assert where == f"line {t + 1}.leaf" and "out of sequence" in reason
    dropped = lines[:second] + lines[second + 1:]  # the tree then misses a branch, indices skip
    where, reason = refused(valid, dropped)
    assert where.startswith("line ")
    where, reason = refused(valid, lines[:t] + [lines[t].replace('"region"', '"regio"')] + lines[t + 1:])
    assert where == f"line {t + 1}" and "a leaf line is" in reason


def test_a_changed_witness_multiplier_or_stated_conditions_are_named(valid) -> None:
    _, lines = valid
    t = first(lines, "leaf")
    leaf = json.loads(lines[t])
    leaf["region"]["witness"] = ["9", "9"]
    where, reason = refused(valid, lines[:t] + [json.dumps(leaf) + "\n"] + lines[t + 1:])
    assert where == f"line {t + 1} (leaves[0].witness)" and "violates" in reason
    leaf = json.loads(lines[t])
    leaf["region"]["conditions"] = []  # the form of an earlier release, which stated them
    where, reason = refused(valid, lines[:t] + [json.dumps(leaf) + "\n"] + lines[t + 1:])
    assert where == f"line {t + 1} (leaves[0].conditions)" and reason == (
        "leaf conditions are no longer written (they are derived from the path); regenerate it with exactrelu shallow")
    leaf = json.loads(lines[t])
    leaf["region"]["beta"] = ["12345"]
    where, reason = refused(valid, lines[:t] + [json.dumps(leaf) + "\n"] + lines[t + 1:])
    assert where == f"line {t + 1} (leaves[0].alpha)"
    e = first(lines, "empty")
    node = json.loads(lines[e])
    node["empty"][0][1] = "1/1000000"
    where, reason = refused(valid, lines[:e] + [json.dumps(node) + "\n"] + lines[e + 1:])
    assert where == f"line {e + 1}.empty"


def test_a_duplicate_key_is_refused(valid) -> None:
    _, lines = valid
    t = first(lines, "leaf")
    doubled = lines[t].replace('{"leaf":0,', '{"leaf":0,"leaf":0,', 1)
    where, reason = refused(valid, lines[:t] + [doubled] + lines[t + 1:])
    assert where == f"line {t + 1}.leaf" and "twice" in reason
    header = lines[0].replace('{"domain"', '{"order":"x","domain"', 1)
    where, reason = refused(valid, [header] + lines[1:])
    assert "twice" in reason


def test_the_header_is_checked(valid) -> None:
    _, lines = valid
    header = json.loads(lines[0])
    for change, where_ in ((dict(stream="json"), "line 1"), (dict(leaves=[]), "line 1.leaves")):
        where, _ = refused(valid, [json.dumps({**header, **change}) + "\n"] + lines[1:])
        assert where == where_
    where, _ = refused(valid, [json.dumps({**header, "network_sha256": "0" * 64}) + "\n"] + lines[1:])
    assert where == "network_sha256"


@pytest.fixture(scope="module")
def streamed(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    model = folder / "net.json"
    model.write_text(json.dumps(random_network([2, 4, 3, 2], seed=5).to_dict()))
    assert main(["shallow", str(model), "--box=-2:2,-2:2", "-o", str(folder / "s.json"), "--stream", "--quiet"]) == 0
    return folder


def rehashed(folder: Path, text: str | bytes, accepted: bool = False) -> tuple[str, str]:
    """A changed shallow file with the certificate's hash of it updated: the comparison must catch
    it (unless ``accepted``: the same network laid out otherwise)."""
    raw = text if isinstance(text, bytes) else text.encode()
    (folder / "x.json").write_bytes(raw)
    lines = (folder / "s.cert.json").read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["shallow"] = {"file": "x.json", "sha256": hashlib.sha256(raw).hexdigest()}
    (folder / "x.cert.json").write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    ok, where, reason = verdict(folder / "x.cert.json")
    assert ok == accepted
    return where, reason


def test_the_shallow_file_is_compared_with_the_construction(streamed) -> None:
    text = (streamed / "s.json").read_text()
    data = json.loads(text)
    assert verdict(streamed / "s.cert.json")[0]
    rehashed(streamed, json.dumps(data, indent=2), accepted=True)  # any layout reads, pinned by its own hash
    rehashed(streamed, json.dumps({"extra": [[1, 2]], **data}), accepted=True)  # an unknown field is not read
    (streamed / "s.json").write_text(text + " ")  # the same network, but not the bytes the certificate pins
    where, reason = verdict(streamed / "s.cert.json")[1:]
    assert where == "shallow.sha256"
    (streamed / "s.json").write_text(text)
    cases = {
        "H": lambda d: d["H"][1].__setitem__(0, "3"),
        "c": lambda d: d["c"].__setitem__(0, "5"),
        "alpha": lambda d: d["alpha"][0][0].__setitem__(0, "5"),
        "beta": lambda d: d["beta"].append(["1", "1"]),
        "strict": lambda d: d["strict"][0].append(0),
        "weak": lambda d: d["weak"].__setitem__(0, "x"),
        "layers[2].weights": lambda d: d["layers"][2]["weights"][3].__setitem__(2, "1"),
        "layers[0].bias": lambda d: d["layers"][0]["bias"].pop(),
        "layers[1]": lambda d: d["layers"][1].__setitem__("rows", 1),
        "layers[3].weights": lambda d: d["layers"][3]["weights"].reverse(),
        "layers": lambda d: d["layers"].pop(),
        "domain": lambda d: d["domain"]["upper"].__setitem__(0, "3"),
        "deep_sha256": lambda d: d.__setitem__("deep_sha256", "0"),
        "version": lambda d: d.__setitem__("version", 2),
        "layers[1].weights": lambda d: d["layers"][1].pop("weights"),
    }
    for field, change in cases.items():
        changed = json.loads(text)
        change(changed)
        where, reason = rehashed(streamed, json.dumps(changed))
        assert where.startswith(f"shallow.{field}"), (field, where, reason)
    for broken in ("[1, 2]", text[:-10], text + "[]", '{"H": [1.5]}'):
        where, reason = rehashed(streamed, broken)
        assert where in ("shallow", str(streamed / "x.json"), "shallow.H[0]"), (broken[:20], where, reason)
    where, reason = rehashed(streamed, json.dumps({k: v for k, v in data.items() if k != "weak"}))
    assert where == "shallow.weak" and reason == "missing field"


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_the_shallow_file_is_read_in_pieces_of_any_size(streamed, monkeypatch, chunk) -> None:
    from exactrelu import checker

    monkeypatch.setattr(checker._JsonReader, "CHUNK", chunk)
    monkeypatch.setattr(checker, "STREAM_CACHE", 3)  # the caches emptied again and again
    ok, summary, _ = verdict(streamed / "s.cert.json")
    assert ok and summary.startswith("c 1")


def test_broken_shallow_files_are_named(streamed) -> None:
    path = str(streamed / "x.json")
    data = json.loads((streamed / "s.json").read_text())
    cases = {
        '{"H" []}': (path, "expected ':'"),
        '{"H": [%s %s]}' % (json.dumps(data["H"][0]), json.dumps(data["H"][1])): (path, "expected ',' or ']' in an array"),
        '{"format": "exactrelu-shallow" "version": 1}': (path, "expected ',' or '}' in an object"),
        '{1: 2}': (path, "expected a key"),
        '{"format": "exactrelu-shallow", "format": "exactrelu-shallow"}': ("format", "twice"),
        '{"domain": ' + "[" * 100000 + "]" * 100000 + "}": (path, "nested too deeply"),
        "{}": ("shallow.format", "missing field"),
        '{"H": 5}': ("shallow.H", "expected a list"),
        '{"H": []}': ("shallow.H", "has 0 entries"),
        json.dumps({**data, "layers": [*data["layers"], data["layers"][0]]}): ("shallow.layers", "expected 4 layers"),
        json.dumps({**data, "layers": [{**data["layers"][0], "weights": [[0, 0]]}]}): ("shallow.layers[0].weights[0]",
                                                                                       "expected [row, column, weight]"),
        json.dumps({**data, "layers": [[]]}): (path, "expected '{'"),
    }
    for text, (where_, reason_) in cases.items():
        where, reason = rehashed(streamed, text)
        assert where == where_ and reason_ in reason, (text[:30], where, reason)
    where, reason = rehashed(streamed, b'{"H": ["\xff"]}')  # not UTF-8
    assert where == path and "cannot read" in reason


def test_the_shallow_reference(streamed, valid) -> None:
    lines = (streamed / "s.cert.json").read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    for ref, where_ in (({"file": "/abs.json", "sha256": "0"}, "shallow.file"),
                        ({"file": "missing.json", "sha256": "0"}, str(streamed / "missing.json"))):
        (streamed / "y.cert.json").write_text(json.dumps({**header, "shallow": ref}) + "\n" + "".join(lines[1:]))
        ok, where, reason = verdict(streamed / "y.cert.json")
        assert not ok and where == where_
    # an embedded shallow network: its hash, its type, its layers' type
    from exactrelu.checker import raw_sha256

    folder, vlines = valid
    vheader = json.loads(vlines[0])
    network = vheader["shallow"]["network"]
    for changed, where_ in (({**network, "c": []}, "shallow.sha256"), ([], "shallow"),
                            ({**network, "layers": [[]] * 4}, "shallow.layers[0]")):
        sha = vheader["shallow"]["sha256"] if where_ == "shallow.sha256" else raw_sha256(changed)
        text = json.dumps({**vheader, "shallow": {"network": changed, "sha256": sha}}) + "\n"
        where, reason = refused(valid, [text] + vlines[1:])
        assert where == where_, (where, reason)


def test_what_version_3_does_not_do(valid, monkeypatch) -> None:
    import io

    from exactrelu import checker

    folder, lines = valid
    path = folder / "t.v3.json"
    for option in ("guard", "symbolic"):
        with pytest.raises(CheckFailure, match="version-2"):
            Checker(str(path), **{option: True}).run()
    check = Checker(str(path))
    check.parse()
    out = io.StringIO()
    check.dump(out)
    assert "leaves: version 3" in out.getvalue() and "embedded" in out.getvalue()
    check.run()  # what was dumped is what is verified
    # a line nested too deeply; a file that is not version 3 goes to the version-2 reader
    where, reason = refused(valid, lines[:3] + ["[" * 100000 + "]" * 100000 + "\n"] + lines[4:])
    assert where == "line 4" and "nested too deeply" in reason
    where, reason = refused(valid, "[1]\n[2]\n")
    assert where == str(folder / "tampered.v3.json") and "invalid or truncated JSON" in reason
    with pytest.raises(CheckFailure, match="cannot read"):
        Checker(str(folder / "nothing.json")).run()
    # check 31 (the deep network at each witness) is a second computation; when it disagrees:
    monkeypatch.setattr(checker.Network, "evaluate", lambda self, x: [Fraction(10 ** 9)])
    with pytest.raises(CheckFailure, match=r"line \d+ \(leaves\[0\]\.witness\)"):
        Checker(str(path)).run()


def test_an_empty_domain_proves_nothing(tmp_path) -> None:
    net = ReluNetwork.from_lists([([[1], [-1]], [0, 0]), ([[1, 1]], [0])])
    e = enumerate_regions(net, Domain.box(["-1"], ["1"]))
    write_certificate(tmp_path / "c.v2.json", e, build_shallow(e))
    cert = json.loads((tmp_path / "c.v2.json").read_text())
    cert["domain"] = {"kind": "polytope", "dim": 1, "A": [["-1"], ["1"]], "b": ["-1", "0"]}  # x >= 1 and x <= 0
    proof = {"empty": [[0, "1"], [1, "1"]]}  # (an empty box is refused as it is read: test_review_findings)
    cert["tree"], cert["leaves"] = [{"split": [0, 0]}, proof, proof], []
    (tmp_path / "c.v3.json").write_text("".join(stream_lines(cert)))
    ok, where, reason = verdict(tmp_path / "c.v3.json")
    assert not ok and where == "domain" and "the domain is empty" in reason
