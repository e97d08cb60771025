"""Header edits of a version-3 certificate (shallow file's domain edited alongside where relevant)."""
import hashlib, io, json, os, sys, contextlib, tempfile
sys.path.insert(0, "/work/wt/breaker")
from exactrelu import checker
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s")
lines = open(os.path.join(D, "S.cert.json")).read().splitlines(keepends=True)
S = json.loads(open(os.path.join(D, "S.json")).read())
def run(h_edit, s_edit=None, args_extra=(), model=True):
    tmp = tempfile.mkdtemp()
    s = json.loads(json.dumps(S))
    if s_edit: s_edit(s)
    sb = (json.dumps(s, sort_keys=True, separators=(",", ":")) + "\n").encode()
    open(os.path.join(tmp, "S.json"), "wb").write(sb)
    h = json.loads(lines[0]); h["shallow"]["sha256"] = hashlib.sha256(sb).hexdigest()
    h_edit(h)
    p = os.path.join(tmp, "S.cert.json")
    open(p, "w").write(json.dumps(h) + "\n" + "".join(lines[1:]))
    args = [p] + (["--model", os.path.join(D, "net2.json")] if model else []) + list(args_extra)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            rc = checker.main(args)
    except SystemExit as e: rc = e.code
    except BaseException as e: return "CRASH " + repr(e)[:300]
    return rc, [l for l in out.getvalue().splitlines() if not l.startswith("c ")][:2]
def dom(h):
    h["domain"]["upper"] = ["2", "1"]
def sdom(s): s["domain"]["upper"] = ["2", "1"]
def setk(k, v):
    def f(h): h[k] = v
    return f
print("domain wider", run(dom, sdom))
print("domain narrower", run(lambda h: h["domain"].update(upper=["1/2", "1"]), lambda s: s["domain"].update(upper=["1/2", "1"])))
print("domain narrower --box", run(lambda h: h["domain"].update(upper=["1/2", "1"]), lambda s: s["domain"].update(upper=["1/2", "1"]), ["--box=-1:1"]))
print("version 2", run(setk("version", 2)))
print("version 3.0", run(setk("version", 3.0)))
print("version true", run(setk("version", True)))
print("stream json", run(setk("stream", "json")))
print("order other", run(setk("order", "other")))
print("format other", run(setk("format", "exactrelu-equivalence")))
print("kind prop", run(setk("format", "exactrelu-property")))
print("sha deep wrong", run(setk("network_sha256", "0" * 64)))
print("no model, sha wrong", run(setk("network_sha256", "0" * 64), model=False))
def netchg(h): h["network"]["layers"][2]["weight"][0][1] = "3"
print("network changed, --model", run(netchg))
print("workers 2", run(lambda h: None, args_extra=["--workers", "2"]))
print("guard", run(lambda h: None, args_extra=["--guard"]))
print("shallow embedded+file", run(lambda h: h["shallow"].update(network=S)))
print("shallow embedded only", run(lambda h: h.update(shallow={"network": S, "sha256": h["shallow"]["sha256"]})))
