"""What every output says: the facts of a report as plain views, formatted once.

A view is data: a :class:`Heading` (a title and lines of text) or a :class:`TableView`
(title, columns, rows of strings, notes). The builders here decide *what* a report shows
and format every number once; the renderers only lay views out (``rich_render.py`` for the
terminal and notebooks, ``markdown.py`` for GitHub), so each format carries the same facts
and a new format is one file that reads these views. CSV, which users parse, reads
:func:`records_view`: raw values rather than formatted strings.

Torch-free and rich-free: this module reads Profiles (and budget and check results) only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from attnprof.metrics import METRICS, metric
from attnprof.reconcile import missed_ops, missed_text, share_text
from attnprof.report import fmt
from attnprof.results import Comparison, Count, HostDelta, OpCost, OpTime, Profile
from attnprof.spec import BACKENDS

if TYPE_CHECKING:  # only their fields are read; importing them here would pull in more
    from attnprof.check import Diff
    from attnprof.suite import BudgetResult

Tone = Literal["good", "bad", "warn"]


# -- the views ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str
    align: Literal["left", "right"] = "left"


@dataclass(frozen=True)
class TableView:
    """A table of already-formatted cells. ``tones`` (one per row, or empty) marks a row
    good, bad or worth a warning; renderers show it on the cells of column ``toned``."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    tones: tuple[Tone | None, ...] = ()
    toned: int | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"{self.title}: a row of {len(row)} cells under "
                                 f"{len(self.columns)} columns")
        if self.tones and len(self.tones) != len(self.rows):
            raise ValueError(f"{self.title}: {len(self.tones)} tones for {len(self.rows)} rows")


@dataclass(frozen=True)
class Heading:
    """What a group of tables is about: a title and lines of detail."""

    title: str
    lines: tuple[str, ...] = ()


View = Heading | TableView


def _cols(*spec: str) -> tuple[Column, ...]:
    """Columns from names; a name ending in ``>`` is right-aligned (numbers)."""
    return tuple(Column(s[:-1], "right") if s.endswith(">") else Column(s) for s in spec)


def _table(title: str, columns: tuple[Column, ...], rows: Iterable[Sequence[str]],
           notes: Iterable[str] = (), tones: Iterable[Tone | None] = (),
           toned: int | None = None) -> TableView:
    return TableView(title, columns, tuple(tuple(r) for r in rows), tuple(notes),
                     tuple(tones), toned)


# -- one profile (stat) ---------------------------------------------------------------------

STATUS_TONE: dict[str, Tone] = {"ok": "good", "failed": "bad", "skipped": "warn",
                                "unavailable": "warn"}


def median_text(lat: Any) -> str:
    """A latency's median with no more digits than its 95% interval supports."""
    from attnprof.units import format_ms

    plain = fmt.ms(lat.median_ms)
    if lat.ci_low_ms is None or lat.ci_high_ms is None:
        return plain
    supported = format_ms(lat.median_ms, lat.ci_low_ms, lat.ci_high_ms)
    return supported if len(supported) < len(plain) else plain  # fewer digits wins


def header_view(p: Profile) -> Heading:
    prm = p.parameters
    where = f"input {p.input.text} {p.input.dtype} on {p.input.device}, mode {p.mode}"
    if p.input.memory_format != "contiguous":
        where += f", {p.input.memory_format}"
    if p.latency is not None and p.latency.compiled:
        where += ", timed compiled (torch.compile)"
    if p.latency is not None and p.latency.cuda_graph:
        where += ", timed as a CUDA graph"
    lines = [f"options: {fmt.option_text(p.block.options)}"]
    if p.block.unused_options:
        lines.append(f"not applied: {fmt.option_text(p.block.unused_options)} (taken into "
                     "the constructor's **kwargs; the block is the same without them)")
    lines.append(f"params {fmt.count(prm.total)} ({fmt.count(prm.trainable)} trainable, "
                 f"{fmt.nbytes(prm.bytes)})")
    return Heading(f"{p.block.name}: {where}", tuple(lines))


def _pct(added: float | None, base: float | None) -> str:
    return "-" if added is None or not base else f"{100 * added / base:+.2f}%"


