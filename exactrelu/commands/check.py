"""``exactrelu check``: the independent checker (:mod:`exactrelu.checker`) on a certificate.

The checker reads exactrelu JSON only; this command also accepts the other model formats for the
networks it binds, converts them with exactrelu's loaders and says so on stderr: that conversion
lies outside the checker's trusted base.
"""

from __future__ import annotations

import argparse
import json
import sys

SUMMARY = "verify a certificate with the independent checker"
EXAMPLE = "exactrelu check shallow.cert.json --model net.json --shallow shallow.json --box=-1:1"


def configure(parser: argparse.ArgumentParser) -> None:
    from ..checker import add_binding_options

    parser.add_argument("certificate")
    add_binding_options(parser)
    parser.add_argument("--nnet-normalized", action="store_true",
                        help="read a bound .nnet network in its normalised coordinates (as its ONNX export and "
                             "VNN-LIB properties are) instead of raw units before comparing it")
    parser.add_argument("--json", action="store_true",
                        help='print {"verified": true|false, ...} instead of the verdict line (with the reason and location when not verified)')


def run(args: argparse.Namespace) -> int:
    from .. import checker
    from ..errors import InputError
    from ..io import load_model

    converted = {}
    for name in ("model", "model_a", "model_b", "pruned"):
        path = getattr(args, name)
        if path is not None and not path.lower().endswith(".json"):
            converted[name] = (path, load_model(path, nnet_normalized=args.nnet_normalized).network.to_dict())
            print(f"c note: {path} was converted to exact JSON by exactrelu's loaders, which are outside "
                  "the checker's trusted base", file=sys.stderr)
    try:
        check = checker.checker_from_args(args, **converted)
    except checker.UsageError as exc:
        raise InputError(str(exc)) from None
    if not args.json:
        return checker.report(check, args.dump)
    try:
        check.run()
    except (checker.CheckFailure, RecursionError) as exc:
        location, reason = (exc.location, exc.reason) if isinstance(exc, checker.CheckFailure) else ("tree", "nested too deeply")
        print(json.dumps({"verified": False, "location": location, "reason": reason, "kind": check.kind,
                          "bindings": _bindings(check)}))
        return 1
    print(json.dumps({"verified": True, "kind": check.kind, "bindings": _bindings(check), **check.stats}))
    return 0


def _bindings(check) -> list:
    return [{"what": what, "id": ident, "status": status} for what, ident, status in check.bindings]
