"""HTML for notebooks: a Profile's views as Jupyter shows them (``Profile._repr_html_``),
laid out by the rich renderer and exported with inline styles."""

from __future__ import annotations

from attnprof.results import Profile


def profile_html(p: Profile) -> str:
    """What ``stat`` prints, as inline-styled HTML."""
    import io

    from rich.console import Console

    from attnprof.report.rich_render import profile_renderables

    console = Console(record=True, width=120, file=io.StringIO(), force_terminal=True,
                      markup=False, emoji=False)
    for part in profile_renderables(p):
        console.print(part)
    return console.export_html(inline_styles=True, code_format="<pre style=\"font-family:"
                               "Menlo,'DejaVu Sans Mono',consolas,monospace\">{code}</pre>")


def network_html(doc: dict) -> str:
    """What ``model`` prints, from its ``attnprof.model/1`` document, as inline-styled HTML
    (``NetworkProfile.to_dict()``)."""
    import io

    from rich.console import Console

    from attnprof.report.network_views import model_views
    from attnprof.report.rich_render import renderables

    console = Console(record=True, width=120, file=io.StringIO(), force_terminal=True)
    for part in renderables(model_views(doc)):
        console.print(part)
    return console.export_html(inline_styles=True, code_format="<pre style=\"font-family:"
                               "Menlo,'DejaVu Sans Mono',consolas,monospace\">{code}</pre>")
