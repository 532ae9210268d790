"""Several profiles side by side (compare, suites): one row per block, and against a
baseline, ratios and differences."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table

from attnprof.metrics import metric
from attnprof.report import fmt
from attnprof.report.markdown import md_table
from attnprof.results import Profile

COLUMNS = [("params", "params", fmt.count), ("macs", "MACs", fmt.count),
           ("flops", "FLOPs", fmt.count), ("bytes", "bytes", fmt.nbytes),
           ("latency_ms", "latency", fmt.ms), ("peak_bytes", "peak memory", fmt.nbytes)]


def comparison(profiles: list[Profile], baseline: str | None) -> dict[str, Any] | None:
    """{baseline, rows: [{name, <metric>: {value, ratio, diff}}]} or None without a baseline."""
    if baseline is None:
        return None
    base = next(p for p in profiles if p.label == baseline)
    rows = []
    for p in profiles:
        row: dict[str, Any] = {"name": p.label}
        for key, _, _ in COLUMNS:
            v, b = metric(p, key), metric(base, key)
            row[key] = {"value": v,
                        "ratio": (v / b) if v is not None and b else None,
                        "diff": (v - b) if v is not None and b is not None else None}
        rows.append(row)
    return {"baseline": baseline, "rows": rows}


def _cell(p: Profile, base: Profile | None, key: str, render, compact: bool = False) -> str:
    v = metric(p, key)
    text = fmt.si(v) if compact and render is fmt.count else render(v)
    if key == "latency_ms" and p.latency is not None:
        text += f" ±{fmt.ms(p.latency.iqr_ms / 2)}"
    if base is not None and base is not p and v is not None:
        b = metric(base, key)
        if b:
            text += f" ({v / b:.2f}x)"
    return text


HOST_COLUMNS = [("params", "+params"), ("macs", "+MACs"), ("latency_ms", "+latency")]


def _host_cells(p: Profile) -> list[str]:
    """What the block adds to its host network, absolute and in percent."""
    h = p.host
    cells = []
    for key, _ in HOST_COLUMNS:
        a = h.added(key) if h is not None else None
        if a is None:
            cells.append("-")
            continue
        b = h.base.latency.median_ms if key == "latency_ms" else getattr(h.base, key)
        text = fmt.ms(a) if key == "latency_ms" else fmt.si(a)
        cells.append(text + (f" ({100 * a / b:+.2f}%)" if b else ""))
    return cells


def compare_table(profiles: list[Profile], baseline: str | None = None) -> Table:
    base = next((p for p in profiles if p.label == baseline), None)
    hosted = any(p.host for p in profiles)
    title = "Side by side (attnprof's counts; latency median ± half IQR"
    title += f"; ratios to {baseline})" if baseline else ")"
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("block", no_wrap=True)
    t.add_column("input", no_wrap=True)
    for _, label, _ in COLUMNS:
        t.add_column(label, justify="right", no_wrap=True)
    if hosted:
        for _, label in HOST_COLUMNS:
            t.add_column(label, justify="right", no_wrap=True)
    for p in profiles:
        name = p.label + (" (baseline)" if p is base else "")
        if p.host:
            name += f" in {p.host.name}"
        shape = p.input.text
        t.add_row(name, shape, *[_cell(p, base, key, r, hosted) for key, _, r in COLUMNS],
                  *(_host_cells(p) if hosted else []))
    return t


def compare_markdown(profiles: list[Profile], baseline: str | None = None) -> str:
    base = next((p for p in profiles if p.label == baseline), None)
    hosted = any(p.host for p in profiles)
    rows = [[p.label + (" (baseline)" if p is base else "")
             + (f" in {p.host.name}" if p.host else ""),
             p.input.text,
             *[_cell(p, base, key, r) for key, _, r in COLUMNS],
             *(_host_cells(p) if hosted else [])] for p in profiles]
    head = ["block", "input", *[label for _, label, _ in COLUMNS],
            *([label for _, label in HOST_COLUMNS] if hosted else [])]
    return "\n".join(md_table(head, rows, set(range(2, len(head))))) + "\n"
