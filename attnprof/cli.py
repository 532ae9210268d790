"""The ``attnprof`` command line: the only module that prints, exits, or imports typer.

Errors raised below arrive typed (:mod:`attnprof.errors`) and leave as one line on stderr
with the exit code of CONTRACT.md; anything else is a bug (exit 3, ``--debug`` for the
traceback). ``--help``, ``list`` and ``show`` never import torch.
"""

from __future__ import annotations

import functools
import json
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from attnprof import __version__
from attnprof.errors import AttnprofError, BadInput

ISSUES_URL = "https://github.com/attnprof/attnprof/issues"

app = typer.Typer(
    name="attnprof",
    help="What a CNN attention block really costs: parameters, MACs and FLOPs as torchstat, "
         "torchinfo, fvcore and PyTorch count them beside attnprof's count of every op, "
         "memory and latency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    debug = False
    verbose = False


STATE = _State()


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def out_console() -> Console:
    """Tables on stdout. Piped output gets a wide page (or $COLUMNS) so saved reports do not
    wrap mid-number; a terminal gets its own width."""
    import os

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=160)
    return console


def error_line(message: str) -> None:
    err_console().print(Text(f"error: {message}", style="red"))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    err_console().print(Text(f"warning: {message}", style="yellow"))


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn typed errors into one line and an exit code; everything else is a bug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        warnings.showwarning = _show_warning
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except AttnprofError as exc:
            if STATE.debug:
                raise
            error_line(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error_line("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if STATE.debug:
                raise
            error_line(f"internal error, a bug in attnprof: {type(exc).__name__}: {exc}. "
                       f"Please report it at {ISSUES_URL}; rerun with --debug to see the "
                       "traceback.")
            raise typer.Exit(3) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attnprof {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show the wrapped libraries' own "
                                          "prints and warnings.")] = False,
) -> None:
    STATE.debug = STATE.debug or debug
    STATE.verbose = STATE.verbose or verbose


# Options shared by stat and compare. -----------------------------------------------------
Channels = Annotated[int | None, typer.Option(
    "--channels", "-c", help="Input channels C (default 64; with --host, 3).")]
Size = Annotated[str | None, typer.Option(
    "--size", "-s", help="Spatial size: S (SxS) or HxW (default 56; with --host, 224).")]
Host = Annotated[str | None, typer.Option(
    "--host", help="Put the block in a network: resnet18, resnet34, resnet50, resnet101, "
    "mobilenetv2.")]
Batch = Annotated[int, typer.Option("--batch", "-b", help="Batch size B.")]
Opts = Annotated[list[str] | None, typer.Option(
    "--option", "-o", help="Block option KEY=VALUE (repeatable); see 'attnprof show BLOCK'.")]
Device = Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")]
Dtype = Annotated[str, typer.Option("--dtype", help="float32, float16 or bfloat16.")]
Backends = Annotated[str, typer.Option(
    "--backends", help="Comma-separated: torchstat,torchinfo,fvcore,torch,attnprof (or all).")]
Latency = Annotated[bool, typer.Option("--latency/--no-latency", help="Measure latency.")]
Mode = Annotated[str, typer.Option("--mode", help="infer (eval, inference mode) or train "
                                   "(forward + backward).")]
Format = Annotated[str, typer.Option("--format", "-f", help="table, json or markdown.")]
JsonPath = Annotated[str | None, typer.Option(
    "--json", help="Also write the JSON document to PATH ('-' for stdout).")]
Threads = Annotated[int | None, typer.Option(
    "--threads", help="Threads for timing (default: torch's current count).")]
Budget = Annotated[float, typer.Option(
    "--budget", help="Seconds of timing per block (blocked_autorange's min_run_time).")]
Timer = Annotated[str, typer.Option(
    "--timer", help="blocked (blocked_autorange) or adaptive (adaptive_autorange).")]
ChannelsLast = Annotated[bool, typer.Option(
    "--channels-last", help="Block and input in channels-last memory format.")]
