"""What every output says: the facts of a report as plain views, formatted once.

A view is data: a :class:`Heading` (a title and lines of text) or a :class:`TableView`
(title, columns, rows of strings, notes). The builders here decide *what* a report shows
and format every number once; the renderers only lay views out (``rich_render.py`` for the
terminal and notebooks, ``markdown.py`` for GitHub), so each format carries the same facts
and a new format is one file that reads these views. CSV, which users parse, has records
of raw values instead (:mod:`attnprof.report.csv`).

Torch-free and rich-free: this module reads Profiles (and budget and check results) only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from attnprof.metrics import metric
from attnprof.reconcile import missed_ops, missed_text, share_text
from attnprof.report import fmt
from attnprof.results import Comparison, Count, HostDelta, OpCost, OpTime, Profile

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


def ratio_text(x: float, low: float | None = None, high: float | None = None) -> str:
    """A ratio with the digits its interval supports (3 significant without one)."""
    from attnprof.units import significant

    return significant(x, math.nan if low is None else low, math.nan if high is None else high)


def time_format(lat: Any) -> Callable[[float | None], str]:
    """The one precision rule for a latency's figures: the median gets the digits its 95%
    interval supports (3 significant without one), and every other time of the same
    measurement (interval, IQR, min, mean, p90) is written in the same unit with the same
    decimals, so no figure claims more than the median's."""
    from attnprof.units import format_ms

    head = format_ms(lat.median_ms, lat.ci_low_ms, lat.ci_high_ms)
    number, unit = head.split(" ")
    decimals = len(number.split(".")[1]) if "." in number else 0
    scale = 1e3 if unit == "µs" else 1.0

    def one(value_ms: float | None) -> str:
        if value_ms is None:
            return "-"
        return f"{value_ms * scale:.{decimals}f} {unit}"

    return one


def median_text(lat: Any) -> str:
    """A latency's median with no more digits than its 95% interval supports."""
    return time_format(lat)(lat.median_ms)


def interval_text(lat: Any) -> str:
    """``95% CI 20.3 to 21.3 µs`` (the interval's own coverage when it is not 95%)."""
    if lat.ci_low_ms is None or lat.ci_high_ms is None:
        return "no interval"
    t = time_format(lat)
    low, high = t(lat.ci_low_ms), t(lat.ci_high_ms)
    level = f"{100 * lat.ci_coverage:.1f}%" if lat.ci_coverage else "95%"
    return f"{level} CI {low.split(' ')[0]} to {high}"


def _human(n: float | None) -> str:
    """A count in human units, 3 significant digits: 6422784 -> '6.42 M', 33044 ->
    '33.0 k', 128 -> '128'."""
    if n is None:
        return "-"
    for div, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:#.3g}".rstrip(".") + f" {prefix}"
    return f"{n:,.0f}"


def headline(p: Profile) -> str:
    """The figures a user came for, on one line: parameters, MACs, FLOPs (attnprof's count
    of every op) in human units, and the latency's median with its 95% interval. In a host
    network, what the block adds to it, and in percent of the network without it."""
    h = p.host
    if h is not None:
        parts = []
        for key, unit in (("params", " params"), ("macs", " MACs"), ("flops", " FLOPs"),
                          ("latency_ms", "")):
            a = h.added(key)
            if a is None:
                continue
            base = (h.base.latency.median_ms if h.base.latency else None) \
                if key == "latency_ms" else getattr(h.base, key)
            if key == "latency_ms" and h.latency_comparison is not None:
                # a comparison: the added time and the ratio, each with its interval
                parts.append(f"latency {added_ms_text(h)} "
                             f"({comparison_text(h.latency_comparison)})")
                continue
            text = (f"latency {'+' if a >= 0 else ''}{time_format(h.total.latency)(a)}"
                    if key == "latency_ms" else f"+{_human(a)}{unit}")
            parts.append(text + (f" ({100 * a / base:+.2f}%)" if base else ""))
        return f"{p.label} in {h.name} ({h.blocks} blocks) adds " + ", ".join(parts)
    own = p.own
    parts = [f"{_human(p.params)} params"]
    if own is not None:
        parts += [f"{_human(own.macs)} MACs", f"{_human(own.flops)} FLOPs"]
    lat = p.latency
    if lat is not None:
        parts.append(f"latency {median_text(lat)}"
                     + (f" ({interval_text(lat)})" if lat.ci_low_ms is not None else ""))
    return f"{p.label}: " + ", ".join(parts)


