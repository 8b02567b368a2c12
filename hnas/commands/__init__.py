"""One module per ``hnas`` subcommand; see :mod:`hnas.cli`."""
