"""Exact Shapley values against shap's exact explainer (issue: explain).

    python benchmarks/shapley.py [--points 5] [--background 20] [--many 50] [--no-evaluators]

Networks n-[16,16]-1 (float32 weights read exactly, fixed seeds) for n = 4, 8, 10 features.  For
each, ``--points`` points are explained over a background of ``--background`` points, twice:

* ``global``: one background drawn from the same distribution as the points (N(0, 1), float32);
* ``local``:  each point's own background, the point plus perturbations of at most 1e-3 (where
  the one-region fast path can apply).

Columns: CPU seconds of the exact computation (exactrelu.explain, all points), CPU seconds of
``shap.explainers.Exact`` with ``shap.maskers.Independent`` on the float network with the same
background (numba compilation excluded by a warm-up call), their ratio (> 1: exact is slower),
the share of points where the one-region fast path applied, and the largest absolute difference
between the exact values and shap's (next to the largest value).  Both are measured in the same
run, alternately (so that a change of the machine's load hits both), each as the median of
``--repeats`` runs after one warm-up run (which pays imports and numba compilation); the load
average (/proc/loadavg) is printed before and after.

Note on the ``local`` rows: shap's tabular masker treats a background entry as equal to ``x`` when
``np.isclose(x_i, b_i)`` (relative tolerance 1e-5) and skips it, so for backgrounds within ~1e-5 of
``x`` its "exact" values differ from the exact ones by far more than float rounding; the exact
values agree with a float64 brute force of the textbook formula there.

A second table (unless ``--no-evaluators``) measures the two exact evaluators of the hybrid points
behind ``--method auto``: exact deep evaluation against region lookup on the shallow network
(enumeration time shown separately), on small networks of benchmarks/common.py over [-2, 2]^n.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# One BLAS thread for both sides: the products here are small, and on a shared machine a second BLAS
# thread makes both exactrelu and shap several times slower (set the variable to override).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import box, markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.explain import Explainer, IntegerNetwork, RegionLookup  # noqa: E402


def exact_rows(a: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(float(v)) for v in row] for row in a]


def shap_values(shap, net, x: np.ndarray, background: np.ndarray) -> np.ndarray:
    explainer = shap.explainers.Exact(net.evaluate_float, shap.maskers.Independent(background, max_samples=len(background)))
    values = explainer(x, silent=True).values
    return values.reshape(len(x), net.input_dim, -1)


def medians(funcs, repeats: int) -> list[tuple[float, object]]:
    """For each function: the median of ``repeats`` runs in CPU seconds of this process (CPU time is
    fairer than wall time on a shared machine) and its result, the functions run alternately after
    one warm-up run each (imports, numba compilation)."""
    results = [func() for func in funcs]
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeats):
        for k, func in enumerate(funcs):
            started = time.process_time()
            results[k] = func()
            times[k].append(time.process_time() - started)
    return [(float(np.median(t)), r) for t, r in zip(times, results)]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def compare(shap, n: int, points: int, size: int, scenario: str, seed: int, repeats: int) -> dict:
    net = random_network([n, 16, 16, 1], seed=seed)
    rng = np.random.default_rng(1000 + seed)
    X = rng.normal(size=(points, n)).astype(np.float32).astype(float)
    if scenario == "global":
        backgrounds = [rng.normal(size=(size, n)).astype(np.float32).astype(float)] * points
    else:
        backgrounds = [(x + rng.uniform(-1e-3, 1e-3, size=(size, n))).astype(np.float32).astype(float) for x in X]

    def run_exact():
        evaluator = IntegerNetwork(net)
        if scenario == "global":  # one background: all points in one batch
            results = Explainer(net, exact_rows(backgrounds[0]), evaluator=evaluator).explain_many(exact_rows(X))
        else:
            results = [Explainer(net, exact_rows(bg), evaluator=evaluator).explain([Fraction(float(v)) for v in x])
                       for x, bg in zip(X, backgrounds)]
        ours = [[[float(v) for v in row] for row in r.values] for r in results]
        return np.array(ours), sum(r.fast_path for r in results)

    def run_shap():
        if scenario == "global":
            return shap_values(shap, net, X, backgrounds[0])
        return np.concatenate([shap_values(shap, net, x[None, :], bg) for x, bg in zip(X, backgrounds)])

    (exact_seconds, (ours, fast)), (shap_seconds, theirs) = medians([run_exact, run_shap], repeats)
    return {"n": n, "scenario": scenario, "points": points, "background": size, "exact": exact_seconds,
            "shap": shap_seconds, "fast": fast / points, "diff": float(np.max(np.abs(ours - theirs))),
            "scale": float(np.max(np.abs(ours)))}


def evaluators(points: int, size: int) -> list[dict]:
    from exactrelu.regions import enumerate_regions
    from exactrelu.shallow import build_shallow

    rows = []
    for name, widths in (("2-[12]-1", [2, 12, 1]), ("2-[8,8]-1", [2, 8, 8, 1]), ("3-[10,10]-1", [3, 10, 10, 1])):
        net = random_network(widths, seed=0)
        n = widths[0]
        rng = np.random.default_rng(7)
        X = exact_rows(np.clip(rng.normal(size=(points, n)), -2, 2).astype(np.float32))
        bg = exact_rows(np.clip(rng.normal(size=(size, n)), -2, 2).astype(np.float32))
        started = time.perf_counter()
        shallow = build_shallow(enumerate_regions(net, box(n)))
        enumeration = time.perf_counter() - started
        evaluator = IntegerNetwork(net)
        lookup = RegionLookup(shallow, evaluator)
        timings, results = {}, {}
        for method, kwargs in (("deep", {"evaluator": evaluator}), ("regions", {"lookup": lookup})):
            explainer = Explainer(net, bg, method=method, fast_path=False, **kwargs)
            started = time.perf_counter()
            results[method] = [explainer.explain(x).values for x in X]
            timings[{"deep": "deep_s", "regions": "lookup_s"}[method]] = time.perf_counter() - started
        assert results["deep"] == results["regions"], "the two exact evaluators disagree"
        rows.append({"network": name, "regions": shallow.regions, "J": shallow.hyperplanes, "enumeration": enumeration,
                     **timings})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=5, help="points explained per case (default 5)")
    parser.add_argument("--background", type=int, default=20, help="background size (default 20)")
    parser.add_argument("--repeats", type=int, default=5, help="time the median of this many runs (default 5)")
    parser.add_argument("--many", type=int, default=50, help="also n = 10 with this many points (default 50; 0: skip)")
    parser.add_argument("--no-evaluators", action="store_true", help="skip the deep-vs-regions table")
    args = parser.parse_args()
    try:
        import shap
    except ImportError:
        print("this benchmark needs shap: pip install 'exactrelu[explain]'", file=sys.stderr)
        return 2

    print(f"exact Shapley values vs shap.explainers.Exact, networks n-[16,16]-1, {args.points} points, "
          f"background {args.background} points; CPU s, medians of {args.repeats} runs; load average {load_average()}")
    markdown_header(["n", "points", "background", "exact s", "shap s", "ratio", "fast path", "max abs diff", "max abs phi"])
    cases = [(n, args.points, scenario) for n in (4, 8, 10) for scenario in ("global", "local")]
    cases += [(10, args.many, "global")] if args.many else []
    for n, points, scenario in cases:
        r = compare(shap, n, points, args.background, scenario, seed=n, repeats=args.repeats)
        markdown_row([r["n"], r["points"], r["scenario"], f"{r['exact']:.3f}", f"{r['shap']:.3f}",
                      f"{r['exact'] / r['shap']:.1f}", f"{r['fast']:.0%}", f"{r['diff']:.1e}", f"{r['scale']:.1e}"])
    print()
    print("ratio = exact s / shap s (> 1: exact is slower); max abs diff = largest |exact - shap| over all values; "
          f"load average at the end {load_average()}")
    if not args.no_evaluators:
        print()
        print(f"exact evaluators of the hybrid points ({args.points} points, background {args.background}, all coalitions, "
              "box [-2, 2]^n)")
        markdown_header(["network", "regions", "J", "enumerate s", "lookup s", "deep s"])
        for r in evaluators(args.points, args.background):
            markdown_row([r["network"], r["regions"], r["J"], f"{r['enumeration']:.3f}", f"{r['lookup_s']:.3f}",
                          f"{r['deep_s']:.3f}"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
