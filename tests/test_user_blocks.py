"""A user's ``module:Class`` as a first-class block (issue 13, item 3): ``show`` lists its
constructor's options, ``-o`` values are checked against the signature and made into what it
declares (tuples, None, fractions, classes) before anything is built, and options a
``**kwargs`` constructor did not use are reported, not recorded as applied."""

import json

import pytest
import torch
from torch import nn

import attnprof
from attnprof.errors import BadOption
from attnprof.signature import accepts, coerce_value, recorded

BLOCKS = '''
from typing import Optional, Tuple, Type
import torch
from torch import nn

BUILT = []   # every constructor call, to show that bad options build nothing


class Typed(nn.Module):
    """A block with annotated options."""

    def __init__(self, channels: int, rd_ratio: float = 1 / 16,
                 feat_size: Optional[Tuple[int, int]] = None,
                 norm_layer: Type[nn.Module] = nn.BatchNorm2d, act: str = "relu",
                 gate=None, *, bias: bool = False):
        super().__init__()
        BUILT.append(dict(rd_ratio=rd_ratio, feat_size=feat_size, norm_layer=norm_layer,
                          act=act, gate=gate, bias=bias))
        hidden = max(1, int(channels * rd_ratio))
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=bias)
        self.norm = norm_layer(hidden)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=bias)

    def forward(self, x):
        y = self.fc1(x.mean((2, 3), keepdim=True))
        return x * torch.sigmoid(self.fc2(torch.relu(self.norm(y))))


class Kw(nn.Module):
    def __init__(self, channels, **kwargs):
        super().__init__()
        k = kwargs.get("k", 3)
        self.conv = nn.Conv1d(1, 1, k, padding=k // 2, bias=False)

    def forward(self, x):
        y = self.conv(x.mean((2, 3)).unsqueeze(1)).squeeze(1)
        return x * torch.sigmoid(y)[:, :, None, None]


class Needs(nn.Module):
    def __init__(self, channels, size):
        super().__init__()
        self.p = nn.Parameter(torch.zeros(channels, size, size))

    def forward(self, x):
        return x + self.p


class Untyped(nn.Module):
    def __init__(self, channels, scale=1, kernel=(3, 3), act=nn.ReLU):
        super().__init__()
        BUILT.append(dict(scale=scale, kernel=kernel, act=act))
        self.act = act()

    def forward(self, x):
        return self.act(x)
'''


@pytest.fixture
def ub(tmp_path, monkeypatch):
    """A fresh module of user blocks, imported from the working directory."""
    import importlib
    import sys

    name = f"ub_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(BLOCKS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    yield module
    sys.modules.pop(name, None)


# -- what a signature accepts ----------------------------------------------------------------

@pytest.mark.parametrize("annotation,default,kinds,items", [
    ("int", 3, {"int"}, None),
    ("float", 0.5, {"float"}, None),
    ("Optional[Tuple[int, int]]", None, {"seq", "none"}, {"int"}),
    ("tuple[int, ...] | None", None, {"seq", "none"}, {"int"}),
    ("Type[nn.Module]", nn.ReLU, {"class"}, None),
    ("Union[str, Type[nn.Module]]", "sigmoid", {"str", "class"}, None),
    ("int", None, {"int", "none"}, None),  # `x: int = None` is Optional
    ("Literal['avg', 'max']", "avg", {"str"}, None),
    ("", 1, {"int", "float"}, None),  # unannotated: the default is a hint, not a type
    ("", (3, 3), {"seq", "int", "float"}, {"int", "float"}),
    ("", nn.ReLU, {"class"}, None),
    ("", None, {"none", "any"}, None),
    ("LayerType", None, {"any", "none"}, None),  # an alias attnprof cannot read: anything
])
def test_what_an_annotation_accepts(annotation, default, kinds, items):
    a = accepts(annotation, default)
    assert set(a.kinds) == kinds
    if items is not None:
        assert set(a.items.kinds) == items


