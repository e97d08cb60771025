"""Edits of the shallow file of a version-3 certificate (the header's sha256 re-pinned to the new bytes)."""
import hashlib, io, json, os, sys, contextlib, shutil, tempfile
sys.path.insert(0, "/work/wt/breaker")
from exactrelu import checker
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s")
lines = open(os.path.join(D, "S.cert.json")).read().splitlines(keepends=True)
S = open(os.path.join(D, "S.json"), "rb").read()
def run(sbytes, name="S.json", pin=True, header_edit=None, extra=()):
    tmp = tempfile.mkdtemp()
    sp = os.path.join(tmp, "S.json")
    open(sp, "wb").write(sbytes)
    h = json.loads(lines[0]); h["shallow"] = {"file": name, "sha256": hashlib.sha256(sbytes).hexdigest()}
    if header_edit: header_edit(h)
    p = os.path.join(tmp, "S.cert.json")
    open(p, "w").write(json.dumps(h) + "\n" + "".join(lines[1:]))
    args = [p, "--model", os.path.join(D, "net2.json")] + (["--shallow", sp] if pin else []) + list(extra)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            rc = checker.main(args)
    except SystemExit as e:
        rc = e.code
    except BaseException as e:
        return "CRASH " + repr(e)[:300]
    return rc, out.getvalue().strip().splitlines()[-1][:200]
d = json.loads(S)
def dump(obj, **kw): return (json.dumps(obj, **kw) + "\n").encode()
cases = {
  "original": S,
  "pretty": dump(d, indent=2),
  "reordered keys": dump(dict(reversed(list(d.items())))),
  "BOM": b"\xef\xbb\xbf" + S,
  "trailing garbage": S + b"{}",
  "trailing ws": S + b"   \n\n",
  "dup key H": S.rstrip(b"\n")[:-1] + b',"H":[]}\n',
  "weight 1/2 as 2/4": S.replace(b'"1/2"', b'"2/4"', 1),
  "weights reversed": None,
  "huge number": S.replace(b'"version":1', b'"version":1' + b"0" * 0, 1).replace(b'"rows":', b'"rows":' + b"0" * 5000, 1),
  "float version": S.replace(b'"version":1', b'"version":1.0', 1),
  "unicode escaped key": S.replace(b'"H"', b'"\\u0048"', 1),
  "utf16": json.dumps(d).encode("utf-16"),
  "NaN": S.replace(b'"version":1', b'"version":NaN', 1),
  "-Infinity weight": S.replace(b'"-inf"', b'-Infinity', 1),
  "inf spelled": S.replace(b'"-inf"', b'"-Infinity"', 1),
}
dd = json.loads(S); dd["layers"][0]["weights"] = list(reversed(dd["layers"][0]["weights"])); cases["weights reversed"] = dump(dd)
dd = json.loads(S); dd["layers"][0]["weights"][0][2] = "7"; cases["changed weight"] = dump(dd)
dd = json.loads(S); dd["layers"][1]["bias"][0] = "2"; cases["changed bias"] = dump(dd)
dd = json.loads(S); dd["layers"][0]["weights"].append([0, 0, "0"]); cases["zero entry"] = dump(dd)
dd = json.loads(S); dd["layers"][0]["weights"].insert(1, dd["layers"][0]["weights"][0]); cases["dup entry"] = dump(dd)
for k, v in cases.items():
    print(f"{k:25s}", run(v))
print("escape ../", run(S, name="../" + "x/../S.json"))
tmpo = tempfile.mkdtemp(); open(os.path.join(tmpo, "S.json"), "wb").write(S)
print("escape abs", run(S, name=os.path.join(tmpo, "S.json"), pin=False))
print("escape ../ unpinned", run(S, name="../" + os.path.basename(tmpo) + "/S.json", pin=False))
print("dir", run(S, name=".", pin=False))
print("devnull", run(S, name="../../dev/zero", pin=False))
