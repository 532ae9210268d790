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
        assert lat["ci_low"] <= lat["ratio"] <= lat["ci_high"]
        # the verdict its interval gives (docs/latency.md): same within 1 +- 5%, faster or
        # slower when the whole interval and the ratio are past 1 and 1 -+ 5%; never decisive
        # on a time whose samples timed the scheduler
        ratio, low, high = lat["ratio"], lat["ci_low"], lat["ci_high"]
        holds = {"same": 0.95 <= low and high <= 1.05, "faster": high < 1 and ratio < 0.95,
                 "slower": low > 1 and ratio > 1.05}
        trusted = all(by[n]["latency"]["quality"]["trustworthy"] for n in (name, "se"))
        decided = [v for v, ok in holds.items() if ok and trusted]
        assert lat["verdict"] == (decided or ["inconclusive"])[0], (lat, trusted)
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


def test_se_vs_eca_config_passes_as_shipped(cli, tmp_path):
    """As shipped: its four count budgets pass with the closed forms' figures (SE 2·C·(C/16)
    = 512 parameters at C = 64; ECA's k = 3 kernel: 3 parameters, k·C = 192 MACs), and its
    latency budget (ECA / SE ≤ 1.5, over at least 5 interleaved rounds) has the outcome its
    interval gives (docs/contract.md: pass when the whole interval is ≤ 1.5, fail when it is
    all above, else inconclusive); the exit code follows (1 only on a decisive failure)."""
    out = tmp_path / "run.json"
    r = cli("run", str(ROOT / "configs" / "se-vs-eca.toml"), "--json", str(out))
    doc = json.loads(out.read_text())
    budgets = doc["budgets"]
    counts = {b["budget"]: (b["value"], b["outcome"]) for b in budgets if b["ci_low"] is None}
    c, k, hw = 64, 3, 56 * 56
    assert counts["params <= 512"] == (2 * c * (c // 16), "pass")
    assert counts["params <= 16"] == (k, "pass")
    assert counts["macs <= 256"] == (k * c, "pass")
    assert counts["flops <= 410,000"][1] == "pass" and counts["flops <= 410,000"][0] > 2 * c * hw
    (lat,) = [b for b in budgets if b["ci_low"] is not None]
    assert lat["ci_low"] <= lat["value"] <= lat["ci_high"]
    expected = ("pass" if lat["ci_high"] <= 1.5 else
                "fail" if lat["ci_low"] > 1.5 else "inconclusive")
    trusted = all(p["latency"]["quality"]["trustworthy"] for p in doc["results"])
    if expected == "fail" and not trusted:  # never a failure on samples that timed noise
        expected = "inconclusive"
    assert lat["outcome"] == expected, (lat, trusted)
    assert r.exit_code == (1 if lat["outcome"] == "fail" else 0), r.output


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


# -- check: every change named, a changed case said as such (issue 21) ------------------------

def _counts_only(cli, tmp_path, name, *options):
    """A results file of se, eca and cbam at 32 channels, 16x16, counted only (fast)."""
    out = tmp_path / name
    r = cli("compare", "se", "eca", "cbam", "-c", "32", "-s", "16", "--no-latency",
            "--backends", "attnprof", *options, "--json", str(out))
    assert r.exit_code == 0, r.output
    return out


def _case(doc, case):
    return next(p for p in doc["results"] if p["name"] == case)


def _grow(doc, case, key, delta):
    """attnprof's ``key`` of ``case`` moved by ``delta``, with every figure that follows from
    it (tests/docedit.py), so the file stays one attnprof could have written."""
    change_count(_case(doc, case), "bytes_read" if key == "bytes" else key, delta)


def test_check_names_every_regression_in_its_exit_line(cli, tmp_path):
    base = _counts_only(cli, tmp_path, "base.json")
    doc = json.loads(base.read_text())
    grown = {("se", "flops"): 100, ("se", "bytes"): 1, ("se", "transcendentals"): 1,
             ("eca", "macs"): 10, ("eca", "flops"): 20, ("cbam", "macs"): 30,
             ("cbam", "flops"): 40}
    for (case, key), extra in grown.items():
        _grow(doc, case, key, extra)
    (tmp_path / "worse.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "worse.json"), "--baseline", str(base))
    assert r.exit_code == 1, r.output
    line = r.stderr
    assert "7 regression(s)" in line and "more" not in line, line
    for case, key in grown:
        assert f"{case} {key} higher: " in line, (case, key, line)
    # the change is exact: 1 byte of about 100 KiB is not "+0.00%"
    assert "se bytes higher: +1 (<+0.01%)" in line, line
    assert "+0.00%" not in r.stdout + line


def test_check_says_how_many_more_it_did_not_name(cli, tmp_path):
    base = _counts_only(cli, tmp_path, "base.json")
    doc = json.loads(base.read_text())
    for case in ("se", "eca", "cbam"):
        for key in ("macs", "transcendentals"):
            _grow(doc, case, key, -1)  # improvements
        _grow(doc, case, "flops", 1000)  # and one regression per case
    (tmp_path / "mixed.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "mixed.json"), "--baseline", str(base))
    assert r.exit_code == 1, r.output
    assert "3 regression(s), 6 improvement(s)" in r.stderr, r.stderr
    named = r.stderr.count(" higher: ") + r.stderr.count("lower (improvement)")
    assert named == 9, r.stderr  # all nine fit the line's limit of 12
    r = cli("check", str(tmp_path / "mixed.json"), "--baseline", str(base), "--exact")
    assert r.exit_code == 1 and "(--exact fails improvements)" in r.stderr, r.stderr
    from attnprof.check import Diff
    from attnprof.report.gate_views import check_summary

    many = [Diff(f"c{i}", "flops", 1, 2, 1.0, "higher", True) for i in range(15)]
    line = check_summary(many)
    assert line.count("higher") == 12 and "and 3 more" in line, line


def test_check_reports_a_changed_case_not_regressions(cli, tmp_path):
    """ECA's kernel moved from 3 to 9: its counts grow, yet the case is another case, said
    with what changed, never as count regressions."""
    base = _counts_only(cli, tmp_path, "base.json", "-o", "eca.kernel_size=3")
    now = _counts_only(cli, tmp_path, "now.json", "-o", "eca.kernel_size=9")
    r = cli("check", str(now), "--baseline", str(base), "-f", "json")
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    validator("attnprof.check/1").validate(doc)
    eca = [d for d in doc["diffs"] if d["case"] == "eca"]
    assert len(eca) == 1 and eca[0]["metric"] == "case" and eca[0]["failed"], eca
    assert eca[0]["verdict"].startswith("case changed: option kernel_size 3 → 9")
    assert eca[0]["differences"] == [{"what": "option kernel_size", "baseline": "3",
                                      "value": "9"}]
    assert doc["changed"] == 1 and not [d for d in doc["diffs"] if d["verdict"] == "higher"]
    r = cli("check", str(now), "--baseline", str(base))
    assert "0 regression(s), 0 improvement(s), 1 case(s) changed" in r.stderr, r.stderr
    assert "eca case changed: option kernel_size 3 → 9 (rebaseline)" in r.stderr

    # the case "eca" now builds cbam, at another size and dtype
    doc = json.loads(base.read_text())
    cbam = next(p for p in doc["results"] if p["name"] == "cbam")
    eca = next(p for p in doc["results"] if p["name"] == "eca")
    eca.update({k: cbam[k] for k in ("block", "counters", "params")})
    eca["input"]["shape"] = [1, 32, 8, 8]
    (tmp_path / "swapped.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "swapped.json"), "--baseline", str(base))
    assert r.exit_code == 1
    assert "eca case changed: block eca → cbam; option b 1 → (not set)" in r.stderr
    assert "option kernel_size 3 → 7; option ratio (not set) → 4" in r.stderr, r.stderr
    assert "input 1×32×16×16 → 1×32×8×8" in r.stderr and "higher" not in r.stderr


def test_check_other_versions_change_a_case_only_when_counts_moved(cli, tmp_path):
    base = _counts_only(cli, tmp_path, "base.json")
    doc = json.loads(base.read_text())
    for p in doc["results"]:
        p["environment"]["torch"] = "9.9.9"
    (tmp_path / "same-counts.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "same-counts.json"), "--baseline", str(base))
    assert r.exit_code == 0, r.output
    _grow(doc, "se", "flops", 5)
    (tmp_path / "moved.json").write_text(json.dumps(doc))
    r = cli("check", str(tmp_path / "moved.json"), "--baseline", str(base))
    assert r.exit_code == 1
    assert "se case changed: torch " in r.stderr and "→ 9.9.9" in r.stderr, r.stderr
    assert "higher" not in r.stderr


def test_check_prints_latency_interval_beside_the_ratio(cli, tmp_path):
    from attnprof.check import compare_results
    from attnprof.report.gate_views import check_view
    from attnprof.results import Profile

    fixture = Path(__file__).parent / "fixtures" / "compare_se_eca_cbam.json"
    base = _with_latency(json.loads(fixture.read_text()), "se", 1.0, 0.99, 1.01)
    cur = _with_latency(json.loads(fixture.read_text()), "se", 3.0, 2.97, 3.03)
    diffs = compare_results([Profile.from_dict(p) for p in cur["results"]],
                            [Profile.from_dict(p) for p in base["results"]])
    (row,) = [d for d in diffs if d.case == "se" and d.metric.startswith("latency")]
    # ratio 3 with an interval from the two: exp(±sqrt(2)·log(1.01)) around it
    assert row.ci_low < 3.0 < row.ci_high and row.verdict == "slower", row
    view = check_view(diffs)
    (cells,) = [r for r in view.rows if r[0] == "se" and r[1].startswith("latency")]
    assert cells[3] == "3.000 ms" and cells[4].startswith("3.00x (95% CI 2.9"), cells
