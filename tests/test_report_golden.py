"""Golden outputs of the report renderers, from fixed result documents; torch-free.

The fixtures in ``tests/fixtures/`` are JSON documents written once by real runs (on a shared
2-core CPU machine, after ``ATTNPROF_CACHE_DIR=... attnprof calibrate --threads 2`` so that
the profiles carry a roofline):

- ``stat_se_layers_ops.json``: ``attnprof stat se -c 16 -s 32 --layers --ops --threads 2
  --budget 0.1 --format json`` (every backend, latency, roofline with the last-level cache,
  per-op profiler times, each module's output shape)
- ``stat_se_in_resnet18.json``: ``attnprof stat se --host resnet18 -s 64
  --backends attnprof,torch --threads 1 --budget 0.3 --format json`` (a host delta, timed)
- ``stat_failed_backend.json``: ``attnprof stat oddblocks:SplitGate -c 16 -s 16
  --no-latency --format json``, a user block with a leaf module that returns a tuple, which
  torchstat fails on (a failed backend row, no latency)
- ``stat_data_dependent.json``: ``attnprof stat oddblocks:DataGate -c 16 -s 16 --no-latency
  --format json``, a user block that gates only when ``x.mean() > 0``: counted on a real
  input, a count that depends on it (a warning note), torchstat not compared
- ``compare_se_eca_cbam.json``: ``attnprof compare se eca cbam -c 32 -s 16 --baseline se
  --threads 2 --budget 0.2 --rounds 3 --format json`` (its ``comparison`` is the JSON that
  ``comparison()`` must keep producing)
- ``compare_in_resnet18.json``: ``attnprof compare se eca --host resnet18 -s 32
  --backends attnprof --threads 1 --budget 0.2 --rounds 3 --format json``
- ``sweep_se_eca_sizes.json``: ``attnprof sweep se eca -c 16 -s 8,16,32
  --backends attnprof --threads 2 --budget 0.05 -f json`` (with its ``scaling`` fits)
- ``run_budgets.json``: ``attnprof run budgets.toml --json ...`` for a suite of se (ratio 8)
  and eca at 32 channels, 16x16, attnprof's counter only, with three passing budgets and a
  failing one
- ``model_se_in_resnet18.json``: ``attnprof model resnet18 --block se -s 64 --budget 0.5
  --time-cap 5 --threads 1 --format json`` (the attention modules of a whole network: the
  network timed, the attention's own time by hooks and the saving by removal)
- ``check_diffs.json``: ``attnprof check worse.json --baseline base.json
  --latency-tolerance 0.5 -f json``, where base.json is run_budgets.json's results and
  worse.json the same with eca's FLOPs +1000 and se's latency x3 (its interval with it)
- ``check_changed.json``: ``attnprof check changed.json --baseline base.json -f json``, where
  changed.json is base.json with se's ratio 8 -> 16 (a changed case), eca's transcendentals
  -1 (an improvement) and its bytes read +1 (a change too small for two decimals)

Each case is read back (``Profile.from_dict``, the budget and diff records) and rendered by
every renderer: rich on ``Console(width=120, file=StringIO(), color_system=None)`` (the
width of piped output), Markdown
and CSV. The text must equal ``tests/golden/<case>.<txt|md|csv>``. After an intended change
to what a report shows, regenerate the golden files and read the diff before committing:

    ATTNPROF_UPDATE_GOLDEN=1 python -m pytest -q -p no:cacheprovider tests/test_report_golden.py
    git diff tests/golden
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from attnprof.check import Diff
from attnprof.report import fmt
from attnprof.report import gate_views as gv
from attnprof.report import markdown as md
from attnprof.report import rich_render as rr
from attnprof.report.block_views import profile_views
from attnprof.report.comparison_views import compare_view, compare_views, comparison, sweep_views
from attnprof.report.csv import profiles_csv
from attnprof.report.network_views import model_views
from attnprof.report.view import TableView, View
from attnprof.results import Profile
from attnprof.suite import BudgetResult

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("ATTNPROF_UPDATE_GOLDEN") == "1"

STAT = ["stat_se_layers_ops", "stat_se_in_resnet18", "stat_failed_backend",
        "stat_data_dependent"]
COMPARE = ["compare_se_eca_cbam", "compare_in_resnet18"]
SWEEP = "sweep_se_eca_sizes"
MODEL = "model_se_in_resnet18"
CASES = [*STAT, *COMPARE, SWEEP, "run_budgets", "check_diffs", "check_changed", MODEL]

# the CSV's columns as users parse them: a change here is a change to the contract
CSV_HEADER = ("name,block,options,batch,channels,height,width,dtype,device,mode,params,macs,"
              "flops,transcendentals,bytes,peak_bytes,latency_ms,latency_iqr_ms,bytes_read,"
              "bytes_written,torchstat_macs,torchinfo_macs,fvcore_macs,torch_macs,attnprof_macs")


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def profiles(name: str) -> list[Profile]:
    doc = load(name)
    return [Profile.from_dict(r) for r in doc["results"]] if "results" in doc and \
        isinstance(doc["results"], list) else [Profile.from_dict(doc)]


def budgets(name: str) -> list[BudgetResult]:
    return [BudgetResult(case=b["case"], what=b["budget"], value=b["value"], limit=b["limit"],
                         passed=b["passed"]) for b in load(name)["budgets"]]


def diffs(name: str) -> list[Diff]:
    return [Diff.from_dict(d) for d in load(name)["diffs"]]


def views_of(name: str, *, everything: bool = False) -> list[View]:
    """What the command that made the fixture shows (``everything``: a check's unchanged
    rows too, as its Markdown lists them)."""
    if name in STAT:
        detail = name == "stat_se_layers_ops"
        return profile_views(profiles(name)[0], layers=detail, ops=detail)
    if name in COMPARE:
        return compare_views(profiles(name), (load(name).get("comparison") or {})
                               .get("baseline"))
    if name == SWEEP:
        return sweep_views(profiles(name), load(name)["scaling"])
    if name == "run_budgets":
        return [compare_view(profiles(name)), gv.budget_view(budgets(name))]
    if name == MODEL:
        return model_views(load(name))
    return [gv.check_view(diffs(name), show_same=everything)]


def rich_text(views: list[View], width: int = 120) -> str:
    console = Console(width=width, file=StringIO(), color_system=None)
    console.print(rr.RichRenderer().render(views))
    return console.file.getvalue()


def markdown_text(views: list[View]) -> str:
    return md.MarkdownRenderer().render(views)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with ATTNPROF_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file; if the change is intended, regenerate with "
        "ATTNPROF_UPDATE_GOLDEN=1 and review `git diff tests/golden`")


# -- golden files -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_rich_golden(name):
    text = rich_text(views_of(name))
    assert "…" not in text, "a cell was cut short"
    assert max(len(line) for line in text.splitlines()) <= 120
    check_golden(f"{name}.txt", text)


@pytest.mark.parametrize("name", CASES)
def test_markdown_golden(name):
    check_golden(f"{name}.md", markdown_text(views_of(name, everything=True)))


@pytest.mark.parametrize("name", [*COMPARE, SWEEP, "run_budgets"])
def test_csv_golden(name):
    text = profiles_csv(profiles(name))
    assert text.splitlines()[0] == CSV_HEADER
    assert len(text.splitlines()) == 1 + len(profiles(name))
    check_golden(f"{name}.csv", text)


def test_entry_points_render_the_same_views():
    """What the library and the notebook print lays out exactly these views."""
    from attnprof.report.media import renderer

    p = profiles("stat_se_layers_ops")[0]
    assert p.report(layers=True, ops=True, width=120) == rich_text(views_of("stat_se_layers_ops"))
    html = renderer("html").render(profile_views(p))  # the full report as HTML
    assert "What each counter reports" in html and "33,044" in html
    brief = p._repr_html_()  # the notebook display: headline and counters (pandas)
    assert repr(p)[1:-1].split(":")[0] in brief and "33044" in brief


# -- the same facts in every format ---------------------------------------------------------------

def words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", text))


@pytest.mark.parametrize("name", CASES)
def test_rich_and_markdown_carry_the_same_words(name):
    """Every word and number of one format is in the other, as often: on a console wide
    enough that nothing wraps, rich shows exactly the cells, titles and notes that the
    Markdown shows (the two differ only in layout: rules, pipes, marks)."""
    views = views_of(name, everything=True)
    wide, markdown = words(rich_text(views, width=400)), words(markdown_text(views))
    assert wide == markdown, {"only in rich": wide - markdown, "only in markdown": markdown - wide}


def same_digits(lat):
    """The precision rule, written out: the median with the decimals its 95% interval
    supports (attnprof.units.format_ms), and every other time of the same
    measurement in the same unit with the same decimals."""
    from attnprof.units import format_ms

    number, unit = format_ms(lat.median_ms, lat.ci_low_ms, lat.ci_high_ms).split(" ")
    decimals = len(number.partition(".")[2])
    scale = 1e3 if unit == "µs" else 1

    return lambda ms: f"{ms * scale:.{decimals}f} {unit}"


def facts(p: Profile) -> list[str]:
    """Figures of a profile, formatted here from the Profile itself (not from the views), that
    every format must show; among them the ones the Markdown used to leave out: the host
    table, the counter notes, the latency details (spread, interval, warnings), the
    roofline and the per-op times."""
    out = [p.block.name, p.input.text, fmt.count(p.params), fmt.count(p.parameters.trainable)]
    for name, c in p.counters.items():
        out += [name, c.input] if c.input else [name]
        if c.not_compared:
            out.append("not compared")
        if c.ok:
            out += [fmt.count(c.reported), fmt.count(c.macs), fmt.count(c.flops)]
        else:
            out += [c.status, c.error]
        out += list(c.notes)
    m = p.memory
    out += [fmt.nbytes(m.peak_bytes), fmt.nbytes(m.activations_bytes)]
    if m.peak_method:
        out.append(m.peak_method)
    if p.latency is not None:
        lat = p.latency
        t = same_digits(lat)
        out += [t(x) for x in (lat.median_ms, lat.iqr_ms, lat.min_ms, lat.mean_ms,
                               lat.p90_ms)]
        out += [f"{lat.samples} samples x {lat.runs_per_sample} runs", lat.method,
                f"{fmt.sig3(lat.images_per_s)} img/s", *lat.warnings]
        if lat.ci_low_ms is not None:
            out += [t(lat.ci_high_ms), t(lat.ci_low_ms).split(" ")[0]]
    if p.roofline is not None:
        r = p.roofline
        out += [fmt.ms(r.floor_ms), f"{r.achieved_gbs:.2f} GB/s", f"{r.peak_gflops:.1f} GFLOP/s",
                f"{r.bound}-bound", f"{r.latency_over_floor:.1f}x the floor"]
    if p.host is not None:
        h = p.host
        out += [f"In {h.name}: {h.blocks} blocks ({h.slot})", f"+{h.added('params'):,}",
                f"+{h.added('macs'):,}", f"+{h.added('flops'):,}",
                same_digits(h.base.latency)(h.base.latency.median_ms)
                if h.base.latency else "-",
                fmt.nbytes(h.base.peak_bytes), fmt.nbytes(h.total.peak_bytes),
                f"{h.base.params / 2**20:.3f} M 2^20"]
    decomposed = p.own.extra.get("decomposed") or {} if p.own is not None else {}
    for t in p.op_times:
        out += [t.op, fmt.ms(t.self_ms), f"{100 * t.share:.1f}%", *decomposed.get(t.op, ())]
    for x in p.layers:
        out += [x.path or "(block)", x.type]
        if x.cost is not None:
            out += [fmt.count(x.cost.flops), fmt.count(x.cost.bytes)]
    return out


@pytest.mark.parametrize("name", STAT)
def test_every_format_shows_the_profile_facts(name):
    views = views_of(name)
    markdown, wide = markdown_text(views), rich_text(views, width=400)
    p = profiles(name)[0]
    detail = name == "stat_se_layers_ops"
    for fact in facts(p if detail else replace(p, layers=(), op_times=())):
        assert fact in markdown, f"Markdown leaves out {fact!r}"
        assert fact in wide, f"the rich tables leave out {fact!r}"


@pytest.mark.parametrize("name", COMPARE)
def test_every_format_shows_the_compare_facts(name):
    ps = profiles(name)
    views = compare_views(ps, (load(name).get("comparison") or {}).get("baseline"))
    markdown, wide = markdown_text(views), rich_text(views, width=400)
    for p in ps:
        expected = [p.label, fmt.count(p.params), fmt.count(p.flops), fmt.nbytes(p.bytes)]
        if p.latency is not None:
            t = same_digits(p.latency)
            expected += [t(p.latency.median_ms), f"±{t(p.latency.iqr_ms / 2)}"]
        if p.host is not None:
            added = p.host.added("params")
            expected += [f"+{added:,} ({100 * added / p.host.base.params:+.2f}%)"]
        for fact in expected:
            assert fact in markdown and fact in wide, fact
    comparison = load(name).get("comparison")
    for row in (comparison or {}).get("rows", [])[1:]:
        ratio = f"({row['flops']['ratio']:.2f}x)"
        assert ratio in markdown and ratio in wide, ratio


def model_facts(doc: dict) -> list[str]:
    """What ``model`` must show of its document, formatted here from the document itself (not
    from the views): the network and its input, the block put in, every attention module
    with its costs, the totals and shares, how it was timed, and the document's notes."""
    from attnprof import units

    net, att, share = doc["network"], doc["attention"], doc["attention"]["share"]
    out = [net["name"], "×".join(map(str, net["input"])), net["dtype"], net["device"],
           f"{len(doc['modules'])} attention modules"]
    if doc["block"]:
        out += [doc["block"]["name"], f"in {doc['block']['slots']} slots",
                doc["block"]["host_slot"]]
    for c in [*doc["modules"], att, net]:
        out += [f"{c['params']:,}", units.si(c["macs"]), units.si(c["flops"]),
                units.nbytes(c["bytes"])]
    for m in doc["modules"]:
        out += [m["path"], m["type"], m["found_by"]]
    out += [units.percent(share[k], 1) for k in ("params", "macs", "flops", "bytes")]
    if doc["timing"]:
        out += [doc["timing"]["method"], f"{doc['timing']['threads']} thread(s)",
                units.percent(share["time"], 1)]
        out += [units.percent(m["time_share"], 1) for m in doc["modules"]]
    return out + list(doc["notes"])


