"""The ``hotloop`` console script (and ``python -m hotloop``).

It imports the command line inside a Ctrl-C guard: ``import hotloop.cli`` loads NumPy (some
0.1 s), and a Ctrl-C in that time would otherwise end in a traceback instead of the command's
"interrupted" line and exit code 130. This module imports nothing but ``sys`` for that reason.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Run the ``hotloop`` command on ``sys.argv[1:]``; return the exit code."""
    try:
        from hotloop.cli import EXIT_INTERRUPTED
        from hotloop.cli import main as cli_main
    except KeyboardInterrupt:
        print("hotloop: interrupted", file=sys.stderr)
        return 130  # hotloop.cli.EXIT_INTERRUPTED, which could not be imported
    try:
        return cli_main()
    except KeyboardInterrupt:  # in the moments main() does not guard (its own first bytecodes)
        print("hotloop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
