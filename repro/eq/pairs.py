"""Pairs of networks whose equality on the box is known by construction; exactrelu equiv (early
default and --no-early) must agree with the truth, and its certificate must pass the checker only
when true."""
import json, os, subprocess, sys
E = {**os.environ, "PYTHONPATH": "/work/wt/breaker"}
PY = "/work/main/.venv/bin/python"
def net(*layers):
    return {"format": "exactrelu-network", "version": 1,
            "layers": [{"weight": w, "bias": b} for w, b in layers]}
tiny = "1/1000000000000000000000000000000"
P = {
  # name: (A, B, box, equal?)
  "neg rescale": (net(([[1]], [0]), ([[1]], [0])), net(([[-1]], [0]), ([[-1]], [0])), "-1:1", False),
  "neg rescale 2": (net(([[1]], [0]), ([[1]], [0])), net(([[-2]], [0]), ([["-1/2"]], [0])), "-1:1", False),
  "identity two ways": (net(([[1], [-1]], [0, 0]), ([[1, -1]], [0])), net(([[-1], [1]], [0, 0]), ([[-1, 1]], [0])), "-1:1", True),
  "dead at boundary": (net(([[1]], [0]), ([[1]], [0])), net(([[1], [1]], [0, -1]), ([[1, 5]], [0])), "-1:1", True),
  "almost dead": (net(([[1]], [0]), ([[1]], [0])), net(([[1], [1]], [0, "-" + "999999999999999999999999999999/1000000000000000000000000000000"]), ([[1, 5]], [0])), "-1:1", False),
  "dead on part": (net(([[1]], [0]), ([[1]], [0])), net(([[1], [1]], [0, "-1/2"]), ([[1, 5]], [0])), "-1:1", False),
  "tiny bias": (net(([[1]], [0]), ([[1]], [0])), net(([[1]], [tiny]), ([[1]], [0])), "-1:1", False),
  "tiny out bias": (net(([[1]], [0]), ([[1]], [0])), net(([[1]], [0]), ([[1]], [tiny])), "-1:1", False),
  "dup neuron": (net(([[1]], [0]), ([[2]], [0])), net(([[1], [1]], [0, 0]), ([[1, 1]], [0])), "-1:1", True),
  "dup neuron neg": (net(([[1]], [0]), ([[0]], [0])), net(([[1], [-1]], [0, 0]), ([[1, -1]], [0])), "-1:1", False),
  "zero-scale": (net(([[1]], [0]), ([[0]], [0])), net(([[0]], [0]), ([[0]], [0])), "-1:1", True),
  "zero row active": (net(([[0]], [1]), ([[1]], [0])), net(([[0]], [0]), ([[1]], [1])), "-1:1", True),
  "zero row dead": (net(([[0]], [0]), ([[1]], [0])), net(([[0]], [-1]), ([[1]], [0])), "-1:1", True),
  "zero row b0 vs tiny": (net(([[0]], [0]), ([[1]], [0])), net(([[0]], [tiny]), ([[1]], [0])), "-1:1", False),
  "deep dead 2nd layer": (net(([[1]], [0]), ([[1]], [0]), ([[1]], [0])), net(([[1]], [0]), ([[1]], [-1]), ([[1]], [0])), "-1:1", False),
  "2nd layer neg": (net(([[1]], [0]), ([[1]], [0]), ([[1]], [0])), net(([[1]], [0]), ([[-1]], [0]), ([[-1]], [0])), "-1:1", False),
  "point box diff": (net(([[1]], [0]), ([[1]], [0])), net(([[1]], [0]), ([[1]], ["-1/3"])), "0:0", False),
  "box at kink": (net(([[1]], [0]), ([[1]], [0])), net(([[1]], [0]), ([[1]], [0])), "0:0", True),
  "identity vs relu on pos box": (net(([[1]], [0]), ([[1]], [0])), net(([[1]], [0]),), "0:1", True),
  "identity vs relu incl 0-": (net(([[1]], [0]), ([[1]], [0])), net(([[1]], [0]),), "-" + tiny + ":1", False),
}
for name, (A, B, box, truth) in P.items():
    d = name.replace(" ", "_"); os.makedirs(d, exist_ok=True)
    json.dump(A, open(f"{d}/A.json", "w")); json.dump(B, open(f"{d}/B.json", "w"))
    for mode in ([], ["--no-early"]):
        cert = f"{d}/c{len(mode)}.json"
        if os.path.exists(cert): os.remove(cert)
        r = subprocess.run([PY, "-m", "exactrelu", "equiv", f"{d}/A.json", f"{d}/B.json", f"--box={box}", "--certificate", cert, "--quiet", *mode], capture_output=True, text=True, env=E)
        said_equal = r.returncode == 0
        chk = ""
        if os.path.exists(cert):
            c = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", cert, "--model-a", f"{d}/A.json", "--model-b", f"{d}/B.json", f"--box={box}"], capture_output=True, text=True)
            chk = f"check rc={c.returncode}"
        flag = "" if said_equal == truth and r.returncode in (0, 1) else "  <<<<<< WRONG"
        print(f"{name:28s}{' '.join(mode):11s} truth={'eq' if truth else 'ne'} rc={r.returncode} {chk} {(r.stdout + r.stderr).strip().splitlines()[:1]}{flag}")