def model_doc_variants() -> list[dict]:
    """The fixture as it was run; with notes; and untimed (--no-latency: no time columns)."""
    import copy

    timed = load(MODEL)
    noted = copy.deepcopy(timed)
    noted["notes"] = ["--match 'layer9.*' matched no module outside those already found"]
    untimed = copy.deepcopy(noted)
    untimed["timing"] = None
    for c in [untimed["network"], untimed["attention"], *untimed["modules"]]:
        c["time_ms"] = None
    for m in untimed["modules"]:
        m["time_share"] = None
    untimed["attention"]["share"]["time"] = None
    return [timed, noted, untimed]


@pytest.mark.parametrize("variant", ["timed", "noted", "untimed"])
def test_every_format_shows_the_model_facts(variant):
    doc = model_doc_variants()[["timed", "noted", "untimed"].index(variant)]
    views = model_views(doc)
    markdown, wide = markdown_text(views), rich_text(views, width=400)
    for fact in model_facts(doc):
        assert fact in markdown, f"Markdown leaves out {fact!r}"
        assert fact in wide, f"the rich tables leave out {fact!r}"
    table = next(x for x in views if isinstance(x, TableView))
    assert [r[0] for r in table.rows] == [*(m["path"] for m in doc["modules"]),
                                          "attention, all", "share of the network", "network"]
    timed_columns = {"time", "share"} & {c.name for c in table.columns}
    assert bool(timed_columns) == (doc["timing"] is not None)
    assert words(markdown_text(views)) == words(rich_text(views, width=400))


