"""``attnprof model``'s timing: intervals on every median it reports, and the caller's
thread count left as it was."""

import json

import torch

from attnprof.model import analyze


def test_model_timing_has_intervals_and_restores_threads():
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    report = analyze("resnet18", block="se", size=(32, 32), latency=True, budget_s=0.3,
                     threads=want)
    assert torch.get_num_threads() == before
    doc = json.loads(json.dumps(report.to_dict()))
    t = doc["timing"]
    assert t["threads"] == want and t["runs"] >= 3
    for key in ("network_ms", "attention_ms", "attention_share"):
        low, high = t[f"{key}_ci"] if t[f"{key}_ci"] else (t[key], t[key])
        assert low <= t[key] <= high
    for m in doc["modules"]:
        if m["time_ms_ci"]:
            assert m["time_ms_ci"][0] <= m["time_ms"] <= m["time_ms_ci"][1]
    assert isinstance(t["warnings"], list)


def test_timing_warnings_show_under_the_table():
    from pathlib import Path

    from attnprof.report import markdown
    from attnprof.report.views import model_views

    doc = json.loads((Path(__file__).parent / "fixtures" / "model_se_in_resnet18.json")
                     .read_text(encoding="utf-8"))
    doc["timing"]["warnings"] = ["busy machine: 3 other runnable tasks + 2 timing threads > "
                                 "2 usable CPUs"]
    text = markdown.to_markdown(model_views(doc))
    assert "time: busy machine: 3 other runnable tasks" in text
