"""compare, suites with budgets, baseline checks, schemas: as a CI author uses them."""

import json
import shutil
from pathlib import Path

import pytest
from docedit import change_count, scale_latency, set_latency

from attnprof.schemas import schema

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--budget", "0.02"]


def validator(name):
    """The shipped schema stands alone: a plain validator needs no registry. (jsonschema is
    imported here, not at the top, so that the CUDA tests collect where it is absent.)"""
    import jsonschema

    return jsonschema.Draft202012Validator(schema(name))


def write(tmp_path, text, name="suite.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_compare_baseline_json_csv_markdown(cli, tmp_path):
    out, csv, md = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.md"
    r = cli("compare", "se", "eca", "cbam", "-c", "32", "-s", "16", "-o", "ratio=8",
            "-o", "eca.kernel_size=5", "--baseline", "se", "--rounds", "2", *FAST,
            "--json", str(out), "--csv", str(csv), "--markdown", str(md))
    assert r.exit_code == 0, r.output
    assert "(baseline)" in r.stdout and "x)" in r.stdout
    doc = json.loads(out.read_text())
    validator("attnprof.results/1").validate(doc)
    by = {p["name"]: p for p in doc["results"]}
    assert by["se"]["block"]["options"]["ratio"] == 8
    assert by["cbam"]["block"]["options"]["ratio"] == 8
    assert by["eca"]["block"]["options"]["kernel_size"] == 5
    # with a baseline, rounds go on (from --rounds) until every verdict is decisive
    timing = doc["comparison"]["timing"]
    assert timing["rounds"] >= 2 and timing["stopped"] in ("decisive", "time cap", "max rounds")
    assert f"{timing['rounds']} interleaved rounds" in by["eca"]["latency"]["method"]
    rows = {row["name"]: row for row in doc["comparison"]["rows"]}
    assert rows["se"]["latency_ms"]["verdict"] is None  # the baseline itself
    for name in ("eca", "cbam"):
        lat = rows[name]["latency_ms"]
        assert lat["verdict"] in ("faster", "slower", "same", "inconclusive")
        assert lat["ci_low"] <= lat["ratio"] <= lat["ci_high"]
    se_params, cbam_params = 2 * 32 * 4, 2 * 32 * 4 + 2 * 49
    assert rows["cbam"]["params"]["value"] == cbam_params
    assert rows["cbam"]["params"]["ratio"] == pytest.approx(cbam_params / se_params)
    assert rows["cbam"]["params"]["diff"] == cbam_params - se_params
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("name,block") and len(lines) == 4
    assert md.read_text().startswith("| block |")


def test_compare_json_on_stdout_is_only_json(cli):
    r = cli("compare", "se", "eca", "--no-latency", "--backends", "attnprof", "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["schema"] == "attnprof.results/1"


@pytest.mark.parametrize("args,needle", [
    (["compare", "se"], "at least two"),
    (["compare", "se", "eca", "--baseline", "cbam"], "not among"),
    (["compare", "se", "eca", "-o", "gamma2=3"], "no block among"),
    (["compare", "se", "nope"], "unknown block"),
    (["compare", "se", "eca", "--rounds", "0"], "rounds"),
])
def test_compare_bad_input(cli, args, needle):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and "Traceback" not in r.output


def test_profile_document_matches_schema(cli):
    r = cli("stat", "cbam", "-c", "16", "-s", "16", "--ops", *FAST, "-f", "json")
    assert r.exit_code == 0, r.output
    validator("attnprof.profile/1").validate(json.loads(r.stdout))
    r = cli("stat", "se", "--no-latency", "--backends", "torch", "-f", "json")
    validator("attnprof.profile/1").validate(json.loads(r.stdout))


def test_schema_rejects_a_wrong_document():
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        validator("attnprof.profile/1").validate({"schema": "attnprof.profile/1"})


# Enough timing (4 rounds of 0.025 s per case) that a burst of load on a shared machine
# cannot own the median that the latency_vs budget below compares.
SUITE = """
[defaults]
channels = 32
size = 16
budget = 0.1
rounds = 4

[[case]]
name = "se"
block = "se"
options = { ratio = 8 }

[[case]]
name = "eca"
block = "eca"

[[budget]]
case = "eca"
max_params = 3

[[budget]]
case = "se"
max_params = {se_limit}

[[budget]]
case = "eca"
latency_vs = "se"
max_ratio = 50
"""


def test_suite_passing_and_failing_budgets(cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    se_params = 2 * 32 * 4
    ok = write(tmp_path, SUITE.replace("{se_limit}", str(se_params)))
    out = tmp_path / "out.json"
    r = cli("run", ok, "--json", str(out))
    assert r.exit_code == 0, r.output
    assert "3 passed, 0 failed" in r.stdout
    doc = json.loads(out.read_text())
    validator("attnprof.results/1").validate(doc)
    assert [b["passed"] for b in doc["budgets"]] == [True, True, True]
    assert "Budgets: 3 passed" in summary.read_text()

    bad = write(tmp_path, SUITE.replace("{se_limit}", str(se_params - 1)), "bad.toml")
    r = cli("run", bad)
    assert r.exit_code == 1, r.output
    assert "FAIL" in r.stdout and f"params <= {se_params - 1}" in r.stderr


def test_latency_budget_note(cli, tmp_path):
    path = write(tmp_path, '[defaults]\nbudget = 0.02\nsize = 8\nchannels = 8\n'
                           '[[case]]\nblock = "se"\n[[budget]]\ncase = "se"\n'
                           'max_latency_ms = 10000\n')
    r = cli("run", path)
    assert r.exit_code == 0, r.output
    assert "depends on the machine" in r.stderr and "latency_vs" in r.stderr


@pytest.mark.parametrize("text,needle,line", [
    ('[[case]]\nblock = "se"\n[[case]\n', "malformed TOML", "line 3"),
    ('[[case]]\nname = "a"\nblock = "se"\n[[case]]\nname = "a"\nblock = "eca"\n',
     "used twice", ":4:"),
    ('[[case]]\nblock = "se"\n\n[[budget]]\ncase = "nope"\nmax_params = 1\n',
     "does not have", ":5:"),
    ('[[case]]\nblock = "se"\n[[budget]]\ncase = "se"\nmax_parms = 1\n', "unknown key", ":5:"),
    ('[[case]]\nblock = "se"\nratio = 4\n', "unknown key 'ratio'", ":3:"),
    ('[[case]]\nblock = "sse"\n', "'se'", ":1:"),
    ('[[case]]\nblock = "se"\noptions = { ratio = 0 }\n', ">= 1", ":1:"),
    ('[defaults]\nchanels = 3\n[[case]]\nblock = "se"\n', "unknown key 'chanels'", ":2:"),
    ('[[case]]\nblock = "se"\nlatency = false\n[[budget]]\ncase = "se"\nlatency_vs = "se"\n'
     'max_ratio = 2\n', "needs latency", ":4:"),
    ('[[case]]\nblock = "se"\n[[budget]]\ncase = "se"\nlatency_vs = "se"\n', "go together",
     ":3:"),
    ('[[case]]\nblock = "se"\n[[budget]]\ncase = "se"\n', "sets no limit", ":3:"),
    ('[defaults]\nchannels = 8\n', "no cases", ""),
    ('[[case]]\nblock = "se"\nsize = "0x4"\n', "size", ":1:"),
    ('[[case]]\nblock = "se"\n[extra]\n', "unknown table", ":3:"),
])
def test_malformed_suites_name_file_line_and_problem(cli, tmp_path, text, needle, line):
    path = write(tmp_path, text)
    r = cli("run", path)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr, r.output
    assert path in r.stderr and line in r.stderr, r.stderr
    assert "Traceback" not in r.output


def test_unreadable_suites(cli, tmp_path):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00\x01garbage")
    for path, needle in ((str(tmp_path / "missing.toml"), "no such file"),
                         (str(tmp_path), "is a directory"), (str(binary), "not a text file")):
        r = cli("run", path)
        assert r.exit_code == 2 and needle in r.stderr, r.output


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "configs").glob("*.toml")))
def test_shipped_configs_load(config):
    from attnprof.suite import load

    suite = load(str(ROOT / "configs" / config))
    assert suite.requests or suite.sweep_cases


