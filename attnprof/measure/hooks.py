"""The attention's own time inside a network's forward, by module hooks.

Each attention module gets a forward pre-hook and a forward hook; per forward, the time from
one to the other is summed over the modules and divided by the forward's time. On CPU each
hook reads the wall clock; on CUDA each records an event on the current stream, read after
the forward (nothing synchronises inside it). The hooks cost time of their own at every
module boundary they mark, more so when a thread pool has to be woken around them: this is
*own time*, what the modules run for inside this forward, not what the network would save
without them (``Removal`` measures that, interleaved with these forwards).

``HookedCall`` is sampled like ``latency.TimedCall`` (``sample(budget_s)``, ``rounds()``),
so ``latency.measure_until`` interleaves it with the network and the bare network, under the
same thread count and time cap.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch

from attnprof.measure import machine
from attnprof.results import OwnTime
from attnprof.stats.order import median_ci
from attnprof.stats.uncertainty import Estimate

METHOD = ("module hooks: {clock} from each attention module's forward pre-hook to its "
          "forward hook, summed per forward and divided by that forward's time (inference "
          "mode); median of {runs} forwards after {warmup} warm-up, interleaved with the "
          "network's other timings")


class HookedCall:
    """Forwards of ``net`` on ``x`` with hooks on ``targets`` ((path, module) pairs)."""

    def __init__(self, net: torch.nn.Module, x: torch.Tensor,
                 targets: Sequence[tuple[str, Any]], *, threads: int, warmup: int = 2) -> None:
        self.net, self.x, self.threads, self.warmup = net.eval(), x, threads, warmup
        self.cuda = x.device.type == "cuda"
        self.paths = [p for p, _ in targets]
        self._spans: list[tuple[str, Any, Any]] = []
        self._open: dict[str, Any] = {}
        self._handles = []
        for path, module in targets:
            self._handles.append(module.register_forward_pre_hook(self._pre(path)))
            self._handles.append(module.register_forward_hook(self._post(path)))
        self.totals: list[float] = []  # seconds per forward
        self.sums: list[float] = []    # the attention modules' time in it
        self.per: dict[str, list[float]] = {p: [] for p in self.paths}
        self.round_sizes: list[int] = []
        self.machine: list[machine.MachineState] = []
        with self._context():
            for _ in range(warmup):
                net(x)
            if self.cuda:
                torch.cuda.synchronize(x.device)

    def _mark(self) -> Any:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def _seconds(self, a: Any, b: Any) -> float:
        return a.elapsed_time(b) / 1e3 if self.cuda else b - a

    def _pre(self, path: str):
        def pre(_m, _inp):
            self._open[path] = self._mark()
        return pre

    def _post(self, path: str):
        def post(_m, _inp, _out):
            self._spans.append((path, self._open.pop(path), self._mark()))
        return post

    def _context(self) -> contextlib.ExitStack:
        from torch.utils.benchmark.utils.common import set_torch_threads

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        stack.enter_context(set_torch_threads(self.threads))
        return stack

    def sample(self, budget_s: float) -> None:
        """Forwards for about ``budget_s`` (at least one): one round."""
        before = len(self.totals)
        start = time.perf_counter()
        with self._context():
            while len(self.totals) == before or time.perf_counter() - start < budget_s:
                self._spans.clear()
                t0 = self._mark()
                self.net(self.x)
                t1 = self._mark()
                if self.cuda:
                    torch.cuda.synchronize(self.x.device)
                acc = dict.fromkeys(self.per, 0.0)
                for path, a, b in self._spans:
                    acc[path] += self._seconds(a, b)
                self.totals.append(self._seconds(t0, t1))
                for p, v in acc.items():
                    self.per[p].append(v)
                self.sums.append(sum(acc.values()))
        self.round_sizes.append(len(self.totals) - before)
        self.machine.append(machine.machine_state(reads=3, interval_s=0.001))

    def rounds(self) -> tuple[tuple[float, ...], ...]:
        """The forwards' times (seconds) split by the round that took them."""
        from attnprof.measure.latency import by_round

        return by_round(self.totals, self.round_sizes)

    def latency(self, rounds: int = 1) -> None:
        """No Latency of its own (``measure_until`` asks every call): the hooked forwards are
        summarised by :meth:`own_time`."""
        return None

    def close(self) -> None:
        """Remove the hooks (the module is attnprof's copy; still, leave it clean)."""
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def own_time(self) -> tuple[OwnTime, dict[str, tuple[float, float | None,
                                                         tuple[float, float] | None]]]:
        """The summary, and per module path: (median ms, median share, ms interval)."""
        shares = [s / t if t > 0 else 0.0 for s, t in zip(self.sums, self.totals, strict=True)]
        median = statistics.median
        net_ci, att_ci, share_ci = (median_ci(xs) for xs in
                                    (self.totals, self.sums, shares))
        clock = ("CUDA events recorded on the stream (GPU time, no synchronisation inside "
                 "the forward)" if self.cuda else "wall time")
        own = OwnTime(
            forwards=len(self.totals), network_ms=median(self.totals) * 1e3,
            attention_ms=median(self.sums) * 1e3, share=median(shares),
            network_ms_ci=_scaled(net_ci, 1e3), attention_ms_ci=_scaled(att_ci, 1e3),
            share_ci=_scaled(share_ci, 1.0),
            coverage=share_ci.coverage if share_ci.bounded else None,
            method=METHOD.format(clock=clock, runs=len(self.totals), warmup=self.warmup))
        per = {}
        for p, v in self.per.items():
            ms = median(v) * 1e3
            share = median([a / t if t > 0 else 0.0 for a, t in
                            zip(v, self.totals, strict=True)])
            per[p] = (ms, share, _scaled(median_ci(v), 1e3))
        return own, per


def _scaled(est: Estimate, scale: float) -> tuple[float, float] | None:
    return (est.low * scale, est.high * scale) if est.bounded else None
