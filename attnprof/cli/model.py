"""``model``: how much of a whole network's parameters, work and time is its attention."""

from __future__ import annotations

from typing import Annotated

import typer

from attnprof.cli.app import STATE, app, handled
from attnprof.cli.options import declared, output_format
from attnprof.cli.output import emit, status_line


@app.command()
@handled
@declared("model")
def model(
    network: Annotated[str, typer.Argument(
        help="timm:NAME, torchvision:NAME, one of attnprof's hosts, or package.module:Name.")],
    *,
    block: str | None,
    option: list[str] | None,
    match: list[str] | None,
    size: str | None,
    channels: int | None,
    batch: int,
    backends: str,
    latency: bool,
    budget: float,
    time_cap: float,
    repeat: int,
    csv_path: str | None,
    device: str,
    threads: int | None,
    format: str,
    json_path: str | None,
) -> None:
    """The attention inside a whole network: per attention module and in total, its
    parameters, MACs, FLOPs, bytes, its own time and what removing it saves."""
    given = dict(locals())  # the options as parsed, by option name
    fmt_ = output_format(format)
    from attnprof.files import check_outputs
    from attnprof.options import parse_assignments
    from attnprof.profile_options import request_values
    from attnprof.request import NetworkRequest, make_network_plan

    check_outputs({"--json": json_path, "--csv": csv_path})
    plan = make_network_plan(NetworkRequest(network=network, **{
        **request_values("model", given), "options": parse_assignments(option or []),
        "match": tuple(match or ())}, verbose=STATE.verbose))
    from attnprof.network import check_repeat, profile_network, repeat_in_processes

    check_repeat(repeat, plan)
    note = status_line()
    profile = profile_network(plan, note)
    if repeat:
        if note:
            note(f"{network}: timing again in {repeat} fresh processes")
        from dataclasses import replace

        profile = replace(profile, repeat=repeat_in_processes(plan, repeat))
    doc = profile.to_dict()
    from attnprof.report.media import renderer
    from attnprof.report.network_views import model_views

    views = model_views(doc)
    emit(fmt_, doc, renderer("markdown").render(views),
         lambda console: console.print(renderer("table").render(views)), json_path,
         claims=(csv_path,))
    if csv_path:
        from attnprof.files import write_text
        from attnprof.report.csv import model_csv

        write_text(csv_path, model_csv(doc))
