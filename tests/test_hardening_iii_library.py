"""Hardening III (issue 23): the library as complete as the CLI. ``attnprof.compare``,
``sweep``, ``run`` and ``check`` give typed results whose ``to_dict()`` is the CLI's JSON for
the same request (timings aside: these requests are untimed, so the documents are equal);
``show()`` prints the CLI's tables; ``to_frame(table)`` gives each table; reprs use the CLI's
units."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

import attnprof
from attnprof.errors import AttnprofError, BadInput

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
QUICK = ["-c", "16", "-s", "8", "--no-latency", "--backends", "attnprof,torch"]
KW = dict(channels=16, size=8, latency=False, backends=("attnprof", "torch"))


def _same(doc: dict, cli_doc: dict) -> None:
    """Equal documents; the environment's live figures (threads chosen at the time) aside."""
    def strip(d):
        d = json.loads(json.dumps(d))
        for p in d.get("results", [d]):
            p.pop("environment", None)
        return d

    assert strip(doc) == strip(cli_doc)


def test_compare_equals_the_cli(cli):
    r = cli("compare", "se", "eca", "cbam", *QUICK, "--baseline", "se", "-o", "se.ratio=8",
            "-f", "json")
    assert r.exit_code == 0, r.output
    lib = attnprof.compare(["se", "eca", "cbam"], baseline="se", options={"se.ratio": 8}, **KW)
    _same(lib.to_dict(), json.loads(r.stdout))
    assert isinstance(lib, attnprof.Results) and len(lib) == 3 and lib["eca"].params == 3
    assert lib["se"].block.options["ratio"] == 8 and lib["cbam"].block.options["ratio"] == 4
    rows = lib.to_frame("comparison")
    eca = rows[(rows.case == "eca") & (rows.metric == "params")].iloc[0]
    # se with ratio 8 at 16 channels: Linear(16, 2) and Linear(2, 16), no bias: 64 params
    assert eca.value == 3 and eca.ratio == pytest.approx(3 / 64)


def test_compare_shows_the_cli_table(cli):
    lib = attnprof.compare(["se", "eca"], **KW)
    out = io.StringIO()
    lib.show(file=out)
    text = lib.report()
    r = cli("compare", "se", "eca", *QUICK)
    assert r.exit_code == 0, r.output
    for line in ("Side by side", "se", "eca"):
        assert line in out.getvalue() and line in text and line in r.stdout
    assert [w for w in text.split() if w[0].isdigit()] == \
        [w for w in r.stdout.split() if w[0].isdigit()]  # every figure, in order
    assert set(lib.to_frame().columns) >= {"case", "params", "macs", "flops", "bytes"}


def test_sweep_equals_the_cli(cli):
    r = cli("sweep", "se", "eca", "--size", "4,8", "-c", "8", "--no-latency", "--backends",
            "attnprof", "-f", "json")
    assert r.exit_code == 0, r.output
    lib = attnprof.sweep(["se", "eca"], channels=8, sizes=[4, 8], latency=False,
                         backends=("attnprof",))
    _same(lib.to_dict(), json.loads(r.stdout))
    assert lib.scaling and set(lib.to_frame("scaling").figure) >= {"flops", "params"}
    assert "sweep" in repr(lib)
    # the CLI's text for lists works too
    assert attnprof.sweep(["se"], channels="8,16", sizes="4", latency=False,
                          backends=("attnprof",)).to_frame().case.tolist() == \
        ["se c=8 4x4 b=1 float32", "se c=16 4x4 b=1 float32"]


SUITE = textwrap.dedent("""
    [defaults]
    channels = 16
    size = 8
    latency = false
    backends = ["attnprof"]

    [[case]]
    name = "se"
    block = "se"

    [[case]]
    name = "eca"
    block = "eca"

    [[budget]]
    case = "eca"
    max_params = 3

    [[budget]]
    case = "se"
    max_params = 100
""")


