"""The bundled demo network (the ``exactrelu demo`` command runs the whole pipeline on it).

The bundled network (``exactrelu/data/demo_classifier.json``, trained by ``examples/iris/train.py``)
maps petal length and width to three class scores.  The demo (:mod:`exactrelu.commands.demo`)
reads it exactly, enumerates its regions over :data:`DEMO_BOX` = ``[0, 7] x [0, 3]`` (cm), builds
the three-hidden-layer network, writes it with its certificate and a proof report, and runs the
independent checker on the certificate.

>>> net = bundled_network()
>>> net.input_dim, net.output_dim
(2, 3)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .io.jsonfmt import network_from_dict, read_json

DEMO_BOX = (("0", "0"), ("7", "3"))


def bundled_network():
    """The bundled demo classifier as an exact network."""
    with resources.as_file(resources.files("exactrelu") / "data" / "demo_classifier.json") as path:
        return network_from_dict(read_json(Path(path), "bundled network"), "bundled network")
