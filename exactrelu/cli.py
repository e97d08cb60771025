"""The console-script entry point, kept for ``exactrelu.cli:main``: the command layer is
:mod:`exactrelu.commands`."""

from .commands import main

__all__ = ["main"]
