"""``model``: how much of a whole network's parameters, work and time is its attention."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from attnprof.cli.app import STATE, app, handled
from attnprof.cli.options import Debug, Device, Format, JsonPath, Threads, output_format
from attnprof.cli.output import emit, status_line


@app.command()
@handled
def model(
    network: Annotated[str, typer.Argument(
        help="timm:NAME, torchvision:NAME, one of attnprof's hosts, or package.module:Name.")],
    block: Annotated[str | None, typer.Option(
        "--block", metavar="BLOCK", help="Put this block in the network's attention slots "
        "(as --host does) before looking.")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", metavar="KEY=VALUE", help="Option of --block (repeatable).")] = None,
    match: Annotated[list[str] | None, typer.Option(
        "--match", "-m", metavar="PATTERN", help="Also count modules whose path or class name "
        "matches this fnmatch pattern as attention (repeatable), e.g. 'layer*.*.se'.")] = None,
    size: Annotated[str | None, typer.Option(
        "--size", "-s", metavar="S|HxW", help="Input size (default: the network's own, else "
        "224).")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b", metavar="B", help="Batch size.")] = 1,
    latency: Annotated[bool, typer.Option(
        "--latency/--no-latency", help="Measure each attention module's share of the "
        "network's time (module hooks).")] = True,
    budget: Annotated[float, typer.Option(
        "--budget", metavar="SECONDS", help="Seconds of timed forwards (at least 3).")] = 1.0,
    device: Device = "cpu", threads: Threads = None,
    format: Format = "table", json_path: JsonPath = None, debug: Debug = False,
) -> None:
    """The attention inside a whole network: per attention module and in total, its
    parameters, MACs, FLOPs, bytes and share of the network's time."""
    STATE.debug = STATE.debug or debug
    fmt_ = output_format(format)
    from attnprof.files import check_outputs
    from attnprof.options import parse_assignments
    from attnprof.request import check_dim, check_threads, parse_device, parse_size, seconds

    check_outputs({"--json": json_path})
    check_dim("batch", batch)
    check_threads(threads)
    seconds("the timing budget", budget)
    options = parse_assignments(option or [])
    hw = parse_size(size) if size is not None else None
    dev = parse_device(device)
    note = status_line()
    if note:
        note(f"{network}: building, counting{' and timing' if latency else ''}")
    from attnprof.contain import user_code
    from attnprof.model import analyze

    with user_code(f"network '{network}'"):  # its prints to stderr, its exits its failure
        report = analyze(network, block=block, options=options, match=match or (), size=hw,
                         batch=batch, latency=latency, device=dev, budget_s=budget,
                         threads=threads)
    doc = report.to_dict()
    emit(fmt_, doc, markdown(doc), lambda console: render(doc, console), json_path)


def _n(v: Any) -> str:
    from attnprof.units import count

    return count(v)


def render(doc: dict[str, Any], console: Console) -> None:
    from attnprof.units import ms, nbytes, percent, si

    net, att, mods = doc["network"], doc["attention"], doc["modules"]
    head = Text()
    head.append(net["name"], style="bold cyan")
    head.append(f"  input {'×'.join(map(str, net['input']))} {net['dtype']} on {net['device']}")
    if doc["block"]:
        head.append(f"\nwith {doc['block']['name']} in {doc['block']['slots']} slots: "
                    f"{doc['block']['host_slot']}")
    console.print(head)
    timed = doc["timing"] is not None
    t = Table(title=f"{len(mods)} attention modules", title_justify="left")
    cols = ["module", "type", "found by", "params", "MACs", "FLOPs", "bytes"]
    if timed:
        cols += ["time", "of network time"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("module", "type", "found by") else "right",
                     overflow="fold")
    for m in mods:
        row = [m["path"], m["type"], m["found_by"], _n(m["params"]), si(m["macs"]),
               si(m["flops"]), nbytes(m["bytes"])]
        if timed:
            row += [ms(m["time_ms"]), percent(m["time_share"], 1)]
        t.add_row(*row)
    total = ["attention, all", "", "", _n(att["params"]), si(att["macs"]), si(att["flops"]),
             nbytes(att["bytes"])]
    share = att["share"]
    of = ["share of the network", "", "", _pct(share["params"]), _pct(share["macs"]),
          _pct(share["flops"]), _pct(share["bytes"])]
    whole = ["network", "", "", _n(net["params"]), si(net["macs"]), si(net["flops"]),
             nbytes(net["bytes"])]
    if timed:
        total += [ms(doc["timing"]["attention_ms"]), _pct(share["time"])]
        of += ["", _pct(share["time"])]
        whole += [ms(net["time_ms"]), "100%"]
    t.add_section()
    t.add_row(*total, style="bold")
    t.add_row(*of)
    t.add_row(*whole)
    console.print(t)
    if timed:
        console.print(Text(f"time: {doc['timing']['method']}; {doc['timing']['threads']} "
                           "thread(s)", style="dim"))
    console.print(Text("params: the module's own; MACs, FLOPs, bytes read + written: "
                       "attnprof's count of every op on the meta device", style="dim"))
    for n in doc["notes"]:
        console.print(Text(f"note: {n}", style="yellow"))


def _pct(v: float | None) -> str:
    from attnprof.units import percent

    return percent(v, 1) if v is not None else "-"


def markdown(doc: dict[str, Any]) -> str:
    from attnprof.units import ms, nbytes, si

    net, att, mods = doc["network"], doc["attention"], doc["modules"]
    timed = doc["timing"] is not None
    head = ["module", "type", "found by", "params", "MACs", "FLOPs", "bytes"]
    if timed:
        head += ["time", "share of time"]
    lines = [f"**{net['name']}**, input {'×'.join(map(str, net['input']))}: "
             f"{len(mods)} attention modules", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in mods:
        cells = [f"`{m['path']}`", m["type"], m["found_by"], _n(m["params"]), si(m["macs"]),
                 si(m["flops"]), nbytes(m["bytes"])]
        if timed:
            cells += [ms(m["time_ms"]), _pct(m["time_share"])]
        lines.append("| " + " | ".join(cells) + " |")
    share = att["share"]
    cells = ["**attention**", "", "", f"{_n(att['params'])} ({_pct(share['params'])})",
             f"{si(att['macs'])} ({_pct(share['macs'])})",
             f"{si(att['flops'])} ({_pct(share['flops'])})",
             f"{nbytes(att['bytes'])} ({_pct(share['bytes'])})"]
    if timed:
        cells += [ms(doc["timing"]["attention_ms"]), _pct(share["time"])]
    lines.append("| " + " | ".join(cells) + " |")
    cells = ["**network**", "", "", _n(net["params"]), si(net["macs"]), si(net["flops"]),
             nbytes(net["bytes"])]
    if timed:
        cells += [ms(net["time_ms"]), "100%"]
    lines.append("| " + " | ".join(cells) + " |")
    if timed:
        lines += ["", f"Time: {doc['timing']['method']}."]
    lines += [f"Note: {n}" for n in doc["notes"]]
    return "\n".join(lines) + "\n"
