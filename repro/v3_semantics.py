"""The streamed shallow network (v3) evaluated layer by layer -- its own tiny extended-real
evaluator, independent of exactrelu's: relu after each hidden layer, -inf * 0 = 0, -inf * t = -inf
for t > 0 -- at every point of a grid (boundaries and hyperplane crossings included), against the
deep network evaluated exactly."""
import itertools, json, sys
from fractions import Fraction as F
S = json.load(open(sys.argv[1])); net = json.load(open(sys.argv[2]))
NEG = "-inf"
def val(v): return NEG if v == "-inf" else F(v)
def mul(w, t):
    if w == NEG:
        return F(0) if t == 0 else NEG   # t >= 0 after a relu
    return w * t
def add(a, b): return NEG if NEG in (a, b) else a + b
def shallow(x):
    v = [F(t) for t in x]
    for k, L in enumerate(S["layers"]):
        out = [val(b) for b in L["bias"]]
        for i, j, w in L["weights"]:
            w = val(w)
            if k == 0: assert w != NEG
            out[i] = add(out[i], mul(w, v[j]))
        v = out if k == 3 else [F(0) if (o == NEG or o <= 0) else o for o in out]
    return v
def deep(x):
    v = [F(t) for t in x]
    L = net["layers"]
    for k, l in enumerate(L):
        v = [sum((F(w) * t for w, t in zip(row, v)), F(0)) + F(b) for row, b in zip(l["weight"], l["bias"])]
        if k < len(L) - 1: v = [max(t, F(0)) for t in v]
    return v
pts = sorted({F(p, q) for q in (1, 2, 3, 4, 5, 6, 7, 8, 12) for p in range(-q, q + 1)})
bad = [(x, shallow(x), deep(x)) for x in itertools.product(pts, repeat=len(S["H"][0]) if S["H"] else 1) if shallow(x) != deep(x)]
print(len(pts) ** 2, "points;", len(bad), "differ", bad[:3])
