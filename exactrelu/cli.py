"""The ``exactrelu`` command.

Exit codes, the same for every command: 0 success / verified / equal; 1 not verified or a negative
answer; 2 bad input or usage; 3 incomplete (region budget or interruption).  Errors are one line
on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .errors import (ExactReluError, ExtendedArithmeticError, IncompleteError, InputError, InternalError,
                     RejectedCertificateError)
from .io import load_model

EXIT_OK, EXIT_NEGATIVE, EXIT_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3


class Console:
    """Where a command speaks: results on stdout, progress and notes on stderr (unless quiet)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()
        self.started = time.perf_counter()

    def note(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr)

    def progress(self, regions: int, nodes: int, lps: int) -> None:
        if not self.live:
            return
        elapsed = time.perf_counter() - self.started
        if elapsed < 1.0:
            return
        rate = regions / elapsed if elapsed else 0.0
        print(f"\r  {regions} regions, {nodes} nodes, {lps} LPs, {rate:.0f} regions/s, {elapsed:.1f} s ",
              end="", file=sys.stderr, flush=True)

    def end_progress(self) -> None:
        if self.live and time.perf_counter() - self.started >= 1.0:
            print(file=sys.stderr)


# ----------------------------------------------------------------------------- helpers
def _read_model(path: str, args: argparse.Namespace):
    """A deep network (``LoadedModel``), rounded only if ``--limit-denominator`` asks."""
    from .io import LoadedModel

    loaded = load_model(path)
    limit = getattr(args, "limit_denominator", None)
    if limit is not None:
        rounded, change = loaded.network.limit_denominator(limit)
        from .rationals import format_rational

        Console(getattr(args, "quiet", False)).note(
            f"note: weights rounded to denominators <= {limit}; largest change {format_rational(change)} "
            f"(~{float(change):.3g}); results are about the rounded network"
        )
        loaded = LoadedModel(rounded, loaded.format, loaded.path, loaded.default_box)
    return loaded


def _is_shallow(path: str) -> bool:
    """Whether ``path`` is an ``exactrelu-shallow`` JSON file (decided by its ``format`` field)."""
    p = Path(path)
    if p.suffix.lower() != ".json" or not p.is_file():
        return False
    from .io.jsonfmt import read_json

    data = read_json(p, "network")
    return isinstance(data, dict) and data.get("format") == "exactrelu-shallow"


def domain_from_args(args: argparse.Namespace, n: int, *loaded):
    """The domain a command works on: ``--box``, ``--domain``, else the input bounds the first model
    file that states them gives (NNet), else ``R^n``."""
    from .domain import Domain, load_domain, parse_box

    if getattr(args, "box", None) and getattr(args, "domain", None):
        raise InputError("give either --box or --domain, not both")
    if getattr(args, "box", None):
        domain = parse_box(args.box, n)
    elif getattr(args, "domain", None):
        domain = load_domain(args.domain)
    else:
        stated = [m for m in loaded if m.default_box is not None]
        domain = (Domain.box(*stated[0].default_box, where=f"{stated[0].path} input bounds") if stated
                  else Domain.reals(n))
    domain.check_dimension(n)
    return domain


def check_command(cert, args: argparse.Namespace, domain, **files) -> str:
    """The auditor's command that checks ``cert`` against every file it binds: the networks named
    in ``files`` (checker option name -> path) and the domain as the user gave it."""
    import shlex

    words = ["exactrelu", "check", str(cert)]
    for option, path in files.items():
        words += [f"--{option.replace('_', '-')}", str(path)]
    if getattr(args, "domain", None):
        words += ["--domain", args.domain]
    elif domain.kind == "box":
        from .rationals import format_rational

        words.append("--box=" + ",".join(f"{format_rational(a)}:{format_rational(b)}"
                                         for a, b in zip(domain.lower, domain.upper)))
    return " ".join(shlex.quote(w) for w in words)


def _enumerate(args: argparse.Namespace, loaded, console: Console):
    from .regions import enumerate_regions

    domain = domain_from_args(args, loaded.network.input_dim, loaded)
    try:
        return enumerate_regions(loaded.network, domain, max_regions=args.max_regions, progress=console.progress)
    finally:
        console.end_progress()


def _q(v) -> str:
    from .rationals import format_rational

    return format_rational(v)


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=1))