def _mparams(n: int) -> str:
    """Parameters in M (10^6) and in the 2^20 units ECA-Net reports."""
    return f"{n / 1e6:.3f} M ({n / 2**20:.3f} M 2^20)"


def host_view(p: Profile) -> TableView:
    """The overhead the block adds to its network, as the papers report it: absolute and in
    percent of the network without it."""
    h = p.host
    assert h is not None
    b, t = h.base, h.total
    rows = [["params", _mparams(b.params), _mparams(t.params), f"+{h.added('params'):,}",
             _pct(h.added("params"), b.params)]]
    for key, label in (("macs", "MACs (matmul, conv)"), ("flops", "FLOPs (all ops)")):
        if getattr(b, key) is not None and getattr(t, key) is not None:
            rows.append([label, f"{getattr(b, key) / 1e9:.4f} G",
                         f"{getattr(t, key) / 1e9:.4f} G", f"+{h.added(key):,}",
                         _pct(h.added(key), getattr(b, key))])
    if b.bytes is not None and t.bytes is not None:
        rows.append(["bytes read + written", fmt.nbytes(b.bytes), fmt.nbytes(t.bytes),
                     fmt.nbytes(h.added("bytes")), _pct(h.added("bytes"), b.bytes)])
    notes = []
    if b.latency is not None and t.latency is not None:
        c = h.latency_comparison
        rows.append(["latency (median)", ms_text(b.latency), ms_text(t.latency),
                     added_ms_text(h), ratio_text(c) if c else
                     _pct(h.added("latency_ms"), b.latency.median_ms)])
        if c is not None:
            notes.append(comparison_note(c, f"{h.name} with {p.block.name}",
                                         f"{h.name} without it"))
    if b.peak_bytes is not None and t.peak_bytes is not None:
        rows.append(["peak memory", fmt.nbytes(b.peak_bytes), fmt.nbytes(t.peak_bytes),
                     fmt.nbytes(h.added("peak_bytes")),
                     _pct(h.added("peak_bytes"), b.peak_bytes)])
    by_options: dict[str, list[str]] = {}  # the options each slot's block was built with
    for c, o in sorted(h.block_options.items()):
        by_options.setdefault(fmt.option_text(dict(o)), []).append(str(c))
    notes += [f"{p.block.name} at {', '.join(cs)} channels: {text}"
              for text, cs in by_options.items()]
    return _table(f"In {h.name}: {h.blocks} blocks ({h.slot})",
                  _cols("", f"{h.name}>", f"+ {p.block.name}>", "added>", "overhead>"),
                  rows, notes)


def ms_text(lat: Any) -> str:
    """A median time with the digits its interval supports."""
    from attnprof.units import format_ms

    return format_ms(lat.median_ms, lat.ci_low_ms, lat.ci_high_ms)


def ratio_text(c: Comparison) -> str:
    """"1.21× [1.15×, 1.26×] slower": a ratio with the digits its interval supports."""
    from attnprof.units import significant

    if c.ci_low is None or c.ci_high is None:
        return f"{c.ratio:.3g}× (no interval) {c.verdict}"
    lo, hi = c.ci_low, c.ci_high
    d = max(len(significant(c.ratio, lo, hi).partition(".")[2]), 2)
    return f"{c.ratio:.{d}f}× [{lo:.{d}f}×, {hi:.{d}f}×] {c.verdict}"


def added_ms_text(h: HostDelta) -> str:
    """The latency the block adds, with the digits its interval supports."""
    from attnprof.units import significant

    added, ci = h.added("latency_ms"), h.added_ci_ms()
    if added is None:
        return "-"
    if ci is None:
        return f"{added:+.3g} ms"
    lo, hi = ci
    text = significant(added, lo, hi)
    d = len(text.partition(".")[2])
    return f"{'+' if added >= 0 else ''}{text} ms [{lo:+.{d}f}, {hi:+.{d}f}]"


def comparison_note(c: Comparison, candidate: str, baseline: str) -> str:
    """What a ratio and its verdict mean, in words."""
    cover = f"{100 * c.coverage:.0f}%" if c.coverage else "no"
    what = {"slower": f"{candidate} is slower than {baseline}",
            "faster": f"{candidate} is faster than {baseline}",
            "same": f"{candidate} and {baseline} take the same time within ±5%",
            "inconclusive": f"the interval does not decide whether {candidate} is faster or "
                            f"slower than {baseline} (more time, or a quieter machine, would)"}
    return (f"latency: timed interleaved; ratio {candidate} / {baseline} with its {cover} "
            f"interval (variation within this run): {what.get(c.verdict, c.verdict)}")


