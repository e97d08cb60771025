"""``exactrelu equiv A B``: exact equivalence and maximum deviation of two networks
(:mod:`exactrelu.equiv`), with a certificate on success."""

from __future__ import annotations

import argparse
import json

from ..errors import InputError
from ..rationals import format_rational
from .console import Console
from .options import (add_budget, add_domain_options, add_model_options, add_quiet, check_command, domain_binding,
                      domain_from_args, domain_inputs, is_shallow, read_model)

SUMMARY = "decide whether two networks are equal on a domain, exactly (the exact maximum deviation with --max-deviation)"
EXAMPLE = "exactrelu equiv a.json b.onnx --box=-1:1 --certificate equiv.cert.json"


def configure(parser: argparse.ArgumentParser) -> None:
    from ..equiv import NORMS

    parser.add_argument("a", metavar="A", help="first network (.json, .npz, .onnx, .pt/.pth, .nnet)")
    parser.add_argument("b", metavar="B", help="second network (any of the same formats)")
    add_model_options(parser, positional=None)
    add_domain_options(parser)
    parser.add_argument("--tolerance", metavar="EPS",
                        help="succeed (exit 0) iff the maximum deviation is <= EPS (an exact rational), and certify it")
    parser.add_argument("--norm", choices=NORMS, default="inf", help="norm of A(x) - B(x) (default inf)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--certificate", metavar="PATH",
                        help="write an exactrelu-equivalence certificate of the answer to PATH: equal, or differ at an exact point (with --max-deviation: "
                             "of the exact maximum deviation, also when A and B differ, unless it is unbounded "
                             "or over the tolerance)")
    early = parser.add_mutually_exclusive_group()
    early.add_argument("--early", dest="early", action="store_true", default=True,
                       help="(the default) answer from the first proof: a structural mapping (permuted, positively "
                            "rescaled, dead or duplicate neurons), a counterexample found by a float search and confirmed "
                            "exactly, else the enumeration, which stops at the first region whose exact maximum deviation "
                            "exceeds the tolerance (a 'differ' answer's deviation is then a lower bound of the maximum)")
    early.add_argument("--no-early", "--max-deviation", dest="early", action="store_false",
                       help="enumerate every region of A||B and report the exact maximum deviation and a point attaining it")
    add_budget(parser)
    add_quiet(parser)


def _fmt_vec(values) -> str:
    return "[" + ", ".join(format_rational(v) for v in values) + "]"


def run(args: argparse.Namespace) -> int:
    from ..equiv import check_compatible, compare, equivalence_header, stream_equivalence_certificate
    from ..io.output import STDOUT, Outputs
    from ..rationals import parse_rational

    console = Console(args.quiet or args.json)
    tolerance = None
    if args.tolerance is not None:
        tolerance = parse_rational(args.tolerance, "--tolerance")
        if tolerance < 0:
            raise InputError("--tolerance: must be >= 0")
    with Outputs(inputs=[args.a, args.b, *domain_inputs(args)]) as outputs:
        cert = outputs.add(args.certificate) if args.certificate else None
        outputs.open()
        for name, path in (("A", args.a), ("B", args.b)):
            if is_shallow(path):
                raise InputError(f"{path}: is a shallow (extended-real) network; equiv compares ReLU networks ({name})")
        la, lb = read_model(args.a, args, console), read_model(args.b, args, console)
        check_compatible(la.network, lb.network, (f"A ({args.a})", f"B ({args.b})"))
        domain = domain_from_args(args, la.network.input_dim, la, lb)
        if args.early:
            return run_early(args, la.network, lb.network, tolerance, domain, console, outputs, cert)
        try:
            result = compare(la.network, lb.network, domain, norm=args.norm, max_regions=args.max_regions,
                             progress=console.progress)
        finally:
            console.end_progress()
        if tolerance is None:
            success = result.equal
        else:
            success = not result.unbounded and result.max_deviation <= tolerance
        written = None
        # The claim certified is the exact maximum deviation (at most the tolerance, if given): it holds
        # whenever the maximum is finite and within the tolerance, A = B or not.
        certified = not result.unbounded and (tolerance is None or result.max_deviation <= tolerance)
        if cert is not None and certified:
            stream_equivalence_certificate(cert, result, equivalence_header(result, tolerance))
            outputs.commit()
            written, size = args.certificate, cert.size
    say = print if written != STDOUT else console.warn  # stdout holds the certificate
    bindings = ["--model-a", args.a, "--model-b", args.b, *domain_binding(args, domain)]
    summary = {
        "equal": result.equal,
        "counterexample": None if result.counterexample is None else [format_rational(v) for v in result.counterexample],
        "outputs": None if result.counterexample is None else
        {k: [format_rational(v) for v in vs] for k, vs in result.outputs.items()},
        "max_deviation": None if result.unbounded else format_rational(result.max_deviation),
        "argmax": None if result.argmax is None else [format_rational(v) for v in result.argmax],
        "norm": args.norm,
        "unbounded": result.unbounded,
        "attained": not result.unbounded,
        "per_output": None if result.per_output is None else
        [{"max_deviation": format_rational(v), "argmax": [format_rational(t) for t in at]} for v, at in result.per_output],
        "tolerance": None if tolerance is None else format_rational(tolerance),
        "within_tolerance": None if tolerance is None else success,
        "regions": len(result.enumeration.regions),
        "identical_regions": result.identical_regions,
        "lps": result.lps,
        "domain": domain.describe(),
        "certificate": written,
        "check": None if written is None else check_command(written, bindings),
        "seconds": round(result.seconds, 3),
    }
    if args.json:
        say(json.dumps(summary, indent=1))
    else:
        norm = "inf-norm" if args.norm == "inf" else "1-norm"
        say(f"A {args.a} ({'-'.join(map(str, la.network.widths))}) vs B {args.b} "
              f"({'-'.join(map(str, lb.network.widths))}) over {domain.describe()}: "
              f"{len(result.enumeration.regions)} regions of A||B, {result.lps} LPs, {result.seconds:.2f} s")
        if result.equal:
            say("EQUAL: A(x) = B(x) at every point of the domain (exactly)")
        else:
            say(f"NOT EQUAL: counterexample x = {_fmt_vec(result.counterexample)}")
            say(f"  A(x) = {_fmt_vec(result.outputs['A'])}")
            say(f"  B(x) = {_fmt_vec(result.outputs['B'])}")
        if result.unbounded:
            say(f"max deviation ({norm}): unbounded (|A - B| grows without bound on {domain.describe()})")
        else:
            v = result.max_deviation
            say(f"max deviation ({norm}): {format_rational(v)} (~{float(v):.6g}), attained at x = {_fmt_vec(result.argmax)}")
            if result.per_output is not None and len(result.per_output) > 1:
                for o, (vo, _) in enumerate(result.per_output):
                    say(f"  output {o}: max |A_{o} - B_{o}| = {format_rational(vo)} (~{float(vo):.6g})")
        if tolerance is not None:
            verdict = "WITHIN" if success else "NOT WITHIN"
            say(f"{verdict} TOLERANCE {format_rational(tolerance)}")
        if written:
            say(f"wrote {written} ({size} bytes); check it with: {check_command(written, bindings)}")
        elif args.certificate:
            why = "the deviation is unbounded on the domain" if result.unbounded else "the maximum deviation exceeds the tolerance"
            console.note(f"note: no certificate written: {why}")
    return 0 if success else 1


