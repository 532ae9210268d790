"""Where the command line writes: tables on stdout, notes, warnings, errors and progress on
stderr, and :func:`emit`, the one way a command prints its result and writes its files; and
the process's streams made safe to write (:func:`prepare_streams`, :func:`silence_stdout`)."""

from __future__ import annotations

import codecs
import contextlib
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


#: every console attnprof prints through shows strings as they are: no rich markup
#: (``[zoo]``, ``[bold]``) and no emoji codes (``:name:``) are read in block names, paths,
#: summaries or install hints; attnprof's own styles are set on Text objects
PLAIN = {"markup": False, "emoji": False, "highlight": False}


def err_console() -> Console:
    return Console(stderr=True, soft_wrap=True, **PLAIN)


class FitConsole(Console):
    """A console that never cuts a figure: each table is printed at least as wide as its
    longest unbreakable cell needs (a word, a number), so cells wrap between words, never
    inside one, however narrow the terminal. Piped output (CI logs, files) is
    ``PIPED_WIDTH`` columns unless $COLUMNS says otherwise: a table wider than that wraps
    its cells between words, as on a terminal of that width."""

    PIPED_WIDTH = 120

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if kwargs.get("width") is None and objects and not all(isinstance(o, str)
                                                              for o in objects):
            from rich.measure import Measurement

            try:
                unbounded = self.options.update_width(10_000)  # measure, do not clamp
                sizes = [Measurement.get(self, unbounded, o) for o in objects
                         if not isinstance(o, str)]
            except Exception:  # a renderable rich cannot measure: print it as it comes
                sizes = []
            if sizes:
                least = max(m.minimum for m in sizes)
                width = max(self.width, least)
                if width != self.width:  # rich clamps print(width=) to the console's
                    saved = self.width
                    self.width = width
                    try:
                        super().print(*objects, **kwargs)
                    finally:
                        self.width = saved
                    return
        super().print(*objects, **kwargs)

    def on_broken_pipe(self) -> None:
        """Rich would exit 1; the command decides instead (emit goes on to the files)."""
        raise BrokenPipeError("the reader of stdout has gone")


def out_console(stderr: bool = False) -> Console:
    """Tables on stdout (or stderr). Piped output is 120 columns (or $COLUMNS); a terminal
    gets its own width; neither ever cuts a figure (:class:`FitConsole`). A stream that
    cannot encode the tables' characters gets ASCII (:func:`prepare_streams`)."""
    console = FitConsole(stderr=stderr, **PLAIN)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = FitConsole(stderr=stderr, width=FitConsole.PIPED_WIDTH, **PLAIN)
    return console


# -- the process's streams ---------------------------------------------------------------
#: ASCII for the characters attnprof's reports use, where the stream cannot encode them
ASCII_FALLBACK = {"─": "-", "━": "-", "│": "|", "┃": "|", "×": "x", "µ": "u", "±": "+-",
                  "…": "...", "∝": "~", "·": ".", "≤": "<=", "≥": ">=", "→": "->", "—": "-",
                  "–": "-", "²": "^2", "≈": "~", "✓": "ok", "✅": "ok", "❌": "x", "⚠": "!",
                  "°": "deg", "Δ": "d"}


def _ascii_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    text = err.object[err.start:err.end]
    return "".join(ASCII_FALLBACK.get(c, "?") for c in text), err.end


codecs.register_error("attnprof-ascii", _ascii_fallback)


def _reopen_closed_descriptors() -> None:
    """A closed stdin, stdout or stderr (``cmd >&-``) gets /dev/null in its place, so that
    no file attnprof opens later takes descriptor 1 or 2 (where stray prints would land)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)


def prepare_streams() -> None:
    """Before a command runs (the console script): closed standard streams replaced by
    /dev/null, and stdout/stderr that cannot encode the reports' characters (e.g.
    PYTHONIOENCODING=ascii, an ASCII locale) given an ASCII fallback instead of an error."""
    _reopen_closed_descriptors()
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (the process's stdout)
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        try:
            "".join(ASCII_FALLBACK).encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError, TypeError, AttributeError):
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors="attnprof-ascii")


def silence_stdout() -> None:
    """The reader of stdout has gone (a closed pipe): what is left to print goes nowhere,
    quietly, and the interpreter's last flush finds nothing to fail on."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (AttributeError, OSError, ValueError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115


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
         json_path: str | None = None, markdown_path: str | None = None,
         claims: tuple[str | None, ...] = ()) -> None:
    """Print a result in the chosen format (JSON alone on stdout, Markdown, or tables), then
    write the files asked for. Every command that reports results goes through here.

    An output file named ``-`` or ``/dev/stdout`` (``json_path``, ``markdown_path``, or one
    of ``claims``, which the command writes itself) makes stdout hold that document and
    nothing else: the format's table or Markdown then goes to stderr."""
    from attnprof.files import json_text, output_kind, write_text

    def on_stdout(path: str | None) -> bool:
        return bool(path) and output_kind(path) == "stdout"

    json_on_stdout = on_stdout(json_path)
    taken = json_on_stdout or on_stdout(markdown_path) or any(map(on_stdout, claims))
    try:
        if fmt_ == "json":
            if not taken or json_on_stdout:
                sys.stdout.write(json_text(doc))
            else:
                sys.stderr.write(json_text(doc))
        elif fmt_ == "markdown":
            (sys.stderr if taken else sys.stdout).write(md)
        else:
            table(out_console(stderr=taken))
        if json_on_stdout and fmt_ != "json":
            sys.stdout.write(json_text(doc))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader has gone: the files below are still written
        silence_stdout()
    if json_path and not json_on_stdout:
        write_text(json_path, json_text(doc))
    if markdown_path:
        write_text(markdown_path, md)
