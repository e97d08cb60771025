"""Tampered certificates are rejected, each at the right place, and never with a traceback.

``tests/data/tampered/`` holds a small valid certificate (``valid.json``: a 2-3-1-1 network over
``[-1, 1]^2`` with Motzkin-proved empty branches and three lower-dimensional regions on the line
``x1 = 0``, shallow network embedded) and one file per deliberate fault, all made by
``tests/data/make_tampered.py``; the first test checks that the stored files are exactly what
the generator makes.

The mutation tests then change one scalar of ``valid.json`` at a time (a rational string to
another rational, an integer to ``n + 1``, a boolean to its negation, ``">"`` and ``"<="`` into
each other, ``"inf"`` into ``"-inf"``/a finite value, any other string in one character), in two
modes: **plain** (the hashes are left alone) and **rehashed** (``network_sha256``, the shallow
network's ``deep_sha256`` and the shallow ``sha256`` are recomputed after the change, so the
hashes cannot be what catches it).  Every mutation must be rejected, except the ones that leave
a certificate that is still valid.  Those are exactly these categories:

* ``producer``: anything under ``"producer"`` (library versions; the checker does not read it);
* ``order``: the ``"order"`` label (the checker does not read it: it requires the tree itself to
  split in layer-major order, so the verdict stays sound whatever the label says);
* ``full_dimensional``: ``true`` changed to ``false``.  ``false`` is an unverified claim (the
  checker proves full dimension when it is claimed, by a witness strictly inside every
  non-constant row; it never proves lower dimension);
* ``witness``: a witness coordinate moved to another point of the same region (the region's
  rows still hold exactly, strictly where full dimension is claimed);
* ``motzkin``: a multiplier (value or row index) changed so that the empty branch still has a
  valid Motzkin proof (e.g. the multiplier of a constant row ``0 >= 1/4`` scaled);
* ``network`` (rehashed mode only): a deep weight whose change alters no region's conditions or
  affine map and keeps every emptiness proof valid (the certificate is then a valid certificate
  for the changed network).

An accepted mutation must fall into one of these categories AND pass :func:`recheck`, an
independent re-verification of the tree, the emptiness proofs and the leaves written here from
DESIGN.md (it shares no code with the checker).  Conversely, in the categories that the checker
decides by arithmetic (witness, full_dimensional, motzkin, network, producer) its verdict must
equal :func:`recheck`'s, so the checker is not stricter than the mathematics either.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from exactrelu import checker
from exactrelu.checker import CheckFailure, Checker

DATA = Path(__file__).resolve().parent / "data"
TAMPERED = DATA / "tampered"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_tampered", DATA / "make_tampered.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _load_generator()

# file -> (location, a fragment of the reason); None: the location is the file's own path
EXPECTED = {
    "multiplier_sign_flipped": ("tree[2].empty[0]", "multiplier -1/2 of row 4 is not positive"),
    "multiplier_changed": ("tree[2].empty", "do not cancel the variables"),
    "leaf_removed": ("tree[23].leaf", "expected an integer in [0, 7]"),
    "leaf_duplicated": ("leaves[9]", "is not reached from the tree"),
    "pattern_bit_flipped": ("leaves[3].pattern", "differs from the tree path"),
    "leaf_conditions_stated": ("leaves[1].conditions", "leaf conditions are no longer written (they are derived from "
                                                       "the path); regenerate it with exactrelu shallow"),
    "witness_off_region": ("leaves[6].witness", "violates condition 0"),
    "full_dimension_false_claim": ("leaves[8].witness", "claims full dimension but is on the boundary"),
    "deep_weight_changed_rehashed": ("leaves[0].alpha", "the affine map differs from the one recomputed from the deep weights"),
    "deep_weight_changed_stale_hash": ("network_sha256", "does not match the embedded network"),
    "shallow_weight_changed_rehashed": ("shallow.layers[0].weights[0]", "is [0, 0, '2'], the construction gives [0, 0, '1']"),
    "shallow_bias_changed_rehashed": ("shallow.layers[1].bias[0]", "differs from the construction"),
    "shallow_infinite_made_finite": ("shallow.layers[2].weights[0]", "is [0, 0, '-1000000'], the construction gives [0, 0, '-inf']"),
    "shallow_strict_changed_rehashed": ("shallow.strict[0]", "differs from the construction over the leaves"),
    "wrong_shallow_hash": ("shallow.sha256", "does not match the shallow network"),
    "wrong_network_hash": ("network_sha256", "does not match the embedded network"),
    "json_float": ("leaves[0].witness[0]", "JSON float 0.5 where a rational string belongs"),
    "wrong_version": ("version", "unsupported version"),
    "wrong_format": ("format", "expected 'exactrelu-certificate'"),
    "tree_child_missing": ("tree", "the tree ends before every branch is closed"),
    "split_out_of_order": ("tree[0].split", "expected neuron [0, 0] (layer-major order), found [0, 1]"),
    "leaf_alpha_changed": ("leaves[2].alpha", "the affine map differs"),
    "empty_proof_on_nonempty_child": ("tree[5].empty", "do not cancel the variables"),
    "leaf_too_early": ("tree[22]", "a leaf after 3 of 4 neurons are decided"),
    "nested_tree_in_version_2": ("tree", "expected a list"),
    "node_after_the_tree": ("tree[25]", "a node after the tree is complete"),
    "truncated": (None, "invalid or truncated JSON"),
    "empty": (None, "empty certificate"),
}


def run_main(capsys, path: Path, *flags: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = checker.main([str(path), *flags])
    out, err = capsys.readouterr()
    return code, out, err


# ============================================================================ the stored files
def test_stored_files_are_what_the_generator_makes(tmp_path: Path) -> None:
    made = GEN.generate(tmp_path)
    stored = {p.name: p.read_text(encoding="utf-8") for p in TAMPERED.iterdir() if p.suffix == ".json"}
    assert sorted(stored) == sorted(made) == sorted([f"{name}.json" for name in EXPECTED] + ["valid.json", "valid_v1.json"])
    for name, text in made.items():
        assert stored[name] == text, f"{name} differs from what tests/data/make_tampered.py makes: rerun it"
    # the faults are a pure function of the valid certificate, and deterministic
    assert GEN.derive(stored["valid.json"]) == made


def test_version_1_certificate_is_refused(capsys) -> None:
    """Version 1 (the tree nested, children inside their splits) is no longer read: one line that
    says so and names the command that writes the current version, exit 1."""
    code, out, err = run_main(capsys, TAMPERED / "valid_v1.json")
    assert json.loads((TAMPERED / "valid_v1.json").read_text())["version"] == 1
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.splitlines()[0] == "c version: version 1 is no longer read; regenerate it with exactrelu shallow"


def test_valid_certificate_verifies(capsys) -> None:
    code, out, err = run_main(capsys, TAMPERED / "valid.json")
    assert (code, out) == (0, "s VERIFIED\n")
    assert err.splitlines()[-1] == "c 9 regions, 4 branches proved empty, 8 hyperplanes, 4 neurons"
    assert err.splitlines()[0].startswith("c kind: shallow certificate")
    assert all(line.endswith("embedded (taken from the certificate alone)") for line in err.splitlines()[1:-1])
    code, out, _ = run_main(capsys, TAMPERED / "valid.json", "--symbolic")
    assert (code, out) == (0, "s VERIFIED\n")
    valid = json.loads((TAMPERED / "valid.json").read_text())
    assert sum(not leaf["full_dimensional"] for leaf in valid["leaves"]) == 3
    assert "network" in valid["shallow"] and "file" not in valid["shallow"]
    assert recheck(valid)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tampered_file_is_rejected_at_the_right_place(name: str, capsys) -> None:
    path = TAMPERED / f"{name}.json"
    location, reason = EXPECTED[name]
    location = str(path) if location is None else location
    code, out, err = run_main(capsys, path)
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.startswith(f"c {location}: "), err
    assert all(line.startswith("c ") for line in err.splitlines()), err
    assert reason in err, err
    with pytest.raises(CheckFailure) as info:
        Checker(str(path)).run()
    assert info.value.location == location


def test_rehashed_faults_have_consistent_hashes() -> None:
    """In the ``*_rehashed`` files every hash matches the tampered content: the hash is not what
    catches them.  The bogus emptiness proof really sits on a nonempty child."""
    for name in EXPECTED:
        if not name.endswith("rehashed") and name != "shallow_infinite_made_finite":
            continue
        cert = json.loads((TAMPERED / f"{name}.json").read_text())
        assert cert["shallow"]["sha256"] == checker.raw_sha256(cert["shallow"]["network"]), name
        sha = checker.Network(cert["network"], "network").sha256()
        assert cert["network_sha256"] == sha == cert["shallow"]["network"]["deep_sha256"], name
    valid = json.loads((TAMPERED / "valid.json").read_text())
    assert valid["tree"][GEN.node(valid, "active", "inactive", "active", "active")] == {"leaf": 0}
    assert valid["leaves"][0]["pattern"] == [[1, 0, 1], [1]]  # the path active, inactive, active, active


@pytest.mark.parametrize("name", ["valid", "truncated", "empty", "json_float", "shallow_infinite_made_finite", "leaf_removed"])
def test_no_traceback_in_a_subprocess(name: str) -> None:
    path = TAMPERED / f"{name}.json"
    for argv in (["-m", "exactrelu.checker", str(path)], [checker.__file__, str(path), "--dump"]):
        result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stdout == ("s VERIFIED\n" if name == "valid" else "s NOT VERIFIED\n")
        assert result.returncode == (0 if name == "valid" else 1)
        assert result.stderr.splitlines()[-1].startswith("c ")


def test_missing_file_and_non_object(tmp_path: Path, capsys) -> None:
    code, out, err = run_main(capsys, tmp_path / "absent.json")
    assert (code, out) == (1, "s NOT VERIFIED\n") and "cannot read certificate" in err
    for text in ("[]", '"s VERIFIED"', "1", "NaN", '{"format": "exactrelu-certificate", "version": 1}'):
        (tmp_path / "x.json").write_text(text)
        code, out, err = run_main(capsys, tmp_path / "x.json")
        assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith("c "), text


# ============================================================================ known bugs
def _valid_text() -> str:
    return (TAMPERED / "valid.json").read_text(encoding="utf-8")


def test_huge_json_integer_is_a_verdict_not_a_traceback(tmp_path: Path, capsys) -> None:
    path = tmp_path / "huge.json"
    path.write_text(_valid_text().replace('{"leaf":0}', '{"leaf":' + "1" * 5000 + "}", 1))
    code, out, err = run_main(capsys, path)
    assert (code, out) == (1, "s NOT VERIFIED\n")


def test_dump_of_a_non_object_shallow_network_is_a_verdict(tmp_path: Path, capsys) -> None:
    cert = json.loads(_valid_text())
    cert["shallow"] = {"network": [1], "sha256": checker.raw_sha256([1])}
    (tmp_path / "c.json").write_text(json.dumps(cert))
    code, out, _ = run_main(capsys, tmp_path / "c.json", "--dump")
    assert (code, out) == (1, "s NOT VERIFIED\n")


def test_dump_does_not_change_the_verdict(tmp_path: Path, capsys) -> None:
    cert = json.loads(_valid_text())
    cert["producer"] = {"x": 0.5}
    (tmp_path / "c.json").write_text(json.dumps(cert))
    assert run_main(capsys, tmp_path / "c.json")[:2] == run_main(capsys, tmp_path / "c.json", "--dump")[:2]


@pytest.mark.parametrize("where", ["version", "split"])
def test_booleans_are_not_integers(where: str, tmp_path: Path, capsys) -> None:
    cert = json.loads(_valid_text())
    if where == "version":
        cert["version"] = True
    else:
        cert["tree"][0]["split"] = [False, 0]
    (tmp_path / "c.json").write_text(json.dumps(cert))
    assert run_main(capsys, tmp_path / "c.json")[:2] == (1, "s NOT VERIFIED\n")


def test_duplicate_keys_are_refused(tmp_path: Path, capsys) -> None:
    text = _valid_text().replace('"format":"exactrelu-certificate",', '"format":"exactrelu-certificate",\n"tree":{"leaf":0},', 1)
    (tmp_path / "c.json").write_text(text)
    assert run_main(capsys, tmp_path / "c.json")[:2] == (1, "s NOT VERIFIED\n")


# ============================================================================ independent re-check
def _q(text) -> Fraction:
    if not isinstance(text, str) or not re.fullmatch(r"-?\d+(/\d+)?", text):
        raise ValueError(f"not a rational string: {text!r}")
    return Fraction(text)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def domain_rows(domain: dict, n: int) -> list:
    """Weak rows ``u . x + v >= 0`` in the documented order (box: lower then upper per input)."""
    rows = []
    if domain["kind"] == "box":
        for i in range(n):
            e = [Fraction(int(j == i)) for j in range(n)]
            rows.append((e, -_q(domain["lower"][i]), False))
            rows.append(([-a for a in e], _q(domain["upper"][i]), False))
    elif domain["kind"] == "polytope":
        for row, b in zip(domain["A"], domain["b"]):
            rows.append(([-_q(a) for a in row], _q(b), False))
    elif domain["kind"] != "reals":
        raise ValueError("unknown domain")
    return rows


def preactivations(layers: list, n: int, bits: list) -> tuple[list, list]:
    """The pre-activation maps ``(u, v)`` of the neurons decided by ``bits`` and of the next one
    (layer-major), and the output maps once every neuron is decided."""
    current = [([Fraction(int(j == i)) for j in range(n)], Fraction(0)) for i in range(n)]
    maps, pos = [], 0
    for W, b in layers[:-1]:
        layer = []
        for row, c in zip(W, b):
            u = [sum((row[j] * current[j][0][t] for j in range(len(row))), Fraction(0)) for t in range(n)]
            layer.append((u, c + sum((row[j] * current[j][1] for j in range(len(row))), Fraction(0))))
        maps += layer
        if pos + len(layer) > len(bits):
            return maps[: len(bits) + 1], []
        current = [m if bits[pos + i] else ([Fraction(0)] * n, Fraction(0)) for i, m in enumerate(layer)]
        pos += len(layer)
    W, b = layers[-1]
    out = [([sum((row[j] * current[j][0][t] for j in range(len(row))), Fraction(0)) for t in range(n)],
            c + sum((row[j] * current[j][1] for j in range(len(row))), Fraction(0))) for row, c in zip(W, b)]
    return maps, out


def neuron_row(m, active: bool):
    u, v = m
    return (u, v, True) if active else ([-a for a in u], -v, False)


def value(row, x) -> Fraction:
    return sum((a * b for a, b in zip(row[0], x)), row[1])


def motzkin_ok(rows: list, pairs) -> bool:
    if not isinstance(pairs, list) or not pairs:
        return False
    n = len(rows[0][0]) if rows else 0
    total_u, total_v, strict, seen = [Fraction(0)] * n, Fraction(0), False, set()
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and _is_int(pair[0]) and 0 <= pair[0] < len(rows)):
            return False
        if pair[0] in seen:
            return False
        seen.add(pair[0])
        lam = _q(pair[1])
        if lam <= 0:
            return False
        u, v, s = rows[pair[0]]
        total_u = [a + lam * c for a, c in zip(total_u, u)]
        total_v += lam * v
        strict = strict or s
    return not any(total_u) and (total_v < 0 or (total_v == 0 and strict))


def recheck(cert: dict) -> bool:
    """Independent re-verification of the deep side of a certificate: tree order and coverage,
    every Motzkin proof, every leaf's pattern, conditions, witness (strict where full dimension is
    claimed) and affine map.  The shallow side is not re-derived here (see the module docstring:
    no accepted category touches it)."""
    try:
        net = cert["network"]
        layers = [([[_q(v) for v in row] for row in L["weight"]], [_q(v) for v in L["bias"]]) for L in net["layers"]]
        n = len(layers[0][0][0])
        widths = [len(b) for _, b in layers[:-1]]
        order = [[l, i] for l, w in enumerate(widths) for i in range(w)]
        base = domain_rows(cert["domain"], n)
        leaves = cert["leaves"]
        reached = []

        tree = cert["tree"]
        if not isinstance(tree, list):
            return False

        def walk(t, bits):
            """The index after the subtree at ``tree[t]`` (flat preorder), or None if it is wrong."""
            node = tree[t]
            maps, out = preactivations(layers, n, bits)
            if "leaf" in node:
                k = node["leaf"]
                if len(bits) != len(order) or not _is_int(k) or not 0 <= k < len(leaves) or k in reached:
                    return None
                reached.append(k)
                leaf = leaves[k]
                if [b for layer in leaf["pattern"] for b in layer] != [int(b) for b in bits] or \
                        any(not _is_int(b) for layer in leaf["pattern"] for b in layer):
                    return None
                rows = base + [neuron_row(m, s) for m, s in zip(maps, bits)]
                if "conditions" in leaf:  # the form of an earlier release
                    return None
                x = [_q(v) for v in leaf["witness"]]
                if len(x) != n or not all(value(r, x) > 0 if r[2] else value(r, x) >= 0 for r in rows):
                    return None
                if leaf["full_dimensional"] is True:
                    if any(any(r[0]) and value(r, x) <= 0 for r in rows):
                        return None
                elif leaf["full_dimensional"] is not False:
                    return None
                ok = [[_q(a) for a in row] for row in leaf["alpha"]] == [u for u, _ in out] and \
                    [_q(v) for v in leaf["beta"]] == [v for _, v in out]
                return t + 1 if ok else None
            if node.get("split") != order[len(bits)] or any(not _is_int(v) for v in node["split"]):
                return None
            t += 1
            for side in (True, False):
                child = tree[t]
                if "empty" in child:
                    rows = base + [neuron_row(m, s) for m, s in zip(maps, bits + [side])]
                    if not motzkin_ok(rows, child["empty"]):
                        return None
                    t += 1
                else:
                    t = walk(t, bits + [side])
                    if t is None:
                        return None
            return t

        return walk(0, []) == len(tree) and sorted(reached) == list(range(len(leaves)))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError):
        return False


# ============================================================================ mutations
RATIONAL = re.compile(r"-?\d+(/\d+)?")
HASH_PATHS = {("network_sha256",), ("shallow", "sha256"), ("shallow", "network", "deep_sha256")}


def scalar_paths(obj, path=()):
    if isinstance(obj, dict):
        for key, item in obj.items():
            yield from scalar_paths(item, path + (key,))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from scalar_paths(item, path + (i,))
    else:
        yield path


def get(obj, path):
    for step in path:
        obj = obj[step]
    return obj


def put(obj, path, new) -> None:
    get(obj, path[:-1])[path[-1]] = new


def mutate(old, rng: random.Random):
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return old + 1
    if old in (">", "<="):
        return "<=" if old == ">" else ">"
    if old in ("inf", "-inf"):
        return rng.choice([{"inf": "-inf", "-inf": "inf"}[old], "0", "1000000"])
    if RATIONAL.fullmatch(old):
        q = Fraction(old)
        choices = [q + 1, q - 1, -q, 2 * q, q / 2, q + Fraction(1, 3), q - Fraction(1, 7),
                   Fraction(rng.randint(-9, 9), rng.randint(1, 9))]
        new = rng.choice([c for c in choices if c != q])
        return str(new.numerator) if new.denominator == 1 else f"{new.numerator}/{new.denominator}"
    i = rng.randrange(len(old)) if old else 0
    replacement = rng.choice([c for c in "0123456789abcdefx-" if c != old[i:i + 1]])
    return old[:i] + replacement + old[i + 1:]


def rehash(cert: dict, path: tuple) -> None:
    """Recompute the hashes the way the checker computes them (except the mutated hash itself)."""
    if path in (("network_sha256",), ("shallow", "sha256")):
        return
    if path != ("shallow", "network", "deep_sha256"):
        try:
            sha = checker.Network(cert["network"], "network").sha256()
        except CheckFailure:
            sha = None
        if sha is not None:
            cert["network_sha256"] = sha
            cert["shallow"]["network"]["deep_sha256"] = sha
    cert["shallow"]["sha256"] = checker.raw_sha256(cert["shallow"]["network"])


def category(path: tuple, old, new, mode: str):
    """The category of a single-value mutation that may leave the certificate valid, or None."""
    if path[0] == "producer":
        return "producer"
    if path == ("order",):
        return "order"
    if path[0] == "leaves" and path[2:] == ("full_dimensional",):
        return "full_dimensional" if (old, new) == (True, False) else "full_dimensional_claim"
    if path[0] == "leaves" and path[2] == "witness":
        return "witness"
    if path[0] == "tree" and "empty" in path:
        return "motzkin"
    if mode == "rehashed" and path[0] == "network" and path[1] == "layers" and path[3] in ("weight", "bias"):
        return "network"
    return None


ARITHMETIC = {"producer", "full_dimensional", "full_dimensional_claim", "witness", "motzkin", "network"}
MAY_STAY_VALID = {"producer", "order", "full_dimensional", "witness", "motzkin", "network"}


def plausible_location(path: tuple, location: str, mode: str) -> bool:
    head = path[0]
    if head in ("format", "version", "network_sha256"):
        return location == head
    if head == "network":
        return location == "network_sha256" or location.startswith("network.") or \
            (mode == "rehashed" and location.startswith(("leaves[", "tree", "shallow.")))
    if head == "shallow":
        return location.startswith("shallow.")
    if head == "domain":
        return location.startswith(("domain", "tree", "leaves[", "shallow.domain"))
    if head == "leaves":
        return location.startswith(f"leaves[{path[1]}]")
    if head == "tree":
        return location.startswith(("tree", "leaves["))
    return False


def outcome(path: Path, workers: int = 1) -> tuple:
    """``(location, reason)`` of the check's failure, ``(None, None)`` when it verifies."""
    try:
        Checker(str(path), workers=workers).run()
    except CheckFailure as exc:
        return exc.location, exc.reason
    return None, None


