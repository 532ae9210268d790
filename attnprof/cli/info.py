"""``list`` and ``show``: what blocks exist and what they take (no torch)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from attnprof.cli.app import app, handled
from attnprof.cli.options import declared
from attnprof.cli.output import out_console


@app.command("list")
@handled
@declared("list")
def list_cmd(
    *,
    format: str,
    source: Annotated[str, typer.Option(
        "--source", metavar="SOURCE", help="attnprof (the registered blocks, plugins "
        "included), timm (timm's attention zoo, as timm:KEY) or all.")] = "attnprof",
) -> None:
    """List the blocks: attnprof's (and plugins'), or timm's attention zoo."""
    from attnprof.registry import REGISTRY
    from attnprof.values import parse_choice

    fmt_ = parse_choice("format", format, ("table", "json"))
    where = parse_choice("source", source, ("attnprof", "timm", "all"))
    specs = REGISTRY.all() if where != "timm" else []
    if where != "attnprof":  # read from timm's source without importing torch or timm
        from attnprof.zoo import block_specs

        specs = [*specs, *block_specs("timm")]
    if fmt_ == "json":
        doc = [{"name": s.name, "aliases": list(s.aliases), "kind": s.kind,
                "summary": s.summary, "paper": s.paper.cite() if s.paper else None,
                "options": {o.name: o.default for o in s.options}, "source": s.source}
               for s in specs]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    t = Table(title=f"{len(specs)} blocks", title_justify="left")
    for col in ("name", "aliases", "kind", "summary", "paper"):
        t.add_column(col, overflow="fold")
    for s in specs:
        t.add_row(s.name, ", ".join(s.aliases), s.kind, s.summary,
                  f"{s.paper.venue} {s.paper.year}" if s.paper else "")
    out_console().print(t)


@app.command()
@handled
def show(block: Annotated[str, typer.Argument(help="Block name or alias.")]) -> None:
    """Show a block: its paper, options (defaults, constraints) and an example command."""
    from attnprof.registry import REGISTRY

    s = REGISTRY.get(block)
    console = out_console()
    head = Text()
    head.append(s.name, style="bold cyan")
    if s.aliases:
        head.append(f"  (aliases: {', '.join(s.aliases)})")
    head.append(f"\n{s.summary}" if s.summary else "")
    head.append(f"\nkind: {s.kind}")
    if s.paper:
        head.append(f"\npaper: {s.paper.cite()}")
        if s.paper.url:
            head.append(f"  {s.paper.url}")
    if s.source not in ("attnprof",):
        head.append(f"\nsource: {s.source}")
    console.print(head)
    if s.signature is not None:
        _signature_options(console, s.signature)
        console.print(Text(f"example: {s.example_command()}", style="green"))
        return
    t = Table(title="options", title_justify="left")
    for col in ("option", "type", "default", "constraints", "help"):
        t.add_column(col, overflow="fold")
    for o in s.options:
        t.add_row(o.name, o.type.__name__, o.default_text(), o.constraints(), o.help)
    if s.options:
        console.print(t)
    else:
        console.print("options: none")
    console.print(Text(f"example: {s.example_command()}", style="green"))




def _signature_options(console, sig) -> None:
    """A user's block's options: its constructor's parameters after the channel count."""
    if sig.params:
        t = Table(title="options (from its signature)", title_justify="left")
        for col in ("option", "annotation", "default", "-o takes"):
            t.add_column(col, overflow="fold")
        for p in sig.params:
            t.add_row(*(Text(x) for x in (p.name, p.annotation or "-", p.default_text(),
                                          p.accepts.words())))
        console.print(t)
    else:
        console.print("options: none (the constructor takes only the channel count)")
    if sig.var_keyword:
        console.print(f"**{sig.var_keyword}: other -o options go there; attnprof reports "
                      "those that change nothing in the built block as not applied")
