"""What ``model`` shows for a whole network, from its JSON document: the attention modules
found and their costs, the attention's share of the network, and its time measured two ways
(its own time under hooks, the saving by removal), each with its interval; across fresh
processes with ``--repeat``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attnprof.report import fmt
from attnprof.report.view import Heading, TableView, View, _cols, _table


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
