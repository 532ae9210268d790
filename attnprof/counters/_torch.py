"""PyTorch's own ``torch.utils.flop_counter.FlopCounterMode``, on the meta device.

It has formulas for the matmul family, convolutions and attention kernels only; its FLOPs
are 2 x MACs. A second dispatch mode beside it records which ops ran without a formula.
"""

from __future__ import annotations

from collections import Counter

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from attnprof.counters import Target
from attnprof.counters.own import grad_outputs, meta_copy
from attnprof.results import Count


class _SeenOps(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.seen: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not func.is_view and func._overloadpacket not in flop_registry:
            self.seen[func._schema.name] += 1
        return func(*args, **(kwargs or {}))


def count(target: Target) -> Count:
    model = meta_copy(target.module).to(dtype=target.dtype).train(target.train)
    x = target.input(device="meta")
    seen = _SeenOps()
    counter = FlopCounterMode(display=False)
    with seen, counter:
        if target.train:
            x.requires_grad_(True)
            outs = grad_outputs(model(x))
            torch.autograd.backward(outs, [torch.ones_like(t) for t in outs])
        else:
            with torch.no_grad():
                model(x)
    total = int(counter.get_total_flops())
    root = type(model).__name__
    layers: dict[str, int | None] = {path: 0 for path, _ in model.named_modules()}
    layers[""] = total // 2
    for name, per_op in counter.get_flop_counts().items():
        if name in ("Global", root):
            continue
        layers[name.split(".", 1)[1] if name.startswith(root + ".") else name] = \
            sum(per_op.values()) // 2
    uncounted = [op for op in seen.seen if not op.startswith("aten::_local_scalar")]
    notes = ["formulas for matmuls, convolutions and attention kernels only"]
    if target.train:
        notes.append("forward and backward")
    return Count(
        backend="torch", status="ok", unit="FLOPs", reported=total, macs=total // 2, flops=total,
        uncounted={op: seen.seen[op] for op in sorted(uncounted)},
        notes=tuple(notes), layers=layers,
    )
