"""Hardening III (issue 23): documents read back are held to what their figures mean.

A results file that passes the schema yet cannot be true (an inverted interval, a median
outside it, a share above 1, coverage that does not add up, a ratio that is not the quotient
of the values it divides) is ``FILE: where: what is wrong`` and exit 2. A fuzz test mutates
valid documents field by field: every mutation gets a clean answer (read, or BadInput)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from docedit import change_count, scale_latency
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnprof.check import compare_results, load_results
from attnprof.coherence import incoherence
from attnprof.errors import AttnprofError, BadInput

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DOCS = ("compare_se_eca_cbam.json", "run_budgets.json", "sweep_se_eca_sizes.json",
        "compare_in_resnet18.json")


def doc(name: str = "compare_se_eca_cbam.json") -> dict:
    return json.loads((FIXTURES / name).read_text())


def refused(tmp_path, d: dict, needle: str) -> str:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(d))
    with pytest.raises(BadInput) as info:
        load_results(str(path))
    line = str(info.value)
    assert line.startswith(f"{path}: ") and needle in line, line
    assert "\n" not in line
    return line


@pytest.mark.parametrize("name", DOCS)
def test_the_shipped_fixtures_are_coherent(name):
    assert incoherence(doc(name), "attnprof.results/1") is None


def test_inverted_latency_interval(tmp_path):
    d = doc()
    lat = d["results"][0]["latency"]
    lat["ci_low_ms"], lat["ci_high_ms"] = lat["ci_high_ms"], lat["ci_low_ms"]
    refused(tmp_path, d, "results[0].latency: the interval is inverted: ci_low_ms")


def test_median_outside_its_interval(tmp_path):
    d = doc()
    d["results"][1]["latency"]["ci_low_ms"] = d["results"][1]["latency"]["median_ms"] * 1.5
    d["results"][1]["latency"]["ci_high_ms"] = d["results"][1]["latency"]["median_ms"] * 2
    refused(tmp_path, d, "results[1].latency: median_ms")


def test_median_above_p90_and_below_min(tmp_path):
    d = doc()
    lat = d["results"][0]["latency"]
    lat["min_ms"] = lat["median_ms"] * 1.001
    refused(tmp_path, d, "results[0].latency: min_ms")


def test_shares_lie_in_zero_one(tmp_path):
    d = json.loads((FIXTURES / "stat_se_layers_ops.json").read_text())
    d["op_times"][0]["share"] = 1.5
    assert incoherence(d, "attnprof.profile/1") == \
        "op_times[0].share: a share must lie in [0, 1], got 1.5"
    d["op_times"][0]["share"] = 0.99  # each within [0, 1], but together more than the whole
    assert "add up to" in incoherence(d, "attnprof.profile/1")
    d["latency"]["ci_coverage"] = -0.1
    d["op_times"][0]["share"] = 0.0
    assert "ci_coverage" in incoherence(d, "attnprof.profile/1")


def test_coverage_must_add_up(tmp_path):
    d = doc()
    d["results"][0]["counters"]["torchstat"]["counted_flops"] += 1
    refused(tmp_path, d, "results[0].counters.torchstat: counted_flops 1033 + missed ops "
                         "16416 + unexplained_flops 0 = 17449, not attnprof's flops 17448")


def test_own_totals_are_the_sums_of_its_ops(tmp_path):
    d = doc()
    d["results"][2]["counters"]["attnprof"]["bytes_read"] += 4
    refused(tmp_path, d, "results[2].counters.attnprof.bytes_read: 206348 is not the sum "
                         "over its ops (206344)")


def test_reported_is_the_figure_its_unit_names(tmp_path):
    d = doc()
    d["results"][0]["counters"]["torch"]["reported"] = 512  # torch reports FLOPs: 1024
    refused(tmp_path, d, "results[0].counters.torch.reported: 512 FLOPs is not its flops")


def test_comparison_ratio_and_diff(tmp_path):
    d = doc()
    d["comparison"]["rows"][1]["params"]["ratio"] = 0.5  # eca 3 / se 512
    refused(tmp_path, d, "comparison.rows[1].params.ratio: 0.5 is not the value 3 over the "
                         "baseline's 512")
    d = doc()
    d["comparison"]["rows"][2]["flops"]["diff"] = 1
    refused(tmp_path, d, "comparison.rows[2].flops.diff")


def test_trainable_at_most_total(tmp_path):
    d = doc()
    d["results"][0]["params"]["trainable"] = d["results"][0]["params"]["total"] + 1
    refused(tmp_path, d, "results[0].params: trainable 513 is above total 512")


def test_budgets_agree_with_their_outcome_and_limit(tmp_path):
    d = doc("run_budgets.json")
    d["budgets"][1]["passed"] = True  # params 256 <= 255
    refused(tmp_path, d, "budgets[1]: passed is true, yet the value 256 is over the limit 255")


def test_scaling_exponent_inside_its_interval(tmp_path):
    d = doc("sweep_se_eca_sizes.json")
    fit = d["scaling"][0]["fits"]["flops"]
    fit["slope_low"], fit["slope_high"] = fit["slope_high"], fit["slope_low"]
    refused(tmp_path, d, "scaling[0].fits.flops: the interval is inverted")


def test_host_added_is_total_less_base(tmp_path):
    d = doc("compare_in_resnet18.json")
    d["results"][0]["host"]["macs_added"] += 1
    refused(tmp_path, d, "results[0].host.macs_added")


def test_coherent_edits_still_read(tmp_path):
    d = doc()
    change_count(d["results"][1], "flops", 1000)
    scale_latency(d["results"][0], 3)
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(d))
    assert len(load_results(str(path))) == 3


def test_check_cli_exit_2_for_an_inverted_interval(cli, tmp_path):
    d = doc()
    lat = d["results"][0]["latency"]
    lat["ci_low_ms"], lat["ci_high_ms"] = lat["ci_high_ms"], lat["ci_low_ms"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    r = cli("check", str(bad), "--baseline", str(FIXTURES / "compare_se_eca_cbam.json"))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.strip() == (f"error: {bad}: results[0].latency: the interval is inverted: "
                                f"ci_low_ms {lat['ci_low_ms']:.6g} is above ci_high_ms "
                                f"{lat['ci_high_ms']:.6g}")


# -- fuzz: every field, mutated ---------------------------------------------------------------

def _leaves(v, path=()):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _leaves(x, (*path, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _leaves(x, (*path, i))
    yield path


def _put(d, path, value):
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


MUTATIONS = st.sampled_from([None, True, 0, -1, 1, 0.5, 1.5, -0.0, 1e300, -1e300, 2**63,
                             2**70, "", "x", [], {}, [1, 2], {"a": 1}])
PATHS = {name: [p for p in _leaves(doc(name)) if p] for name in DOCS}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(st.sampled_from(DOCS), st.data(), MUTATIONS, st.sampled_from(["set", "scale", "swap"]))
def test_fuzz_every_mutation_gets_a_clean_answer(tmp_path, name, data, value, how):
    base = doc(name)
    d = copy.deepcopy(base)
    path = data.draw(st.sampled_from(PATHS[name]))
    old = d
    for key in path:
        old = old[key]
    if how == "scale" and isinstance(old, (int, float)) and not isinstance(old, bool):
        value = old * data.draw(st.sampled_from([-1, 2, 0.5, 10**6]))
    elif how == "swap" and path[-1] in ("ci_low_ms", "ci_high_ms", "slope_low", "slope_high",
                                        "ci_low", "ci_high", "min_ms", "p90_ms"):
        other = {"ci_low_ms": "ci_high_ms", "ci_high_ms": "ci_low_ms", "slope_low":
                 "slope_high", "slope_high": "slope_low", "ci_low": "ci_high", "ci_high":
                 "ci_low", "min_ms": "p90_ms", "p90_ms": "min_ms"}[path[-1]]
        parent = d
        for key in path[:-1]:
            parent = parent[key]
        value = parent.get(other)
    _put(d, path, value)
    file = tmp_path / "m.json"
    file.write_text(json.dumps(d))
    try:
        profiles = load_results(str(file))
    except BadInput as exc:
        line = str(exc)
        assert line.startswith(f"{file}: ") and "\n" not in line and "Traceback" not in line
        return
    # read: then check can use it, against itself and the unmutated original
    try:
        compare_results(profiles, profiles)
        original = tmp_path / "o.json"
        original.write_text(json.dumps(base))
        compare_results(profiles, load_results(str(original)))
    except AttnprofError:
        pass


@pytest.mark.parametrize(("content", "needle"), [
    ('{"schema": "attnprof.results/2", "results": []}', "written by a newer attnprof"),
    ('{"schema": "attnprof.results/12"}', "an attnprof.results/12 document"),
    ("[1]", "a JSON object is needed"),
    ('"x"', "a JSON object is needed"),
    ('{"schema": "attnprof.profile/1"}', "single profile"),
    ("{}", "(schema: None)"),
])
def test_other_documents_and_later_versions(cli, tmp_path, content, needle):
    path = tmp_path / "x.json"
    path.write_text(content)
    r = cli("check", str(path), "--baseline", str(path))
    assert r.exit_code == 2 and needle in r.stderr and r.stderr.count("\n") == 1, r.output


def test_comparison_latency_interval_ordered(tmp_path):
    d = doc()
    cell = d["comparison"]["rows"][1]["latency_ms"]
    cell.update(ci_low=0.8, ci_high=1.2, verdict="inconclusive")  # as compare writes now
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(d))
    assert len(load_results(str(path))) == 3
    cell.update(ci_low=1.2, ci_high=0.8)
    refused(tmp_path, d, "comparison.rows[1].latency_ms: ci_low 1.2 is above ci_high 0.8")
