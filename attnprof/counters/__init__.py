"""Counting backends behind one seam: the :class:`Backend` protocol, ``count(target) ->
Counted``, and one table of them (:data:`BACKEND_TABLE`).

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
from typing import TYPE_CHECKING, Any, Protocol

from attnprof.contain import one_line
from attnprof.results import Count

if TYPE_CHECKING:
    from attnprof.counters.coverage import Attribution


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


@dataclass(frozen=True)
class Counted:
    """What every backend's ``count`` returns: its ``Count``, and what it attributed that
    count to (:class:`~attnprof.counters.coverage.Attribution`), from which attnprof tells
    what the backend counted and missed of its own count. ``attribution`` is None for
    attnprof's own count, and for a backend that gives a status row instead of a count."""

    count: Count
    attribution: Attribution | None = None


class Backend(Protocol):
    """A counting backend: anything with ``count(target) -> Counted`` (each entry of
    :data:`BACKEND_TABLE` is a module that defines it). It may raise: ``run_backend`` runs it
    contained and turns an exception into a failed status row."""

    def count(self, target: Target) -> Counted: ...


@dataclass(frozen=True)
class BackendEntry:
    """Where a backend's code is: the module that implements :class:`Backend`, imported only
    when the backend runs (the wrapped libraries are optional and slow to import), and the
    pip package that provides its library (said when the import fails)."""

    module: str
    pip: str | None = None


# Every backend, by the name ``--backends`` takes (``attnprof.spec.BACKENDS``, the torch-free
# list the command line checks names against, holds the same names).
BACKEND_TABLE: dict[str, BackendEntry] = {
    "torchstat": BackendEntry("attnprof.counters._torchstat", pip="torchstat"),
    "torchinfo": BackendEntry("attnprof.counters._torchinfo", pip="torchinfo"),
    "fvcore": BackendEntry("attnprof.counters._fvcore", pip="fvcore"),
    "torch": BackendEntry("attnprof.counters._torch"),
    "attnprof": BackendEntry("attnprof.counters._attnprof"),
}


def load_backend(name: str) -> Backend:
    """The backend named ``name`` (a key of :data:`BACKEND_TABLE`). ImportError when its
    library is not installed."""
    return importlib.import_module(BACKEND_TABLE[name].module)  # type: ignore[return-value]


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
            backend = load_backend(name)
        except ImportError as exc:
            pip = BACKEND_TABLE[name].pip or name
            return Count.failed(name, f"{pip} is not installed ({exc}); pip install {pip}",
                                status="unavailable")
        try:
            with _one_thread():
                counted = backend.count(target)
        except Exception as exc:  # the library failed on this block: a status row, not a crash
            return Count.failed(name, one_line(exc, 300))
        return _against_attnprof(counted, target)


def _against_attnprof(counted: Counted, target: Target) -> Count:
    """The backend's count with what it counted and missed of attnprof's count of the same
    target (:mod:`attnprof.counters.coverage`); said in a note when attnprof's count failed."""
    from dataclasses import replace

    from attnprof.counters import coverage

    count, attribution = counted.count, counted.attribution
    if attribution is None or not count.ok:
        return count
    try:
        runs = coverage.reference(target)
    except Exception as exc:
        return replace(count, notes=(*count.notes, "not compared with attnprof: attnprof's "
                                     f"count failed ({one_line(exc, 240)})"))
    return coverage.reconcile(count, attribution, runs)
