"""verify --early closed nodes: tighten each stated neuron bound (lo up / hi down by 1/10) one at a time;
a tightened bound beyond the true range that the checker accepts would be an unproved fact."""
import json, copy, subprocess, sys
from fractions import Fraction
c = json.load(open("pyramid_just_above/c1.json"))
T = c["tree"]["input_sets"][0]
acc, tot = [], 0
for t, node in enumerate(T):
    if "closed" not in node: continue
    for i, (lo, hi) in enumerate(node["closed"]["bounds"]):
        for side in (0, 1):
            d = copy.deepcopy(c)
            b = d["tree"]["input_sets"][0][t]["closed"]["bounds"][i]
            q = Fraction(b[side]) + (Fraction(1, 10) if side == 0 else -Fraction(1, 10))
            b[side] = str(q)
            json.dump(d, open("/tmp/brk_cb.json", "w")); tot += 1
            r = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", "/tmp/brk_cb.json", "--model", "pyramid_just_above/net.json", "--property", "pyramid_just_above/p.vnnlib"], capture_output=True, text=True)
            if r.returncode == 0: acc.append((t, i, side, b))
print(tot, "tightened bounds; accepted:", acc)
