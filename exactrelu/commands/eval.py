"""``exactrelu eval``: a network (deep or shallow) evaluated exactly at a rational point."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import ExtendedArithmeticError, InputError
from .console import Console
from .options import add_model_options, add_quiet, is_shallow, read_model

SUMMARY = "evaluate a network exactly at a rational point"
EXAMPLE = "exactrelu eval net.json --x 1/2,-3"


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    add_quiet(parser)
    parser.add_argument("--x", required=True, help="the point, comma-separated rationals such as 1/2,-3,0.25")
    parser.add_argument("--json", action="store_true", help='print {"output": ["p/q", ...]}')


def run(args: argparse.Namespace) -> int:
    from ..rationals import format_rational, parse_vector

    x = parse_vector(args.x)
    if is_shallow(args.model):
        from ..shallow import load_shallow

        s = load_shallow(Path(args.model))
        point = s.coerce_point(x, "--x")
        if not s.domain.contains(point):
            Console().warn(f"warning: the point is outside the domain {s.domain.describe()} the shallow network was "
                           "built for; there it equals the deep network only where the point's activation pattern "
                           "occurs in the domain, and is 0 elsewhere")
        try:
            out = s.evaluate(point)
        except ExtendedArithmeticError as exc:
            raise InputError(f"{args.model}: {exc} (the shallow network is malformed)") from None
    else:
        net = read_model(args.model, args).network
        out = net.evaluate(net.coerce_point(x, "--x"))
    texts = [format_rational(v) for v in out]
    print(json.dumps({"output": texts}) if args.json else ",".join(texts))
    return 0
