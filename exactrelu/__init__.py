"""exactrelu: exact region enumeration, three-hidden-layer shallow networks, and certificates.

Everything is exact rational arithmetic; floats only ever guide, never decide.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ExactReluError
from .network import AffineLayer, ReluNetwork

__all__ = ["__version__", "ExactReluError", "AffineLayer", "ReluNetwork"]
