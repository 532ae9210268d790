"""``stat``, ``compare`` and ``sweep``: profiling blocks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from attnprof.cli import (
    STATE,
    Backends,
    Batch,
    Budget,
    Channels,
    ChannelsLast,
    Compile,
    CudaGraph,
    Debug,
    Device,
    Dtype,
    Format,
    Host,
    JsonPath,
    Latency,
    Mode,
    Opts,
    Size,
    Threads,
    Timer,
    Verbose,
    _format,
    _progress,
    _progress_bar,
    _request,
    app,
    case_names,
    emit,
    err_console,
    error_line,
    handled,
    run_profiles,
    split_options,
)
from attnprof.errors import BadInput


@app.command()
@handled
def stat(
    block: Annotated[str, typer.Argument(help="Block name, alias, or package.module:Name.")],
    channels: Channels = None, size: Size = None, batch: Batch = 1, option: Opts = None,
    device: Device = "cpu", dtype: Dtype = "float32", backends: Backends = "all",
    latency: Latency = True, mode: Mode = "infer",
    layers: Annotated[bool, typer.Option("--layers", help="Per-module table.")] = False,
    ops: Annotated[bool, typer.Option("--ops", help="Per-aten-op table.")] = False,
    host: Host = None,
    format: Format = "table", json_path: JsonPath = None, threads: Threads = None,
    budget: Budget = 0.3, timer: Timer = "blocked", channels_last: ChannelsLast = False,
    compile: Compile = False, cuda_graph: CudaGraph = False,
    debug: Debug = False, verbose: Verbose = False,
) -> None:
    """Profile one block: every counter's figure, memory and latency."""
    STATE.debug = STATE.debug or debug
    fmt_ = _format(format)
    from attnprof.files import check_writable

    if json_path:
        check_writable(json_path)
    request = _request(block, channels, size, batch, option, device=device, dtype=dtype,
                       backends=backends, latency=latency, mode=mode, threads=threads,
                       budget_s=budget, timer=timer, channels_last=channels_last,
                       compile=compile, cuda_graph=cuda_graph, ops=ops, verbose=verbose,
                       host=host)
    from attnprof.runner import profile

    result = profile(request, progress=_progress(fmt_))
    from attnprof.report.markdown import profile_markdown
    from attnprof.report.table import render

    emit(fmt_, result.to_dict(), profile_markdown(result, layers=layers, ops=ops),
         lambda console: render(result, console, layers=layers, ops=ops), json_path)


