"""The profiling options, each declared once: its name, flags, type, default, help, which
commands take it (and how a command's own declaration differs), the request field it fills
and its row in docs/contract.md's option table.

Everything else is derived from :data:`OPTIONS`: the CLI's Typer options
(:mod:`attnprof.cli.options`: the spliced profiling set, :class:`ProfilingOptions`, and the
options ``sweep``, ``model``, ``calibrate`` and ``env`` take), the mapping onto
:class:`~attnprof.request.ProfileRequest`, and the documented table (tests/test_options_table.py
holds docs/contract.md to :func:`markdown_table` and every command's ``--help`` to the
commands listed here). Adding an option is one entry here plus its use.

Torch-free and Typer-free: a record is plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from attnprof.hosts import host_names
from attnprof.values import (
    DTYPES,
    MODES,
    TIMERS,
    check_rounds,
    check_threads,
    choice,
    flag,
    parse_backends,
    parse_device,
    within_seconds,
)

#: the commands that take the whole profiling set (``sweep`` without the shape, which it
#: takes as lists: see each shape option's ``per["sweep"]``)
PROFILING = ("stat", "compare", "sweep")
SHAPED = ("stat", "compare")


@dataclass(frozen=True)
class ProfileOption:
    """One option. ``per`` maps a command to what its declaration changes (``type``,
    ``default``, ``help``, ``metavar``); ``commands`` lists every command that takes it;
    ``request`` is the :class:`~attnprof.request.ProfileRequest` field it fills (None: not a
    request field), and the library's keyword for it; ``doc`` the (option, default,
    meaning) cells of its row in docs/contract.md's profile option table (None: documented
    elsewhere)."""

    name: str
    flags: tuple[str, ...]
    type: Any
    default: Any
    help: str
    metavar: str | None = None
    commands: tuple[str, ...] = PROFILING
    shape: bool = False  # one input's shape: spliced into stat and compare only
    request: str | None = None
    per: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    doc: tuple[str, str, str] | None = None
    #: the kind of value the library and suites take (the library checks ``bool`` and
    #: ``text`` before the request; suites check every kind: attnprof.suite.KINDS)
    value: str = "text"
    #: the key a suite's [defaults] and [[case]] give it under, or None (suites lack it)
    suite: str | None = None
    #: a field of the profiling set (ProfilingOptions), spliced into the profiling commands;
    #: False: a flag of what a command prints or writes, which each command names itself
    profiling: bool = True
    #: the plan's value from the request's (parse and limits: :mod:`attnprof.values`);
    #: None: the value as given, or what the plan makes of it by hand (the input's shape)
    check: Callable[[Any], Any] | None = None
    #: meaningful on a CUDA device only: a plan with it on and another device is refused
    cuda_only: bool = False

    def declaration(self, command: str) -> dict[str, Any]:
        """flags, type, default, help and metavar as ``command`` declares them."""
        if command not in self.commands:
            raise KeyError(f"{command} takes no {self.flags[0]}")
        base = {"flags": self.flags, "type": self.type, "default": self.default,
                "help": self.help, "metavar": self.metavar, "check": self.check}
        return {**base, **self.per.get(command, {})}


def _hosts_help() -> str:
    return ("Put the block in a network: " + ", ".join(host_names())
            + ", timm:NAME or torchvision:NAME.")


def _list(metavar: str, help: str, default: str) -> dict[str, Any]:
    return {"type": str, "metavar": metavar, "help": help, "default": default}


_THREADS_HELP = ("Threads for timing (default: the CPUs free for timing, usable CPUs less "
                 "other runnable tasks and one spare).")

OPTIONS: tuple[ProfileOption, ...] = (
    ProfileOption(
        "channels", ("--channels", "-c"), int | None, None,
        "Input channels (default 64; with --host, 3).", "C", shape=True, request="channels",
        commands=(*PROFILING, "model"),
        per={"sweep": _list("C,C", "Channel counts, e.g. 16,32,64.", "64"),
             "model": {"help": "Input channels (default: the network's own, else 3)."}},
        doc=("`--channels`, `-c C`", "64 (3 with `--host`)",
             "input channels; `sweep`: a comma list"), value="int", suite="channels"),
    ProfileOption(
        "size", ("--size", "-s"), str | None, None,
        "Spatial size, S for SxS or HxW (default 56; with --host, 224).", "S|HxW", shape=True,
        request="size", commands=(*PROFILING, "model"),
        per={"sweep": _list("SIZE,SIZE", "Sizes, each S or HxW, e.g. 28,56,112 or "
                            "224x112,112x56.", "56"),
             "model": {"help": "Input size (default: the network's own, else 224)."}},
        doc=("`--size`, `-s S` or `HxW`", "56 (224 with `--host`)",
             "`256` is 256×256, `224x112` is H=224, W=112; `sweep`: a comma list"),
        value="size", suite="size"),
    ProfileOption(
        "batch", ("--batch", "-b"), int, 1, "Batch size.", "B", shape=True, request="batch",
        commands=(*PROFILING, "model"),
        per={"sweep": _list("B,B", "Batch sizes, e.g. 1,8.", "1")},
        doc=("`--batch`, `-b B`", "1", "batch size; `sweep`: a comma list"),
        value="int", suite="batch"),
    ProfileOption(
        "dtype", ("--dtype",), str, "float32", "float32, float16 or bfloat16.", "DTYPE",
        shape=True, request="dtype",
        per={"sweep": _list("DTYPE,DTYPE", "dtypes, e.g. float32,bfloat16.", "float32")},
        doc=("`--dtype`", "`float32`", "`float32`, `float16` or `bfloat16`; `sweep`: a comma "
             "list"), suite="dtype", check=choice("dtype", DTYPES)),
    ProfileOption(
        "host", ("--host",), str | None, None, _hosts_help(), "NET", shape=True,
        request="host", commands=SHAPED,
        doc=("`--host NET`", "none", "put the block in a network: "
             + ", ".join(f"`{h}`" for h in host_names()) + ", or with the `zoo` extra "
             "`timm:NAME` / `torchvision:NAME` (not on `sweep`)"), suite="host"),
    ProfileOption(
        "option", ("--option", "-o"), list[str] | None, None,
        "A block option (repeatable); see 'attnprof show BLOCK'.", "KEY=VALUE",
        commands=(*PROFILING, "model"),
        per={"model": {"help": "Option of --block (repeatable)."}},
        doc=("`--option`, `-o KEY=VALUE`", "", "a block option, repeatable; the value is read "
             "as int, float, `true`/`false` or string, then checked against the block's "
             "declared options (a `module:Name`'s signature: tuples `56,56`, `None`, fractions "
             "`1/16`, classes by name; see \"Your own block\"). `compare`: "
             "`-o BLOCK.KEY=VALUE` sets it for one block only"), value="options", suite="options",
        request="options"),
    ProfileOption(
        "device", ("--device",), str, "cpu", "cpu, cuda or cuda:N.", "DEVICE",
        request="device", commands=(*PROFILING, "model", "calibrate", "env"),
        doc=("`--device`", "`cpu`", "`cpu`, `cuda` or `cuda:N`"), suite="device",
        check=parse_device),
    ProfileOption(
        "mode", ("--mode",), str, "infer",
        "infer (eval, inference mode) or train (forward and backward).", "MODE",
        request="mode",
        doc=("`--mode`", "`infer`", "`infer` (eval, inference mode) or `train` (forward and "
             "backward)"), suite="mode", check=choice("mode", MODES)),
    ProfileOption(
        "backends", ("--backends",), str, "all", "Counters to run: any of torchstat, "
        "torchinfo, fvcore, torch and attnprof, or all.", "NAME,NAME", request="backends",
        commands=(*PROFILING, "model"),
        per={"model": {"default": "attnprof,torch", "help": "Counters to run on the network: "
                       "any of attnprof, torch, torchinfo, fvcore, torchstat, or all."}},
        doc=("`--backends NAME,NAME`", "`all`", "which counters run (names below)"),
        value="texts", suite="backends", check=parse_backends),
    ProfileOption(
        "latency", ("--latency/--no-latency",), bool, True, "Measure latency.",
        request="latency", commands=(*PROFILING, "model"),
        per={"model": {"help": "Time the network, the attention's own time (module hooks) "
                       "and the saving by removing it (identity in its place), interleaved."}},
        doc=("`--latency` / `--no-latency`", "on", "measure latency"),
        value="bool", suite="latency", check=flag),
    ProfileOption(
        "threads", ("--threads",), int | None, None, _THREADS_HELP, "N", request="threads",
        commands=(*PROFILING, "model", "calibrate"),
        doc=("`--threads N`", "the usable CPUs less the busy ones (see "
             "[latency.md](latency.md))", "threads while timing; the reason is recorded"),
        value="int", suite="threads", check=check_threads),
    ProfileOption(
        "budget", ("--budget",), float, 0.3,
        "Seconds of timing per block, spread over the interleaved rounds.", "SECONDS",
        request="budget_s", commands=(*PROFILING, "model", "calibrate"),
        per={"model": {"default": 1.0, "help": "Seconds of timing per timed network in the "
                       "first three interleaved rounds.",
                       "check": within_seconds("the timing budget")},
             "calibrate": {"default": 0.5, "help": "Seconds per measurement."}},
        doc=("`--budget SECONDS`", "0.3", "seconds of timing per block, spread over the "
             "interleaved rounds"), value="seconds", suite="budget",
        check=within_seconds("the latency budget")),
    ProfileOption(
        "warmup", ("--warmup",), int, 3, "Untimed calls before timing (they compile, autotune "
        "and fill caches).", "N", request="warmup",
        doc=("`--warmup N`", "3", "untimed calls before timing, 1 to 1000 (they compile, "
             "autotune and fill caches); a count other than 3 is named in the latency's "
             "`method`"), value="int", suite="warmup",
        check=lambda n: check_rounds("--warmup", n)),
    ProfileOption(
        "timer", ("--timer",), str, "blocked",
        "blocked (blocked_autorange) or adaptive (adaptive_autorange).", "TIMER",
        request="timer",
        doc=("`--timer`", "`blocked`", "`blocked` or `adaptive` (`adaptive_autorange`)"),
        suite="timer", check=choice("timer", TIMERS)),
    ProfileOption(
        "channels_last", ("--channels-last",), bool, False,
        "Block and input in channels-last memory format.", request="channels_last",
        doc=("`--channels-last`", "off", "block and input in channels-last memory format"),
        value="bool", suite="channels_last", check=flag),
    ProfileOption(
        "compile", ("--compile",), bool, False,
        "Time torch.compile(block), compiled in the untimed warm-up.", request="compile",
        doc=("`--compile`", "off", "time `torch.compile(block)`, compiled in the untimed "
             "warm-up"), value="bool", check=flag),
    ProfileOption(
        "cuda_graph", ("--cuda-graph",), bool, False,
        "Time CUDA-graph replay: kernels without launch overhead.", request="cuda_graph",
        doc=("`--cuda-graph`", "off", "time CUDA-graph replay (CUDA only)"), value="bool",
        check=flag, cuda_only=True),
    ProfileOption(
        "l2_flush", ("--l2-flush",), bool, False, "CUDA: flush the L2 cache before each timed "
        "call (cold-cache time, as Triton's do_bench).", request="l2_flush",
        doc=("`--l2-flush`", "off", "flush the L2 cache before each timed call, for "
             "cold-cache times (CUDA only)"), value="bool", check=flag, cuda_only=True),
    ProfileOption(
        "format", ("--format", "-f"), str, "table", "table, json or markdown.", "FORMAT",
        commands=(*PROFILING, "model", "run", "check", "calibrate", "env", "list"),
        per={c: {"help": "table or json."} for c in ("calibrate", "env", "list")}),
    ProfileOption(
        "json_path", ("--json",), str | None, None,
        "Also write the JSON document to PATH ('-' for stdout).", "PATH",
        commands=(*PROFILING, "model", "run")),
)

# Flags of what a command prints or writes: each command names them in its signature, the
# record declares them (attnprof.cli.options.declared).
OPTIONS += (
    ProfileOption(
        "layers", ("--layers",), bool, False, "Per-module table.", commands=SHAPED,
        profiling=False, per={"compare": {"help": "Also each block's per-module table."}}),
    ProfileOption(
        "ops", ("--ops",), bool, False, "Per-aten-op table.", commands=PROFILING,
        profiling=False, request="ops", check=flag, value="bool",
        per={"compare": {"help": "Also each block's per-op table, with torch.profiler times."},
             "sweep": {"help": "Time each op (kept in the JSON)."}}),
    ProfileOption(
        "csv_path", ("--csv",), str | None, None, "Also write CSV to PATH.", "PATH",
        commands=(*PROFILING, "model"), profiling=False,
        per={"stat": {"help": "Also write the per-layer and per-op tables as CSV (one header; "
                      "a 'table' column says layer or op)."},
             "sweep": {"help": "Write CSV to PATH (one row per case, rewritten after each)."},
             "model": {"help": "Also write the modules table as CSV to PATH."}}),
    ProfileOption(
        "markdown_path", ("--markdown",), str | None, None,
        "Also write the Markdown table to PATH.", "PATH", commands=("compare", "run", "check"),
        profiling=False,
        per={"run": {"help": "Also write the Markdown summary to PATH."},
             "check": {"help": "Also write the Markdown diff to PATH."}}),
    ProfileOption(
        "time_cap", ("--time-cap",), float, 20.0, "Stop adding timing rounds after this long, "
        "narrow interval or not.", "SECONDS", commands=("compare", "run", "model"),
        profiling=False, request="time_cap_s", check=within_seconds("--time-cap"),
        value="seconds",
        per={"compare": {"default": 10.0, "help": "With --baseline: stop adding timing rounds "
                         "after this long, verdicts decided or not."},
             "run": {"help": "Stop adding timing rounds for latency budgets after this long, "
                     "decided or not."}}),
    ProfileOption(
        "quiet", ("--quiet", "-q"), bool, False, "No progress bar.",
        commands=("compare", "sweep", "run"), profiling=False),
)

# What ``model`` alone takes: the block to put in the network and more modules to count.
OPTIONS += (
    ProfileOption(
        "block", ("--block",), str | None, None, "Put this block in the network's attention "
        "slots (as --host does) before looking.", "BLOCK", commands=("model",),
        profiling=False, request="block"),
    ProfileOption(
        "match", ("--match", "-m"), list[str] | None, None, "Also count modules whose path or "
        "class name matches this fnmatch pattern as attention (repeatable), e.g. "
        "'layer*.*.se'.", "PATTERN", commands=("model",), profiling=False, request="match",
        value="texts"),
    ProfileOption(
        "repeat", ("--repeat",), int, 0, "Also time in N fresh processes and report the spread "
        "of their medians (what an interval within one process does not cover).", "N",
        commands=("model",), profiling=False),
)

BY_NAME: dict[str, ProfileOption] = {o.name: o for o in OPTIONS}


def taken_by(command: str) -> list[ProfileOption]:
    """The options ``command`` takes, in declaration order."""
    return [o for o in OPTIONS if command in o.commands]


def request_fields(command: str) -> dict[str, ProfileOption]:
    """The request fields of ``command`` (ProfileRequest: ``stat``, NetworkRequest:
    ``model``), each with the record of the option that fills it, in declaration order."""
    return {o.request: o for o in taken_by(command) if o.request}


def library_keywords(command: str = "stat") -> dict[str, str]:
    """The library's keywords for ``command``'s request (``profile``: ``stat``, ``model``:
    ``model``), each with the kind of value it takes."""
    return {key: o.value for key, o in request_fields(command).items()}


def request_values(command: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields of ``command`` from ``given``, option values by option name (what a
    command's parser gave): each option fills the field its record names."""
    return {key: given[o.name] for key, o in request_fields(command).items() if o.name in given}


