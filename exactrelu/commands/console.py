"""Where a command speaks: results on stdout, progress and notes on stderr (unless ``--quiet``).

Invariant: nothing here decides anything; a command's result is what it prints on stdout, and its
exit code (see :mod:`exactrelu.commands`).
"""

from __future__ import annotations

import sys
import time


class Console:
    """Results on stdout, progress (on a terminal only) and notes on stderr (unless quiet)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()
        self.started = time.perf_counter()

    def note(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr)

    def warn(self, text: str) -> None:
        """A warning is printed even when quiet: it says something about the result."""
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

    def count(self, done: int, total: int) -> None:
        """Progress of a batch of points (``done`` of ``total``)."""
        if not self.live:
            return
        elapsed = time.perf_counter() - self.started
        if elapsed < 1.0:
            return
        print(f"\r  {done} of {total} points, {done / elapsed:.0f} points/s, {elapsed:.1f} s ",
              end="", file=sys.stderr, flush=True)

    def end_progress(self) -> None:
        if self.live and time.perf_counter() - self.started >= 1.0:
            print(file=sys.stderr)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
