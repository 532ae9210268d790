"""``attnprof model``'s timing on the main road: the network timed under stat's timing
policy, the attention's own time (hooks) and the saving by removal (identity in its place),
each with an interval that says what it covers; the caller's thread count left as it was."""

import json
import math
from pathlib import Path

import pytest
import torch

import attnprof
from attnprof.results import NetworkProfile

FIXTURE = Path(__file__).parent / "fixtures" / "model_se_in_resnet18.json"


@pytest.fixture(scope="module")
def timed() -> NetworkProfile:
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    p = attnprof.model("resnet18", block="se", size=(32, 32), budget_s=0.3, time_cap_s=2.0,
                       threads=want)
    assert torch.get_num_threads() == before  # restored
    return p


def test_a_timed_network_has_both_measures_with_intervals(timed):
    doc = json.loads(json.dumps(timed.to_dict()))
    t = doc["timing"]
    assert t["threads"] == timed.timing.latency.threads
    assert t["runs"] >= 6 and t["latency"]["samples"] == t["runs"]
    for key in ("network_ms", "attention_ms", "attention_share"):
        low, high = t[f"{key}_ci"]
        assert low <= t[key] <= high
    for m in doc["modules"]:
        if m["time_ms_ci"]:
            assert m["time_ms_ci"][0] <= m["time_ms"] <= m["time_ms_ci"][1]
    removal = t["removal"]
    # share = 1 - bare / network, from the ratio network / bare
    assert math.isclose(removal["share"], 1 - 1 / removal["ratio"], rel_tol=1e-9)
    assert math.isclose(removal["share"], 1 - removal["bare_ms"] / t["network_ms"],
                        rel_tol=1e-9)
    lo, hi = removal["share_ci"]
    assert lo <= removal["share"] <= hi
    assert removal["verdict"] in ("faster", "slower", "same", "inconclusive")
    assert t["agreement"]
    assert t["stopped"] in ("decisive", "time cap", "max rounds") and t["rounds"] >= 3
    assert isinstance(t["warnings"], list) and t["threads_reason"]


def test_the_network_profile_reads_back_and_has_headlines(timed):
    doc = json.loads(json.dumps(timed.to_dict()))
    again = NetworkProfile.from_dict(doc)
    assert again.to_dict() == doc
    # torchvision's ResNet-18 (11,689,512) and eight SE blocks at ratio 4 without bias:
    # 2 * C * C/4 each, C = 64, 64, 128, 128, 256, 256, 512, 512
    assert timed.params == 11_689_512 + sum(c * c // 2 for c in (64, 64, 128, 128, 256, 256,
                                                                  512, 512))
    assert len(timed.modules) == 8
    assert timed.attention_params == sum(m.params for m in timed.modules)
    assert "NetworkProfile resnet18" in repr(timed)
    frame = timed.to_frame()
    assert list(frame["path"]) == [m.path for m in timed.modules]


def test_intervals_say_their_coverage():
    """With few forwards an order-statistic interval covers less than 95%: the table says
    so, never "95%"."""
    from attnprof.report import markdown
    from attnprof.report.network_views import model_views

    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    doc["timing"]["latency"]["ci_coverage"] = 0.75
    doc["timing"]["own"]["coverage"] = 0.75
    text = markdown.MarkdownRenderer().render(model_views(doc))
    assert "75% interval" in text
    network_row = next(line for line in text.splitlines() if line.startswith("| network |")
                       and "interval" in line)
    assert "95%" not in network_row


def test_timing_warnings_show_under_the_table():
    from attnprof.report import markdown
    from attnprof.report.network_views import model_views

    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    doc["timing"]["warnings"] = ["busy machine: 3 other runnable tasks + 2 timing threads > "
                                 "2 usable CPUs"]
    text = markdown.MarkdownRenderer().render(model_views(doc))
    assert "time: busy machine: 3 other runnable tasks" in text


