"""Equivalence benchmark (issue: ``exactrelu equiv``): the exact region method against z3.

    python benchmarks/equiv.py [--quick] [--only NAME] [--timeout SECONDS]

For each benchmark network ``A`` (random float32 weights, fixed seed) over the box ``[-2, 2]^n``
(one pair over a smaller box, said below), five pairs ``(A, B)``:

* ``permuted``   B = A with the hidden neurons of every layer in reverse order (equal);
* ``rescaled``   B = A with every first-layer neuron scaled by 2 and its outgoing weights by 1/2
                 (equal, by positive homogeneity; no weight of B equals A's);
* ``pruned``     B = ``exactrelu prune`` of A on the corner box ``[0, 1/2]^n``, where many neurons
                 are stable, compared on that box (equal there; fewer neurons or layers);
* ``perturbed``  B = A with one weight of the last hidden layer changed by 1/1000;
* ``float16``    B = A with every weight rounded to float16; the question is the tolerance
                 ``max |A - B| <= 1/100``.

The question, for both tools: is there ``x`` in the box with ``|A_o(x) - B_o(x)| > eps`` for some
output ``o`` (``eps = 0``: are the networks different)?  exactrelu answers with
:func:`exactrelu.equiv.compare` (every region of ``A||B``, and the exact maximum deviation by LP);
z3 (z3-solver) gets the SMT encoding over the reals with exact rational constants and ReLU as
``If(z > 0, z, 0)``.  Both run in the same process, one after the other, and their answers must
agree (a z3 counterexample is re-evaluated exactly).  Times are CPU seconds, which a shared
machine's load moves far less than wall time: of this process for z3 (which runs in it, with any
threads of its own), of the calling thread for exactrelu (single-threaded here; z3 can leave a
thread running for a while after a long question, which the process's clock would charge to the
next timing), each after a garbage collection (z3's time limit is its own, in wall time); a
question either tool answers in under 0.1 s is asked 5 times and timed by the fastest.  ``exactrelu / z3`` > 1 means exactrelu is that many
times slower.  exactrelu does more than answer: it returns the exact maximum deviation
and its maximiser, and the evidence for a certificate.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import markdown_header, markdown_row, random_network  # noqa: E402

from exactrelu.domain import Domain  # noqa: E402
from exactrelu.equiv import compare, decide  # noqa: E402
from exactrelu.network import ReluNetwork  # noqa: E402
from exactrelu.prune import prune  # noqa: E402

# name -> widths: 2 to 4 inputs, 10 to 50 hidden neurons
NETWORKS = {
    "2-[5,5]-1": [2, 5, 5, 1],
    "3-[6,6]-1": [3, 6, 6, 1],
    "4-[5,5]-1": [4, 5, 5, 1],
    "2-[10,10]-1": [2, 10, 10, 1],
    "3-[8,8]-1": [3, 8, 8, 1],
    "4-[4,4,4]-2": [4, 4, 4, 4, 2],
    "2-[25,25]-1": [2, 25, 25, 1],
    "3-[15,15]-1": [3, 15, 15, 1],
}
QUICK = ("2-[5,5]-1", "3-[6,6]-1", "4-[5,5]-1", "2-[10,10]-1")
TOLERANCE = Fraction(1, 100)


# ----------------------------------------------------------------------------- the pairs
def _layers(net: ReluNetwork) -> list[tuple[list[list[Fraction]], list[Fraction]]]:
    return [([list(r) for r in layer.weight], list(layer.bias)) for layer in net.layers]


def permuted(net: ReluNetwork) -> ReluNetwork:
    layers = _layers(net)
    for k in range(len(layers) - 1):
        W, b = layers[k]
        order = list(range(len(b)))[::-1]
        layers[k] = ([W[i] for i in order], [b[i] for i in order])
        Wn, bn = layers[k + 1]
        layers[k + 1] = ([[row[i] for i in order] for row in Wn], bn)
    return ReluNetwork.from_lists(layers)


def rescaled(net: ReluNetwork) -> ReluNetwork:
    layers = _layers(net)
    W, b = layers[0]
    layers[0] = ([[2 * v for v in row] for row in W], [2 * v for v in b])
    Wn, bn = layers[1]
    layers[1] = ([[v / 2 for v in row] for row in Wn], bn)
    return ReluNetwork.from_lists(layers)


def perturbed(net: ReluNetwork) -> ReluNetwork:
    layers = _layers(net)
    layers[-2][0][0][0] += Fraction(1, 1000)
    return ReluNetwork.from_lists(layers)


def float16(net: ReluNetwork) -> ReluNetwork:
    def r(v: Fraction) -> float:
        return float(np.float16(float(v)))

    return ReluNetwork.from_lists([([[r(v) for v in row] for row in W], [r(v) for v in b]) for W, b in _layers(net)])


# ----------------------------------------------------------------------------- z3
def z3_question(a: ReluNetwork, b: ReluNetwork, lo: Fraction, hi: Fraction, eps: Fraction, timeout: float):
    """``(answer, seconds)``: answer ``True`` (no x deviates by more than eps: unsat), ``False`` with a
    re-checked counterexample (sat), or ``None`` (z3 gave up: unknown or timeout)."""
    import z3

    def q(v: Fraction):
        return z3.RealVal(f"{v.numerator}/{v.denominator}")

    def encode(net: ReluNetwork, xs):
        v = xs
        for k, layer in enumerate(net.layers):
            z = [z3.Sum([q(w) * x for w, x in zip(row, v) if w] + [q(c)]) for row, c in zip(layer.weight, layer.bias)]
            if k == len(net.layers) - 1:
                return z
            v = [z3.If(zi > 0, zi, q(Fraction(0))) for zi in z]

    gc.collect()  # as timed() does
    started = time.process_time()
    xs = [z3.Real(f"x{i}") for i in range(a.input_dim)]
    solver = z3.Solver()
    solver.set("timeout", int(timeout * 1000))
    for x in xs:
        solver.add(x >= q(lo), x <= q(hi))
    ya, yb = encode(a, xs), encode(b, xs)
    solver.add(z3.Or([d for p, r in zip(ya, yb) for d in (p - r > q(eps), r - p > q(eps))]))
    outcome = solver.check()
    seconds = time.process_time() - started
    if outcome == z3.unsat:
        return True, seconds
    if outcome == z3.sat:
        model = solver.model()
        point = [model.eval(x, model_completion=True).as_fraction() for x in xs]
        gap = max(abs(p - r) for p, r in zip(a.evaluate(point), b.evaluate(point)))
        if gap <= eps:
            raise SystemExit(f"z3's counterexample {point} does not deviate by more than {eps}")
        return False, seconds
    return None, seconds


# ----------------------------------------------------------------------------- the run
def timed(func) -> tuple[float, object]:
    """``(CPU seconds of this thread, result)`` of ``func()``, after a garbage collection (so that no
    earlier question's garbage is collected inside the timing)."""
    gc.collect()
    started = time.thread_time()
    result = func()
    return time.thread_time() - started, result


def shortest(run) -> tuple[float, object]:
    """``run()`` gives ``(seconds, result)``; a question answered in under 0.1 s is asked 5 times and
    timed by the fastest (a single timing that short measures the machine more than the tool)."""
    seconds, result = run()
    if seconds < 0.1:
        seconds = min([seconds] + [run()[0] for _ in range(4)])
    return seconds, result


def ratio(ours: float, theirs: float) -> str:
    if theirs <= 0:
        return "-"
    r = ours / theirs
    return f"{r:.0f}" if r >= 10 else f"{r:.1f}" if r >= 1 else f"{r:.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--only", help="one network name")
    parser.add_argument("--timeout", type=float, default=600.0, help="z3 time limit per question, seconds")
    parser.add_argument("--easy-timeout", type=float, default=60.0,
                        help="z3 time limit on the easy 2-[16,16,16]-1 pairs (default 60 s; 0 skips that table)")
    args = parser.parse_args()
    try:
        import z3
    except ImportError:
        raise SystemExit("this benchmark needs z3-solver: pip install z3-solver")
    print(f"z3 {z3.get_version_string()}; question: exists x in the box with |A_o(x) - B_o(x)| > eps\n")
    markdown_header(["network", "N", "pair", "box", "B widths", "eps", "method", "regions A||B", "deviation", "exactrelu s",
                     "z3 s", "exactrelu / z3", "exactrelu says", "z3 says", "agree"])
    totals = {"exact": 0.0, "z3": 0.0, "pairs": 0, "agree": 0}
    for name, widths in NETWORKS.items():
        if (args.only and name != args.only) or (args.quick and not args.only and name not in QUICK):
            continue
        a = random_network(widths, seed=0)
        n = widths[0]
        wide, corner = (Fraction(-2), Fraction(2)), (Fraction(0), Fraction(1, 2))
        gc.collect()  # no collection of an earlier question's garbage inside a timing
        started = time.thread_time()
        pruned = prune(a, Domain.box([corner[0]] * n, [corner[1]] * n)).pruned
        prune_s = time.thread_time() - started
        pairs = [("permuted", permuted(a), Fraction(0), wide), ("rescaled", rescaled(a), Fraction(0), wide),
                 (f"pruned ({prune_s:.1f} s)", pruned, Fraction(0), corner),
                 ("perturbed", perturbed(a), Fraction(0), wide), ("float16", float16(a), TOLERANCE, wide)]
        for label, b, eps, (lo, hi) in pairs:
            domain = Domain.box([lo] * n, [hi] * n)
            exact_s, ans = shortest(lambda: timed(lambda: decide(a, b, domain, tolerance=eps)))
            ours = ans.verdict == "equal"
            z3_s, theirs = shortest(lambda: z3_question(a, b, lo, hi, eps, args.timeout)[::-1])
            agree = "-" if theirs is None else ("yes" if theirs == ours else "NO")
            said = {True: "equal" if eps == 0 else f"<= {eps}", False: "differ" if eps == 0 else f"> {eps}"}
            totals["exact"] += exact_s
            totals["z3"] += z3_s
            totals["pairs"] += 1
            totals["agree"] += agree == "yes"
            regions = len(ans.comparison.enumeration.regions) if ans.comparison is not None else "-"
            markdown_row([name, a.neuron_count, label, f"[{lo}, {hi}]^{n}", "-".join(map(str, b.widths)), eps, ans.method,
                          regions, f"{float(ans.deviation):.3g}", f"{exact_s:.2f}", f"{z3_s:.2f}",
                          ratio(exact_s, z3_s), said[ours],
                          "timeout" if theirs is None else said[theirs], agree])
            if agree == "NO":
                raise SystemExit(f"{name} {label}: exactrelu and z3 disagree")
    if totals["pairs"]:
        print(f"\n{totals['pairs']} pairs, answers agree on {totals['agree']}; total exactrelu {totals['exact']:.1f} s, "
              f"z3 {totals['z3']:.1f} s (a timeout counted at the CPU time it used), ratio {ratio(totals['exact'], totals['z3'])}")
    if args.easy_timeout > 0 and not args.only:
        easy_pairs(args.easy_timeout)


