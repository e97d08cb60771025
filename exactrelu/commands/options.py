"""Options shared by the commands: reading a model, the domain (``--box``/``--domain``),
``--limit-denominator``, and the auditor's ``exactrelu check`` command line printed after a result.

Invariant: a model is read exactly (rounded only on ``--limit-denominator``, which is reported), the
loaders' notes (assumptions) are printed, and a domain is never empty: an empty box or an infeasible
polytope is an error (exit 2) before any work.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import shlex
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from ..errors import InputError
from .console import Console

MODEL_HELP = "network file (.json, .npz, .onnx, .pt/.pth, .nnet)"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def add_model_options(parser: argparse.ArgumentParser, positional: Optional[str] = "model") -> None:
    """The model argument (unless ``positional`` is None), ``--limit-denominator`` and ``--trust-pickle``."""
    if positional:
        parser.add_argument(positional, help=MODEL_HELP)
    parser.add_argument("--limit-denominator", type=positive_int, metavar="Q",
                        help="round every weight to the nearest rational with denominator <= Q (reports the largest change)")
    parser.add_argument("--nnet-normalized", action="store_true",
                        help="read an .nnet file in its normalised coordinates (the coordinates of its ONNX export and "
                             "of VNN-LIB properties) instead of raw units")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="let a PyTorch file that is a full pickle (a whole saved model) load: unpickling runs "
                             "code stored in the file, so only for files you trust")


def add_domain_options(parser: argparse.ArgumentParser, box_help: str = "", domain_help: str = "") -> None:
    parser.add_argument("--box", help=box_help or "box domain LO:HI,LO:HI,... (one LO:HI applies to every input)")
    parser.add_argument("--domain", help=domain_help or "domain file: JSON box or polytope, or VNN-LIB input constraints")


def add_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-regions", type=positive_int, metavar="N", help="stop (incomplete, exit 3) beyond N regions")


def add_quiet(parser: argparse.ArgumentParser, what: str = "no notes or progress on stderr") -> None:
    parser.add_argument("--quiet", action="store_true", help=what)


def add_enumeration_options(parser: argparse.ArgumentParser) -> None:
    """What every command that enumerates the regions of one model takes: the model, its options,
    ``--quiet``, the domain and the region budget."""
    add_model_options(parser)
    add_quiet(parser)
    add_domain_options(parser)
    add_budget(parser)


def add_parallel_options(parser: argparse.ArgumentParser) -> None:
    """``--workers N`` (a local Dask cluster) and ``--scheduler ADDRESS`` (a running one)."""
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="enumerate (verify --early: search) on a local Dask cluster of N worker processes "
                             "(the 'dask' extra)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="enumerate (verify --early: search) on the running Dask cluster at ADDRESS "
                             "(e.g. tcp://host:8786)")


@contextlib.contextmanager
def cluster(args: argparse.Namespace) -> Iterator:
    """The Dask client of ``--workers``/``--scheduler`` (:func:`exactrelu.parallel.dask_client`,
    imported only then; stopped on leaving), or ``None`` without them."""
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise InputError("give either --workers or --scheduler, not both")
    from ..parallel import dask_client

    with dask_client(workers, scheduler) as client:
        yield client


@contextlib.contextmanager
def enumerator(args: argparse.Namespace) -> Iterator[Callable]:
    """The enumeration function the command uses, ``f(network, domain, max_regions=, progress=)``:
    :func:`~exactrelu.regions.enumerate_regions`, or, with ``--workers``/``--scheduler``, the same on
    a Dask cluster (:mod:`exactrelu.parallel`, imported only then), which is stopped on leaving."""
    with cluster(args) as client:
        if client is None:
            from ..regions import enumerate_regions

            yield enumerate_regions
            return
        from ..parallel import enumerate_parallel

        yield functools.partial(enumerate_parallel, client=client)


def add_pair_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``-o`` (``what``), ``--certificate`` (default beside it) and ``--json``: the outputs of a
    command that writes a network and its certificate together."""
    parser.add_argument("-o", "--output", required=True, help=f"where to write {what}")
    parser.add_argument("--certificate", metavar="PATH",
                        help="where to write the certificate (default: beside the output, .cert.json)")
    parser.add_argument("--json", action="store_true", help="machine-readable summary")


