"""Mutation sweep over a version-3 streamed certificate: every single-line drop, duplicate,
adjacent swap, and a set of field edits; report any mutant the checker accepts."""
import io, json, os, sys, contextlib, shutil, tempfile
sys.path.insert(0, "/work/wt/breaker")
from exactrelu import checker
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s")
lines = open(os.path.join(D, sys.argv[1] + ".cert.json")).read().splitlines(keepends=True)
tmp = tempfile.mkdtemp()
shutil.copy(os.path.join(D, sys.argv[1] + ".json"), os.path.join(tmp, "S.json"))
def run(ls, pin=True, extra=()):
    p = os.path.join(tmp, sys.argv[1] + ".cert.json")
    open(p, "w").write("".join(ls))
    args = [p, "--model", os.path.join(D, sys.argv[2])] + (["--shallow", os.path.join(tmp, "S.json")] if pin else []) + list(extra)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = checker.main(args)
    except SystemExit as e:
        rc = e.code
    except Exception as e:
        return "CRASH " + repr(e)
    return rc, (out.getvalue() + err.getvalue()).strip().splitlines()[-1:] if rc else ""
assert run(lines)[0] == 0
bad = []
muts = []
for i in range(1, len(lines)):
    muts.append((f"drop {i+1}", lines[:i] + lines[i+1:]))
    muts.append((f"dup {i+1}", lines[:i+1] + lines[i:]))
    if i + 1 < len(lines):
        muts.append((f"swap {i+1},{i+2}", lines[:i] + [lines[i+1], lines[i]] + lines[i+2:]))
# field edits in leaves
for i, l in enumerate(lines):
    node = json.loads(l)
    if "leaf" in node:
        r = node["region"]
        for key in ("witness", "beta"):
            m = json.loads(l); v = m["region"][key]; v[0] = str(eval(v[0].replace("/", "*1.0/")) + 1).rstrip("0").rstrip(".") if False else v[0] + "0" if v[0] != "0" else "1"
            muts.append((f"line {i+1} {key}", lines[:i] + [json.dumps(m, separators=(",", ":")) + "\n"] + lines[i+1:]))
        m = json.loads(l); m["region"]["full_dimensional"] = not m["region"]["full_dimensional"]
        muts.append((f"line {i+1} fulldim", lines[:i] + [json.dumps(m, separators=(",", ":")) + "\n"] + lines[i+1:]))
        m = json.loads(l); m["region"]["conditions"][0]["rel"] = "<=" if m["region"]["conditions"][0]["rel"] == ">" else ">"
        muts.append((f"line {i+1} rel", lines[:i] + [json.dumps(m, separators=(",", ":")) + "\n"] + lines[i+1:]))
        m = json.loads(l); m["region"]["alpha"][0][0] = "99"
        muts.append((f"line {i+1} alpha", lines[:i] + [json.dumps(m, separators=(",", ":")) + "\n"] + lines[i+1:]))
        m = json.loads(l); m["region"]["extra"] = 1
        muts.append((f"line {i+1} extra key", lines[:i] + [json.dumps(m, separators=(",", ":")) + "\n"] + lines[i+1:]))
for name, ls in muts:
    for pin in (True, False):
        r = run(ls, pin)
        if r[0] == 0 or isinstance(r, str):
            bad.append((name, pin, r))
print(len(muts) * 2, "mutants;", "accepted/crashed:", bad)
