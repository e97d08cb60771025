"""``exactrelu verify MODEL PROPERTY.vnnlib``: answer a VNN-LIB property exactly.

Exit codes: 0 holds, 1 violated, 3 unknown (time or region budget), 2 bad input.  The mathematics
is in :mod:`exactrelu.verify`; this module reads the files, prints, and writes the certificate and
the VNN-COMP result file.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
from fractions import Fraction
from pathlib import Path

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
    add_quiet(parser)
    add_parallel_options(parser)


def smt_value(q: Fraction) -> str:
    """A rational as a VNN-COMP result value: a decimal when it is one, else ``(/ p q)``.

    >>> smt_value(Fraction(-3, 8)), smt_value(Fraction(5)), smt_value(Fraction(1, 3))
    ('-0.375', '5', '(/ 1 3)')
    """
    d, twos, fives = q.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return f"(/ {q.numerator} {q.denominator})"
    digits = max(twos, fives)
    scaled = abs(q.numerator) * 10 ** digits // q.denominator
    whole, frac = divmod(scaled, 10 ** digits)
    text = str(whole) + ("." + str(frac).rjust(digits, "0").rstrip("0") if digits else "")
    return ("-" if q < 0 else "") + text


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
    from ..io.output import Outputs
    from ..rationals import format_rational
    from ..verify import stream_property_certificate, verify_property
    from ..vnnlib import parse_property
    from .console import Console
    from .options import check_command, cluster, read_model, warn_outside_bounds

    console = Console(args.quiet)
    if args.timeout is not None and not args.timeout > 0:
        raise InputError(f"--timeout: {args.timeout} is not a positive number of seconds")
    with Outputs(inputs=[args.model, args.property]) as outputs:
        cert = outputs.add(args.certificate) if args.certificate else None
        results = outputs.add(args.results) if args.results else None
        outputs.open()
        try:
            raw = Path(args.property).read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PropertyError(f"{args.property}: cannot read property: {exc}") from None
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
    q = format_rational
    counts = f"{verdict.regions} regions, {verdict.nodes} tree nodes, {verdict.lps} LPs, {verdict.seconds:.2f} s"
    if args.early:
        counts = f"{verdict.closed} subproblems closed early, " + counts
    if verdict.status == "holds":
        print(f"holds: no input of the {len(prop.input_sets)} input set(s) reaches any of the {len(prop.unsafe)} "
              f"unsafe disjunct(s) ({counts})")
    elif verdict.status == "violated":
        c = verdict.counterexample
        how = "the float attack proposed it" if c.found_by == "attack" else "an exact LP over one region found it"
        print(f"violated: an input of input set {c.input_set} reaches unsafe disjunct {c.disjunct} "
              f"({how}; confirmed by exact evaluation)")
        for i, v in enumerate(c.x):
            print(f"  X_{i} = {q(v)}")
        for j, v in enumerate(c.y):
            print(f"  Y_{j} = {q(v)}")
    else:
        print(f"unknown: {verdict.reason} ({counts}); nothing is claimed")
    if cert is not None and verdict.status != "unknown":
        print(f"wrote {args.certificate} ({cert.size} bytes); check it with: "
              f"{check_command(args.certificate, ['--model', args.model, '--property', args.property])}")
    elif cert is not None:
        console.note("note: no certificate for an unknown answer; nothing was written to " + args.certificate)
    return EXIT[verdict.status]
