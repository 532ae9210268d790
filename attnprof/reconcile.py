"""Why the backends disagree: the ops each one missed, as shares of attnprof's full count.

Each wrapped backend's Count carries what it missed of attnprof's count of the same run,
derived from what the backend itself attributed, per module and per op
(:mod:`attnprof.counters.coverage`; docs/counting.md): ``counted_flops`` (attnprof's FLOPs
of the work it counted), ``missed`` (the rest, by aten op and pass) and
``unexplained_flops`` (work that could not be matched either way, normally 0), so that

    attnprof's FLOPs = counted_flops + sum(missed) + unexplained_flops

exactly. A backend that ran on another input than attnprof's, for a block whose count
depends on the input, carries ``not_compared`` instead. This module only reads those
fields, for the reports. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from attnprof.results import Count, Profile

UNEXPLAINED = "unexplained"


@dataclass(frozen=True)
class Missed:
    op: str  # "mul" (in-place variants merged), or "unexplained"
    flops: int
    share: float  # of attnprof's total FLOPs
    calls: int = 0
    backward: bool = False

    @property
    def label(self) -> str:
        return f"{self.op} (backward)" if self.backward else self.op


def _short(op: str) -> str:
    """'aten::mul_' -> 'mul': an in-place variant is the same work as its op."""
    name = op.split("::", 1)[-1]
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


def compared(count: Count, own: Count | None) -> bool:
    """Whether ``count``'s figure can be set against attnprof's as a share of the same work."""
    return (own is not None and own.ok and bool(own.flops) and count.ok
            and count.backend != "attnprof" and count.not_compared is None
            and count.counted_flops is not None)


def missed_ops(count: Count, own: Count | None) -> list[Missed]:
    """The ops of ``own``'s count that ``count``'s backend left out, largest first, then the
    unexplained rest when there is one."""
    if not compared(count, own):
        return _legacy(count, own)
    total = own.flops
    grouped: dict[tuple[str, bool], list[int]] = {}
    for m in count.missed:
        entry = grouped.setdefault((_short(m.op), m.backward), [0, 0])
        entry[0] += m.flops
        entry[1] += m.calls
    out = [Missed(op, flops, flops / total, calls, backward)
           for (op, backward), (flops, calls) in grouped.items() if flops]
    out.sort(key=lambda m: (-m.flops, m.backward, m.op))
    if count.unexplained_flops:
        out.append(Missed(UNEXPLAINED, count.unexplained_flops,
                          count.unexplained_flops / total))
    return out


def _legacy(count: Count, own: Count | None) -> list[Missed]:
    """A document written before the derivation was recorded: the whole gap is unexplained."""
    if (own is None or not own.ok or not own.flops or not count.ok or count.flops is None
            or count.backend == "attnprof" or count.not_compared is not None
            or count.counted_flops is not None):
        return []
    gap = own.flops - count.flops
    return [Missed(UNEXPLAINED, gap, gap / own.flops)] if gap > 0 else []


def missed_text(missed: list[Missed], limit: int = 4) -> str:
    if not missed:
        return "-"
    shown = missed[:limit]
    rest = [m for m in missed[limit:] if m.op != UNEXPLAINED]
    tail = [m for m in missed[limit:] if m.op == UNEXPLAINED]
    parts = [f"{m.label} {_pct(m.share)}" for m in shown]
    if rest:
        parts.append(f"+{len(rest)} more {_pct(sum(m.share for m in rest))}")
    parts += [f"{m.label} {_pct(m.share)}" for m in tail]
    return ", ".join(parts)


def share_text(count: Count, own: Count | None, percent) -> str:
    """The "of attnprof" cell: ``percent(count.flops, own.flops)`` where the two are the same
    work on the same input, else why not."""
    if count.backend == "attnprof":
        return "100%"
    if count.not_compared is not None:
        return "not compared"
    return percent(count.flops, own.flops if own is not None and own.ok else None)


def _pct(share: float) -> str:
    p = 100 * share
    return "<0.1%" if 0 < p < 0.1 else f"{p:.0f}%" if p >= 10 else f"{p:.1f}%"


def reconcile(profile: Profile) -> dict[str, list[Missed]]:
    own = profile.counters.get("attnprof")
    if own is None:
        return {}
    return {name: missed_ops(c, own) for name, c in profile.counters.items() if name != "attnprof"}
