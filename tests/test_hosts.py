"""Host networks: torchvision's parameter counts, ResNet-50's MACs, and the papers' totals
with SE, CBAM, ECA and coordinate attention inserted."""

import json

import pytest
import torch

import attnprof
from attnprof.counters.own import count_module
from attnprof.hosts import HOSTS
from attnprof.registry import import_object

# torchvision's published parameter counts of its models
TORCHVISION = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
               "resnet101": 44_549_160, "mobilenetv2": 3_504_872}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_parameter_counts_equal_torchvision(name):
    net = import_object(HOSTS[name].factory)()
    assert sum(p.numel() for p in net.parameters()) == TORCHVISION[name]


def test_resnet50_conv_fc_macs_at_224():
    net = import_object(HOSTS["resnet50"].factory)()
    assert count_module(net, (1, 3, 224, 224), torch.float32).total.macs == 4_089_184_256


def se_params(c, ratio=16, bias=True):
    return 2 * c * (c // ratio) + ((c // ratio + c) if bias else 0)


# ResNet-50's slots: 3 bottlenecks at 256 channels, 4 at 512, 6 at 1024, 3 at 2048.
SLOTS = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3


def eca_k(c):
    import math

    t = int(abs((math.log2(c) + 1) / 2))
    return t if t % 2 else t + 1


@pytest.mark.parametrize("block,opts,added,paper", [
    ("se", {"ratio": 16, "bias": True}, sum(se_params(c) for c in SLOTS), 28.09e6),
    ("cbam", {"ratio": 16, "bias": True}, sum(se_params(c) + 2 * 49 for c in SLOTS), 28.09e6),
    ("eca", {}, sum(eca_k(c) for c in SLOTS), 24.37 * 2**20),
])
def test_resnet50_with_paper_blocks(block, opts, added, paper):
    r = attnprof.profile(block, host="resnet50", options=opts, latency=False,
                         backends=("attnprof",))
    h = r.host
    assert h.base.params == 25_557_032 and h.added("params") == added
    assert h.total.params == 25_557_032 + added
    assert h.blocks == 16 and h.block_channels == [256, 512, 1024, 2048]
    assert abs(h.total.params - paper) < 0.005e6 * (2**20 / 1e6 if block == "eca" else 1)
    assert h.base.macs == 4_089_184_256 and h.added("macs") > 0
    if block == "se":  # SE's FC MACs: 2·C·(C/16) per slot
        assert h.added("macs") == sum(2 * c * (c // 16) for c in SLOTS)


def test_mobilenetv2_with_coordinate_attention_is_the_papers_3_95m():
    r = attnprof.profile("coord_attention", host="mobilenetv2", latency=False,
                         backends=("attnprof",))
    assert r.host.base.params == 3_504_872
    assert round(r.host.total.params / 1e6, 2) == 3.95
    assert r.host.blocks == 17  # every inverted residual


def test_stat_host_cli_json_and_table(cli):
    r = cli("stat", "eca", "--host", "resnet18", "-s", "64", "--budget", "0.05",
            "--backends", "attnprof,torchinfo", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for key in ("name", "params_base", "params_total", "params_added", "macs_base",
                "macs_total", "macs_added", "latency_base_ms", "latency_total_ms"):
        assert doc["host"][key] is not None, key
    assert doc["input"]["shape"] == [1, 3, 64, 64]
    assert doc["host"]["params_total"] == doc["params"]["total"]
    r = cli("stat", "se", "--host", "resnet18", "--no-latency", "--backends", "attnprof",
            terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "In resnet18: 8 blocks" in r.stdout and "2^20" in r.stdout and "%" in r.stdout
    assert "1×3×224×224" in r.stdout


def test_compare_in_a_host(cli):
    r = cli("compare", "se", "eca", "--host", "resnet18", "-s", "32", "--no-latency",
            "--backends", "attnprof", "-f", "markdown")
    assert r.exit_code == 0, r.output
    assert "se in resnet18" in r.stdout and "+params" in r.stdout


@pytest.mark.parametrize("args,needle", [
    (["stat", "se", "--host", "resnet49"], "'resnet50'"),
    (["stat", "se", "--host", "resnet50", "--channels", "64"], "does not apply"),
    (["stat", "se", "--host", "resnet18", "-o", "ratio=128"], "64-channel slot"),
])
def test_host_bad_input(cli, args, needle):
    r = cli(*args, "--no-latency")
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and "Traceback" not in r.output


def test_host_needs_a_block_name():
    from attnprof.errors import BadInput

    with pytest.raises(BadInput, match="needs a block name"):
        attnprof.profile(attnprof.create_block("se", 16), host="resnet18", latency=False)
