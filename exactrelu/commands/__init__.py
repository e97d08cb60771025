"""The command layer: ``exactrelu COMMAND ...`` (one module per command in this package).

Every command module defines ``SUMMARY``, ``EXAMPLE``, ``configure(parser)`` and ``run(args) -> exit
code``; :data:`COMMANDS` is the registry, imported one by one so that a command whose module cannot
be imported (a missing extra) is listed as unavailable and does not take the others down.  The
library never imports this package; it holds all argument parsing, printing and exit codes.

Exit codes, the same for every command: 0 success / verified / equal; 1 not verified or a negative
answer; 2 bad input or usage (an empty argument such as ``--model ""`` included); 3 incomplete
(region budget, Ctrl-C or SIGTERM).  Errors are one line on stderr, never a traceback, and never
claim that nothing was written when something was (:data:`exactrelu.io.output.WRITTEN`).

>>> prepare_argv(["eval", "net.json", "--x", "-1/3"])
['eval', 'net.json', '--x=-1/3']
>>> prepare_argv(["check", "c.json", "--model", ""])
Traceback (most recent call last):
...
exactrelu.errors.InputError: --model: empty value (an unset shell variable?)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from typing import Iterator, Optional, Sequence

from .. import __version__
from ..errors import (ExactReluError, ExtendedArithmeticError, IncompleteError, InputError, InternalError,
                      RejectedCertificateError)

EXIT_OK, EXIT_NEGATIVE, EXIT_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

COMMANDS = {
    name: f"exactrelu.commands.{name}"
    for name in ("info", "eval", "convert", "regions", "shallow", "check", "report", "demo",
                 "equiv", "prune", "explain", "plot", "verify")
}

VALUE_OPTIONS = ("--x", "--box", "--baseline", "--slice")


def prepare_argv(argv: Sequence[str]) -> list[str]:
    """Refuse empty arguments and NUL bytes (one clear usage error), and let ``--x -1/3`` mean
    ``--x=-1/3`` (argparse would take a value starting with ``-`` for an option)."""
    items = list(argv)
    for i, item in enumerate(items):
        flag, eq, value = item.partition("=")
        if "\0" in item:
            raise InputError(f"argument {i + 1} contains a NUL byte")
        if item == "" or (eq and flag.startswith("--") and not value):
            name = flag if eq else (items[i - 1] if i and items[i - 1].startswith("-") else f"argument {i + 1}")
            raise InputError(f"{name}: empty value (an unset shell variable?)")
    out: list[str] = []
    i = 0
    while i < len(items):
        if items[i] in VALUE_OPTIONS and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"{items[i]}={items[i + 1]}")
            i += 2
        else:
            out.append(items[i])
            i += 1
    return out


def _unavailable(name: str, exc: Exception):
    def run(args: argparse.Namespace) -> int:
        raise InputError(f"the command {name!r} is unavailable: {exc}")

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exactrelu",
        description="Exact regions, the equivalent three-hidden-layer network, and checkable certificates for ReLU networks.",
        epilog="exit codes: 0 success/verified, 1 not verified or negative answer, 2 bad input or usage, 3 incomplete or no answer",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"exactrelu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:  # a command whose module cannot load must not take the others down
            p = sub.add_parser(name, help=f"(unavailable: {exc})", prefix_chars="\0")
            p.add_argument("arguments", nargs="*")  # whatever is given, the answer is the reason
            p.set_defaults(func=_unavailable(name, exc))
            continue
        p = sub.add_parser(name, help=module.SUMMARY, description=module.SUMMARY,
                           epilog=f"example:\n  {module.EXAMPLE}", formatter_class=argparse.RawDescriptionHelpFormatter)
        module.configure(p)
        p.set_defaults(func=module.run)
    return parser


def lift_digit_limit() -> None:
    """Rationals of any size: lift Python's limit on int/str conversions for this process."""
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`KeyboardInterrupt`, like Ctrl-C: temporary files are removed and the
    command ends incomplete (exit 3)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave the handler alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _what_was_written(since: int) -> str:
    from ..io.output import WRITTEN

    written = WRITTEN[since:]
    if not written:
        return "nothing was written"
    return "only " + ", ".join(dict.fromkeys(written)) + " had been written (or written in part)"


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ..io.output import WRITTEN

    lift_digit_limit()
    try:
        items = prepare_argv(sys.argv[1:] if argv is None else argv)
    except InputError as exc:
        print(f"exactrelu: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    parser = build_parser()
    args = parser.parse_args(items)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    since = len(WRITTEN)
    with sigterm_as_interrupt():
        try:
            return args.func(args)
        except IncompleteError as exc:
            print(f"exactrelu: INCOMPLETE: {exc}; {_what_was_written(since)}", file=sys.stderr)
            return EXIT_INCOMPLETE
        except KeyboardInterrupt:
            print(f"\nexactrelu: INCOMPLETE: interrupted; the result is incomplete and {_what_was_written(since)}",
                  file=sys.stderr)
            return EXIT_INCOMPLETE
        except RejectedCertificateError as exc:
            print(f"exactrelu: NOT VERIFIED: {exc}", file=sys.stderr)
            return EXIT_NEGATIVE
        except InternalError as exc:
            print(f"exactrelu: INCOMPLETE: internal self-check failed: {exc}; there is no answer and "
                  f"{_what_was_written(since)} (please report this)", file=sys.stderr)
            return EXIT_INCOMPLETE
        except (InputError, ExtendedArithmeticError, ExactReluError) as exc:
            print(f"exactrelu: error: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except BrokenPipeError:
            return EXIT_OK
        except OSError as exc:
            print(f"exactrelu: error: {exc}", file=sys.stderr)
            return EXIT_INPUT
        except Exception as exc:  # a defect: never exit 1, which would read as a negative answer
            print(f"exactrelu: INCOMPLETE: internal error ({type(exc).__name__}: {exc}); there is no answer and "
                  f"{_what_was_written(since)} (please report this)", file=sys.stderr)
            return EXIT_INCOMPLETE
