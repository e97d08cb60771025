"""``exactrelu convert MODEL OUT.ext``: a network written exactly in the format OUT's extension names.

Invariant: the file written denotes exactly the network read (every format's ``encode`` refuses,
naming the layer and entry, a weight it cannot hold exactly); an unknown extension is refused
before the model is read.  ``OUT`` may be ``-`` (exactrelu-network JSON on stdout).
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from ..errors import InputError
from .console import Console
from .options import add_model_options, add_quiet, read_model

SUMMARY = "convert a network exactly to the format OUT's extension names (.json, .npz, .onnx, .pt/.pth, .nnet)"
EXAMPLE = "exactrelu convert model.onnx net.json"
ROUNDING = (".onnx", ".pt", ".pth")  # the float formats whose writers can round to nearest on request


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    add_quiet(parser)
    parser.add_argument("out", help="output file; its extension names the format ('-': JSON on stdout)")
    parser.add_argument("--box", help="for an .nnet output: the input bounds LO:HI,... it states "
                                      "(default: the bounds the input file states)")
    parser.add_argument("--round-to-float64", action="store_true",
                        help="for an .onnx or .pt/.pth output: round every weight to the nearest float64 instead of "
                             "refusing a weight that is not one (the largest change is reported; the file is then "
                             "NOT the exact network)")


def run(args: argparse.Namespace) -> int:
    from ..domain import parse_box
    from ..io import WRITERS, encode_model
    from ..io.output import STDOUT, Outputs

    suffix = ".json" if args.out == STDOUT else Path(args.out).suffix.lower()
    if suffix not in WRITERS:
        raise InputError(f"{args.out}: cannot write the extension {suffix or '(none)'!r}; "
                         f"supported: {', '.join(sorted(WRITERS))}")
    if args.box and suffix != ".nnet":
        raise InputError("--box: only an .nnet output states input bounds")
    if args.round_to_float64 and suffix not in ROUNDING:
        raise InputError(f"--round-to-float64: only an {' or '.join(sorted(ROUNDING))} output rounds")
    console = Console(args.quiet or args.out == STDOUT)
    with Outputs(inputs=[args.model]) as outputs:
        target = outputs.add(args.out, binary=True)
        outputs.open()
        loaded = read_model(args.model, args, console)
        box = parse_box(args.box, loaded.network.input_dim) if args.box else None
        bounds = (box.lower, box.upper) if box is not None else loaded.default_box
        if args.round_to_float64:
            from ..io.layers import float64_error
            from ..rationals import format_rational

            module = importlib.import_module(WRITERS[suffix])
            target.write(module.encode(loaded.network, round_to_nearest=True))
            error = float64_error(loaded.network, suffix[1:])
        else:
            target.write(encode_model(loaded.network, suffix, bounds))
        outputs.commit()
    if args.round_to_float64 and error:
        console.warn(f"note: weights rounded to the nearest float64; largest change {format_rational(error)} "
                     f"(~{float(error):.3g}): {args.out} is not exactly the network of {args.model}")
    exact = "parameters, rounded to float64" if args.round_to_float64 and error else "exact parameters"
    console.note(f"wrote {args.out} ({suffix[1:]}, {loaded.network.parameter_count} {exact})")
    return 0