def easy_pairs(timeout: float) -> None:
    """The issue's easy pairs on 2-[16,16,16]-1: the early answer, today's full enumeration, and z3."""
    a = random_network([2, 16, 16, 16, 1], seed=0)
    lo, hi = Fraction(-2), Fraction(2)
    domain = Domain.box([lo, lo], [hi, hi])
    print(f"\neasy pairs on 2-[16,16,16]-1 over [-2, 2]^2 (z3 time limit {timeout:.0f} s)\n")
    markdown_header(["pair", "method", "exactrelu s", "enumeration s (today)", "speed-up", "z3 s", "exactrelu / z3",
                     "exactrelu says", "enumeration says", "z3 says"])
    for label, b in (("permuted + rescaled", permuted(rescaled(a))), ("perturbed", perturbed(a))):
        gc.collect()  # no collection of an earlier question's garbage inside a timing
        started = time.thread_time()
        ans = decide(a, b, domain)
        early = time.thread_time() - started
        gc.collect()  # no collection of an earlier question's garbage inside a timing
        started = time.thread_time()
        full = compare(a, b, domain)
        enum_s = time.thread_time() - started
        theirs, z3_s = z3_question(a, b, lo, hi, Fraction(0), timeout)
        said = {True: "equal", False: "differ", None: "timeout"}
        if full.equal != (ans.verdict == "equal") or (theirs is not None and theirs != full.equal):
            raise SystemExit(f"{label}: the answers disagree")
        markdown_row([label, ans.method, f"{early:.3f}", f"{enum_s:.2f}", f"{enum_s / early:.0f}x", f"{z3_s:.1f}",
                      ratio(early, z3_s), ans.verdict, said[full.equal], said[theirs]])


if __name__ == "__main__":
    main()
