#!/bin/sh
# Message-level defects around version-3 certificates.
cd "$(dirname "$0")/s"; PY="env PYTHONPATH=/work/wt/breaker /work/main/.venv/bin/python"
# 1. commands that read certificates call a valid v3 certificate "invalid JSON ... Extra data"
$PY -m exactrelu info S.cert.json
$PY -m exactrelu report S.cert.json -o /tmp/brk_r.md
$PY -m exactrelu plot S.cert.json -o /tmp/brk.png
# 2. the same shallow network has two SHA-256s: `info` prints the canonical one (as version 2
#    certificates record), the v3 header records the hash of the file's bytes
$PY -m exactrelu info S.json | grep sha256
head -1 S.cert.json | python3 -c "import json,sys; print('v3 header shallow.sha256:', json.load(sys.stdin)['shallow']['sha256'])"
sha256sum S.json
