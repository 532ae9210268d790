"""Latency with ``torch.utils.benchmark``: warm-up, ``blocked_autorange`` (or
``adaptive_autorange``) within a time budget, an explicit thread count, and the spread of
the samples.

The timed module is a private copy, so training steps never touch the user's gradients.
Grad mode is entered once around the measurement, not per call, so the timed statement is
the block's call and nothing else. The Timer synchronises CUDA around timed regions (wall
time, launch overhead included); on CUDA the device time between two CUDA events around a
block of calls is reported beside it. With ``cuda_graph`` the call is captured once and
the Timer times ``graph.replay()``, which removes launch overhead and leaves the kernels'
time. ``compile`` times
``torch.compile(module)``, compiled during warm-up, outside the timed region.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import torch
from torch.utils import benchmark

from attnprof.errors import BadInput
from attnprof.results import Latency

DEFAULT_BUDGET_S = 0.3


def _step(module: Callable[..., Any], x: torch.Tensor, train: bool,
          params: list[torch.nn.Parameter]) -> Callable[[], Any]:
    if not train:
        return lambda: module(x)

    def train_step() -> None:
        for p in params:
            p.grad = None
        out = module(x)
        out.backward(torch.ones_like(out))

    return train_step


def _graphed(step: Callable[[], Any], warmup: int) -> Callable[[], Any]:
    """Capture ``step`` in a CUDA graph (after warm-up on a side stream, as PyTorch asks)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(max(warmup, 3)):
            step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


class TimedCall:
    """One block's timed statement, ready to be sampled; several can be interleaved."""

    def __init__(self, module: torch.nn.Module, x: torch.Tensor, *, mode: str = "infer",
                 threads: int | None = None, warmup: int = 3, timer: str = "blocked",
                 compile: bool = False, cuda_graph: bool = False) -> None:
        self.train = mode == "train"
        self.mode = mode
        self.threads = threads or torch.get_num_threads()
        self.timer_kind = timer
        self.compile, self.cuda_graph = compile, cuda_graph
        self.batch, self.device = x.shape[0], x.device
        self.channels_last = (x.dim() == 4 and not x.is_contiguous()
                              and x.is_contiguous(memory_format=torch.channels_last))
        module.train(self.train)
        params = [p for p in module.parameters() if p.requires_grad]
        x = x.detach().requires_grad_(self.train) if self.train else x
        fn: Callable[..., Any] = torch.compile(module) if compile else module
        self.step = _step(fn, x, self.train, params)
        self.times: list[float] = []
        self.runs_per_sample = 0
        with self._context():
            for _ in range(warmup):  # compiles, when compiling; fills caches
                self.step()
            if cuda_graph:
                if x.device.type != "cuda":
                    raise BadInput("--cuda-graph needs a CUDA device (--device cuda)")
                self.step = _graphed(self.step, warmup)
        self.timer = benchmark.Timer(stmt="step()", globals={"step": self.step},
                                     num_threads=self.threads, label="attnprof")

    def _context(self):
        import contextlib

        stack = contextlib.ExitStack()
        stack.enter_context(torch.enable_grad() if self.train else torch.inference_mode())
        stack.enter_context(benchmark.utils.common.set_torch_threads(self.threads))
        return stack

    def sample(self, budget_s: float) -> None:
        """Run one autorange of about ``budget_s`` and keep its per-call times."""
        with self._context():
            if self.timer_kind == "adaptive":
                m = self.timer.adaptive_autorange(min_run_time=min(budget_s, 0.05),
                                                  max_run_time=budget_s)
            else:
                m = self.timer.blocked_autorange(min_run_time=budget_s)
        self.times.extend(m.times)
        self.runs_per_sample = max(self.runs_per_sample, m.number_per_run)

    def cuda_event_ms(self, calls: int = 20) -> float | None:
        """Device time per call between two CUDA events around ``calls`` calls."""
        if self.device.type != "cuda":
            return None
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        with self._context():
            torch.cuda.synchronize(self.device)
            start.record()
            for _ in range(calls):
                self.step()
            end.record()
            end.synchronize()
        return start.elapsed_time(end) / calls

    def latency(self, rounds: int = 1) -> Latency:
        """Summarise every sample taken so far."""
        times = sorted(self.times)
        n = len(times)
        median = statistics.median(times)
        if n > 1:
            q = statistics.quantiles(times, n=20, method="inclusive")
            iqr, p90 = q[14] - q[4], q[17]
        else:
            iqr, p90 = 0.0, times[0]
        variant = [v for v, on in (("compiled", self.compile), ("cuda graph", self.cuda_graph),
                                   (f"{rounds} interleaved rounds", rounds > 1)) if on]
        return Latency(
            median_ms=median * 1e3, iqr_ms=iqr * 1e3, min_ms=times[0] * 1e3,
            mean_ms=statistics.fmean(times) * 1e3, p90_ms=p90 * 1e3, samples=n,
            runs_per_sample=self.runs_per_sample, threads=self.threads, mode=self.mode,
            device=str(self.device), images_per_s=self.batch / median if median > 0 else 0.0,
            method=f"torch.utils.benchmark.Timer.{self.timer_kind}_autorange"
            + (f" ({', '.join(variant)})" if variant else ""),
            compiled=self.compile, cuda_graph=self.cuda_graph,
            channels_last=self.channels_last, device_ms=self.cuda_event_ms(),
        )


def measure(module: torch.nn.Module, x: torch.Tensor, *, budget_s: float = DEFAULT_BUDGET_S,
            **kwargs: Any) -> Latency:
    """Time one call of ``module(x)`` (forward, or forward + backward with ``mode='train'``)."""
    call = TimedCall(module, x, **kwargs)
    call.sample(budget_s)
    return call.latency()


def measure_interleaved(calls: list[TimedCall], budget_s: float, rounds: int = 5,
                        on_round: Callable[[int], None] | None = None) -> list[Latency]:
    """Sample the calls in turn, so a noisy machine hurts each alike; the order rotates each
    round (A B C, B C A, C A B, ...) because the first of a round tends to run fastest. Each
    call gets ``budget_s`` in all."""
    per_round = budget_s / rounds
    for r in range(rounds):
        shift = r % len(calls) if calls else 0
        for call in calls[shift:] + calls[:shift]:
            call.sample(per_round)
        if on_round is not None:
            on_round(r + 1)
    return [call.latency(rounds) for call in calls]
