"""``attnprof check``: a results document against a baseline, case by case.

Counts must be equal, or within a per-metric tolerance the user sets. Latency may not grow
past ``latency_tolerance``; since absolute time depends on the machine, ``relative_to``
compares each case's latency as a ratio to one case of the same document (measured in the
same run), which holds across machines. Reads documents, never re-runs anything.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from attnprof.errors import BadInput
from attnprof.files import read_user_file
from attnprof.metrics import COUNTS, metric
from attnprof.results import RESULTS_SCHEMA, Profile


@dataclass(frozen=True)
class Diff:
    case: str
    metric: str
    baseline: float | None
    value: float | None
    change: float | None  # relative change, value / baseline - 1
    verdict: str  # "same", "within tolerance", "higher", "lower", "missing", "new", "slower"...
    failed: bool

    def to_dict(self) -> dict[str, Any]:
        """The row of ``check --format json``; a change without a finite value (a baseline
        of 0) is null, since JSON has no infinity."""
        d = dict(self.__dict__)
        if d["change"] is not None and not math.isfinite(d["change"]):
            d["change"] = None
        return d


def load_results(path: str) -> list[Profile]:
    """Profiles of an ``attnprof.results/1`` file; anything else is bad input (exit 2)."""
    text = read_user_file(path, "an attnprof JSON results file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or doc.get("schema") != RESULTS_SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        hint = (" (a single profile: write results with compare or run --json)"
                if found == "attnprof.profile/1" else "")
        raise BadInput(f"{path}: not an {RESULTS_SCHEMA} document (schema: {found!r}){hint}")
    try:
        profiles = [Profile.from_dict(r) for r in doc["results"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"{path}: malformed {RESULTS_SCHEMA} document: {exc}") from None
    names = [p.label for p in profiles]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BadInput(f"{path}: case names repeat: {', '.join(dupes)}")
    return profiles


def _latency_ratios(profiles: list[Profile], relative_to: str | None,
                    path: str) -> dict[str, float | None]:
    lat = {p.label: metric(p, "latency_ms") for p in profiles}
    if relative_to is None:
        return lat
    if relative_to not in lat:
        raise BadInput(f"{path}: has no case '{relative_to}' to compare latencies to")
    ref = lat[relative_to]
    return {k: (v / ref if v is not None and ref else None) for k, v in lat.items()}


def compare_results(results: list[Profile], baseline: list[Profile], *,
                    tolerances: dict[str, float] | None = None,
                    latency_tolerance: float = 0.2, relative_to: str | None = None,
                    paths: tuple[str, str] = ("results", "baseline")) -> list[Diff]:
    tolerances = tolerances or {}
    new = {p.label: p for p in results}
    old = {p.label: p for p in baseline}
    new_lat = _latency_ratios(results, relative_to, paths[0])
    old_lat = _latency_ratios(baseline, relative_to, paths[1])
    out: list[Diff] = []
    for name, base in old.items():
        if name not in new:
            out.append(Diff(name, "case", None, None, None, "missing from results", True))
            continue
        cur = new[name]
        for m in COUNTS:
            b, v = metric(base, m), metric(cur, m)
            if b is None or v is None:
                if b != v:
                    out.append(Diff(name, m, b, v, None, "not measured in one", False))
                continue
            change = (v / b - 1) if b else (0.0 if v == b else float("inf"))
            tol = tolerances.get(m, 0.0)
            if v == b:
                verdict, failed = "same", False
            elif abs(change) <= tol:
                verdict, failed = "within tolerance", False
            else:
                verdict, failed = ("higher" if v > b else "lower: update the baseline"), True
            out.append(Diff(name, m, b, v, change, verdict, failed))
        b, v = old_lat.get(name), new_lat.get(name)
        if b is not None and v is not None:
            change = v / b - 1
            slower = change > latency_tolerance
            label = "latency" + (f" / {relative_to}" if relative_to else " (ms)")
            out.append(Diff(name, label, b, v, change,
                            "slower" if slower else "ok", slower))
    for name in new:
        if name not in old:
            out.append(Diff(name, "case", None, None, None, "new (not in baseline)", False))
    return out


def parse_tolerances(items: list[str]) -> dict[str, float]:
    """``["flops=0.01", "bytes=0.05"]`` -> {"flops": 0.01, "bytes": 0.05}."""
    out: dict[str, float] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in COUNTS:
            raise BadInput(f"--tolerance expects METRIC=FRACTION with METRIC one of "
                           f"{', '.join(COUNTS)}, got {item!r}")
        try:
            value = float(raw)
        except ValueError:
            raise BadInput(f"--tolerance {item!r}: {raw!r} is not a number") from None
        if not 0 <= value < 10:
            raise BadInput(f"--tolerance {item!r}: the fraction must be >= 0 (0.01 is 1 %)")
        out[key] = value
    return out
