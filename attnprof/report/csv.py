"""Records as CSV: one row per profile, one column per figure (compare, sweep); one row per
layer and per op of one profile (stat). Users parse these files: their columns and their
order are part of the contract."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from attnprof.metrics import METRICS, metric
from attnprof.report.block_views import op_rows, output_shapes
from attnprof.results import Profile
from attnprof.spec import BACKENDS


@dataclass(frozen=True)
class Records:
    """Raw figures, one record per profile: for formats users parse (CSV). ``None`` is a
    figure that was not measured or not counted."""

    columns: tuple[str, ...]
    rows: tuple[Mapping[str, object], ...]


RECORD_COLUMNS = ("name", "block", "options", "batch", "channels", "height", "width", "dtype",
                  "device", "mode", *METRICS, "latency_iqr_ms", "bytes_read", "bytes_written",
                  *[f"{b}_macs" for b in BACKENDS])


def record(p: Profile) -> dict[str, object]:
    b, c, h, w = p.input.shape
    own = p.own
    out: dict[str, object] = {
        "name": p.label, "block": p.block.name,
        "options": ";".join(f"{k}={v}" for k, v in p.block.options.items()),
        "batch": b, "channels": c, "height": h, "width": w, "dtype": p.input.dtype,
        "device": p.input.device, "mode": p.mode,
        "latency_iqr_ms": p.latency.iqr_ms if p.latency else None,
        "bytes_read": own.bytes_read if own is not None else None,
        "bytes_written": own.bytes_written if own is not None else None,
    }
    out.update({m: metric(p, m) for m in METRICS})
    for name in BACKENDS:
        count = p.counters.get(name)
        out[f"{name}_macs"] = count.macs if count is not None and count.ok else None
    return out


def records_view(profiles: Iterable[Profile]) -> Records:
    return Records(RECORD_COLUMNS, tuple(record(p) for p in profiles))


DETAIL_COLUMNS = ("table", "name", "type", "output_shape", "calls", "params",
                  *[f"{b}_macs" for b in BACKENDS], "flops", "transcendentals", "bytes_read",
                  "bytes_written", "bytes", "self_ms", "time_share")


def detail_records(p: Profile) -> Records:
    """``stat --csv``: the per-layer table (``table`` = ``layer``; ``name`` the module path,
    empty for the block itself) and then the per-op table (``op``; ``name`` the aten op),
    raw figures under one header. A figure a row does not have is None."""
    rows: list[dict[str, object]] = []
    shapes = output_shapes(p)
    for x in p.layers:
        cost = x.cost
        shape = shapes.get(x.path)
        rows.append({
            "table": "layer", "name": x.path, "type": x.type,
            "output_shape": "x".join(map(str, shape)) if shape is not None else None,
            "calls": None, "params": x.params,
            **{f"{b}_macs": x.macs.get(b) for b in BACKENDS},
            "flops": cost.flops if cost else None,
            "transcendentals": cost.transcendentals if cost else None,
            "bytes_read": cost.bytes_read if cost else None,
            "bytes_written": cost.bytes_written if cost else None,
            "bytes": cost.bytes if cost else None})
    for name, c, t in op_rows(p):
        rows.append({
            "table": "op", "name": name, "calls": c.calls if c else t.calls,
            "attnprof_macs": c.macs if c else None, "flops": c.flops if c else None,
            "transcendentals": c.transcendentals if c else None,
            "bytes_read": c.bytes_read if c else None,
            "bytes_written": c.bytes_written if c else None, "bytes": c.bytes if c else None,
            "self_ms": t.self_ms if t else None, "time_share": t.share if t else None})
    return Records(DETAIL_COLUMNS, tuple(rows))


COLUMNS = list(RECORD_COLUMNS)


def read_rows(path: str) -> list[dict[str, str]]:
    """Rows of an existing attnprof CSV (to resume a sweep)."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def profiles_csv(profiles: Iterable[Profile], prior: Iterable[dict[str, str]] = ()) -> str:
    """The CSV of ``prior`` rows (as read back by ``read_rows``) and then ``profiles``; an
    absent figure is an empty cell."""
    return _csv(records_view(profiles), prior)


def detail_csv(profile: Profile) -> str:
    """``stat --csv``: the per-layer rows, then the per-op rows (``table`` says which)."""
    return _csv(detail_records(profile))


def _csv(records: Records, prior: Iterable[dict[str, str]] = ()) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=records.columns, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for r in prior:
        writer.writerow(r)
    for r in records.rows:
        writer.writerow({k: ("" if x is None else x) for k, x in r.items()})
    return buf.getvalue()


MODEL_COLUMNS = ["row", "path", "type", "found_by", "params", "macs", "flops", "bytes",
                 "time_ms", "time_share", "time_ms_low", "time_ms_high"]


def model_csv(doc: dict) -> str:
    """``model``'s table as CSV, from its ``attnprof.model/1`` document: one row per attention
    module, then the attention together and the network (``row`` says which). Raw figures:
    counts as integers, times in ms, shares as fractions; an absent figure is empty."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MODEL_COLUMNS, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()

    def put(kind: str, d: dict, **extra) -> None:
        ci = d.get("time_ms_ci") or (None, None)
        row = {**d, **extra, "row": kind, "time_ms_low": ci[0], "time_ms_high": ci[1]}
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in MODEL_COLUMNS})

    for m in doc["modules"]:
        put("module", m)
    timing = doc.get("timing") or {}
    att = doc["attention"]
    put("attention", att, path="", time_share=att["share"].get("time"),
        time_ms_ci=timing.get("attention_ms_ci"))
    put("network", doc["network"], path="", time_share=1.0 if timing else None,
        time_ms_ci=timing.get("network_ms_ci"))
    return buf.getvalue()
