"""``python -m hotloop`` is the ``hotloop`` command."""

import sys

from hotloop.cli import main

sys.exit(main())
