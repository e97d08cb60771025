"""Why the finite form of 4-[8,8,8]-2 is not certified: a projection of its sizes (issue 16).

    python benchmarks/finite_scale.py [--network NAME] [--prefix 40] [--hitting-prefix 300]

The lattice construction of ``exactrelu.finite`` is run here in float64 (numpy), as guidance only:
nothing printed is a claim about the network, every figure is a size or a time.  Per output:

* ``S`` (maps ``>= l_i`` at every vertex of region ``i``'s closure) and ``B`` (maps ``<=``), means;
* the terms: per region the greedy cover of ``exactrelu.finite._term`` (maps of ``S_i`` below
  ``l_k`` on the most regions ``k`` not yet served; the regions that no single map serves are only
  counted, the producer would add maps there, so the sizes are lower bounds), then the greedy set
  cover of the regions; their count and total size;
* rule (b) of the lattice certificate: one Motzkin sum per region and term (the present shape),
  against one bound per region and map of a *hitting set* of the terms among the maps below the
  region's map (greedy, on the first ``--hitting-prefix`` regions, extrapolated);
* exact costs measured on the first ``--prefix`` regions with the producer's own code and
  extrapolated: the exact vertex comparisons of ``_Closures`` and the bytes and seconds of one
  "below" sum as ``leaf_evidence`` writes it.

Then the widths, dense parameter count and nonzero weights of the finite form ``realise`` would
build from those terms (layers counted, never held dense).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import NETWORKS, box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu import finite, lp  # noqa: E402
from exactrelu.finite import ONE, LatticeForm, _Closures, _minus, _multipliers_json  # noqa: E402
from exactrelu.polytope import Polytope, integer_row  # noqa: E402
from exactrelu.regions import enumerate_regions  # noqa: E402


def float_masks(maps: np.ndarray, vertices: list[np.ndarray], own: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``GE[k, j]``: ``l_j >= l_k`` at every vertex of region ``k`` (float, relative tolerance 1e-9); ``LE`` alike."""
    K = len(vertices)
    GE, LE = np.zeros((K, len(maps)), bool), np.zeros((K, len(maps)), bool)
    for k, X in enumerate(vertices):
        vals = maps @ X.T
        mine = vals[own[k]]
        tol = 1e-9 * (1 + np.abs(vals).max())
        GE[k] = (vals >= mine - tol).all(1)
        LE[k] = (vals <= mine + tol).all(1)
    return GE, LE


def greedy_terms(GE: np.ndarray, LE: np.ndarray, own: list[int]) -> tuple[list[list[int]], int]:
    """The terms of the set cover (module docstring) and the (region, term) pairs no single map serves."""
    K = len(own)
    terms, alone = [], 0
    for i in range(K):
        cand = np.nonzero(GE[i])[0]
        C = LE[:, cand].T  # C[a, k]: map cand[a] is below l_k on region k
        can = C.any(0)
        alone += int((~can).sum())
        left = ~C[list(cand).index(own[i])] & can
        chosen = [own[i]]
        while left.any():
            b = int((C & left).sum(1).argmax())
            chosen.append(int(cand[b]))
            left &= ~C[b]
        terms.append(sorted(set(chosen)))
    serves = np.array([GE[:, t].all(1) for t in terms])  # serves[t, k]: every map of term t is >= l_k on region k
    left, cover = np.ones(K, bool), []
    while left.any():
        b = int((serves & left).sum(1).argmax())
        cover.append(terms[b])
        left &= ~serves[b]
    return cover, alone


def hitting(terms: list[list[int]], below: np.ndarray) -> int:
    """Greedy hitting set of ``terms`` by maps with ``below``; -1 if a term has no such map."""
    left = [{j for j in t if below[j]} for t in terms]
    if any(not s for s in left):
        return -1
    count = 0
    while left:
        j = Counter(j for s in left for j in s).most_common(1)[0][0]
        count += 1
        left = [s for s in left if j not in s]
    return count


class _Counted:
    """Stands in for a layer while ``realise`` runs: its width and nonzero count, no dense rows."""

    def __init__(self, rows) -> None:
        self.out_dim, self.bias = len(rows), tuple(b for _, b in rows)
        self.nonzero = sum(len(coefs) for coefs, _ in rows)


