"""The library as complete as the command line: ``compare``, ``sweep``, ``run`` (a suite) and
``check``, each returning a typed result whose ``to_dict()`` is the JSON document the CLI
prints for the same request, ``show()`` printing the tables the CLI prints, ``report()``
returning them as text, and ``to_frame(table)`` giving each table as a pandas DataFrame.

Every function raises attnprof's own errors only (:class:`~attnprof.errors.AttnprofError`
subclasses) and, apart from ``check``, holds the profiling lock (:mod:`attnprof.serial`)
while it builds, counts and times. Nothing here prints unless asked (``show()``); nothing
writes a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from attnprof.errors import BadInput
from attnprof.report.console import print_tables, text_of
from attnprof.serial import serialised

__all__ = ["Results", "SuiteResults", "CheckResult", "compare", "sweep", "run", "check",
           "text_of", "print_tables"]


# -- results of several profiles ----------------------------------------------------------------

@dataclass
class Results:
    """Several profiles (``compare``, ``sweep``, ``run``): a sequence of
    :class:`~attnprof.results.Profile` (by index or case name), with the document's other
    sections. ``to_dict()`` is the ``attnprof.results/1`` document the CLI writes."""

    profiles: list[Any]
    sections: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None  # compare --baseline
    kind: str = "compare"  # compare | sweep | run

    def __len__(self) -> int:
        return len(self.profiles)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.profiles)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            for p in self.profiles:
                if p.label == key:
                    return p
            raise KeyError(key)
        return self.profiles[key]

    @property
    def comparison(self) -> dict[str, Any] | None:
        return self.sections.get("comparison")

    @property
    def scaling(self) -> list[dict[str, Any]] | None:
        return self.sections.get("scaling")

    def to_dict(self) -> dict[str, Any]:
        from attnprof.results import results_document

        return results_document(self.profiles, **self.sections)

    def _views(self, layers: bool = False, ops: bool = False) -> list[Any]:
        """What :meth:`show` prints: the CLI's views of these results."""
        from attnprof.report.comparison_views import compare_views, detail_views, sweep_views

        if self.kind == "sweep":
            return [*sweep_views(self.profiles, self.scaling or []),
                    *detail_views(self.profiles, layers=layers, ops=ops, name_each=True)]
        return compare_views(self.profiles, self.baseline, layers=layers, ops=ops,
                             name_each=True)

    def _draw(self, console: Any, layers: bool = False, ops: bool = False) -> None:
        from attnprof.report.media import renderer

        console.print(renderer("table").render(self._views(layers, ops)))

    def show(self, layers: bool = False, ops: bool = False, file: Any = None) -> None:
        """Print the CLI's tables (``compare``'s or ``sweep``'s; ``layers``/``ops``: each
        profile's per-module and per-op tables too) to ``file`` (stdout)."""
        print_tables(lambda c: self._draw(c, layers, ops), file)

    def report(self, layers: bool = False, ops: bool = False, width: int = 160) -> str:
        """The tables :meth:`show` prints, as text."""
        return text_of(lambda c: self._draw(c, layers, ops), width)

    def to_frame(self, table: str = "summary") -> Any:
        """A pandas DataFrame of one table: ``summary`` (one row per case: its headline
        figures), ``comparison`` (compare with a baseline: one row per case and metric),
        ``scaling`` (sweep: one row per block, axis and figure)."""
        import pandas as pd

        if table == "summary":
            return pd.DataFrame([_summary_row(p) for p in self.profiles])
        if table == "comparison" and self.comparison:
            return pd.DataFrame([{"case": row.get("name"), "metric": metric, **cell}
                                 for row in self.comparison.get("rows", ())
                                 for metric, cell in row.items() if isinstance(cell, dict)])
        if table == "scaling" and self.scaling is not None:
            return pd.DataFrame([{"block": row.get("block"), "axis": row.get("axis"),
                                  "figure": figure, **fit}
                                 for row in self.scaling
                                 for figure, fit in (row.get("fits") or {}).items()
                                 if isinstance(fit, dict)])
        tables = ["summary"] + [t for t in ("comparison", "scaling")
                                if self.sections.get(t) is not None]
        raise BadInput(f"to_frame: no table {table!r} here; choose {', '.join(tables)}")

    def __repr__(self) -> str:
        names = ", ".join(p.label for p in self.profiles[:6])
        more = f" and {len(self.profiles) - 6} more" if len(self.profiles) > 6 else ""
        return f"<Results ({self.kind}) of {len(self.profiles)}: {names}{more}>"