def test_run_equals_the_cli(cli, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    r = cli("run", str(suite), "-f", "json")
    assert r.exit_code == 1, r.output  # se has 128 parameters: over 100
    lib = attnprof.run(str(suite))
    _same(lib.to_dict(), json.loads(r.stdout))
    assert not lib.passed and [b.case for b in lib.failed] == ["se"]
    assert list(lib.to_frame("budgets").passed) == [True, False]
    assert "params <= 100" in lib.report()


def test_check_equals_the_cli(cli, tmp_path):
    base = FIXTURES / "compare_se_eca_cbam.json"
    doc = json.loads(base.read_text())
    from docedit import change_count

    change_count(doc["results"][1], "flops", 100)
    worse = tmp_path / "worse.json"
    worse.write_text(json.dumps(doc))
    r = cli("check", str(worse), "--baseline", str(base), "-f", "json")
    assert r.exit_code == 1
    lib = attnprof.check(worse, base)
    assert lib.to_dict() == json.loads(r.stdout)
    assert not lib.passed and lib.regressions == 1
    assert lib.failed[0].case == "eca" and lib.failed[0].metric == "flops"
    assert "higher" in lib.report() and len(lib.to_frame()) == len(lib.diffs)
    assert attnprof.check(str(base), str(base), tolerances={"flops": 0.01}).passed


def test_profile_show_prints_the_stat_tables(cli):
    p = attnprof.profile("se", **KW)
    r = cli("stat", "se", *QUICK)
    out = io.StringIO()
    p.show(file=out)
    for line in ("What each counter reports", "Work, memory and time"):
        assert line in out.getvalue() and line in r.stdout and line in p.report()
    assert [w for w in p.report().split() if w[0].isdigit()] == \
        [w for w in r.stdout.split() if w[0].isdigit()]


def test_repr_uses_the_cli_units():
    p = attnprof.profile("se", channels=64, size=56, latency=False, backends=("attnprof",))
    text = repr(p)
    from attnprof import units

    assert f"bytes={units.nbytes(p.bytes)}" in text and "MiB" in text  # 2.31 MiB, not 2.42M
    assert f"params={p.params:,}" in text and f"FLOPs={units.si(p.flops)}" in text


@pytest.mark.parametrize("call", [
    lambda: attnprof.compare("se"),
    lambda: attnprof.compare(["se"]),
    lambda: attnprof.compare(["se", 3]),
    lambda: attnprof.compare(["se", "eca"], baseline="cbam"),
    lambda: attnprof.compare(["se", "eca"], rounds=0),
    lambda: attnprof.compare(["se", "eca"], time_cap_s=float("inf")),
    lambda: attnprof.compare(["se", "eca"], options={"nope": 1}),
    lambda: attnprof.compare(["se", "eca"], options=[1]),
    lambda: attnprof.compare(["se", "eca"], bogus=1),
    lambda: attnprof.sweep([], channels=8),
    lambda: attnprof.sweep(["se"], channels=0),
    lambda: attnprof.sweep(["se"], sizes="x"),
    lambda: attnprof.sweep(["se"], host="resnet18"),
    lambda: attnprof.run("/nonexistent/suite.toml"),
    lambda: attnprof.run(3),
    lambda: attnprof.check("/nonexistent.json", "/nonexistent.json"),
    lambda: attnprof.check(str(FIXTURES / "compare_se_eca_cbam.json"),
                           str(FIXTURES / "compare_se_eca_cbam.json"), tolerances={"x": 1}),
    lambda: attnprof.check(str(FIXTURES / "compare_se_eca_cbam.json"),
                           str(FIXTURES / "compare_se_eca_cbam.json"), latency_tolerance=-1),
    lambda: attnprof.check(None, None),
])
def test_library_entry_points_raise_attnprofs_errors(call):
    with pytest.raises(AttnprofError) as info:
        call()
    assert "\n" not in str(info.value)


def test_to_frame_tables_are_listed():
    lib = attnprof.compare(["se", "eca"], **KW)
    with pytest.raises(BadInput, match="choose summary"):
        lib.to_frame("scaling")
    p = lib[0]
    for table in ("layers", "ops", "counters"):
        assert len(p.to_frame(table)) > 0


def test_repr_latency_as_the_table_shows_it():
    from attnprof.report.view import median_text

    p = attnprof.profile("eca", channels=16, size=8, budget_s=0.02, backends=("attnprof",))
    assert f"latency={median_text(p.latency)}" in repr(p)
    assert median_text(p.latency) in p.report()


def test_run_a_suite_with_a_sweep(cli, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE + textwrap.dedent("""
        [sweep]
        blocks = ["eca"]
        channels = [8, 16]
    """))
    lib = attnprof.run(suite)  # an os.PathLike
    assert [p.label for p in lib] == ["se", "eca"]
    assert lib.sweep is not None and len(lib.sweep) == 2
    assert [p.params for p in lib.sweep] == [3, 3]  # ECA's k = 3 at 8 and 16 channels
    only = tmp_path / "only.toml"
    only.write_text('[defaults]\nlatency = false\nbackends = ["attnprof"]\n'
                    '[sweep]\nblocks = ["se"]\nchannels = [8]\nsize = [4, 8]\n')
    swept = attnprof.run(str(only))
    assert swept.kind == "sweep" and len(swept) == 2 and swept.scaling