def test_the_library_and_the_cli_give_the_same_counts(cli):
    r = cli("model", "resnet18", "--block", "eca", "-s", "32", "--no-latency", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    lib = attnprof.model("resnet18", block="eca", size=32, latency=False).to_dict()
    for key in ("network", "attention", "modules", "block", "counters"):
        assert lib[key] == doc[key], key
    # attnprof's count against torch's own counter, each called here directly: torch's
    # FlopCounterMode counts matmuls and convolutions only, 2 per MAC
    from torch.utils.flop_counter import FlopCounterMode

    from attnprof.building import build_network
    from attnprof.request import NetworkRequest, make_network_plan

    net = build_network(make_network_plan(NetworkRequest("resnet18", block="eca"))).network
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net.eval()(torch.randn(1, 3, 32, 32))
    assert doc["counters"]["torch"]["flops"] == counter.get_total_flops()
    assert doc["network"]["macs"] * 2 == counter.get_total_flops()


def test_host_latency_is_a_comparison_with_an_interval_and_a_verdict(cli):
    r = cli("stat", "eca", "--host", "resnet18", "-s", "32", "--backends", "attnprof",
            "--budget", "0.06", "--threads", "1", "-f", "json")
    assert r.exit_code == 0, r.output
    h = json.loads(r.stdout)["host"]
    base, total = h["latency_base_ms"], h["latency_total_ms"]
    assert math.isclose(h["latency_added_ms"], total - base, rel_tol=1e-9)
    assert math.isclose(h["latency_ratio"], total / base, rel_tol=1e-9)
    lo, hi = h["latency_ratio_ci"]
    assert lo <= h["latency_ratio"] <= hi
    assert h["latency_verdict"] in ("faster", "slower", "same", "inconclusive")
    added_lo, added_hi = h["latency_added_ci_ms"]
    assert math.isclose(added_lo, (lo - 1) * base) and math.isclose(added_hi, (hi - 1) * base)


def test_repeat_times_in_fresh_processes(cli):
    r = cli("model", "resnet18", "--block", "eca", "-s", "32", "--budget", "0.03",
            "--time-cap", "0.3", "--threads", "1", "--repeat", "1", "--backends", "attnprof",
            "-f", "json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout)["repeat"]
    assert rep["processes"] == 1 and len(rep["runs"]) == 1
    run = rep["runs"][0]
    assert run["network_ms"] > 0 and run["threads"] == 1
    assert rep["network_ms"]["min"] == rep["network_ms"]["max"] == run["network_ms"]
    assert rep["network_spread"] == 1.0


def test_one_view_feeds_every_format_of_model(cli, tmp_path):
    """The document's modules reach the CSV with raw figures, and the HTML with the table."""
    import csv

    from attnprof.report.media import renderer
    from attnprof.report.network_views import model_views

    out = tmp_path / "m.csv"
    r = cli("model", "resnet18", "--block", "eca", "-s", "32", "--no-latency", "-f", "json",
            "--csv", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [x["row"] for x in rows] == ["module"] * 8 + ["attention", "network"]
    for row, m in zip(rows, doc["modules"], strict=False):
        assert row["path"] == m["path"] and int(row["flops"]) == m["flops"]
        assert int(row["params"]) == m["params"]
    assert int(rows[-1]["params"]) == doc["network"]["params"]
    assert int(rows[-2]["flops"]) == sum(m["flops"] for m in doc["modules"])
    html = renderer("html").render(model_views(doc))
    assert "8 attention modules" in html and doc["modules"][0]["path"] in html


TOKEN_NET = '''
import torch
from torch import nn


class Net(nn.Module):
    """Conv stem, then self-attention over the 16 positions (a tuple out), then a head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=8, padding=1)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        t = self.stem(x).flatten(2).transpose(1, 2)
        t, _ = self.attn(t, t, t)
        return self.head(t.mean(1))
'''


def test_attention_that_identity_cannot_replace_is_timed_by_hooks_only(cli, tmp_path,
                                                                      monkeypatch):
    (tmp_path / "tokennet2.py").write_text(TOKEN_NET, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    r = cli("model", "tokennet2:Net", "-s", "32", "--budget", "0.03", "--time-cap", "0.3",
            "--threads", "1", "--backends", "attnprof", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [m["path"] for m in doc["modules"]] == ["attn"]
    t = doc["timing"]
    assert t["removal"] is None and "attn returns tuple" in t["removal_why"]
    assert t["own"]["forwards"] >= 3 and 0 < t["attention_share"] < 1


def test_a_model_document_read_back_is_checked():
    from attnprof.errors import BadDocument

    good = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert NetworkProfile.from_dict(good).to_dict()["modules"] == good["modules"]
    for bad in ({}, [], {"schema": "attnprof.model/2"}, {**good, "network": {}},
                {**good, "modules": [{"path": "x"}]}):
        with pytest.raises(BadDocument):
            NetworkProfile.from_dict(bad)


@pytest.mark.parametrize("kwargs,needle", [
    ({"nope": 1}, "takes no argument 'nope'"),
    ({"latency": "yes"}, "latency must be True or False"),
    ({"block": 3}, "block name must be a string"),
    ({"match": "layer*"}, "match must be a list"),
    ({"batch": 0}, "batch"),
])
def test_the_library_model_raises_attnprofs_errors(kwargs, needle):
    from attnprof.errors import AttnprofError

    with pytest.raises(AttnprofError, match=needle):
        attnprof.model("resnet18", **kwargs)
