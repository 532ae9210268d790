"""What ``stat`` shows for one profile: the headline, the block's heading, the host network it
sits in, each counter's figure and what it missed, the cost table (work, memory, time, the
roofline), and the per-layer and per-op tables. Torch-free: reads a Profile only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attnprof.reconcile import missed_ops, missed_text, share_text
from attnprof.report import fmt
from attnprof.report.view import (
    Heading,
    TableView,
    Tone,
    View,
    _cols,
    _table,
    added_ms_text,
    comparison_text,
    interval_text,
    median_text,
    time_format,
)
from attnprof.results import Comparison, Count, OpCost, OpTime, Profile

STATUS_TONE: dict[str, Tone] = {"ok": "good", "failed": "bad", "skipped": "warn",
                                "unavailable": "warn"}


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
