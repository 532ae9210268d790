"""Views as HTML for notebooks (the full report a Profile or a network shows in Jupyter):
laid out by the rich renderer and exported with inline styles."""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console

from attnprof.report.rich_render import RichRenderer
from attnprof.report.view import View


class HtmlRenderer:
    """The :class:`~attnprof.report.view.Renderer` for notebooks: the terminal's layout of
    ``views`` at ``width`` columns, as inline-styled HTML."""

    def __init__(self, width: int = 120) -> None:
        self.width = width

    def render(self, views: Iterable[View]) -> str:
        console = Console(record=True, width=self.width, file=io.StringIO(),
                          force_terminal=True, markup=False, emoji=False)
        console.print(RichRenderer().render(views))
        return console.export_html(inline_styles=True, code_format="<pre style=\"font-family:"
                                   "Menlo,'DejaVu Sans Mono',consolas,monospace\">{code}</pre>")
