"""``python -m hotloop`` is the ``hotloop`` command."""

import sys

from hotloop._console import main

sys.exit(main())
