"""``exactrelu prune MODEL -o PRUNED.json``: exact, lossless pruning on a domain, with a certificate.

The regions of the network over the domain tell, for every hidden neuron, whether it is active on
every region (``z > 0`` at every point of the domain), inactive on every region (``z <= 0``
everywhere: its output is ``0``), or neither.  Then, layer by layer:

* a neuron inactive everywhere is removed (its output is the constant ``0``);
* a layer whose remaining neurons are all active everywhere computes an affine map on the domain
  (``relu(z) = z``): it is folded exactly into the next layer (``W' = W_next W``,
  ``b' = W_next b + b_next``) and disappears;
* a neuron active everywhere whose pre-activation is a constant ``c > 0`` (a zero weight row after
  the folds) is folded into the next layer's bias;
* any other neuron active everywhere, in a layer that keeps an unstable neuron, is kept (folding it
  alone would need a connection that skips a layer, which the network model does not have); it is
  reported;
* finally, a neuron whose outgoing weights are all ``0`` (for example because it fed only removed
  neurons) is removed; a layer left with no neuron makes the network constant.

Unlike magnitude pruning this changes nothing on the domain: :mod:`exactrelu.equiv` proves that the
pruned network equals the original at every point of the domain and writes the certificate.

>>> from exactrelu.network import ReluNetwork
>>> from exactrelu.domain import Domain
>>> net = ReluNetwork.from_lists([([[1], [1], [-1]], [0, 5, -5]), ([[1, 1, 1]], [0])])
>>> result = prune(net, Domain.box(["-1"], ["1"]))      # on [-1, 1]: x + 5 > 0, -x - 5 <= 0
>>> result.pruned.widths, result.dead, result.kept_active
((1, 2, 1), [(0, 2)], [(0, 1)])
>>> net.evaluate(["1/3"]) == result.pruned.evaluate(["1/3"])
True
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .errors import InputError, InternalError

if TYPE_CHECKING:  # pragma: no cover
    from .domain import Domain
    from .equiv import Comparison
    from .network import ReluNetwork
    from .regions import Enumeration

ZERO = Fraction(0)
ONE = Fraction(1)
Neuron = tuple[int, int]  # (hidden layer, index) in the original network, both from 0

SUMMARY = "remove neurons that never fire and fold layers that are affine on the domain, exactly, with a certificate"
EXAMPLE = "exactrelu prune net.json --box=-1:1 -o pruned.json"


@dataclass
class PruneResult:
    """What :func:`prune` did.  Neurons are named ``(hidden layer, index)`` in the original network."""

    original: "ReluNetwork"
    pruned: "ReluNetwork"
    domain: "Domain"
    enumeration: "Enumeration"
    status: list[list[str]]  # per hidden layer and neuron: "active", "inactive" or "unstable"
    dead: list[Neuron] = field(default_factory=list)
    folded_layers: list[int] = field(default_factory=list)
    folded_active: list[Neuron] = field(default_factory=list)
    folded_constant: list[Neuron] = field(default_factory=list)
    kept_active: list[Neuron] = field(default_factory=list)
    unused: list[Neuron] = field(default_factory=list)

    @property
    def constant(self) -> bool:
        """The pruned network is a constant (one layer with zero weights)."""
        return len(self.pruned.layers) == 1 and not any(any(r) for r in self.pruned.layers[0].weight)


def neuron_status(enumeration: "Enumeration") -> list[list[str]]:
    """For each hidden neuron: ``"active"`` on every region, ``"inactive"`` on every region, or
    ``"unstable"``.  The regions partition the domain, so "every region" is "every point"."""
    widths = enumeration.network.hidden_widths
    seen_on = [[False] * w for w in widths]
    seen_off = [[False] * w for w in widths]
    for region in enumeration.regions:
        for l, bits in enumerate(region.pattern):
            for i, bit in enumerate(bits):
                if bit:
                    seen_on[l][i] = True
                else:
                    seen_off[l][i] = True
    return [["unstable" if on and off else "active" if on else "inactive" for on, off in zip(ons, offs)]
            for ons, offs in zip(seen_on, seen_off)]


def _matmul(A, B):
    cols = len(B[0]) if B else 0
    return [[sum((a * B[k][j] for k, a in enumerate(row) if a), ZERO) for j in range(cols)] for row in A]


def _matvec(A, x):
    return [sum((a * v for a, v in zip(row, x) if a), ZERO) for row in A]


def prune(
    network: "ReluNetwork",
    domain: Optional["Domain"] = None,
    *,
    enumeration: Optional["Enumeration"] = None,
    max_regions: Optional[int] = None,
    progress=None,
) -> PruneResult:
    """The pruned network (see the module docstring); it is not yet proved equal: see :func:`certify`."""
    from .domain import Domain
    from .network import ReluNetwork
    from .regions import enumerate_regions

    n = network.input_dim
    domain = domain or Domain.reals(n)
    if enumeration is None:
        enumeration = enumerate_regions(network, domain, max_regions=max_regions, progress=progress)
    status = neuron_status(enumeration)
    result = PruneResult(network, network, domain, enumeration, status)

    # forward: the pending affine map (PW, Pb) takes the last kept ReLU layer's values (or x) to the
    # input of the next original layer
    PW = [[ONE if i == j else ZERO for j in range(n)] for i in range(n)]
    Pb = [ZERO] * n
    kept_layers: list[tuple[list[list[Fraction]], list[Fraction]]] = []
    kept_ids: list[list[Neuron]] = []
    for l, layer in enumerate(network.layers[:-1]):
        W = _matmul([list(r) for r in layer.weight], PW)
        b = [x + y for x, y in zip(_matvec(layer.weight, Pb), layer.bias)]
        st = status[l]
        result.dead += [(l, j) for j, s in enumerate(st) if s == "inactive"]
        if "unstable" not in st:
            result.folded_layers.append(l)
            result.folded_active += [(l, j) for j, s in enumerate(st) if s == "active"]
            width = len(W[0]) if W else len(PW[0])
            PW = [W[j] if s == "active" else [ZERO] * width for j, s in enumerate(st)]
            Pb = [b[j] if s == "active" else ZERO for j, s in enumerate(st)]
            continue
        constant = [j for j, s in enumerate(st) if s == "active" and not any(W[j])]
        keep = [j for j, s in enumerate(st) if s != "inactive" and j not in constant]
        result.folded_constant += [(l, j) for j in constant]
        result.kept_active += [(l, j) for j in keep if st[j] == "active"]
        kept_layers.append(([W[j] for j in keep], [b[j] for j in keep]))
        kept_ids.append([(l, j) for j in keep])
        PW = [[ONE if keep[c] == j else ZERO for c in range(len(keep))] for j in range(len(st))]
        Pb = [b[j] if j in constant else ZERO for j in range(len(st))]
    last = network.layers[-1]
    layers = kept_layers + [(_matmul([list(r) for r in last.weight], PW),
                             [x + y for x, y in zip(_matvec(last.weight, Pb), last.bias)])]

    # backward: drop neurons whose outgoing weights are all zero
    for i in range(len(kept_layers) - 1, -1, -1):
        W, b = layers[i]
        Wn, bn = layers[i + 1]
        used = [c for c in range(len(b)) if any(row[c] for row in Wn)]
        if len(used) == len(b):
            continue
        result.unused += [kept_ids[i][c] for c in range(len(b)) if c not in used]
        if used:
            layers[i] = ([W[c] for c in used], [b[c] for c in used])
            layers[i + 1] = ([[row[c] for c in used] for row in Wn], bn)
            kept_ids[i] = [kept_ids[i][c] for c in used]
        else:  # nothing reaches the next layer: it sees only its bias
            width = len(layers[i - 1][1]) if i > 0 else n
            layers[i + 1] = ([[ZERO] * width for _ in Wn], bn)
            del layers[i]
            del kept_ids[i]
    result.pruned = ReluNetwork.from_lists(layers, "pruned network")
    result.unused.sort()
    return result


def certify(result: PruneResult, max_regions: Optional[int] = None, progress=None) -> "Comparison":
    """Prove exactly that the pruned network equals the original on the domain (the comparison is
    the evidence the certificate is written from); :class:`InternalError` if it does not."""
    from .equiv import compare

    comparison = compare(result.original, result.pruned, result.domain, max_regions=max_regions, progress=progress)
    if not comparison.equal:
        raise InternalError("the pruned network differs from the original on the domain "
                            f"(at x = {[str(v) for v in comparison.counterexample]})")
    return comparison


# ----------------------------------------------------------------------------- the command
def configure(parser: argparse.ArgumentParser) -> None:
    from .cli import positive_int

    parser.add_argument("model", help="network file (.json, .npz, .onnx, .pt/.pth, .nnet)")
    parser.add_argument("-o", "--output", required=True, help="where to write the pruned network (exactrelu-network JSON)")
    parser.add_argument("--box", help="box domain LO:HI,LO:HI,... (one LO:HI applies to every input)")
    parser.add_argument("--domain", help="domain file: JSON box or polytope, or VNN-LIB input constraints")
    parser.add_argument("--certificate", metavar="PATH",
                        help="where to write the equivalence certificate (default: beside the output, .cert.json)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")
    parser.add_argument("--max-regions", type=positive_int, metavar="N", help="stop (incomplete, exit 3) beyond N regions")
    parser.add_argument("--quiet", action="store_true", help="no notes or progress on stderr")


def _names(neurons) -> str:
    return ", ".join(f"L{l}.{i}" for l, i in neurons) or "none"


def run(args: argparse.Namespace) -> int:
    from .cli import Console, _read_model, check_command, domain_from_args
    from .equiv import write_equivalence_certificate
    from .io.jsonfmt import save

    console = Console(args.quiet or args.json)
    out = Path(args.output)
    cert = Path(args.certificate) if args.certificate else out.with_name(
        out.name[:-5] + ".cert.json" if out.name.endswith(".json") else out.name + ".cert.json")
    for p in (out, cert):
        if not p.parent.is_dir():
            raise InputError(f"{p}: the folder {p.parent} does not exist")
    loaded = _read_model(args.model, args)
    net = loaded.network
    domain = domain_from_args(args, net.input_dim, loaded)
    started = time.perf_counter()
    try:
        result = prune(net, domain, max_regions=args.max_regions, progress=console.progress)
        comparison = certify(result, max_regions=None, progress=console.progress)
    finally:
        console.end_progress()
    save(result.pruned, out)
    size = write_equivalence_certificate(cert, comparison, purpose="prune")
    seconds = time.perf_counter() - started
    pruned = result.pruned
    summary = {
        "model": str(args.model), "pruned": str(out), "certificate": str(cert), "certificate_bytes": size,
        "domain": domain.describe(), "regions": len(result.enumeration.regions),
        "widths_before": list(net.widths), "widths_after": list(pruned.widths),
        "neurons_before": net.neuron_count, "neurons_after": pruned.neuron_count,
        "parameters_before": net.parameter_count, "parameters_after": pruned.parameter_count,
        "removed_inactive": [list(t) for t in result.dead],
        "folded_layers": result.folded_layers,
        "folded_active": [list(t) for t in result.folded_active],
        "folded_constant": [list(t) for t in result.folded_constant],
        "removed_unused": [list(t) for t in result.unused],
        "kept_active": [list(t) for t in result.kept_active],
        "constant": result.constant, "equal": True, "seconds": round(seconds, 3),
    }
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{args.model} ({'-'.join(map(str, net.widths))}, {net.neuron_count} neurons) -> {out} "
          f"({'-'.join(map(str, pruned.widths))}, {pruned.neuron_count} neurons) over {domain.describe()}, "
          f"{len(result.enumeration.regions)} regions")
    print(f"  removed {len(result.dead)} neurons inactive on every region: {_names(result.dead)}")
    if result.folded_layers:
        print(f"  folded {len(result.folded_layers)} hidden layers that are affine on the domain "
              f"(every remaining neuron active on every region) into the next layer: "
              f"{', '.join(f'L{l}' for l in result.folded_layers)}")
    if result.folded_constant:
        print(f"  folded {len(result.folded_constant)} constant active neurons into the next layer's bias: "
              f"{_names(result.folded_constant)}")
    if result.unused:
        print(f"  removed {len(result.unused)} neurons whose outgoing weights are all 0: {_names(result.unused)}")
    if result.kept_active:
        print(f"  kept {len(result.kept_active)} neurons active on every region, in layers with unstable neurons "
              f"(folding one alone needs a skip connection): {_names(result.kept_active)}")
    if result.constant:
        print("  the network is constant on the domain")
    print("  (neurons are named L<hidden layer>.<index>, counting from 0 in the original network)")
    print(f"proved equal to the original at every point of the domain: wrote {cert} ({size} bytes); "
          f"check it with: {check_command(cert, args, domain, model=args.model, pruned=out)}")
    return 0
