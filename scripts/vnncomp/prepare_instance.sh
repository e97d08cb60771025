#!/bin/bash
# VNN-COMP tool interface: prepare_instance.sh v1 CATEGORY ONNX VNNLIB
# exactrelu needs no preparation; it accepts every category whose network and property it can read
# (the check happens when the instance runs). Exit 0: the instance may be run.
set -u
if [ "$#" -lt 4 ] || [ "$1" != "v1" ]; then
    echo "usage: $0 v1 CATEGORY ONNX VNNLIB (version string must be v1, got '${1:-}')" >&2
    exit 1
fi
for f in "$3" "$4"; do
    if [ ! -f "$f" ]; then
        echo "prepare_instance: no such file: $f" >&2
        exit 1
    fi
done
echo "exactrelu: instance $3 $4 (category $2) prepared"
exit 0
