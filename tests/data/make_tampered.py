"""Generate the tampered-certificate fixtures in ``tests/data/tampered/`` (deterministically).

Run it from the repository root after a change to the certificate format::

    python tests/data/make_tampered.py

It builds one small valid certificate with exactrelu and then derives one file per deliberate
fault.  The network has two inputs over the box ``[-1, 1]^2`` and two hidden layers::

    layer 0:  z1 = x1,  z2 = -x1,  z3 = x2 - 1/2
    layer 1:  z4 = relu(z1) + relu(z2) - relu(z3) + 1/4
    output:   y  = relu(z4)

``z1`` and ``-z2`` are the same function, so "z1 > 0 and z2 > 0" is proved empty (Motzkin
multipliers) and "z1 <= 0 and z2 <= 0" is the line ``x1 = 0``: three of the nine regions are
lower-dimensional.  The shallow network is embedded so that each file is self-contained.

The producer's library versions are replaced by a fixed marker (the checker does not read them),
so the output depends only on exactrelu's results.  Every file is written by :func:`dumps`; the valid certificate and :func:`derive` (a pure function of it) define the rest.
tests/test_tampering.py regenerates everything into a temporary folder and compares.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
OUT = HERE / "tampered"
PRODUCER = {"generator": "tests/data/make_tampered.py"}

LAYERS = [
    ([[1, 0], [-1, 0], [0, 1]], [0, 0, "-1/2"]),
    ([[1, 1, -1]], ["1/4"]),
    ([[1]], [0]),
]
BOX = (["-1", "-1"], ["1", "1"])


def build_valid() -> dict:
    """The valid certificate, built by exactrelu and read back as JSON."""
    sys.path.insert(0, str(HERE.parent.parent))
    from exactrelu.certificate import equate, write_certificate
    from exactrelu.domain import Domain
    from exactrelu.network import ReluNetwork
    from exactrelu.regions import enumerate_regions
    from exactrelu.shallow import build_shallow

    net = ReluNetwork.from_lists(LAYERS)
    e = enumerate_regions(net, Domain.box(*BOX))
    s = build_shallow(e)
    equate(e, s, "flint")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "valid.json"
        write_certificate(path, e, s)  # no shallow_path: the shallow network is embedded
        cert = json.loads(path.read_text(encoding="utf-8"))
    cert["producer"] = dict(PRODUCER)
    return cert


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"))


def dumps(cert: dict) -> str:
    """A certificate as text: one top-level field per line, one leaf per line, and the embedded
    shallow network one field per line (small, and readable in a diff)."""
    parts = []
    for key, value in cert.items():
        if key == "leaves" and isinstance(value, list):
            text = "[\n" + ",\n".join(_compact(leaf) for leaf in value) + "\n]"
        elif key == "shallow" and isinstance(value, dict) and isinstance(value.get("network"), dict):
            inner = ",\n".join(f" {_compact(k)}:{_compact(v)}" for k, v in value["network"].items())
            rest = "".join(f",{_compact(k)}:{_compact(v)}" for k, v in value.items() if k != "network")
            text = '{"network":{\n' + inner + "\n}" + rest + "}"
        else:
            text = _compact(value)
        parts.append(f"{_compact(key)}:{text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _checker():
    sys.path.insert(0, str(HERE.parent.parent))
    from exactrelu import checker

    return checker


def network_sha(network: dict) -> str:
    """The network hash exactly as the checker computes it."""
    checker = _checker()
    return checker.Network(network, "network").sha256()


def shallow_sha(shallow: dict) -> str:
    """The shallow-network hash exactly as the checker computes it."""
    return _checker().raw_sha256(shallow)


def rehash(cert: dict) -> dict:
    """Make every hash consistent with the (tampered) content, so hashes are not what fails."""
    sha = network_sha(cert["network"])
    cert["network_sha256"] = sha
    cert["shallow"]["network"]["deep_sha256"] = sha
    cert["shallow"]["sha256"] = shallow_sha(cert["shallow"]["network"])
    return cert


def _rehash_shallow(cert: dict) -> dict:
    cert["shallow"]["sha256"] = shallow_sha(cert["shallow"]["network"])
    return cert


def _find_entry(weights: list, value: str) -> int:
    return next(t for t, cell in enumerate(weights) if cell[2] == value)


def _end(tree: list, t: int) -> int:
    """The index just past the subtree that starts at ``tree[t]`` (a flat preorder tree)."""
    pending = 1
    while pending:
        pending += 1 if "split" in tree[t] else -1  # a split opens two children, other nodes close one
        t += 1
    return t


def node(c: dict, *steps: str) -> int:
    """The index in the flat tree of the node reached from the root by ``active``/``inactive`` steps."""
    tree, t = c["tree"], 0
    for step in steps:
        t = t + 1 if step == "active" else _end(tree, t + 1)
    return t


def version1(c: dict) -> dict:
    """The same certificate in version 1: the tree nested (children inside their splits)."""
    from exactrelu.certificate import nested_tree

    c["version"] = 1
    c["tree"] = nested_tree(c["tree"])
    return c


# Each fault: name -> function(copy of the valid certificate) -> the tampered JSON value.
def _multiplier_sign(c):
    c["tree"][node(c, "active", "active")]["empty"][0][1] = "-1/2"
    return c


def _multiplier_changed(c):
    c["tree"][node(c, "active", "active")]["empty"][0][1] = "1/3"
    return c


def _leaf_removed(c):
    c["leaves"].pop()  # the tree still points at the removed leaf
    return c


def _leaf_duplicated(c):
    c["leaves"].append(copy.deepcopy(c["leaves"][0]))
    return c


def _pattern_bit(c):
    c["leaves"][3]["pattern"][0][1] = 1 - c["leaves"][3]["pattern"][0][1]
    return c


def _conditions_stated(c):
    # a leaf as the previous release wrote it, with its conditions (its first, z1 > 0, exactly right)
    c["leaves"][1]["conditions"] = [{"w": ["1", "0"], "b": "0", "rel": ">"}]
    return c


def _witness_off_region(c):
    c["leaves"][6]["witness"][0] = "1/8"  # leaf 6 lies on the line x1 = 0
    return c


def _full_dimension_false_claim(c):
    c["leaves"][8]["full_dimensional"] = True  # leaf 8 is the lower-dimensional piece x1 = 0
    return c


def _deep_weight_rehashed(c):
    c["network"]["layers"][1]["weight"][0][2] = "-2"
    return rehash(c)


def _deep_weight_stale_hash(c):
    c["network"]["layers"][1]["weight"][0][2] = "-2"
    return c


def _shallow_weight_rehashed(c):
    layer = c["shallow"]["network"]["layers"][0]
    layer["weights"][0][2] = "2"
    return _rehash_shallow(c)


def _shallow_bias_rehashed(c):
    c["shallow"]["network"]["layers"][1]["bias"][0] = "2"
    return _rehash_shallow(c)


def _shallow_infinite_finite(c):
    weights = c["shallow"]["network"]["layers"][2]["weights"]
    weights[_find_entry(weights, "-inf")][2] = "-1000000"
    return _rehash_shallow(c)


def _wrong_shallow_hash(c):
    c["shallow"]["sha256"] = "0" * 64
    return c


def _wrong_network_hash(c):
    c["network_sha256"] = "f" * 64
    return c


def _json_float(c):
    q = Fraction(c["leaves"][0]["witness"][0])
    assert Fraction(float(q)) == q  # the float denotes the very same number: only its type is wrong
    c["leaves"][0]["witness"][0] = float(q)
    return c


def _wrong_version(c):
    c["version"] = 3
    return c


def _wrong_format(c):
    c["format"] = "exactrelu-certificat"
    return c


def _child_missing(c):
    del c["tree"][node(c, "inactive"):]  # the root's inactive subtree is cut off
    return c


def _split_out_of_order(c):
    c["tree"][0]["split"] = [0, 1]
    return c


def _alpha_changed(c):
    c["leaves"][2]["alpha"][0][0] = "7"
    return c


def _bogus_empty(c):
    t = node(c, "active", "inactive", "active", "active")
    assert c["tree"][t] == {"leaf": 0}
    c["tree"][t] = {"empty": [[4, "1"], [5, "1"]]}
    return c


def _leaf_too_early(c):
    t = node(c, "inactive", "inactive", "inactive")
    c["tree"][t:_end(c["tree"], t)] = [{"leaf": 8}]  # a leaf in place of the subtree that splits neuron 3
    return c


def _nested_in_version_2(c):
    c["tree"] = version1(copy.deepcopy(c))["tree"]  # version 2 with a version-1 tree
    return c


def _node_after_the_end(c):
    c["tree"].append({"leaf": 0})
    return c


def _shallow_strict_changed(c):
    c["shallow"]["network"]["strict"][0] = c["shallow"]["network"]["strict"][0][1:]
    return _rehash_shallow(c)


FAULTS: dict[str, Callable[[dict], dict]] = {
    "multiplier_sign_flipped": _multiplier_sign,
    "multiplier_changed": _multiplier_changed,
    "leaf_removed": _leaf_removed,
    "leaf_duplicated": _leaf_duplicated,
    "pattern_bit_flipped": _pattern_bit,
    "leaf_conditions_stated": _conditions_stated,
    "witness_off_region": _witness_off_region,
    "full_dimension_false_claim": _full_dimension_false_claim,
    "deep_weight_changed_rehashed": _deep_weight_rehashed,
    "deep_weight_changed_stale_hash": _deep_weight_stale_hash,
    "shallow_weight_changed_rehashed": _shallow_weight_rehashed,
    "shallow_bias_changed_rehashed": _shallow_bias_rehashed,
    "shallow_infinite_made_finite": _shallow_infinite_finite,
    "shallow_strict_changed_rehashed": _shallow_strict_changed,
    "wrong_shallow_hash": _wrong_shallow_hash,
    "wrong_network_hash": _wrong_network_hash,
    "json_float": _json_float,
    "wrong_version": _wrong_version,
    "wrong_format": _wrong_format,
    "tree_child_missing": _child_missing,
    "split_out_of_order": _split_out_of_order,
    "leaf_alpha_changed": _alpha_changed,
    "empty_proof_on_nonempty_child": _bogus_empty,
    "leaf_too_early": _leaf_too_early,
    "nested_tree_in_version_2": _nested_in_version_2,
    "node_after_the_tree": _node_after_the_end,
}


def derive(valid_text: str) -> dict[str, str]:
    """Every fixture file's text, from the valid certificate's text (a pure function of it)."""
    valid = json.loads(valid_text)
    files = {"valid.json": valid_text, "valid_v1.json": dumps(version1(copy.deepcopy(valid)))}
    for name, fault in FAULTS.items():
        files[f"{name}.json"] = dumps(fault(copy.deepcopy(valid)))
    files["truncated.json"] = valid_text[: len(valid_text) // 2]
    files["empty.json"] = ""
    return files


def generate(out: Path = OUT) -> dict[str, str]:
    """Build the valid certificate, derive the faults, write them all into ``out``."""
    files = derive(dumps(build_valid()))
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    written = generate(target)
    print(f"wrote {len(written)} files into {target}")