# ----------------------------------------------------------------------------- commands
def cmd_info(args: argparse.Namespace) -> int:
    if _is_shallow(args.model):
        from .shallow import load_shallow

        s = load_shallow(Path(args.model))
        info = {
            "format": "exactrelu-shallow", "inputs": s.input_dim, "outputs": s.output_dim,
            "hyperplanes_J": s.hyperplanes, "regions_K": s.regions,
            "hidden_widths": list(s.hidden_widths), "infinite_weights": s.infinite_weights,
            "domain": s.domain.describe(), "deep_sha256": s.deep_sha256,
        }
    else:
        loaded = _read_model(args.model, args)
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
            info["default_domain"] = " x ".join(f"[{_q(a)}, {_q(b)}]" for a, b in zip(*loaded.default_box))
    if args.json:
        _print_json(info)
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from .rationals import parse_vector

    x = parse_vector(args.x)
    if _is_shallow(args.model):
        from .shallow import load_shallow

        s = load_shallow(Path(args.model))
        point = s.coerce_point(x, "--x")
        if not s.domain.contains(point):
            print(f"warning: the point is outside the domain {s.domain.describe()} the shallow network was built for; "
                  "there it equals the deep network only where the point's activation pattern occurs in the domain, "
                  "and is 0 elsewhere", file=sys.stderr)
        try:
            out = s.evaluate(point)
        except ExtendedArithmeticError as exc:
            raise InputError(f"{args.model}: {exc} (the shallow network is malformed)") from None
    else:
        net = _read_model(args.model, args).network
        out = net.evaluate(net.coerce_point(x, "--x"))
    texts = [_q(v) for v in out]
    if args.json:
        print(json.dumps({"output": texts}))
    else:
        print(",".join(texts))
    return EXIT_OK


def cmd_convert(args: argparse.Namespace) -> int:
    from .io.jsonfmt import save

    loaded = _read_model(args.model, args)
    save(loaded.network, Path(args.out))
    Console(args.quiet).note(f"wrote {args.out} ({loaded.network.parameter_count} exact parameters)")
    return EXIT_OK


def _region_item(region) -> dict:
    return {
        "pattern": [[int(b) for b in layer] for layer in region.pattern],
        "full_dimensional": region.full_dimensional,
        "witness": [_q(v) for v in region.witness],
        "conditions": [{"w": [_q(a) for a in w], "b": _q(b), "rel": ">" if on else "<="}
                       for (w, b), on in zip(region.preactivations, region.flat_pattern)],
        "alpha": [[_q(v) for v in row] for row in region.alpha],
        "beta": [_q(v) for v in region.beta],
    }


def cmd_regions(args: argparse.Namespace) -> int:
    console = Console(args.quiet or args.json == "-")
    if args.json and args.json != "-":
        from .io.jsonfmt import check_writable

        check_writable(Path(args.json))
    loaded = _read_model(args.model, args)
    e = _enumerate(args, loaded, console)
    summary = {"regions": len(e.regions), "full_dimensional": e.full_dimensional,
               "lower_dimensional": e.lower_dimensional}
    if args.json:
        text = json.dumps({**summary, "domain": e.domain.to_dict(), "nodes": e.nodes, "lps": e.lps,
                           "items": [_region_item(r) for r in e.regions]}, indent=1)
        if args.json == "-":
            print(text)
            return EXIT_OK
        from .io.jsonfmt import write_text_atomic

        write_text_atomic(Path(args.json), text + "\n")
    print(f"{len(e.regions)} regions ({e.full_dimensional} full-dimensional, {e.lower_dimensional} lower-dimensional) "
          f"over {e.domain.describe()}; {e.nodes} tree nodes, {e.lps} LPs, {e.seconds:.2f} s")
    return EXIT_OK