def test_se_vs_eca_config_passes_as_shipped(cli):
    # As shipped: its latency budget is a ratio measured over 5 interleaved rounds of
    # 0.06 s each, which a shorter budget would make noisy.
    r = cli("run", str(ROOT / "configs" / "se-vs-eca.toml"))
    assert r.exit_code == 0, r.output
    assert "5 passed, 0 failed" in r.stdout


def _results(cli, tmp_path, name, ratio=8):
    out = tmp_path / name
    r = cli("compare", "se", "eca", "-c", "32", "-s", "16", "-o", f"ratio={ratio}", "--rounds",
            "2", *FAST, "--json", str(out))
    assert r.exit_code == 0, r.output
    return out


def test_check_passes_and_catches_an_injected_regression(cli, tmp_path, monkeypatch):
    base = _results(cli, tmp_path, "base.json")
    shutil.copy(base, tmp_path / "same.json")
    r = cli("check", str(tmp_path / "same.json"), "--baseline", str(base))
    assert r.exit_code == 0, r.output

    doc = json.loads(base.read_text())
    # se's latency, made deterministic: a busy machine's real interval (or a quality record
    # saying the samples timed the scheduler) would make the injected slow-down inconclusive
    # (tests/docedit.py edits every figure that follows, so the file stays coherent)
    set_latency(doc["results"][0], 1.0, 0.99, 1.01)["latency"]["quality"] = None
    base.write_text(json.dumps(doc))
    change_count(doc["results"][1], "flops", 1000)  # eca got more expensive
    scale_latency(doc["results"][0], 3)  # se got 3x slower, its whole interval with it
    (tmp_path / "worse.json").write_text(json.dumps(doc))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = cli("check", str(tmp_path / "worse.json"), "--baseline", str(base),
            "--latency-tolerance", "0.5")
    assert r.exit_code == 1, r.output
    assert "eca flops higher" in r.stderr and "se latency (ms) slower" in r.stderr
    assert "regression" in summary.read_text()
    # a 10 % tolerance lets the flops change (+1000 of ~16.6k, 6 %) through; latency still fails
    r = cli("check", str(tmp_path / "worse.json"), "--baseline", str(base),
            "--tolerance", "flops=0.1", "--latency-tolerance", "0.5", "-f", "json")
    assert r.exit_code == 1
    diffs = json.loads(r.stdout)["diffs"]
    assert {(d["case"], d["metric"]) for d in diffs if d["failed"]} == {("se", "latency (ms)")}


