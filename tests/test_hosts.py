"""Host networks: torchvision's parameter counts, ResNet-50's MACs (v1.5 and v1), and the
papers' totals with SE, CBAM, ECA and coordinate attention inserted."""

import json
from pathlib import Path

import pytest
import torch

import attnprof
from attnprof.counters.own import count_module
from attnprof.hosts import HOSTS
from attnprof.registry import import_object

ROOT = Path(__file__).resolve().parents[1]

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


# -- ResNet-50 v1 and paper mode ------------------------------------------------------------

def test_resnet50_v1_moves_the_stride_to_the_first_1x1():
    v1 = import_object(HOSTS["resnet50_v1"].factory)()
    v15 = import_object(HOSTS["resnet50"].factory)()
    assert {k: v.shape for k, v in v1.state_dict().items()} == \
        {k: v.shape for k, v in v15.state_dict().items()}
    for stage, stride in (("layer1", 1), ("layer2", 2), ("layer3", 2), ("layer4", 2)):
        first = getattr(v1, stage)[0]
        assert first.conv1.stride == (stride, stride) and first.conv2.stride == (1, 1)
        assert getattr(v15, stage)[0].conv2.stride == (stride, stride)


# The first 1x1 of stages 2-4 runs at the stage's input resolution in v1.5 and at half of it
# in v1: v1 saves 3/4 of inplanes·planes·H² there (H = 56, 28, 14 at 224).
V1_SAVING = sum(3 * cin * planes * h * h // 4
                for cin, planes, h in ((256, 128, 56), (512, 256, 28), (1024, 512, 14)))
V1_MACS = 4_089_184_256 - V1_SAVING
SE_R16_MACS = sum(2 * c * (c // 16) for c in SLOTS)
RES = {256: 56, 512: 28, 1024: 14, 2048: 7}  # each slot's resolution at 224


def test_resnet50_v1_conv_fc_macs_are_the_papers_3_86_g():
    net = import_object(HOSTS["resnet50_v1"].factory)()
    macs = count_module(net, (1, 3, 224, 224), torch.float32).total.macs
    assert macs == V1_MACS == 3_857_973_248
    assert round(macs / 1e9, 2) == 3.86  # SE (Table 2), CBAM, ECA-Net: ResNet-50 3.86 GFLOPs


def test_eca_by_stage_is_ecanets_k3557():
    from attnprof.zoo.paper import eca_by_stage

    assert [eca_by_stage(c).kernel_size for c in (256, 512, 1024, 2048)] == [3, 5, 5, 7]
    assert [eca_by_stage(c, ksize=3357).kernel_size for c in (256, 512)] == [3, 3]
    with pytest.raises(ValueError, match="not a stage"):
        eca_by_stage(384)
    with pytest.raises(ValueError, match="odd digit"):
        eca_by_stage(256, ksize=3457)


def test_paper_suite_reproduces_the_published_rows(cli):
    r = cli("run", str(ROOT / "configs" / "paper-resnet50-v1.toml"), "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert all(b["passed"] for b in doc["budgets"]) and len(doc["budgets"]) == 8
    host = {p["name"]: p["host"] for p in doc["results"]}
    assert all(h["name"] == "resnet50_v1" and h["macs_base"] == V1_MACS for h in host.values())
    assert host["resnet50-v1"]["params_total"] == 25_557_032
    se = host["se-r16"]
    assert se["params_total"] == 28_088_024 and se["macs_added"] == SE_R16_MACS
    assert se["macs_total"] == 3_860_488_192  # CBAM's table: ResNet-50 + SE 3.860 G
    cbam = host["cbam-r16"]
    spatial = sum(2 * 49 * RES[c] ** 2 for c in SLOTS)  # 7x7 conv over [mean; max]
    assert cbam["params_added"] == sum(se_params(c) + 2 * 49 for c in SLOTS)
    assert cbam["macs_added"] == 2 * SE_R16_MACS + spatial  # the shared MLP runs twice
    assert round(cbam["macs_total"] / 1e9, 3) == 3.864  # CBAM's table: 3.864 G
    eca = host["eca-k3557"]
    assert eca["params_added"] == 80  # ECA-Net: 80 parameters added to ResNet-50
    assert round(eca["params_total"] / 2**20, 2) == 24.37
    assert eca["macs_added"] == sum(c * k for c, k in zip(SLOTS, [3] * 3 + [5] * 10 + [7] * 3,
                                                           strict=True))
