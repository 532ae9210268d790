"""HTML for notebooks: a Profile's tables as Jupyter shows them (``Profile._repr_html_``)."""

from __future__ import annotations

from attnprof.results import Profile


def profile_html(p: Profile) -> str:
    """The ``stat`` tables rendered by rich into inline-styled HTML."""
    import io

    from rich.console import Console

    from attnprof.report.table import profile_renderables

    console = Console(record=True, width=120, file=io.StringIO(), force_terminal=True)
    for part in profile_renderables(p):
        console.print(part)
    return console.export_html(inline_styles=True, code_format="<pre style=\"font-family:"
                               "Menlo,'DejaVu Sans Mono',consolas,monospace\">{code}</pre>")
