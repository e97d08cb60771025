"""``exactrelu plot``: the exact region polygons of a 2-input network (or a 2-D slice) as a PNG
(:mod:`exactrelu.plot`)."""

from __future__ import annotations

import argparse
import io

from ..errors import InputError
from ..rationals import format_rational
from .console import Console
from .options import add_budget, add_domain_options, add_model_options, add_quiet, domain_from_args, domain_inputs, positive_int, read_model

SUMMARY = "draw the exact region polygons of a 2-input network (or a 2-D slice) as a PNG"
EXAMPLE = "exactrelu plot net.json --box=-2:2 -o regions.png"


def configure(parser: argparse.ArgumentParser) -> None:
    from ..plot import DEFAULT_BOX, MAX_DPI

    parser.add_argument("model", help="network file (.json, .npz, .onnx, .pt/.pth, .nnet)")
    parser.add_argument("-o", "--output", required=True, help="the image file to write (PNG)")
    add_domain_options(parser,
                       box_help=f"box LO:HI,LO:HI,... over all inputs (default {DEFAULT_BOX[0]}:{DEFAULT_BOX[1]} "
                                "for the plotted ones, or the NNet bounds)",
                       domain_help="domain file: JSON box or bounded polytope, or VNN-LIB input constraints")
    parser.add_argument("--slice", help="for more than 2 inputs: fix all but two, e.g. x3=0,x4=1/2")
    parser.add_argument("--no-heatmap", action="store_true", help="draw the regions only")
    parser.add_argument("--no-boundary", action="store_true", help="do not draw the decision boundary")
    parser.add_argument("--heat-output", type=positive_int, metavar="K",
                        help="heat map of output K (1-based; default: the output, or the predicted class)")
    add_budget(parser)
    parser.add_argument("--dpi", type=positive_int, default=120, help=f"resolution of the image (default 120, at most {MAX_DPI})")
    parser.add_argument("--patterns", action="store_true",
                        help="label each region with its activation pattern as well as its number, where it fits")
    add_model_options(parser, positional=None)
    add_quiet(parser, "no notes on stderr")


def run(args: argparse.Namespace) -> int:
    from ..domain import Domain
    from ..io.output import Outputs
    from ..plot import DEFAULT_BOX, load_matplotlib, parse_slice, plot_regions, slice_domain, slice_network

    console = Console(args.quiet)
    load_matplotlib()  # fail early, before any enumeration, if the extra is missing
    with Outputs(inputs=[args.model, *domain_inputs(args)]) as outputs:
        image = outputs.add(args.output, binary=True)
        outputs.open()
        loaded = read_model(args.model, args, console)
        net = loaded.network
        n = net.input_dim
        if n < 2:
            raise InputError(f"{args.model}: plot needs a network with at least 2 inputs; this one has {n}")
        if n > 2 and not args.slice:
            example = ",".join(f"x{i}=0" for i in range(3, n + 1))
            raise InputError(f"{args.model}: the network has {n} inputs; give --slice fixing all but two, e.g. --slice {example}")
        if n == 2 and args.slice:
            raise InputError("--slice: the network has 2 inputs; there is nothing to fix")
        heat = None
        if args.heat_output is not None:
            if not 1 <= args.heat_output <= net.output_dim:
                raise InputError(f"--heat-output: the network has outputs 1..{net.output_dim}")
            heat = args.heat_output - 1
        domain = domain_from_args(args, n, loaded)
        names = [f"x{i + 1}" for i in range(n)]
        title = None
        if args.slice:
            fixed = parse_slice(args.slice, n)
            net, free = slice_network(net, fixed)
            domain = slice_domain(domain, fixed, free)
            names = [f"x{i + 1}" for i in free]
            title = "slice " + ", ".join(f"x{i + 1}={format_rational(v)}" for i, v in sorted(fixed.items()))
        if domain.kind == "reals":
            domain = Domain.box([DEFAULT_BOX[0]] * 2, [DEFAULT_BOX[1]] * 2, "default plot box")
            console.note(f"note: no bounded domain given: plotting {domain.describe()} (give --box to change it)")
        buffer = io.BytesIO()
        result = plot_regions(net, domain, buffer, heatmap=not args.no_heatmap, boundary=not args.no_boundary,
                              heat_output=heat, names=names, title=title, max_regions=args.max_regions, dpi=args.dpi,
                              patterns=args.patterns)
        image.write(buffer.getvalue())
        outputs.commit()
    print(f"wrote {args.output}: {len(result.polygons)} regions ({result.full_dimensional} polygons, "
          f"{result.lower_dimensional} lower-dimensional) over {domain.describe()}"
          + (f" ({title})" if title else "")
          + f"; exact polygon areas sum to {format_rational(result.total_area)}"
          + " = the domain's area"
          + (f"; {result.boundary_segments} decision-boundary segments" if result.boundary_segments else ""))
    return 0
