"""The command layer: one module per ``exactrelu`` command (``SUMMARY``, ``EXAMPLE``,
``configure(parser)``, ``run(args) -> exit code``), on top of the library."""
