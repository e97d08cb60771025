"""Load the 45 ACAS Xu networks from ONNX and NNet and compare them exactly.

Run:  PYTHONPATH=. python benchmarks/acasxu_load.py [DIR]      (DIR defaults to ../shared/acasxu beside the project's root)

For each network: the ONNX file (Sub, Flatten, MatMul, Add, Relu) read exactly, and the NNet file
read in normalised coordinates (`load_model(path, nnet_normalized=True)`: the network of its
weights, exact decimals).  The ONNX file stores float32 weights, so the two agree exactly when
every ONNX weight is the correctly rounded float32 of the NNet decimal: the table says whether
that holds for every weight and bias, checks the exact outputs of the ONNX network against the
exactly rounded NNet network at the centre and two corners of the prop_1 box, and reports how far
the exact NNet decimals are from the float32 weights.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from common import markdown_header, markdown_row, require_folder, shared_folder
from exactrelu.io import load_model
from exactrelu.network import AffineLayer, ReluNetwork
from exactrelu.vnnlib import load_property


def nearest_float32(q: Fraction) -> Fraction:
    """The float32 nearest to ``q`` (ties to even), decided exactly."""
    guess = np.float32(float(q))
    candidates = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    return min((Fraction(float(c)) for c in candidates),
               key=lambda c: (abs(c - q), int(np.float32(c).view(np.uint32)) & 1))


def rounded(net: ReluNetwork) -> ReluNetwork:
    return ReluNetwork(tuple(AffineLayer(tuple(tuple(nearest_float32(w) for w in row) for row in layer.weight),
                                         tuple(nearest_float32(b) for b in layer.bias)) for layer in net.layers),
                       net.input_dim)


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_folder() / "acasxu"
    require_folder(root, "prop_1.vnnlib", "the argument")
    box = load_property(root / "prop_1.vnnlib").input_sets[0]
    points = [tuple((a + b) / 2 for a, b in zip(box.lower, box.upper)), box.lower, box.upper]
    markdown_header(["network", "widths", "ONNX load s", "NNet load s", "weights = float32(NNet)",
                     "outputs equal (3 points)", "max abs(NNet - float32)"])
    agree = 0
    for i in range(1, 6):
        for j in range(1, 10):
            name = f"ACASXU_run2a_{i}_{j}_batch_2000"
            t = time.perf_counter()
            onnx_net = load_model(root / f"{name}.onnx").network
            t_onnx = time.perf_counter() - t
            t = time.perf_counter()
            nnet_net = load_model(root / "nnet" / f"{name}.nnet", nnet_normalized=True).network
            t_nnet = time.perf_counter() - t
            exact = rounded(nnet_net)
            same = exact == onnx_net
            outputs = all(onnx_net.evaluate(p) == exact.evaluate(p) for p in points)
            gap = max(abs(w - r) for a, b in zip(nnet_net.layers, exact.layers)
                      for x, y in zip(a.weight + (a.bias,), b.weight + (b.bias,)) for w, r in zip(x, y))
            agree += same and outputs
            markdown_row([f"{i}_{j}", "-".join(map(str, onnx_net.widths)), f"{t_onnx:.2f}", f"{t_nnet:.2f}",
                          "yes" if same else "NO", "yes" if outputs else "NO", f"{float(gap):.1e}"])
    print(f"\n{agree} of 45 networks agree exactly (ONNX = NNet in normalised coordinates, weights as float32)")


if __name__ == "__main__":
    main()