def header_view(p: Profile) -> Heading:
    where = f"input {p.input.text} {p.input.dtype} on {p.input.device}, mode {p.mode}"
    if p.input.memory_format != "contiguous":
        where += f", {p.input.memory_format}"
    if p.latency is not None and p.latency.compiled:
        where += ", timed compiled (torch.compile)"
    if p.latency is not None and p.latency.cuda_graph:
        where += ", timed as a CUDA graph"
    if p.label != p.block.name:
        where = f"block {p.block.name}, {where}"
    lines = [where, f"options: {fmt.option_text(p.block.options)}"]
    if p.block.unused_options:
        lines.append(f"not applied: {fmt.option_text(p.block.unused_options)} (the built "
                     "block is the same without them or with other values)")
    if p.own is None:
        lines.append("MACs and FLOPs: attnprof's counter did not run")
    return Heading(headline(p), tuple(lines))


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
        rows.append(["latency (median)", median_text(b.latency), median_text(t.latency),
                     added_ms_text(h) if c else time_format(t.latency)(h.added("latency_ms")),
                     comparison_text(c) if c else _pct(h.added("latency_ms"), b.latency.median_ms)])
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


def comparison_text(c: Comparison) -> str:
    """"1.21x [1.15x, 1.26x] slower": a ratio with the digits its interval supports."""
    if c.ci_low is None or c.ci_high is None:
        return f"{ratio_text(c.ratio)}x (no interval) {c.verdict}"
    lo, hi = c.ci_low, c.ci_high
    return (f"{ratio_text(c.ratio, lo, hi)}x [{ratio_text(lo, lo, hi)}x, "
            f"{ratio_text(hi, lo, hi)}x] {c.verdict}")


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
    """attnprof's work, memory, latency and the roofline. Counts are exact; latency's
    method is a note, so the table stays narrow."""
    m, prm, own = p.memory, p.parameters, p.own
    rows = [["parameters", fmt.count(prm.total),
             f"{fmt.nbytes(m.params_bytes)}, {fmt.count(prm.trainable)} trainable"]]
    if own is not None:
        rows += [["MACs (matmul, conv)", fmt.count(own.macs), "attnprof"],
                 ["FLOPs (every op)", fmt.count(own.flops), "attnprof"],
                 ["transcendentals", fmt.count(own.transcendentals),
                  "sigmoid, exp, ... (attnprof)"],
                 ["bytes read + written", fmt.nbytes(own.bytes),
                  f"{fmt.nbytes(own.bytes_read)} + {fmt.nbytes(own.bytes_written)} (attnprof)"]]
        if own.bytes:
            rows.append(["arithmetic intensity", f"{own.flops / own.bytes:.3f} FLOP/B",
                         "FLOPs / bytes read + written"])
    rows += [["activations written", fmt.nbytes(m.activations_bytes),
              "every op output (attnprof)"],
             ["peak memory", fmt.nbytes(m.peak_bytes), m.peak_method or ""]]
    if m.saved_for_backward_bytes is not None:
        rows.append(["saved for backward", fmt.nbytes(m.saved_for_backward_bytes), "autograd"])
    lat = p.latency
    if lat is None:
        rows.append(["latency", "-", "not measured (--no-latency)"])
        return _table("Work, memory and time", _cols("what", "value>", "how"), rows)
    t = time_format(lat)
    rows.append(["latency (median)", t(lat.median_ms),
                 f"{interval_text(lat)}, IQR {t(lat.iqr_ms)}"])
    if lat.device_ms is not None:
        rows.append(["device time", fmt.ms(lat.device_ms),
                     "per call, between CUDA events (no host overhead)"])
    rows.append(["throughput", f"{fmt.sig3(lat.images_per_s)} img/s",
                 f"min {t(lat.min_ms)}, mean {t(lat.mean_ms)}, p90 {t(lat.p90_ms)}"])
    notes = [f"latency: {latency_method(lat)}"]
    roof = p.roofline
    if roof is None:
        rows.append(["roofline", "-", "run 'attnprof calibrate' once to measure this machine"])
    else:
        over = ("" if roof.latency_over_floor is None
                else f"; latency {roof.latency_over_floor:.1f}x the floor")
        dram = " (DRAM; the data fit in cache)" if roof.cache_resident and \
            roof.bound == "memory" else ""
        rows += [["achieved", f"{roof.achieved_gbs:.2f} GB/s",
                  f"{roof.achieved_gflops:.2f} GFLOP/s (peaks {roof.peak_gbs:.1f} GB/s, "
                  f"{roof.peak_gflops:.1f} GFLOP/s)"],
                 ["roofline floor", fmt.ms(roof.floor_ms), f"{roof.bound}-bound{dram}{over}"]]
        notes += roofline_notes(roof)
    return _table("Work, memory and time", _cols("what", "value>", "how"), rows,
                  notes + [f"latency: {w}" for w in lat.warnings])


