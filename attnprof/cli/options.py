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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from attnprof.cli.app import STATE

if TYPE_CHECKING:
    from attnprof.request import ProfileRequest

# Options several commands declare. ------------------------------------------------------
Format = Annotated[str, typer.Option("--format", "-f", metavar="FORMAT",
                                     help="table, json or markdown.")]
JsonPath = Annotated[str | None, typer.Option(
    "--json", metavar="PATH", help="Also write the JSON document to PATH ('-' for stdout).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Show the wrapped libraries' output.")]
Device = Annotated[str, typer.Option("--device", metavar="DEVICE", help="cpu, cuda or cuda:N.")]
Threads = Annotated[int | None, typer.Option(
    "--threads", metavar="N", help="Threads for timing (default: the CPUs free for timing, "
    "usable CPUs less other runnable tasks and one spare; model: torch's current count).")]


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)


# The profiling options: stat, compare and sweep. -----------------------------------------
#: One input shape (stat, compare). ``sweep`` declares lists of its own instead.
SHAPE = [
    _option("channels", Annotated[int | None, typer.Option(
        "--channels", "-c", metavar="C", help="Input channels (default 64; with --host, 3).")],
        None),
    _option("size", Annotated[str | None, typer.Option(
        "--size", "-s", metavar="S|HxW",
        help="Spatial size, S for SxS or HxW (default 56; with --host, 224).")], None),
    _option("batch", Annotated[int, typer.Option("--batch", "-b", metavar="B",
                                                 help="Batch size.")], 1),
    _option("dtype", Annotated[str, typer.Option(
        "--dtype", metavar="DTYPE", help="float32, float16 or bfloat16.")], "float32"),
    _option("host", Annotated[str | None, typer.Option(
        "--host", metavar="NET", help="Put the block in a network: resnet18, resnet34, "
        "resnet50, resnet50_v1, resnet101, mobilenetv2, timm:NAME or torchvision:NAME.")],
        None),
]

#: What every profiling command takes: the block's options, counting, timing, output.
COMMON = [
    _option("option", Annotated[list[str] | None, typer.Option(
        "--option", "-o", metavar="KEY=VALUE",
        help="A block option (repeatable); see 'attnprof show BLOCK'.")], None),
    _option("device", Device, "cpu"),
    _option("mode", Annotated[str, typer.Option(
        "--mode", metavar="MODE",
        help="infer (eval, inference mode) or train (forward and backward).")], "infer"),
    _option("backends", Annotated[str, typer.Option(
        "--backends", metavar="NAME,NAME", help="Counters to run: any of torchstat, "
        "torchinfo, fvcore, torch and attnprof, or all.")], "all"),
    _option("latency", Annotated[bool, typer.Option("--latency/--no-latency",
                                                    help="Measure latency.")], True),
    _option("threads", Threads, None),
    _option("budget", Annotated[float, typer.Option(
        "--budget", metavar="SECONDS",
        help="Seconds of timing per block, spread over the interleaved rounds.")], 0.3),
    _option("timer", Annotated[str, typer.Option(
        "--timer", metavar="TIMER",
        help="blocked (blocked_autorange) or adaptive (adaptive_autorange).")], "blocked"),
    _option("channels_last", Annotated[bool, typer.Option(
        "--channels-last", help="Block and input in channels-last memory format.")], False),
    _option("compile", Annotated[bool, typer.Option(
        "--compile", help="Time torch.compile(block), compiled in the untimed warm-up.")], False),
    _option("cuda_graph", Annotated[bool, typer.Option(
        "--cuda-graph", help="Time CUDA-graph replay: kernels without launch overhead.")],
        False),
    _option("l2_flush", Annotated[bool, typer.Option(
        "--l2-flush", help="CUDA: flush the L2 cache before each timed call (cold-cache "
        "time, as Triton's do_bench).")], False),
    _option("format", Format, "table"),
    _option("json_path", JsonPath, None),
]

#: Closing every profiling command's list, as the other commands close theirs.
TAIL = [_option("debug", Debug, False), _option("verbose", Verbose, False)]