def realised_size(form: LatticeForm) -> tuple[list[int], int, int]:
    """Widths, dense parameters and hidden nonzero weights of ``finite.realise(form)``, counted."""
    saved = finite._LayerBuilder.layer, finite.AffineLayer, finite.ReluNetwork
    finite._LayerBuilder.layer = lambda self, width: _Counted(self.rows)
    finite.AffineLayer = lambda weight, bias: _Counted([((), b) for b in bias])
    finite.ReluNetwork = lambda layers, n: layers
    try:
        layers = finite.realise(form)
    finally:
        finite._LayerBuilder.layer, finite.AffineLayer, finite.ReluNetwork = saved
    widths = [form.input_dim] + [layer.out_dim for layer in layers]
    return widths, sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:])), sum(x.nonzero for x in layers[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", default="4-[8,8,8]-2")
    parser.add_argument("--prefix", type=int, default=40, help="regions on which the exact costs are measured")
    parser.add_argument("--hitting-prefix", type=int, default=300, help="regions on which hitting sets are counted")
    args = parser.parse_args()
    widths = NETWORKS[args.network]
    net = random_network(widths, seed=0)
    t = time.process_time()
    e = enumerate_regions(net, box(widths[0]))
    print(f"{args.network}: {len(e.regions)} regions in {time.process_time() - t:.1f} CPU s", flush=True)
    domain_rows = e.domain.rows()
    t = time.process_time()
    exact_vertices = [lp.bounded_vertices(domain_rows + r.neuron_rows()) for r in e.regions]
    print(f"exact vertices (cdd): {time.process_time() - t:.1f} CPU s, mean "
          f"{np.mean([len(v) for v in exact_vertices]):.1f} per region", flush=True)
    vertices = [np.array([[float(a) for a in v] + [1.0] for v in vs]) for vs in exact_vertices]
    K, pre = len(e.regions), min(args.prefix, len(e.regions))
    closures = _Closures.__new__(_Closures)  # the producer's code on the prefix only
    closures.n, closures.lps, closures.rows, closures.int_rows, closures.scales, closures.cells = widths[0], 0, [], [], [], []
    for k in range(pre):
        rows = domain_rows + e.regions[k].neuron_rows()
        ints = [integer_row(u, v) for u, v, _ in rows]
        closures.rows.append(rows)
        closures.int_rows.append([r for r, _ in ints])
        closures.scales.append([Fraction(den, g) for _, (den, g) in ints])
        closures.cells.append(Polytope.from_vertices(exact_vertices[k], closures.int_rows[-1]))
    markdown_header(["output", "distinct maps", "mean S", "mean B", "terms", "sum of term sizes", "largest",
                     "(region, term) pairs no single map serves", "vertex comparisons CPU s (projected)",
                     "bytes per sum", "rule (b) sums: regions x terms", "their GB", "their producer s",
                     "hitting set per region (mean)", "rule (b) bounds: regions x hitting set"])
    maps_out, terms_out = [], []
    for o in range(net.output_dim):
        index: dict = {}
        own = [index.setdefault((tuple(r.alpha[o]), r.beta[o]), len(index)) for r in e.regions]
        maps = list(index)
        M = np.array([[float(a) for a in w] + [float(b)] for w, b in maps])
        GE, LE = float_masks(M, vertices, own)
        terms, alone = greedy_terms(GE, LE, own)
        den = math.lcm(*(x.denominator for w, b in maps for x in (*w, b)))
        columns = [[int(x * den) for x in (*w, b)] for w, b in maps]
        t = time.process_time()
        masks = [closures._compare(k, maps, columns, own[k], None) for k in range(pre)]
        compare_s = (time.process_time() - t) * K / pre
        sizes, t, sums = [], time.process_time(), 0
        for k in range(pre):
            le, mine = masks[k][1], maps[own[k]]
            for term in random.Random(k).sample(terms, min(25, len(terms))):
                low = [j for j in term if le >> j & 1]
                if low:
                    y = closures.upper(k, *_minus(maps[low[0]], mine))
                    sizes.append(len(_multipliers_json({**y, len(closures.rows[k]): ONE})) + 1)
                    sums += 1
        per_sum_s = (time.process_time() - t) / max(sums, 1)
        hits = [hitting(terms, LE[k]) for k in range(min(args.hitting_prefix, K))]
        mean_hit = np.mean([h for h in hits if h >= 0])
        pairs = K * len(terms)
        markdown_row([o, len(maps), f"{GE.sum(1).mean():.0f}", f"{LE.sum(1).mean():.0f}", len(terms),
                      sum(map(len, terms)), max(map(len, terms)), alone, f"{compare_s:.0f}", f"{np.mean(sizes):.0f}",
                      pairs, f"{pairs * np.mean(sizes) / 1e9:.2f}", f"{pairs * per_sum_s:.0f}",
                      f"{mean_hit:.0f} ({sum(h < 0 for h in hits)} of {len(hits)} regions need a multi-map sum)",
                      f"{K * mean_hit:.0f}"])
        used = sorted({j for term in terms for j in term})
        renumber = {j: i for i, j in enumerate(used)}
        maps_out.append(tuple(maps[j] for j in used))
        terms_out.append(tuple(tuple(renumber[j] for j in term) for term in terms))
    widths_f, dense, nonzero = realised_size(LatticeForm(widths[0], tuple(maps_out), tuple(terms_out)))
    print(f"\nfinite form: {len(widths_f) - 2} hidden layers, widths {widths_f}, {dense:,} dense parameters, "
          f"{nonzero:,} nonzero hidden weights")


if __name__ == "__main__":
    main()