def test_failed_and_passed_marks():
    """A verdict is told by its word in every format; Markdown adds a mark, rich a colour."""
    markdown = markdown_text(views_of("run_budgets"))
    assert "| ❌ FAIL |" in markdown and "| ✅ pass |" in markdown
    assert "| ❌ failed |" in markdown_text(views_of("stat_failed_backend"))
    console = Console(width=100, file=StringIO(), color_system="truecolor")
    console.print(rr.RichRenderer().render([gv.budget_view(budgets("run_budgets"))]))
    assert "\x1b[1;31mFAIL" in console.file.getvalue()  # bold red


def test_check_table_counts_the_rows_it_hides():
    d = diffs("check_diffs")
    same = sum(x.verdict == "same" for x in d)
    assert same > 0
    short = gv.check_view(d, show_same=False)
    assert len(short.rows) == len(d) - same
    assert short.notes[0] == f"{same} unchanged figure(s) not listed (--all lists them)"
    full = gv.check_view(d)
    assert len(full.rows) == len(d) and not any("not listed" in n for n in full.notes)


# -- the JSON and the CSV stay as they were ---------------------------------------------------

def test_comparison_json_is_the_runs_own():
    """``comparison()`` gives what the run itself wrote: every value, ratio and difference
    the same (a key added since is an addition, not a change)."""
    doc = load("compare_se_eca_cbam")["comparison"]
    now = comparison(profiles("compare_se_eca_cbam"), "se")
    assert now["baseline"] == doc["baseline"] == "se"
    assert [r["name"] for r in now["rows"]] == [r["name"] for r in doc["rows"]]
    for row, then in zip(now["rows"], doc["rows"], strict=True):
        for key, cells in then.items():
            if key == "name":
                continue
            assert {k: row[key][k] for k in cells} == cells, (row["name"], key)
    assert comparison(profiles("compare_se_eca_cbam"), None) is None


