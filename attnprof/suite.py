"""Suites: TOML files of defaults, cases and budgets (``attnprof run``).

Read with ``tomllib``, then held to a declared table of keys and the kind of value each takes
(:data:`CASE_TYPES`, ...): a string where true or false is meant (``latency = "false"``), a
non-finite number, a size of three numbers or a nested table is refused. Every error names the
file, the line and what is wrong (exit 2).
Budgets read finished Profiles and never re-run anything. Counts are deterministic, so
count budgets are exact; absolute latency depends on the machine, so ``latency_vs`` (a
ratio to another case measured in the same run) is the budget to prefer.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attnprof.errors import AttnprofError, BadInput
from attnprof.metrics import metric
from attnprof.profile_options import suite_fields, suite_keys
from attnprof.request import ProfileRequest
from attnprof.results import Profile
from attnprof.values import MAX_ROUNDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# -- the declared table: every key a suite may hold, and what its value must be -----------

@dataclass(frozen=True)
class Kind:
    """What a key's value must be: ``words`` for messages, ``test`` for the check."""

    words: str
    test: Callable[[Any], bool]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _is_size(v: Any) -> bool:
    if _is_int(v):
        return v >= 1
    if isinstance(v, list):
        return len(v) == 2 and all(_is_int(x) and x >= 1 for x in v)
    return _is_text(v)  # "56" or "224x112": parsed (and checked) with the request


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (bool, str)) or _is_int(v) or _is_number(v)


def _one_or_list(kind: Kind) -> Kind:
    return Kind(f"{kind.words}, or a non-empty list of them",
                lambda v: kind.test(v) or (isinstance(v, list) and bool(v)
                                           and all(kind.test(x) for x in v)))


POSITIVE_INT = Kind("a positive integer", lambda v: _is_int(v) and v >= 1)
TEXT = Kind("a non-empty string", _is_text)
BOOL = Kind("true or false (not a string)", lambda v: isinstance(v, bool))
POSITIVE = Kind("a finite number > 0", lambda v: _is_number(v) and v > 0)
NON_NEGATIVE = Kind("a finite number >= 0", lambda v: _is_number(v) and v >= 0)
SIZE = Kind('a size: S, "HxW" or [H, W] with positive integers', _is_size)
def _is_option_value(v: Any) -> bool:
    """A scalar, or a non-empty array of scalars (a tuple option: feat_size = [56, 56])."""
    return _is_scalar(v) or (isinstance(v, list) and bool(v) and all(map(_is_scalar, v)))


OPTIONS = Kind("a table of option values (strings, numbers, true or false, or arrays of "
               "them), e.g. options = { ratio = 16 }",
               lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_option_value(x)
                                                     for k, x in v.items()))
TEXTS = _one_or_list(TEXT)

#: the kind of value each kind name of :mod:`attnprof.profile_options` takes in a suite
KINDS = {"int": POSITIVE_INT, "size": SIZE, "text": TEXT, "texts": TEXTS, "bool": BOOL,
         "seconds": POSITIVE, "options": OPTIONS}
#: the profile options a case takes, from their records (attnprof.profile_options)
REQUEST_TYPES: dict[str, Kind] = {key: KINDS[kind] for key, kind in suite_keys().items()}
LIMITS = {"max_params": "params", "max_macs": "macs", "max_flops": "flops",
          "max_bytes": "bytes", "max_transcendentals": "transcendentals",
          "max_peak_bytes": "peak_bytes", "max_latency_ms": "latency_ms"}
#: [defaults], [[case]], [[budget]] and [sweep]: each key and the kind of its value
ROUNDS = Kind(f"a positive integer up to {MAX_ROUNDS}",
              lambda v: _is_int(v) and 1 <= v <= MAX_ROUNDS)
DEFAULT_TYPES = {**REQUEST_TYPES, "rounds": ROUNDS}
CASE_TYPES = {**REQUEST_TYPES, "name": TEXT, "block": TEXT}
BUDGET_TYPES = {"case": TEXT, "latency_vs": TEXT, "max_ratio": POSITIVE,
                **{k: NON_NEGATIVE for k in LIMITS}}
SWEEP_TYPES = {"blocks": Kind("a non-empty list of block names",
                              lambda v: isinstance(v, list) and bool(v)
                              and all(_is_text(b) for b in v)),
               "channels": _one_or_list(POSITIVE_INT), "size": _one_or_list(SIZE),
               "batch": _one_or_list(POSITIVE_INT), "dtype": TEXTS, "options": OPTIONS,
               "plot": TEXT, "csv": TEXT, "json": TEXT}

