"""verify --early on properties whose answer is decided exactly on a boundary (truth by construction)."""
import json, os, subprocess, sys
E = {**os.environ, "PYTHONPATH": "/work/wt/breaker"}
PY = "/work/main/.venv/bin/python"
def net(*layers):
    return {"format": "exactrelu-network", "version": 1, "layers": [{"weight": w, "bias": b} for w, b in layers]}
def prop(n, m, box, unsafe):
    s = "".join(f"(declare-const X_{i} Real)\n" for i in range(n)) + "".join(f"(declare-const Y_{o} Real)\n" for o in range(m))
    for i, (lo, hi) in enumerate(box):
        s += f"(assert (>= X_{i} {lo}))\n(assert (<= X_{i} {hi}))\n"
    return s + unsafe
relu2 = net(([[1, 0], [0, 1], [1, 1]], [0, 0, -1]), ([[1, 1, -2]], [0]))   # y = relu(x0)+relu(x1)-2relu(x0+x1-1): peak 1 at (1/2,1/2)... 
# y on [0,1]^2: x0+x1 if x0+x1<=1 else 2-(x0+x1); max = 1 on the line x0+x1 = 1
deep = net(([[1], [-1]], [0, 0]), ([[1, 1], [1, -1]], ["-1/3", 0]), ([[3, 0], [0, 1]], [0, 0]), ([[1, 1]], [0]))
tiny = "0.000000000000000000000000000001"
C = {
  "peak reached (>=1)": (relu2, prop(2, 1, [("0", "1")] * 2, "(assert (>= Y_0 1))\n"), "violated"),
  "peak not reached (>=1+tiny)": (relu2, prop(2, 1, [("0", "1")] * 2, f"(assert (>= Y_0 1.{tiny[2:]}))\n"), "holds"),
  "peak on edge only": (relu2, prop(2, 1, [("0", "1/2"), ("1/2", "1")], "(assert (>= Y_0 1))\n"), "violated"),
  "peak corner only": (relu2, prop(2, 1, [("0", "0.5"), ("0", "0.5")], "(assert (>= Y_0 1))\n"), "violated"),
  "peak corner excluded": (relu2, prop(2, 1, [("0", "0.4999999999999999999999"), ("0", "0.5")], "(assert (>= Y_0 1))\n"), "holds"),
  "low side <=0 at origin": (relu2, prop(2, 1, [("0", "1")] * 2, "(assert (<= Y_0 0))\n"), "violated"),
  "low side <=-tiny": (relu2, prop(2, 1, [("0", "1")] * 2, f"(assert (<= Y_0 -{tiny}))\n"), "holds"),
  "deep kink": (deep, prop(1, 1, [("-1", "1")], "(assert (<= Y_0 0))\n"), None),
  "two-output disj": (relu2, prop(2, 1, [("0", "1")] * 2, "(assert (or (and (>= Y_0 1)) (and (<= Y_0 -1))))\n"), "violated"),
}
for name, (N, P, truth) in C.items():
    d = "".join(ch if ch.isalnum() else "_" for ch in name); os.makedirs(d, exist_ok=True)
    json.dump(N, open(f"{d}/net.json", "w")); open(f"{d}/p.vnnlib", "w").write(P)
    res = {}
    for mode in ([], ["--early"]):
        cert = f"{d}/c{len(mode)}.json"
        r = subprocess.run([PY, "-m", "exactrelu", "verify", f"{d}/net.json", f"{d}/p.vnnlib", "--certificate", cert, "--quiet", *mode], capture_output=True, text=True, env=E)
        out = (r.stdout + r.stderr).strip().splitlines()
        c = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", cert, "--model", f"{d}/net.json", "--property", f"{d}/p.vnnlib"], capture_output=True, text=True) if os.path.exists(cert) else None
        res[" ".join(mode) or "plain"] = (r.returncode, out[:1], c and c.returncode)
    print(f"{name:30s} truth={truth} {res}")
