"""A 'holds' certificate of verify --early (y >= 1 + 1e-22 unreachable) re-targeted at y >= 1 (violated at (1/3, 1/7)):
the embedded property's constant edited, the property hashes recomputed the way the checker does."""
import json, hashlib, subprocess, sys, copy, os
sys.path.insert(0, "/work/wt/breaker")
from exactrelu import checker
c = json.load(open("pyramid_just_above/c1.json"))
for v in ("-1", "-99999999999999999999999/100000000000000000000000", "-10000000000000000000001/10000000000000000000000"):
    d = copy.deepcopy(c)
    d["property"]["unsafe"][0][0]["v"] = v
    d["property_sha256"] = checker.canonical_sha256(d["property"])
    d["property_file_sha256"] = None
    json.dump(d, open("/tmp/brk_retarget.json", "w"))
    r = subprocess.run([sys.executable, "/work/wt/breaker/exactrelu/checker.py", "/tmp/brk_retarget.json", "--model", "pyramid_just_above/net.json", "--expect", "property"], capture_output=True, text=True)
    print(v, r.returncode, [l for l in (r.stdout + r.stderr).splitlines()][:3])