def _summary_row(p: Any) -> dict[str, Any]:
    return {"case": p.label, "block": p.block.name, "shape": "x".join(map(str, p.input.shape)),
            "dtype": p.input.dtype, "device": p.device, "mode": p.mode, "params": p.params,
            "macs": p.macs, "flops": p.flops, "bytes": p.bytes, "peak_bytes": p.peak_bytes,
            "latency_ms": p.latency_ms}


@dataclass
class SuiteResults(Results):
    """A suite's profiles and its budgets: ``budgets`` (one BudgetResult each), ``failed``
    (decisively), ``inconclusive``, and ``passed`` (no decisive failure; with
    ``strict=True`` at :func:`run`, no inconclusive one either), as ``run``'s exit code."""

    budgets: list[Any] = field(default_factory=list)
    strict: bool = False
    #: the suite's ``[sweep]`` beside its cases, run after them (its own Results), or None
    sweep: Results | None = None

    @property
    def failed(self) -> list[Any]:
        return [b for b in self.budgets if b.outcome == "fail"]

    @property
    def inconclusive(self) -> list[Any]:
        return [b for b in self.budgets if b.outcome == "inconclusive"]

    @property
    def passed(self) -> bool:
        return not self.failed and not (self.strict and self.inconclusive)

    def _views(self, layers: bool = False, ops: bool = False) -> list[Any]:
        from attnprof.report.gate_views import budget_view

        return [*super()._views(layers, ops), *([budget_view(self.budgets)] if self.budgets
                                                 else [])]

    def to_frame(self, table: str = "summary") -> Any:
        """As :meth:`Results.to_frame`, and ``budgets`` (one row per budget)."""
        if table == "budgets":
            import pandas as pd

            return pd.DataFrame([b.to_dict() for b in self.budgets])
        return super().to_frame(table)