def run_mutations(mode: str, count: int, seed: int, tmp_path: Path) -> dict:
    valid = json.loads(_valid_text())
    paths = list(scalar_paths(valid))
    groups: dict[tuple, list] = {}  # the paths by their shape, indices left out
    for p in paths:
        groups.setdefault(tuple("*" if isinstance(step, int) else step for step in p), []).append(p)
    shapes = sorted(groups, key=repr)
    rng = random.Random(seed)
    accepted, problems, seen = {}, [], set()
    path_file = tmp_path / f"{mode}.json"
    for t in range(count):
        if mode == "rehashed":  # stratified: every field (e.g. leaves[*].witness[*]) is as likely as any other
            path = rng.choice(groups[rng.choice(shapes)])
        else:
            path = rng.choice(paths)
        old = get(valid, path)
        new = mutate(old, rng)
        cert = copy.deepcopy(valid)
        put(cert, path, new)
        if mode == "rehashed":
            rehash(cert, path)
        path_file.write_text(json.dumps(cert), encoding="utf-8")
        seen.add(path[0])
        try:
            location, reason = outcome(path_file)
        except Exception as exc:  # noqa: BLE001 - any other exception is a checker bug
            problems.append(f"{path} {old!r}->{new!r}: {type(exc).__name__}: {exc}")
            continue
        # the same verdict with the shallow network in a file of its own (read as written, the
        # construction compared with it as text first), and checked in parallel (every 4th)
        if isinstance(cert.get("shallow"), dict) and isinstance(cert["shallow"].get("network"), dict):
            apart = copy.deepcopy(cert)
            (tmp_path / f"{mode}.shallow.json").write_text(json.dumps(apart["shallow"].pop("network")), encoding="utf-8")
            apart["shallow"]["file"] = f"{mode}.shallow.json"
            (tmp_path / f"{mode}.apart.json").write_text(json.dumps(apart), encoding="utf-8")
            if outcome(tmp_path / f"{mode}.apart.json") != (location, reason):
                problems.append(f"{path} {old!r}->{new!r}: a shallow file of its own gives "
                                f"{outcome(tmp_path / f'{mode}.apart.json')}, embedded {(location, reason)}")
        if t % 4 == 0 and outcome(path_file, workers=2) != (location, reason):
            problems.append(f"{path} {old!r}->{new!r}: 2 workers give {outcome(path_file, workers=2)}, "
                            f"one {(location, reason)}")
        kind = category(path, old, new, mode)
        if location is None:
            if kind not in MAY_STAY_VALID:
                problems.append(f"{path} {old!r}->{new!r} was VERIFIED (category {kind})")
            elif kind in ARITHMETIC and not recheck(cert):
                problems.append(f"{path} {old!r}->{new!r} was VERIFIED but the independent re-check fails")
            else:
                accepted.setdefault(kind, []).append((path, old, new))
        else:
            if kind in ARITHMETIC and recheck(cert):
                problems.append(f"{path} {old!r}->{new!r} is valid (independent re-check) but was rejected at {location}")
            if not plausible_location(path, location, mode):
                problems.append(f"{path} {old!r}->{new!r} rejected at an unrelated place: {location}")
    assert not problems, "\n".join(problems[:20])
    return {"accepted": accepted, "sections": seen}