TOP_KEYS = {"defaults", "case", "budget", "sweep"}


class SuiteError(BadInput):
    """A suite file that cannot be read or does not make sense."""


@dataclass(frozen=True)
class Budget:
    case: str
    limits: dict[str, float]
    latency_vs: str | None = None
    max_ratio: float | None = None
    line: int | None = None


@dataclass(frozen=True)
class BudgetResult:
    case: str
    what: str  # e.g. "params <= 16" or "latency / se <= 1.2"
    value: float | None
    limit: float
    passed: bool
    # "pass" | "fail" | "inconclusive": a latency_vs budget is decided by the ratio's 95%
    # interval (fail only when the whole interval is above the limit); counts are exact
    outcome: str = ""
    ci_low: float | None = None
    ci_high: float | None = None

    def __post_init__(self) -> None:
        if not self.outcome:
            object.__setattr__(self, "outcome", "pass" if self.passed else "fail")

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "budget": self.what, "value": self.value,
                "limit": self.limit, "passed": self.passed, "outcome": self.outcome,
                "ci_low": self.ci_low, "ci_high": self.ci_high}


@dataclass
class Suite:
    path: str
    requests: list[ProfileRequest]
    budgets: list[Budget]
    rounds: int = 5
    sweep: dict[str, Any] | None = None
    sweep_cases: list[ProfileRequest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def outputs(self) -> dict[str, str | None]:
        """The output files the suite itself names (its [sweep]'s csv, json and plot)."""
        sw = self.sweep or {}
        return {f"[sweep] {k}": sw.get(k) for k in ("json", "csv", "plot")}


def read_toml(path: str) -> tuple[str, dict[str, Any]]:
    """The file's text and its TOML; unreadable or malformed files raise SuiteError."""
    from attnprof.files import read_user_file

    try:
        text = read_user_file(path, "a TOML suite (UTF-8 text)")
    except BadInput as exc:
        raise SuiteError(str(exc)) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        raise SuiteError(f"{path}: malformed suite: values nested too deeply") from None


_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")


class Lines:
    """Where things are in a suite's text (tomllib gives no positions): the text is split and
    its table headers indexed once, so finding the line of any table or key costs no more
    than its own table's lines, and loading stays linear in the suite's size."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {}
        self.starts: list[int] = []
        for i, line in enumerate(self.lines):
            if line.lstrip().startswith("["):
                self.starts.append(i)
                m = _HEADER.match(line)
                if m:
                    self.headers.setdefault(m.group(1).strip(), []).append(i)

    def locate(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        """The 1-based line of the ``index``-th ``[[table]]`` (or ``[table]``), or of ``key``
        inside it (the header's line when the key is not found)."""
        found = self.headers.get(table, [])
        if index >= len(found):
            return None
        start = found[index]
        if key is None:
            return start + 1
        nxt = bisect.bisect_right(self.starts, start)
        stop = self.starts[nxt] if nxt < len(self.starts) else len(self.lines)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start + 1, stop):
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1


def locate(text: str, table: str, index: int = 0, key: str | None = None) -> int | None:
    """The 1-based line of the ``index``-th ``[[table]]`` (or of ``key`` inside it) in
    ``text``; to look up many, make one :class:`Lines` and ask it."""
    return Lines(text).locate(table, index, key)


def _at(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _check_table(path: str, where: Lines, raw: dict[str, Any], types: dict[str, Kind],
                 table: str, index: int = 0, label: str | None = None) -> None:
    """Every key of ``raw`` is declared in ``types`` and its value is of the declared kind;
    an unknown key or a wrong value names its line, the key and what it must be."""
    label = label or f"[[{table}]]"
    for key, value in raw.items():
        kind = types.get(key)
        if kind is None:
            raise SuiteError(f"{_at(path, where.locate(table, index, key))}: unknown key "
                             f"'{key}' in {label}; allowed: {', '.join(sorted(types))}")
        if not kind.test(value):
            raise SuiteError(f"{_at(path, where.locate(table, index, key))}: {key} in {label} "
                             f"must be {kind.words}, got {_shown(value)}")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:40] + "…"
    return f"a {type(value).__name__}"


def _request_fields(raw: dict[str, Any]) -> dict[str, Any]:
    to_field = suite_fields()
    fields = {to_field[k]: v for k, v in raw.items() if k in to_field}
    if isinstance(fields.get("size"), list):
        fields["size"] = tuple(fields["size"])
    return fields


def load(path: str) -> Suite:
    """Read, check and plan a suite; every problem is ``FILE:LINE: what is wrong`` (exit 2).
    Linear in the suite's size."""
    text, doc = read_toml(path)
    where = Lines(text)
    for key in doc:
        if key not in TOP_KEYS:
            raise SuiteError(f"{_at(path, where.locate(key))}: unknown table or key '{key}'; "
                             f"a suite has [defaults], [[case]], [[budget]] and [sweep]")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SuiteError(f"{path}: [defaults] must be a table")
    _check_table(path, where, defaults, DEFAULT_TYPES, "defaults", label="[defaults]")
    rounds = defaults.get("rounds", 5)
    cases = doc.get("case", [])
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise SuiteError(f"{path}: cases are tables written [[case]]")
    if not cases and "sweep" not in doc:
        raise SuiteError(f"{path}: no cases: add at least one [[case]] with a block")
    requests: list[ProfileRequest] = []
    names: dict[str, int] = {}
    base = _request_fields(defaults)
    for i, case in enumerate(cases):
        line = where.locate("case", i)
        _check_table(path, where, case, CASE_TYPES, "case", i)
        if "block" not in case:
            raise SuiteError(f"{_at(path, line)}: [[case]] needs a block, e.g. block = \"se\"")
        name = str(case.get("name", case["block"]))
        if name in names:
            raise SuiteError(f"{_at(path, line)}: case name '{name}' is used twice "
                             f"(first at line {names[name]}); give each case its own name")
        names[name] = line or 0
        merged = {**base, **_request_fields(case)}
        merged["options"] = {**defaults.get("options", {}), **case.get("options", {})}
        try:
            # one validation: the Plan resolves the block and (without a host) its options;
            # in a host, options are checked per slot when the network is built
            req = ProfileRequest(block=case["block"], name=name, **merged).validated()
        except AttnprofError as exc:
            raise SuiteError(f"{_at(path, line)}: case '{name}': {exc}") from None
        except TypeError as exc:
            raise SuiteError(f"{_at(path, line)}: case '{name}': {exc}") from None
        requests.append(req)
    budgets = _budgets(path, where, doc.get("budget", []), names, requests)
    sweep = doc.get("sweep")
    sweep_cases = _sweep(path, where, sweep, defaults) if sweep is not None else []
    suite = Suite(path, requests, budgets, rounds, sweep, sweep_cases)
    if any("max_latency_ms" in b.limits for b in budgets):
        suite.notes.append("max_latency_ms compares absolute time, which depends on the machine "
                           "it runs on; prefer latency_vs (a ratio to another case measured in "
                           "the same run)")
    return suite


def _sweep(path: str, where: Lines, raw: Any, defaults: dict[str, Any]
           ) -> list[ProfileRequest]:
    """The cases of a [sweep] table: the product of its lists, on top of [defaults]."""
    from attnprof.sweep import plan

    line = where.locate("sweep")
    if not isinstance(raw, dict):
        raise SuiteError(f"{_at(path, line)}: [sweep] must be a table")
    _check_table(path, where, raw, SWEEP_TYPES, "sweep", label="[sweep]")
    blocks = raw.get("blocks")
    if blocks is None:
        raise SuiteError(f"{_at(path, line)}: [sweep] needs blocks = [\"se\", ...]")
    base_fields = _request_fields(defaults)
    base_fields["options"] = {**defaults.get("options", {}), **raw.get("options", {})}

    def listed(key: str, default: Any) -> list[Any]:
        v = raw.get(key, base_fields.get(key, default))
        return v if isinstance(v, list) else [v]  # [defaults] size = [H, W] is one size

    try:
        base = ProfileRequest(block=blocks[0], **{k: v for k, v in base_fields.items()
                                                  if k not in ("channels", "size", "batch",
                                                               "dtype")})
        sizes = ["x".join(map(str, s)) if isinstance(s, (list, tuple)) else s
                 for s in listed("size", 56)]
        return plan([str(b) for b in blocks], listed("channels", 64), sizes,
                    listed("batch", 1), listed("dtype", "float32"), base)
    except AttnprofError as exc:
        raise SuiteError(f"{_at(path, line)}: [sweep]: {exc}") from None


def _budgets(path: str, where: Lines, raw: Any, names: dict[str, int],
             requests: list[ProfileRequest]) -> list[Budget]:
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise SuiteError(f"{path}: budgets are tables written [[budget]]")
    timed = {r.name for r in requests if r.latency}
    out = []
    for i, b in enumerate(raw):
        line = where.locate("budget", i)
        _check_table(path, where, b, BUDGET_TYPES, "budget", i)
        case = b.get("case")
        if case is None:
            raise SuiteError(f"{_at(path, line)}: [[budget]] needs case = \"NAME\"")
        if case not in names:
            raise SuiteError(f"{_at(path, where.locate('budget', i, 'case'))}: budget names "
                             f"case '{case}', which the suite does not have; cases: "
                             f"{_listing(names)}")
        limits = {k: v for k, v in b.items() if k in LIMITS}
        vs, ratio = b.get("latency_vs"), b.get("max_ratio")
        if (vs is None) != (ratio is None):
            raise SuiteError(f"{_at(path, line)}: latency_vs and max_ratio go together")
        if vs is not None and vs not in names:
            raise SuiteError(f"{_at(path, where.locate('budget', i, 'latency_vs'))}: "
                             f"latency_vs names case '{vs}', which the suite does not have")
        needs_latency = vs is not None or "max_latency_ms" in limits
        if needs_latency and not ({case} | ({vs} if vs else set())) <= timed:
            raise SuiteError(f"{_at(path, line)}: this budget needs latency, which is off for "
                             f"case '{case}'" + (f" or '{vs}'" if vs else ""))
        if not limits and vs is None:
            raise SuiteError(f"{_at(path, line)}: budget for '{case}' sets no limit (max_params, "
                             "max_macs, ..., or latency_vs with max_ratio)")
        out.append(Budget(case, limits, vs, ratio, line))
    return out


def _listing(names: dict[str, int], most: int = 10) -> str:
    shown = list(names)[:most]
    more = len(names) - len(shown)
    return (", ".join(shown) or "none") + (f" and {more} more" if more > 0 else "")


def evaluate(budgets: list[Budget], profiles: list[Profile]) -> list[BudgetResult]:
    by_name = {p.label: p for p in profiles}
    out = []
    for b in budgets:
        p = by_name[b.case]
        for key, limit in b.limits.items():
            value = metric(p, LIMITS[key])
            shown = f"{limit:,}" if float(limit).is_integer() else f"{limit:g}"
            out.append(BudgetResult(b.case, f"{LIMITS[key]} <= {shown}", value, limit,
                                    value is not None and value <= limit))
        if b.latency_vs is not None:
            out.append(_latency_budget(b, p, by_name[b.latency_vs]))
    return out


def _latency_budget(b: Budget, p: Profile, base: Profile) -> BudgetResult:
    """``latency_vs``: pass when the ratio's whole 95% interval is within ``max_ratio``,
    fail only when the whole interval is above it, inconclusive otherwise (or when either
    time timed the scheduler rather than the block)."""
    from attnprof.stats.verdicts import budget

    what = f"latency / {b.latency_vs} <= {b.max_ratio:g}"
    mine, theirs = p.latency, base.latency
    if mine is None or theirs is None or not theirs.median_ms:
        return BudgetResult(b.case, what, None, float(b.max_ratio), False, "fail")
    est = mine.ratio_to(theirs)
    outcome = budget(est, float(b.max_ratio),
                           trusted=mine.trustworthy and theirs.trustworthy)
    return BudgetResult(b.case, what, mine.median_ms / theirs.median_ms, float(b.max_ratio),
                        outcome == "pass", outcome, est.low if est.bounded else None,
                        est.high if est.bounded else None)


def latency_pairs(budgets: list[Budget], names: list[str]) -> list[tuple[int, int, float]]:
    """The (case, baseline case, max_ratio) index triples of the latency_vs budgets, for
    adaptive timing (``attnprof.stats.verdicts.pairs_decisive``)."""
    at = {n: i for i, n in enumerate(names)}
    return [(at[b.case], at[b.latency_vs], float(b.max_ratio)) for b in budgets
            if b.latency_vs is not None and b.case in at and b.latency_vs in at]
