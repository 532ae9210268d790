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

from attnprof.report import gate_views as gv
from attnprof.report.block_views import layers_view, ops_view, profile_views
from attnprof.report.comparison_views import compare_views, sweep_views
from attnprof.report.view import Heading, TableView, View
from attnprof.results import Profile

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


def renderables(views: Iterable[View]) -> list[RenderableType]:
    return [renderable(view) for view in views]


def print_views(console: Console, views: Iterable[View]) -> None:
    for part in renderables(views):
        console.print(part)


# -- what the commands print ---------------------------------------------------------------------

def profile_renderables(p: Profile, *, layers: bool = False, ops: bool = False) -> list:
    """What ``stat`` prints for one profile (also a Profile's display in a rich console or a
    notebook)."""
    return renderables(profile_views(p, layers=layers, ops=ops))


def render(p: Profile, console: Console, *, layers: bool = False, ops: bool = False) -> None:
    print_views(console, profile_views(p, layers=layers, ops=ops))


def compare_table(profiles: list[Profile], baseline: str | None = None, *,
                  layers: bool = False, ops: bool = False) -> Group:
    """What ``compare`` prints: the side-by-side table, what each block adds to its host,
    and on request each block's per-layer and per-op tables."""
    return Group(*renderables(compare_views(profiles, baseline, layers=layers, ops=ops)))


def sweep_table(profiles: list[Profile], fits: list[dict]) -> Group:
    return Group(*renderables(sweep_views(profiles, fits)))


def layers_table(p: Profile) -> RenderableType:
    return table(layers_view(p))


def ops_table(p: Profile) -> RenderableType:
    return table(ops_view(p))


def budget_table(results: list) -> RenderableType:
    return table(gv.budget_view(results))


def diff_table(diffs: list, show_same: bool = False) -> RenderableType:
    return table(gv.check_view(diffs, show_same))
