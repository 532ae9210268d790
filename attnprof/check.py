"""``attnprof check``: a results document against a baseline, case by case.

Counts must be equal, or within a per-metric tolerance the user sets. A higher count is a
regression (it fails); a lower one is an improvement, reported as one, which passes unless
``exact`` (``--exact``) asks that any changed count fail. Latency may not grow past
``latency_tolerance``; since absolute time depends on the machine, ``relative_to`` compares
each case's latency as a ratio to one case of the same document (measured in the same run),
which holds across machines. Reads documents, never re-runs anything.

Documents are validated against the shipped schema before use (:mod:`attnprof.validate`):
anything else is one line, ``FILE: where: what is wrong``, and exit 2.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from attnprof.contain import one_line
from attnprof.errors import BadInput
from attnprof.files import read_user_file
from attnprof.metrics import COUNTS, metric
from attnprof.results import RESULTS_SCHEMA, Profile
from attnprof.validate import load_json, schema_mismatch, validate

IMPROVED = "lower (improvement)"


CHANGED = "case changed"


@dataclass(frozen=True)
class Diff:
    case: str
    metric: str
    baseline: float | None
    value: float | None
    change: float | None  # relative change, value / baseline - 1
    verdict: str  # "same", "within tolerance", "higher", "lower", "missing", "new", "slower"...
    failed: bool
    # latency: the 95% interval of now / baseline (the change's, not now's)
    ci_low: float | None = None
    ci_high: float | None = None
    # a changed case: what differs, as (what, baseline's, now's)
    differences: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The row of ``check --format json``; a change without a finite value (a baseline
        of 0) is null, since JSON has no infinity."""
        d = dict(self.__dict__)
        if d["change"] is not None and not math.isfinite(d["change"]):
            d["change"] = None
        del d["ci_low"], d["ci_high"], d["differences"]
        if "latency" in self.metric:  # the interval of now / baseline
            d["ci_low"] = self.ci_low
            d["ci_high"] = None if self.ci_high is None or not math.isfinite(self.ci_high) \
                else self.ci_high
        if self.differences:
            d["differences"] = [{"what": w, "baseline": b, "value": v}
                                for w, b, v in self.differences]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Diff:
        """A row of an ``attnprof.check/1`` document (one written before intervals and
        differences were recorded too)."""
        known = {k: d[k] for k in ("case", "metric", "baseline", "value", "change", "verdict",
                                   "failed", "ci_low", "ci_high") if k in d}
        return cls(**known, differences=tuple((x["what"], x["baseline"], x["value"])
                                              for x in d.get("differences") or ()))

    @property
    def improved(self) -> bool:
        return self.verdict.startswith(IMPROVED)

    @property
    def changed_case(self) -> bool:
        return self.verdict.startswith(CHANGED)


def load_results(path: str) -> list[Profile]:
    """Profiles of an ``attnprof.results/1`` file, validated against its schema; anything
    else is bad input (exit 2): ``FILE: where: what is wrong``. Linear in the file's size."""
    text = read_user_file(path, "an attnprof JSON results file")
    doc = load_json(text, path)
    wrong = schema_mismatch(doc, RESULTS_SCHEMA)  # another document, or a later version
    if wrong:
        hint = (" (a single profile: write results with compare or run --json)"
                if isinstance(doc, dict) and doc.get("schema") == "attnprof.profile/1" else "")
        raise BadInput(f"{path}: {wrong}{hint}")
    validate(doc, RESULTS_SCHEMA, path)
    profiles = []
    for i, r in enumerate(doc["results"]):
        try:
            profiles.append(Profile.from_dict(r))
        except Exception as exc:  # valid by the schema, yet not a profile attnprof can read
            raise BadInput(f"{path}: results[{i}]: malformed {RESULTS_SCHEMA} profile: "
                           f"{one_line(exc, 240)}") from None
    counts = Counter(p.label for p in profiles)
    dupes = sorted(n for n, c in counts.items() if c > 1)
    if dupes:
        shown = ", ".join(dupes[:5]) + (f" and {len(dupes) - 5} more" if len(dupes) > 5 else "")
        raise BadInput(f"{path}: case names repeat: {shown}")
    return profiles


