"""Real networks: attnprof's hand-written hosts against torchvision layer by layer, timm's and
torchvision's networks as hosts, and `attnprof model` (the attention inside a whole network)
against timm and torchvision called directly. Whole networks run on the meta device."""

import fnmatch
import json
from dataclasses import replace

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from zoo_env import ZOO_PROBLEM, needs_zoo  # noqa: E402,F401

import attnprof
from attnprof.errors import BadInput
from attnprof.hosts import HOSTS, resolve_host
from attnprof.spec import import_object

META = torch.empty(1, 3, 224, 224, device="meta")


def nparams(m):
    return sum(p.numel() for p in m.parameters())


def shapes(m):
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def layer_macs(m, x=META):
    """MACs of every conv and linear layer by path, as PyTorch's FlopCounterMode counts them."""
    m.eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        m(x)
    counts = {name.split(".", 1)[1]: sum(ops.values()) // 2
              for name, ops in fc.get_flop_counts().items() if "." in name}
    return {path: counts[path] for path, sub in m.named_modules()
            if isinstance(sub, (nn.Conv2d, nn.Linear))}


def torchvision_net(name):
    import torchvision

    with torch.device("meta"):
        return torchvision.models.get_model(name, weights=None)


def timm_net(name, **kw):
    import timm

    with torch.device("meta"):
        return timm.create_model(name, pretrained=False, **kw)


def own_host(name):
    with torch.device("meta"):
        return import_object(HOSTS[name].factory)()


# -- attnprof's hosts are torchvision's networks --------------------------------------------

@needs_zoo
@pytest.mark.parametrize("own,tv", [("resnet18", "resnet18"), ("resnet34", "resnet34"),
                                    ("resnet50", "resnet50"), ("resnet101", "resnet101"),
                                    ("mobilenetv2", "mobilenet_v2")])
def test_hand_written_hosts_equal_torchvision_layer_by_layer(own, tv):
    mine, theirs = own_host(own), torchvision_net(tv)
    assert nparams(mine) == nparams(theirs) == HOSTS[own].params
    assert shapes(mine) == shapes(theirs)  # every parameter and buffer, by name
    macs = layer_macs(mine)
    assert macs == layer_macs(theirs)
    if own == "resnet50":
        assert sum(macs.values()) == 4_089_184_256


# -- networks of the zoo as hosts ------------------------------------------------------------

@needs_zoo
def test_timm_and_torchvision_host_names_resolve():
    assert resolve_host("timm:resnet50").source == "timm"
    assert resolve_host("torchvision:mobilenet_v3_small").slot.startswith("in place of every")
    assert HOSTS["timm:seresnet50"].factory == "attnprof.zoo.networks:timm.seresnet50"


@needs_zoo
@pytest.mark.parametrize("name,needle", [
    ("timm:resnt50", "did you mean 'resnet50'"),
    ("torchvision:vgg11", "no attention slot"),
    ("torchvision:nope", "no classification network"),
    ("timm:resnet50.a1_in1k", "drop the tag"),
    ("resnet49", "'resnet50'"),
])
def test_bad_host_names(name, needle):
    with pytest.raises(BadInput, match=None) as err:
        resolve_host(name)
    assert needle in str(err.value)


def _host_plan(host, block="se", **kw):
    """A validated plan with ``host`` resolved by attnprof.hosts.resolve_host."""
    from attnprof.request import ProfileRequest, make_plan

    plan = make_plan(ProfileRequest(block=block, host="resnet18", latency=False,
                                    backends=("attnprof",), **kw))
    return replace(plan, host=resolve_host(host))


