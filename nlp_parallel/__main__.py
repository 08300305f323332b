"""``python -m nlp_parallel``."""

import sys

from .cli import run_command

sys.exit(run_command())
