"""``exactrelu report CERT -o proof.md``: a human-readable proof from a certificate.

The proof and its picture (``<name>.regions.png``, for a 2-input network over a bounded domain when
matplotlib is installed) are written together by one :class:`~exactrelu.io.output.Outputs`.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from .console import Console
from .options import add_quiet

SUMMARY = "write a human-readable proof from a certificate"
EXAMPLE = "exactrelu report shallow.cert.json -o proof.md"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("certificate")
    parser.add_argument("-o", "--output", required=True, help="where to write the proof (Markdown, or LaTeX with --latex)")
    parser.add_argument("--latex", action="store_true", help="write a LaTeX document instead of Markdown")
    parser.add_argument("--no-picture", action="store_true",
                        help="no picture of the regions (by default drawn for 2-input networks on a bounded domain, "
                             "when matplotlib is installed)")
    add_quiet(parser, "no notes on stderr")


def plan_proof(outputs, out_path: str, network, domain, picture: bool = True):
    """Add the proof (and, when one is drawn, its picture) to ``outputs``; return the proof's target,
    the picture's target and the picture's name (or ``None``, ``None``)."""
    text = outputs.add(out_path)
    if not (picture and text.regular and network.input_dim == 2 and domain.kind != "reals"):
        return text, None, None
    try:
        from ..plot import load_matplotlib

        load_matplotlib()
    except ImportError:  # the plotting extra is not installed
        return text, None, None
    name = Path(out_path).with_suffix("").name + ".regions.png"
    return text, outputs.add(Path(out_path).parent / name, binary=True), name


def render_proof(cert: dict, network, domain, latex: bool, text, image, name) -> int:
    """Draw the picture (if planned) and render the proof into the targets of :func:`plan_proof`;
    return the proof's length in characters."""
    from ..report import render_certificate

    if image is not None:
        from ..plot import plot_regions

        buffer = io.BytesIO()
        plot_regions(network, domain, buffer)
        image.write(buffer.getvalue())
    proof = render_certificate(cert, network, domain, latex, name)
    text.write(proof)
    return len(proof)


def run(args: argparse.Namespace) -> int:
    from ..io.output import Outputs
    from ..report import read_certificate

    with Outputs(inputs=[args.certificate]) as outputs:
        cert, network, domain = read_certificate(args.certificate)
        text, image, name = plan_proof(outputs, args.output, network, domain, not args.no_picture)
        outputs.open()
        size = render_proof(cert, network, domain, args.latex, text, image, name)
        outputs.commit()
    Console(args.quiet).note(f"wrote {args.output} ({size} characters)")
    return 0