def test_check_relative_latency_and_missing_case(cli, tmp_path):
    base = _results(cli, tmp_path, "base.json")
    doc = json.loads(base.read_text())
    for p in doc["results"]:  # a machine twice as slow: ratios within the run hold
        scale_latency(p, 2)
    (tmp_path / "slow.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "slow.json"), "--baseline", str(base),
            "--latency-relative-to", "se")
    assert r.exit_code == 0, r.output
    doc["results"] = doc["results"][:1]
    (tmp_path / "fewer.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "fewer.json"), "--baseline", str(base),
            "--latency-relative-to", "se")
    assert r.exit_code == 1 and "missing" in r.stderr


def test_check_bad_files(cli, tmp_path):
    base = _results(cli, tmp_path, "base.json")
    profile = tmp_path / "profile.json"
    r = cli("stat", "se", "--no-latency", "--backends", "attnprof", "--json", str(profile))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"schema": "something/1", "results": []}')
    for path, needle in ((profile, "single profile"), (tmp_path / "broken.json", "not valid JSON"),
                         (tmp_path / "other.json", "not an attnprof.results/1"),
                         (tmp_path / "nope.json", "no such file"), (tmp_path, "is a directory")):
        r = cli("check", str(path), "--baseline", str(base))
        assert r.exit_code == 2 and needle in r.stderr, (path, r.output)
    r = cli("check", str(base), "--baseline", str(base), "--tolerance", "flops")
    assert r.exit_code == 2 and "METRIC=FRACTION" in r.stderr
    r = cli("check", str(base), "--baseline", str(base), "--latency-relative-to", "zzz")
    assert r.exit_code == 2 and "no case 'zzz'" in r.stderr


def _with_latency(doc, name, median, low, high):
    for p in doc["results"]:
        if p["name"] == name:
            p["latency"].update(median_ms=median, ci_low_ms=low, ci_high_ms=high)
    return doc


@pytest.mark.parametrize("now,verdict,failed", [
    ((1.50, 1.45, 1.55), "slower", True),        # the whole interval is past 1.2x
    ((1.00, 0.98, 1.02), "ok", False),           # the whole interval is within it
    ((1.20, 0.90, 1.60), "inconclusive", False),  # it straddles 1.2x: a warning, no failure
])
def test_check_judges_latency_by_its_interval(now, verdict, failed):
    """check holds the latency ratio's 95% interval (from both files' stored intervals)
    against 1 + tolerance, as a latency_vs budget does."""
    from attnprof.check import compare_results
    from attnprof.results import Profile

    fixture = Path(__file__).parent / "fixtures" / "compare_se_eca_cbam.json"
    base = _with_latency(json.loads(fixture.read_text()), "se", 1.0, 0.99, 1.01)
    cur = _with_latency(json.loads(fixture.read_text()), "se", *now)
    diffs = compare_results([Profile.from_dict(p) for p in cur["results"]],
                            [Profile.from_dict(p) for p in base["results"]],
                            latency_tolerance=0.2)
    (row,) = [d for d in diffs if d.case == "se" and d.metric.startswith("latency")]
    assert row.verdict.startswith(verdict) and row.failed is failed, row


def test_check_without_intervals_falls_back_to_the_point_ratio():
    from attnprof.check import compare_results
    from attnprof.results import Profile

    fixture = Path(__file__).parent / "fixtures" / "compare_se_eca_cbam.json"
    base = _with_latency(json.loads(fixture.read_text()), "se", 1.0, None, None)
    cur = _with_latency(json.loads(fixture.read_text()), "se", 1.3, None, None)
    diffs = compare_results([Profile.from_dict(p) for p in cur["results"]],
                            [Profile.from_dict(p) for p in base["results"]],
                            latency_tolerance=0.2)
    (row,) = [d for d in diffs if d.case == "se" and d.metric.startswith("latency")]
    assert row.failed and "point ratio" in row.verdict