@pytest.mark.parametrize("value,annotation,default,expected", [
    ("56,56", "Optional[Tuple[int, int]]", None, (56, 56)),
    ("(7, 7)", "Tuple[int, int]", (3, 3), (7, 7)),
    ("None", "Optional[int]", None, None),
    ("none", "", None, None),
    ("1/16", "float", 0.25, 0.0625),
    (2, "float", 0.25, 2.0),
    (4.0, "int", 3, 4),
    ("BatchNorm2d", "Type[nn.Module]", nn.BatchNorm2d, nn.BatchNorm2d),
    ("groupnorm", "Type[nn.Module]", nn.BatchNorm2d, nn.GroupNorm),
    ("nn.Identity", "Callable", None, nn.Identity),
    ("torch.nn.SiLU", "", nn.ReLU, nn.SiLU),
    ("sigmoid", "Union[str, Type[nn.Module]]", "sigmoid", "sigmoid"),  # text where text goes
    ("F.silu", "Callable", None, torch.nn.functional.silu),
    (8, "str", "relu", "8"),
    ([5, 6], "Tuple[int, int]", None, (5, 6)),  # a TOML array
])
def test_values_become_what_the_signature_declares(value, annotation, default, expected):
    assert coerce_value(value, accepts(annotation, default), "option") == expected


@pytest.mark.parametrize("value,annotation,default,match", [
    ("abc", "Optional[Tuple[int, int]]", None, "comma-separated list of integers"),
    ("x", "float", 1.0, "takes a number"),
    ("1/0", "float", 1.0, "takes a number"),
    (3, "bool", False, "true or false"),
    (0.5, "int", 1, "takes an integer"),
    ("NoSuchLayer", "Type[nn.Module]", nn.ReLU, "no class or function named 'NoSuchLayer'"),
    ("None", "int", 3, "takes an integer"),
])
def test_values_the_signature_cannot_take(value, annotation, default, match):
    with pytest.raises(BadOption, match=match):
        coerce_value(value, accepts(annotation, default), "option")


def test_recorded_values_are_json():
    assert recorded((56, 56)) == [56, 56]
    assert recorded(nn.BatchNorm2d) == "torch.nn.BatchNorm2d"
    assert recorded(torch.sigmoid) == "torch.sigmoid"
    assert json.dumps(recorded({"a": None, "b": (1, nn.ReLU)}))


# -- show ------------------------------------------------------------------------------------

def test_show_lists_the_constructors_options(cli, ub):
    r = cli("show", f"{ub.__name__}:Typed")
    assert r.exit_code == 0, r.output
    assert "kind: unknown" in r.output and "A block with annotated options." in r.output
    for name, annotation, default in [("rd_ratio", "float", "0.0625"),
                                      ("feat_size", "Optional[Tuple[int, int]]", "None"),
                                      ("norm_layer", "Type[", "torch.nn.BatchNorm2d"),
                                      ("act", "str", "relu"), ("bias", "bool", "false")]:
        line = next(x for x in r.output.splitlines() if f" {name} " in x)
        assert annotation in line and default in line, line
    assert "options: none" not in r.output
    r = cli("show", f"{ub.__name__}:Kw")
    assert r.exit_code == 0 and "**kwargs" in r.output
    r = cli("show", f"{ub.__name__}:Needs")
    assert "(required)" in r.output and "-o size=VALUE" in r.output


# -- -o against the signature, before anything is built -------------------------------------

@pytest.mark.parametrize("option,match", [
    ("rd_ratio=abc", "takes a number"),
    ("feat_size=56,x", "comma-separated list of integers"),
    ("bias=3", "true or false"),
    ("norm_layer=NoSuchNorm", "no class or function"),
    ("rd_ratoi=0.5", "did you mean 'rd_ratio'"),
])
def test_bad_options_are_exit_2_before_anything_is_built(cli, ub, option, match):
    r = cli("stat", f"{ub.__name__}:Typed", "-c", "16", "-s", "8", "--no-latency",
            "--backends", "attnprof", "-o", option)
    assert r.exit_code == 2, r.output
    assert match in r.output and "Traceback" not in r.output
    assert ub.BUILT == []


