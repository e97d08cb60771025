"""``exactrelu verify MODEL PROPERTY.vnnlib``: answer a VNN-LIB property exactly.

Exit codes: 0 holds, 1 violated, 3 unknown (time or region budget), 2 bad input.  The mathematics
is in :mod:`exactrelu.verify`; this module reads the files, prints, and writes the certificate and
the VNN-COMP result file.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
from fractions import Fraction

from ..errors import InputError, PropertyError

SUMMARY = "answer a VNN-LIB property exactly: holds (with a certificate), violated (an exact input), or unknown"
EXAMPLE = "exactrelu verify net.onnx prop.vnnlib --timeout 60 --certificate prop.cert.json --results out.txt"
EXIT = {"holds": 0, "violated": 1, "unknown": 3}


def configure(parser: argparse.ArgumentParser) -> None:
    from .options import add_model_options, add_parallel_options, add_quiet, positive_int

    add_model_options(parser)
    parser.add_argument("property", help="VNN-LIB 1.0 property file (input set, unsafe output set)")
    parser.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds (answer unknown, exit 3)")
    parser.add_argument("--max-regions", type=positive_int, metavar="N",
                        help="give up beyond N regions over all input sets (answer unknown, exit 3)")
    parser.add_argument("--early", action="store_true",
                        help="close subproblems early by exact relaxations (box input sets; needs scipy) instead of "
                             "enumerating every region")
    parser.add_argument("--certificate", metavar="C", help="write the exactrelu-property certificate of the answer to C")
    parser.add_argument("--results", metavar="FILE", help="write the VNN-COMP result file (sat/unsat/timeout/unknown)")
    parser.add_argument("--json", action="store_true",
                        help="print the answer as JSON (the counterexample's rationals as \"p/q\" strings)")
    add_quiet(parser)
    add_parallel_options(parser)


def smt_value(q: Fraction) -> str:
    """A rational as a VNN-COMP result value: a decimal when it is one, else ``(/ p q)``.

    >>> smt_value(Fraction(-3, 8)), smt_value(Fraction(5)), smt_value(Fraction(1, 3))
    ('-0.375', '5', '(/ 1 3)')
    """
    from ..rationals import decimal_text

    text = decimal_text(q)
    return f"(/ {q.numerator} {q.denominator})" if text is None else text


def results_text(verdict) -> str:
    """The VNN-COMP result file of a verdict."""
    if verdict.status == "holds":
        return "unsat\n"
    if verdict.status == "violated":
        c = verdict.counterexample
        pairs = [f"(X_{i} {smt_value(v)})" for i, v in enumerate(c.x)] + [f"(Y_{j} {smt_value(v)})" for j, v in enumerate(c.y)]
        return "sat\n(" + "\n ".join(pairs) + ")\n"
    return "timeout\n" if verdict.reason.startswith("time limit") else "unknown\n"


def run(args: argparse.Namespace) -> int:
    from ..io import read_text
    from ..io.output import STDOUT, Outputs
    from ..verify import stream_property_certificate, verify_property
    from ..vnnlib import parse_property
    from .console import Console
    from .options import check_command, cluster, read_model, warn_outside_bounds

    console = Console(args.quiet or args.json)
    if args.timeout is not None and not args.timeout > 0:
        raise InputError(f"--timeout: {args.timeout} is not a positive number of seconds")
    with Outputs(inputs=[args.model, args.property]) as outputs:
        cert = outputs.add(args.certificate) if args.certificate else None
        results = outputs.add(args.results) if args.results else None
        outputs.open()
        text, raw = read_text(args.property, "property", PropertyError)
        prop = parse_property(text, args.property)
        loaded = read_model(args.model, args, console)
        network = loaded.network
        for k, input_set in enumerate(prop.input_sets):
            warn_outside_bounds(console, input_set, loaded, f"input set {k}: ")
        try:
            with cluster(args) as client:
                parallel = {}
                if client is not None:  # the prover's subproblems and the enumerations on the cluster
                    from ..parallel import enumerate_parallel
                    from ..prover import prove_parallel

                    parallel = dict(enumerator=functools.partial(enumerate_parallel, client=client),
                                    prover=functools.partial(prove_parallel, client=client))
                verdict = verify_property(network, prop, timeout=args.timeout, max_regions=args.max_regions,
                                          progress=console.progress, early=args.early, **parallel)
        finally:
            console.end_progress()
        if results is not None:
            results.write(results_text(verdict))
        if cert is not None and verdict.status != "unknown":
            stream_property_certificate(cert, verdict, hashlib.sha256(raw).hexdigest())
        elif cert is not None:
            outputs.drop(cert)
        outputs.commit()
    written = args.certificate if cert is not None and verdict.status != "unknown" else None
    check = None if written is None else check_command(written, ["--model", args.model, "--property", args.property])
    # stdout may hold the certificate or the result file ('-'): then the summary goes to stderr
    say = console.warn if STDOUT in (written, args.results) else print
    if args.json:
        say(json.dumps(summary(verdict, prop, args.early, written, None if written is None else cert.size, check,
                               args.results), indent=1))
    else:
        say_verdict(say, verdict, prop, args.early)
        if written is not None:
            say(f"wrote {written} ({cert.size} bytes); check it with: {check}")
    if cert is not None and written is None:
        console.note("note: no certificate for an unknown answer; nothing was written to " + args.certificate)
    return EXIT[verdict.status]


def counts_text(verdict, early: bool) -> str:
    counts = f"{verdict.regions} regions, {verdict.nodes} tree nodes, {verdict.lps} LPs, {verdict.seconds:.2f} s"
    return f"{verdict.closed} subproblems closed early, " + counts if early else counts


def say_verdict(say, verdict, prop, early: bool) -> None:
    """The answer as lines of text (the counterexample coordinate by coordinate, exactly)."""
    from ..rationals import format_rational as q

    if verdict.status == "holds":
        say(f"holds: no input of the {len(prop.input_sets)} input set(s) reaches any of the {len(prop.unsafe)} "
            f"unsafe disjunct(s) ({counts_text(verdict, early)})")
    elif verdict.status == "violated":
        c = verdict.counterexample
        how = "the float attack proposed it" if c.found_by == "attack" else "an exact LP over one region found it"
        say(f"violated: an input of input set {c.input_set} reaches unsafe disjunct {c.disjunct} "
            f"({how}; confirmed by exact evaluation)")
        for i, v in enumerate(c.x):
            say(f"  X_{i} = {q(v)}")
        for j, v in enumerate(c.y):
            say(f"  Y_{j} = {q(v)}")
    else:
        say(f"unknown: {verdict.reason} ({counts_text(verdict, early)}); nothing is claimed")


def summary(verdict, prop, early: bool, certificate, size, check, results) -> dict:
    """The ``--json`` object of an answer: every rational an exact ``"p/q"`` string, every count;
    ``null`` where a field does not apply (no counterexample, no certificate, not ``--early``)."""
    from ..rationals import format_rational as q

    c = verdict.counterexample
    return {
        "answer": verdict.status,
        "counterexample": None if c is None else {
            "x": [q(v) for v in c.x], "y": [q(v) for v in c.y], "input_set": c.input_set,
            "unsafe_disjunct": c.disjunct, "found_by": c.found_by},
        "reason": verdict.reason if verdict.status == "unknown" else None,
        "input_sets": len(prop.input_sets), "unsafe_disjuncts": len(prop.unsafe),
        "regions": verdict.regions, "tree_nodes": verdict.nodes, "lps": verdict.lps,
        "attack_points": verdict.attack_points,
        "closed_early": verdict.closed if early else None, "open_subproblems": verdict.open if early else None,
        "seconds": round(verdict.seconds, 3),
        "certificate": certificate, "certificate_bytes": size, "check": check, "results": results,
    }
