"""timm's attention zoo as attnprof blocks (timm:KEY): the keys, classes and options attnprof
reads from timm's source against timm itself, blocks built and counted against timm's own
modules, one-line errors, and the install hint without the zoo extra."""

import functools
import inspect
import json
import subprocess
import sys

import pytest
import torch
from fresh import fresh_python
from zoo_env import ZOO_PROBLEM, needs_zoo  # noqa: E402,F401

import attnprof
from attnprof.zoo import _imports
from attnprof.zoo.timm_blocks import timm_specs
from attnprof.zoo.timm_source import NOT_LITERAL, entries

# timm 1.0's get_attn keys (the issue's list); a newer timm may add more.
TIMM_KEYS = {"se", "ese", "eca", "ecam", "ceca", "ge", "gc", "gca", "cbam", "lcbam", "sk",
             "splat", "lambda", "bottleneck", "halo", "nl", "bat"}


def make_divisible(v, divisor, min_value=None, round_limit=0.9):
    """timm's rounding of hidden channels, written from its definition."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < round_limit * v else new_v


def nparams(m):
    return sum(p.numel() for p in m.parameters())


def test_every_key_of_the_issue_is_listed_without_torch():
    code = ("import sys; from attnprof.zoo import block_specs; "
            "print(','.join(s.name for s in block_specs())); "
            "print('torch' in sys.modules, 'timm' in sys.modules)")
    out = fresh_python(code).splitlines()
    names = set(out[0].split(","))
    assert {f"timm:{k}" for k in TIMM_KEYS} <= names
    assert out[1] == "False False"


def test_show_timm_block_imports_neither_torch_nor_timm():
    code = ("import sys; from typer.testing import CliRunner; from attnprof.cli import app; "
            "r = CliRunner().invoke(app, ['show', 'timm:cbam']); print(r.exit_code); "
            "print('rd_ratio' in r.stdout, 'torch' in sys.modules, 'timm' in sys.modules)")
    assert fresh_python(code).split() == ["0", "True", "False", "False"]


@needs_zoo
def test_keys_classes_and_presets_are_timms_own():
    from timm.layers import get_attn

    table = entries()
    assert TIMM_KEYS <= set(table)
    for key, entry in table.items():
        made = get_attn(key)
        cls = made.func if isinstance(made, functools.partial) else made
        assert (cls.__module__, cls.__name__) == (f"timm.layers.{entry.module}", entry.cls), key
        presets = dict(made.keywords) if isinstance(made, functools.partial) else {}
        assert dict(entry.presets) == presets, key


@needs_zoo
def test_options_are_the_constructors_signature():
    from timm.layers import get_attn

    for spec in timm_specs():
        key = spec.name.split(":")[1]
        made = get_attn(key)
        params = inspect.signature(made).parameters
        presets = dict(getattr(made, "keywords", {}))
        for opt in spec.options:
            assert opt.name in params, (key, opt.name)
            declared = params[opt.name].default
            if opt.name in presets:
                assert opt.default == presets[opt.name]
            elif isinstance(declared, (bool, int, float)) or declared is None:
                assert opt.default == declared, (key, opt.name)
        # every scalar parameter is an option
        entry = entries()[key]
        scalars = {p.name for p in entry.params[1:] if p.default is not NOT_LITERAL
                   and isinstance(p.default, (bool, int, float, str)) and p.name not in
                   ("device", "dtype")}
        assert scalars <= {o.name for o in spec.options}, key


# (key, options, channels, size): what each block needs to run on 64 channels
BUILDABLE = [("se", {}), ("ese", {}), ("eca", {}), ("ecam", {}), ("ceca", {}), ("gc", {}),
             ("gca", {}), ("cbam", {}), ("lcbam", {}), ("sk", {}), ("splat", {}),
             ("lambda", {}), ("bottleneck", {"feat_size": 16}), ("halo", {}), ("nl", {}),
             ("bat", {"block_size": 8})]


@needs_zoo
@pytest.mark.parametrize("key,opts", BUILDABLE, ids=[k for k, _ in BUILDABLE])
def test_timm_block_builds_and_counts_like_timms_module(key, opts):
    from timm.layers import get_attn
    from torch.utils.flop_counter import FlopCounterMode

    r = attnprof.profile(f"timm:{key}", channels=64, size=16, options=opts, latency=False,
                         backends=("attnprof",))
    with torch.device("meta"):
        ref = get_attn(key)(64, **opts)
    assert r.params == nparams(ref)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        ref.eval()(torch.empty(1, 64, 16, 16, device="meta"))
    own = r.counters["attnprof"]
    # attnprof's MACs are the conv/linear/matmul work, which is all FlopCounterMode counts
    assert own.macs * 2 == fc.get_total_flops(), key
    assert own.flops >= fc.get_total_flops()


@needs_zoo
def test_timm_se_closed_form_and_options_reach_timm():
    # timm's SE rounds the hidden width to a multiple of 8 and has biases: 64 -> 8 hidden
    rd = make_divisible(64 / 16, 8, round_limit=0.0)
    r = attnprof.profile("timm:se", channels=64, size=8, latency=False, backends=("attnprof",))
    assert rd == 8 and r.params == 64 * rd + rd + rd * 64 + 64
    r = attnprof.profile("timm:se", channels=64, size=8, options={"rd_channels": 5,
                         "bias": False}, latency=False, backends=("attnprof",))
    assert r.params == 2 * 64 * 5
    assert r.block.options["rd_channels"] == 5


@needs_zoo
def test_stat_and_compare_with_timm_blocks(cli):
    r = cli("stat", "timm:se", "-c", "64", "--no-latency", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["block"]["name"] == "timm:se" and doc["block"]["source"] == "timm"
    assert doc["params"]["total"] == 1096
    r = cli("compare", "se", "timm:se", "-c", "64", "--no-latency", "--backends", "attnprof",
            "-o", "ratio=16", "-o", "bias=true", "-f", "json")
    assert r.exit_code == 0, r.output
    rows = {p["block"]["name"]: p for p in json.loads(r.stdout)["results"]}
    # attnprof's SE at r=16: 4 hidden units; timm's rounds them up to 8
    assert rows["se"]["params"]["total"] == 2 * 64 * 4 + 4 + 64
    assert rows["timm:se"]["params"]["total"] == 1096


@needs_zoo
@pytest.mark.parametrize("args,needle", [
    (["stat", "timm:se", "-o", "rd_ratoi=0.5"], "did you mean 'rd_ratio'"),
    (["stat", "timm:se", "-o", "rd_ratio=x"], "rd_ratio"),
    (["stat", "timm:se", "-o", "act_layer=nope"], "act_layer='nope'"),
    (["stat", "timm:halo", "-c", "64", "-o", "num_heads=5"], "dim_out % num_heads == 0"),
    (["stat", "timm:sE_x"], "timm's get_attn keys"),
    (["show", "torchvision:se"], "no attention blocks by name"),
])
def test_timm_errors_are_one_line(cli, args, needle):
    r = cli(*args, "--no-latency") if args[0] == "stat" else cli(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1


@needs_zoo
def test_a_timm_block_that_fails_inside_timm_is_one_line(cli):
    # timm 1.0's GatherExcite passes act_layer twice to ConvMlp; a timm that fixed it builds
    r = cli("stat", "timm:ge", "-c", "64", "--no-latency", "--backends", "attnprof")
    assert r.exit_code in (0, 2), r.output
    if r.exit_code == 2:
        line = r.stderr.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in r.output
        assert "timm" in line and "GatherExcite" in line and "TypeError" in line


# -- without the extra -----------------------------------------------------------------------

@pytest.fixture
def no_zoo(monkeypatch):
    """timm and torchvision as if not installed."""
    for name in ("timm", "torchvision"):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("args", [
    ["stat", "timm:se", "-c", "64", "--no-latency"],
    ["compare", "se", "timm:cbam", "--no-latency"],
])
def test_without_the_extra_the_hint(cli, no_zoo, args):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert "pip install 'attnprof[zoo]'" in r.stderr and "Traceback" not in r.output


def test_show_and_list_work_without_the_extra(cli, no_zoo):
    r = cli("show", "timm:eca")
    assert r.exit_code == 0, r.output
    assert "pip install 'attnprof[zoo]'" in r.stdout


def test_torchvision_built_for_another_torch_is_one_line(cli, monkeypatch):
    real = _imports._import

    def broken(name):
        if name == "torchvision":
            raise RuntimeError("operator torchvision::nms does not exist")
        return real(name)

    monkeypatch.setattr(_imports, "_installed", lambda name: True)
    monkeypatch.setattr(_imports, "_import", broken)
    r = cli("stat", "timm:se", "-c", "64", "--no-latency")
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in r.output
    assert "torchvision::nms" in line and "same index" in line


@pytest.mark.parametrize("package", ["torchvision", "timm"])
@pytest.mark.parametrize(("failure", "expected"), [
    (lambda p: ModuleNotFoundError("No module named 'PIL'", name="PIL"),
     "needs {p}, whose import failed: no module named 'PIL'"),
    (lambda p: ModuleNotFoundError("gone", name=p), "needs {p}, which is not installed: pip"),
    (lambda p: OSError("a broken wheel\nsecond line"),
     "needs {p}, whose import failed: OSError: a broken wheel"),
])
def test_a_failed_zoo_import_is_one_bad_input_line(monkeypatch, package, failure, expected):
    def fails(name):
        if name == package:
            raise failure(package)
        return object()

    monkeypatch.setattr(_imports, "_installed", lambda name: True)
    monkeypatch.setattr(_imports, "_import", fails)
    with pytest.raises(attnprof.BadInput) as err:
        getattr(_imports, package)("the block")
    assert str(err.value).startswith("the block " + expected.format(p=package))
    assert "\n" not in str(err.value)


def test_list_source_timm_lists_the_zoo_without_torch_or_timm():
    import sys

    code = ("import sys, json\n"
            "from typer.testing import CliRunner\n"
            "from attnprof.cli import app\n"
            "r = CliRunner().invoke(app, ['list', '--source', 'timm', '--format', 'json'])\n"
            "assert r.exit_code == 0, r.output\n"
            "names = {b['name'] for b in json.loads(r.stdout)}\n"
            "assert {'timm:se', 'timm:eca', 'timm:cbam'} <= names, names\n"
            "assert not any(n.startswith('timm:') is False for n in names)\n"
            "assert 'torch' not in sys.modules and 'timm' not in sys.modules\n"
            "r = CliRunner().invoke(app, ['list', '--source', 'all', '--format', 'json'])\n"
            "names = {b['name'] for b in json.loads(r.stdout)}\n"
            "assert 'se' in names and 'timm:se' in names\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@needs_zoo
@pytest.mark.parametrize("value,cls", [("silu", "SiLU"), ("nn.SiLU", "SiLU"),
                                       ("torch.nn.GELU", "GELU")])
def test_timm_layer_options_by_timms_name_or_as_a_class(value, cls):
    block = attnprof.create_block("timm:se", 64, act_layer=value)
    assert cls in {type(m).__name__ for m in block.modules()}