def test_a_required_option_is_asked_for(cli, ub):
    r = cli("stat", f"{ub.__name__}:Needs", "-c", "4", "-s", "8", "--no-latency")
    assert r.exit_code == 2 and "needs option 'size'" in r.output
    r = cli("stat", f"{ub.__name__}:Needs", "-c", "4", "-s", "8", "--no-latency",
            "--backends", "attnprof", "-o", "size=8")
    assert r.exit_code == 0, r.output


def test_tuples_none_fractions_and_classes_reach_the_constructor(cli, ub, tmp_path):
    out = tmp_path / "p.json"
    r = cli("stat", f"{ub.__name__}:Typed", "-c", "32", "-s", "8", "--no-latency",
            "--backends", "attnprof", "-o", "feat_size=8,8", "-o", "rd_ratio=1/8",
            "-o", "norm_layer=GroupNorm", "-o", "gate=None", "--json", str(out))
    assert r.exit_code == 2 and "GroupNorm" in r.output  # GroupNorm(4) lacks num_channels
    r = cli("stat", f"{ub.__name__}:Typed", "-c", "32", "-s", "8", "--no-latency",
            "--backends", "attnprof", "-o", "feat_size=8,8", "-o", "rd_ratio=1/8",
            "-o", "norm_layer=nn.Identity", "-o", "gate=None", "--json", str(out))
    assert r.exit_code == 0, r.output
    got = ub.BUILT[-1]
    assert got["feat_size"] == (8, 8) and got["rd_ratio"] == 0.125
    assert got["norm_layer"] is nn.Identity and got["gate"] is None
    block = json.loads(out.read_text())["block"]
    assert block["kind"] == "unknown"
    assert block["options"] == {"feat_size": [8, 8], "rd_ratio": 0.125,
                                "norm_layer": "torch.nn.Identity", "gate": None}
    # params: fc1 32->4, fc2 4->32, no bias, Identity norm
    assert json.loads(out.read_text())["params"]["total"] == 32 * 4 + 4 * 32


def test_unannotated_defaults_guide_the_values(ub):
    p = attnprof.profile(f"{ub.__name__}:Untyped", channels=4, size=8, latency=False,
                         backends=["attnprof"],
                         options={"scale": "1/2", "kernel": "5,5", "act": "silu"})
    assert ub.BUILT[-1] == {"scale": 0.5, "kernel": (5, 5), "act": nn.SiLU}
    assert p.block.options == {"scale": 0.5, "kernel": [5, 5], "act": "torch.nn.SiLU"}


def test_kwargs_options_that_change_nothing_are_not_recorded_as_applied(cli, ub, tmp_path):
    out = tmp_path / "p.json"
    r = cli("stat", f"{ub.__name__}:Kw", "-c", "16", "-s", "8", "--no-latency",
            "--backends", "attnprof", "-o", "k=5", "-o", "kk=7", "--json", str(out))
    assert r.exit_code == 0, r.output
    block = json.loads(out.read_text())["block"]
    assert block["options"] == {"k": 5}  # used: the conv's kernel is 5
    assert block["unused_options"] == {"kk": 7}
    assert json.loads(out.read_text())["params"]["total"] == 5
    assert "not applied: kk=7" in r.output


TUPLES = '''
import torch
from torch import nn


class WithMap(nn.Module):
    """Returns (output, attention map), as many attention modules do."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x):
        a = torch.sigmoid(self.conv(x))
        return x * a, a


class NoTensor(nn.Module):
    def __init__(self, channels):
        super().__init__()

    def forward(self, x):
        return {"note": "nothing"}
'''


def _stat_json(cli, tmp_path, block: str, mode: str, backends: str, *extra: str) -> dict:
    """``stat BLOCK`` at 2x8x4x4 with a tiny timing budget; its JSON document."""
    out = tmp_path / "p.json"
    r = cli("stat", block, "-c", "8", "-s", "4", "-b", "2", "--mode", mode, "--budget", "0.05",
            "--backends", backends, "--json", str(out), *extra)
    assert r.exit_code == 0, r.output
    return json.loads(out.read_text())


