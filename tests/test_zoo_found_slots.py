"""timm's networks beyond its ResNet family as hosts (their own attention modules on feature
maps are the slots), and self-attention over tokens found by ``attnprof model``. Expected
figures come from timm called directly; whole networks run on the meta device."""

import json

import torch
from torch import nn
from zoo_env import needs_zoo  # noqa: E402

from attnprof.hosts import resolve_host

pytestmark = needs_zoo


def timm_net(name):
    import timm

    with torch.device("meta"):
        return timm.create_model(name, pretrained=False)


def nparams(m):
    return sum(p.numel() for p in m.parameters())


def test_timms_own_se_positions_take_the_block():
    from timm.models._efficientnet_blocks import SqueezeExcite

    import attnprof

    ref = timm_net("test_efficientnet")
    ses = [m for m in ref.modules() if isinstance(m, SqueezeExcite)]
    assert ses, "timm's test_efficientnet has SE modules"
    p = attnprof.profile("se", host="timm:test_efficientnet", size=32, latency=False,
                         backends=("attnprof",))
    h = p.host
    assert h.blocks == len(ses)
    assert h.base.params == nparams(ref) - sum(nparams(m) for m in ses)
    channels = [m.conv_reduce.in_channels for m in ses]  # what each SE is fed
    assert sorted(h.block_channels) == sorted(set(channels))
    # attnprof's SE: ratio 4, no bias: 2 * C * (C / 4) parameters per slot
    assert h.added("params") == sum(2 * c * (c // 4) for c in channels)
    assert "in place of every attention module timm built" in h.slot


def test_token_attention_is_no_host_slot(cli):
    r = cli("stat", "se", "--host", "timm:test_vit", "-s", "32", "--no-latency",
            "--backends", "attnprof")
    assert r.exit_code == 2, r.output
    assert "no attention module on a feature map" in r.output
    assert resolve_host("timm:test_vit").source == "timm"


def test_model_finds_self_attention_over_tokens(cli, tmp_path):
    from timm.models.vision_transformer import Attention

    ref = timm_net("test_vit")
    attn = [m for m in ref.modules() if isinstance(m, Attention)]
    out = tmp_path / "m.json"
    r = cli("model", "timm:test_vit", "--no-latency", "--json", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert len(doc["modules"]) == len(attn) > 0
    assert {m["found_by"] for m in doc["modules"]} == {"timm:Attention"}
    assert doc["attention"]["params"] == sum(nparams(m) for m in attn)


def test_model_finds_torchs_multihead_attention(cli, tmp_path, monkeypatch):
    (tmp_path / "tokennet.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.stem = nn.Conv2d(3, 16, 4, stride=4)\n"
        "        self.mha = nn.MultiheadAttention(16, 2, batch_first=True)\n"
        "    def forward(self, x):\n"
        "        t = self.stem(x).flatten(2).transpose(1, 2)\n"
        "        return self.mha(t, t, t)[0].mean(1)\n")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "m.json"
    r = cli("model", "tokennet:Net", "-s", "32", "--no-latency", "--json", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert [m["found_by"] for m in doc["modules"]] == ["torch:MultiheadAttention"]
    assert doc["attention"]["params"] == nparams(nn.MultiheadAttention(16, 2))


def test_attention_that_stands_in_for_a_convolution_is_no_slot(cli):
    """timm's selective kernel replaces a 3x3 conv: swapping it for a gate would remove
    the network's convolution, so skresnet has no slot attnprof fills."""
    r = cli("stat", "se", "--host", "timm:skresnet18", "-s", "32", "--no-latency",
            "--backends", "attnprof")
    assert r.exit_code == 2, r.output
    assert "no attention module on a feature map" in r.output
