"""Latency with ``torch.utils.benchmark``: warm-up, ``blocked_autorange`` within a time budget,
an explicit thread count, median and spread over blocks of runs.

The timed module is a private copy, so training steps never touch the user's gradients.
Grad mode is entered once around the measurement, not per call, so the timed statement is
the block's call and nothing else. The Timer synchronises CUDA around timed regions.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import torch
from torch.utils import benchmark

from attnprof.results import Latency

DEFAULT_BUDGET_S = 0.3


def _step(module: torch.nn.Module, x: torch.Tensor, train: bool) -> Callable[[], Any]:
    if not train:
        return lambda: module(x)
    params = [p for p in module.parameters() if p.requires_grad]

    def train_step() -> None:
        for p in params:
            p.grad = None
        out = module(x)
        out.backward(torch.ones_like(out))

    return train_step


def measure(
    module: torch.nn.Module,
    x: torch.Tensor,
    *,
    mode: str = "infer",
    threads: int | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    warmup: int = 3,
) -> Latency:
    """Time one call of ``module(x)`` (forward, or forward + backward with ``mode='train'``)."""
    train = mode == "train"
    threads = threads or torch.get_num_threads()
    module.train(train)
    x = x.detach().requires_grad_(train) if train else x
    step = _step(module, x, train)
    grad_mode = torch.enable_grad() if train else torch.inference_mode()
    timer = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads,
                            label="attnprof")
    with grad_mode:
        with benchmark.utils.common.set_torch_threads(threads):
            for _ in range(warmup):
                step()
        m = timer.blocked_autorange(min_run_time=budget_s)
    times = sorted(m.times)
    q = statistics.quantiles(times, n=10, method="inclusive") if len(times) > 1 else times * 9
    median = m.median
    return Latency(
        median_ms=median * 1e3, iqr_ms=m.iqr * 1e3, min_ms=times[0] * 1e3,
        mean_ms=m.mean * 1e3, p90_ms=q[8] * 1e3, samples=len(times),
        runs_per_sample=m.number_per_run, threads=threads, mode=mode,
        device=str(x.device), images_per_s=x.shape[0] / median if median > 0 else 0.0,
        method="torch.utils.benchmark.Timer.blocked_autorange",
    )
