"""CSV: one row per profile, one column per metric (compare, sweep)."""

from __future__ import annotations

import csv
import io

from attnprof.metrics import METRICS, metric
from attnprof.request import BACKENDS
from attnprof.results import Profile

COLUMNS = ["name", "block", "options", "batch", "channels", "height", "width", "dtype",
           "device", "mode", *METRICS, "latency_iqr_ms", "bytes_read", "bytes_written",
           *[f"{b}_macs" for b in BACKENDS]]


def row(p: Profile) -> dict[str, object]:
    b, c, h, w = p.input.shape
    own = p.counters.get("attnprof")
    out: dict[str, object] = {
        "name": p.label, "block": p.block.name,
        "options": ";".join(f"{k}={v}" for k, v in p.block.options.items()),
        "batch": b, "channels": c, "height": h, "width": w, "dtype": p.input.dtype,
        "device": p.input.device, "mode": p.mode,
        "latency_iqr_ms": p.latency.iqr_ms if p.latency else None,
        "bytes_read": own.bytes_read if own is not None and own.ok else None,
        "bytes_written": own.bytes_written if own is not None and own.ok else None,
    }
    out.update({m: metric(p, m) for m in METRICS})
    for name in BACKENDS:
        c_ = p.counters.get(name)
        out[f"{name}_macs"] = c_.macs if c_ is not None and c_.ok else None
    return out


def read_rows(path: str) -> list[dict[str, str]]:
    """Rows of an existing attnprof CSV (to resume a sweep)."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def profiles_csv(profiles: list[Profile], prior: list[dict[str, str]] = ()) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for r in prior:
        writer.writerow(r)
    for p in profiles:
        writer.writerow({k: ("" if v is None else v) for k, v in row(p).items()})
    return buf.getvalue()
