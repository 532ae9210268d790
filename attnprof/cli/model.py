"""``model``: how much of a whole network's parameters, work and time is its attention."""

from __future__ import annotations

from typing import Annotated

import typer

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
    from attnprof.request import parse_device, parse_size

    check_outputs({"--json": json_path})  # batch, threads and budget: checked by analyze
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
    from attnprof.report.markdown import to_markdown
    from attnprof.report.rich_render import print_views
    from attnprof.report.views import model_views

    views = model_views(doc)
    emit(fmt_, doc, to_markdown(views), lambda console: print_views(console, views), json_path)

