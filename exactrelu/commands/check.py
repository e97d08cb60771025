"""``exactrelu check``: the independent checker (:mod:`exactrelu.checker`) on a certificate."""

from __future__ import annotations

import argparse
import json

SUMMARY = "verify a certificate with the independent checker"
EXAMPLE = "exactrelu check shallow.cert.json --model net.json --shallow shallow.json --box=-1:1"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("certificate")
    parser.add_argument("--model", help="the deep network (exactrelu-network JSON) the certificate must be about")
    parser.add_argument("--shallow", help="the shallow network file (default: the one the certificate names)")
    parser.add_argument("--domain", help="a domain file (JSON) the certificate must be about, exactly")
    parser.add_argument("--symbolic", action="store_true", help="also re-derive each region's equality with sympy")
    parser.add_argument("--dump", action="store_true", help="print what the checker parsed")
    parser.add_argument("--json", action="store_true",
                        help='print {"verified": true|false, ...} instead of the verdict line (with the reason and location when not verified)')


def run(args: argparse.Namespace) -> int:
    from .. import checker

    argv = [args.certificate]
    for flag, value in (("--model", args.model), ("--shallow", args.shallow), ("--domain", args.domain)):
        if value:
            argv += [flag, value]
    argv += ["--symbolic"] * args.symbolic + ["--dump"] * args.dump
    if not args.json:
        return checker.main(argv)
    run = checker.Checker(args.certificate, args.model, args.shallow, args.symbolic, args.domain)
    try:
        run.run()
    except checker.CheckFailure as exc:
        print(json.dumps({"verified": False, "location": exc.location, "reason": exc.reason}))
        return 1
    except RecursionError:
        print(json.dumps({"verified": False, "location": "tree", "reason": "nested too deeply"}))
        return 1
    print(json.dumps({"verified": True, **run.stats}))
    return 0
