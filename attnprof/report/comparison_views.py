"""What ``compare``, ``sweep`` and suites show for several profiles: the side-by-side table
with ratios to a baseline (and the JSON's ``comparison`` those ratios come from), what each
block adds to its host network, and how each cost scales along a swept axis.
Torch-free: reads Profiles only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attnprof.metrics import metric
from attnprof.report import fmt
from attnprof.report.block_views import layers_view, ops_view
from attnprof.report.view import (
    Heading,
    TableView,
    View,
    _cols,
    _table,
    added_ms_text,
    comparison_text,
    median_text,
    ratio_text,
    time_format,
)
from attnprof.results import HostDelta, Profile

COMPARED = [("params", "params", fmt.count), ("macs", "MACs", fmt.count),
            ("flops", "FLOPs", fmt.count), ("bytes", "bytes", fmt.nbytes),
            ("latency_ms", "latency", fmt.ms), ("peak_bytes", "peak memory", fmt.nbytes)]


def comparison(profiles: list[Profile], baseline: str | None) -> dict[str, Any] | None:
    """The JSON's ``comparison``: {baseline, rows: [{name, <metric>: {value, ratio, diff}}]},
    or None without a baseline."""
    if baseline is None:
        return None
    base = next(p for p in profiles if p.label == baseline)
    rows = []
    for p in profiles:
        row: dict[str, Any] = {"name": p.label}
        for key, _, _ in COMPARED:
            v, b = metric(p, key), metric(base, key)
            row[key] = {"value": v,
                        "ratio": (v / b) if v is not None and b else None,
                        "diff": (v - b) if v is not None and b is not None else None}
        row["latency_ms"].update(latency_verdict(p, base))
        rows.append(row)
    return {"baseline": baseline, "rows": rows}


def latency_verdict(p: Profile, base: Profile) -> dict[str, Any]:
    """``p``'s latency against ``base``'s: the ratio's 95% interval and a verdict (faster,
    slower, same within ±5%, or inconclusive; attnprof.stats.verdicts). A time whose samples
    timed the scheduler is never decisive."""
    from attnprof.stats.verdicts import verdict

    if p is base or p.latency is None or base.latency is None:
        return {"ci_low": None, "ci_high": None, "verdict": None}
    est = p.latency.ratio_to(base.latency)
    trusted = p.latency.trustworthy and base.latency.trustworthy
    return {"ci_low": est.low if est.bounded else None,
            "ci_high": est.high if est.bounded else None,
            "verdict": verdict(est, trusted=trusted)}


def _name(p: Profile, base: Profile | None) -> str:
    return (p.label + (" (baseline)" if p is base else "")
            + (f" in {p.host.name}" if p.host else ""))


def compare_view(profiles: list[Profile], baseline: str | None = None) -> TableView:
    """One row per profile: attnprof's counts and the measurements, with ratios to the
    baseline (the same ratios as the JSON's ``comparison``); latency's ratio, its 95%
    interval and verdict in a column of their own. One input for all is said in the title
    rather than repeated on every row."""
    base = next((p for p in profiles if p.label == baseline), None)
    ratios = {r["name"]: r for r in (comparison(profiles, baseline) or {"rows": []})["rows"]}
    inputs = {p.input.text for p in profiles}
    per_row_input = len(inputs) > 1
    verdicts = False
    rows = []
    for p in profiles:
        cells = [_name(p, base), *([p.input.text] if per_row_input else [])]
        vs = ""
        for key, _, render in COMPARED:
            text = render(metric(p, key))
            if key == "latency_ms" and p.latency is not None:
                text = median_text(p.latency)
                text += f" ±{time_format(p.latency)(p.latency.iqr_ms / 2)}"
            ratio = ratios[p.label][key]["ratio"] if p is not base and ratios else None
            if ratio is not None:
                detail = ratios[p.label][key]
                if key == "latency_ms" and detail.get("verdict"):
                    lo, hi = detail.get("ci_low"), detail.get("ci_high")
                    span = (f" [{ratio_text(lo, lo, hi)}, {ratio_text(hi, lo, hi)}]"
                            if lo is not None and hi is not None else "")
                    vs = f"{ratio_text(ratio, lo, hi)}x{span} {detail['verdict']}"
                    verdicts = True
                else:  # two decimals, or two significant digits below 0.01 (never 0.00x)
                    text += f" ({ratio:.2f}x)" if ratio == 0 or ratio >= 0.01 \
                        else f" ({ratio:.2g}x)"
            cells.append(text)
        rows.append([*cells, vs])
    title = "Side by side" + (f" at {next(iter(inputs))}" if len(inputs) == 1 else "")
    title += " (attnprof's counts" + ("; latency median ± half IQR"
                                      if any(p.latency for p in profiles) else "")
    title += (f"; ratios to {baseline}" + (", latency's with its 95% interval and verdict"
                                            if verdicts else "") + ")" if baseline else ")")
    latency_vs = (f"latency / {baseline}",) if verdicts else ()
    if not verdicts:
        rows = [r[:-1] for r in rows]
    return _table(title, _cols("block", *(["input"] if per_row_input else []),
                               *[f"{label}>" for _, label, _ in COMPARED], *latency_vs), rows,
                  latency_notes(profiles))


def latency_notes(profiles: Sequence[Profile], most: int = 8) -> list[str]:
    """What the timing of several profiles says about its own quality (noise, a busy
    machine), under the table as ``stat`` shows it: each warning with its case, or, past
    ``most`` lines, how many cases were flagged."""
    flagged = [(p.label, w) for p in profiles if p.latency is not None
               for w in p.latency.warnings]
    if len(flagged) <= most:
        return [f"latency of {name}: {w}" for name, w in flagged]
    cases = len(dict.fromkeys(name for name, _ in flagged))
    return [f"latency: {cases} of {len(profiles)} cases flagged ({len(flagged)} warnings: "
            "noise or a busy machine); the JSON's latency.quality says which"]


HOST_ADDED = [("params", "+params", fmt.count), ("macs", "+MACs", fmt.count),
              ("flops", "+FLOPs", fmt.count), ("bytes", "+bytes", fmt.nbytes),
              ("latency_ms", "+latency", fmt.ms), ("peak_bytes", "+peak memory", fmt.nbytes)]


def _added(h: HostDelta | None, key: str, render: Callable[[Any], str]) -> str:
    a = h.added(key) if h is not None else None
    if a is None:
        return "-"
    if key == "latency_ms" and h.latency_comparison is not None:
        return f"{added_ms_text(h)} ({comparison_text(h.latency_comparison)})"
    if key == "latency_ms":
        b = h.base.latency.median_ms if h.base.latency else None
    else:
        b = getattr(h.base, key)
    sign = "+" if a >= 0 and render is fmt.count else ""
    return sign + render(a) + (f" ({100 * a / b:+.2f}%)" if b else "")


def host_added_view(profiles: list[Profile]) -> TableView:
    """What each block adds to its network, absolute and in percent of the network
    without it."""
    rows = [[p.label, p.host.name if p.host else "-",
             *[_added(p.host, key, render) for key, _, render in HOST_ADDED]]
            for p in profiles]
    return _table("What each block adds to its network (and in percent of the network "
                  "without it)", _cols("block", "network", *[f"{c}>" for _, c, _ in HOST_ADDED]),
                  rows)


def compare_views(profiles: list[Profile], baseline: str | None = None, *,
                  layers: bool = False, ops: bool = False,
                  name_each: bool = False) -> list[View]:
    """What ``compare`` shows: the side-by-side table, what each block adds to its host
    network, and on request each profile's per-layer and per-op tables
    (:func:`detail_views`)."""
    views: list[View] = [compare_view(profiles, baseline)]
    if any(p.host for p in profiles):
        views.append(host_added_view(profiles))
    return views + detail_views(profiles, layers=layers, ops=ops, name_each=name_each)


def detail_views(profiles: list[Profile], *, layers: bool = False, ops: bool = False,
                 name_each: bool = False) -> list[View]:
    """Each profile's name, then its per-layer table (``layers``) and per-op table (``ops``);
    nothing without either. ``name_each``: the name before each of the two tables (as the
    terminal shows them), not once before both (as the Markdown does)."""
    views: list[View] = []
    for p in profiles:
        tables = [*([layers_view(p)] if layers else []), *([ops_view(p)] if ops else [])]
        for i, t in enumerate(tables):
            views += [Heading(p.label), t] if i == 0 or name_each else [t]
    return views


def sweep_views(profiles: list[Profile], fits: list[Mapping[str, Any]]) -> list[View]:
    """What ``sweep`` shows: the side-by-side table and, where one axis was swept, how
    each cost scales along it."""
    return [compare_view(profiles), *([scaling_view(fits)] if fits else [])]


def scaling_view(fits: list[Mapping[str, Any]]) -> TableView:
    """A sweep's fitted exponents: each cost ∝ axis^k, per block (a cost that could not be
    fitted is left out)."""
    keys = ("latency_ms", "flops", "bytes", "params")

    def one(f: Mapping[str, Any], k: str) -> str | None:
        detail = (f.get("fits") or {}).get(k)
        if detail is None:  # a document from before fits carried their quality
            return None if f.get(k) is None else f"{k} ∝ {f['axis']}^{f[k]:.2f}"
        if not detail["trustworthy"]:
            return (f"{k}: untrustworthy ({detail['flagged']} of {detail['points']} times "
                    "flagged noisy), no exponent")
        text = f"{k} ∝ {f['axis']}^{detail['slope']:.2f}"
        extra = []
        if detail.get("slope_low") is not None:
            extra.append(f"95% CI {detail['slope_low']:.2f} to {detail['slope_high']:.2f}")
        if detail.get("r2") is not None:
            extra.append(f"R² {detail['r2']:.3f}")
        return text + (f" ({', '.join(extra)})" if extra else "")

    rows = [[str(f["block"]), "; ".join(t for k in keys if (t := one(f, k))) or "-"]
            for f in fits]
    return _table("How each cost scales along the swept axis (least squares, log-log)",
                  _cols("block", "cost ∝ axis^k"), rows)