def _missed(name: str, c: Count, own: Count | None) -> str:
    if name == "attnprof":
        return "no rule: " + ", ".join(c.uncounted_ops) if c.uncounted else "-"
    return missed_text(missed_ops(c, own)) if own is not None else "-"


def counters_view(p: Profile) -> TableView:
    """Every backend's figure beside attnprof's full count, with the ops each one missed:
    why torchinfo says 128 where attnprof says two million. ``input`` is what each counted
    on: meta (shapes only), real (attnprof's seeded input) or own (an input of its own)."""
    own = p.own
    rows, tones = [], []
    for name, c in p.counters.items():
        if not c.ok:
            rows.append([name, c.input or "", c.status, "", "", "", "", c.error or ""])
            tones.append(STATUS_TONE.get(c.status, "bad"))
            continue
        rows.append([name, c.input or "", fmt.count(c.reported), c.unit or "",
                     fmt.count(c.macs), fmt.count(c.flops), share_text(c, own, fmt.percent),
                     _missed(name, c, own)])
        tones.append(None)
    notes = [f"{n}: {note}" for n, c in p.counters.items() for note in c.notes]
    return _table("What each counter reports, and what it leaves out",
                  _cols("backend", "input", "reports>", "unit", "MACs>", "FLOPs>",
                        "of attnprof>", "not counted (share of attnprof FLOPs)"),
                  rows, notes, tones, toned=2)


def cost_view(p: Profile) -> TableView:
    """Memory, attnprof's work, latency and the roofline."""
    m = p.memory
    rows = [["parameters", fmt.nbytes(m.params_bytes), ""],
            ["activations written", fmt.nbytes(m.activations_bytes),
             "every op output (attnprof)"],
            ["peak", fmt.nbytes(m.peak_bytes), m.peak_method or ""]]
    if m.saved_for_backward_bytes is not None:
        rows.append(["saved for backward", fmt.nbytes(m.saved_for_backward_bytes), "autograd"])
    own = p.own
    if own is not None:
        rows += [["MACs (matmul, conv)", fmt.count(own.macs), "attnprof"],
                 ["transcendentals", fmt.count(own.transcendentals),
                  "sigmoid, exp, ... (attnprof)"],
                 ["bytes read + written", fmt.nbytes(own.bytes),
                  f"{fmt.nbytes(own.bytes_read)} + {fmt.nbytes(own.bytes_written)} (attnprof)"]]
        if own.bytes:
            rows.append(["arithmetic intensity", f"{own.flops / own.bytes:.3f} FLOP/B",
                         "attnprof FLOPs / bytes read+written"])
    lat = p.latency
    if lat is None:
        rows.append(["latency", "-", "not measured (--no-latency)"])
        return _table("Work, memory and time", _cols("what", "value>", "how"), rows)
    how = f"IQR {fmt.ms(lat.iqr_ms)}, "
    if lat.ci_low_ms is not None and lat.ci_high_ms is not None:
        level = f"{100 * lat.ci_coverage:.1f}% " if lat.ci_coverage else ""
        how += f"{level}CI {fmt.ms(lat.ci_low_ms)} to {fmt.ms(lat.ci_high_ms)}, "
    how += (f"{lat.samples} samples x {lat.runs_per_sample} runs, {lat.threads} thread(s)"
            + (f" ({lat.threads_reason})" if lat.threads_reason else "") + f", {lat.mode}")
    how += "".join(f", {flag}" for flag, on in (("torch.compile", lat.compiled),
                                                 ("CUDA graph", lat.cuda_graph),
                                                 ("channels_last", lat.channels_last),
                                                 ("L2 flushed before each call", lat.l2_flush))
                   if on)
    rows.append(["latency (median)", median_text(lat), how])
    if lat.device_ms is not None:
        rows.append(["device time", fmt.ms(lat.device_ms),
                     "per call, between CUDA events (kernels without host overhead)"])
    rows.append(["throughput", f"{fmt.sig3(lat.images_per_s)} img/s",
                 f"min {fmt.ms(lat.min_ms)}, mean {fmt.ms(lat.mean_ms)}, "
                 f"p90 {fmt.ms(lat.p90_ms)}; {lat.method}"])
    roof = p.roofline
    if roof is None:
        rows.append(["roofline", "-", "run 'attnprof calibrate' once to measure this machine"])
    else:
        over = ("" if roof.latency_over_floor is None
                else f"; measured latency is {roof.latency_over_floor:.1f}x the floor")
        rows += [["achieved", f"{roof.achieved_gbs:.2f} GB/s",
                  f"{roof.achieved_gflops:.2f} GFLOP/s (peaks {roof.peak_gbs:.1f} GB/s, "
                  f"{roof.peak_gflops:.1f} GFLOP/s)"],
                 ["roofline floor", fmt.ms(roof.floor_ms), f"{roof.bound}-bound{over}"]]
    return _table("Work, memory and time", _cols("what", "value>", "how"), rows,
                  [f"latency: {w}" for w in lat.warnings])


