"""``stat``: profile one block."""

from __future__ import annotations

from typing import Annotated

import typer

from attnprof.cli.commands import profiling_command
from attnprof.cli.options import ProfilingOptions
from attnprof.cli.output import emit, status_line


@profiling_command("stat")
def stat(
    block: Annotated[str, typer.Argument(help="Block name, alias, or package.module:Name.")],
    opts: ProfilingOptions,
    layers: bool,
    ops: bool,
    csv_path: str | None,
) -> None:
    """Profile one block: every counter's figure, memory and latency."""
    from attnprof.files import check_outputs
    from attnprof.options import parse_assignments

    check_outputs({"--json": opts.json_path, "--csv": csv_path})
    request = opts.request(block, options=parse_assignments(opts.option),
                           ops=ops).validated()
    from attnprof.runner import profile

    result = profile(request, progress=status_line())
    from attnprof.report.block_views import profile_views
    from attnprof.report.media import renderer

    views = profile_views(result, layers=layers, ops=ops)
    # emit prints Markdown only for --format markdown; stat writes no .md file
    md = renderer("markdown").render(views) if opts.format == "markdown" else ""
    emit(opts.format, result.to_dict(), md,
         lambda console: console.print(renderer("table").render(views)), opts.json_path,
         claims=(csv_path,))
    if csv_path:
        from attnprof.files import write_text
        from attnprof.report.csv import detail_csv

        write_text(csv_path, detail_csv(result))
