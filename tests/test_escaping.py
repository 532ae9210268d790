"""Strings from outside (block and case names, options, paths, summaries, install hints) are
shown as they are by every table: rich never reads them as markup or emoji codes
(issue 21: ``pip install 'attnprof[zoo]'`` lost its ``[zoo]``). Torch-free renderers, and the
commands that build tables of their own (list, show, env)."""

from __future__ import annotations

import json
from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from attnprof.check import Diff
from attnprof.report import gate_views as gv
from attnprof.report import markdown as md
from attnprof.report import rich_render as rr
from attnprof.report.block_views import profile_views
from attnprof.report.comparison_views import compare_views, sweep_views
from attnprof.report.view import View
from attnprof.results import Profile
from attnprof.suite import BudgetResult

FIXTURES = Path(__file__).parent / "fixtures"
MARKUP = "[bold]x[/bold]"
HINT = "pip install 'attnprof[zoo]'"
EMOJI = ":thumbs_up:"


def _profiles(name: str) -> list[Profile]:
    doc = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    rows = doc["results"] if isinstance(doc.get("results"), list) else [doc]
    return [Profile.from_dict(r) for r in rows]


def _outside(p: Profile, i: int = 0) -> Profile:
    """The profile with a name, block name and option values no one at attnprof chose."""
    block = replace(p.block, name=f"{MARKUP}{i}", options={"hint": HINT, "e": EMOJI})
    return replace(p, name=f"{HINT} {MARKUP} #{i}", block=block)


def every_view() -> list[View]:
    stat = _outside(_profiles("stat_se_layers_ops")[0])
    host = _outside(_profiles("stat_se_in_resnet18")[0])
    many = [_outside(p, i) for i, p in enumerate(_profiles("compare_se_eca_cbam"))]
    hosted = [_outside(p, i) for i, p in enumerate(_profiles("compare_in_resnet18"))]
    fits = [{"block": MARKUP, "axis": HINT, "flops": 1.0, "fits": None}]
    budgets = [BudgetResult(case=HINT, what=f"flops <= 1 {MARKUP}", value=2.0, limit=1.0,
                            passed=False)]
    diffs = [Diff(HINT, "flops", 1, 2, 1.0, "higher", True),
             Diff(MARKUP, "case", None, None, None, f"case changed: option e {EMOJI} → 1",
                  True, differences=(("option e", EMOJI, "1"),))]
    return [*profile_views(stat, layers=True, ops=True), *profile_views(host),
            *compare_views(many, many[0].label, layers=True, ops=True),
            *compare_views(hosted), *sweep_views(many, fits), gv.budget_view(budgets),
            gv.check_view(diffs)]


def test_every_table_shows_outside_strings_as_they_are():
    # a console as a user's (markup and emoji on): the views must not depend on it being off
    console = Console(width=400, file=StringIO(), color_system=None)
    console.print(rr.RichRenderer().render(every_view()))
    text = console.file.getvalue()
    for needle in (MARKUP, HINT, EMOJI, f"{HINT} {MARKUP} #2"):
        assert needle in text, needle
    assert "👍" not in text
    markdown = md.MarkdownRenderer().render(every_view())
    for needle in (MARKUP, HINT, EMOJI):
        assert needle in markdown, needle


def test_list_without_timm_shows_the_install_hint_whole(cli, monkeypatch):
    """timm's keys without timm: each summary ends with the extra to install, brackets and
    all."""
    from attnprof.zoo import timm_source

    monkeypatch.setattr(timm_source, "timm_root", lambda: None)
    r = cli("list", "--source", "timm", env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    assert HINT in r.stdout, r.stdout


@pytest.mark.parametrize("command", [["list"], ["show", "se"], ["env"]])
def test_commands_with_their_own_tables_read_no_markup(cli, monkeypatch, command):
    import attnprof.env as env_mod
    from attnprof.registry import REGISTRY

    real = env_mod.environment
    monkeypatch.setattr(env_mod, "environment",
                        lambda *a, **k: {**real(*a, **k), "cpu": f"{MARKUP} {HINT}"})
    monkeypatch.setattr(REGISTRY, "get", _patched(REGISTRY.get))
    monkeypatch.setattr(REGISTRY, "all", lambda _all=REGISTRY.all: [
        replace(s, summary=f"{MARKUP} {HINT}") for s in _all()])
    r = cli(*command, env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    assert MARKUP in r.stdout and HINT in r.stdout, r.stdout


def _patched(get):
    return lambda name: replace(get(name), summary=f"{MARKUP} {HINT}")