def test_random_single_value_mutations_plain(tmp_path: Path) -> None:
    result = run_mutations("plain", 500, 20240601, tmp_path)
    assert {"shallow", "leaves", "tree"} <= result["sections"]
    assert set(result["accepted"]) <= MAY_STAY_VALID


def test_random_single_value_mutations_rehashed(tmp_path: Path) -> None:
    result = run_mutations("rehashed", 500, 8, tmp_path)
    assert result["sections"] == {"domain", "format", "leaves", "network", "network_sha256", "order", "producer",
                                  "shallow", "tree", "version"}
    # the categories that may stay valid are really exercised
    assert {"producer", "witness", "full_dimensional"} <= set(result["accepted"]), sorted(result["accepted"])


# ============================================================================ each category, directed
def _check(cert: dict, tmp_path: Path) -> str | None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cert))
    try:
        Checker(str(path)).run()
    except CheckFailure as exc:
        return exc.location
    return None


def test_categories_that_stay_valid(tmp_path: Path) -> None:
    valid = json.loads(_valid_text())
    # a witness moved inside its (lower-dimensional) region: leaf 6 is the segment x1 = 0, 1/2 < x2 < 3/4
    cert = copy.deepcopy(valid)
    assert cert["leaves"][6]["witness"] == ["0", "5/8"] and not cert["leaves"][6]["full_dimensional"]
    cert["leaves"][6]["witness"][1] = "2/3"
    assert recheck(cert) and _check(cert, tmp_path) is None
    for outside in ("1/2", "3/4", "1"):  # on a strict boundary, or beyond
        cert["leaves"][6]["witness"][1] = outside
        assert not recheck(cert) and _check(cert, tmp_path) == "leaves[6].witness"
    cert["leaves"][6]["witness"] = ["-1/100", "5/8"]  # off the line x1 = 0
    assert not recheck(cert) and _check(cert, tmp_path) == "leaves[6].witness"
    # full_dimensional true -> false is an unverified (weaker) claim
    cert = copy.deepcopy(valid)
    cert["leaves"][0]["full_dimensional"] = False
    assert _check(cert, tmp_path) is None
    # the multiplier of a constant row (0 >= 1/4 is false) may be any positive number
    cert = copy.deepcopy(valid)
    t = GEN.node(cert, "inactive", "inactive", "inactive", "inactive")
    assert cert["tree"][t] == {"empty": [[7, "1"]]}
    cert["tree"][t]["empty"][0][1] = "5/3"
    assert recheck(cert) and _check(cert, tmp_path) is None
    # the producer's versions are not read
    cert = copy.deepcopy(valid)
    cert["producer"] = {"exactrelu": "99", "anything": ["else"]}
    assert _check(cert, tmp_path) is None


