"""Driver memory is bounded by the batches in flight, not by the input's length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SCRIPT = f"""
import resource, sys
sys.path.insert(0, {str(TESTS)!r})
import nlp_parallel
from remote_modules import batched_double
n = int(sys.argv[1])
total = 0
for result in nlp_parallel.imap(batched_double, (i for i in range(n)), [("popen", 2)]):
    total += result
assert total == n * (n - 1), total
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(n: int) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(n)], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split()[-1])


def test_imap_peak_rss_does_not_grow_with_input():
    small = peak_rss_kib(10_000)
    large = peak_rss_kib(1_000_000)
    assert large - small < 30 * 1024, f"10k items: {small} KiB, 1M items: {large} KiB"
