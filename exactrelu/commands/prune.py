"""``exactrelu prune MODEL -o PRUNED.json``: exact, lossless pruning (:mod:`exactrelu.prune`) with
an equivalence certificate; the pruned network and the certificate are written together."""

from __future__ import annotations

import argparse
import json
import time

from .console import Console
from .options import (add_enumeration_options, add_pair_options, check_command, domain_binding, domain_from_args,
                      domain_inputs, read_model)
from .shallow import beside

SUMMARY = "remove neurons that never fire and fold layers that are affine on the domain, exactly, with a certificate"
EXAMPLE = "exactrelu prune net.json --box=-1:1 -o pruned.json"


def configure(parser: argparse.ArgumentParser) -> None:
    add_enumeration_options(parser)
    add_pair_options(parser, "the pruned network (exactrelu-network JSON)")


def _names(neurons) -> str:
    return ", ".join(f"L{l}.{i}" for l, i in neurons) or "none"


def run(args: argparse.Namespace) -> int:
    from ..equiv import equivalence_header, stream_equivalence_certificate
    from ..io.jsonfmt import dumps
    from ..io.output import STDOUT, Outputs
    from ..prune import certify, prune

    console = Console(args.quiet or args.json)
    cert = args.certificate or beside(args.output)
    with Outputs(inputs=[args.model, *domain_inputs(args)]) as outputs:
        pruned_out, cert_out = outputs.add(args.output), outputs.add(cert)
        outputs.open()
        loaded = read_model(args.model, args, console)
        net = loaded.network
        domain = domain_from_args(args, net.input_dim, loaded)
        started = time.perf_counter()
        try:
            result = prune(net, domain, max_regions=args.max_regions, progress=console.progress)
            comparison = certify(result, max_regions=None, progress=console.progress)
        finally:
            console.end_progress()
        pruned_out.write(dumps(result.pruned))
        stream_equivalence_certificate(cert_out, comparison, equivalence_header(comparison, purpose="prune"))
        outputs.commit()
    size = cert_out.size
    seconds = time.perf_counter() - started
    out = args.output
    say = print if STDOUT not in (args.output, cert) else console.warn  # stdout holds a file
    bindings = ["--model", args.model, "--pruned", args.output, *domain_binding(args, domain)]
    pruned = result.pruned
    summary = {
        "model": str(args.model), "pruned": str(out), "certificate": str(cert), "certificate_bytes": size,
        "domain": domain.describe(), "regions": len(result.enumeration.regions),
        "widths_before": list(net.widths), "widths_after": list(pruned.widths),
        "neurons_before": net.neuron_count, "neurons_after": pruned.neuron_count,
        "parameters_before": net.parameter_count, "parameters_after": pruned.parameter_count,
        "removed_inactive": [list(t) for t in result.dead],
        "folded_layers": result.folded_layers,
        "folded_active": [list(t) for t in result.folded_active],
        "folded_constant": [list(t) for t in result.folded_constant],
        "removed_unused": [list(t) for t in result.unused],
        "kept_active": [list(t) for t in result.kept_active],
        "constant": result.constant, "equal": True, "seconds": round(seconds, 3),
        "check": check_command(cert, bindings),
    }
    if args.json:
        say(json.dumps(summary, indent=1))
        return 0
    say(f"{args.model} ({'-'.join(map(str, net.widths))}, {net.neuron_count} neurons) -> {out} "
          f"({'-'.join(map(str, pruned.widths))}, {pruned.neuron_count} neurons) over {domain.describe()}, "
          f"{len(result.enumeration.regions)} regions")
    say(f"  removed {len(result.dead)} neurons inactive on every region: {_names(result.dead)}")
    if result.folded_layers:
        say(f"  folded {len(result.folded_layers)} hidden layers that are affine on the domain "
              f"(every remaining neuron active on every region) into the next layer: "
              f"{', '.join(f'L{l}' for l in result.folded_layers)}")
    if result.folded_constant:
        say(f"  folded {len(result.folded_constant)} constant active neurons into the next layer's bias: "
              f"{_names(result.folded_constant)}")
    if result.unused:
        say(f"  removed {len(result.unused)} neurons whose outgoing weights are all 0: {_names(result.unused)}")
    if result.kept_active:
        say(f"  kept {len(result.kept_active)} neurons active on every region, in layers with unstable neurons "
              f"(folding one alone needs a skip connection): {_names(result.kept_active)}")
    if result.constant:
        say("  the network is constant on the domain")
    say("  (neurons are named L<hidden layer>.<index>, counting from 0 in the original network)")
    say(f"proved equal to the original at every point of the domain: wrote {cert} ({size} bytes); "
        f"check it with: {check_command(cert, bindings)}")
    return 0
