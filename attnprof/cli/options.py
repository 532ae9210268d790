"""Options the commands share, each declared once.

``stat``, ``compare`` and ``sweep`` take the same ~17 options (what to build, how to count and
time it, where the result goes). They are declared once, below, as a list of
:class:`inspect.Parameter` whose annotations are Typer options; :func:`profiling_options`
splices that list into a command's signature where the command names a parameter of type
:class:`ProfilingOptions`, and calls the command with one frozen :class:`ProfilingOptions`
built from what Typer parsed.

Why this mechanism: Typer reads a command's options from its signature, so the options have to
be in the signature for Typer to parse, validate and document them (types, defaults, ``--help``,
errors, exit 2). A splice keeps every one of those Typer features and needs no code per
command; a dataclass parameter or ``**kwargs`` would hide the options from Typer. The command
itself sees one typed object instead of a long parameter list, and :meth:`ProfilingOptions.
request` is the one place a :class:`~attnprof.request.ProfileRequest` is made from them.

Options one or two commands have alone stay in those commands' signatures; the aliases below
(:data:`Format`, :data:`JsonPath`, ...) are the single declarations of options several
commands use outside the profiling set. Every option that takes a value has a metavar, which
its help shows in place of a Python type (see :mod:`attnprof.cli.app`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import field as dataclass_field
from dataclasses import make_dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from attnprof.cli.app import GLOBAL_FLAGS, STATE
from attnprof.profile_options import BY_NAME, OPTIONS, PROFILING, request_values

if TYPE_CHECKING:
    from attnprof.request import ProfileRequest

def typer_option(name: str, command: str) -> tuple[Any, Any]:
    """The annotation (a Typer option) and default of option ``name`` as ``command`` declares
    it, from its one record in :data:`attnprof.profile_options.OPTIONS`."""
    d = BY_NAME[name].declaration(command)
    return Annotated[d["type"], typer.Option(*d["flags"], metavar=d["metavar"],
                                             help=d["help"])], d["default"]


def _option(name: str, command: str) -> inspect.Parameter:
    annotation, default = typer_option(name, command)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


# The profiling options: stat, compare and sweep. -----------------------------------------
#: One input shape (stat, compare). ``sweep`` declares them as lists (:func:`declared`).
SHAPE = [_option(o.name, "stat") for o in OPTIONS
         if o.profiling and o.shape and "stat" in o.commands]

#: What every profiling command takes: the block's options, counting, timing, output.
COMMON = [_option(o.name, "stat") for o in OPTIONS
          if o.profiling and not o.shape and all(c in o.commands for c in PROFILING)]

#: Closing every command's list (:data:`attnprof.cli.app.GLOBAL_FLAGS`).
TAIL = GLOBAL_FLAGS


def declared(command: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give each parameter of the decorated command that names an option of
    :data:`~attnprof.profile_options.OPTIONS` taken by ``command`` its declaration from that
    record (Typer option and default): the command names the option, the record declares it."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn, eval_str=True)
        params = []
        for p in signature.parameters.values():
            if p.name in BY_NAME and command in BY_NAME[p.name].commands:
                annotation, default = typer_option(p.name, command)
                p = p.replace(annotation=annotation, default=default,
                              kind=inspect.Parameter.KEYWORD_ONLY)
            elif p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and params and \
                    params[-1].kind is inspect.Parameter.KEYWORD_ONLY:
                p = p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            params.append(p)

        @functools.wraps(fn)
        def with_declared(**kwargs: Any) -> Any:
            return fn(**kwargs)

        with_declared.__signature__ = signature.replace(parameters=params)  # type: ignore
        with_declared.__annotations__ = {p.name: p.annotation for p in params}
        return with_declared

    return decorate


class _Requesting:
    """What :class:`ProfilingOptions` adds to its fields: the request it makes."""

    def request(self, block: str, *, options: Mapping[str, Any] | None = None,
                ops: bool = False, name: str | None = None) -> ProfileRequest:
        """The request for ``block``: the one place the command line makes one; each option
        fills the request field its record names."""
        from attnprof.request import ProfileRequest

        fields = {**request_values("stat", vars(self)), "options": dict(options or {}),
                  "ops": ops}
        return ProfileRequest(block=block, name=name, verbose=self.verbose,  # type: ignore
                              **fields)


#: The profiling options as Typer parsed them: one field per record of
#: :data:`PROFILING_RECORDS` (``option`` a tuple, ``format`` validated), and ``verbose`` (the global
#: ``--verbose``). Under ``sweep`` (which takes lists) the shape fields keep their defaults.
#: The records :class:`ProfilingOptions` holds: every option a profiling command takes.
PROFILING_RECORDS = [o for o in OPTIONS if o.profiling and set(o.commands) & set(PROFILING)]

ProfilingOptions = make_dataclass(
    "ProfilingOptions",
    [(o.name, Any, dataclass_field(default=o.default)) for o in PROFILING_RECORDS]
    + [("verbose", bool, dataclass_field(default=False))],
    bases=(_Requesting,), frozen=True)
ProfilingOptions.__module__ = __name__


def profiling_options(command_name: str) -> Callable[[Callable[..., Any]],
                                                     Callable[..., Any]]:
    """Give the command ``command_name`` the profiling options it takes (every record of
    :data:`PROFILING_RECORDS` naming it) where its signature has a :class:`ProfilingOptions`
    parameter, except those its signature declares itself (``sweep``'s lists, given their
    declaration by :func:`declared`). The command is called with that parameter set to the
    parsed :class:`ProfilingOptions`; options it does not take keep their defaults."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = list(signature.parameters.values())
        slots = [i for i, p in enumerate(own) if p.annotation is ProfilingOptions]
        if len(slots) != 1:
            raise TypeError(f"{command.__name__} needs one parameter of type ProfilingOptions")
        slot, name = slots[0], own[slots[0]].name
        named = {p.name for p in own}
        shared = [_option(o.name, command_name) for o in PROFILING_RECORDS
                  if command_name in o.commands and o.name not in named]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
                  for p in (*own[:slot], *shared, *own[slot + 1:])]

        @functools.wraps(command)
        def with_options(**kwargs: Any) -> Any:
            values = {p.name: kwargs.pop(p.name) for p in shared}
            if "option" in values:
                values["option"] = tuple(values["option"] or ())
            if "format" in values:
                values["format"] = output_format(values["format"])
            values["verbose"] = STATE.verbose
            return command(**kwargs, **{name: ProfilingOptions(**values)})

        with_options.__signature__ = signature.replace(parameters=params)  # type: ignore
        with_options.__annotations__ = {p.name: p.annotation for p in params}
        return with_options

    return decorate


def output_format(value: str) -> str:
    """``--format`` of a command that reports results: table, json or markdown."""
    from attnprof.values import FORMATS, parse_choice

    return parse_choice("format", value, FORMATS)


def options_per_block(blocks: list[str], items: list[str] | tuple[str, ...]
                      ) -> list[dict[str, Any]]:
    """``-o KEY=V`` goes to every block that declares KEY (a registered or timm block's
    schema, a ``module:Name``'s constructor), else to those whose constructor takes
    ``**kwargs``; ``-o BLOCK.KEY=V`` to that block, and wins over ``-o KEY=V`` whatever their
    order (:func:`attnprof.options.distribute`)."""
    from attnprof.options import distribute, parse_assignments

    return distribute(blocks, parse_assignments(list(items)))
