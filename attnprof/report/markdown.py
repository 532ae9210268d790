"""Views as GitHub Markdown: what ``--format markdown`` prints, ``--markdown PATH`` writes and
CI step summaries embed.

Lays out ``views`` only: no figure is computed or formatted here. A table is followed by its
title as an italic caption (so a file of one table starts with the table) and its notes as
a list; a heading is a level-3 heading and its lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from attnprof.report.view import Heading, TableView, View

TONE_MARK = {"good": "✅ ", "bad": "❌ ", "warn": "⚠️ "}


def md_table(head: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    """A GitHub table's lines; columns in ``right`` are right-aligned."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    align = ["---:" if i in right else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return lines


def table(view: TableView) -> str:
    rows = []
    for i, row in enumerate(view.rows):
        tone = view.tones[i] if view.tones else None
        rows.append([TONE_MARK[tone] + c if tone and j == view.toned else c
                     for j, c in enumerate(row)])
    right = {i for i, col in enumerate(view.columns) if col.align == "right"}
    lines = md_table([c.name for c in view.columns], rows, right)
    lines += ["", "*" + view.title.replace("*", "\\*") + "*"]
    if view.notes:
        lines += ["", *[f"- {note}" for note in view.notes]]
    return "\n".join(lines)


def heading(view: Heading) -> str:
    return "\n\n".join([f"### {view.title}", *view.lines])


class MarkdownRenderer:
    """The :class:`~attnprof.report.view.Renderer` for GitHub: views as Markdown text."""

    def render(self, views: Iterable[View]) -> str:
        parts = [heading(x) if isinstance(x, Heading) else table(x) for x in views]
        return "\n\n".join(parts) + "\n"


def append_step_summary(markdown: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY when it is set (GitHub Actions); returns the path."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return None
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:  # the result stands; the job summary is a side output
        import warnings

        warnings.warn(f"cannot append to $GITHUB_STEP_SUMMARY ({path}): "
                      f"{exc.strerror or exc}", stacklevel=2)
        return None
    return path
