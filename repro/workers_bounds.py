"""Equivalence leaves' bounds tampered: serial vs --workers 2/3 verdicts and messages."""
import copy, json, os, subprocess, sys, tempfile
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s")
cert = json.load(open(os.path.join(D, "EQ.cert.json")))
tmp = tempfile.mkdtemp()
def run(c, w):
    p = os.path.join(tmp, "c.json"); json.dump(c, open(p, "w"))
    r = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", p, "--model-a", f"{D}/net2.json", "--model-b", f"{D}/net2b.json", "--workers", str(w)], capture_output=True, text=True)
    return r.returncode, [l for l in (r.stdout + r.stderr).splitlines() if not l.startswith("c ")]
muts = []
for k, leaf in enumerate(cert["leaves"]):
    for b, bound in enumerate(leaf["bounds"]):
        c = copy.deepcopy(cert); c["leaves"][k]["bounds"][b]["bound"] = "0"; muts.append((f"leaf {k} bound {b} -> 0", c))
        c = copy.deepcopy(cert); c["leaves"][k]["bounds"][b]["sign"] = [-s for s in bound["sign"]]; muts.append((f"leaf {k} bound {b} sign", c))
        if bound["multipliers"]:
            c = copy.deepcopy(cert); c["leaves"][k]["bounds"][b]["multipliers"] = bound["multipliers"][1:]; muts.append((f"leaf {k} bound {b} drop mult", c))
    c = copy.deepcopy(cert); c["leaves"][k]["bounds"] = []; muts.append((f"leaf {k} no bounds", c))
c = copy.deepcopy(cert); c["claim"]["value"] = "3/2"; muts.append(("claim 3/2", c))
c = copy.deepcopy(cert); c["claim"]["value"] = "2"; muts.append(("claim 2", c))
c = copy.deepcopy(cert); c["claim"]["argmax"] = ["1", "1"]; muts.append(("argmax other max", c))
c = copy.deepcopy(cert); c["claim"]["tolerance"] = "1"; muts.append(("tol 1", c))
diff, acc = [], []
for n, c in muts:
    a, b, b3 = run(c, 1), run(c, 2), run(c, 3)
    if not (a == b == b3): diff.append((n, a, b, b3))
    if 0 in (a[0], b[0], b3[0]): acc.append((n, a[0], b[0], b3[0]))
print(len(muts), "mutants; differences:", diff, "\naccepted:", acc)
