"""The bad-input corpus: every command, every kind of mistake. Each case must exit with the
code of docs/contract.md, say what was wrong on stderr, print nothing on stdout and never show a
traceback."""

import json

import pytest

USER_BLOCKS = """
import torch
import torch.nn as nn

class Raises(nn.Module):
    def __init__(self, channels):
        super().__init__()
    def forward(self, x):
        raise ValueError("my block is broken at step 3")

class Shrinks(nn.Module):
    def __init__(self, channels):
        super().__init__()
    def forward(self, x):
        return x[:, :1]

class NoChannels(nn.Module):
    def __init__(self):
        super().__init__()
    def forward(self, x):
        return x

class CtorFails(nn.Module):
    def __init__(self, channels):
        raise RuntimeError("needs a GPU config")

def factory_returns_int(channels):
    return 3

class NotAModule:
    def __init__(self, channels):
        pass

CONSTANT = 7
"""

SUITE_OK = '[[case]]\nname = "se"\nblock = "se"\n'
RESULTS_OK = {"schema": "attnprof.results/1", "results": []}


@pytest.fixture
def d(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus_blocks.py").write_text(USER_BLOCKS)
    (tmp_path / "importerror.py").write_text("import no_such_dependency_xyz\n")
    (tmp_path / "ok.toml").write_text(SUITE_OK)
    (tmp_path / "binary.toml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    (tmp_path / "bad.toml").write_text("[[case]\nblock = 'se'\n")
    (tmp_path / "dupe.toml").write_text(SUITE_OK + SUITE_OK)
    (tmp_path / "unknown_case.toml").write_text(SUITE_OK + '[[budget]]\ncase = "eca"\n'
                                                'max_params = 1\n')
    (tmp_path / "unknown_block.toml").write_text('[[case]]\nblock = "sqeeze"\n')
    (tmp_path / "unknown_budget.toml").write_text(SUITE_OK + '[[budget]]\ncase = "se"\n'
                                                  'max_parameters = 1\n')
    (tmp_path / "bad_option.toml").write_text('[[case]]\nblock = "se"\noptions = {ratio = -1}\n')
    (tmp_path / "empty.toml").write_text("")
    (tmp_path / "dir.toml").mkdir()
    (tmp_path / "ok.json").write_text(json.dumps(RESULTS_OK))
    (tmp_path / "profile.json").write_text(json.dumps({"schema": "attnprof.profile/1"}))
    (tmp_path / "other.json").write_text(json.dumps({"schema": "other/1", "results": []}))
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    (tmp_path / "broken.json").write_text('{"schema": "attnprof.results/1", ')
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00\x00")
    (tmp_path / "badresults.json").write_text(json.dumps(
        {"schema": "attnprof.results/1", "results": [{"schema": "attnprof.profile/1"}]}))
    return tmp_path


S = ["stat"]
CASES = [
    # block names
    (S + ["nosuchblock"], 2, "unknown block"),
    (S + ["cbma"], 2, "'cbam'"),
    (S + [""], 2, "block name is required"),
    (S + ["   "], 2, "block name is required"),
    (["show", "eca_blok"], 2, "'eca'"),
    (["compare", "se", "zzz"], 2, "unknown block"),
    (["sweep", "se", "nope", "--no-latency"], 2, "unknown block"),
    # -o
    (S + ["se", "-o", "ratio"], 2, "KEY=VALUE"),
    (S + ["se", "-o", "=4"], 2, "empty key"),
    (S + ["se", "-o", "ratio="], 2, "empty value"),
    (S + ["se", "-o", "ration=4"], 2, "no option 'ration'"),
    (S + ["se", "-o", "ratio=four"], 2, "must be integer"),
    (S + ["se", "-o", "ratio=2.5"], 2, "must be integer"),
    (S + ["se", "-o", "ratio=0"], 2, ">= 1"),
    (S + ["se", "-o", "ratio=-4"], 2, ">= 1"),
    (S + ["se", "-o", "bias=maybe"], 2, "true or false"),
    (S + ["se", "-o", "ratio=4", "-o", "ratio=8"], 2, "given twice"),
    (S + ["se", "-c", "8", "-o", "ratio=16"], 2, "channels // ratio must be >= 1"),
    (S + ["eca", "-o", "kernel_size=4"], 2, "odd"),
    (S + ["eca", "-o", "kernel_size=0"], 2, ">= 1"),
    (S + ["cbam", "-o", "kernel_size=6"], 2, "odd"),
    (S + ["eca", "-o", "gamma=0"], 2, "gamma must be > 0"),
    (S + ["scse", "-o", "combine=mul"], 2, "one of add, max"),
    (S + ["sk", "-o", "groups=7"], 2, "divisible"),
    # sizes, channels, batches
    (S + ["se", "--size", "0"], 2, "size"),
    (S + ["se", "--size", "-5"], 2, "size"),
    (S + ["se", "--size", "abc"], 2, "size"),
    (S + ["se", "--size", "10x"], 2, "size"),
    (S + ["se", "--size", "10x10x10"], 2, "size"),
    (S + ["se", "--channels", "0"], 2, "channels must be a positive integer"),
    (S + ["se", "--channels", "-3"], 2, "channels must be a positive integer"),
    (S + ["se", "--channels", "abc"], 2, "'--channels'"),
    (S + ["se", "--batch", "0"], 2, "batch must be a positive integer"),
    (S + ["se", "--batch", "1.5"], 2, "'--batch'"),
    # choices
    (S + ["se", "--dtype", "float64"], 2, "unknown dtype"),
    (S + ["se", "--dtype", "int8"], 2, "unknown dtype"),
    (S + ["se", "--device", "tpu"], 2, "unknown device"),
    (S + ["se", "--device", "cuda:x"], 2, "unknown device"),
    (S + ["se", "--backends", "tensorboard"], 2, "unknown backend"),
    (S + ["se", "--backends", ","], 2, "at least one"),
    (S + ["se", "--format", "yaml"], 2, "unknown format"),
    (S + ["se", "--mode", "eval"], 2, "unknown mode"),
    (S + ["se", "--host", "vgg16"], 2, "unknown host"),
    (S + ["se", "--timer", "fast"], 2, "unknown timer"),
    (["list", "--format", "csv"], 2, "unknown format"),
    (["env", "--format", "yaml"], 2, "unknown format"),
    # devices that do not exist here (this suite runs without CUDA too)
    (S + ["se", "--device", "cuda:99"], 2, "cuda:99"),
    (["calibrate", "--device", "cuda:99"], 2, "cuda:99"),
    (S + ["se", "--cuda-graph"], 2, "needs a CUDA device"),
    # output paths
    (S + ["se", "--json", "no/such/dir/out.json"], 2, "does not exist"),
    (S + ["se", "--json", "{d}"], 2, "is a directory"),
    (["compare", "se", "eca", "--csv", "missing/x.csv"], 2, "does not exist"),
    (["sweep", "se", "--json", "missing/x.json", "--no-latency"], 2, "does not exist"),
    (["run", "ok.toml", "--markdown", "missing/x.md"], 2, "does not exist"),
    # suites
    (["run", "missing.toml"], 2, "no such file"),
    (["run", "dir.toml"], 2, "is a directory"),
    (["run", "binary.toml"], 2, "not a text file"),
    (["run", "bad.toml"], 2, "malformed TOML"),
    (["run", "empty.toml"], 2, "no cases"),
    (["run", "dupe.toml"], 2, "used twice"),
    (["run", "unknown_case.toml"], 2, "does not have"),
    (["run", "unknown_block.toml"], 2, "unknown block"),
    (["run", "unknown_budget.toml"], 2, "unknown key 'max_parameters'"),
    (["run", "bad_option.toml"], 2, ">= 1"),
    # results files
    (["check", "missing.json", "--baseline", "ok.json"], 2, "no such file"),
    (["check", "ok.json", "--baseline", "missing.json"], 2, "no such file"),
    (["check", "dir.toml", "--baseline", "ok.json"], 2, "is a directory"),
    (["check", "binary.json", "--baseline", "ok.json"], 2, "not a text file"),
    (["check", "broken.json", "--baseline", "ok.json"], 2, "not valid JSON"),
    (["check", "other.json", "--baseline", "ok.json"], 2, "not an attnprof.results/1"),
    (["check", "profile.json", "--baseline", "ok.json"], 2, "single profile"),
    (["check", "list.json", "--baseline", "ok.json"], 2, "not an attnprof.results/1"),
    (["check", "badresults.json", "--baseline", "ok.json"], 2,
     "results[0]: missing the required key \"block\""),
    (["check", "ok.json", "--baseline", "ok.json", "--tolerance", "speed=1"], 2,
     "METRIC=FRACTION"),
    (["check", "ok.json", "--baseline", "ok.json", "--latency-tolerance", "-1"], 2, ">= 0"),
    # user blocks
    (S + ["importerror:Block"], 2, "no_such_dependency_xyz"),
    (S + ["no_such_module_abc:Block"], 2, "cannot import module"),
    (S + ["corpus_blocks:Missing"], 2, "no attribute 'Missing'"),
    (S + ["corpus_blocks:NotAModule"], 2, "not an nn.Module"),
    (S + ["corpus_blocks:CONSTANT"], 2, "not an nn.Module"),
    (S + ["corpus_blocks:NoChannels"], 2, "no positional argument"),
    (S + ["corpus_blocks:Raises"], 2, "my block is broken at step 3"),
    (S + ["corpus_blocks:Shrinks"], 2, "changed the tensor's shape"),
    (S + ["corpus_blocks:CtorFails"], 2, "needs a GPU config"),
    (S + ["corpus_blocks:factory_returns_int"], 2, "not an nn.Module"),
    (S + ["corpus_blocks:"], 2, "package.module:Name"),
    (S + [":Block"], 2, "package.module:Name"),
    # compare, sweep
    (["compare", "se"], 2, "at least two"),
    (["compare", "se", "eca", "--baseline", "gc"], 2, "not among"),
    (["sweep", "se", "--channels", "8,,x", "--no-latency"], 2, "not an integer"),
    (["sweep", "se", "--size", "8,0", "--no-latency"], 2, "size"),
    (["sweep", "se", "--resume", "--no-latency"], 2, "--resume needs"),
]


@pytest.mark.parametrize("args,code,needle", CASES,
                         ids=[" ".join(a)[:60] for a, _, _ in CASES])
def test_bad_input(cli, d, args, code, needle):
    args = [a.replace("{d}", str(d)) for a in args]
    r = cli(*args, "--no-latency") if args[0] == "stat" else cli(*args)
    assert r.exit_code == code, r.output
    assert needle in r.stderr or needle in r.output, r.output
    assert "Traceback" not in r.output
    assert r.stdout == "", r.output


def test_the_corpus_is_large():
    assert len(CASES) >= 60


def test_nothing_is_left_modified_by_a_failed_run(cli, d):
    """A failing run leaves an existing output file as it was."""
    out = d / "keep.json"
    out.write_text("precious")
    r = cli("stat", "corpus_blocks:Raises", "--no-latency", "--json", str(out))
    assert r.exit_code == 2
    assert out.read_text() == "precious"
    r = cli("compare", "se", "nope", "--json", str(out))
    assert r.exit_code == 2 and out.read_text() == "precious"


@pytest.mark.parametrize("module,check", [("asserting", "assert x.shape[-1] % 7 == 0"),
                                          ("asserting_torch",
                                           "torch._assert(x.shape[-1] % 7 == 0, '')")])
def test_a_bare_assertion_is_named_by_its_statement(cli, tmp_path, monkeypatch, module, check):
    """A block that fails an assertion without a message (timm's BAT: the size must be a
    multiple of its block size) is one line that quotes the statement and where it is."""
    (tmp_path / f"{module}.py").write_text(
        "import torch\nfrom torch import nn\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, channels):\n"
        "        super().__init__()\n"
        "    def forward(self, x):\n"
        f"        {check}\n"
        "        return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    r = cli("stat", f"{module}:Block", "-c", "4", "-s", "8", "--no-latency")
    assert r.exit_code == 2, r.output
    line = r.output.strip().splitlines()[-1]
    assert line == (f"error: block '{module}:Block' failed in forward on cpu: AssertionError: "
                    f"{check} ({tmp_path.name}/{module}.py:7)"), line


@pytest.mark.parametrize("argv,expected", [
    (["stat", "ema", "-c", "1", "-s", "1"],
     "error: block 'ema' cannot run at this input: a norm in it needs more than one value per "
     "channel (its input is [1, 1, 1, 1]); use a larger --size or more --channels"),
    (["stat", "bam", "-c", "32", "-s", "1", "--mode", "train"],
     "error: block 'bam' cannot run in train mode at this batch size: a norm in it needs more "
     "than one value per channel when training (its input is [1, 2]); use --batch 2 or more "
     "(batch=2 in the library)"),
])
def test_a_norm_over_one_value_is_named_for_its_mode(cli, argv, expected):
    """EMA's GroupNorm over one value fails in inference too (not a train-mode batch size
    problem); BAM's BatchNorm at batch 1 fails in training. Each says what to change."""
    r = cli(*argv, "--no-latency", "--backends", "attnprof")
    assert r.exit_code == 2 and r.output.strip().splitlines()[-1] == expected, r.output
