"""``python -m kbackend``: see :mod:`kbackend.cli`."""

import sys

from .cli import main

sys.exit(main())
