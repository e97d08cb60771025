"""Exact, lossless pruning on a domain, with a certificate.

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

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Optional

from .errors import InternalError

if TYPE_CHECKING:  # pragma: no cover
    from .domain import Domain
    from .equiv import Comparison
    from .network import ReluNetwork
    from .regions import Enumeration

ZERO = Fraction(0)
ONE = Fraction(1)
Neuron = tuple[int, int]  # (hidden layer, index) in the original network, both from 0



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
