"""``python -m exactrelu`` runs the command line."""

import sys

from .commands import main

sys.exit(main())
