"""``run`` and ``check``: suites with budgets, and baselines, for CI."""

from __future__ import annotations

from typing import Annotated

import typer

from attnprof.cli.app import STATE, app, handled
from attnprof.cli.options import declared, output_format
from attnprof.cli.output import emit, error_line, note, progress_bar
from attnprof.cli.sweep import sweep_and_report


@app.command("run")
@handled
@declared("run")
def run_suite(
    suite: Annotated[str, typer.Argument(help="A suite file (TOML): defaults, cases, budgets.")],
    *,
    json_path: str | None,
    markdown_path: str | None,
    format: str,
    strict: Annotated[bool, typer.Option(
        "--strict", help="An inconclusive latency budget fails too (exit 1).")] = False,
    time_cap: float,
    quiet: bool,
) -> None:
    """Run a suite: profile its cases (latency interleaved), then check its budgets.

    Exit 1 when a budget fails decisively (a latency ratio's whole 95% interval above its
    limit), or with --strict when one is inconclusive.
    """
    fmt_ = output_format(format)
    from attnprof.files import check_outputs
    from attnprof.suite import load

    outputs = {"--json": json_path, "--markdown": markdown_path}
    check_outputs(outputs, {"the suite": suite})
    spec = load(suite)
    # the suite's own outputs too: no two on one path, none on the suite itself
    check_outputs({**outputs, **spec.outputs()}, {"the suite": suite})
    if spec.sweep is not None and not spec.requests:
        sw = spec.sweep
        sweep_and_report(spec.sweep_cases, fmt_=fmt_, json_path=json_path or sw.get("json"),
                         csv_path=sw.get("csv"), plot=sw.get("plot"), resume=False,
                         quiet=quiet)
        return
    for line in spec.notes:
        note(f"note: {line}", style="yellow")
    if STATE.verbose:  # the global --verbose, given before or after 'run'
        from dataclasses import replace

        spec.requests = [replace(r, verbose=True) for r in spec.requests]

    from attnprof.library import run_cases
    from attnprof.values import seconds

    seconds("--time-cap", time_cap)
    with progress_bar(quiet) as progress:
        ran = run_cases(spec, suite, time_cap, strict, progress)
    profiles, results, timing = ran.profiles, ran.budgets, ran.sections["timing"]
    from attnprof.report.comparison_views import compare_views
    from attnprof.report.gate_views import budget_view
    from attnprof.report.markdown import append_step_summary
    from attnprof.report.media import renderer
    from attnprof.report.view import Heading

    doc = ran.to_dict()
    views = [*compare_views(profiles), *([budget_view(results)] if results else [])]
    # the Markdown (a CI step summary too) says which suite it is
    md = renderer("markdown").render([Heading(f"attnprof run {suite}"), *views])
    emit(fmt_, doc, md, lambda console: console.print(renderer("table").render(views)),
         json_path, markdown_path)
    append_step_summary(md)
    if spec.sweep is not None:
        sw = spec.sweep
        sweep_and_report(spec.sweep_cases, fmt_="table" if fmt_ == "table" else "markdown",
                         json_path=sw.get("json"), csv_path=sw.get("csv"),
                         plot=sw.get("plot"), resume=False, quiet=quiet)
    failed = [r for r in results if r.outcome == "fail"]
    unsure = [r for r in results if r.outcome == "inconclusive"]
    if unsure:
        rounds = f" after {timing['rounds']} rounds" if timing else ""
        note(f"warning: {len(unsure)} latency budget(s) inconclusive{rounds}: " + "; ".join(
            f"{r.case}: {r.what} (ratio {r.value:.3f}, 95% interval "
            f"{r.ci_low if r.ci_low is not None else 0:.3f} to "
            f"{r.ci_high if r.ci_high is not None else float('inf'):.3f})" for r in unsure)
            + ("" if strict else "; not a failure without --strict"), style="yellow")
    if failed or (strict and unsure):
        bad = failed + (unsure if strict else [])
        error_line(f"{len(bad)} budget(s) failed: " + "; ".join(
            f"{r.case}: {r.what}" + (" (inconclusive, --strict)" if r in unsure else "")
            for r in bad))
        raise typer.Exit(1)


@app.command()
@handled
@declared("check")
def check(
    results: Annotated[str, typer.Argument(help="An attnprof.results/1 JSON file.")],
    *,
    baseline: Annotated[str, typer.Option(
        "--baseline", metavar="PATH",
        help="The attnprof.results/1 JSON file to hold it against.")],
    latency_tolerance: Annotated[float, typer.Option(
        "--latency-tolerance", metavar="FRACTION",
        help="How much slower a case may get (0.2 = 20 %).")] = 0.2,
    relative_to: Annotated[str | None, typer.Option(
        "--latency-relative-to", metavar="CASE", help="Compare latencies as ratios to this "
        "case, measured in the same run (holds across machines).")] = None,
    tolerance: Annotated[list[str] | None, typer.Option(
        "--tolerance", metavar="METRIC=FRACTION", help="How much a count may change "
        "(repeatable); counts are otherwise exact.")] = None,
    format: str,
    markdown_path: str | None,
    show_same: Annotated[bool, typer.Option("--all", help="Also list unchanged figures.")]
    = False,
    exact: Annotated[bool, typer.Option(
        "--exact", help="Fail on any changed count: a lower one (an improvement) too, until "
        "the baseline is updated.")] = False,
) -> None:
    """Compare a results file with a baseline, case by case. Exit 1 on a regression.

    A higher count is a regression; a lower one is reported as an improvement and passes,
    unless --exact.
    """
    fmt_ = output_format(format)
    from attnprof.check import compare_results, load_results, parse_tolerances
    from attnprof.files import check_outputs
    from attnprof.report.gate_views import check_summary, check_view, diff_line
    from attnprof.report.markdown import append_step_summary
    from attnprof.report.media import renderer
    from attnprof.report.view import Heading

    check_outputs({"--markdown": markdown_path},
                  {"the results file": results, "the baseline": baseline})
    tolerances = parse_tolerances(tolerance or [])
    diffs = compare_results(load_results(results), load_results(baseline),
                            tolerances=tolerances, latency_tolerance=latency_tolerance,
                            relative_to=relative_to, exact=exact, paths=(results, baseline))
    # the Markdown (a CI step summary too) lists every figure, unchanged ones as well
    md = renderer("markdown").render([Heading(f"attnprof check {results} against {baseline}"),
                                      check_view(diffs, show_same=True)])
    from attnprof.library import check_document

    doc = check_document(results, baseline, diffs)
    emit(fmt_, doc, md,
         lambda console: console.print(renderer("table").render([check_view(diffs, show_same)])),
         markdown_path=markdown_path)
    append_step_summary(md)
    if any(d.failed for d in diffs):
        error_line(f"{check_summary(diffs)} against {baseline}"
                   + (" (--exact fails improvements)" if exact else ""))
        raise typer.Exit(1)
    better = [d for d in diffs if d.improved]
    note(f"ok against {baseline}: " + (
        f"{len(better)} improvement(s): " + "; ".join(diff_line(d) for d in better[:12])
        + (f"; and {len(better) - 12} more" if len(better) > 12 else "")
        + " (update the baseline to keep them)" if better
        else "every figure as in the baseline or within its tolerance"), style="green")
