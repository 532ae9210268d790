"""Where the command line writes: tables on stdout, notes, warnings, errors and progress on
stderr, and :func:`emit`, the one way a command prints its result and writes its files."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.text import Text

#: ``progress(message, done, total)``, as :func:`attnprof.runner.profile_many` and
#: :func:`attnprof.sweep.run_sweep` call it.
Progress = Callable[[str, int, int], None]


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def out_console() -> Console:
    """Tables on stdout. Piped output gets a wide page (or $COLUMNS) so saved reports do not
    wrap mid-number; a terminal gets its own width."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=160)
    return console


def error_line(message: str) -> None:
    err_console().print(Text(f"error: {message}", style="red"))


def warning_line(message: str) -> None:
    err_console().print(Text(f"warning: {message}", style="yellow"))


def note(message: str, style: str = "dim") -> None:
    """A line for the user on stderr, apart from the result."""
    err_console().print(Text(message, style=style))


def status_line() -> Callable[[str], None] | None:
    """A one-line status on stderr while working, only when stderr is a terminal."""
    console = err_console()
    if not console.is_terminal:
        return None

    def show(message: str) -> None:
        console.print(Text(f"… {message}", style="dim"), end="\r")

    return show


@contextmanager
def progress_bar(quiet: bool, what: str = "profiling") -> Iterator[Progress | None]:
    """A rich progress bar on stderr for the duration of the block, as a ``progress``
    callback; None when stderr is not a terminal or with --quiet. Transient: it is gone when
    the block ends, however it ends."""
    console = err_console()
    if quiet or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(what, total=None)

        def progress(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        yield progress


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
