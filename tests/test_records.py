"""One record per concept (issue 22): one cost record for the counter, the rules, the results
and networks; the records hold data only and the report layer gives them their presentation."""

from __future__ import annotations

import ast
import json
from dataclasses import fields
from pathlib import Path

import torch
from fresh import fresh_python
from torch import nn

from attnprof.counters import rules
from attnprof.counters.own import count_module
from attnprof.results import Cost, OpCost

RESULTS = Path(__file__).resolve().parent.parent / "attnprof" / "results"


def test_costs_add_field_by_field():
    a = Cost(calls=1, macs=2, flops=3, transcendentals=4, bytes_read=5, bytes_written=6,
             uncounted=7)
    b = Cost(calls=10, macs=20, flops=30, transcendentals=40, bytes_read=50, bytes_written=60,
             uncounted=70)
    s = a + b
    assert type(s) is Cost
    assert [getattr(s, f.name) for f in fields(Cost)] == [11, 22, 33, 44, 55, 66, 77]
    assert s.bytes == 55 + 66


def test_a_rules_cost_is_the_cost_record():
    assert issubclass(rules.Cost, Cost) and issubclass(OpCost, Cost)
    assert {f.name for f in fields(rules.Cost)} == {f.name for f in fields(Cost)} | {
        "written_outputs"}


def test_the_counter_sums_the_cost_record():
    """nn.Linear(4, 3) on 2x4: addmm, 2*4*3 = 24 MACs and 48 FLOPs (torch's flop_counter's
    formula); the totals, every op's and every module's are Costs, the total the sum of the
    ops'."""
    r = count_module(nn.Linear(4, 3), (2, 4), torch.float32)
    assert type(r.total) is Cost
    assert (r.total.macs, r.total.flops) == (24, 48)
    total = Cost()
    for cost in r.ops.values():
        assert type(cost) is Cost
        total = total + cost
    assert total == r.total
    assert r.layers[""] == r.total


def test_the_records_never_import_the_report_layer():
    """No module of attnprof.results imports attnprof.report (nor the library or the CLI),
    lazily or not."""
    files = sorted(RESULTS.glob("*.py"))
    assert len(files) >= 5, RESULTS  # the package's modules, found
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("attnprof.report", "attnprof.library",
                                            "attnprof.cli")), (path.name, name)


def test_presentation_is_attached_on_import_and_import_attnprof_stays_light():
    code = (
        "import json, sys\nimport attnprof\n"
        "light = [m for m in ('attnprof.results', 'attnprof.report.present') if m in sys.modules]\n"
        "from attnprof.results import NetworkProfile, Profile\n"
        "got = {n: getattr(Profile, n).__module__ for n in "
        "('__repr__', '_repr_html_', 'show', 'report', 'to_frame')}\n"
        "got.update({'net ' + n: getattr(NetworkProfile, n).__module__ "
        "for n in ('__repr__', 'to_frame')})\n"
        "print(json.dumps({'light': light, 'got': got}))")
    doc = json.loads(fresh_python(code).strip().splitlines()[-1])
    assert doc["light"] == []
    assert set(doc["got"].values()) == {"attnprof.report.present"}, doc["got"]


def test_a_network_module_holds_the_cost_record():
    from attnprof.results import ModuleCost

    cost = Cost(calls=2, macs=1, flops=2, transcendentals=5, bytes_read=3, bytes_written=4)
    m = ModuleCost(path="a.se", type="SE", found_by="attnprof:se", params=9, cost=cost)
    d = m.to_dict()
    assert list(d) == ["path", "type", "found_by", "params", "macs", "flops", "bytes",
                       "time_ms", "time_share", "time_ms_ci"]
    assert (d["macs"], d["flops"], d["bytes"]) == (1, 2, 3 + 4)
    assert ModuleCost.from_dict(d, {"a.se": cost}).cost == cost  # the own count's record
    alone = ModuleCost.from_dict(d)  # no layer costs: the document's three figures
    assert alone.cost == Cost(macs=1, flops=2, bytes_read=7) and alone.to_dict() == d
    other = Cost(macs=1, flops=2, bytes_read=1)  # a layer cost that disagrees is not taken
    assert ModuleCost.from_dict(d, {"a.se": other}).cost == Cost(macs=1, flops=2, bytes_read=7)