Compile = Annotated[bool, typer.Option(
    "--compile", help="Time torch.compile(block); compiled during warm-up, untimed.")]
CudaGraph = Annotated[bool, typer.Option(
    "--cuda-graph", help="Time CUDA-graph replay: kernel time without launch overhead.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Show the wrapped libraries' output.")]


def _format(value: str) -> str:
    from attnprof.request import FORMATS, parse_choice

    return parse_choice("format", value, FORMATS)


def _progress(fmt_: str) -> Callable[[str], None] | None:
    """A one-line status on stderr while working, only when stderr is a terminal."""
    console = err_console()
    if not console.is_terminal:
        return None

    def note(message: str) -> None:
        console.print(Text(f"… {message}", style="dim"), end="\r")

    return note


@app.command("list")
@handled
def list_cmd(
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """List every registered block."""
    from attnprof.registry import REGISTRY
    from attnprof.request import parse_choice

    fmt_ = parse_choice("format", format, ("table", "json"))
    specs = REGISTRY.all()
    if fmt_ == "json":
        doc = [{"name": s.name, "aliases": list(s.aliases), "kind": s.kind,
                "summary": s.summary, "paper": s.paper.cite() if s.paper else None,
                "options": {o.name: o.default for o in s.options}, "source": s.source}
               for s in specs]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    t = Table(title=f"{len(specs)} blocks", title_justify="left")
    for col in ("name", "aliases", "kind", "summary", "paper"):
        t.add_column(col, overflow="fold")
    for s in specs:
        t.add_row(s.name, ", ".join(s.aliases), s.kind, s.summary,
                  f"{s.paper.venue} {s.paper.year}" if s.paper else "")
    out_console().print(t)


@app.command()
@handled
def show(block: Annotated[str, typer.Argument(help="Block name or alias.")]) -> None:
    """Show a block: its paper, options (defaults, constraints) and an example command."""
    from attnprof.registry import REGISTRY

    s = REGISTRY.get(block)
    console = out_console()
    head = Text()
    head.append(s.name, style="bold cyan")
    if s.aliases:
        head.append(f"  (aliases: {', '.join(s.aliases)})")
    head.append(f"\n{s.summary}\nkind: {s.kind}")
    if s.paper:
        head.append(f"\npaper: {s.paper.cite()}")
        if s.paper.url:
            head.append(f"  {s.paper.url}")
    if s.source not in ("attnprof",):
        head.append(f"\nsource: {s.source}")
    console.print(head)
    t = Table(title="options", title_justify="left")
    for col in ("option", "type", "default", "constraints", "help"):
        t.add_column(col, overflow="fold")
    for o in s.options:
        t.add_row(o.name, o.type.__name__, o.default_text(), o.constraints(), o.help)
    if s.options:
        console.print(t)
    else:
        console.print("options: none")
    console.print(Text(f"example: {s.example_command()}", style="green"))


def _request(block: str, channels: int, size: str, batch: int, option: list[str] | None,
             **fields: Any):
    from attnprof.options import parse_assignments
    from attnprof.request import ProfileRequest

    fields["verbose"] = fields.get("verbose", False) or STATE.verbose
    return ProfileRequest(block=block, channels=channels, size=size, batch=batch,
                          options=parse_assignments(option or []), **fields).validated()


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
    from attnprof.report.io import check_writable, json_text, write_text

    if json_path:
        check_writable(json_path)
    request = _request(block, channels, size, batch, option, device=device, dtype=dtype,
                       backends=backends, latency=latency, mode=mode, threads=threads,
                       budget_s=budget, timer=timer, channels_last=channels_last,
                       compile=compile, cuda_graph=cuda_graph, ops=ops, verbose=verbose,
                       host=host)
    from attnprof.runner import profile

    result = profile(request, progress=_progress(fmt_))
    doc = result.to_dict()
    if fmt_ == "json":
        sys.stdout.write(json_text(doc))
    elif fmt_ == "markdown":
        from attnprof.report.markdown import profile_markdown

        sys.stdout.write(profile_markdown(result, layers=layers, ops=ops))
    else:
        from attnprof.report.table import render

        render(result, out_console(), layers=layers, ops=ops)
    if json_path and not (json_path == "-" and fmt_ == "json"):
        write_text(json_path, json_text(doc))


def split_options(blocks: list[str], items: list[str]) -> list[dict[str, Any]]:
    """``-o KEY=V`` goes to every block that declares KEY; ``-o BLOCK.KEY=V`` to that block."""
    from attnprof.errors import BadOption
    from attnprof.options import parse_assignments
    from attnprof.registry import REGISTRY

    per_block: list[dict[str, Any]] = [{} for _ in blocks]
    for key, value in parse_assignments(items).items():
        target, dot, leaf = key.rpartition(".")
        if dot and target in blocks:
            for i, b in enumerate(blocks):
                if b == target:
                    per_block[i][leaf] = value
            continue
        takers = [i for i, b in enumerate(blocks) if ":" not in b
                  and key in {o.name for o in REGISTRY.get(b).options}]
        if not takers:
            raise BadOption(f"no block among {', '.join(blocks)} has option '{key}'; "
                            f"give -o BLOCK.{key}=VALUE for one block")
        for i in takers:
            per_block[i][key] = value
    return per_block


def case_names(blocks: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for b in blocks:
        seen[b] = seen.get(b, 0) + 1
        out.append(b if seen[b] == 1 else f"{b}#{seen[b]}")
    return out


def _progress_bar(quiet: bool):
    """A rich progress bar on stderr, or None when stderr is not a terminal or with --quiet."""
    console = err_console()
    if quiet or not console.is_terminal:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


def run_profiles(requests, rounds: int, quiet: bool):
    """profile_many with a progress bar when it helps."""
    from attnprof.runner import profile_many

    bar = _progress_bar(quiet)
    if bar is None:
        return profile_many(requests, rounds=rounds)
    with bar:
        task = bar.add_task("profiling", total=None)

        def progress(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        return profile_many(requests, rounds=rounds, progress=progress)


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
    from attnprof.report.io import check_writable, json_text, write_text

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

    requests = [replace(r, options=o) for r, o in zip(requests, per_block, strict=True)]
    profiles = run_profiles(requests, rounds, quiet)
    from attnprof.report.compare import compare_markdown, compare_table, comparison
    from attnprof.report.csv import profiles_csv
    from attnprof.results import results_document

    doc = results_document(profiles, comparison=comparison(profiles, baseline))
    md = compare_markdown(profiles, baseline)
    if fmt_ == "json":
        sys.stdout.write(json_text(doc))
    elif fmt_ == "markdown":
        sys.stdout.write(md)
    else:
        console = out_console()
        console.print(compare_table(profiles, baseline))
        if layers or ops:
            from attnprof.report.table import layers_table, ops_table

            for p in profiles:
                if layers:
                    console.print(Text(p.label, style="bold cyan"), layers_table(p))
                if ops:
                    console.print(Text(p.label, style="bold cyan"), ops_table(p))
    if json_path and not (json_path == "-" and fmt_ == "json"):
        write_text(json_path, json_text(doc))
    if markdown_path:
        write_text(markdown_path, md)
    if csv_path:
        write_text(csv_path, profiles_csv(profiles))


@app.command("run")
@handled
def run_suite(
    suite: Annotated[str, typer.Argument(help="A suite file (TOML): defaults, cases, budgets.")],
    json_path: JsonPath = None,
    markdown_path: Annotated[str | None, typer.Option("--markdown", help="Also write the "
                                                      "Markdown summary to PATH.")] = None,
    format: Format = "table",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Debug = False, verbose: Verbose = False,
) -> None:
    """Run a suite: profile its cases (latency interleaved), then check its budgets.
    Exit 1 when a budget fails."""
    STATE.debug = STATE.debug or debug
    fmt_ = _format(format)
    from attnprof.report.io import check_writable, json_text, write_text
    from attnprof.suite import evaluate, load

    for path in (json_path, markdown_path):
        if path:
            check_writable(path)
    spec = load(suite)
    if spec.sweep is not None and not spec.requests:
        sw = spec.sweep
        run_sweep(spec.sweep_cases, format=format, json_path=json_path or sw.get("json"),
                  csv_path=sw.get("csv"), plot=sw.get("plot"), resume=False, quiet=quiet)
        return
    for note in spec.notes:
        err_console().print(Text(f"note: {note}", style="yellow"))
    if verbose:
        from dataclasses import replace

        spec.requests = [replace(r, verbose=True) for r in spec.requests]
    profiles = run_profiles(spec.requests, spec.rounds, quiet)
    results = evaluate(spec.budgets, profiles)
    from attnprof.report.checks import append_step_summary, budget_markdown, budget_table
    from attnprof.report.compare import compare_markdown, compare_table
    from attnprof.results import results_document

    doc = results_document(profiles, suite=suite, budgets=[r.to_dict() for r in results])
    md = f"### attnprof run {suite}\n\n" + compare_markdown(profiles)
    if results:
        md += "\n" + budget_markdown(results)
    if fmt_ == "json":
        sys.stdout.write(json_text(doc))
    elif fmt_ == "markdown":
        sys.stdout.write(md)
    else:
        console = out_console()
        console.print(compare_table(profiles))
        if results:
            console.print(budget_table(results))
    if json_path and not (json_path == "-" and fmt_ == "json"):
        write_text(json_path, json_text(doc))
    if markdown_path:
        write_text(markdown_path, md)
    append_step_summary(md)
    if spec.sweep is not None:
        sw = spec.sweep
        run_sweep(spec.sweep_cases, format="table" if fmt_ == "table" else "markdown",
                  json_path=sw.get("json"), csv_path=sw.get("csv"), plot=sw.get("plot"),
                  resume=False, quiet=quiet)
    failed = [r for r in results if not r.passed]
    if failed:
        error_line(f"{len(failed)} budget(s) failed: " + "; ".join(
            f"{r.case}: {r.what}" for r in failed))
        raise typer.Exit(1)


@app.command()
@handled
def check(
    results: Annotated[str, typer.Argument(help="An attnprof.results/1 JSON file.")],
    baseline: Annotated[str, typer.Option("--baseline", help="The attnprof.results/1 JSON "
                                          "file to hold it against.")],
    latency_tolerance: Annotated[float, typer.Option(
        "--latency-tolerance", help="How much slower a case may get, as a fraction "
        "(0.2 = 20 %).")] = 0.2,
    relative_to: Annotated[str | None, typer.Option(
        "--latency-relative-to", help="Compare latencies as ratios to this case, measured "
        "in the same run (holds across machines).")] = None,
    tolerance: Annotated[list[str] | None, typer.Option(
        "--tolerance", help="METRIC=FRACTION a count may change by (repeatable); counts "
        "are otherwise exact.")] = None,
    format: Format = "table",
    markdown_path: Annotated[str | None, typer.Option("--markdown", help="Also write the "
                                                      "Markdown diff to PATH.")] = None,
    show_same: Annotated[bool, typer.Option("--all", help="Also list unchanged figures.")]
    = False,
) -> None:
    """Compare a results file with a baseline, case by case. Exit 1 on a regression."""
    fmt_ = _format(format)
    from attnprof.check import compare_results, load_results, parse_tolerances
    from attnprof.report.checks import append_step_summary, diff_markdown, diff_table
    from attnprof.report.io import check_writable, json_text, write_text

    if markdown_path:
        check_writable(markdown_path)
    if latency_tolerance < 0:
        raise BadInput(f"--latency-tolerance must be >= 0, got {latency_tolerance}")
    tolerances = parse_tolerances(tolerance or [])
    diffs = compare_results(load_results(results), load_results(baseline),
                            tolerances=tolerances, latency_tolerance=latency_tolerance,
                            relative_to=relative_to, paths=(results, baseline))
    md = f"### attnprof check {results} against {baseline}\n\n" + diff_markdown(diffs)
    if fmt_ == "json":
        sys.stdout.write(json_text({"schema": "attnprof.check/1", "results": results,
                                    "baseline": baseline,
                                    "diffs": [d.to_dict() for d in diffs],
                                    "regressions": sum(d.failed for d in diffs)}))
    elif fmt_ == "markdown":
        sys.stdout.write(md)
    else:
        out_console().print(diff_table(diffs, show_same))
    if markdown_path:
        write_text(markdown_path, md)
    append_step_summary(md)
    failed = [d for d in diffs if d.failed]
    if failed:
        error_line(f"{len(failed)} regression(s) against {baseline}: " + "; ".join(
            f"{d.case} {d.metric} {d.verdict}" for d in failed[:5]))
        raise typer.Exit(1)


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
    from attnprof.report.io import check_writable, json_text, write_text

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
    doc = results_document(finished, scaling=fits)
    if json_path and json_path != "-":
        write_text(json_path, json_text(doc))
    if fmt_ == "json":
        sys.stdout.write(json_text(doc))
        return
    from attnprof.report.compare import compare_markdown, compare_table

    if fmt_ == "markdown":
        sys.stdout.write(compare_markdown(finished))
    else:
        console = out_console()
        console.print(compare_table(finished))
        for f in fits:
            parts = [f"{m} ∝ {f['axis']}^{f[m]:.2f}" for m in ("latency_ms", "flops", "bytes",
                                                               "params") if f[m] is not None]
            console.print(f"{f['block']}: " + ", ".join(parts))
        if plot:
            console.print(f"plot written to {plot}")
    if json_path == "-":
        sys.stdout.write(json_text(doc))


@app.command()
@handled
def calibrate(
    device: Device = "cpu", threads: Threads = None,
    budget: Annotated[float, typer.Option("--budget", help="Seconds per measurement.")] = 0.5,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Measure this device's memory bandwidth and matmul throughput; cache them for the
    roofline that 'stat' reports."""
    from attnprof.request import parse_choice, parse_device
    from attnprof.runner import check_device

    fmt_ = parse_choice("format", format, ("table", "json"))
    dev = parse_device(device)
    check_device(dev)
    if threads is not None and threads < 1:
        raise BadInput(f"threads must be a positive integer, got {threads}")
    if budget <= 0:
        raise BadInput(f"--budget must be a positive number of seconds, got {budget}")
    from attnprof.measure import roofline

    progress = _progress(fmt_)
    if progress:
        progress("measuring bandwidth and matmul throughput")
    entry = roofline.calibrate(dev, threads=threads, budget_s=budget)
    path = roofline.save(entry)
    if fmt_ == "json":
        sys.stdout.write(json.dumps({**entry, "cache": str(path)}, indent=2) + "\n")
        return
    t = Table(title=f"{entry['device_name']} ({dev}, {entry['threads']} threads)",
              title_justify="left", show_header=False)
    t.add_row("memory bandwidth", f"{entry['bandwidth_bytes_per_s'] / 1e9:.2f} GB/s",
              f"copy of {entry['copy_mib']} MiB, bytes read + written")
    for dtype, v in entry["matmul_flops_per_s"].items():
        t.add_row(f"matmul {dtype}", f"{v / 1e9:.1f} GFLOP/s",
                  f"{entry['matmul_n']}x{entry['matmul_n']} @ {entry['matmul_n']}x"
                  f"{entry['matmul_n']}")
    t.add_row("cached in", str(path), "")
    out_console().print(t)


@app.command()
@handled
def env(format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
        device: Device = "cpu") -> None:
    """Versions, devices, CPU and threads: what every JSON document records."""
    from attnprof.env import environment
    from attnprof.request import parse_choice, parse_device

    fmt_ = parse_choice("format", format, ("table", "json"))
    info = environment(parse_device(device))
    if fmt_ == "json":
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    t = Table(show_header=False)
    for k, v in info.items():
        t.add_row(k, ", ".join(v) if isinstance(v, list) else str(v))
    out_console().print(t)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["app", "main", "BadInput"]
