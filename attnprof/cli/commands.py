"""How a profiling command (``stat``, ``compare``, ``sweep``) is made a command: one
decorator for the stack every one of them takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from attnprof.cli.app import app, handled
from attnprof.cli.options import declared, profiling_options

F = TypeVar("F", bound=Callable[..., Any])


def profiling_command(name: str) -> Callable[[F], F]:
    """Register the decorated function as the command ``name`` of the app: its errors
    handled (:func:`~attnprof.cli.app.handled`), its ``ProfilingOptions`` parameter given the
    profiling options ``name`` takes (:func:`~attnprof.cli.options.profiling_options`) and
    the parameters that name an option record their declaration
    (:func:`~attnprof.cli.options.declared`)."""

    def register(fn: F) -> F:
        command: F = app.command()(handled(profiling_options(name)(declared(name)(fn))))
        return command

    return register
