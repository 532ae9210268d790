"""Per-op self time from ``torch.profiler``, named as attnprof's counter names ops.

The profiler reports time where it is spent: in ``aten::mkldnn_convolution`` under
``aten::convolution``, in ``aten::sum`` under ``aten::mean``. Each event's self time is
given to its nearest ancestor (or itself) that the counter has a row for, so time and counts
line up op by op. Events with no such ancestor keep their own name (dispatch overhead of
composite ops such as ``aten::linear``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile


def op_times(module: torch.nn.Module, x: torch.Tensor, *, train: bool, counted: set[str],
             runs: int = 10, warmup: int = 3, threads: int | None = None,
             quiet: bool = True) -> list[dict[str, Any]]:
    """Self time per op per call, largest first: [{op, calls, self_ms, share}, ...].
    ``quiet``: the profiler's own start/stop lines are not printed (--verbose shows them)."""
    from torch.utils.benchmark.utils.common import set_torch_threads

    from attnprof.contain import c_stderr_quiet

    cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    module.train(train)
    from attnprof.measure.latency import call_step

    step, _fresh = call_step(module, x, train)  # the very call the latency times

    grad_mode = torch.enable_grad() if train else torch.inference_mode()
    with grad_mode, set_torch_threads(threads or torch.get_num_threads()):
        for _ in range(warmup):
            step()
        prof = profile(activities=activities)
        with c_stderr_quiet(quiet):  # the profiler's own lines on descriptor 2
            prof.start()
        try:
            for _ in range(runs):
                step()
            if cuda:
                torch.cuda.synchronize(x.device)
        finally:
            with c_stderr_quiet(quiet):
                prof.stop()
    total_us: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for ev in prof.events():
        if not ev.name.startswith("aten::"):
            continue
        self_us = ev.self_device_time_total if cuda else ev.self_cpu_time_total
        node, owner = ev, None
        while node is not None:
            if node.name in counted:
                owner = node.name
                break
            node = node.cpu_parent
        name = owner or ev.name
        total_us[name] += self_us
        if owner is None or owner == ev.name:
            calls[name] += 1
    grand = sum(total_us.values()) or 1.0
    rows = [{"op": name, "calls": calls[name] // runs, "self_ms": us / runs / 1e3,
             "share": us / grand} for name, us in total_us.items() if us > 0]
    return sorted(rows, key=lambda r: -r["self_ms"])