def _module(tmp_path, monkeypatch, name: str, text: str) -> str:
    (tmp_path / f"{name}.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    return name


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_a_block_that_returns_its_attention_map_too(cli, tmp_path, monkeypatch, mode):
    name = _module(tmp_path, monkeypatch, f"tuples_{mode}", TUPLES)
    c, s, b = 8, 4, 2
    doc = _stat_json(cli, tmp_path, f"{name}:WithMap", mode, "attnprof,torch,fvcore")
    conv = b * c * c * s * s  # a 1x1 convolution: C_in x C_out MACs per position
    assert doc["counters"]["attnprof"]["macs"] == conv * (3 if mode == "train" else 1)
    assert doc["counters"]["torch"]["macs"] == doc["counters"]["attnprof"]["macs"]
    assert doc["latency"]["median_ms"] > 0
    r = cli("stat", f"{name}:NoTensor", "-c", "4", "-s", "4", "--no-latency")
    assert r.exit_code == 2 and "no tensor in it" in r.output


ODD = '''
import torch
from torch import nn


class Lazy(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.fc = nn.LazyConv2d(channels, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc(x))


class WritesInput(nn.Module):
    """Gates its input in place, as ``x.mul_(g)`` or ``ReLU(inplace=True)`` do."""

    def __init__(self, channels):
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1, bias=False)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        g = torch.sigmoid(self.fc(x.mean((2, 3), keepdim=True)))
        return self.act(x) * g


class BadBackward(nn.Module):
    """Writes into a tensor its backward needs: fails in training, as it would anywhere."""

    def __init__(self, channels):
        super().__init__()

    def forward(self, x):
        return torch.relu(x * 1.0).mul_(2.0).exp_()
'''


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_lazy_parameters_and_blocks_that_write_into_their_input(cli, tmp_path, monkeypatch,
                                                                mode):
    name = _module(tmp_path, monkeypatch, f"odd_{mode}", ODD)
    c, s, b = 8, 4, 2
    doc = _stat_json(cli, tmp_path, f"{name}:Lazy", mode, "attnprof,torch")
    assert doc["params"]["total"] == c * c + c  # the lazy 1x1 conv, sized by the first call
    assert doc["counters"]["attnprof"]["macs"] == b * c * c * s * s * (3 if mode == "train"
                                                                        else 1)
    doc = _stat_json(cli, tmp_path, f"{name}:WritesInput", mode, "attnprof,torch", "--ops")
    assert doc["counters"]["attnprof"]["macs"] == b * c * c * (3 if mode == "train" else 1)
    assert "fresh copy of the input" in doc["latency"]["method"]
    assert doc["op_times"]
    if mode == "train":
        r = cli("stat", f"{name}:BadBackward", "-c", "4", "-s", "4", "-b", "2", "--mode",
                "train", "--no-latency")
        assert r.exit_code == 2, r.output
        assert "backward" in r.output and "internal error" not in r.output


def test_the_callers_lazy_module_stays_lazy():
    m = nn.Sequential(nn.LazyConv2d(16, 1), nn.Sigmoid())
    p = attnprof.profile(m, channels=16, size=8, latency=False, backends=["attnprof"])
    assert p.params == 16 * 16 + 16 and p.macs == 16 * 16 * 64
    assert isinstance(m[0].weight, nn.parameter.UninitializedParameter)


def test_out_of_range_items_of_a_tuple_are_refused(ub):
    with pytest.raises(BadOption, match="out of range"):
        attnprof.profile(f"{ub.__name__}:Typed", channels=4, size=8, latency=False,
                         options={"feat_size": "99999999999999999,2"})
    assert ub.BUILT == []


def test_a_suite_gives_a_user_block_tuples_and_classes(cli, ub, tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text(f'''[defaults]
channels = 16
size = 8
backends = ["attnprof"]
latency = false

[[case]]
name = "typed"
block = "{ub.__name__}:Typed"
options = {{ feat_size = [8, 8], rd_ratio = "1/8", norm_layer = "nn.Identity" }}
''')
    out = tmp_path / "r.json"
    r = cli("run", str(suite), "--json", str(out))
    assert r.exit_code == 0, r.output
    assert ub.BUILT[-1]["feat_size"] == (8, 8) and ub.BUILT[-1]["norm_layer"] is nn.Identity
    block = json.loads(out.read_text())["results"][0]["block"]
    assert block["options"] == {"feat_size": [8, 8], "rd_ratio": 0.125,
                                "norm_layer": "torch.nn.Identity"}


def test_unused_kwargs_options_are_reported_in_a_host_too(cli, ub, tmp_path):
    out = tmp_path / "h.json"
    r = cli("stat", f"{ub.__name__}:Kw", "--host", "resnet18", "-s", "32", "-o", "k=5",
            "-o", "kk=3", "--no-latency", "--backends", "attnprof", "--json", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["block"]["options"] == {"k": 5} and doc["block"]["unused_options"] == {"kk": 3}
    assert all(o == {"k": 5} for o in doc["host"]["block_options"].values())
    assert "not applied: kk=3" in r.output


def test_sweep_gives_plain_options_to_a_user_block_and_resumes_it(cli, ub, tmp_path):
    """``-o KEY=V`` reaches a module:Name that names KEY (or takes **kwargs), and --resume
    finds the finished cases made with the same tuple, class and unused options."""
    js, csv_path = tmp_path / "s.json", tmp_path / "s.csv"
    args = ["sweep", f"{ub.__name__}:Typed", f"{ub.__name__}:Kw", "-c", "8,16", "-s", "8",
            "-o", "feat_size=8,8", "-o", "norm_layer=nn.Identity", "-o", "kk=1",
            "--no-latency", "--backends", "attnprof", "--resume"]
    r = cli(*args, "--json", str(js), "--csv", str(csv_path))
    assert r.exit_code == 0, r.output
    results = json.loads(js.read_text())["results"]
    typed = [x for x in results if x["block"]["name"].endswith(":Typed")]
    assert all(x["block"]["options"] == {"feat_size": [8, 8], "norm_layer": "torch.nn.Identity"}
               for x in typed)
    kw = [x for x in results if x["block"]["name"].endswith(":Kw")]
    assert all(x["block"]["unused_options"] == {"kk": 1} for x in kw)
    r = cli(*args, "--json", str(js), "--csv", str(csv_path))
    assert r.exit_code == 0 and "4 of 4 cases already done" in r.output, r.output
    js.unlink()
    r = cli(*args, "--csv", str(csv_path))  # from the CSV alone
    assert r.exit_code == 0 and "4 of 4 cases already done" in r.output, r.output


def test_feat_size_left_unset_is_the_inputs(tmp_path, monkeypatch, cli):
    """A block built for one feature map (a positional embedding of H x W; timm's
    BottleneckAttn) takes ``feat_size``: left unset, it is the input's (H, W), recorded with
    the block's options; given, it is kept."""
    import attnprof

    (tmp_path / "posmod.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class PosEmb(nn.Module):\n"
        "    def __init__(self, channels, feat_size=None):\n"
        "        super().__init__()\n"
        "        assert feat_size is not None, 'a concrete feature size is required'\n"
        "        self.pos = nn.Parameter(torch.zeros(1, channels, *feat_size))\n"
        "    def forward(self, x):\n"
        "        return x + self.pos\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    p = attnprof.profile("posmod:PosEmb", channels=4, size=(6, 5), latency=False,
                         backends=("attnprof",))
    assert p.params == 4 * 6 * 5
    assert tuple(p.block.options["feat_size"]) == (6, 5)
    assert p.flops == 4 * 6 * 5  # the add
    with pytest.raises(attnprof.BadInput, match="size of tensor a \\(5\\) must match"):
        attnprof.profile("posmod:PosEmb", channels=4, size=(6, 5), latency=False,
                         backends=("attnprof",), options={"feat_size": (6, 6)})
    # compare gives each block its own options after planning: the input's size still fills
    r = cli("compare", "posmod:PosEmb", "se", "-c", "4", "-s", "6x5", "--no-latency",
            "--backends", "attnprof", "-o", "se.ratio=2", "--format", "json")
    assert r.exit_code == 0, r.output
    import json

    by = {p["block"]["name"]: p for p in json.loads(r.stdout)["results"]}
    assert by["posmod:PosEmb"]["block"]["options"]["feat_size"] == [6, 5]
    assert by["posmod:PosEmb"]["params"]["total"] == 4 * 6 * 5