@app.command()
@handled
def compare(
    blocks: Annotated[list[str], typer.Argument(help="Two or more blocks (names, aliases or "
                                                "package.module:Name).")],
    channels: Channels = None, size: Size = None, batch: Batch = 1, option: Opts = None,
    device: Device = "cpu", dtype: Dtype = "float32", backends: Backends = "all",
    latency: Latency = True, mode: Mode = "infer",
    baseline: Annotated[str | None, typer.Option(
        "--baseline", help="Show ratios and differences against this block.")] = None,
    host: Host = None,
    format: Format = "table", json_path: JsonPath = None,
    markdown_path: Annotated[str | None, typer.Option("--markdown", help="Also write the "
                                                      "Markdown table to PATH.")] = None,
    csv_path: Annotated[str | None, typer.Option("--csv", help="Also write CSV to PATH.")] = None,
    threads: Threads = None, budget: Budget = 0.3, timer: Timer = "blocked",
    rounds: Annotated[int, typer.Option("--rounds", help="Interleaved timing rounds.")] = 5,
    channels_last: ChannelsLast = False, compile: Compile = False, cuda_graph: CudaGraph = False,
    layers: Annotated[bool, typer.Option("--layers", help="Also each block's per-module "
                                         "table.")] = False,
    ops: Annotated[bool, typer.Option("--ops", help="Also each block's per-op table (with "
                                      "torch.profiler times).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Debug = False, verbose: Verbose = False,
) -> None:
    """Profile several blocks at one input; latencies measured interleaved (A B C A B C)."""
    STATE.debug = STATE.debug or debug
    fmt_ = _format(format)
    from attnprof.files import check_writable, write_text

    if len(blocks) < 2:
        raise BadInput("compare needs at least two blocks, e.g. 'attnprof compare se eca'")
    if rounds < 1:
        raise BadInput(f"--rounds must be a positive integer, got {rounds}")
    for path in (json_path, markdown_path, csv_path):
        if path:
            check_writable(path)
    names = case_names(blocks)
    if baseline is not None and baseline not in names:
        raise BadInput(f"--baseline {baseline!r} is not among the compared blocks: "
                       f"{', '.join(names)}")
    per_block = split_options(blocks, option or [])
    requests = [
        _request(b, channels, size, batch, None, device=device, dtype=dtype, backends=backends,
                 latency=latency, mode=mode, threads=threads, budget_s=budget, timer=timer,
                 channels_last=channels_last, compile=compile, cuda_graph=cuda_graph, ops=ops,
                 verbose=verbose, name=n, host=host)
        for b, n in zip(blocks, names, strict=True)
    ]
    from dataclasses import replace

    requests = [r.with_options(o) for r, o in zip(requests, per_block, strict=True)]
    profiles = run_profiles(requests, rounds, quiet)
    from attnprof.report.compare import compare_markdown, compare_table, comparison
    from attnprof.report.csv import profiles_csv
    from attnprof.report.table import layers_table, ops_table
    from attnprof.results import results_document

    def table(console) -> None:
        console.print(compare_table(profiles, baseline))
        for p in profiles:
            if layers:
                console.print(Text(p.label, style="bold cyan"), layers_table(p))
            if ops:
                console.print(Text(p.label, style="bold cyan"), ops_table(p))

    emit(fmt_, results_document(profiles, comparison=comparison(profiles, baseline)),
         compare_markdown(profiles, baseline), table, json_path, markdown_path)
    if csv_path:
        write_text(csv_path, profiles_csv(profiles))


def _prior_results(json_path: str | None, csv_path: str | None):
    """What an earlier run of the same sweep finished: its profiles (from --json) or its CSV
    rows (from --csv alone), and the case names to skip."""
    import os

    from attnprof.check import load_results
    from attnprof.report.csv import read_rows

    if json_path and json_path != "-" and os.path.exists(json_path):
        profiles = load_results(json_path)
        return profiles, [], {p.label for p in profiles}
    if csv_path and os.path.exists(csv_path):
        try:
            rows = read_rows(csv_path)
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{csv_path}: cannot resume from it: {exc}") from None
        if rows and "name" not in rows[0]:
            raise BadInput(f"{csv_path}: not an attnprof CSV (no 'name' column)")
        return [], rows, {r["name"] for r in rows}
    return [], [], set()


@app.command()
@handled
def sweep(
    blocks: Annotated[list[str], typer.Argument(help="One or more blocks.")],
    channels: Annotated[str, typer.Option("--channels", "-c", help="Channel counts, e.g. "
                                          "16,32,64.")] = "64",
    size: Annotated[str, typer.Option("--size", "-s", help="Sizes, e.g. 28,56,112 or "
                                      "224x112,112x56.")] = "56",
    batch: Annotated[str, typer.Option("--batch", "-b", help="Batch sizes, e.g. 1,8.")] = "1",
    dtype: Annotated[str, typer.Option("--dtype", help="dtypes, e.g. float32,bfloat16.")]
    = "float32",
    option: Opts = None, device: Device = "cpu", backends: Backends = "all",
    latency: Latency = True, mode: Mode = "infer", threads: Threads = None,
    budget: Budget = 0.3, timer: Timer = "blocked", channels_last: ChannelsLast = False,
    compile: Compile = False, cuda_graph: CudaGraph = False,
    ops: Annotated[bool, typer.Option("--ops", help="Time each op (kept in the JSON).")]
    = False,
    format: Format = "table", json_path: JsonPath = None,
    csv_path: Annotated[str | None, typer.Option("--csv", help="Write CSV to PATH (one row per "
                                                 "case, rewritten after each).")] = None,
    plot: Annotated[str | None, typer.Option("--plot", help="Write a PNG of the curves.")]
    = None,
    resume: Annotated[bool, typer.Option("--resume", help="Skip cases already in the --json "
                                         "(or --csv) file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Debug = False, verbose: Verbose = False,
) -> None:
    """Profile blocks over the product of channels, sizes, batches and dtypes; plot the
    curves and fit how each cost scales."""
    STATE.debug = STATE.debug or debug
    from attnprof.request import ProfileRequest
    from attnprof.sweep import plan

    base = ProfileRequest(block=blocks[0], device=device, backends=backends, latency=latency,
                          mode=mode, threads=threads, budget_s=budget, timer=timer,
                          channels_last=channels_last, compile=compile, cuda_graph=cuda_graph,
                          ops=ops, verbose=verbose or STATE.verbose)
    per_block = split_options(blocks, option or [])
    cases = []
    for block, opts in zip(blocks, per_block, strict=True):
        from dataclasses import replace

        cases += plan([block], channels, size, batch, dtype, replace(base, options=opts))
    run_sweep(cases, format=format, json_path=json_path, csv_path=csv_path, plot=plot,
              resume=resume, quiet=quiet)


def run_sweep(cases, *, format: str, json_path: str | None, csv_path: str | None,
              plot: str | None, resume: bool, quiet: bool) -> None:
    """Run cases one by one, writing outputs after each; Ctrl-C keeps what finished."""
    fmt_ = _format(format)
    from attnprof.files import check_writable, json_text, write_text

    for path in (json_path, csv_path, plot):
        if path:
            check_writable(path)
    if plot:
        from attnprof.report.plot import require_matplotlib

        require_matplotlib()
    if resume and not (json_path or csv_path):
        raise BadInput("--resume needs the --json or --csv file of the earlier run")
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise BadInput("the sweep repeats a case; give each block once")
    prior, prior_rows, done = _prior_results(json_path, csv_path) if resume else ([], [], set())
    todo = [c for c in cases if c.name not in done]
    if resume:
        err_console().print(Text(f"resuming: {len(cases) - len(todo)} of {len(cases)} cases "
                                 "already done", style="dim"))
    from attnprof.report.csv import profiles_csv
    from attnprof.results import results_document
    from attnprof.runner import profile
    from attnprof.sweep import scaling

    finished = list(prior)

    def save() -> None:
        if json_path and json_path != "-":
            write_text(json_path, json_text(results_document(finished)))
        if csv_path:
            write_text(csv_path, profiles_csv(finished[len(prior):] if prior_rows else finished,
                                              prior_rows))

    bar = _progress_bar(quiet)
    try:
        if bar is not None:
            bar.start()
            task = bar.add_task("sweep", total=len(todo))
        for i, case in enumerate(todo):
            if bar is not None:
                bar.update(task, description=f"{case.name} ({i + 1}/{len(todo)})")
            finished.append(profile(case))
            save()
            if bar is not None:
                bar.advance(task)
    except KeyboardInterrupt:
        if bar is not None:
            bar.stop()
        save()
        where = " and ".join(p for p in (json_path, csv_path) if p and p != "-")
        error_line(f"interrupted: {len(finished)} of {len(cases)} cases finished"
                   + (f" and kept in {where}; rerun the same command with --resume to go on"
                      if where else "; add --json PATH to keep finished cases next time"))
        raise typer.Exit(130) from None
    finally:
        if bar is not None:
            bar.stop()
    fits = scaling(finished)
    if plot:
        from attnprof.report.plot import plot_sweep

        plot_sweep(finished, plot, fits)
    from attnprof.report.compare import compare_markdown, compare_table

    def table(console) -> None:
        console.print(compare_table(finished))
        for f in fits:
            parts = [f"{m} ∝ {f['axis']}^{f[m]:.2f}" for m in ("latency_ms", "flops", "bytes",
                                                               "params") if f[m] is not None]
            console.print(f"{f['block']}: " + ", ".join(parts))
        if plot:
            console.print(f"plot written to {plot}")

    emit(fmt_, results_document(finished, scaling=fits), compare_markdown(finished), table,
         json_path)


