"""Rich tables for one profile (``stat``): header, counters with reconciliation, memory,
latency, and on request per-layer and per-op tables."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from attnprof.reconcile import missed_ops, missed_text
from attnprof.report import fmt
from attnprof.results import Profile

STATUS_STYLE = {"ok": "green", "failed": "red", "skipped": "yellow", "unavailable": "yellow"}


def header(p: Profile) -> Text:
    shape = "×".join(str(s) for s in p.input["shape"])
    t = Text()
    t.append(p.block["name"], style="bold cyan")
    t.append(f"  input {shape} {p.input['dtype']} on {p.input['device']}  mode {p.mode}\n")
    t.append(f"options: {fmt.option_text(p.block['options'])}\n", style="dim")
    prm = p.params
    t.append(f"params {fmt.count(prm['total'])}", style="bold")
    t.append(f"  ({fmt.count(prm['trainable'])} trainable, {fmt.nbytes(prm['bytes'])})")
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
        t.add_row("throughput", f"{lat.images_per_s:,.1f} img/s", f"min {fmt.ms(lat.min_ms)}, "
                  f"p90 {fmt.ms(lat.p90_ms)}")
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
        leaf = row["path"].rsplit(".", 1)[-1] if row["path"] else "(block)"
        name = ("  " * row["depth"]) + f"{leaf} [dim]{row['type']}[/dim]"
        cost = row.get("attnprof") or {}
        t.add_row(name, fmt.si(row["params"]), *[fmt.si(row["macs"].get(b)) for b in backends],
                  fmt.si(cost.get("flops")),
                  fmt.nbytes(cost["bytes_read"] + cost["bytes_written"]) if cost else "-")
    return t


def ops_table(p: Profile) -> Table:
    own = p.counters["attnprof"]
    t = Table(title="Per aten op (attnprof)", box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("op", "calls", "MACs", "FLOPs", "share", "transc.", "bytes", "FLOP/B"):
        t.add_column(col, justify="left" if col == "op" else "right", no_wrap=True)
    for row in own.ops:
        b = row["bytes_read"] + row["bytes_written"]
        t.add_row(row["op"].split("::")[-1] + (" (no rule)" if row["uncounted"] else ""),
                  str(row["calls"]), fmt.count(row["macs"]), fmt.count(row["flops"]),
                  fmt.percent(row["flops"], own.flops), fmt.count(row["transcendentals"]),
                  fmt.nbytes(b), "-" if row["intensity"] is None else f"{row['intensity']:.3f}")
    return t


def render(p: Profile, console: Console, *, layers: bool = False, ops: bool = False) -> None:
    parts = [header(p), counters_table(p), cost_table(p)]
    if layers:
        parts.append(layers_table(p))
    if ops and "attnprof" in p.counters and p.counters["attnprof"].ok:
        parts.append(ops_table(p))
    console.print(Group(*parts))
    notes = [f"{n}: {note}" for n, c in p.counters.items() for note in c.notes if n != "attnprof"]
    for note in notes:
        console.print(Text(note, style="dim"))