def test_the_recheck_oracle_rejects_every_stored_semantic_fault() -> None:
    """Sanity of the oracle itself: it rejects the tampered files whose fault is on the deep side."""
    for name in ("multiplier_sign_flipped", "multiplier_changed", "leaf_removed", "leaf_duplicated",
                 "pattern_bit_flipped", "leaf_conditions_stated", "witness_off_region", "full_dimension_false_claim",
                 "deep_weight_changed_rehashed", "tree_child_missing", "split_out_of_order", "leaf_alpha_changed",
                 "empty_proof_on_nonempty_child", "leaf_too_early", "json_float"):
        text = (TAMPERED / f"{name}.json").read_text()
        assert not recheck(json.loads(text)), name


# ============================================================================ the guards
def test_guard_evaluates_both_networks_at_every_witness(capsys, monkeypatch) -> None:
    """``--guard`` evaluates the shallow network in full at every witness; without it the checker
    evaluates only the deep network against each leaf's map.  Neither can fail on a certificate that
    passes the construction checks (the construction lemma): each is shown to be wired by making
    one evaluator lie."""
    path = TAMPERED / "valid.json"
    assert run_main(capsys, path, "--guard")[:2] == (0, "s VERIFIED\n")
    calls = []
    real = checker.evaluate_shallow
    monkeypatch.setattr(checker, "evaluate_shallow", lambda *a: calls.append(1) or real(*a))
    assert run_main(capsys, path)[:2] == (0, "s VERIFIED\n") and not calls  # not evaluated by default
    assert run_main(capsys, path, "--guard")[:2] == (0, "s VERIFIED\n") and len(calls) == 9
    monkeypatch.setattr(checker, "evaluate_shallow", lambda *a: [Fraction(-1)])
    code, out, err = run_main(capsys, path, "--guard")
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.startswith("c leaves[0].witness: the deep and the shallow network differ at the witness")
    assert run_main(capsys, path)[:2] == (0, "s VERIFIED\n")
    real_evaluate = checker.Network.evaluate
    monkeypatch.setattr(checker.Network, "evaluate", lambda self, x: [v + 1 for v in real_evaluate(self, x)])
    code, out, err = run_main(capsys, path)
    assert (code, out) == (1, "s NOT VERIFIED\n")
    assert err.startswith("c leaves[0].witness: the deep network differs from the leaf's affine map there")


