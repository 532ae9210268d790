"""What stat and compare print, as a reviewer reads them in a CI log (issue 21): a headline
first, 120 columns when piped, each module's output shape, and stat's CSV."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

FAST = ["--budget", "0.05"]


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


@pytest.mark.parametrize("env", [{}, {"COLUMNS": "120"}])
@pytest.mark.parametrize("argv", [["stat", "se"], ["stat", "cbam"],
                                  ["compare", "se", "eca", "cbam", "--baseline", "se",
                                   "--rounds", "2", "--time-cap", "1"]])
def test_piped_output_fits_120_columns(cli, monkeypatch, argv, env):
    monkeypatch.delenv("COLUMNS", raising=False)
    r = cli(*argv, *FAST, env=env)
    assert r.exit_code == 0, r.output
    assert widest(r.stdout) <= 120, r.stdout
    assert "…" not in r.stdout


def test_stat_opens_with_params_macs_flops_and_latency(cli):
    """SE at 64 channels, 56x56, ratio 4 (the seed's default), no bias: 2 x 64 x 16 = 2,048
    parameters; MACs of the two linears 2,048; FLOPs 405,584 (the counters' table gives the
    same exact figures below)."""
    r = cli("stat", "se", *FAST)
    assert r.exit_code == 0, r.output
    first = r.stdout.splitlines()[0]
    assert re.fullmatch(r"se: 2\.05 k params, 2\.05 k MACs, 406 k FLOPs, latency \S+ [µm]s "
                        r"\([\d.]+% CI \S+ to \S+ [µm]s\)", first), first
    assert "405,584" in r.stdout and "parameters                   2,048" in r.stdout
    # latency's method is a note under the table, not a 100-character cell
    assert re.search(r"^latency: \d+ samples x \d+ runs", r.stdout, re.M), r.stdout


def test_markdown_opens_with_the_same_headline(cli):
    r = cli("stat", "se", "--no-latency", "-f", "markdown")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("### se: 2.05 k params, 2.05 k MACs, 406 k FLOPs\n"), r.stdout


def test_layers_show_each_output_shape(cli):
    """SE at 32 channels, 16x16, ratio 4: pooled to 32x1x1, squeezed to 32/4 = 8, excited
    back to 32, the block's output as its input."""
    r = cli("stat", "se", "-c", "32", "-s", "16", "--no-latency", "--layers",
            "--format", "json")
    assert r.exit_code == 0, r.output
    shapes = json.loads(r.stdout)["counters"]["attnprof"]["extra"]["output_shapes"]
    assert shapes == {"": [1, 32, 16, 16], "avg_pool": [1, 32, 1, 1], "fc1": [1, 8],
                      "relu": [1, 8], "fc2": [1, 32], "sigmoid": [1, 32]}
    r = cli("stat", "se", "-c", "32", "-s", "16", "--no-latency", "--layers")
    assert "output shape" in r.stdout
    assert re.search(r"^ fc1 +Linear +1×8 +256 ", r.stdout, re.M), r.stdout


def test_stat_writes_its_layers_and_ops_as_csv(cli, tmp_path):
    out = tmp_path / "se.csv"
    r = cli("stat", "se", "-c", "32", "-s", "16", "--no-latency", "--backends",
            "attnprof,torch", "--csv", str(out))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    layers = {r["name"]: r for r in rows if r["table"] == "layer"}
    ops = {r["name"]: r for r in rows if r["table"] == "op"}
    assert layers[""]["type"] == "SEBlock" and layers[""]["output_shape"] == "1x32x16x16"
    assert layers["fc1"]["params"] == "256" and layers["fc1"]["attnprof_macs"] == "256"
    assert layers["fc1"]["torchinfo_macs"] == ""  # not asked for: empty, not 0
    # the mean over 16x16 of 32 channels reads 8,192 elements; the gate multiplies 8,192
    assert ops["aten::mean"]["flops"] == "8192" and ops["aten::mul"]["flops"] == "8192"
    assert ops["aten::mm"]["attnprof_macs"] == "512"  # 32x8 + 8x32
    flops = sum(int(r["flops"]) for r in ops.values())
    assert flops == int(layers[""]["flops"])
