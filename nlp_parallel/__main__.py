"""``python -m nlp_parallel``."""

import sys

from .cli import main

sys.exit(main())
