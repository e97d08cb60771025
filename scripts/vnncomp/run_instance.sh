#!/bin/bash
# VNN-COMP tool interface: run_instance.sh v1 CATEGORY ONNX VNNLIB RESULTS TIMEOUT
# Runs `exactrelu verify ONNX VNNLIB --timeout TIMEOUT --results RESULTS`, which writes
# unsat / sat + the exact assignment / timeout / unknown. The Python interpreter is
# $EXACTRELU_PYTHON (default: python3 with exactrelu installed).
set -u
if [ "$#" -lt 6 ] || [ "$1" != "v1" ]; then
    echo "usage: $0 v1 CATEGORY ONNX VNNLIB RESULTS TIMEOUT (version string must be v1, got '${1:-}')" >&2
    exit 1
fi
ONNX_FILE=$3
VNNLIB_FILE=$4
RESULTS_FILE=$5
TIMEOUT=$6
PYTHON=${EXACTRELU_PYTHON:-python3}
rm -f "$RESULTS_FILE"
"$PYTHON" -m exactrelu verify "$ONNX_FILE" "$VNNLIB_FILE" --timeout "$TIMEOUT" --results "$RESULTS_FILE" --quiet
code=$?
if [ ! -f "$RESULTS_FILE" ]; then  # bad input (exit 2) or a crash: no answer
    echo "unknown" > "$RESULTS_FILE"
fi
# 0 holds, 1 violated, 3 unknown are answers; anything else is an error of this run
case $code in 0|1|3) exit 0 ;; *) exit "$code" ;; esac
