"""Each output medium's name and its :class:`~attnprof.report.view.Renderer`: ``table``
(the terminal, rich), ``markdown`` (GitHub) and ``html`` (notebooks), as ``--format``
names the first two. A renderer's module is imported only when its medium is asked for,
so printing tables never loads the Markdown or HTML code."""

from __future__ import annotations

from collections.abc import Callable

from attnprof.report.view import Renderer


def _table() -> Renderer:
    from attnprof.report.rich_render import RichRenderer

    return RichRenderer()


def _markdown() -> Renderer:
    from attnprof.report.markdown import MarkdownRenderer

    return MarkdownRenderer()


def _html() -> Renderer:
    from attnprof.report.html import HtmlRenderer

    return HtmlRenderer()


MEDIA: dict[str, Callable[[], Renderer]] = {"table": _table, "markdown": _markdown,
                                            "html": _html}


def renderer(medium: str) -> Renderer:
    """The renderer of ``medium`` (one of :data:`MEDIA`)."""
    return MEDIA[medium]()
