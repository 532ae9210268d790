"""The ``attnprof`` backend: the own counter of :mod:`attnprof.counters.own`, as a Count.

Counts on the meta device, or on real CPU tensors when the input is small
(:mod:`attnprof.counters.real`); if the block cannot run on meta (data-dependent ops), counts
on a real, seeded input on the target device, and again on other seeds to see whether the count
depends on the input (:mod:`attnprof.counters.inputs`). The count is kept per target: every
other backend is matched against it (:mod:`attnprof.counters.coverage`).
"""

from __future__ import annotations

from attnprof.counters import Counted, Target
from attnprof.counters.inputs import Runs, describe, spread, variation_note
from attnprof.counters.own import OpCount
from attnprof.results import Count, OpCost


def decomposed(result: OpCount) -> dict[str, list[str]]:
    """Torch functions whose work is counted through the aten ops they became
    (``aten::linear`` -> ``aten::addmm``), by the names the profiler gives them."""
    out: dict[str, set[str]] = {}
    for cell in result.cells:
        if cell.backward or not cell.source:
            continue
        name = f"aten::{cell.source}"
        if name != cell.op:
            out.setdefault(name, set()).add(cell.op)
    return {k: sorted(v) for k, v in sorted(out.items())}


def to_count(result: OpCount, train: bool, runs: Runs | None = None) -> Count:
    total = result.total
    ops = tuple(OpCost(op=name, **t.to_dict(),
                       intensity=round(t.flops / t.bytes, 4) if t.bytes else None)
                for name, t in sorted(result.ops.items(), key=lambda kv: (-kv[1].flops, kv[0])))
    layer_costs = dict(sorted(result.layers.items()))
    layer_costs.setdefault("", total)
    notes = ["every aten op: matmul/conv FLOPs = 2 x MACs, elementwise per output element, "
             "reductions and pooling per input element"]
    if (runs.needs_data if runs is not None else result.device != "meta"):
        notes.append(f"counted on {result.device} tensors (seed {result.seed}): the block does "
                     "not run on the meta device")
    flops_range = None
    if runs is not None:
        by_seed = {s: r.total.flops for s, r in runs.results.items()}
        flops_range = spread(by_seed)
        warning = variation_note("attnprof", runs, by_seed)
        if warning:
            notes.append(warning)
    if train:
        notes.append("forward and backward")
    return Count(
        backend="attnprof", status="ok", unit="FLOPs", reported=total.flops, macs=total.macs,
        flops=total.flops, transcendentals=total.transcendentals,
        bytes_read=total.bytes_read, bytes_written=total.bytes_written,
        uncounted=dict(sorted(result.uncounted_ops.items())),
        notes=tuple(notes), layers={p: c.macs for p, c in layer_costs.items()},
        ops=ops, layer_costs=layer_costs, device=result.device,
        extra={"peak_live_bytes": result.peak_live_bytes, "decomposed": decomposed(result),
               "output_shapes": dict(sorted(result.output_shapes.items()))},
        input="meta" if result.device == "meta" else "real",
        input_why=describe(runs) if runs is not None else None, flops_range=flops_range,
    )


def count(target: Target) -> Counted:
    from attnprof.counters.coverage import reference

    runs = reference(target)
    return Counted(to_count(runs.first, target.train, runs))