@dataclass
class CheckResult:
    """``check``'s answer: ``diffs`` (one row per case and metric), ``regressions`` (how many
    failed), ``passed``. ``to_dict()`` is the ``attnprof.check/1`` document."""

    results: str
    baseline: str
    diffs: list[Any]

    @property
    def failed(self) -> list[Any]:
        return [d for d in self.diffs if d.failed]

    @property
    def regressions(self) -> int:
        return len(self.failed)

    @property
    def passed(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return check_document(self.results, self.baseline, self.diffs)

    def show(self, show_same: bool = False, file: Any = None) -> None:
        """Print the CLI's diff table (``show_same``: unchanged figures too, as ``--all``)."""
        print_tables(lambda c: self._draw(c, show_same), file)

    def report(self, show_same: bool = False, width: int = 160) -> str:
        return text_of(lambda c: self._draw(c, show_same), width)

    def _draw(self, console: Any, show_same: bool) -> None:
        from attnprof.report.gate_views import check_view
        from attnprof.report.media import renderer

        console.print(renderer("table").render([check_view(self.diffs, show_same)]))

    def to_frame(self, table: str = "diffs") -> Any:
        """A pandas DataFrame of ``diffs`` (the only table)."""
        if table != "diffs":
            raise BadInput(f"to_frame: no table {table!r} here; choose diffs")
        import pandas as pd

        return pd.DataFrame([d.to_dict() for d in self.diffs])

    def __repr__(self) -> str:
        return (f"<CheckResult {self.results} against {self.baseline}: "
                f"{'passed' if self.passed else f'{self.regressions} failed'}, "
                f"{len(self.diffs)} figures>")


def check_document(results: str, baseline: str, diffs: Sequence[Any]) -> dict[str, Any]:
    """The ``attnprof.check/1`` document (``check --format json``)."""
    from attnprof.report.gate_views import check_counts

    return {"schema": "attnprof.check/1", "results": results, "baseline": baseline,
            "diffs": [d.to_dict() for d in diffs], "regressions": sum(d.failed for d in diffs),
            **{k: n for k, n in check_counts(diffs).items()
               if k in ("improvements", "changed")}}


# -- the entry points ----------------------------------------------------------------------------

def _blocks(blocks: Any, least: int, what: str) -> list[str]:
    if isinstance(blocks, str) or not isinstance(blocks, Iterable):
        raise BadInput(f"{what} takes a list of block names, got {blocks!r}")
    out = list(blocks)
    if len(out) < least or not all(isinstance(b, str) for b in out):
        raise BadInput(f"{what} needs at least {least} block name(s) (strings), e.g. "
                       f"attnprof.{what}(['se', 'eca'], channels=64, size=56); got {out!r}")
    return out


def _base_request(block: str, kwargs: dict[str, Any], **fields: Any) -> Any:
    """A ProfileRequest with the library's keyword arguments, checked as profile() checks
    them (:func:`attnprof._request`)."""
    from attnprof.arguments import _request

    return _request(block, fields.pop("channels", None), fields.pop("size", None),
                    fields.pop("batch", 1), fields.pop("options", None), {**kwargs, **fields})


def _int_at_most(what: str, value: Any, most: int) -> int:
    from attnprof.spec import check_positive

    check_positive(what, value)
    if value > most:
        raise BadInput(f"{what} must be at most {most}, got {value}")
    return value


@serialised
def compare(blocks: Sequence[str], channels: int | None = None, size: Any = None,
            batch: int = 1, options: Mapping[str, Any] | None = None, *,
            baseline: str | None = None, rounds: int = 5, time_cap_s: float = 10.0,
            **kwargs: Any) -> Results:
    """``attnprof compare``: several blocks at one input, timed interleaved (A B C A B C).

    ``options`` as ``-o``: ``{"ratio": 8}`` goes to every block that takes it,
    ``{"se.ratio": 8}`` to one. ``baseline`` adds ratios and differences to that block (the
    ``comparison`` section), with rounds added until every latency verdict is decisive or
    ``time_cap_s``. ``kwargs`` are :func:`attnprof.profile`'s profile options. Raises
    :class:`BadInput` (fewer than two blocks, a baseline not among them, a malformed
    argument), :class:`BadOption`, :class:`UnknownBlock`, :class:`DeviceUnavailable`."""
    from attnprof.options import distribute
    from attnprof.values import MAX_ROUNDS, seconds

    names_given = _blocks(blocks, 2, "compare")
    _int_at_most("rounds", rounds, MAX_ROUNDS)
    seconds("time_cap_s", time_cap_s)
    names = case_names(names_given)
    if baseline is not None and baseline not in names:
        raise BadInput(f"baseline {baseline!r} is not among the compared blocks: "
                       f"{', '.join(names)}")
    _check_options(options)
    per_block = distribute(names_given, dict(options or {}))
    requests = [_base_request(b, kwargs, channels=channels, size=size, batch=batch,
                              options=o, name=n)
                for b, n, o in zip(names_given, names, per_block, strict=True)]
    plans = [r.validated() for r in requests]
    return compare_plans(plans, names, baseline, rounds, time_cap_s)


def case_names(blocks: list[str]) -> list[str]:
    """Each block's name; a block given again is ``name#2``, ``name#3``, ..."""
    seen: dict[str, int] = {}
    out = []
    for b in blocks:
        seen[b] = seen.get(b, 0) + 1
        out.append(b if seen[b] == 1 else f"{b}#{seen[b]}")
    return out


def compare_plans(plans: Sequence[Any], names: Sequence[str], baseline: str | None,
                  rounds: int, time_cap_s: float, progress: Any = None) -> Results:
    """Time checked plans interleaved (``compare``'s, the CLI's and the library's): with a
    ``baseline`` among ``names`` and latency on, rounds until every verdict against it is
    decisive or ``time_cap_s``; the ``comparison`` section records the rounds run."""
    from attnprof.report.comparison_views import comparison
    from attnprof.runner import profile_many

    until, timing = None, {}
    if baseline is not None and plans[0].latency:
        b = names.index(baseline)
        pairs = [(i, b, None) for i in range(len(names)) if i != b]
        until = _until(pairs, time_cap_s, timing)
    profiles = profile_many(list(plans), rounds=rounds, progress=progress, until=until)
    compared = comparison(profiles, baseline)
    if compared is not None:
        compared["timing"] = timing or None
    return Results(profiles, {"comparison": compared}, baseline, "compare")


def _until(pairs: list[tuple[int, int, float | None]], time_cap_s: float,
           timing: dict[str, Any]) -> Any:
    """Adaptive timing as the CLI's: rounds until every pair's verdict is decisive or the
    time cap; ``timing`` gets the rounds run and why they stopped."""
    from attnprof.runner import Until
    from attnprof.stats.verdicts import pairs_decisive

    return Until(lambda by_case: pairs_decisive(by_case, pairs), time_cap_s,
                 lambda n, why: timing.update(rounds=n, stopped=why))


def _check_options(options: Any) -> None:
    from attnprof.errors import BadOption

    if options is not None and (not isinstance(options, Mapping)
                                or not all(isinstance(k, str) for k in options)):
        raise BadOption(f"options must be a mapping of option names to values (e.g. "
                        f"{{'ratio': 8}}), got {type(options).__name__}")


@serialised
def sweep(blocks: Sequence[str], channels: Any = 64, sizes: Any = 56, batches: Any = 1,
          dtypes: Any = "float32", options: Mapping[str, Any] | None = None,
          **kwargs: Any) -> Results:
    """``attnprof sweep``: each block over the product of ``channels``, ``sizes``,
    ``batches`` and ``dtypes`` (each a value, a list, or the CLI's comma text ``"16,32"``),
    one case after another, then how each figure scales along the swept axis (the
    ``scaling`` section). ``options`` and ``kwargs`` as for :func:`compare` (no ``host``).
    Raises attnprof's errors only, as :func:`compare`."""
    from attnprof.options import distribute
    from attnprof.sweep import plan, run_sweep, scaling

    names = _blocks(blocks, 1, "sweep")
    if kwargs.get("host") is not None:
        raise BadInput("sweep does not take a host (as the CLI's sweep has no --host)")
    _check_options(options)
    cases = []
    for block, opts in zip(names, distribute(names, dict(options or {})), strict=True):
        cases += plan([block], _listed(channels), _listed(sizes), _listed(batches),
                      _listed(dtypes), _base_request(block, kwargs, options=opts))
    finished = run_sweep(cases)
    return Results(finished, {"scaling": scaling(finished)}, None, "sweep")


def _listed(value: Any) -> Any:
    """A scalar as a one-item list; a list, tuple or comma text as it is (the sweep parses)."""
    if isinstance(value, (list, tuple, str)):
        return [value] if isinstance(value, tuple) and len(value) == 2 and all(
            isinstance(v, int) for v in value) else value  # (H, W): one size
    return [value]


@serialised
def run(suite: str, *, strict: bool = False, time_cap_s: float = 20.0) -> SuiteResults:
    """``attnprof run SUITE.toml``: the suite's cases (latency interleaved, rounds added for
    latency budgets until each is decisive or ``time_cap_s``), then its budgets. Returns the
    results whatever the budgets say: ``passed`` is the CLI's exit code 0. A suite with only
    a ``[sweep]`` table gives the sweep's results; a ``[sweep]`` beside cases is run after
    them, its Results in ``.sweep``. The library writes no files (the suite's ``[sweep]``
    outputs are the CLI's). Raises :class:`BadInput` (``SuiteError``: ``FILE:LINE:
    what is wrong``) and attnprof's other errors only."""
    from attnprof.suite import load
    from attnprof.sweep import run_sweep, scaling
    from attnprof.values import seconds

    if not isinstance(suite, str):
        suite = _path(suite, "suite")
    if not isinstance(strict, bool):
        raise BadInput(f"strict must be True or False, got {strict!r}")
    seconds("time_cap_s", time_cap_s)
    spec = load(suite)
    if spec.sweep is not None and not spec.requests:
        finished = run_sweep(spec.sweep_cases)
        return SuiteResults(finished, {"scaling": scaling(finished)}, None, "sweep")
    results = run_cases(spec, suite, time_cap_s, strict)
    if spec.sweep is not None:
        finished = run_sweep(spec.sweep_cases)
        results.sweep = Results(finished, {"scaling": scaling(finished)}, None, "sweep")
    return results


def run_cases(spec: Any, suite: str, time_cap_s: float, strict: bool = False,
              progress: Any = None) -> SuiteResults:
    """A loaded suite's cases, timed interleaved (rounds added for its latency budgets until
    each is decisive or ``time_cap_s``), and its budgets (``run``'s, the CLI's and the
    library's); the ``timing`` section records the rounds run."""
    from attnprof.runner import profile_many
    from attnprof.suite import evaluate, latency_pairs

    pairs = latency_pairs(spec.budgets, [r.name for r in spec.requests])
    timing: dict[str, Any] = {}
    until = _until(pairs, time_cap_s, timing) if pairs else None
    profiles = profile_many(spec.requests, rounds=spec.rounds, progress=progress, until=until)
    budgets = evaluate(spec.budgets, profiles)
    return SuiteResults(profiles, {"suite": suite, "budgets": [b.to_dict() for b in budgets],
                                   "timing": timing or None}, None, "run", budgets, strict)


def _path(value: Any, what: str) -> str:
    import os

    try:
        return os.fspath(value)
    except TypeError:
        raise BadInput(f"{what} must be a path (a string or os.PathLike), got "
                       f"{type(value).__name__}") from None


def check(results: Any, baseline: Any, *, latency_tolerance: float = 0.2,
          relative_to: str | None = None, tolerances: Mapping[str, float] | None = None,
          exact: bool = False) -> CheckResult:
    """``attnprof check RESULTS --baseline BASELINE``: two ``attnprof.results/1`` files
    (paths), case by case. ``tolerances`` maps a metric to the fraction it may change
    (``{"flops": 0.01}``), as ``--tolerance``; ``exact`` fails lower counts too. Returns the
    diffs whatever they say (``passed`` is the CLI's exit code 0). Reads files only, takes no
    lock. Raises :class:`BadInput` (a file unreadable, malformed, or whose figures cannot
    all be true: ``FILE: where: what is wrong``; a bad tolerance) and nothing else."""
    from attnprof.check import compare_results, load_results, parse_tolerances

    results, baseline = _path(results, "results"), _path(baseline, "baseline")
    if tolerances is not None and not isinstance(tolerances, Mapping):
        raise BadInput(f"tolerances must map metrics to fractions (e.g. {{'flops': 0.01}}), "
                       f"got {type(tolerances).__name__}")
    if not isinstance(exact, bool):
        raise BadInput(f"exact must be True or False, got {exact!r}")
    if relative_to is not None and not isinstance(relative_to, str):
        raise BadInput(f"relative_to must be a case name, got {relative_to!r}")
    parsed = parse_tolerances([f"{k}={v}" for k, v in (tolerances or {}).items()])
    diffs = compare_results(load_results(results), load_results(baseline), tolerances=parsed,
                            latency_tolerance=latency_tolerance, relative_to=relative_to,
                            exact=exact, paths=(results, baseline))
    return CheckResult(results, baseline, diffs)
