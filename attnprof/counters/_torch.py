"""PyTorch's own ``torch.utils.flop_counter.FlopCounterMode``, on the meta device.

It has formulas for the matmul family, convolutions and attention kernels only; its FLOPs
are 2 x MACs. A second dispatch mode beside it records which ops ran without a formula.
It counts on the inputs attnprof's own counter counted on (the meta device, or the same real,
seeded input: :mod:`attnprof.counters.inputs`), so that the two are counts of one run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from torch.utils import flop_counter
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from attnprof.counters import Counted, Target
from attnprof.counters.coverage import Attribution, reference, torch_covers
from attnprof.counters.inputs import describe, run_like, run_on_inputs, spread, variation_note
from attnprof.counters.no_dynamo import without_dynamo_import
from attnprof.counters.own import (
    counting_copy,
    grad_input,
    grad_outputs,
    seeded_input,
    seeded_rngs,
)
from attnprof.results import Count


class _SeenOps(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not func.is_view and func._overloadpacket not in flop_registry:
            self.seen[func._schema.name] += 1
        return func(*args, **(kwargs or {}))


@dataclass
class _Run:
    total: int
    flop_counts: dict
    seen: Counter
    root: str


# the dispatch mode FlopCounterMode pushes (a private class of torch: absent, nothing is seeded)
_MODES = (_SeenOps, getattr(flop_counter, "_FlopCounterMode", None))


def _run(target: Target, device: str, seed: int) -> tuple[_Run, bool]:
    model = counting_copy(target.module, device, target.dtype, target.train)
    x = seeded_input(target.shape, target.dtype, device, seed)
    seen = _SeenOps()
    counter = FlopCounterMode(display=False)
    if target.train:
        x = grad_input(x)
    with without_dynamo_import(*filter(None, _MODES), compile=target.compile), \
            seeded_rngs(seed, device) as rng, seen, counter:
        if target.train:
            outs = grad_outputs(model(x))
            torch.autograd.backward(outs, [torch.ones_like(t) for t in outs])
        else:
            with torch.no_grad():
                model(x)
    run = _Run(int(counter.get_total_flops()), counter.get_flop_counts(), seen.seen,
               type(model).__name__)
    return run, rng["used"]


def count(target: Target) -> Counted:
    def run(device: str, seed: int, _budget) -> tuple[_Run, bool]:
        return _run(target, device, seed)

    try:
        runs = run_like(run, reference(target))
    except Exception:  # attnprof's count failed, or this one fails where it ran: on its own
        runs = run_on_inputs(run, target.device)
    first: _Run = runs.first
    total = first.total
    root = first.root
    layers: dict[str, int | None] = {path: 0 for path, _ in target.module.named_modules()}
    layers[""] = total // 2
    counted_ops = set()
    for name, per_op in first.flop_counts.items():
        if name == "Global":
            counted_ops = {f"aten::{str(op).split('.', 1)[-1]}" for op, n in per_op.items() if n}
        if name in ("Global", root):
            continue
        layers[name.split(".", 1)[1] if name.startswith(root + ".") else name] = \
            sum(per_op.values()) // 2
    uncounted = [op for op in first.seen if not op.startswith("aten::_local_scalar")]
    notes = ["formulas for matmuls, convolutions and attention kernels only"]
    if runs.needs_data:
        notes.append(f"counted on {runs.device} tensors (seed 0): the block does not run on the "
                     "meta device")
    by_seed = {s: r.total for s, r in runs.results.items()}
    warning = variation_note("torch", runs, by_seed)
    if warning:
        notes.append(warning)
    if target.train:
        notes.append("forward and backward")
    result = Count(
        backend="torch", status="ok", unit="FLOPs", reported=total, macs=total // 2, flops=total,
        uncounted={op: first.seen[op] for op in sorted(uncounted)},
        notes=tuple(notes), layers=layers,
        input="meta" if runs.on_meta else "real", input_why=describe(runs),
        flops_range=spread(by_seed),
    )
    return Counted(result, Attribution(covers=lambda own: torch_covers(counted_ops),
                                       same_input=True))
