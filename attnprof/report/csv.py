"""Records as CSV: one row per profile, one column per figure (compare, sweep). Users parse
this file: its columns and their order are part of the contract."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from attnprof.report.views import RECORD_COLUMNS, records_view
from attnprof.results import Profile

COLUMNS = list(RECORD_COLUMNS)


def read_rows(path: str) -> list[dict[str, str]]:
    """Rows of an existing attnprof CSV (to resume a sweep)."""
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def profiles_csv(profiles: Iterable[Profile], prior: Iterable[dict[str, str]] = ()) -> str:
    """The CSV of ``prior`` rows (as read back by ``read_rows``) and then ``profiles``; an
    absent figure is an empty cell."""
    records = records_view(profiles)
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
