"""Junk node lines and regions in a version-3 certificate: every answer must be one clear line, never a traceback."""
import json, os, subprocess, sys, tempfile
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "s")
lines = open(os.path.join(D, "S.cert.json")).read().splitlines(keepends=True)
leaf_i = next(i for i, l in enumerate(lines) if l.startswith('{"leaf"'))
leaf = json.loads(lines[leaf_i])
tmp = tempfile.mkdtemp()
junk = ["null", "[]", "{}", '"x"', "1", "1.5", "true", '{"split":null}', '{"split":[0]}', '{"split":[0,0,0]}',
        '{"split":["0","0"]}', '{"split":[0.0,0]}', '{"split":[true,0]}', '{"empty":null}', '{"empty":[[0]]}', '{"empty":[[0,"x"]]}',
        '{"empty":[["0","1"]]}', '{"empty":[[99999999999999999999,"1"]]}', '{"empty":[[-1,"1"]]}', '{"empty":[[0,"1/0"]]}',
        '{"closed":{}}', '{"leaf":0}', '{"leaf":0,"region":null}', '{"leaf":0,"region":[]}', '{"leaf":"0","region":{}}',
        '{"leaf":0.0,"region":{}}', '{"leaf":true,"region":{}}', '{"end":null}', '{"end":{"nodes":"1","leaves":0}}',
        '{"split":[0,0],"empty":[]}', '\u00ff', '{"a":1,"a":2}', "[" * 100000, '{"split":[0,0]} trailing']
for key, vals in {"pattern": [None, [], [[1, 1, 1], [1, 1], [1]], [[1, 1, 1], [1, "1"]], [[1, 1, 1], [1, True]]],
                  "conditions": [None, [], [None] * 5, [{"w": None, "b": "0", "rel": ">"}] * 5, [{"w": [[1], [1]], "b": "0", "rel": ">"}] * 5],
                  "witness": [None, [], ["1/0", "0"], ["x", "0"], [[0], 0], ["1e5", "0"], ["0x1", "0"], [" 1/2", "-1/2"]],
                  "alpha": [None, [], [[]], [["1/0", "0"]]], "beta": [None, [], ["1/0"], [None]],
                  "full_dimensional": [None, 1, "true"]}.items():
    for v in vals:
        m = json.loads(lines[leaf_i]); m["region"][key] = v; junk.append(json.dumps(m))
bad = []
for j in junk:
    for at in (1, leaf_i):
        ls = list(lines); ls[at] = j + "\n"
        p = os.path.join(tmp, "c.json"); open(p, "w", encoding="utf-8", errors="surrogateescape").write("".join(ls))
        r = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", p, "--model", os.path.join(D, "net2.json"), "--shallow", os.path.join(D, "S.json")], capture_output=True, text=True)
        if r.returncode not in (1, 2) or "Traceback" in r.stderr + r.stdout:
            bad.append((at, j[-160:], r.returncode, (r.stdout + r.stderr)[-300:]))
# binary and odd files
for name, data in {"bin": b"\xff\xfe\x00", "empty": b"", "nl": b"\n", "bom": b"\xef\xbb\xbf" + "".join(lines).encode()}.items():
    p = os.path.join(tmp, "c.json"); open(p, "wb").write(data)
    r = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", p, "--model", os.path.join(D, "net2.json")], capture_output=True, text=True)
    if r.returncode not in (1, 2) or "Traceback" in r.stderr + r.stdout:
        bad.append((name, r.returncode, (r.stdout + r.stderr)[-300:]))
print(len(junk) * 2, "junk lines; tracebacks/odd exits:", *bad, sep="\n")
