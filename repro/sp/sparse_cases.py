"""Sparse weight spellings: does the loader (exactrelu info / shallow) and the checker (--model) agree?"""
import json, subprocess, sys, os
V2 = "/work/wt/breaker/repro/s/V2.cert.json"
base = json.load(open("/work/wt/breaker/repro/s/net2.json"))
def variant(w0):
    d = json.loads(json.dumps(base)); d["layers"][0]["weight"] = w0; return d
good = [[0, 0, 1], [0, 1, -1], [1, 0, 1], [1, 1, 1], [2, 0, 2], [2, 1, -1]]
cases = {
  "same": {"shape": [3, 2], "entries": good},
  "zero listed": {"shape": [3, 2], "entries": good[:1] + [[0, 1, -1]] + good[2:] },
  "dup": {"shape": [3, 2], "entries": good[:2] + [good[1]] + good[2:]},
  "unsorted": {"shape": [3, 2], "entries": [good[1], good[0]] + good[2:]},
  "oob": {"shape": [3, 2], "entries": good + [[3, 0, 1]]},
  "neg idx": {"shape": [3, 2], "entries": [[-1, 1, 5]] + good},
  "bool idx": {"shape": [3, 2], "entries": [[False, 0, 1]] + good[1:]},
  "shape 3x3": {"shape": [3, 3], "entries": good},
  "shape 4x2": {"shape": [4, 2], "entries": good},
  "shape str": {"shape": ["3", 2], "entries": good},
  "missing one": {"shape": [3, 2], "entries": good[:-1]},
  "extra key": {"shape": [3, 2], "entries": good, "weight": [[9, 9], [9, 9], [9, 9]]},
  "entries dict": {"shape": [3, 2], "entries": {"0": 1}},
  "entry 4 long": {"shape": [3, 2], "entries": [e + [0] for e in good]},
  "value 2/2": {"shape": [3, 2], "entries": [[0, 0, "2/2"]] + good[1:]},
  "value float": {"shape": [3, 2], "entries": [[0, 0, 1.0]] + good[1:]},
  "value bool": {"shape": [3, 2], "entries": [[0, 0, True]] + good[1:]},
}
for k, w in cases.items():
    p = "v_" + "".join(ch if ch.isalnum() else "_" for ch in k) + ".json"; json.dump(variant(w), open(p, "w"))
    r1 = subprocess.run([sys.executable, "-m", "exactrelu", "info", p], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": "/work/wt/breaker"})
    r2 = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", V2, "--model", p], capture_output=True, text=True)
    o1 = (r1.stdout + r1.stderr).strip().splitlines(); o2 = [l for l in (r2.stdout + r2.stderr).splitlines() if not l.startswith("c ")]
    print(f"{k:14s} loader rc={r1.returncode} {o1[-1][:110] if o1 else ''}\n{'':14s} checker rc={r2.returncode} {o2[:2]}")
