"""Random pairs (B = A with one weight changed): the exact maximum deviation M from --no-early;
the default (early) answer at --tolerance M must be 'within', at M - 1/10^9 'differ', both norms."""
import json, os, random, subprocess, sys
from fractions import Fraction as F
E = {**os.environ, "PYTHONPATH": "/work/wt/breaker"}; PY = "/work/main/.venv/bin/python"
random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
def rnd(r, c): return [[str(random.randint(-3, 3)) for _ in range(c)] for _ in range(r)]
bad = []
for trial in range(8):
    A = {"format": "exactrelu-network", "version": 1, "layers": [
        {"weight": rnd(4, 2), "bias": [str(F(random.randint(-3, 3), 2)) for _ in range(4)]},
        {"weight": rnd(3, 4), "bias": [str(random.randint(-2, 2)) for _ in range(3)]},
        {"weight": rnd(2, 3), "bias": ["0", "1"]}]}
    B = json.loads(json.dumps(A)); l = random.randrange(3); w = B["layers"][l]["weight"]; i = random.randrange(len(w)); j = random.randrange(len(w[0]))
    w[i][j] = str(F(w[i][j]) + F(random.choice([-1, 1]), random.choice([1, 3, 7])))
    json.dump(A, open("rA.json", "w")); json.dump(B, open("rB.json", "w"))
    for norm in ("inf", "1"):
        r = subprocess.run([PY, "-m", "exactrelu", "equiv", "rA.json", "rB.json", "--box=-1:1", "--norm", norm, "--no-early", "--json", "--quiet"], capture_output=True, text=True, env=E)
        d = json.loads(r.stdout); M = F(d.get("max_deviation") or d.get("value") or "0") if isinstance(d, dict) else None
        for tol, want in ((M, 0), (M - F(1, 10 ** 9), 1)):
            if tol < 0: continue
            if os.path.exists("rc.json"): os.remove("rc.json")
            r2 = subprocess.run([PY, "-m", "exactrelu", "equiv", "rA.json", "rB.json", "--box=-1:1", "--norm", norm, "--tolerance", str(tol), "--certificate", "rc.json", "--quiet"], capture_output=True, text=True, env=E)
            ck = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", "rc.json", "--model-a", "rA.json", "--model-b", "rB.json"], capture_output=True, text=True).returncode if os.path.exists("rc.json") else None
            if r2.returncode != want or (ck is not None and ck != 0):
                bad.append((trial, norm, str(M), str(tol), r2.returncode, ck, r2.stdout[:200]))
print("keys:", list(d)[:12]); print("bad:", bad)