@dataclass(frozen=True)
class ProfilingOptions:
    """The profiling options as Typer parsed them: one field per option of :data:`SHAPE` and
    :data:`COMMON`, ``format`` validated, ``verbose`` including the global ``--verbose``.
    Under ``sweep`` (which takes lists) the shape fields keep their defaults."""

    option: tuple[str, ...]  # -o KEY=VALUE, as given
    device: str
    mode: str
    backends: str
    latency: bool
    threads: int | None
    budget: float
    timer: str
    channels_last: bool
    compile: bool
    cuda_graph: bool
    format: str
    json_path: str | None
    verbose: bool
    channels: int | None = None
    size: str | None = None
    batch: int = 1
    dtype: str = "float32"
    host: str | None = None
    l2_flush: bool = False

    def request(self, block: str, *, options: Mapping[str, Any] | None = None,
                ops: bool = False, name: str | None = None) -> ProfileRequest:
        """The request for ``block``: the one place the command line makes one."""
        from attnprof.request import ProfileRequest

        return ProfileRequest(block=block, channels=self.channels, size=self.size,
                              batch=self.batch, options=dict(options or {}),
                              device=self.device, dtype=self.dtype, mode=self.mode,
                              backends=self.backends, latency=self.latency, ops=ops,
                              threads=self.threads, budget_s=self.budget, timer=self.timer,
                              channels_last=self.channels_last, compile=self.compile,
                              cuda_graph=self.cuda_graph, verbose=self.verbose, name=name,
                              host=self.host, l2_flush=self.l2_flush)


def profiling_options(*, shape: bool = True) -> Callable[[Callable[..., Any]],
                                                         Callable[..., Any]]:
    """Give a command the profiling options: :data:`SHAPE` (unless ``shape=False``) and
    :data:`COMMON` where its signature has a :class:`ProfilingOptions` parameter, then
    :data:`TAIL` (``--debug``, ``--verbose``) last. The command is called with that parameter
    set to the parsed :class:`ProfilingOptions`; ``--debug`` sets the global debug flag."""
    shared = [*SHAPE, *COMMON] if shape else COMMON

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = list(signature.parameters.values())
        slots = [i for i, p in enumerate(own) if p.annotation is ProfilingOptions]
        if len(slots) != 1:
            raise TypeError(f"{command.__name__} needs one parameter of type ProfilingOptions")
        slot, name = slots[0], own[slots[0]].name
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
                  for p in (*own[:slot], *shared, *own[slot + 1:], *TAIL)]
        names = [p.name for p in params]
        clash = {n for n in names if names.count(n) > 1}
        if clash:
            raise TypeError(f"{command.__name__} declares shared options: {sorted(clash)}")

        @functools.wraps(command)
        def with_options(**kwargs: Any) -> Any:
            debug, verbose = kwargs.pop("debug"), kwargs.pop("verbose")
            STATE.debug = STATE.debug or debug
            values = {p.name: kwargs.pop(p.name) for p in shared}
            values["option"] = tuple(values["option"] or ())
            values["format"] = output_format(values["format"])
            values["verbose"] = verbose or STATE.verbose
            return command(**kwargs, **{name: ProfilingOptions(**values)})

        with_options.__signature__ = signature.replace(parameters=params)  # type: ignore
        with_options.__annotations__ = {p.name: p.annotation for p in params}
        return with_options

    return decorate


def output_format(value: str) -> str:
    """``--format`` of a command that reports results: table, json or markdown."""
    from attnprof.request import FORMATS, parse_choice

    return parse_choice("format", value, FORMATS)


def options_per_block(blocks: list[str], items: list[str] | tuple[str, ...]
                      ) -> list[dict[str, Any]]:
    """``-o KEY=V`` goes to every block that declares KEY (a registered or timm block's
    schema, a ``module:Name``'s constructor), else to those whose constructor takes
    ``**kwargs``; ``-o BLOCK.KEY=V`` to that block, and wins over ``-o KEY=V`` whatever their
    order (:func:`attnprof.options.distribute`)."""
    from attnprof.options import distribute, parse_assignments

    return distribute(blocks, parse_assignments(list(items)))
