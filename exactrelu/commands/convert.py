"""``exactrelu convert MODEL OUT.ext``: a network written exactly in the format OUT's extension names.

Invariant: the file written denotes exactly the network read (every format's ``encode`` refuses,
naming the layer and entry, a weight it cannot hold exactly); an unknown extension is refused
before the model is read.  ``OUT`` may be ``-`` (exactrelu-network JSON on stdout).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InputError
from .console import Console
from .options import add_model_options, add_quiet, read_model

SUMMARY = "convert a network exactly to the format OUT's extension names (.json, .npz, .onnx, .pt/.pth, .nnet)"
EXAMPLE = "exactrelu convert model.onnx net.json"


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    add_quiet(parser)
    parser.add_argument("out", help="output file; its extension names the format ('-': JSON on stdout)")
    parser.add_argument("--box", help="for an .nnet output: the input bounds LO:HI,... it states "
                                      "(default: the bounds the input file states)")


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
    console = Console(args.quiet or args.out == STDOUT)
    with Outputs(inputs=[args.model]) as outputs:
        target = outputs.add(args.out, binary=True)
        outputs.open()
        loaded = read_model(args.model, args, console)
        box = parse_box(args.box, loaded.network.input_dim) if args.box else None
        bounds = (box.lower, box.upper) if box is not None else loaded.default_box
        target.write(encode_model(loaded.network, suffix, bounds))
        outputs.commit()
    console.note(f"wrote {args.out} ({suffix[1:]}, {loaded.network.parameter_count} exact parameters)")
    return 0
