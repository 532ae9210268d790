"""``compare``: several blocks at one input, timed interleaved."""

from __future__ import annotations

from typing import Annotated

import typer

from attnprof.cli.commands import profiling_command
from attnprof.cli.options import ProfilingOptions, options_per_block
from attnprof.cli.output import emit, progress_bar
from attnprof.errors import BadInput


@profiling_command("compare")
def compare(
    blocks: Annotated[list[str], typer.Argument(
        help="Two or more blocks (names, aliases or package.module:Name).")],
    *,
    opts: ProfilingOptions,
    markdown_path: str | None,
    csv_path: str | None,
    baseline: Annotated[str | None, typer.Option(
        "--baseline", metavar="BLOCK",
        help="Show ratios and differences against this block.")] = None,
    rounds: Annotated[int, typer.Option(
        "--rounds", metavar="N", help="Interleaved timing rounds (at least; with --baseline, "
        "more until every latency verdict is decisive or --time-cap).")] = 5,
    time_cap: float,
    layers: bool,
    ops: bool,
    quiet: bool,
) -> None:
    """Profile several blocks at one input, timed interleaved (A B C A B C)."""
    from attnprof.files import check_outputs, write_text

    if len(blocks) < 2:
        raise BadInput("compare needs at least two blocks, e.g. 'attnprof compare se eca'")
    from attnprof.values import check_rounds, seconds

    check_rounds("--rounds", rounds)
    seconds("--time-cap", time_cap)
    check_outputs({"--json": opts.json_path, "--markdown": markdown_path, "--csv": csv_path})
    from attnprof.library import case_names

    names = case_names(blocks)
    if baseline is not None and baseline not in names:
        raise BadInput(f"--baseline {baseline!r} is not among the compared blocks: "
                       f"{', '.join(names)}")
    per_block = options_per_block(blocks, opts.option)
    plans = [opts.request(b, ops=ops, name=n).validated()
             for b, n in zip(blocks, names, strict=True)]
    requests = [p.with_options(o) for p, o in zip(plans, per_block, strict=True)]

    from attnprof.library import compare_plans

    with progress_bar(quiet) as progress:
        compared = compare_plans(requests, names, baseline, rounds, time_cap, progress)
    profiles = compared.profiles
    from attnprof.report.comparison_views import compare_views
    from attnprof.report.csv import profiles_csv
    from attnprof.report.media import renderer

    md = renderer("markdown").render(compare_views(profiles, baseline, layers=layers, ops=ops))
    terminal = compare_views(profiles, baseline, layers=layers, ops=ops, name_each=True)
    emit(opts.format, compared.to_dict(), md,
         lambda console: console.print(renderer("table").render(terminal)), opts.json_path,
         markdown_path, claims=(csv_path,))
    if csv_path:
        write_text(csv_path, profiles_csv(profiles))
