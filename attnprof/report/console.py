"""Drawing the CLI's rich tables outside the CLI: printed to a file, or as plain text."""

from __future__ import annotations

import io
import sys
from typing import Any


def print_tables(draw: Any, file: Any = None, width: int | None = None) -> None:
    """Print what ``draw(console)`` draws (the CLI's rich tables) to ``file`` (stdout)."""
    from rich.console import Console

    draw(Console(file=file if file is not None else sys.stdout, width=width,
                 highlight=False, soft_wrap=False))


def text_of(draw: Any, width: int = 160) -> str:
    """What ``draw(console)`` draws, as plain text (no colours)."""
    from rich.console import Console

    buf = io.StringIO()
    draw(Console(file=buf, width=width, force_terminal=False, color_system=None,
                 highlight=False, soft_wrap=False))
    return buf.getvalue()
