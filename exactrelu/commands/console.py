"""Where a command speaks: results on stdout, progress and notes on stderr (unless ``--quiet``).

Invariant: nothing here decides anything; a command's result is what it prints on stdout, and its
exit code (see :mod:`exactrelu.commands`).
"""

from __future__ import annotations

import sys
import time


class Console:
    """Results on stdout, progress and notes on stderr (unless quiet).  Progress is shown on a
    terminal after the first second, or from the start when ``progress`` asks for it (``--progress``)."""

    def __init__(self, quiet: bool = False, progress: bool = False) -> None:
        self.quiet = quiet
        self.live = not quiet and (progress or sys.stderr.isatty())
        self.after = 0.0 if progress else 1.0  # seconds before the first progress line
        self.started = time.perf_counter()
        self.shown = -1.0  # when the last count was shown (seconds after the start): at most five a second

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
        if elapsed < self.after:
            return
        rate = regions / elapsed if elapsed else 0.0
        print(f"\r  {regions} regions, {nodes} nodes, {lps} LPs, {rate:.0f} regions/s, {elapsed:.1f} s ",
              end="", file=sys.stderr, flush=True)

    def count(self, done: int, total: int) -> None:
        """Progress of a batch of points (``done`` of ``total``); the last one is always shown."""
        if not self.live:
            return
        elapsed = time.perf_counter() - self.started
        if elapsed < self.after or (done < total and elapsed - self.shown < 0.2):
            return
        self.shown = elapsed
        print(f"\r  {done} of {total} points, {done / elapsed if elapsed else 0.0:.0f} points/s, {elapsed:.1f} s ",
              end="", file=sys.stderr, flush=True)

    def end_progress(self) -> None:
        if self.live and time.perf_counter() - self.started >= self.after:
            print(file=sys.stderr)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