def _set(path, value):
    def change(c):
        target = c
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("change, location, reason", [
    (_set(("leaves", 0, "witness", 0), True), "leaves[0].witness[0]", "boolean where a rational belongs"),
    (_set(("leaves", 0, "witness", 0), "x"), "leaves[0].witness[0]", "is not a rational"),
    (_set(("leaves", 0, "witness", 0), "1/0"), "leaves[0].witness[0]", "is not a rational"),
    (_set(("leaves", 0, "full_dimensional"), "yes"), "leaves[0].full_dimensional", "expected true or false"),
    (_set(("shallow", "network", "c", 0), 0.5), "shallow.c[0]", "JSON float 0.5"),
    (_set(("network", "layers"), []), "network.layers", "no layers"),
    (lambda c: c["network"]["layers"][0].update(weight=[], bias=[]), "network.layers[0].weight", "layer has no outputs"),
    (_set(("network", "layers", 0, "weight", 1), ["1"]), "network.layers[0].weight", "rows of different lengths"),
    (lambda c: c["domain"].update(dim=1, lower=["-1"], upper=["1"]), "domain.dim", "the network has 2 inputs"),
    (_set(("tree", 3), {"node": 0}), "tree[3]", "expected 'split', 'leaf' or 'empty'"),
    (_set(("tree", 3), [{"leaf": 0}]), "tree[3]", "expected a node object"),
    (_set(("tree", 2), {"empty": []}), "tree[2].empty", "no multipliers"),
])
def test_malformed_values_are_named(change, location, reason, tmp_path: Path, capsys) -> None:
    """Malformed values in a version-2 certificate: each is refused at its own place."""
    cert = json.loads(_valid_text())
    change(cert)
    (tmp_path / "c.json").write_text(json.dumps(cert))
    code, out, err = run_main(capsys, tmp_path / "c.json")
    assert (code, out) == (1, "s NOT VERIFIED\n") and err.startswith(f"c {location}: ") and reason in err, err


def test_a_split_below_the_last_neuron_and_deep_json_are_refused(tmp_path: Path, capsys) -> None:
    cert = json.loads(_valid_text())
    t = GEN.node(cert, "active", "inactive", "active", "active")
    cert["tree"][t:t + 1] = [{"split": [1, 1]}, {"leaf": 0}, {"leaf": 1}]
    assert _check(cert, tmp_path) == f"tree[{t}]"
    (tmp_path / "deep.json").write_text("[" * 200000 + "]" * 200000)
    code, out, err = run_main(capsys, tmp_path / "deep.json")
    assert (code, out) == (1, "s NOT VERIFIED\n") and "JSON nested too deeply" in err