def cmd_shallow(args: argparse.Namespace) -> int:
    from .certificate import equate, write_certificate
    from .io.jsonfmt import check_writable
    from .shallow import build_shallow, save_shallow

    console = Console(args.quiet)
    loaded = _read_model(args.model, args)
    out = Path(args.output)
    cert_path = Path(args.certificate) if args.certificate else out.with_name(
        out.name[:-5] + ".cert.json" if out.name.endswith(".json") else out.name + ".cert.json")
    for p in (out, cert_path):
        check_writable(p)
    e = _enumerate(args, loaded, console)
    started = time.perf_counter()
    s = build_shallow(e)
    build_seconds = time.perf_counter() - started
    equate(e, s, args.equation)
    save_shallow(s, out)
    size = write_certificate(cert_path, e, s, out)
    result = {
        "shallow": str(out), "certificate": str(cert_path), "certificate_bytes": size,
        "deep_widths": list(e.network.widths),
        "shallow_widths": [s.input_dim, *s.hidden_widths, s.output_dim],
        "regions": len(e.regions), "full_dimensional": e.full_dimensional,
        "lower_dimensional": e.lower_dimensional, "hyperplanes": s.hyperplanes,
        "infinite_weights": s.infinite_weights, "domain": e.domain.describe(),
        "seconds": round(time.perf_counter() - console.started, 3),
        "enumeration_seconds": round(e.seconds, 3), "construction_seconds": round(build_seconds, 3),
    }
    if args.json:
        _print_json(result)
    else:
        print(f"deep network {'-'.join(map(str, result['deep_widths']))} -> shallow network "
              f"{'-'.join(map(str, result['shallow_widths']))} (three hidden layers, {s.infinite_weights} infinite weights)")
        print(f"{len(e.regions)} regions ({e.full_dimensional} full-dimensional, {e.lower_dimensional} lower-dimensional), "
              f"{s.hyperplanes} hyperplanes, over {e.domain.describe()}")
        print(f"wrote {out} and {cert_path} ({size} bytes) in {result['seconds']:.2f} s")
        print(f"check it with: {check_command(cert_path, args, e.domain, model=args.model, shallow=out)}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from . import checker

    converted = {}
    notes = []
    for name in ("model", "model_a", "model_b", "pruned"):
        path = getattr(args, name)
        if path is not None and not path.lower().endswith(".json"):
            converted[name] = (path, load_model(path).network.to_dict())
            notes.append(f"c note: {path} was converted to exact JSON by exactrelu's loaders, which are outside "
                         "the checker's trusted base")
    try:
        run = checker.checker_from_args(args, **converted)
    except checker.UsageError as exc:
        raise InputError(str(exc)) from None
    for note in notes:
        print(note, file=sys.stderr)
    if not args.json:
        return checker.report(run, args.dump)
    try:
        run.run()
    except (checker.CheckFailure, RecursionError) as exc:
        location, reason = (exc.location, exc.reason) if isinstance(exc, checker.CheckFailure) else ("tree", "nested too deeply")
        print(json.dumps({"verified": False, "location": location, "reason": reason, "kind": run.kind,
                          "bindings": _bindings_json(run)}))
        return EXIT_NEGATIVE
    print(json.dumps({"verified": True, "kind": run.kind, "bindings": _bindings_json(run), **run.stats}))
    return EXIT_OK


def _bindings_json(run) -> list:
    return [{"what": what, "id": ident, "status": status} for what, ident, status in run.bindings]


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    files = {name: getattr(args, name) for name in ("model", "shallow", "model_a", "model_b", "pruned", "domain")}
    size = write_report(args.certificate, args.output, latex=args.latex, picture=not args.no_picture, files=files)
    Console(args.quiet).note(f"wrote {args.output} ({size} characters)")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    code = run_demo(args.out, quiet=args.quiet)
    return EXIT_OK if code == 0 else EXIT_NEGATIVE


COMMANDS = {
    "info": (cmd_info, "show a network's format, widths and counts (deep or shallow)",
             "exactrelu info net.json"),
    "eval": (cmd_eval, "evaluate a network exactly at a rational point",
             "exactrelu eval net.json --x 1/2,-3"),
    "convert": (cmd_convert, "convert a network to exact exactrelu-network JSON",
                "exactrelu convert model.onnx net.json"),
    "regions": (cmd_regions, "enumerate every activation region exactly",
                "exactrelu regions net.json --box=-2:2 --json regions.json"),
    "shallow": (cmd_shallow, "build the three-hidden-layer network and its certificate",
                "exactrelu shallow net.json --box=-1:1 -o shallow.json"),
    "check": (cmd_check, "verify a certificate with the independent checker",
              "exactrelu check shallow.cert.json --model net.json"),
    "report": (cmd_report, "write a human-readable proof from a certificate",
               "exactrelu report shallow.cert.json -o proof.md"),
    "demo": (cmd_demo, "run the whole pipeline on the bundled Iris classifier",
             "exactrelu demo --out exactrelu-demo"),
}


# Commands that live in their own module: the module defines SUMMARY, EXAMPLE,
# configure(parser) and run(args) -> exit code.
MODULE_COMMANDS = {
    "equiv": "exactrelu.equiv",
    "prune": "exactrelu.prune",
    "explain": "exactrelu.explain",
    "plot": "exactrelu.plot",
}


def _unavailable(name: str, exc: Exception):
    def run(args: argparse.Namespace) -> int:
        raise InputError(f"the command {name!r} is unavailable: {exc}")

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exactrelu",
        description="Exact regions, the equivalent three-hidden-layer network, and checkable certificates for ReLU networks.",
        epilog="exit codes: 0 success/verified, 1 not verified or negative answer, 2 bad input or usage, 3 incomplete",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"exactrelu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parsers = {}
    for name, (func, summary, example) in COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=summary, epilog=f"example:\n  {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        parsers[name] = p
    model_help = "network file (.json, .npz, .onnx, .pt/.pth, .nnet)"
    for name in ("info", "eval", "convert", "regions", "shallow"):
        p = parsers[name]
        p.add_argument("model", help=model_help)
        p.add_argument("--limit-denominator", type=positive_int, metavar="Q",
                       help="round every weight to the nearest rational with denominator <= Q (reports the largest change)")
        p.add_argument("--quiet", action="store_true", help="no notes or progress on stderr")
    for name in ("regions", "shallow"):
        p = parsers[name]
        p.add_argument("--box", help="box domain LO:HI,LO:HI,... (one LO:HI applies to every input)")
        p.add_argument("--domain", help="domain file: JSON box or polytope, or VNN-LIB input constraints")
        p.add_argument("--max-regions", type=positive_int, metavar="N", help="stop (incomplete, exit 3) beyond N regions")
    parsers["info"].add_argument("--json", action="store_true", help="machine-readable output")
    parsers["eval"].add_argument("--x", required=True, help="the point, comma-separated rationals such as 1/2,-3,0.25")
    parsers["eval"].add_argument("--json", action="store_true", help='print {"output": ["p/q", ...]}')
    parsers["convert"].add_argument("out", help="output exactrelu-network JSON file")
    parsers["regions"].add_argument("--json", metavar="OUT", help="write every region to OUT as JSON ('-' for stdout)")
    p = parsers["shallow"]
    p.add_argument("-o", "--output", required=True, help="where to write the shallow network (JSON)")
    p.add_argument("--certificate", help="where to write the certificate (default: beside the output, .cert.json)")
    p.add_argument("--equation", choices=("flint", "sympy"), default="flint",
                   help="how the producer equates the networks region by region (default flint: fastest, see benchmarks)")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p = parsers["check"]
    p.add_argument("certificate")
    from .checker import add_binding_options

    add_binding_options(p)
    p.add_argument("--json", action="store_true",
                   help='print {"verified": true|false, ...} instead of the verdict line (with the reason and location when not verified)')
    for name, module_name in MODULE_COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a command whose module cannot load must not take the others down
            p = sub.add_parser(name, help=f"(unavailable: {exc})")
            p.set_defaults(func=_unavailable(name, exc))
            continue
        p = sub.add_parser(name, help=module.SUMMARY, description=module.SUMMARY,
                           epilog=f"example:\n  {module.EXAMPLE}", formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(p)
        p.set_defaults(func=module.run)
    p = parsers["report"]
    p.add_argument("certificate")
    p.add_argument("-o", "--output", required=True, help="where to write the proof (Markdown, or LaTeX with --latex)")
    p.add_argument("--latex", action="store_true", help="write a LaTeX document (for pdflatex) instead of Markdown")
    for option, what in (("--model", "the deep network (shallow certificate) or the original network (prune)"),
                         ("--shallow", "the shallow network (default: the file the certificate names)"),
                         ("--model-a", "network A of an equivalence certificate"),
                         ("--model-b", "network B of an equivalence certificate"),
                         ("--pruned", "the pruned network of a prune certificate"),
                         ("--domain", "a JSON domain file the certificate must be about")):
        p.add_argument(option, metavar="FILE", help=f"{what}: the checker is bound to it, and the report's "
                                                    "checking command names it")
    p.add_argument("--no-picture", action="store_true",
                   help="no picture of the regions (by default drawn for 2-input networks on a bounded domain, "
                        "when matplotlib is installed)")
    p.add_argument("--quiet", action="store_true")
    p = parsers["demo"]
    p.add_argument("--out", default="exactrelu-demo", help="output folder (default exactrelu-demo)")
    p.add_argument("--quiet", action="store_true", help="print only the verdict")
    return parser


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


VALUE_OPTIONS = ("--x", "--box", "--baseline", "--slice")


def attach_values(argv: Sequence[str]) -> list[str]:
    """Let ``--x -1/3`` mean ``--x=-1/3``: argparse would take a value starting with ``-`` for an option."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        if items[i] in VALUE_OPTIONS and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"{items[i]}={items[i + 1]}")
            i += 2
        else:
            out.append(items[i])
            i += 1
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(attach_values(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return args.func(args)
    except IncompleteError as exc:
        print(f"exactrelu: INCOMPLETE: {exc}; nothing was written", file=sys.stderr)
        return EXIT_INCOMPLETE
    except KeyboardInterrupt:
        print("\nexactrelu: INCOMPLETE: interrupted; the result is incomplete and nothing was written", file=sys.stderr)
        return EXIT_INCOMPLETE
    except RejectedCertificateError as exc:
        print(f"exactrelu: NOT VERIFIED: {exc}", file=sys.stderr)
        return EXIT_NEGATIVE
    except InternalError as exc:
        print(f"exactrelu: internal self-check failed: {exc}; nothing was written (please report this)", file=sys.stderr)
        return EXIT_NEGATIVE
    except (InputError, ExtendedArithmeticError) as exc:
        print(f"exactrelu: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except ExactReluError as exc:
        print(f"exactrelu: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        print(f"exactrelu: error: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
