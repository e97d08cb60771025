"""The peer nnenum on many VNN-LIB instances in ONE process (run with nnenum's benchmark-only venv).

``benchmarks/acasxu.py --nnenum PYTHON`` starts one nnenum process per instance; at a load of 6-7
on 2 cores each start spends about 9 s importing nnenum (scipy.signal, onnxruntime) before its time
limit begins, so a 186-instance run with both tools takes over an hour.  This driver imports nnenum
once and, for each line ``ONNX VNNLIB`` on stdin, does what ``python -m nnenum.nnenum ONNX VNNLIB
TIMEOUT OUT 1`` does (nnenum's ``make_spec``, optimised ONNX load, its control settings, one
process, each input box in turn with the time left) and prints one tab-separated line: instance,
answer (``holds``, ``violated``, ``timeout``, ...), seconds (spec, network load and search; the
import excluded).  nnenum's own progress output is discarded.

    .venv/bin/python -c "import sys; sys.path[:0] = ['benchmarks', '.']; from acasxu import \\
        instances, DEFAULT_FOLDER as F; [print(F / n, F / p) for n, p, _ in instances(F, 186)]" \\
      | OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /work/benchvenv/bin/python benchmarks/nnenum_batch.py 6
"""

from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np
from nnenum.enumerate import enumerate_network
from nnenum.nnenum import make_spec, set_control_settings
from nnenum.onnx_network import load_onnx_network, load_onnx_network_optimized
from nnenum.settings import Settings


def answer(onnx: str, vnnlib: str, timeout: float) -> str:
    """nnenum's VNN-COMP answer on one instance, as its command line computes it."""
    Settings.NUM_PROCESSES = 1
    spec_list, dtype = make_spec(vnnlib, onnx)
    try:
        network = load_onnx_network_optimized(onnx)
    except Exception:  # nnenum's own fallback for layers the optimised loader refuses
        network = load_onnx_network(onnx)
    set_control_settings()
    result = "none"
    for init_box, spec in spec_list:
        if timeout <= 0:
            return "timeout"
        Settings.TIMEOUT = timeout
        res = enumerate_network(np.array(init_box, dtype=dtype), network, spec)
        result, timeout = res.result_str, timeout - res.total_secs
        if result != "safe":
            break
    return "holds" if result == "safe" else "violated" if "unsafe" in result else result


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: nnenum_batch.py TIMEOUT < lines of 'ONNX VNNLIB'", file=sys.stderr)
        return 2
    timeout, total = float(sys.argv[1]), 0.0
    for line in sys.stdin:
        if not line.split():
            continue
        onnx, vnnlib = line.split()
        t = time.perf_counter()
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            result = answer(onnx, vnnlib, timeout)
        seconds = time.perf_counter() - t
        total += seconds
        print(f"{os.path.basename(onnx)} {os.path.basename(vnnlib)}\t{result}\t{seconds:.2f}", flush=True)
    print(f"total\t{total:.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
