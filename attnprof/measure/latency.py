"""Latency with ``torch.utils.benchmark``: warm-up, ``blocked_autorange`` (or
``adaptive_autorange``) within a time budget, an explicit thread count, and the spread of
the samples.

The timed module is a private copy, so training steps never touch the user's gradients.
Grad mode is entered once around the measurement, not per call, so the timed statement is
the block's call and nothing else. The Timer synchronises CUDA around timed regions; with
``cuda_graph`` the call is captured once and the Timer times ``graph.replay()``, which
removes launch overhead and leaves the kernels' time. ``compile`` times
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
TIMERS = ("blocked", "adaptive")


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


def measure(
    module: torch.nn.Module,
    x: torch.Tensor,
    *,
    mode: str = "infer",
    threads: int | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    warmup: int = 3,
    timer: str = "blocked",
    compile: bool = False,
    cuda_graph: bool = False,
) -> Latency:
    """Time one call of ``module(x)`` (forward, or forward + backward with ``mode='train'``)."""
    train = mode == "train"
    threads = threads or torch.get_num_threads()
    module.train(train)
    params = [p for p in module.parameters() if p.requires_grad]
    x = x.detach().requires_grad_(train) if train else x
    fn: Callable[..., Any] = torch.compile(module) if compile else module
    step = _step(fn, x, train, params)
    grad_mode = torch.enable_grad() if train else torch.inference_mode()
    with grad_mode, benchmark.utils.common.set_torch_threads(threads):
        for _ in range(warmup):  # compiles, when compiling; fills caches
            step()
        if cuda_graph:
            if x.device.type != "cuda":
                raise BadInput("--cuda-graph needs a CUDA device (--device cuda)")
            step = _graphed(step, warmup)
        t = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads,
                            label="attnprof")
        if timer == "adaptive":
            m = t.adaptive_autorange(min_run_time=min(budget_s, 0.05), max_run_time=budget_s)
        else:
            m = t.blocked_autorange(min_run_time=budget_s)
    times = sorted(m.times)
    q = statistics.quantiles(times, n=10, method="inclusive") if len(times) > 1 else times * 9
    median = m.median
    variant = [v for v, on in (("compiled", compile), ("cuda graph", cuda_graph)) if on]
    return Latency(
        median_ms=median * 1e3, iqr_ms=m.iqr * 1e3, min_ms=times[0] * 1e3,
        mean_ms=m.mean * 1e3, p90_ms=q[8] * 1e3, samples=len(times),
        runs_per_sample=m.number_per_run, threads=threads, mode=mode,
        device=str(x.device), images_per_s=x.shape[0] / median if median > 0 else 0.0,
        method=f"torch.utils.benchmark.Timer.{timer}_autorange"
        + (f" ({', '.join(variant)})" if variant else ""),
        compiled=compile, cuda_graph=cuda_graph,
        channels_last=x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
        and not x.is_contiguous(),
    )
