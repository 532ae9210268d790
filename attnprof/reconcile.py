"""Why the backends disagree: the ops each one missed, as shares of attnprof's full count.

fvcore and torch name the aten ops they saw but did not count; attnprof matches those names
(prorated by calls) against its own per-op table. torchinfo and torchstat count modules, so
every op outside the modules they know (matmuls, convolutions, norms) is missed. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from attnprof.results import Count

# aten ops that module-level backends count (Linear -> mm/addmm, Conv -> convolution, ...).
_MODULE_COUNTED = {
    "torchinfo": {"mm", "addmm", "bmm", "convolution", "_native_batch_norm_legit_no_training",
                  "native_batch_norm", "_native_batch_norm_legit", "native_layer_norm",
                  "native_group_norm"},
    "torchstat": {"mm", "addmm", "convolution", "_native_batch_norm_legit_no_training",
                  "native_batch_norm", "_native_batch_norm_legit", "relu", "relu_",
                  "max_pool2d", "max_pool2d_with_indices", "avg_pool2d",
                  "upsample_nearest2d", "upsample_bilinear2d"},
}


@dataclass(frozen=True)
class Missed:
    op: str
    flops: int
    share: float  # of attnprof's total FLOPs


def _short(op: str) -> str:
    """'aten::mul_' -> 'mul': an in-place variant is the same work as its op."""
    name = op.split("::", 1)[-1]
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


def _reported_uncounted(count: Count) -> dict[str, int]:
    """{'mul': 2, ...}: the aten ops the backend named, in-place variants merged."""
    out: dict[str, int] = {}
    for name, calls in count.uncounted.items():
        if name.startswith("aten::"):
            key = _short(name)
            out[key] = out.get(key, 0) + calls
    return out


def missed_ops(count: Count, own: Count) -> list[Missed]:
    """The ops of ``own``'s table that ``count``'s backend left out, largest first."""
    total = own.flops or 0
    if not own.ok or not total or not count.ok or count.backend == "attnprof":
        return []
    reported = _reported_uncounted(count)
    known = {_short(k) for k in _MODULE_COUNTED.get(count.backend, ())}
    module_level = count.backend in _MODULE_COUNTED
    grouped: dict[str, list[int]] = {}  # op -> [flops, calls], in-place variants merged
    for row in own.ops:
        entry = grouped.setdefault(_short(row.op), [0, 0])
        entry[0] += row.flops
        entry[1] += row.calls
    out = []
    for name, (flops, calls) in grouped.items():
        if flops == 0:
            continue
        if module_level:
            fraction = 0.0 if name in known else 1.0
        else:
            fraction = min(reported.get(name, 0) / max(calls, 1), 1.0)
        if fraction > 0:
            part = int(flops * fraction)
            out.append(Missed(name, part, part / total))
    return sorted(out, key=lambda m: -m.flops)


def missed_text(missed: list[Missed], limit: int = 4) -> str:
    if not missed:
        return "-"
    parts = [f"{m.op} {_pct(m.share)}" for m in missed[:limit]]
    if len(missed) > limit:
        parts.append(f"+{len(missed) - limit} more")
    return ", ".join(parts)


def _pct(share: float) -> str:
    p = 100 * share
    return "<0.1%" if 0 < p < 0.1 else f"{p:.0f}%" if p >= 10 else f"{p:.1f}%"
