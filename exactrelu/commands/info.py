"""``exactrelu info``: a network's format, widths, counts and SHA-256 (deep or shallow)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import add_model_options, add_quiet, is_shallow, read_model

SUMMARY = "show a network's format, widths, counts and SHA-256 (deep or shallow)"
EXAMPLE = "exactrelu info net.json"


def configure(parser: argparse.ArgumentParser) -> None:
    add_model_options(parser)
    add_quiet(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


# how the text output names the two hashes of a shallow file (the --json keys are the short names)
SHALLOW_LABELS = {
    "sha256": "sha256 (of its JSON value, sorted keys, no spaces: pinned by version-2 certificates)",
    "file_sha256": "sha256 of the file's bytes (pinned by version-3 certificates, shallow --stream)",
}


def shallow_info(path: str) -> dict:
    """What ``info`` shows of a shallow file, with the two hashes a certificate may record for it:
    ``sha256``, of its parsed JSON value written canonically (version 2, as the checker computes
    it), and ``file_sha256``, of the file's bytes (version 3).  A file written by ``shallow
    --stream`` is that canonical text, so the two are equal; an indented or respelt file has two."""
    from ..io.jsonfmt import read_json_with_sha256
    from ..network import canonical_sha256
    from ..shallow import shallow_from_dict

    data, file_sha256 = read_json_with_sha256(Path(path), "shallow network")
    s = shallow_from_dict(data, str(path))
    return {
        "format": "exactrelu-shallow", "inputs": s.input_dim, "outputs": s.output_dim,
        "hyperplanes_J": s.hyperplanes, "regions_K": s.regions,
        "hidden_widths": list(s.hidden_widths), "infinite_weights": s.infinite_weights,
        "domain": s.domain.describe(), "deep_sha256": s.deep_sha256, "sha256": canonical_sha256(data),
        "file_sha256": file_sha256,
    }


def run(args: argparse.Namespace) -> int:
    from ..rationals import format_rational as q

    labels: dict[str, str] = {}
    if is_shallow(args.model):
        info, labels = shallow_info(args.model), SHALLOW_LABELS
    else:
        loaded = read_model(args.model, args)
        net = loaded.network
        info = {
            "format": loaded.format, "inputs": net.input_dim, "outputs": net.output_dim,
            "widths": list(net.widths), "hidden_layers": len(net.hidden_widths),
            "neurons": net.neuron_count, "parameters": net.parameter_count,
            "exact": "every weight converted exactly (no rounding)" if args.limit_denominator is None
            else f"weights rounded to denominators <= {args.limit_denominator} on request",
            "sha256": net.sha256(),
        }
        if loaded.default_box is not None:
            info["default_domain"] = " x ".join(f"[{q(a)}, {q(b)}]" for a, b in zip(*loaded.default_box))
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for key, value in info.items():
            print(f"{labels.get(key, key)}: {value}")
    return 0