def test_csv_appends_to_prior_rows(tmp_path):
    from attnprof.report.csv import read_rows

    ps = profiles("compare_se_eca_cbam")
    path = tmp_path / "r.csv"
    path.write_text(profiles_csv(ps[:2]), encoding="utf-8")
    assert profiles_csv(ps[2:], read_rows(str(path))) == profiles_csv(ps)


# -- views are torch-free --------------------------------------------------------------------------

RENDER_WITHOUT_TORCH = r"""
import importlib.abc, json, sys
from io import StringIO
from pathlib import Path

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")

sys.meta_path.insert(0, NoTorch())
from rich.console import Console
from attnprof.report import csv, html, markdown, network_views, rich_render
from attnprof.report.block_views import profile_views
from attnprof.report.comparison_views import compare_views
from attnprof.results import Profile

models = 0
for path in sorted(Path(sys.argv[1]).glob("*.json")):
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("schema") == "attnprof.model/1":
        Console(file=StringIO(), width=100).print(rich_render.RichRenderer().render(
            network_views.model_views(doc)))
        markdown.MarkdownRenderer().render(network_views.model_views(doc))
        models += 1
        continue
    docs = doc["results"] if isinstance(doc.get("results"), list) else [doc]
    ps = [Profile.from_dict(d) for d in docs if d.get("schema") == "attnprof.profile/1"]
    for p in ps:
        views = profile_views(p, layers=True, ops=True)
        Console(file=StringIO(), width=100).print(rich_render.RichRenderer().render(views))
        markdown.MarkdownRenderer().render(views)
        html.HtmlRenderer().render(views)
        p._repr_html_()
    if ps:
        views = compare_views(ps, ps[0].label, layers=True, ops=True)
        markdown.MarkdownRenderer().render(views)
        Console(file=StringIO()).print(rich_render.RichRenderer().render(views))
        csv.profiles_csv(ps)
assert models, "no model document among the fixtures"
assert "torch" not in sys.modules, "a renderer imported torch"
print("ok")
"""


def test_renderers_never_import_torch():
    r = subprocess.run([sys.executable, "-c", RENDER_WITHOUT_TORCH, str(FIXTURES)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


@pytest.mark.parametrize("value,text", [(119874.9, "120,000"), (48178.2, "48,200"),
                                        (8.19, "8.19"), (12.345, "12.3"), (999.6, "1,000"),
                                        (0.01234, "0.0123"), (None, "-")])
def test_rates_show_three_significant_digits(value, text):
    assert fmt.sig3(value) == text
