"""Serial vs --workers verdicts and messages on mutants of a version-2 certificate."""
import copy, io, json, os, sys, contextlib, tempfile, subprocess
sys.path.insert(0, "/work/wt/breaker")
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s")
name = sys.argv[1] if len(sys.argv) > 1 else "V2"
cert = json.load(open(os.path.join(D, name + ".cert.json")))
extra = sys.argv[2:] if len(sys.argv) > 2 else ["--model", os.path.join(D, "net2.json"), "--shallow", os.path.join(D, name + ".json")]
tmp = tempfile.mkdtemp()
def run(c, w):
    p = os.path.join(tmp, "c.json"); json.dump(c, open(p, "w"))
    r = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", p, *extra, "--workers", str(w)], capture_output=True, text=True)
    msg = [l for l in (r.stdout + r.stderr).splitlines() if not l.startswith("c ")]
    return r.returncode, msg
muts = [("orig", cert)]
T = cert["tree"]
for t, node in enumerate(T):
    c = copy.deepcopy(cert)
    if "empty" in node:
        c["tree"][t]["empty"][0][1] = "3"; muts.append((f"node {t} multiplier", c))
        c = copy.deepcopy(cert); c["tree"][t]["empty"] = c["tree"][t]["empty"][1:]; muts.append((f"node {t} drop mult", c))
    if "leaf" in node:
        c["tree"][t] = {"leaf": (node["leaf"] + 1) % len(cert["leaves"])}; muts.append((f"node {t} leaf idx", c))
    if t + 1 < len(T):
        c = copy.deepcopy(cert); c["tree"][t], c["tree"][t + 1] = T[t + 1], T[t]; muts.append((f"swap {t}", c))
for k, leaf in enumerate(cert["leaves"]):
    for key in ("witness", "beta", "alpha", "pattern", "conditions"):
        c = copy.deepcopy(cert); v = c["leaves"][k]
        if key == "witness": v["witness"] = ["5", "5"]
        elif key == "beta": v["beta"][0] = "123"
        elif key == "alpha": v["alpha"][0][0] = "123"
        elif key == "pattern": v["pattern"][-1][0] ^= 1
        else: v["conditions"][-1]["rel"] = "<=" if v["conditions"][-1]["rel"] == ">" else ">"
        muts.append((f"leaf {k} {key}", c))
c = copy.deepcopy(cert); c["leaves"][0], c["leaves"][1] = c["leaves"][1], c["leaves"][0]; muts.append(("leaves swapped", c))
c = copy.deepcopy(cert); c["tree"] = c["tree"][:-1]; muts.append(("truncate", c))
c = copy.deepcopy(cert); c["tree"].append(c["tree"][-1]); muts.append(("append", c))
diff, acc = [], []
for n, c in muts:
    a, b, b3 = run(c, 1), run(c, 2), run(c, 3)
    if not (a == b == b3): diff.append((n, a, b, b3))
    if n != "orig" and 0 in (a[0], b[0], b3[0]): acc.append((n, a, b, b3))
print(len(muts), "mutants; differences:", diff, "\naccepted:", acc)
