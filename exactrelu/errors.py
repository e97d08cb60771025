"""The one exception hierarchy of exactrelu.

Every error a user can provoke is an :class:`ExactReluError`; the command line maps
:class:`InputError` to exit code 2 and :class:`IncompleteError` to exit code 3, and prints
the message on one line, never a traceback.
"""

from __future__ import annotations


class ExactReluError(Exception):
    """Base class of every exactrelu error."""


class InputError(ExactReluError):
    """Bad input: a file, a field, a layer or a command-line value (exit code 2)."""


class NetworkFormatError(InputError):
    """A network file that cannot be read as an exact ReLU network."""


class DomainError(InputError):
    """An input domain that is empty, malformed, or of the wrong dimension."""


class RejectedCertificateError(ExactReluError):
    """A certificate the independent checker does not verify (exit code 1): nothing is built on it."""


class IncompleteError(ExactReluError):
    """A search stopped early (region budget or interruption); its result is incomplete (exit 3)."""


class ExtendedArithmeticError(ExactReluError):
    """An undefined extended-real operation such as ``inf - inf``."""


class InternalError(ExactReluError):
    """A self-check of the producer failed; no result is written."""


class PropertyError(InputError):
    """A VNN-LIB property file that cannot be read exactly (syntax, variables, or shape)."""


class OutputError(InputError):
    """An output that cannot or must not be written (exit code 2); the message names the user's path."""
