"""Suites: TOML files of defaults, cases and budgets (``attnprof run``).

Read with ``tomllib``; every error names the file, the line and what is wrong (exit 2).
Budgets read finished Profiles and never re-run anything. Counts are deterministic, so
count budgets are exact; absolute latency depends on the machine, so ``latency_vs`` (a
ratio to another case measured in the same run) is the budget to prefer.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from attnprof.errors import AttnprofError, BadInput
from attnprof.metrics import metric
from attnprof.request import ProfileRequest
from attnprof.results import Profile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REQUEST_KEYS = {"channels", "size", "batch", "device", "dtype", "mode", "backends", "latency",
                "budget", "threads", "timer", "channels_last", "options", "host"}
DEFAULT_KEYS = REQUEST_KEYS | {"rounds"}
CASE_KEYS = REQUEST_KEYS | {"name", "block"}
LIMITS = {"max_params": "params", "max_macs": "macs", "max_flops": "flops",
          "max_bytes": "bytes", "max_transcendentals": "transcendentals",
          "max_peak_bytes": "peak_bytes", "max_latency_ms": "latency_ms"}
BUDGET_KEYS = {"case", "latency_vs", "max_ratio", *LIMITS}
SWEEP_KEYS = {"blocks", "channels", "size", "batch", "dtype", "options", "plot", "csv", "json"}
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


def locate(text: str, table: str, index: int = 0, key: str | None = None) -> int | None:
    """The 1-based line of the ``index``-th ``[[table]]`` (or ``[table]``), or of ``key``
    inside it. tomllib gives no positions for values, so the text is searched."""
    headers = [i for i, line in enumerate(text.splitlines())
               if re.match(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$", line)]
    if index >= len(headers):
        return None
    start = headers[index]
    if key is None:
        return start + 1
    lines = text.splitlines()
    for i in range(start + 1, len(lines)):
        if re.match(r"^\s*\[", lines[i]):
            break
        if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start + 1


def _at(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _check_keys(path: str, text: str, raw: dict[str, Any], allowed: set[str], table: str,
                index: int = 0, label: str | None = None) -> None:
    """An unknown key names its line and the keys the table allows."""
    for key in raw:
        if key not in allowed:
            raise SuiteError(f"{_at(path, locate(text, table, index, key))}: unknown key "
                             f"'{key}' in {label or f'[[{table}]]'}; allowed: "
                             f"{', '.join(sorted(allowed))}")


def _request_fields(raw: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in raw.items() if k in REQUEST_KEYS and k != "budget"}
    if "budget" in raw:
        fields["budget_s"] = raw["budget"]
    if isinstance(fields.get("size"), list):
        fields["size"] = tuple(fields["size"])
    if "options" in fields and not isinstance(fields["options"], dict):
        raise BadInput("options must be a table, e.g. options = { ratio = 16 }")
    return fields


def load(path: str) -> Suite:
    text, doc = read_toml(path)
    for key in doc:
        if key not in TOP_KEYS:
            raise SuiteError(f"{_at(path, locate(text, key))}: unknown table or key '{key}'; "
                             f"a suite has [defaults], [[case]], [[budget]] and [sweep]")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SuiteError(f"{path}: [defaults] must be a table")
    _check_keys(path, text, defaults, DEFAULT_KEYS, "defaults", label="[defaults]")
    rounds = defaults.get("rounds", 5)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise SuiteError(f"{_at(path, locate(text, 'defaults', 0, 'rounds'))}: rounds must be a "
                         "positive integer")
    cases = doc.get("case", [])
    if not isinstance(cases, list) or (not cases and "sweep" not in doc):
        raise SuiteError(f"{path}: no cases: add at least one [[case]] with a block")
    requests: list[ProfileRequest] = []
    names: dict[str, int] = {}
    for i, case in enumerate(cases):
        line = locate(text, "case", i)
        _check_keys(path, text, case, CASE_KEYS, "case", i)
        if "block" not in case:
            raise SuiteError(f"{_at(path, line)}: [[case]] needs a block, e.g. block = \"se\"")
        name = str(case.get("name", case["block"]))
        if name in names:
            raise SuiteError(f"{_at(path, line)}: case name '{name}' is used twice "
                             f"(first at line {names[name]}); give each case its own name")
        names[name] = line or 0
        merged = {**_request_fields(defaults), **_request_fields(case)}
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
    budgets = _budgets(path, text, doc.get("budget", []), names, requests)
    sweep = doc.get("sweep")
    sweep_cases = _sweep(path, text, sweep, defaults) if sweep is not None else []
    suite = Suite(path, requests, budgets, rounds, sweep, sweep_cases)
    if any("max_latency_ms" in b.limits for b in budgets):
        suite.notes.append("max_latency_ms compares absolute time, which depends on the machine "
                           "it runs on; prefer latency_vs (a ratio to another case measured in "
                           "the same run)")
    return suite


def _sweep(path: str, text: str, raw: Any, defaults: dict[str, Any]) -> list[ProfileRequest]:
    """The cases of a [sweep] table: the product of its lists, on top of [defaults]."""
    from attnprof.sweep import plan

    line = locate(text, "sweep")
    if not isinstance(raw, dict):
        raise SuiteError(f"{_at(path, line)}: [sweep] must be a table")
    _check_keys(path, text, raw, SWEEP_KEYS, "sweep", label="[sweep]")
    blocks = raw.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        raise SuiteError(f"{_at(path, line)}: [sweep] needs blocks = [\"se\", ...]")
    base_fields = _request_fields(defaults)
    base_fields["options"] = {**defaults.get("options", {}), **raw.get("options", {})}

    def listed(key: str, default: Any) -> list[Any]:
        v = raw.get(key, base_fields.get(key, default))
        return v if isinstance(v, list) else [v]

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


def _budgets(path: str, text: str, raw: Any, names: dict[str, int],
             requests: list[ProfileRequest]) -> list[Budget]:
    if not isinstance(raw, list):
        raise SuiteError(f"{path}: budgets are written [[budget]]")
    timed = {r.name for r in requests if r.latency}
    out = []
    for i, b in enumerate(raw):
        line = locate(text, "budget", i)
        _check_keys(path, text, b, BUDGET_KEYS, "budget", i)
        case = b.get("case")
        if case is None:
            raise SuiteError(f"{_at(path, line)}: [[budget]] needs case = \"NAME\"")
        if case not in names:
            raise SuiteError(f"{_at(path, locate(text, 'budget', i, 'case'))}: budget names case "
                             f"'{case}', which the suite does not have; cases: "
                             f"{', '.join(names) or 'none'}")
        limits = {k: v for k, v in b.items() if k in LIMITS}
        for key, v in limits.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise SuiteError(f"{_at(path, locate(text, 'budget', i, key))}: {key} must be a "
                                 f"number >= 0, got {v!r}")
        vs, ratio = b.get("latency_vs"), b.get("max_ratio")
        if (vs is None) != (ratio is None):
            raise SuiteError(f"{_at(path, line)}: latency_vs and max_ratio go together")
        if vs is not None:
            if vs not in names:
                raise SuiteError(f"{_at(path, locate(text, 'budget', i, 'latency_vs'))}: "
                                 f"latency_vs names case '{vs}', which the suite does not have")
            if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0:
                raise SuiteError(f"{_at(path, locate(text, 'budget', i, 'max_ratio'))}: "
                                 f"max_ratio must be a number > 0, got {ratio!r}")
        needs_latency = vs is not None or "max_latency_ms" in limits
        if needs_latency and not ({case} | ({vs} if vs else set())) <= timed:
            raise SuiteError(f"{_at(path, line)}: this budget needs latency, which is off for "
                             f"case '{case}'" + (f" or '{vs}'" if vs else ""))
        if not limits and vs is None:
            raise SuiteError(f"{_at(path, line)}: budget for '{case}' sets no limit (max_params, "
                             "max_macs, ..., or latency_vs with max_ratio)")
        out.append(Budget(case, limits, vs, ratio, line))
    return out


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
    from attnprof.measure import stats

    what = f"latency / {b.latency_vs} <= {b.max_ratio:g}"
    mine, theirs = p.latency, base.latency
    if mine is None or theirs is None or not theirs.median_ms:
        return BudgetResult(b.case, what, None, float(b.max_ratio), False, "fail")
    est = mine.ratio_to(theirs)
    outcome = stats.budget(est, float(b.max_ratio),
                           trusted=mine.trustworthy and theirs.trustworthy)
    return BudgetResult(b.case, what, mine.median_ms / theirs.median_ms, float(b.max_ratio),
                        outcome == "pass", outcome, est.low if est.bounded else None,
                        est.high if est.bounded else None)


def latency_pairs(budgets: list[Budget], names: list[str]) -> list[tuple[int, int, float]]:
    """The (case, baseline case, max_ratio) index triples of the latency_vs budgets, for
    adaptive timing (``stats.pairs_decisive``)."""
    at = {n: i for i, n in enumerate(names)}
    return [(at[b.case], at[b.latency_vs], float(b.max_ratio)) for b in budgets
            if b.latency_vs is not None and b.case in at and b.latency_vs in at]