def check_fraction(what: str, value: Any) -> float:
    """A tolerance: a finite number >= 0 (0.01 is 1 %); else :class:`BadInput`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value < 10:
        raise BadInput(f"{what} must be a finite fraction >= 0 and < 10 (0.01 is 1 %), "
                       f"got {value!r}")
    return float(value)


def _latency_ratios(profiles: list[Profile], relative_to: str | None,
                    path: str) -> dict[str, Any]:
    """Each case's latency (ms), or its ratio to ``relative_to``'s, as an ``Estimate``
    with the interval its stored figures give (unbounded where they give none); None where
    the case was not timed."""
    from attnprof.stats.bootstrap import ratio_from_cis
    from attnprof.stats.uncertainty import Estimate

    def estimate(p: Profile) -> Estimate | None:
        lat = p.latency
        if lat is None or not lat.median_ms or lat.median_ms <= 0:
            return None
        ci = lat.ci
        if not ci.contains(lat.median_ms):  # an edited or inconsistent file: no interval
            return Estimate(lat.median_ms, 0.0, math.inf, 1.0, "no interval")
        return ci

    lat = {p.label: estimate(p) for p in profiles}
    if relative_to is None:
        return lat
    if relative_to not in lat:
        raise BadInput(f"{path}: has no case '{relative_to}' to compare latencies to")
    ref = lat[relative_to]
    return {k: (ratio_from_cis(v, ref) if v is not None and ref is not None else None)
            for k, v in lat.items()}


def _latency_diff(name: str, label: str, b: Any, v: Any, tolerance: float,
                  trusted: bool) -> Diff:
    """Now against the baseline, judged as a latency_vs budget is: slower (a failure) only
    when the whole 95% interval of now / baseline lies above 1 + tolerance, ok when it lies
    at or below, inconclusive (a warning, not a failure) when it straddles. Where a file
    carries no interval (made before attnprof recorded them), the point ratio decides."""
    from attnprof.stats.bootstrap import ratio_from_cis
    from attnprof.stats.verdicts import budget

    change = v.value / b.value - 1
    if not math.isfinite(change):  # figures too far apart to compare: not a pass
        return Diff(name, label, b.value, v.value, None, "cannot compare (out of range)", True)
    limit = 1 + tolerance
    est = ratio_from_cis(v, b)
    if not est.bounded:
        slower = change > tolerance
        return Diff(name, label, b.value, v.value, change,
                    ("slower" if slower else "ok") + " (no interval: point ratio)", slower)
    outcome = budget(est, limit, trusted=trusted)
    verdict = {"pass": "ok", "fail": "slower",
               "inconclusive": "inconclusive (interval straddles the tolerance)"}[outcome]
    return Diff(name, label, b.value, v.value, change, verdict, outcome == "fail",
                ci_low=est.low, ci_high=est.high)


def _value_text(value: Any) -> str:
    if value is _UNSET:
        return "(not set)"
    if isinstance(value, bool):
        return json.dumps(value)  # true, false
    if isinstance(value, (list, tuple)):
        return ",".join(_value_text(x) for x in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_UNSET = object()


def case_changes(base: Profile, cur: Profile) -> list[tuple[str, str, str]]:
    """What makes ``cur`` another case than ``base`` of the same name: the block, each
    option given (applied or not), the input's shape, dtype and memory format, the mode, the
    device and the host network; each as (what, baseline's, now's). Empty when the case is
    the same."""
    out: list[tuple[str, str, str]] = []

    def add(what: str, then: Any, now: Any) -> None:
        if json.dumps(then, sort_keys=True, default=str) != \
                json.dumps(now, sort_keys=True, default=str):
            out.append((what, _value_text(then), _value_text(now)))

    add("block", base.block.name, cur.block.name)
    then = {**base.block.options, **base.block.unused_options}
    now = {**cur.block.options, **cur.block.unused_options}
    for key in dict.fromkeys([*then, *now]):
        add(f"option {key}", then.get(key, _UNSET), now.get(key, _UNSET))
    add("input", base.input.text, cur.input.text)
    add("dtype", base.input.dtype, cur.input.dtype)
    add("memory format", base.input.memory_format, cur.input.memory_format)
    add("mode", base.mode, cur.mode)
    add("device", base.input.device, cur.input.device)
    add("host", base.host.name if base.host else "none", cur.host.name if cur.host else "none")
    return [(w, "(not set)" if b is _UNSET else b, "(not set)" if v is _UNSET else v)
            for w, b, v in out]


def version_changes(base: Profile, cur: Profile) -> list[tuple[str, str, str]]:
    """The versions that made the counts (attnprof's counter, on torch), where they differ."""
    out = []
    for what in ("attnprof", "torch"):
        then, now = getattr(base.environment, what, None), getattr(cur.environment, what, None)
        if then and now and then != now:
            out.append((what, str(then), str(now)))
    return out


def changed_text(differences: Sequence[tuple[str, str, str]]) -> str:
    """``option kernel_size 3 → 9; input 1x64x56x56 → 1x64x28x28``."""
    return "; ".join(f"{what} {then} → {now}" for what, then, now in differences)


def compare_results(results: list[Profile], baseline: list[Profile], *,
                    tolerances: dict[str, float] | None = None,
                    latency_tolerance: float = 0.2, relative_to: str | None = None,
                    exact: bool = False,
                    paths: tuple[str, str] = ("results", "baseline")) -> list[Diff]:
    """One Diff per case and metric. A higher count fails; a lower one is reported as an
    improvement and fails only with ``exact``; latency fails past ``latency_tolerance``."""
    tolerances = {m: check_fraction(f"the tolerance of {m}", t)
                  for m, t in (tolerances or {}).items()}
    latency_tolerance = check_fraction("the latency tolerance", latency_tolerance)
    new = {p.label: p for p in results}
    old = {p.label: p for p in baseline}
    new_lat = _latency_ratios(results, relative_to, paths[0])
    old_lat = _latency_ratios(baseline, relative_to, paths[1])
    out: list[Diff] = []
    for name, base in old.items():
        if name not in new:
            out.append(Diff(name, "case", None, None, None, "missing from results", True))
            continue
        cur = new[name]
        changes = case_changes(base, cur)
        versions = version_changes(base, cur)
        if versions and not changes and any(metric(base, m) != metric(cur, m)
                                            for m in COUNTS):
            changes = versions  # other counters made other counts: not a regression
        if changes:
            out.append(Diff(name, "case", None, None, None,
                            f"{CHANGED}: {changed_text(changes)} (rebaseline)", True,
                            differences=tuple(changes)))
            continue
        for m in COUNTS:
            b, v = metric(base, m), metric(cur, m)
            if b is None or v is None:
                if b != v:
                    out.append(Diff(name, m, b, v, None, "not measured in one", False))
                continue
            change = (v / b - 1) if b else (0.0 if v == b else float("inf"))
            tol = tolerances.get(m, 0.0)
            if v == b:
                verdict, failed = "same", False
            elif abs(change) <= tol:
                verdict, failed = "within tolerance", False
            elif v > b:
                verdict, failed = "higher", True
            else:
                verdict, failed = IMPROVED + (": --exact fails it; update the baseline"
                                              if exact else ""), exact
            out.append(Diff(name, m, b, v, change, verdict, failed))
        b, v = old_lat.get(name), new_lat.get(name)
        if b is not None and v is not None:
            label = "latency" + (f" / {relative_to}" if relative_to else " (ms)")
            trusted = all(x.latency is None or x.latency.trustworthy for x in (base, cur))
            out.append(_latency_diff(name, label, b, v, latency_tolerance, trusted))
    for name in new:
        if name not in old:
            out.append(Diff(name, "case", None, None, None, "new (not in baseline)", False))
    return out


def parse_tolerances(items: list[str]) -> dict[str, float]:
    """``["flops=0.01", "bytes=0.05"]`` -> {"flops": 0.01, "bytes": 0.05}."""
    out: dict[str, float] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in COUNTS:
            raise BadInput(f"--tolerance expects METRIC=FRACTION with METRIC one of "
                           f"{', '.join(COUNTS)}, got {item!r}")
        try:
            value = float(raw)
        except ValueError:
            raise BadInput(f"--tolerance {item!r}: {raw!r} is not a number") from None
        check_fraction(f"--tolerance {key}", value)
        if key in out:
            raise BadInput(f"--tolerance {key} is given twice")
        out[key] = value
    return out


def settings_differ(profile: Profile, plan: Any) -> list[str]:
    """What differs between how a finished ``profile`` was made and the ``plan`` of the same
    case now (``sweep --resume``): block options, mode, device, dtype, memory format, backends,
    latency on or off, the timer's thread count (when one was asked for), compile, CUDA graph,
    host. Each difference as ``what: then -> now``; empty when the settings agree."""
    def norm(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    lat = profile.latency
    host = profile.host.name if profile.host is not None else None
    from attnprof.signature import recorded_options

    # what the profile was given: the options applied and those its **kwargs left unused
    given = {**profile.block.options, **profile.block.unused_options}
    pairs = [
        ("options", norm(given), norm(recorded_options(plan.options))),
        ("mode", profile.mode, plan.mode),
        ("device", profile.input.device, plan.device),
        ("dtype", profile.input.dtype, plan.dtype),
        ("memory format", profile.input.memory_format,
         "channels_last" if plan.channels_last else "contiguous"),
        ("backends", ",".join(sorted(profile.counters)), ",".join(sorted(plan.backends))),
        ("latency", "on" if lat is not None else "off", "on" if plan.latency else "off"),
    ]
    if lat is not None and plan.latency:
        if plan.threads is not None:
            pairs.append(("threads", lat.threads, plan.threads))
        pairs += [("compile", lat.compiled, plan.compile),
                  ("cuda graph", lat.cuda_graph, plan.cuda_graph),
                  ("timer", "adaptive" if "adaptive" in lat.method else "blocked",
                   plan.timer)]
    pairs.append(("host", host, plan.host.name if plan.host is not None else None))
    return [f"{what}: {then} -> {now}" for what, then, now in pairs if then != now]


def check_resume(prior: list[Profile], plans: list[Any], path: str) -> None:
    """Refuse (exit 2) to resume from ``path`` when a case it finished was made with other
    settings than the same case would be now: its rows would mix two experiments."""
    by_name = {p.name: p for p in plans}
    for profile in prior:
        plan = by_name.get(profile.label)
        if plan is None:
            continue
        differ = settings_differ(profile, plan)
        if differ:
            raise BadInput(f"{path}: case '{profile.label}' was made with other settings "
                           f"({'; '.join(differ)}); rerun without --resume, or write the "
                           "new sweep to another file")