def layers_view(p: Profile) -> TableView:
    """One row per module: each backend's MACs there (children included), attnprof's FLOPs
    and bytes. Detail tables show exact counts."""
    backends = list(p.counters)
    rows = [[x.path or "(block)", x.type, fmt.count(x.params),
             *[fmt.count(x.macs.get(b)) for b in backends],
             fmt.count(x.cost.flops) if x.cost else "-",
             fmt.count(x.cost.bytes) if x.cost else "-"] for x in p.layers]
    return _table("Per layer: MACs as each backend counts them (children included), "
                  "attnprof's FLOPs and bytes",
                  _cols("module", "type", "params>", *[f"{b}>" for b in backends], "FLOPs>",
                        "bytes>"), rows)


def op_rows(p: Profile) -> list[tuple[str, OpCost | None, OpTime | None]]:
    """attnprof's per-op counts and torch.profiler's times joined by op name; by time when
    timed, else in the counter's order."""
    own = p.own
    counted = {r.op: r for r in own.ops} if own is not None else {}
    times = {r.op: r for r in p.op_times}
    rows = [(name, counted.get(name), times.get(name))
            for name in dict.fromkeys([*times, *counted])]
    if times:
        rows.sort(key=lambda r: -(r[2].self_ms if r[2] else 0))
    return rows


def ops_view(p: Profile) -> TableView:
    own = p.own
    total = own.flops if own is not None else None
    decomposed = (own.extra.get("decomposed") or {}) if own is not None else {}
    timed = bool(p.op_times)
    rows = []
    for name, c, tm in op_rows(p):
        if c is not None and c.uncounted:
            name += " (no rule)"
        elif c is None and decomposed.get(name):
            name += f" (counted as {', '.join(decomposed[name])})"
        elif c is None:
            name += " (not counted)"
        cells = [name, str(c.calls if c else tm.calls)]
        if timed:
            cells += [fmt.ms(tm.self_ms) if tm else "-",
                      f"{100 * tm.share:.1f}%" if tm else "-"]
        if c is None:
            cells += ["-"] * 6
        else:
            cells += [fmt.count(c.macs), fmt.count(c.flops), fmt.percent(c.flops, total),
                      fmt.count(c.transcendentals), fmt.count(c.bytes),
                      "-" if c.intensity is None else f"{c.intensity:.3f}"]
        rows.append(cells)
    title = "Per aten op: attnprof's counts" + (
        ", torch.profiler's self time per call of the block" if timed else "")
    notes = []
    if timed:
        summed = sum(t.self_ms for t in p.op_times)
        line = f"self times add up to {fmt.ms(summed)} per call"
        if p.latency is not None and p.latency.median_ms:
            share = summed / p.latency.median_ms
            line += (f", against a median latency of {fmt.ms(p.latency.median_ms)} "
                     f"({100 * share:.0f}%): " + (
                         "the profiler's own overhead, about "
                         f"{fmt.ms(summed - p.latency.median_ms)} per call, is inside the "
                         "ops' self times" if share > 1 else
                         "the rest is Python and dispatch between ops, which the profiler "
                         "does not attribute to any op"))
        if p.input.memory_format != "contiguous" or (p.latency and p.latency.compiled):
            line += "; the ops are those of the timed variant (memory format, compilation)"
        notes.append(line)
    return _table(title, _cols("op", "calls>", *(["self time>", "time>"] if timed else []),
                               "MACs>", "FLOPs>", "FLOPs %>", "transc.>", "bytes>",
                               "FLOP/B>"), rows, notes)


