"""Counting backends behind one interface: ``count(target) -> Count``.

Each wrapped library runs contained: on a private copy of the module, its prints and log
records captured, its failure turned into a status row, whatever it patches restored.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from attnprof.contain import one_line
from attnprof.results import Count
from attnprof.spec import BACKENDS

# backend NAME is implemented by attnprof/counters/_NAME.py
_IMPL = {name: f"attnprof.counters._{name}" for name in BACKENDS}


PIP_NAMES = {"torchstat": "torchstat", "torchinfo": "torchinfo", "fvcore": "fvcore"}


@dataclass(frozen=True)
class Target:
    """The block as built by the runner, and the input it is profiled on."""

    module: Any  # nn.Module, on ``device`` in ``dtype``
    shape: tuple[int, ...]  # (B, C, H, W)
    dtype: Any  # torch.dtype
    device: str
    mode: str  # "infer" | "train"
    channels_last: bool = False
    runs_on_meta: bool = True  # False: the block needs real data (data-dependent ops)
    compile: bool = False  # torch.compile is in use (--compile): torch._dynamo is paid for

    def counts_on_real(self) -> bool:
        """Whether the counters run on real tensors first (a small input on a CPU target:
        :mod:`attnprof.counters.real`), rather than on the meta device."""
        from attnprof.counters.real import counts_on_real

        return counts_on_real(self.module, self.shape, self.dtype, self.device)

    @property
    def train(self) -> bool:
        return self.mode == "train"

    def input(self, device: str | None = None, dtype: Any = None):
        """A fresh input, filled from a private generator (the global RNG is not touched):
        :func:`attnprof.counters.own.seeded_input`, seed 0."""
        import torch

        from attnprof.counters.own import seeded_input

        x = seeded_input(self.shape, dtype or self.dtype, device or self.device)
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x


_LIBRARY_LOGGERS = ("fvcore", "iopath", "torch.utils.flop_counter", "torch.utils.module_tracker")


@contextlib.contextmanager
def contained(verbose: bool = False) -> Iterator[io.StringIO]:
    """Keep a wrapped library's prints, warnings and log records off the user's terminal;
    with ``verbose`` they pass through to stderr."""
    buf = io.StringIO()
    if verbose:
        with contextlib.redirect_stdout(sys.stderr):
            yield buf
        return
    loggers = [logging.getLogger(n) for n in _LIBRARY_LOGGERS]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    try:
        for lg in loggers:
            lg.disabled = True
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield buf
    finally:
        for lg, level, propagate, disabled in saved:
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled


def _one_thread():
    from attnprof.counters.real import one_thread

    return one_thread()


def run_backend(name: str, target: Target, verbose: bool = False) -> Count:
    """Run one backend; never raises for the backend's own failures."""
    with contained(verbose):
        try:  # importing a wrapped library can warn too (fvcore imports torch.jit)
            impl = importlib.import_module(_IMPL[name])
        except ImportError as exc:
            pip = PIP_NAMES.get(name, name)
            return Count.failed(name, f"{pip} is not installed ({exc}); pip install {pip}",
                                status="unavailable")
        try:
            with _one_thread():
                found = impl.count(target)
        except Exception as exc:  # the library failed on this block: a status row, not a crash
            return Count.failed(name, one_line(exc, 300))
        if name == "attnprof":
            return found
        count, attribution = found
        return _against_attnprof(count, attribution, target)


def _against_attnprof(count: Count, attribution: Any, target: Target) -> Count:
    """``count`` with what it counted and missed of attnprof's count of the same target
    (:mod:`attnprof.counters.coverage`); said in a note when attnprof's count failed."""
    from dataclasses import replace

    from attnprof.counters import coverage

    if attribution is None or not count.ok:
        return count
    try:
        runs = coverage.reference(target)
    except Exception as exc:
        return replace(count, notes=(*count.notes, "not compared with attnprof: attnprof's "
                                     f"count failed ({one_line(exc, 240)})"))
    return coverage.reconcile(count, attribution, runs)
