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

Every Latency carries the order-statistic interval of its median and a quality record
(``attnprof.measure.quality``: noise figures, scheduler quantisation, the run queue, and
warnings). Without an explicit thread count, the count comes from
``machine.default_threads`` (usable CPUs less other runnable tasks, one left spare) and the
reason is recorded; one decision serves every TimedCall made within 30 s, so interleaved
calls time with the same count.

``l2_flush`` (CUDA, cold cache, as Triton's ``do_bench``): before every call a buffer larger
than the L2 cache is zeroed, and each call is timed alone between two CUDA events, so the
flush stays outside the timed region; the median is then device time per cold call. An eager
block of small kernels is launch-bound when warm, and the flush gives the CPU a head start,
so its kernels run back to back: compare cold and warm with ``cuda_graph``. (H100, SE at
4x64x56x56 under a graph: 18.3 us warm, 29.8 us cold.)

``measure_until`` runs interleaved rounds until a decision function over the samples is
decisive or a time cap is reached (criterion.rs and NVBench stop on noise the same way).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils import benchmark

from attnprof.errors import BadInput
from attnprof.measure import machine
from attnprof.measure.quality import quality as sample_quality
from attnprof.results import Latency
from attnprof.stats.order import median_ci

DEFAULT_BUDGET_S = 0.3
L2_FLUSH_BYTES = 256 * 2**20      # Triton's do_bench flushes with 256 MB
BLOCK_S = {"cpu": 1e-3, "cuda": 5e-3}   # target time of one timed block of calls
DEFAULT_REUSE_S = 30.0            # one default thread decision serves calls made this close

_default: tuple[float, int, str] | None = None


def default_threads() -> tuple[int, str]:
    """``machine.default_threads`` capped at torch's own count, decided once per 30 s."""
    global _default
    now = time.monotonic()
    if _default is None or now - _default[0] > DEFAULT_REUSE_S:
        threads, why = machine.default_threads(limit=torch.get_num_threads())
        _default = (now, threads, why)
    return _default[1], _default[2]


def call_step(module: torch.nn.Module, x: torch.Tensor, train: bool,
              fn: Callable[..., Any] | None = None) -> tuple[Callable[[], Any], bool]:
    """One timed call of ``module`` (through ``fn``, e.g. its compiled form): forward
    (inference) or forward and backward (training), and whether each call gets a fresh copy
    of the input (the block writes into its input; the copy is timed with it). In training
    the input is an activation that needs a gradient (``grad_input``) and the parameters'
    gradients are dropped before each call."""
    from attnprof.counters.own import backward_from, grad_input, writes_input

    x = grad_input(x) if train else x
    fresh = writes_input(module, x, train)
    fn = module if fn is None else fn
    if not train:
        return ((lambda: fn(x.clone())) if fresh else (lambda: fn(x))), fresh
    params = [p for p in module.parameters() if p.requires_grad]

    def train_step() -> None:
        for p in params:
            p.grad = None
        backward_from(fn(x.clone() if fresh else x))

    return train_step, fresh


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


def _flush_buffer(device: torch.device) -> torch.Tensor:
    """A buffer larger than the device's L2 cache (at least 256 MiB), zeroed to flush it."""
    l2 = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0) or 0
    return torch.empty(max(L2_FLUSH_BYTES, 4 * l2) // 4, dtype=torch.int32, device=device)


def by_round(samples: Sequence[float], sizes: Sequence[int]) -> tuple[tuple[float, ...], ...]:
    """``samples`` split into consecutive rounds of ``sizes`` samples each."""
    out, i = [], 0
    for n in sizes:
        out.append(tuple(samples[i:i + n]))
        i += n
    return tuple(out)


class TimedCall:
    """One block's timed statement, ready to be sampled; several can be interleaved.

    ``threads=None``: ``default_threads()``, its reason in ``threads_reason``.
    ``l2_flush``: cold-cache CUDA timing (module docstring); needs a CUDA device."""

    def __init__(self, module: torch.nn.Module, x: torch.Tensor, *, mode: str = "infer",
                 threads: int | None = None, warmup: int = 3, timer: str = "blocked",
                 compile: bool = False, cuda_graph: bool = False,
                 l2_flush: bool = False) -> None:
        self.train = mode == "train"
        self.mode = mode
        if threads is None:
            self.threads, self.threads_reason = default_threads()
        else:
            self.threads, self.threads_reason = threads, f"{threads} requested"
        self.timer_kind = timer
        if l2_flush and x.device.type != "cuda":
            raise BadInput("--l2-flush needs a CUDA device (--device cuda)")
        self.l2_flush, self.warmup = l2_flush, warmup
        self.compile, self.cuda_graph = compile, cuda_graph
        self.batch, self.device = x.shape[0], x.device
        self.channels_last = (x.dim() == 4 and not x.is_contiguous()
                              and x.is_contiguous(memory_format=torch.channels_last))
        module.train(self.train)
        self.step, self.fresh_input = call_step(
            module, x, self.train, torch.compile(module) if compile else None)
        self.times: list[float] = []   # seconds per call, one per sample
        self.sizes: list[int] = []     # calls per sample, beside ``times``
        self.round_sizes: list[int] = []   # samples taken by each sample() call (a round)
        self.machine: list[machine.MachineState] = []   # the run queue after each sample
        self.runs_per_sample = 0
        self._flush = _flush_buffer(x.device) if l2_flush else None
        self._block: int | None = None
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
        """Sample for about ``budget_s`` (one round) and keep the per-call times."""
        before = len(self.times)
        if self._flush is not None:
            self._sample_cold(budget_s)
        else:
            with self._context():
                if self.timer_kind == "adaptive":
                    m = self.timer.adaptive_autorange(min_run_time=min(budget_s, 0.05),
                                                      max_run_time=budget_s)
                    self.times.extend(m.times)
                    self.sizes.extend([m.number_per_run] * len(m.times))
                    self.runs_per_sample = max(self.runs_per_sample, m.number_per_run)
                else:
                    self._sample_blocks(budget_s)
        self.round_sizes.append(len(self.times) - before)
        self.machine.append(machine.machine_state(reads=3, interval_s=0.001))

    def rounds(self) -> tuple[tuple[float, ...], ...]:
        """The samples (seconds per call) split by the sample() call (round) that took them."""
        return by_round(self.times, self.round_sizes)

    def block_size(self) -> int:
        """Calls per sample, fixed at the first sample: enough for a block of about
        ``BLOCK_S`` (1 ms on CPU, 5 ms on CUDA, whose timer synchronises around a block),
        from the median of five single calls. Short blocks give many samples, so the median
        and its interval rest on blocks that no interruption touched."""
        if self._block is None:
            target = BLOCK_S["cuda" if self.device.type == "cuda" else "cpu"]
            first = self._time_block(1)
            if first >= target:  # a slow call: no more calls spent on the estimate
                self._block = 1
            else:
                singles = sorted([first, *(self._time_block(1) for _ in range(4))])
                self._block = max(1, math.ceil(target / max(singles[2], 1e-9)))
        return self._block

    def _time_block(self, number: int) -> float:
        """Seconds for ``number`` calls: the Timer's inner loop (``_timeit``, the loop that
        ``blocked_autorange`` runs; its public ``timeit`` adds two warm-up calls per block),
        or ``timeit`` where a torch lacks it."""
        inner = getattr(self.timer, "_timeit", None)
        return inner(number) if inner is not None else self.timer.timeit(number).raw_times[0]

    def _sample_blocks(self, budget_s: float) -> None:
        """Blocks of ``block_size()`` calls, each timed by the Timer, for about ``budget_s``
        of wall time (at least one block). Runs inside ``_context()``."""
        number = self.block_size()
        start = time.perf_counter()
        while True:
            self.times.append(self._time_block(number) / number)
            self.sizes.append(number)
            if time.perf_counter() - start >= budget_s:
                break
        self.runs_per_sample = max(self.runs_per_sample, number)

    def _sample_cold(self, budget_s: float, batch: int = 10) -> None:
        """Each call alone between CUDA events, the L2 flushed before it (outside them)."""
        pairs = []
        start = time.perf_counter()
        with self._context():
            while not pairs or time.perf_counter() - start < budget_s:
                for _ in range(batch):
                    self._flush.zero_()
                    begin = torch.cuda.Event(enable_timing=True)
                    end = torch.cuda.Event(enable_timing=True)
                    begin.record()
                    self.step()
                    end.record()
                    pairs.append((begin, end))
                torch.cuda.synchronize(self.device)
        self.times.extend(b.elapsed_time(e) / 1e3 for b, e in pairs)
        self.sizes.extend([1] * len(pairs))
        self.runs_per_sample = max(self.runs_per_sample, 1)

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

    def machine_state(self) -> machine.MachineState | None:
        """The run queue while sampling: the reading with the median number of others."""
        seen = sorted(self.machine, key=lambda m: -1 if m.others is None else m.others)
        return seen[len(seen) // 2] if seen else None

    def latency(self, rounds: int = 1) -> Latency:
        """Summarise every sample taken so far: median, its interval, the quality record."""
        times = sorted(self.times)
        n = len(times)
        median = statistics.median(times)
        if n > 1:
            q = statistics.quantiles(times, n=20, method="inclusive")
            iqr, p90 = q[14] - q[4], q[17]
        else:
            iqr, p90 = 0.0, times[0]
        ci = median_ci(self.times)
        sizes = self.sizes if len(self.sizes) == len(self.times) else 1
        quality = sample_quality(self.times, block_sizes=sizes, threads=self.threads,
                                 machine=self.machine_state(), ci=ci)
        variant = [v for v, on in (("compiled", self.compile), ("cuda graph", self.cuda_graph),
                                   ("L2 flushed before each", self.l2_flush),
                                   (f"{self.warmup} warm-up calls", self.warmup != 3),
                                   (f"{rounds} interleaved rounds", rounds > 1),
                                   ("a fresh copy of the input per call, timed with it: the "
                                    "block writes into its input", self.fresh_input)) if on]
        if self.l2_flush:
            timer = "CUDA events per call"
        elif self.timer_kind == "adaptive":
            timer = "torch.utils.benchmark.Timer.adaptive_autorange"
        else:
            timer = f"torch.utils.benchmark.Timer, blocks of {self.runs_per_sample} calls"
        return Latency(
            median_ms=median * 1e3, iqr_ms=iqr * 1e3, min_ms=times[0] * 1e3,
            mean_ms=statistics.fmean(times) * 1e3, p90_ms=p90 * 1e3, samples=n,
            runs_per_sample=self.runs_per_sample, threads=self.threads, mode=self.mode,
            device=str(self.device), images_per_s=self.batch / median if median > 0 else 0.0,
            method=timer + (f" ({', '.join(variant)})" if variant else ""),
            compiled=self.compile, cuda_graph=self.cuda_graph,
            channels_last=self.channels_last, device_ms=self.cuda_event_ms(),
            ci_low_ms=ci.low * 1e3 if ci.bounded else None,
            ci_high_ms=ci.high * 1e3 if ci.bounded else None,
            ci_coverage=ci.coverage if ci.bounded else None, ci_method=ci.method,
            quality=quality, threads_reason=self.threads_reason, l2_flush=self.l2_flush,
            rounds_ms=tuple(tuple(t * 1e3 for t in r) for r in self.rounds()),
        )


def measure(module: torch.nn.Module, x: torch.Tensor, *, budget_s: float = DEFAULT_BUDGET_S,
            **kwargs: Any) -> Latency:
    """Time one call of ``module(x)`` (forward, or forward + backward with ``mode='train'``)."""
    call = TimedCall(module, x, **kwargs)
    call.sample(budget_s)
    return call.latency()


def _round(calls: Sequence[TimedCall], r: int, budget_s: float) -> None:
    """Round ``r`` (0-based): every call once, the order rotated by ``r``."""
    shift = r % len(calls) if calls else 0
    for call in [*calls[shift:], *calls[:shift]]:
        call.sample(budget_s)


def measure_interleaved(calls: list[TimedCall], budget_s: float, rounds: int = 5,
                        on_round: Callable[[int], None] | None = None) -> list[Latency]:
    """Sample the calls in turn, so a noisy machine hurts each alike; the order rotates each
    round (A B C, B C A, C A B, ...) because the first of a round tends to run fastest. Each
    call gets ``budget_s`` in all."""
    per_round = budget_s / rounds
    for r in range(rounds):
        _round(calls, r, per_round)
        if on_round is not None:
            on_round(r + 1)
    return [call.latency(rounds) for call in calls]


Decide = Callable[[list[tuple[tuple[float, ...], ...]]], bool]


@dataclass(frozen=True)
class Adaptive:
    """What ``measure_until`` did: the latencies, the rounds it ran, and why it stopped:
    "decisive", "time cap" or "max rounds"."""

    latencies: list[Latency]
    rounds: int
    stopped: str
    elapsed_s: float

    @property
    def decisive(self) -> bool:
        return self.stopped == "decisive"


def measure_until(calls: Sequence[TimedCall], decide: Decide, *, round_budget_s: float = 0.06,
                  min_rounds: int = 3, max_rounds: int = 100, time_cap_s: float = 10.0,
                  on_round: Callable[[int], None] | None = None,
                  clock: Callable[[], float] = time.perf_counter,
                  cap_after_min: bool = False) -> Adaptive:
    """Interleaved rounds (rotating, as ``measure_interleaved``) of ``round_budget_s`` per
    call, until ``decide`` is satisfied or the time cap says stop.

    After each round from ``min_rounds`` on, ``decide`` gets every call's samples so far, by
    round (``TimedCall.rounds()``: seconds per call, in ``calls`` order), and returns True
    once its decision is decisive, e.g. for a budget of call 1 against call 0
    (:mod:`attnprof.stats.verdicts`, :mod:`attnprof.stats.bootstrap`)::

        decide = lambda s: is_decisive(budget(ratio_ci(s[1], s[0]), max_ratio))

    It stops at ``max_rounds``, or before a round that would end past ``time_cap_s`` (the
    mean round so far predicts the next); with ``cap_after_min`` the cap applies only once
    ``min_rounds`` are done (a network's timing needs them for its intervals)."""
    if min_rounds < 1 or max_rounds < min_rounds:
        raise ValueError("need 1 <= min_rounds <= max_rounds")
    start = clock()
    r, stopped = 0, "max rounds"
    while r < max_rounds:
        _round(calls, r, round_budget_s)
        r += 1
        if on_round is not None:
            on_round(r)
        if r >= min_rounds and decide([c.rounds() for c in calls]):
            stopped = "decisive"
            break
        elapsed = clock() - start
        if (r >= min_rounds or not cap_after_min) and elapsed + elapsed / r > time_cap_s:
            stopped = "time cap"
            break
    return Adaptive([c.latency(r) for c in calls], r, stopped, clock() - start)
