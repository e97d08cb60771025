"""exactrelu: exact region enumeration, three-hidden-layer shallow networks, and certificates.

Everything is exact rational arithmetic; floats only ever guide, never decide.  The package's
names are loaded lazily, so that ``import exactrelu.checker`` loads nothing but the checker.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "ExactReluError": "exactrelu.errors",
    "ReluNetwork": "exactrelu.network",
    "AffineLayer": "exactrelu.network",
    "Domain": "exactrelu.domain",
    "enumerate_regions": "exactrelu.regions",
    "build_shallow": "exactrelu.shallow",
    "load_network": "exactrelu.io",
    "load_model": "exactrelu.io",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'exactrelu' has no attribute {name!r}")