def run_early(args: argparse.Namespace, a, b, tolerance, domain, console: Console, outputs, cert) -> int:
    """``equiv`` (``--early``, the default): :func:`exactrelu.equiv.decide` (structural, then a
    confirmed float counterexample, then the enumeration up to the first region over the tolerance),
    printed, and its certificate: of ``A = B`` (or within the tolerance), or of ``differ`` at the
    exact point whose deviation exceeds the tolerance."""
    from ..equiv import ZERO, answer_certificate_text, decide

    tolerance = tolerance or ZERO
    try:
        ans = decide(a, b, domain, tolerance=tolerance, norm=args.norm, max_regions=args.max_regions,
                     progress=console.progress)
    finally:
        console.end_progress()
    success = ans.verdict == "equal"
    written = None
    shown = success or (ans.deviation is not None and ans.deviation > tolerance)  # a differ claim the checker re-proves
    if cert is not None and shown:
        cert.write(answer_certificate_text(ans))
        outputs.commit()
        written = args.certificate
    from ..io.output import STDOUT

    say = print if written != STDOUT else console.warn  # stdout holds the certificate
    bindings = ["--model-a", args.a, "--model-b", args.b, *domain_binding(args, domain)]
    summary = {"verdict": ans.verdict, "method": ans.method, "norm": args.norm,
               "tolerance": format_rational(tolerance),
               "point": None if ans.point is None else [format_rational(v) for v in ans.point],
               "deviation": None if ans.deviation is None else format_rational(ans.deviation),
               "deviation_is": "maximum" if ans.method == "enumeration" else
               ("lower bound" if ans.verdict == "differ" else "maximum (A = B)"),
               "certificate": written, "seconds": round(ans.seconds, 3),
               "check": check_command(written, bindings) if written else None}
    if args.json:
        say(json.dumps(summary, indent=1))
    else:
        word = "EQUAL" if success and not tolerance else "WITHIN TOLERANCE" if success else "DIFFER"
        say(f"{word} ({ans.method}, {ans.seconds:.2f} s)")
        if ans.point is not None and not success:
            say(f"  at x = {_fmt_vec(ans.point)}: ||A(x) - B(x)|| = {format_rational(ans.deviation)} "
                  f"(~{float(ans.deviation):.6g}), {summary['deviation_is']} of the maximum deviation")
        if written:
            say(f"wrote {written} ({cert.size} bytes); check it with: {check_command(written, bindings)}")
    return 0 if success else 1
