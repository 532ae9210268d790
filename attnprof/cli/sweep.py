"""``sweep``: blocks over a product of inputs, and :func:`sweep_and_report`, which runs the
cases of a sweep (this command's, or a suite's ``[sweep]`` table) and reports them."""

from __future__ import annotations

from typing import Annotated

import typer

from attnprof.cli.commands import profiling_command
from attnprof.cli.options import ProfilingOptions, options_per_block
from attnprof.cli.output import emit, error_line, note, progress_bar
from attnprof.errors import BadInput


@profiling_command("sweep")
def sweep(
    blocks: Annotated[list[str], typer.Argument(help="One or more blocks.")],
    channels: str,
    size: str,
    batch: str,
    dtype: str,
    *,
    opts: ProfilingOptions,
    csv_path: str | None,
    plot: Annotated[str | None, typer.Option(
        "--plot", metavar="PATH", help="Write a PNG of the curves to PATH.")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Skip cases already in the --json (or --csv) file.")] = False,
    ops: bool,
    quiet: bool,
) -> None:
    """Profile blocks over the product of channels, sizes, batches and dtypes.

    Plots the curves and fits how each cost scales with the one axis swept.
    """
    from attnprof.sweep import plan

    cases = []
    for block, options in zip(blocks, options_per_block(blocks, opts.option), strict=True):
        cases += plan([block], channels, size, batch, dtype,
                      opts.request(block, options=options, ops=ops))
    sweep_and_report(cases, fmt_=opts.format, json_path=opts.json_path, csv_path=csv_path,
                     plot=plot, resume=resume, quiet=quiet)


def _prior_results(json_path: str | None, csv_path: str | None):
    """What an earlier run of the same sweep finished: its profiles (from --json) or its CSV
    rows (from --csv alone), and the case names to skip."""
    import csv
    import io

    from attnprof.check import load_results
    from attnprof.files import output_kind, read_user_file

    # only a regular file holds an earlier run (a FIFO or a device is not read back)
    if json_path and output_kind(json_path) == "file":
        profiles = load_results(json_path)
        return profiles, [], {p.label for p in profiles}
    if csv_path and output_kind(csv_path) == "file":
        text = read_user_file(csv_path, "an attnprof CSV file")
        try:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise BadInput(f"{csv_path}: cannot resume from it: {exc}") from None
        if rows and ("name" not in rows[0] or any(r.get("name") is None for r in rows)):
            raise BadInput(f"{csv_path}: not an attnprof CSV (no 'name' column)")
        return [], rows, {r["name"] for r in rows}
    return [], [], set()


def _check_resume_rows(rows, cases, path) -> None:
    """``--resume`` from a CSV alone: its rows name their options, mode, device and whether
    latency was measured; a case made with other settings is refused (exit 2)."""
    by_name = {c.name: c for c in cases}
    for row in rows:
        plan = by_name.get(row.get("name"))
        if plan is None:
            continue
        from attnprof.signature import recorded_options

        given = recorded_options(plan.options)
        if plan.spec is not None and plan.spec.takes_any_option():
            # the CSV lists the options applied; one its **kwargs left unused is not there
            written = {part.partition("=")[0] for part in row.get("options", "").split(";")}
            names = set(plan.spec.signature.names()) if plan.spec.signature else set()
            given = {k: v for k, v in given.items() if k in written or k in names}
        now = {"options": ";".join(f"{k}={v}" for k, v in given.items()),
               "mode": plan.mode, "device": plan.device,
               "latency": "on" if plan.latency else "off"}
        then = {"options": row.get("options", ""), "mode": row.get("mode", ""),
                "device": row.get("device", ""),
                "latency": "on" if (row.get("latency_ms") or "").strip() else "off"}
        differ = [f"{k}: {then[k]} -> {now[k]}" for k in now if then[k] != now[k]]
        if differ:
            raise BadInput(f"{path}: case '{plan.name}' was made with other settings "
                           f"({'; '.join(differ)}); rerun without --resume, or write the new "
                           "sweep to another file")


def sweep_and_report(cases, *, fmt_: str, json_path: str | None, csv_path: str | None,
                     plot: str | None, resume: bool, quiet: bool) -> None:
    """Run the cases with :func:`attnprof.sweep.run_sweep`, rewriting --json and --csv after
    each; on Ctrl-C say what was kept and exit 130; then report the cases and the fit."""
    from attnprof.files import check_outputs, json_text, write_text

    check_outputs({"--json": json_path, "--csv": csv_path, "--plot": plot})
    if plot:
        from attnprof.report.plot import require_matplotlib

        require_matplotlib()
    if resume and not (json_path or csv_path):
        raise BadInput("--resume needs the --json or --csv file of the earlier run")
    prior, prior_rows, done = _prior_results(json_path, csv_path) if resume else ([], [], set())
    if resume:
        from attnprof.check import check_resume

        # a file of other settings is not resumed: its rows and the new ones would mix
        if prior:
            check_resume(prior, cases, json_path)
        _check_resume_rows(prior_rows, cases, csv_path)
        skipped = sum(c.name in done for c in cases)
        note(f"resuming: {skipped} of {len(cases)} cases already done")
    from attnprof.files import output_kind
    from attnprof.report.csv import profiles_csv
    from attnprof.results import results_document
    from attnprof.sweep import SweepInterrupted, run_sweep, scaling

    # regular files are rewritten after each case (Ctrl-C keeps them); a stream (stdout, a
    # FIFO, a device) is written once, at the end
    def regular(path: str | None) -> bool:
        return bool(path) and output_kind(path) in ("file", "new")

    def csv_text(finished) -> str:
        return profiles_csv(finished[len(prior):] if prior_rows else finished, prior_rows)

    def save(finished) -> None:
        if regular(json_path):
            write_text(json_path, json_text(results_document(finished)))
        if regular(csv_path):
            write_text(csv_path, csv_text(finished))

    try:
        with progress_bar(quiet, "sweep") as progress:
            finished = run_sweep(cases, prior=prior, skip=done, save=save, progress=progress)
    except SweepInterrupted as stop:
        where = " and ".join(p for p in (json_path, csv_path) if p and p != "-")
        error_line(f"interrupted: {len(stop.finished)} of {stop.total} cases finished"
                   + (f" and kept in {where}; rerun the same command with --resume to go on"
                      if where else "; add --json PATH to keep finished cases next time"))
        raise typer.Exit(130) from None
    fits = scaling(finished)
    if plot:
        from attnprof.report.plot import plot_sweep

        plot_sweep(finished, plot, fits)
    from attnprof.report.comparison_views import sweep_views
    from attnprof.report.media import renderer

    views = sweep_views(finished, fits)

    def table(console) -> None:
        console.print(renderer("table").render(views))
        if plot:
            console.print(f"plot written to {plot}")

    emit(fmt_, results_document(finished, scaling=fits), renderer("markdown").render(views),
         table, json_path, claims=(csv_path,))
    if csv_path and not regular(csv_path):
        write_text(csv_path, csv_text(finished))
