"""A CPU hog the benchmarks start and stop themselves: busy-looping processes for the
duration of a ``with`` block, always stopped (terminated, then killed)."""

from __future__ import annotations

import multiprocessing as mp
import time


def _spin() -> None:  # a CPU hog
    while True:
        pass


class Hog:
    """``n`` busy-looping processes for the duration of a ``with`` block, always stopped."""

    def __init__(self, n: int) -> None:
        self.n, self.procs = n, []

    def __enter__(self) -> Hog:
        ctx = mp.get_context("spawn")
        for _ in range(self.n):
            p = ctx.Process(target=_spin, daemon=True)
            p.start()
            self.procs.append(p)
        time.sleep(0.5)  # let the scheduler see them
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
