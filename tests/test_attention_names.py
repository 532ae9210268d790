"""Attention found by what its class is called (attnprof.zoo.attention.named_attention), for
the classes timm, torchvision and users name it by: the innermost module so named counts,
one that holds another attention module is looked into (its MLP and norms are not
attention), and a module found by type or by --match keeps what is inside it. The networks
here are plain torch, built with the names of the real classes; what must be found is read
off their construction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attnprof.zoo.attention import find_attention, named_attention


def _named(name: str, base: type = nn.Module, **body) -> type:
    return type(name, (base,), body)


class _Gate(nn.Module):
    def __init__(self, c: int = 8):
        super().__init__()
        self.fc = nn.Conv2d(c, c, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc(x.mean((2, 3), keepdim=True)))


@pytest.mark.parametrize("name", [
    "Attention", "AttentionCl", "Attention2d", "MultiQueryAttention2d", "WindowAttentionGlobal",
    "CrossCovarianceAttn", "FactorAttnConvRelPosEnc", "TalkingHeadAttn", "XCA", "EseModule",
    "SELayer", "SEModule", "EffectiveSEModule", "SqueezeExcite", "eca_layer", "ECALayer",
    "CBAM", "CoordAtt", "SKConv", "GlobalContext", "ContextBlock", "NONLocalBlock2D",
    "simam_module", "MultiheadAttention"])
def test_names_that_say_attention(name):
    assert named_attention(_named(name, _Gate)()) == f"name:{name}"


@pytest.mark.parametrize("name", [
    "Conv2d", "BatchNorm2d", "Sequential", "Bottleneck", "SEBottleneck", "SEResNetBlock",
    "SELU", "GELU", "Mlp", "Attribute", "Pattern", "SKNet", "ECANet", "MSE", "Stage"])
def test_names_that_do_not(name):
    assert named_attention(_named(name, _Gate)()) is None


def test_a_library_class_is_labelled_by_its_library():
    assert named_attention(nn.MultiheadAttention(8, 2)) == "torch:MultiheadAttention"


def _net() -> nn.Module:
    """A stem, then MaxViT-like blocks (PartitionAttentionCl holding AttentionCl, an MLP and
    norms), a block named like attention that holds none (a user's SELayer), CBAM-like
    nesting (CBAM holding a ChannelAttention), and a stage that holds an EseModule."""
    AttentionCl = _named("AttentionCl", _Gate)
    Partition = _named("PartitionAttentionCl", nn.Module)
    SELayer = _named("SELayer", _Gate)
    ChannelAttention = _named("ChannelAttention", _Gate)
    CBAM = _named("CBAM", nn.Module)
    EseModule = _named("EseModule", _Gate)

    def partition():
        p = Partition()
        p.norm1, p.attn, p.norm2 = nn.BatchNorm2d(8), AttentionCl(), nn.BatchNorm2d(8)
        p.mlp = nn.Sequential(nn.Conv2d(8, 16, 1), nn.GELU(), nn.Conv2d(16, 8, 1))
        return p

    cbam = CBAM()
    cbam.ca, cbam.sa = ChannelAttention(), nn.Conv2d(2, 1, 7, padding=3)
    net = nn.Module()
    net.stem = nn.Conv2d(3, 8, 3)
    net.blocks = nn.Sequential(partition(), partition())
    net.se = SELayer()
    net.cbam = cbam
    net.stage = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), EseModule())
    return net


def test_the_innermost_named_module_counts():
    found = {path: label for path, _m, label in find_attention(_net(), types={})}
    assert found == {"blocks.0.attn": "name:AttentionCl", "blocks.1.attn": "name:AttentionCl",
                     "se": "name:SELayer", "cbam.ca": "name:ChannelAttention",
                     "stage.1": "name:EseModule"}


def test_a_type_or_a_pattern_keeps_what_is_inside_it():
    net = _net()
    cbam_type = type(net.cbam)
    found = {path: label for path, _m, label in
             find_attention(net, ["blocks.*"], types={cbam_type: "attnprof:cbam"})}
    # --match blocks.* takes each whole block (outermost), CBAM by type takes its channel
    # attention with it
    assert found == {"blocks.0": "match:blocks.*", "blocks.1": "match:blocks.*",
                     "se": "name:SELayer", "cbam": "attnprof:cbam",
                     "stage.1": "name:EseModule"}


def test_names_are_not_slots():
    """The zoo's hosts replace attention found by type only (tokens=False)."""
    assert find_attention(_net(), types={}, tokens=False) == []


def test_model_reports_named_attention(cli, tmp_path, monkeypatch):
    """A user's network whose SE class is its own (not attnprof's, timm's or torchvision's)
    is found by its name, and its parameters are the module's."""
    (tmp_path / "usernet.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class SELayer(nn.Module):\n"
        "    def __init__(self, c, r=4):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Sequential(nn.Linear(c, c // r), nn.ReLU(), nn.Linear(c // r, c))\n"
        "    def forward(self, x):\n"
        "        w = torch.sigmoid(self.fc(x.mean((2, 3))))\n"
        "        return x * w[:, :, None, None]\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 16, 3, padding=1)\n"
        "        self.se = SELayer(16)\n"
        "        self.head = nn.Linear(16, 10)\n"
        "    def forward(self, x):\n"
        "        return self.head(self.se(self.conv(x)).mean((2, 3)))\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import json

    out = tmp_path / "m.json"
    r = cli("model", "usernet:Net", "-s", "16", "--no-latency", "--json", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert [(m["path"], m["found_by"]) for m in doc["modules"]] == [("se", "name:SELayer")]
    assert doc["attention"]["params"] == 2 * 16 * 4 + 4 + 16  # two Linear layers, biases