def profile_views(p: Profile, *, layers: bool = False, ops: bool = False) -> list[View]:
    """What ``stat`` shows for one profile, in order."""
    views: list[View] = [header_view(p)]
    if p.host is not None:
        views.append(host_view(p))
    views += [counters_view(p), cost_view(p)]
    if layers:
        views.append(layers_view(p))
    if ops and (p.op_times or p.own is not None):
        views.append(ops_view(p))
    return views


# -- several profiles (compare, sweep, suites) -----------------------------------------------

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
    baseline (the same ratios as the JSON's ``comparison``)."""
    base = next((p for p in profiles if p.label == baseline), None)
    ratios = {r["name"]: r for r in (comparison(profiles, baseline) or {"rows": []})["rows"]}
    rows = []
    for p in profiles:
        cells = [_name(p, base), p.input.text]
        for key, _, render in COMPARED:
            text = render(metric(p, key))
            if key == "latency_ms" and p.latency is not None:
                text = median_text(p.latency)
                text += f" ±{fmt.ms(p.latency.iqr_ms / 2)}"
            ratio = ratios[p.label][key]["ratio"] if p is not base and ratios else None
            if ratio is not None:
                detail = ratios[p.label][key]
                if key == "latency_ms" and detail.get("verdict"):
                    span = (f" [{detail['ci_low']:.2f}, {detail['ci_high']:.2f}]"
                            if detail.get("ci_low") is not None else "")
                    text += f" ({ratio:.2f}x{span} {detail['verdict']})"
                else:
                    text += f" ({ratio:.2f}x)"
            cells.append(text)
        rows.append(cells)
    title = "Side by side (attnprof's counts; latency median ± half IQR"
    title += (f"; ratios to {baseline}, latency's with its 95% interval and verdict)"
              if baseline else ")")
    return _table(title, _cols("block", "input", *[f"{label}>" for _, label, _ in COMPARED]),
                  rows)


HOST_ADDED = [("params", "+params", fmt.count), ("macs", "+MACs", fmt.count),
              ("flops", "+FLOPs", fmt.count), ("bytes", "+bytes", fmt.nbytes),
              ("latency_ms", "+latency", fmt.ms), ("peak_bytes", "+peak memory", fmt.nbytes)]


def _added(h: HostDelta | None, key: str, render: Callable[[Any], str]) -> str:
    a = h.added(key) if h is not None else None
    if a is None:
        return "-"
    if key == "latency_ms" and h.latency_comparison is not None:
        return f"{added_ms_text(h)} ({ratio_text(h.latency_comparison)})"
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
                  layers: bool = False, ops: bool = False) -> list[View]:
    """What ``compare`` shows: the side-by-side table, what each block adds to its host
    network, and on request each profile's per-layer and per-op tables."""
    views: list[View] = [compare_view(profiles, baseline)]
    if any(p.host for p in profiles):
        views.append(host_added_view(profiles))
    for p in profiles if layers or ops else ():
        views.append(Heading(p.label))
        if layers:
            views.append(layers_view(p))
        if ops:
            views.append(ops_view(p))
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


# -- budgets and checks -----------------------------------------------------------------------

def _budget_value(v: float | None, what: str) -> str:
    if v is None:
        return "-"
    if what.startswith("latency /"):
        return f"{v:.3f}x"
    if "latency" in what:
        return fmt.ms(v)
    if "bytes" in what:
        return fmt.nbytes(int(v))
    return fmt.count(int(v)) if float(v).is_integer() else f"{v:.4g}"


