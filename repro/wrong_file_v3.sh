#!/bin/sh
# A version-3 certificate names its shallow file itself ("../decoy/S.json"); the S.json lying beside
# the certificate is a different (wrong) network. Checked without --shallow, the verdict is
# VERIFIED and the binding reads "pinned (...)", the word the docs reserve for "compared with a file
# you named" -- although the auditor named none and the file verified is not the one beside it.
set -e
cd "$(dirname "$0")"; R=$(mktemp -d); B=/work/wt/breaker
PY="env PYTHONPATH=$B /work/main/.venv/bin/python"
mkdir -p $R/decoy $R/ship
$PY -m exactrelu shallow s/net2.json --box=-1:1 --stream -o $R/decoy/S.json --certificate $R/ship/S.cert.json --quiet >/dev/null
sed 's/"1\/2"/"7"/' $R/decoy/S.json > $R/ship/S.json         # the file an auditor would take: wrong
head -1 $R/ship/S.cert.json | python3 -c "import json,sys; print('header names:', json.load(sys.stdin)['shallow']['file'])"
python3 $B/exactrelu/checker.py $R/ship/S.cert.json --model s/net2.json 2>&1 | grep -E "^s |shallow network"
python3 $B/exactrelu/checker.py $R/ship/S.cert.json --model s/net2.json --shallow $R/ship/S.json 2>&1 | grep -E "^s "