@needs_zoo
def test_timm_resnet50_host_with_and_without_the_block():
    from attnprof.runner import profile

    r = profile(_host_plan("timm:resnet50", size=(64, 64)))
    h = r.host
    assert h.blocks == 16 and h.block_channels == [256, 512, 1024, 2048]
    assert h.base.params == nparams(timm_net("resnet50")) == 25_557_032
    # attnprof's SE (ratio 4, no bias) in each of timm's attn_layer slots
    assert h.added("params") == sum(2 * c * (c // 4) for c in [256] * 3 + [512] * 4
                                    + [1024] * 6 + [2048] * 3)
    x = torch.empty(1, 3, 64, 64, device="meta")
    assert h.base.macs == sum(layer_macs(timm_net("resnet50"), x).values())


@needs_zoo
def test_timm_seresnet50_host_with_timms_own_se_is_seresnet50():
    from attnprof.runner import profile

    r = profile(_host_plan("timm:seresnet50", block="timm:se", size=(32, 32)))
    assert r.host.total.params == nparams(timm_net("seresnet50")) == 28_088_024
    assert r.host.base.params == 25_557_032


@needs_zoo
def test_torchvision_se_positions_take_the_block():
    from torchvision.ops.misc import SqueezeExcitation

    from attnprof.runner import profile

    ref = torchvision_net("mobilenet_v3_small")
    ses = [m for m in ref.modules() if isinstance(m, SqueezeExcitation)]
    r = profile(_host_plan("torchvision:mobilenet_v3_small", block="eca", size=(64, 64)))
    assert r.host.blocks == len(ses) == 9
    assert r.host.base.params == nparams(ref) - sum(nparams(m) for m in ses)
    assert sorted(r.host.block_channels) == sorted({m.fc1.in_channels for m in ses})


@needs_zoo
def test_torchvision_resnet_host_is_attnprofs_resnet():
    from attnprof.runner import profile

    a = profile(_host_plan("torchvision:resnet18", size=(32, 32)))
    b = attnprof.profile("se", host="resnet18", size=32, latency=False, backends=("attnprof",))
    assert (a.host.base.params, a.host.total.params) == (b.host.base.params, b.host.total.params)
    assert (a.host.base.macs, a.host.total.macs) == (b.host.base.macs, b.host.total.macs)


@needs_zoo
def test_stat_with_a_timm_host_on_the_command_line(cli):
    r = cli("stat", "se", "--host", "timm:resnet50", "-s", "32", "--no-latency",
            "--backends", "attnprof", "-f", "json")
    assert r.exit_code == 0, r.output
    host = json.loads(r.stdout)["host"]
    assert host["name"] == "timm:resnet50" and host["blocks"] == 16
    assert host["params_base"] == 25_557_032


# -- attnprof model --------------------------------------------------------------------------

def _se_params(c):
    rd = max(8, int(c / 16 + 4) // 8 * 8)  # timm's make_divisible(c / 16, 8)
    return 2 * c * rd + rd + c, 2 * c * rd


SERESNET50_SLOTS = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3


@needs_zoo
def test_model_finds_seresnet50s_16_se_modules(cli):
    r = cli("model", "timm:seresnet50", "--no-latency", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["network"]["input"] == [1, 3, 224, 224]
    assert doc["network"]["params"] == nparams(timm_net("seresnet50")) == 28_088_024
    mods = doc["modules"]
    assert len(mods) == doc["attention"]["modules"] == 16
    assert all(m["type"] == "SEModule" and m["found_by"] == "timm:se" for m in mods)
    assert [m["path"] for m in mods][:2] == ["layer1.0.se", "layer1.1.se"]
    for m, c in zip(mods, SERESNET50_SLOTS, strict=True):
        assert (m["params"], m["macs"]) == _se_params(c)
    assert doc["attention"]["params"] == 28_088_024 - 25_557_032
    net_macs = sum(layer_macs(timm_net("seresnet50")).values())
    assert doc["network"]["macs"] == net_macs
    assert doc["attention"]["share"]["params"] == pytest.approx(2_530_992 / 28_088_024)


@needs_zoo
def test_model_of_torchvision_mobilenet_v3_small_is_timed(cli):
    from torchvision.ops.misc import SqueezeExcitation

    ref = torchvision_net("mobilenet_v3_small")
    ses = {p: nparams(m) for p, m in ref.named_modules() if isinstance(m, SqueezeExcitation)}
    r = cli("model", "torchvision:mobilenet_v3_small", "-s", "64", "--budget", "0.05",
            "--time-cap", "1", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert {m["path"]: m["params"] for m in doc["modules"]} == ses
    assert doc["network"]["params"] == nparams(ref)
    t = doc["timing"]
    assert t["runs"] >= 3 and "torch.utils.benchmark" in t["method"]
    assert "module hooks" in t["own"]["method"] and t["rounds"] >= 3
    assert 0 < doc["attention"]["share"]["time"] < 1
    assert all(m["time_ms"] > 0 for m in doc["modules"])
    # the modules' own time is part of the hooked forward's
    assert sum(m["time_ms"] for m in doc["modules"]) < t["own"]["network_ms"]
    # every SE module keeps its input's shape: identity stands in for each, and the saving
    # by removal is measured beside the own time
    assert t["removal"] is not None and t["removal_why"] is None


def test_model_with_a_block_and_match_patterns(cli):
    r = cli("model", "resnet18", "--block", "eca", "--no-latency", "-s", "64", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["attention"]["modules"] == 8 and doc["block"]["name"] == "eca"
    assert all(m["found_by"] == "attnprof:eca" for m in doc["modules"])
    r = cli("model", "resnet18", "--match", "layer*.*.bn2", "--no-latency", "-s", "64",
            "-f", "json")
    doc = json.loads(r.stdout)
    net = own_host("resnet18")
    paths = [p for p, _ in net.named_modules() if fnmatch.fnmatchcase(p, "layer*.*.bn2")]
    assert [m["path"] for m in doc["modules"]] == paths and len(paths) == 8
    assert doc["attention"]["params"] == sum(net.get_submodule(p).weight.numel() * 2
                                             for p in paths)


def test_model_table_output(cli):
    r = cli("model", "mobilenetv2", "--block", "se", "--no-latency", "-s", "32",
            terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "17 attention modules" in r.stdout and "features.1.conv.1" in r.stdout


@pytest.mark.parametrize("args,needle", [
    (["model", "resnet49"], "'resnet50'"),
    (["model", "resnet18", "-o", "ratio=8"], "need a block"),
    (["model", "resnet18", "--block", "se", "-o", "ratio=1024"], "64-channel slot"),
    (["model", "resnet18", "--batch", "0"], "batch"),
    (["model", "resnet18", "--time-cap", "0"], "--time-cap"),
    (["model", "resnet18", "--time-cap", "nan"], "--time-cap"),
    (["model", "resnet18", "--repeat", "-1"], "--repeat"),
    (["model", "resnet18", "--repeat", "51"], "--repeat"),
    (["model", "resnet18", "--repeat", "2"], "drop --no-latency"),
    (["model", "resnet18", "--backends", "nope"], "unknown backend"),
    (["model", "resnet18", "--device", "meta"], "counting only"),
    (["model", "", ], "needs a network"),
])
def test_model_bad_input(cli, args, needle):
    r = cli(*args, "--no-latency")
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and "Traceback" not in r.output


@pytest.mark.parametrize("args", [
    ["model", "timm:seresnet50", "--no-latency"],
    ["model", "torchvision:mobilenet_v3_small", "--no-latency"],
    ["stat", "se", "--host", "timm:resnet50", "--no-latency"],
])
def test_zoo_commands_without_the_extra_give_the_hint(cli, monkeypatch, args):
    import sys

    for name in ("timm", "torchvision"):
        monkeypatch.setitem(sys.modules, name, None)
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert "pip install 'attnprof[zoo]'" in r.stderr and "Traceback" not in r.output
