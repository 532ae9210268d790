"""The ``attnprof`` command line: the only module that prints, exits, or imports typer.

Errors raised below arrive typed (:mod:`attnprof.errors`) and leave as one line on stderr
with the exit code of CONTRACT.md; anything else is a bug (exit 3, ``--debug`` for the
traceback). ``--help``, ``list`` and ``show`` never import torch.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from attnprof import __version__
from attnprof.errors import AttnprofError

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


def _request(block: str, channels: int, size: str, batch: int, option: list[str] | None,
             **fields: Any):
    from attnprof.options import parse_assignments
    from attnprof.request import ProfileRequest

    fields["verbose"] = fields.get("verbose", False) or STATE.verbose
    return ProfileRequest(block=block, channels=channels, size=size, batch=batch,
                          options=parse_assignments(option or []), **fields).validated()


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



def emit(fmt_: str, doc: dict[str, Any], md: str, table: Callable[[Console], None],
         json_path: str | None = None, markdown_path: str | None = None) -> None:
    """Print a result in the chosen format (JSON alone on stdout, Markdown, or tables), then
    write the files asked for. Every command that reports results goes through here."""
    from attnprof.files import json_text, write_text

    if fmt_ == "json":
        sys.stdout.write(json_text(doc))
    elif fmt_ == "markdown":
        sys.stdout.write(md)
    else:
        table(out_console())
    if json_path and not (json_path == "-" and fmt_ == "json"):
        write_text(json_path, json_text(doc))
    if markdown_path:
        write_text(markdown_path, md)


def main() -> None:
    """Console-script entry point."""
    app()


# The commands register themselves on ``app``; imported last, as they import from here.
from attnprof.cli import gating, info, machine, profiling  # noqa: E402, F401

__all__ = ["app", "main", "STATE"]
