"""``exactrelu regions``: every activation region of a network over a domain, exactly."""

from __future__ import annotations

import argparse
import json

from .console import Console
from .options import add_enumeration_options, add_parallel_options, domain_inputs, enumerate_with_progress, read_model

SUMMARY = "enumerate every activation region exactly"
EXAMPLE = "exactrelu regions net.json --box=-2:2 --json regions.json"


def configure(parser: argparse.ArgumentParser) -> None:
    add_enumeration_options(parser)
    add_parallel_options(parser)
    parser.add_argument("--json", metavar="OUT", help="write every region to OUT as JSON ('-' for stdout)")


def region_item(region) -> dict:
    from ..rationals import format_rational as q

    return {
        "pattern": [[int(b) for b in layer] for layer in region.pattern],
        "full_dimensional": region.full_dimensional,
        "witness": [q(v) for v in region.witness],
        "conditions": [{"w": [q(a) for a in w], "b": q(b), "rel": ">" if on else "<="}
                       for (w, b), on in zip(region.preactivations, region.flat_pattern)],
        "alpha": [[q(v) for v in row] for row in region.alpha],
        "beta": [q(v) for v in region.beta],
    }


def run(args: argparse.Namespace) -> int:
    from ..io.output import STDOUT, Outputs

    console = Console(args.quiet or args.json == STDOUT)
    with Outputs(inputs=[args.model, *domain_inputs(args)]) as outputs:
        target = outputs.add(args.json) if args.json else None
        outputs.open()
        loaded = read_model(args.model, args, console)
        e = enumerate_with_progress(args, loaded, console)
        summary = {"regions": len(e.regions), "full_dimensional": e.full_dimensional,
                   "lower_dimensional": e.lower_dimensional}
        if target is not None:
            target.write(json.dumps({**summary, "domain": e.domain.to_dict(), "nodes": e.nodes, "lps": e.lps,
                                     "items": [region_item(r) for r in e.regions]}, indent=1) + "\n")
            outputs.commit()
    if args.json == STDOUT:
        return 0
    print(f"{len(e.regions)} regions ({e.full_dimensional} full-dimensional, {e.lower_dimensional} lower-dimensional) "
          f"over {e.domain.describe()}; {e.nodes} tree nodes, {e.lps} LPs, {e.seconds:.2f} s")
    return 0
