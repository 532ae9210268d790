"""The renderers' seam (issue 22): one :class:`~attnprof.report.view.Renderer` per medium,
each laying out the same views; a new medium is one class. Torch-free."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from attnprof.report.block_views import profile_views
from attnprof.report.comparison_views import compare_views
from attnprof.report.html import HtmlRenderer
from attnprof.report.markdown import MarkdownRenderer
from attnprof.report.media import MEDIA, renderer
from attnprof.report.rich_render import RichRenderer
from attnprof.report.view import Heading, Renderer, View
from attnprof.results import Profile

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_profiles(name: str) -> list[Profile]:
    doc = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return [Profile.from_dict(d) for d in doc.get("results", [doc])]


class PlainRenderer:
    """A medium the package does not have: plain text, a line per title, row and note."""

    def render(self, views: Iterable[View]) -> str:
        lines: list[str] = []
        for v in views:
            if isinstance(v, Heading):
                lines += [v.title, *v.lines]
            else:
                lines += [v.title, "  ".join(c.name for c in v.columns),
                          *("  ".join(row) for row in v.rows), *v.notes]
        return "\n".join(lines) + "\n"


def words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text))


def test_every_medium_has_a_renderer_that_satisfies_the_protocol():
    assert set(MEDIA) == {"table", "markdown", "html"}
    kinds = {name: type(renderer(name)) for name in MEDIA}
    assert kinds == {"table": RichRenderer, "markdown": MarkdownRenderer, "html": HtmlRenderer}
    for name in MEDIA:
        assert isinstance(renderer(name), Renderer), name
    # the check can fail: a class without render() is no renderer
    assert not isinstance(object(), Renderer)


@pytest.mark.parametrize("name", ["stat_se_layers_ops", "stat_failed_backend"])
def test_a_new_medium_is_one_class_with_the_same_facts(name):
    """A test-local plain-text renderer satisfies the protocol and, over the same views,
    carries every word and number the Markdown carries, as often (Markdown adds only
    layout: pipes, rules, marks)."""
    plain = PlainRenderer()
    assert isinstance(plain, Renderer)
    views = profile_views(fixture_profiles(name)[0], layers=True, ops=True)
    text, markdown = plain.render(views), renderer("markdown").render(views)
    assert words(text) == words(markdown), {"only in plain": words(text) - words(markdown),
                                            "only in markdown": words(markdown) - words(text)}
    assert "33,044" in text or name != "stat_se_layers_ops"  # a figure as the views wrote it


def test_renderers_lay_out_views_in_order():
    """Each medium keeps the views' order: the compare table first, then each profile's
    name before its own detail tables."""
    ps = fixture_profiles("compare_se_eca_cbam")
    views = compare_views(ps, "se", layers=True)
    titles = [v.title for v in views]
    console = Console(width=400, file=StringIO(), color_system=None)
    console.print(renderer("table").render(views))
    wide_html = HtmlRenderer(width=400).render(views)  # no title wraps
    for name, out in (("table", console.file.getvalue()),
                      ("markdown", renderer("markdown").render(views)),
                      ("html", unescape(re.sub(r"<[^>]+>", "", wide_html)))):
        at = 0
        for t in titles:  # each title after the one before it
            at = out.find(t, at)
            assert at >= 0, (name, t)
            at += len(t)
