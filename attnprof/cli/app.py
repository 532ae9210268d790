"""The Typer app: its global options, the error barrier every command runs inside, and help
that names values rather than Python types.

Errors raised below arrive typed (:mod:`attnprof.errors`) and leave as one line on stderr
with their exit code (2); Ctrl-C leaves with 130; anything else is a bug (exit 3, ``--debug``
for the traceback).
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from attnprof._version import __version__
from attnprof.cli.output import error_line, prepare_streams, silence_stdout, warning_line
from attnprof.errors import AttnprofError

ISSUES_URL = "https://github.com/attnprof/attnprof/issues"


# Help without type noise. -----------------------------------------------------------------
# Typer prints each parameter's Python type beside it: <bool> after every flag, <list[str]>
# after a repeatable option, <str> after an argument. Here a flag shows nothing, an argument
# its name, and an option that takes a value its metavar (C, S|HxW, KEY=VALUE, PATH), which
# every such option declares. Only the help changes; parsing and validation are Typer's.
class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return super().display_type_rich(ctx)


_PLAIN: dict[type, type] = {TyperArgument: _PlainArgument, TyperOption: _PlainOption}


class _PlainTypes:
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:  # the command's own and the help option, made on demand
            param.__class__ = _PLAIN.get(type(param), type(param))
        return params


class Command(_PlainTypes, TyperCommand):
    """A command whose help names values, not types, and whose line in the app's command list
    is its docstring's first paragraph as one line, however the docstring wraps it."""

    def __init__(self, *args: Any, help: str | None = None, short_help: str | None = None,
                 **kwargs: Any) -> None:
        if short_help is None and help:
            short_help = " ".join(inspect.cleandoc(help).split("\n\n")[0].split())
        super().__init__(*args, help=help, short_help=short_help, **kwargs)


class Group(_PlainTypes, TyperGroup):
    """The app itself: its help (global options, command list) names values, not types."""


class App(typer.Typer):
    """``typer.Typer`` whose commands are :class:`Command` unless told otherwise, each taking
    the global flags after its name too (:func:`global_flags`)."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None,
                **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command(*args, cls=cls or Command, **kwargs)
        return lambda fn: register(global_flags(fn))


# The global flags. ---------------------------------------------------------------------------
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
Verbose = Annotated[bool, typer.Option(
    "--verbose", help="Show the wrapped libraries' own prints and warnings.")]

#: ``--debug`` and ``--verbose`` as every command takes them, after its own options.
GLOBAL_FLAGS = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                  default=False)
                for name, annotation in (("debug", Debug), ("verbose", Verbose))]


def global_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` taking ``--debug`` and ``--verbose`` after the command's name as well as before
    it, with the same meaning: each sets :data:`STATE`, which the command reads."""
    signature = inspect.signature(fn, eval_str=True)
    params = [*signature.parameters.values(), *GLOBAL_FLAGS]

    @functools.wraps(fn)
    def with_flags(*args: Any, debug: bool = False, verbose: bool = False,
                   **kwargs: Any) -> Any:
        STATE.debug = STATE.debug or debug
        STATE.verbose = STATE.verbose or verbose
        return fn(*args, **kwargs)

    with_flags.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    with_flags.__annotations__ = {p.name: p.annotation for p in params}
    return with_flags


app = App(
    name="attnprof",
    cls=Group,
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


#: The global ``--debug`` and ``--verbose`` (each command's own flags add to them).
STATE = _State()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    warning_line(str(message))


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
        except BrokenPipeError:  # the reader of stdout has gone (| head): a quiet end
            silence_stdout()
            raise typer.Exit(0) from None
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
    debug: Debug = False,
    verbose: Verbose = False,
) -> None:
    STATE.debug = STATE.debug or debug
    STATE.verbose = STATE.verbose or verbose


def main() -> None:
    """Console-script entry point: closed or ASCII-only streams made safe first; a pipe whose
    reader has gone ends quietly, with the command's own exit code."""
    prepare_streams()
    try:
        app()
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            silence_stdout()
        except (AttributeError, OSError, ValueError):
            pass
