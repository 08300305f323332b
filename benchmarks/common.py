"""Timing and reporting shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """The shortest wall time of ``repeat`` calls of ``run``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def report(title: str, n: int, unit: str, times: dict[str, float], base: str) -> None:
    """Print seconds, throughput and the ratio to ``base`` for every method."""
    print(f"\n{title}")
    print(f"  {'method':<40}{'seconds':>9}{unit + '/s':>14}   vs {base}")
    for name, seconds in times.items():
        print(
            f"  {name:<40}{seconds:>9.3f}{n / seconds:>14,.0f}"
            f"{times[base] / seconds:>8.2f}x"
        )


def best_chunksize(label: str, run: Callable[[int], object], sizes: tuple[int, ...]) -> int:
    """Time ``run(chunksize)`` once per size, print the sweep, return the fastest size."""
    sweep = {size: best_of(1, lambda size=size: run(size)) for size in sizes}
    best = min(sweep, key=sweep.__getitem__)
    print(f"  {label}Pool chunksize sweep (1 run each): "
          + ", ".join(f"{c}: {t:.2f} s" for c, t in sweep.items()) + f" -> {best}")
    return best
