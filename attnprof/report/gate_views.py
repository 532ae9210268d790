"""What ``run`` and ``check`` show: each budget's outcome, and a results file held against a
baseline (each figure's change, said exactly, a changed case as its own verdict, and the
one-line outcome a CI log ends with). Views as :mod:`attnprof.report.view` defines them;
torch-free and rich-free."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from attnprof.report import fmt
from attnprof.report.view import TableView, _cols, _table, ratio_text

if TYPE_CHECKING:  # only their fields are read; importing them here would pull in more
    from attnprof.check import Diff
    from attnprof.suite import BudgetResult


def _budget_value(v: float | None, what: str) -> str:
    if v is None:
        return "-"
    if what.startswith("latency /"):
        return f"{v:.3f}x"
    if "latency" in what:
        return fmt.ms(v)
    if "bytes" in what:
        return fmt.nbytes(int(v))
    return fmt.count(int(v)) if float(v).is_integer() else f"{v:.4g}"


def budget_view(results: list[BudgetResult]) -> TableView:
    """Each budget's value and outcome; a latency ratio with its 95% interval. An
    inconclusive budget (the interval straddles the limit) is said plainly."""
    failed = sum(r.outcome == "fail" for r in results)
    unsure = sum(r.outcome == "inconclusive" for r in results)
    title = f"Budgets: {len(results) - failed - unsure} passed, {failed} failed"
    if unsure:
        title += f", {unsure} inconclusive"

    def value(r: BudgetResult) -> str:
        text = _budget_value(r.value, r.what)
        if r.ci_low is not None and r.ci_high is not None:
            text += f" [{r.ci_low:.3f}, {r.ci_high:.3f}]"
        return text

    label = {"pass": "pass", "fail": "FAIL", "inconclusive": "INCONCLUSIVE"}
    notes = ([f"{unsure} latency budget(s) inconclusive: the ratio's 95% interval straddles "
              "the limit (or the times were noisy); not a failure unless --strict"]
             if unsure else [])
    return _table(title, _cols("case", "budget", "value>", "result"),
                  [[r.case, r.what, value(r), label.get(r.outcome, r.outcome)]
                   for r in results], notes,
                  tones=["good" if r.outcome == "pass" else "bad" for r in results], toned=3)


def diff_change(d: Diff) -> str:
    """How a figure changed, said exactly: a count's difference as an integer beside its
    percentage (a change too small for two decimals is "<0.01%", never "+0.00%"); a
    latency's ratio now / baseline with the 95% interval that belongs to it."""
    if d.baseline is None or d.value is None:
        return "-"
    if "latency" in d.metric:
        if d.change is None:
            return "-"
        ratio = d.change + 1
        if d.ci_low is None or d.ci_high is None or not math.isfinite(d.ci_high):
            return f"{ratio_text(ratio)}x"
        lo, hi = ratio_text(d.ci_low, d.ci_low, d.ci_high), \
            ratio_text(d.ci_high, d.ci_low, d.ci_high)
        return f"{ratio_text(ratio, d.ci_low, d.ci_high)}x (95% CI {lo}x to {hi}x)"
    diff = int(d.value) - int(d.baseline)
    if diff == 0:
        return "0"
    if d.change is None or not math.isfinite(d.change):
        return f"{diff:+,}"
    pct = 100 * d.change
    pct_text = f"{pct:+.2f}%" if abs(pct) >= 0.005 else ("<+0.01%" if pct > 0 else ">-0.01%")
    return f"{diff:+,} ({pct_text})"


def _diff_row(d: Diff) -> list[str]:
    def v(x: float | None) -> str:
        if x is None:
            return "-"
        if "latency" in d.metric:
            return (ratio_text(x) + "x") if "/" in d.metric else fmt.ms(x)
        return fmt.count(int(x))

    return [d.case, d.metric, v(d.baseline), v(d.value), diff_change(d), d.verdict]


def check_counts(diffs: Sequence[Diff]) -> dict[str, int]:
    """How many rows are regressions (failed, neither an improvement under --exact nor a
    changed case), improvements, changed cases, and failed in all."""
    return {"regressions": sum(d.failed and not d.improved and not d.changed_case
                               for d in diffs),
            "improvements": sum(d.improved for d in diffs),
            "changed": sum(d.changed_case for d in diffs),
            "failed": sum(d.failed for d in diffs)}


def check_headline(diffs: Sequence[Diff]) -> str:
    """``2 regression(s), 1 improvement(s), 1 case(s) changed``."""
    n = check_counts(diffs)
    parts = [f"{n['regressions']} regression(s)", f"{n['improvements']} improvement(s)"]
    if n["changed"]:
        parts.append(f"{n['changed']} case(s) changed")
    return ", ".join(parts)


def diff_line(d: Diff) -> str:
    """One row as a line of a CI log: ``eca flops higher: +1,000 (+3.03%)``."""
    change = diff_change(d)
    head = f"{d.case} {d.metric} {d.verdict}" if d.metric != "case" else f"{d.case} {d.verdict}"
    return head + (f": {change}" if change != "-" else "")


def check_summary(diffs: Sequence[Diff], limit: int = 12) -> str:
    """The outcome in one line, every failed row first, then the improvements that pass; at
    most ``limit`` rows named, then how many more there are."""
    failed = [d for d in diffs if d.failed]
    better = [d for d in diffs if d.improved and not d.failed]
    named = [*failed, *better]
    text = check_headline(diffs)
    if named:
        text += ": " + "; ".join(diff_line(d) for d in named[:limit])
        if len(named) > limit:
            text += f"; and {len(named) - limit} more (each in the table above)"
    return text


def check_view(diffs: list[Diff], show_same: bool = True) -> TableView:
    """Each figure against the baseline; without ``show_same`` the unchanged ones are
    counted in a note instead of listed."""
    shown = [d for d in diffs if show_same or d.verdict != "same"]
    hidden = len(diffs) - len(shown)
    notes = [f"{hidden} unchanged figure(s) not listed (--all lists them)"] if hidden else []
    if any(d.changed_case for d in diffs):
        notes.append("a changed case (other block, options, input, dtype, mode, device or "
                     "host; or counts made by other versions) is not compared figure by "
                     "figure: make a new baseline for it")
    if any("latency" in d.metric and d.ci_low is not None for d in shown):
        notes.append("latency: change is now / baseline, with its 95% interval")
    return _table(f"Check against the baseline: {check_headline(diffs)}",
                  _cols("case", "metric", "baseline>", "now>", "change>", "verdict"),
                  [_diff_row(d) for d in shown], notes,
                  ["bad" if d.failed else "good" for d in shown], toned=5)
