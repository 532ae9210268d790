"""Views as rich renderables: what the terminal shows (and, exported, a notebook).

Lays out ``views`` only: no figure is computed or formatted here. Column widths are chosen
when the console's width is known, so that cells wrap at spaces into as few lines as the
width allows. Nothing is ever cut short with an ellipsis: on a console too narrow even for
the longest words, a word folds onto the next line.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from attnprof.report.view import Heading, TableView, View

TONE_STYLE = {"good": "green", "bad": "bold red", "warn": "yellow"}


def _lines(text: str, width: int) -> int:
    """Lines ``text`` takes in a column ``width`` wide, wrapped at spaces as rich wraps it."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            lines, used = lines + 1, 0
        if len(word) > width:  # folded
            lines += (len(word) - 1) // width
            used = len(word) % width or width
        else:
            used += (1 if used else 0) + len(word)
    return lines


def _widths(view: TableView, max_width: int) -> list[int] | None:
    """Content widths for a console ``max_width`` wide; None where every cell fits whole.

    Each column starts at its longest word; the room left goes, a step at a time, where it
    saves the most wrapped lines per character. Where not even the longest words fit, the
    columns with the longest words give way (and fold)."""
    n = len(view.columns)
    # SIMPLE_HEAD: an edge each side, a divider between columns, one space right of each
    room = max(max_width - (2 + (n - 1) + n), n)
    texts = [[col.name, *[row[i] for row in view.rows]] for i, col in enumerate(view.columns)]
    longest = [max(len(t) for t in col) for col in texts]
    if sum(longest) <= room:
        return None
    widths = [max((len(w) for t in col for w in t.split()), default=1) or 1 for col in texts]
    while sum(widths) > room:
        widths[widths.index(max(widths))] -= 1
    spare = room - sum(widths)
    while spare > 0:
        best: tuple[float, int, int] | None = None
        for i, col in enumerate(texts):
            now = sum(_lines(t, widths[i]) for t in col)
            for step in range(1, min(spare, longest[i] - widths[i]) + 1):
                saved = now - sum(_lines(t, widths[i] + step) for t in col)
                if saved > 0:
                    if best is None or saved / step > best[0]:
                        best = (saved / step, i, step)
                    break
        if best is None:
            break
        widths[best[1]] += best[2]
        spare -= best[2]
    return widths


def _rich_table(view: TableView, widths: list[int] | None) -> Table:
    # every string goes in as Text: a "[...]" or ":name:" in a name is shown, never parsed
    t = Table(title=Text(view.title), box=box.SIMPLE_HEAD, title_justify="left",
              padding=(0, 1, 0, 0))
    for i, col in enumerate(view.columns):
        t.add_column(Text(col.name), justify=col.align, overflow="fold",
                     width=widths[i] if widths else None)
    for i, row in enumerate(view.rows):
        tone = view.tones[i] if view.tones else None
        t.add_row(*[Text(cell, style=TONE_STYLE[tone] if tone and j == view.toned else "")
                    for j, cell in enumerate(row)])
    return t


class FittedTable:
    """A table view laid out for the console it is printed on."""

    def __init__(self, view: TableView) -> None:
        self.view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield _rich_table(self.view, _widths(self.view, options.max_width))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, _rich_table(self.view, None))


def table(view: TableView) -> RenderableType:
    """The table, followed by its notes (dim) when it has any."""
    if not view.notes:
        return FittedTable(view)
    return Group(FittedTable(view), *[Text(note, style="dim") for note in view.notes])


def heading(view: Heading) -> Text:
    t = Text(view.title, style="bold cyan")
    for line in view.lines:
        t.append("\n" + line)
    return t


def renderable(view: View) -> RenderableType:
    return heading(view) if isinstance(view, Heading) else table(view)


class RichRenderer:
    """The :class:`~attnprof.report.view.Renderer` for the terminal: views as one rich
    renderable (``console.print(RichRenderer().render(views))``), each view on its own
    lines, as :mod:`attnprof.report.html` also exports it for notebooks."""

    def render(self, views: Iterable[View]) -> Group:
        return Group(*[renderable(view) for view in views])