def budget_view(results: list[BudgetResult]) -> TableView:
    """Each budget's value and outcome; a latency ratio with its 95% interval. An
    inconclusive budget (the interval straddles the limit) is said plainly."""
    failed = sum(r.outcome == "fail" for r in results)
    unsure = sum(r.outcome == "inconclusive" for r in results)
    title = f"Budgets: {len(results) - failed - unsure} passed, {failed} failed"
    if unsure:
        title += f", {unsure} inconclusive"

    def value(r: BudgetResult) -> str:
        text = _budget_value(r.value, r.what)
        if r.ci_low is not None and r.ci_high is not None:
            text += f" [{r.ci_low:.3f}, {r.ci_high:.3f}]"
        return text

    label = {"pass": "pass", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}
    notes = ([f"{unsure} latency budget(s) inconclusive: the ratio's 95% interval straddles "
              "the limit (or the times were noisy); not a failure unless --strict"]
             if unsure else [])
    return _table(title, _cols("case", "budget", "value>", "result"),
                  [[r.case, r.what, value(r), label.get(r.outcome, r.outcome)]
                   for r in results], notes,
                  tones=["good" if r.outcome == "pass" else "bad" for r in results], toned=3)


def _diff_row(d: Diff) -> list[str]:
    def v(x: float | None) -> str:
        if x is None:
            return "-"
        if "latency" in d.metric:
            return f"{x:.3f}" + ("x" if "/" in d.metric else " ms")
        return fmt.count(int(x))

    change = "-" if d.change is None else f"{100 * d.change:+.2f}%"
    return [d.case, d.metric, v(d.baseline), v(d.value), change, d.verdict]


def check_view(diffs: list[Diff], show_same: bool = True) -> TableView:
    """Each figure against the baseline; without ``show_same`` the unchanged ones are
    counted in a note instead of listed."""
    failed = sum(d.failed for d in diffs)
    shown = [d for d in diffs if show_same or d.verdict != "same"]
    hidden = len(diffs) - len(shown)
    notes = [f"{hidden} unchanged figure(s) not listed (--all lists them)"] if hidden else []
    return _table(f"Check against the baseline: {failed} regression(s)",
                  _cols("case", "metric", "baseline>", "now>", "change>", "verdict"),
                  [_diff_row(d) for d in shown], notes,
                  ["bad" if d.failed else "good" for d in shown], toned=5)


# -- records for parsing (CSV) ------------------------------------------------------------------

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


# -- a whole network (model) ------------------------------------------------------------------

def interval_label(coverage: float | None) -> str:
    """"95% interval", or the interval's true coverage when it covers less (few samples)."""
    if coverage is None:
        return "interval"
    return "95% interval" if coverage >= 0.95 else f"{100 * coverage:.0f}% interval"


def model_views(doc: Mapping[str, Any]) -> list[View]:
    """What ``model`` shows, from its JSON document (results.NetworkProfile.to_dict): the
    network, then one row per attention module and the totals (the attention together, its
    share of the network, the network), and the time: the attention's own time and the
    saving by removal, each with its interval."""
    net, att, mods = doc["network"], doc["attention"], doc["modules"]
    timing = doc.get("timing")
    lines = []
    if doc.get("block"):
        b = doc["block"]
        lines.append(f"with {b['name']} in {b['slots']} slots: {b['host_slot']}")
    head = Heading(f"{net['name']}: input {'×'.join(map(str, net['input']))} {net['dtype']} "
                   f"on {net['device']}", tuple(lines))

    def pct(x: float | None) -> str:
        return fmt.percent(x, 1) if x is not None else "-"

    def costs(c: Mapping[str, Any]) -> list[str]:
        return [fmt.count(c["params"]), fmt.si(c["macs"]), fmt.si(c["flops"]),
                fmt.nbytes(c["bytes"])]

    from attnprof.units import format_ms

    def ms(value: float | None, ci: Sequence[float] | None) -> str:
        """A median time with the digits its interval supports (3 without one)."""
        if value is None:
            return "-"
        return format_ms(value, *(ci or (None, None)))

    share = att["share"]
    rows = []
    for m in mods:
        rows.append([m["path"], m["type"], m["found_by"], *costs(m)]
                    + ([ms(m["time_ms"], m.get("time_ms_ci")), pct(m["time_share"])]
                       if timing else []))
    rows.append(["attention, all", "", "", *costs(att)]
                + ([ms(timing["attention_ms"], timing.get("attention_ms_ci")),
                    pct(share["time"])] if timing else []))
    rows.append(["share of the network", "", "",
                 *(pct(share[k]) for k in ("params", "macs", "flops", "bytes"))]
                + (["", pct(share["time"])] if timing else []))
    rows.append(["network", "", "", *costs(net)]
                + ([ms(net["time_ms"], timing.get("network_ms_ci")), "100%"]
                   if timing else []))
    notes = ["params: the module's own; MACs, FLOPs, bytes read + written: attnprof's count "
             "of every op"]
    notes += [f"note: {n}" for n in doc.get("notes", ())]
    cols = _cols("module", "type", "found by", "params>", "MACs>", "FLOPs>", "bytes>",
                 *(("own time>", "share>") if timing else ()))
    views: list[View] = [head, _table(f"{len(mods)} attention modules", cols, rows, notes)]
    if timing:
        views.append(_model_time_view(timing, pct, ms))
    if doc.get("repeat"):
        views.append(_repeat_view(doc["repeat"], pct))
    return views


