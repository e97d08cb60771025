"""verify --early: a violation attained at one non-float point only (truth: violated)."""
import json, os, subprocess, sys
E = {**os.environ, "PYTHONPATH": "/work/wt/breaker"}
PY = "/work/main/.venv/bin/python"
def net(*layers):
    return {"format": "exactrelu-network", "version": 1, "layers": [{"weight": w, "bias": b} for w, b in layers]}
tent = net(([[1], [1]], [0, "-1/3"]), ([[3, "-9/2"]], [0]))
# 2-D pyramid: min of tents in x0 (peak 1/3) and x1 (peak 1/7): y = t0 - relu(t0 - t1), peak 1 at (1/3,1/7) only
# t0 = 3x0 - 4.5 relu(x0-1/3) (x0>=0); t1 = 7x1 - (7+7/6) relu(x1-1/7) on [0,1]: at x1=1: 7 - 49/6*6/7 = 7-7 = 0
pyr = net(([[1, 0], [1, 0], [0, 1], [0, 1]], [0, "-1/3", 0, "-1/7"]),
          ([[3, "-9/2", 0, 0], [3, "-9/2", -7, "49/6"]], [0, 0]),
          ([[1, -1]], [0]))
def prop(n, box, unsafe):
    s = "".join(f"(declare-const X_{i} Real)\n" for i in range(n)) + "(declare-const Y_0 Real)\n"
    for i, (lo, hi) in enumerate(box):
        s += f"(assert (>= X_{i} {lo}))\n(assert (<= X_{i} {hi}))\n"
    return s + unsafe
C = {"tent peak 1/3": (tent, prop(1, [("0", "1")], "(assert (>= Y_0 1))\n"), "violated"),
     "pyramid peak (1/3,1/7)": (pyr, prop(2, [("0", "1")] * 2, "(assert (>= Y_0 1))\n"), "violated"),
     "pyramid just above": (pyr, prop(2, [("0", "1")] * 2, "(assert (>= Y_0 1.0000000000000000000001))\n"), "holds")}
for name, (N, P, truth) in C.items():
    d = "".join(ch if ch.isalnum() else "_" for ch in name); os.makedirs(d, exist_ok=True)
    json.dump(N, open(f"{d}/net.json", "w")); open(f"{d}/p.vnnlib", "w").write(P)
    for mode in ([], ["--early"]):
        cert = f"{d}/c{len(mode)}.json"
        r = subprocess.run([PY, "-m", "exactrelu", "verify", f"{d}/net.json", f"{d}/p.vnnlib", "--certificate", cert, "--quiet", *mode], capture_output=True, text=True, env=E)
        out = (r.stdout + r.stderr).strip().splitlines()
        c = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", cert, "--model", f"{d}/net.json", "--property", f"{d}/p.vnnlib"], capture_output=True, text=True) if os.path.exists(cert) else None
        print(f"{name:24s} {' '.join(mode):8s} truth={truth} rc={r.returncode} {out[:1]} check={c and c.returncode}")
