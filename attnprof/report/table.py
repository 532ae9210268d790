"""Rich tables for one profile (``stat``): header, counters with reconciliation, memory,
latency, and on request per-layer and per-op tables."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from attnprof.reconcile import missed_ops, missed_text
from attnprof.report import fmt
from attnprof.results import Profile

STATUS_STYLE = {"ok": "green", "failed": "red", "skipped": "yellow", "unavailable": "yellow"}


def header(p: Profile) -> Text:
    shape = p.input.text
    t = Text()
    t.append(p.block.name, style="bold cyan")
    t.append(f"  input {shape} {p.input.dtype} on {p.input.device}  mode {p.mode}\n")
    t.append(f"options: {fmt.option_text(p.block.options)}\n", style="dim")
    prm = p.parameters
    t.append(f"params {fmt.count(prm.total)}", style="bold")
    t.append(f"  ({fmt.count(prm.trainable)} trainable, {fmt.nbytes(prm.bytes)})")
    return t


def counters_table(p: Profile) -> Table:
    """Every backend's figure beside attnprof's full count, all as FLOPs (2 x MACs), with the
    ops each one missed: why torchinfo says 128 where attnprof says two million."""
    own = p.counters.get("attnprof")
    own_flops = own.flops if own is not None and own.ok else None
    t = Table(title="What each counter reports, and what it leaves out", box=box.SIMPLE_HEAD,
              title_justify="left")
    t.add_column("backend", no_wrap=True)
    t.add_column("reports", justify="right", no_wrap=True)
    t.add_column("as FLOPs", justify="right", no_wrap=True)
    t.add_column("of attnprof", justify="right", no_wrap=True)
    t.add_column("not counted (share of attnprof FLOPs)", ratio=1)
    for name, c in p.counters.items():
        if not c.ok:
            t.add_row(name, Text(c.status, style=STATUS_STYLE.get(c.status, "")), "", "",
                      Text(c.error or "", style="dim"))
            continue
        reported = f"{fmt.count(c.reported)} {c.unit}"
        if name == "attnprof":
            missed = "no rule: " + ", ".join(c.uncounted_ops) if c.uncounted_ops else "-"
            t.add_row(Text(name, style="bold"), reported, fmt.count(c.flops), "100%", missed)
            continue
        missed = missed_text(missed_ops(c, own), limit=3) if own is not None else "-"
        t.add_row(name, reported, fmt.count(c.flops), fmt.percent(c.flops, own_flops), missed)
    return t


def cost_table(p: Profile) -> Table:
    t = Table(title="Work, memory and time", box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_column("how", style="dim")
    m = p.memory
    t.add_row("parameters", fmt.nbytes(m.params_bytes), "")
    t.add_row("activations written", fmt.nbytes(m.activations_bytes), "every op output (attnprof)")
    t.add_row("peak", fmt.nbytes(m.peak_bytes), m.peak_method or "")
    if m.saved_for_backward_bytes is not None:
        t.add_row("saved for backward", fmt.nbytes(m.saved_for_backward_bytes), "autograd")
    own = p.counters.get("attnprof")
    if own is not None and own.ok:
        t.add_row("MACs (matmul, conv)", fmt.count(own.macs), "attnprof")
        t.add_row("transcendentals", fmt.count(own.transcendentals), "sigmoid, exp, ... (attnprof)")
        t.add_row("bytes read + written", fmt.nbytes(own.bytes),
                  f"{fmt.nbytes(own.bytes_read)} + {fmt.nbytes(own.bytes_written)} (attnprof)")
    if own is not None and own.ok and own.bytes:
        t.add_row("arithmetic intensity", f"{own.flops / own.bytes:.3f} FLOP/B",
                  "attnprof FLOPs / bytes read+written")
    lat = p.latency
    if lat is None:
        t.add_row("latency", "-", "not measured (--no-latency)")
    else:
        t.add_row("latency (median)", fmt.ms(lat.median_ms),
                  f"IQR {fmt.ms(lat.iqr_ms)}, {lat.samples} samples x {lat.runs_per_sample} "
                  f"runs, {lat.threads} thread(s), {lat.mode}")
        if lat.device_ms is not None:
            t.add_row("device time", fmt.ms(lat.device_ms), "per call, between CUDA events "
                      "(kernels without host overhead)")
        t.add_row("throughput", f"{lat.images_per_s:,.1f} img/s", f"min {fmt.ms(lat.min_ms)}, "
                  f"mean {fmt.ms(lat.mean_ms)}, p90 {fmt.ms(lat.p90_ms)}; {lat.method}")
        roof = p.roofline
        if roof is None:
            t.add_row("roofline", "-", "run 'attnprof calibrate' once to measure this machine")
        else:
            t.add_row("achieved", f"{roof.achieved_gbs:.2f} GB/s",
                      f"{roof.achieved_gflops:.2f} GFLOP/s (peaks {roof.peak_gbs:.1f} "
                      f"GB/s, {roof.peak_gflops:.1f} GFLOP/s)")
            t.add_row("roofline floor", fmt.ms(roof.floor_ms),
                      f"{roof.bound}-bound; measured latency is "
                      f"{roof.latency_over_floor:.1f}x the floor")
    return t


def layers_table(p: Profile) -> Table:
    backends = list(p.counters)
    t = Table(title="Per layer: MACs as each backend counts them (children included), "
              "attnprof's FLOPs and bytes", box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("module", no_wrap=True)
    t.add_column("params", justify="right", no_wrap=True)
    for b in backends:
        t.add_column(b, justify="right", no_wrap=True)
    t.add_column("FLOPs", justify="right", no_wrap=True)
    t.add_column("bytes", justify="right", no_wrap=True)
    for row in p.layers:
        leaf = row.path.rsplit(".", 1)[-1] if row.path else "(block)"
        name = ("  " * row.depth) + f"{leaf} [dim]{row.type}[/dim]"
        cost = row.cost
        t.add_row(name, fmt.si(row.params), *[fmt.si(row.macs.get(b)) for b in backends],
                  fmt.si(cost.flops) if cost else "-",
                  fmt.nbytes(cost.bytes) if cost else "-")
    return t


def op_rows(p: Profile) -> list[dict]:
    """Counter rows and profiler times joined by op name; by time when timed, else FLOPs."""
    own = p.counters.get("attnprof")
    counted = {r.op: r for r in own.ops} if own is not None and own.ok else {}
    times = {r.op: r for r in p.op_times}
    rows = []
    for name in dict.fromkeys([*times, *counted]):
        rows.append({"op": name, "count": counted.get(name), "time": times.get(name)})
    if times:
        rows.sort(key=lambda r: -(r["time"].self_ms if r["time"] else 0))
    return rows


def ops_table(p: Profile) -> Table:
    own = p.counters.get("attnprof")
    total = own.flops if own is not None and own.ok else None
    timed = bool(p.op_times)
    title = "Per aten op: attnprof's counts" + (", torch.profiler's self time" if timed else "")
    t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    cols = ["op", "calls"] + (["self time", "time"] if timed else []) + [
        "MACs", "FLOPs", "FLOPs %", "transc.", "bytes", "FLOP/B"]
    for col in cols:
        t.add_column(col, justify="left" if col == "op" else "right", no_wrap=True)
    for row in op_rows(p):
        c, tm = row["count"], row["time"]
        name = row["op"].split("::")[-1]
        if c is not None and c.uncounted:
            name += " (no rule)"
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
                      fmt.count(c.transcendentals), fmt.nbytes(c.bytes),
                      "-" if c.intensity is None else f"{c.intensity:.3f}"]
        t.add_row(*cells)
    return t


def host_rows(h) -> list[list[str]]:
    """The overhead as the papers report it: absolute and percent; params in M (10^6) and in
    the 2^20 units ECA-Net uses."""

    def pct(added, base):
        return "-" if added is None or not base else f"+{100 * added / base:.2f}%"

    def params(n):
        return f"{n / 1e6:.3f} M ({n / 2**20:.3f} M 2^20)"

    b, t = h.base, h.total
    rows = [["params", params(b.params), params(t.params), f"+{h.added('params'):,}",
             pct(h.added("params"), b.params)]]
    for key, label in (("macs", "MACs (matmul, conv)"), ("flops", "FLOPs (all ops)")):
        if getattr(b, key) is not None and getattr(t, key) is not None:
            rows.append([label, f"{getattr(b, key) / 1e9:.4f} G",
                         f"{getattr(t, key) / 1e9:.4f} G", f"+{h.added(key):,}",
                         pct(h.added(key), getattr(b, key))])
    if b.bytes is not None and t.bytes is not None:
        rows.append(["bytes read + written", fmt.nbytes(b.bytes), fmt.nbytes(t.bytes),
                     fmt.nbytes(h.added("bytes")), pct(h.added("bytes"), b.bytes)])
    if b.latency is not None and t.latency is not None:
        rows.append(["latency (median)", fmt.ms(b.latency.median_ms),
                     fmt.ms(t.latency.median_ms), fmt.ms(h.added("latency_ms")),
                     pct(h.added("latency_ms"), b.latency.median_ms)])
    if b.peak_bytes is not None and t.peak_bytes is not None:
        rows.append(["peak memory", fmt.nbytes(b.peak_bytes), fmt.nbytes(t.peak_bytes),
                     fmt.nbytes(h.added("peak_bytes")), pct(h.added("peak_bytes"), b.peak_bytes)])
    return rows


def host_table(p: Profile) -> Table:
    h = p.host
    t = Table(title=f"In {h.name}: {h.blocks} blocks ({h.slot})", box=box.SIMPLE_HEAD,
              title_justify="left")
    for col in ("", h.name, f"+ {p.block.name}", "added", "overhead"):
        t.add_column(col, justify="left" if not col else "right", no_wrap=True)
    for row in host_rows(h):
        t.add_row(*row)
    return t


def profile_renderables(p: Profile, *, layers: bool = False, ops: bool = False) -> list:
    """What ``stat`` prints for one profile, as rich renderables (also a Profile's display in
    a rich console or a notebook)."""
    parts = [header(p)] + ([host_table(p)] if p.host else []) + [counters_table(p),
                                                                 cost_table(p)]
    if layers:
        parts.append(layers_table(p))
    if ops and (p.op_times or p.own is not None):
        parts.append(ops_table(p))
    notes = [f"{n}: {note}" for n, c in p.counters.items() for note in c.notes if n != "attnprof"]
    parts += [Text(note, style="dim") for note in notes]
    return parts


def render(p: Profile, console: Console, *, layers: bool = False, ops: bool = False) -> None:
    for part in profile_renderables(p, layers=layers, ops=ops):
        console.print(part)