def _share_text(share: float | None, ci: Sequence[float] | None, coverage: float | None,
                pct: Callable[[float | None], str]) -> str:
    if share is None:
        return "-"
    if not ci:
        return f"{pct(share)} (no interval)"
    return f"{pct(share)} [{pct(ci[0])}, {pct(ci[1])}] ({interval_label(coverage)})"


def _model_time_view(timing: Mapping[str, Any], pct, ms) -> TableView:
    """The network's time and the attention's two measures of cost, each with its interval."""
    lat = timing.get("latency") or {}
    own, removal = timing.get("own"), timing.get("removal")
    rows = [["network", ms(timing["network_ms"], timing.get("network_ms_ci")),
             interval_label(lat.get("ci_coverage")) + (
                 f" {ms(*timing['network_ms_ci'][:1], timing['network_ms_ci'])} to "
                 f"{ms(timing['network_ms_ci'][1], timing['network_ms_ci'])}"
                 if timing.get("network_ms_ci") else ""),
             f"{lat.get('samples', timing.get('runs'))} samples, {timing['threads']} thread(s)"]]
    if own:
        rows.append(["attention's own time (hooks)", pct(own["share"]),
                     _share_text(own["share"], own.get("share_ci"), own.get("coverage"), pct),
                     f"{own['forwards']} hooked forwards"])
    if removal:
        rows.append(["saving by removal (identity)", pct(removal["share"]),
                     _share_text(removal["share"], removal.get("share_ci"),
                                 removal.get("coverage"), pct),
                     f"with attention vs without: {removal['verdict']}"])
    notes = []
    notes.append(f"network: {timing['method']}")
    if own:
        notes.append(f"own time: {own['method']}")
    if timing.get("threads_reason"):
        notes.append(f"threads: {timing['threads_reason']}")
    notes.append(f"timed interleaved in {timing.get('rounds', 1)} rounds (stopped: "
                 f"{timing.get('stopped') or '-'}); the network by torch.utils.benchmark, the "
                 "bare network (identity for each attention module) beside it, the hooked "
                 "network beside both")
    if not removal and timing.get("removal_why"):
        notes.append(f"no saving by removal: {timing['removal_why']}")
    if timing.get("agreement"):
        notes.append(timing["agreement"])
    notes.append("intervals cover the variation within this process, not from process to "
                 "process or machine to machine (--repeat N measures the former)")
    notes += [f"time: {w}" for w in timing.get("warnings") or ()]
    return _table("The attention's time, two ways", _cols("measure", "value>", "interval",
                                                          "how"), rows, notes)


def _repeat_view(r: Mapping[str, Any], pct) -> TableView:
    rows = []
    lat = r.get("network_ms")
    if lat:
        rows.append(["network (ms)", f"{lat['min']:.3g}", f"{lat['median']:.3g}",
                     f"{lat['max']:.3g}"])
    for key, label in (("own_share", "own time share"), ("removal_share", "removal share")):
        v = r.get(key)
        if v:
            rows.append([label, pct(v["min"]), pct(v["median"]), pct(v["max"])])
    spread = r.get("network_spread")
    notes = [f"each process's median; {r.get('covers', '')}"]
    if spread:
        notes.append(f"the network's medians vary {spread:.3g}x from the fastest process to the "
                     "slowest")
    return _table(f"In {r['processes']} fresh processes", _cols("", "min>", "median>", "max>"),
                  rows, notes)
