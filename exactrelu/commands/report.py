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
    for option, what in (("--model", "the deep network (shallow certificate) or the original (prune certificate)"),
                         ("--shallow", "the shallow network"), ("--model-a", "network A (equivalence certificate)"),
                         ("--model-b", "network B (equivalence certificate)"), ("--pruned", "the pruned network"),
                         ("--domain", "the domain file")):
        parser.add_argument(option, metavar="FILE", help=f"{what}: the checker verifies the certificate against it first")
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


def render_proof(verified, latex: bool, text, image, name, base: Path) -> int:
    """Draw the picture (if planned) and render the proof of the verified certificate into the
    targets of :func:`plan_proof`; return the proof's length in characters."""
    from ..report import render_verified

    if image is not None:
        from ..plot import plot_regions

        buffer = io.BytesIO()
        plot_regions(verified.networks["deep"], verified.domain, buffer)
        image.write(buffer.getvalue())
    proof = render_verified(verified, latex, name, base)
    text.write(proof)
    return len(proof)


def run(args: argparse.Namespace) -> int:
    from ..io.output import Outputs
    from ..report import read_certificate

    files = {name: getattr(args, name) for name in ("model", "shallow", "model_a", "model_b", "pruned", "domain")}
    with Outputs(inputs=[args.certificate, *(f for f in files.values() if f)]) as outputs:
        verified = read_certificate(args.certificate, files)
        if verified.shallow_path is not None:  # the shallow file the certificate names is an input too
            outputs.inputs.append(str(verified.shallow_path))
        deep = verified.networks.get("deep")
        picture = not args.no_picture and deep is not None
        text, image, name = plan_proof(outputs, args.output, deep, verified.domain, picture)
        outputs.open()
        size = render_proof(verified, args.latex, text, image, name, Path(args.output).parent)
        outputs.commit()
    Console(args.quiet).note(f"wrote {args.output} ({size} characters)")
    return 0
