"""Records as CSV: one row per profile, one column per figure (compare, sweep); one row per
layer and per op of one profile (stat). Users parse these files: their columns and their
order are part of the contract."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from attnprof.report.views import RECORD_COLUMNS, Records, detail_records, records_view
from attnprof.results import Profile

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
