"""The ``attnprof`` backend: the own counter of :mod:`attnprof.counters.own`, as a Count.

Counts on the meta device; if the block cannot run there (data-dependent ops), counts again
on real tensors on the target device and says so.
"""

from __future__ import annotations

from attnprof.counters import Target
from attnprof.counters.own import OpCount, count_module
from attnprof.results import Cost, Count, OpCost


def op_count(target: Target) -> OpCount:
    if target.runs_on_meta:
        try:
            return count_module(target.module, target.shape, target.dtype, train=target.train)
        except (NotImplementedError, RuntimeError):
            pass
    return count_module(target.module, target.shape, target.dtype, train=target.train,
                        device=target.device)


def to_count(result: OpCount, train: bool) -> Count:
    total = result.total
    ops = tuple(OpCost(op=name, **t.to_dict(),
                       intensity=round(t.flops / t.bytes, 4) if t.bytes else None)
                for name, t in sorted(result.ops.items(), key=lambda kv: (-kv[1].flops, kv[0])))
    layer_costs = {path: Cost(**t.to_dict()) for path, t in sorted(result.layers.items())}
    layer_costs.setdefault("", Cost(**total.to_dict()))
    notes = ["every aten op: matmul/conv FLOPs = 2 x MACs, elementwise per output element, "
             "reductions and pooling per input element"]
    if result.device != "meta":
        notes.append(f"counted on {result.device} tensors: the block does not run on meta")
    if train:
        notes.append("forward and backward")
    return Count(
        backend="attnprof", status="ok", unit="FLOPs", reported=total.flops, macs=total.macs,
        flops=total.flops, transcendentals=total.transcendentals,
        bytes_read=total.bytes_read, bytes_written=total.bytes_written,
        uncounted=dict(sorted(result.uncounted_ops.items())),
        notes=tuple(notes), layers={p: c.macs for p, c in layer_costs.items()},
        ops=ops, layer_costs=layer_costs, device=result.device,
        extra={"peak_live_bytes": result.peak_live_bytes},
    )


def count(target: Target) -> Count:
    return to_count(op_count(target), target.train)