def latency_method(lat: Any) -> str:
    """How a latency was measured: samples, threads and why, mode, the timer, and what was
    timed (compiled, CUDA graph, memory format, cold cache)."""
    text = (f"{lat.samples} samples x {lat.runs_per_sample} runs, {lat.threads} thread(s)"
            + (f" ({lat.threads_reason})" if lat.threads_reason else "") + f", {lat.mode}")
    text += "".join(f", {flag}" for flag, on in (("torch.compile", lat.compiled),
                                                  ("CUDA graph", lat.cuda_graph),
                                                  ("channels_last", lat.channels_last),
                                                  ("L2 flushed before each call", lat.l2_flush))
                    if on)
    return f"{text}; {lat.method}"


def roofline_notes(roof: Any) -> list[str]:
    """What bounds the floor: a working set that fits in the last-level cache is not bound
    by DRAM bandwidth, so achieved GB/s may pass the measured peak."""
    if not roof.cache_resident:
        return []
    return [f"roofline: the working set ({fmt.nbytes(roof.working_set_bytes)}, the estimated "
            f"peak memory) fits in the {fmt.nbytes(roof.llc_bytes)} last-level cache, so the "
            "DRAM bandwidth of the floor does not bound this block: achieved GB/s may pass "
            "the peak, and the latency may be under the floor"]


def layers_view(p: Profile) -> TableView:
    """One row per module: each backend's MACs there (children included), attnprof's FLOPs
    and bytes. Detail tables show exact counts."""
    backends = list(p.counters)
    shapes = output_shapes(p)
    rows = [[x.path or "(block)", x.type, shape_text(shapes.get(x.path)), fmt.count(x.params),
             *[fmt.count(x.macs.get(b)) for b in backends],
             fmt.count(x.cost.flops) if x.cost else "-",
             fmt.count(x.cost.bytes) if x.cost else "-"] for x in p.layers]
    return _table("Per layer: output shape, MACs as each backend counts them (children "
                  "included), attnprof's FLOPs and bytes",
                  _cols("module", "type", "output shape", "params>",
                        *[f"{b}>" for b in backends], "FLOPs>", "bytes>"), rows)


def output_shapes(p: Profile) -> Mapping[str, Sequence[int]]:
    """Each module's output shape (its first call's), as attnprof's counter saw it; empty
    for a profile made before it recorded them."""
    c = p.counters.get("attnprof")
    return (c.extra.get("output_shapes") or {}) if c is not None and c.ok else {}


def shape_text(shape: Sequence[int] | None) -> str:
    return "-" if shape is None else "×".join(map(str, shape))


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
    ci = timing.get("network_ms_ci")
    rows = [["network", ms(timing["network_ms"], ci),
             interval_label(lat.get("ci_coverage"))
             + (f" {ms(ci[0], ci)} to {ms(ci[1], ci)}" if ci else ""),
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