def read_model(path: str, args: argparse.Namespace, console: Optional[Console] = None):
    """A deep network (``LoadedModel``), rounded only if ``--limit-denominator`` asks; the loader's
    notes and the rounding are reported on stderr."""
    from ..io import load_model
    from ..rationals import format_rational

    console = console or Console(getattr(args, "quiet", False))
    loaded = load_model(path, nnet_normalized=getattr(args, "nnet_normalized", False),
                        trust_pickle=getattr(args, "trust_pickle", False))
    for note in loaded.notes:
        console.note(f"note: {note}")
    limit = getattr(args, "limit_denominator", None)
    if limit is not None:
        rounded, change = loaded.network.limit_denominator(limit)
        console.note(
            f"note: weights rounded to denominators <= {limit}; largest change {format_rational(change)} "
            f"(~{float(change):.3g}); results are about the rounded network"
        )
        loaded = dataclasses.replace(loaded, network=rounded)
    return loaded


def is_shallow(path: str) -> bool:
    """Whether ``path`` is an ``exactrelu-shallow`` JSON file (decided by its ``format`` field)."""
    p = Path(path)
    if p.suffix.lower() != ".json" or not p.is_file():
        return False
    from ..io.jsonfmt import read_json

    data = read_json(p, "network")
    return isinstance(data, dict) and data.get("format") == "exactrelu-shallow"


def domain_from_args(args: argparse.Namespace, n: int, *loaded):
    """The domain a command works on: ``--box``, ``--domain``, else the input bounds the first model
    file that states them gives (NNet), else ``R^n``.  An empty domain is an :class:`InputError`."""
    from ..domain import Domain, load_domain, parse_box
    from ..errors import DomainError

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
    for model in loaded:
        if getattr(args, "box", None) or getattr(args, "domain", None):
            warn_outside_bounds(Console(getattr(args, "quiet", False)), domain, model)
    if domain.kind == "polytope":
        try:
            domain.check_nonempty()
        except DomainError:
            where = args.domain if getattr(args, "domain", None) else "the domain"
            raise DomainError(f"{where}: the domain is empty (its constraints have no common point)") from None
    return domain


def warn_outside_bounds(console: Console, domain, model, what: str = "") -> None:
    """Warn when ``domain`` is not inside the input bounds ``model`` (an NNet file) states, naming
    both boxes: a result about a set in other coordinates than the user thinks (raw units against
    normalised ones) would be about the wrong inputs."""
    from ..domain import bounds_warning

    if model.default_box is None:
        return
    warning = bounds_warning(domain, *model.default_box, f"{model.path} ({model.coordinates} coordinates)")
    if warning:
        hint = (" (VNN-LIB properties of ACAS Xu are in normalised coordinates: --nnet-normalized)"
                if model.coordinates == "raw" else "")
        console.note(f"warning: {what}{warning}{hint}")


def domain_inputs(args: argparse.Namespace) -> list[str]:
    """The domain file, as an input that no output may overwrite."""
    return [args.domain] if getattr(args, "domain", None) else []


def enumerate_with_progress(args: argparse.Namespace, loaded, console: Console):
    """All regions of the model over the domain of ``args`` (on a Dask cluster with ``--workers`` or
    ``--scheduler``)."""
    domain = domain_from_args(args, loaded.network.input_dim, loaded)
    try:
        with enumerator(args) as enumerate_regions:
            return enumerate_regions(loaded.network, domain, max_regions=args.max_regions, progress=console.progress)
    finally:
        console.end_progress()


def domain_binding(args: argparse.Namespace, domain) -> list[str]:
    """How ``exactrelu check`` is told the domain: ``--domain FILE``, or the box as ``--box=...``."""
    if getattr(args, "domain", None):
        return ["--domain", args.domain]
    return [box_flag(domain)] if domain.kind == "box" else []


def box_flag(domain) -> str:
    """A box domain as the flag ``--box=LO:HI,...`` (exact rationals, one interval per input)."""
    from ..rationals import format_rational

    return "--box=" + ",".join(f"{format_rational(a)}:{format_rational(b)}" for a, b in zip(domain.lower, domain.upper))


def check_command(certificate: str, bindings: Sequence[str]) -> str:
    """The auditor's full command line: ``exactrelu check CERT`` with every binding named."""
    return " ".join(shlex.quote(str(part)) for part in ["exactrelu", "check", certificate, *bindings])