def suite_keys() -> dict[str, str]:
    """The keys a suite's [defaults] and [[case]] take and the kind of value each takes."""
    return {o.suite: o.value for o in OPTIONS if o.suite}


def suite_fields() -> dict[str, str]:
    """A suite's key -> the ProfileRequest field it fills (``options``, which the CLI
    parses from ``-o``, fills the request's ``options``)."""
    return {o.suite: o.request or o.suite for o in OPTIONS if o.suite}


def markdown_table() -> str:
    """docs/contract.md's profile option table, rows in declaration order."""
    rows = ["| option | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| {flag} | {default} | {meaning} |" if default else f"| {flag} | | {meaning} |"
             for flag, default, meaning in (o.doc for o in OPTIONS if o.doc)]
    return "\n".join(rows)


def write_docs_table(path: str) -> bool:
    """Rewrite the profile option table in the Markdown file at ``path`` (docs/contract.md)
    from the records; True when it changed. ``python -m attnprof.profile_options PATH``."""
    from pathlib import Path

    doc = Path(path)
    text = doc.read_text(encoding="utf-8")
    start = text.index("| option | default | meaning |")
    end = text.index("\n\n", start)
    new = text[:start] + markdown_table() + text[end:]
    if new != text:
        doc.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    import sys

    for target in sys.argv[1:] or ["docs/contract.md"]:
        print(target, "rewritten" if write_docs_table(target) else "unchanged")
