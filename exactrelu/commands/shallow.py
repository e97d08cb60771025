"""``exactrelu shallow``: the three-hidden-layer network and its certificate, written together.

Invariant: the shallow network and its certificate appear together or not at all (one
:class:`~exactrelu.io.output.Outputs`); both outputs are checked (writable, not an input, not the
same file) before the enumeration starts.  A shallow network written to a stream (``-``, a FIFO) is
embedded in the certificate instead of named.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from typing import Iterator

from ..errors import InputError
from .console import Console
from .options import (add_enumeration_options, add_parallel_options, add_pair_options, check_command, domain_binding, domain_inputs,
                      enumerate_with_progress, read_model)

SUMMARY = "build the three-hidden-layer network and its certificate"
EXAMPLE = "exactrelu shallow net.json --box=-1:1 -o shallow.json"


def configure(parser: argparse.ArgumentParser) -> None:
    add_enumeration_options(parser)
    add_parallel_options(parser)
    add_pair_options(parser, "the shallow network (JSON)")
    parser.add_argument("--equation", choices=("flint", "sympy"), default="flint",
                        help="how the producer equates the networks region by region (default flint: fastest, see benchmarks)")
    parser.add_argument("--stream", action="store_true",
                        help="write the certificate as version 3 (JSON Lines), line by line as regions are found, "
                             "keeping only compact data per region (for very many regions; files only; "
                             "with --workers/--scheduler the cluster's parts are written as they arrive)")
    parser.add_argument("--finite", action="store_true",
                        help="write the finite-weight lattice form instead (an ordinary exactrelu-network, deeper, "
                             "deployable), certified equal by a lattice certificate (exactrelu-equivalence)")


def beside(output: str, what: str = "certificate") -> str:
    """The default certificate path beside ``output``: ``X.json`` -> ``X.cert.json``."""
    from ..io.output import STDOUT

    if output == STDOUT:
        raise InputError(f"-o -: give --certificate, the {what}'s path (there is no file to put it beside)")
    return output[:-5] + ".cert.json" if output.endswith(".json") else output + ".cert.json"


def run(args: argparse.Namespace) -> int:
    from ..certificate import equate, relative_name, stream_shallow_certificate
    from ..io.output import STDOUT
    from ..shallow import build_shallow, dumps_shallow

    console = Console(args.quiet)
    cert_path = args.certificate or beside(args.output)
    if args.stream:
        return run_stream(args, cert_path, console)
    if args.finite:
        return run_finite(args, cert_path, console)
    with enumerated(args, cert_path, console) as (outputs, out, cert, e):
        started = time.perf_counter()
        s = build_shallow(e)
        build_seconds = time.perf_counter() - started
        equate(e, s, args.equation)
        out.write(dumps_shallow(s))
        named = out.regular and cert.regular
        stream_shallow_certificate(cert, e, s, relative_name(out.final, cert.final) if named else None)
        outputs.commit()
    result = {
        "shallow": args.output, "certificate": cert_path, "certificate_bytes": cert.size,
        "deep_widths": list(e.network.widths),
        "shallow_widths": [s.input_dim, *s.hidden_widths, s.output_dim],
        "regions": len(e.regions), "full_dimensional": e.full_dimensional,
        "lower_dimensional": e.lower_dimensional, "hyperplanes": s.hyperplanes,
        "infinite_weights": s.infinite_weights, "domain": e.domain.describe(),
        "seconds": round(console.seconds, 3),
        "enumeration_seconds": round(e.seconds, 3), "construction_seconds": round(build_seconds, 3),
    }
    bindings = ["--model", args.model, *(["--shallow", args.output] if named else []), *domain_binding(args, e.domain)]
    say = print if STDOUT not in (args.output, cert_path) else console.warn  # stdout holds a file
    return summarise(result, bindings, args.json, say, f"wrote {args.output} and {cert_path} ({cert.size} bytes)")


@contextlib.contextmanager
def enumerated(args: argparse.Namespace, cert_path: str, console: Console) -> Iterator[tuple]:
    """``(outputs, out, cert, e)``: ``-o`` and the certificate opened as one
    :class:`~exactrelu.io.output.Outputs` (published only by ``outputs.commit()`` in the block), the
    model read and its regions ``e`` enumerated."""
    from ..io.output import Outputs

    with Outputs(inputs=[args.model, *domain_inputs(args)]) as outputs:
        out = outputs.add(args.output)
        cert = outputs.add(cert_path)
        outputs.open()
        loaded = read_model(args.model, args, console)
        yield outputs, out, cert, enumerate_with_progress(args, loaded, console)


def summarise(result: dict, bindings: list, as_json: bool, say, wrote: str) -> int:
    """The run's summary (``result``, as the ``--json`` object or as four lines) and the command
    that checks it with every file bound."""
    check = check_command(result["certificate"], bindings)
    if as_json:
        say(json.dumps({**result, "check": check}, indent=1))
        return 0
    say(f"deep network {'-'.join(map(str, result['deep_widths']))} -> shallow network "
        f"{'-'.join(map(str, result['shallow_widths']))} (three hidden layers, {result['infinite_weights']} infinite weights)")
    say(f"{result['regions']} regions ({result['full_dimensional']} full-dimensional, {result['lower_dimensional']} "
        f"lower-dimensional), {result['hyperplanes']} hyperplanes, over {result['domain']}")
    say(f"{wrote} in {result['seconds']:.2f} s")
    say(f"check it with: {check}")
    return 0


def run_stream(args: argparse.Namespace, cert_path: str, console: Console) -> int:
    """``shallow --stream``: the certificate as version 3, written while the regions are found, and
    the shallow network from compact per-region data; both committed together."""
    from ..certificate import StreamWriter, relative_name
    from ..io.output import Outputs
    from .options import domain_from_args, enumerator

    if args.finite or args.equation != "flint":
        raise InputError("--stream writes the exact-weight form with the default equation: drop --finite, --equation")
    with Outputs(inputs=[args.model, *domain_inputs(args)]) as outputs:
        out = outputs.add(args.output, binary=True)
        cert = outputs.add(cert_path)
        if not (out.regular and cert.regular):
            raise InputError("--stream writes regular files: give -o FILE and a certificate file (not - or a pipe)")
        outputs.open()
        loaded = read_model(args.model, args, console)
        domain = domain_from_args(args, loaded.network.input_dim, loaded)
        writer = StreamWriter(cert, loaded.network, domain, relative_name(out.final, cert.final), cert.overwrite)
        try:  # on a cluster, the merge feeds the writer as the parts arrive, in the serial order
            with enumerator(args) as enumerate_regions:
                e = enumerate_regions(loaded.network, domain, max_regions=args.max_regions, progress=console.progress,
                                      sink=writer)
        finally:
            console.end_progress()
        started = time.perf_counter()
        writer.finish(out)
        write_seconds = time.perf_counter() - started
        outputs.commit()
    s = writer.shallow
    J, K, m = s.hyperplanes, s.regions, s.m
    widths = [s.n, J + 2 * K * m, 2 * J + 2 * K * m, 2 * K * m, m]
    infinite = J + sum(2 * m * (len(a) + len(b)) for a, b in zip(s.strict, s.weak))
    result = {
        "shallow": args.output, "certificate": cert_path, "certificate_bytes": cert.size, "shallow_bytes": out.size,
        "certificate_version": 3, "deep_widths": list(e.network.widths), "shallow_widths": widths,
        "regions": K, "full_dimensional": writer.full, "lower_dimensional": K - writer.full, "hyperplanes": J,
        "infinite_weights": infinite, "domain": e.domain.describe(), "seconds": round(console.seconds, 3),
        "enumeration_seconds": round(e.seconds, 3), "shallow_write_seconds": round(write_seconds, 3),
    }
    bindings = ["--model", args.model, "--shallow", args.output, *domain_binding(args, e.domain)]
    return summarise(result, bindings, args.json, print,
                     f"wrote {args.output} ({out.size} bytes) and {cert_path} (version 3, streamed, {cert.size} bytes)")


def run_finite(args: argparse.Namespace, cert_path: str, console: Console) -> int:
    """``shallow --finite``: the finite-weight lattice form and its lattice certificate, written
    together."""
    from ..finite import certify, stream_finite
    from ..io.output import STDOUT

    with enumerated(args, cert_path, console) as (outputs, out, cert, e):
        form = certify(e)
        stream_finite(form, out, cert)
        outputs.commit()
    net, lattice = form.network, form.lattice
    bindings = ["--model-a", args.model, "--model-b", args.output, *domain_binding(args, e.domain)]
    result = {
        "finite": args.output, "certificate": cert_path, "certificate_bytes": cert.size,
        "deep_widths": list(e.network.widths), "finite_widths": list(net.widths),
        "depth": form.depth, "width": form.width, "parameters": net.parameter_count,
        "regions": len(e.regions), "full_dimensional": e.full_dimensional,
        "distinct_maps": list(form.distinct_maps), "lattice_terms": [len(t) for t in lattice.terms],
        "lattice_lps": lattice.lps, "evidence_lps": form.evidence_lps,
        "domain": e.domain.describe(), "seconds": round(console.seconds, 3),
    }
    say = print if STDOUT not in (args.output, cert_path) else console.warn
    if args.json:
        say(json.dumps({**result, "check": check_command(cert_path, bindings)}, indent=1))
        return 0
    say(f"deep network {'-'.join(map(str, result['deep_widths']))} -> finite network "
        f"{'-'.join(map(str, result['finite_widths']))} ({form.depth} hidden layers, width {form.width}, "
        f"{net.parameter_count} finite rational parameters)")
    say(f"{len(e.regions)} regions over {e.domain.describe()}; distinct maps per output "
        f"{result['distinct_maps']}, lattice terms {result['lattice_terms']}; "
        f"equal on every region of the deep network ({form.evidence_lps} evidence LPs)")
    say(f"wrote {args.output} and {cert_path} ({cert.size} bytes) in {result['seconds']:.2f} s")
    say(f"check it with: {check_command(cert_path, bindings)}")
    return 0
