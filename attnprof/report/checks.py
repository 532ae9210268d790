"""Budgets and baseline checks as tables and Markdown, and GitHub's step summary."""

from __future__ import annotations

import os

from rich import box
from rich.table import Table
from rich.text import Text

from attnprof.check import Diff
from attnprof.report import fmt
from attnprof.report.markdown import md_table
from attnprof.suite import BudgetResult


def _value(v: float | None, what: str) -> str:
    if v is None:
        return "-"
    if what.startswith("latency /"):
        return f"{v:.3f}x"
    if "latency" in what:
        return fmt.ms(v)
    if "bytes" in what:
        return fmt.nbytes(int(v))
    return fmt.count(int(v)) if float(v).is_integer() else f"{v:.4g}"


def budget_rows(results: list[BudgetResult]) -> list[list[str]]:
    return [[r.case, r.what, _value(r.value, r.what), "pass" if r.passed else "FAIL"]
            for r in results]


def budget_table(results: list[BudgetResult]) -> Table:
    failed = sum(not r.passed for r in results)
    t = Table(title=f"Budgets: {len(results) - failed} passed, {failed} failed",
              box=box.SIMPLE_HEAD, title_justify="left")
    for col in ("case", "budget", "value", "result"):
        t.add_column(col, justify="right" if col == "value" else "left", no_wrap=True)
    for row in budget_rows(results):
        style = "green" if row[3] == "pass" else "bold red"
        t.add_row(*row[:3], Text(row[3], style=style))
    return t


def budget_markdown(results: list[BudgetResult]) -> str:
    failed = sum(not r.passed for r in results)
    head = f"**Budgets: {len(results) - failed} passed, {failed} failed**"
    rows = [[*r[:3], "✅ pass" if r[3] == "pass" else "❌ FAIL"] for r in budget_rows(results)]
    return head + "\n\n" + "\n".join(md_table(["case", "budget", "value", "result"], rows, {2}))


def _diff_row(d: Diff) -> list[str]:
    def v(x: float | None) -> str:
        if x is None:
            return "-"
        if "latency" in d.metric:
            return f"{x:.3f}" + ("x" if "/" in d.metric else " ms")
        return fmt.count(int(x))

    change = "-" if d.change is None else f"{100 * d.change:+.2f}%"
    return [d.case, d.metric, v(d.baseline), v(d.value), change, d.verdict]


def diff_table(diffs: list[Diff], show_same: bool = False) -> Table:
    failed = sum(d.failed for d in diffs)
    t = Table(title=f"Check against the baseline: {failed} regression(s)", box=box.SIMPLE_HEAD,
              title_justify="left")
    for col in ("case", "metric", "baseline", "now", "change", "verdict"):
        t.add_column(col, justify="right" if col in ("baseline", "now", "change") else "left",
                     no_wrap=True)
    for d in diffs:
        if d.verdict == "same" and not show_same:
            continue
        t.add_row(*_diff_row(d)[:5], Text(d.verdict, style="bold red" if d.failed else "green"))
    return t


def diff_markdown(diffs: list[Diff]) -> str:
    failed = sum(d.failed for d in diffs)
    rows = [[*_diff_row(d)[:5], ("❌ " if d.failed else "") + d.verdict] for d in diffs]
    return (f"**Check against the baseline: {failed} regression(s)**\n\n"
            + "\n".join(md_table(["case", "metric", "baseline", "now", "change", "verdict"],
                                 rows, {2, 3, 4})) + "\n")


def append_step_summary(markdown: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY when it is set (GitHub Actions); returns the path."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    with open(path, "a", encoding="utf-8") as f:
        f.write(markdown.rstrip("\n") + "\n\n")
    return path
