"""The command line as a user drives it, through Typer's CliRunner."""

import json
import subprocess
import sys

import pytest

CONTRACT_KEYS = [
    ("schema",), ("block", "name"), ("block", "options"), ("input", "shape"), ("input", "dtype"),
    ("input", "device"), ("params", "total"), ("params", "trainable"), ("params", "bytes"),
    ("memory", "params_bytes"), ("memory", "activations_bytes"), ("memory", "peak_bytes"),
    ("memory", "peak_method"), ("latency",), ("environment", "attnprof"),
    ("environment", "torch"), ("environment", "device_name"),
]
BACKEND_KEYS = ("status", "error", "macs", "uncounted_ops")


def dig(doc, path):
    for key in path:
        assert key in doc, f"missing {'.'.join(path)}"
        doc = doc[key]
    return doc


def test_stat_json_carries_the_contract_keys(cli):
    r = cli("stat", "cbam", "--channels", "16", "--size", "256", "--format", "json",
            "--budget", "0.05")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for path in CONTRACT_KEYS:
        dig(doc, path)
    assert doc["schema"] == "attnprof.profile/1"
    assert doc["block"] == {**doc["block"], "name": "cbam",
                            "options": {"ratio": 4, "kernel_size": 7, "bias": False}}
    assert doc["input"]["shape"] == [1, 16, 256, 256]
    assert doc["params"]["total"] == 226
    for name in ("torchstat", "torchinfo", "fvcore", "torch", "attnprof"):
        for key in BACKEND_KEYS:
            assert key in doc["counters"][name], (name, key)
        assert doc["counters"][name]["status"] == "ok", doc["counters"][name]
    own = doc["counters"]["attnprof"]
    for key in ("flops", "transcendentals", "bytes_read", "bytes_written"):
        assert isinstance(own[key], int) and own[key] > 0
    assert doc["counters"]["torchinfo"]["macs"] == 6_422_784
    lat = doc["latency"]
    for key in ("median_ms", "iqr_ms", "samples", "threads", "mode"):
        assert lat[key] is not None
    assert lat["median_ms"] > 0 and lat["samples"] >= 1


def test_stat_table_shows_params_and_every_backend(cli):
    r = cli("stat", "cbam", "--channels", "16", "--size", "256", "--no-latency",
            terminal_width=160)
    assert r.exit_code == 0, r.output
    for text in ("226", "6,422,784", "7,471,360", "12,845,568", "torchstat", "attnprof",
                 "not counted"):
        assert text in r.stdout, r.output


def test_eca_reports_derived_kernel_and_json_file(cli, tmp_path):
    out = tmp_path / "eca.json"
    r = cli("stat", "eca", "-c", "256", "-s", "14x7", "-b", "2", "--no-latency",
            "--backends", "attnprof,torch", "--json", str(out))
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["block"]["options"]["kernel_size"] == 5  # |(8 + 1) / 2| = 4 -> 5
    assert doc["input"]["shape"] == [2, 256, 14, 7]
    assert set(doc["counters"]) == {"attnprof", "torch"}
    assert doc["latency"] is None


def test_options_reach_the_block(cli):
    r = cli("stat", "se", "-o", "ratio=16", "-o", "bias=true", "-c", "64", "--no-latency",
            "--backends", "attnprof", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["block"]["options"] == {"ratio": 16, "bias": True}
    assert doc["params"]["total"] == 2 * 64 * 4 + 4 + 64


def test_markdown_and_layers_and_ops(cli):
    r = cli("stat", "cbam", "-c", "16", "--no-latency", "--layers", "--ops", "-f", "markdown")
    assert r.exit_code == 0, r.output
    assert "| backend |" in r.stdout and "spatial_attention.conv" in r.stdout
    assert "aten::mul" in r.stdout
    r = cli("stat", "cbam", "-c", "16", "--no-latency", "--layers", "--ops",
            terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "Per layer" in r.stdout and "Per aten op" in r.stdout and "fc1" in r.stdout


def test_train_mode_and_dtype(cli):
    r = cli("stat", "se", "-c", "16", "-s", "8", "--mode", "train", "--dtype", "bfloat16",
            "--backends", "attnprof", "-f", "json", "--budget", "0.02")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["mode"] == "train" and doc["input"]["dtype"] == "bfloat16"
    assert doc["latency"]["mode"] == "train"
    assert doc["memory"]["saved_for_backward_bytes"] > 0
    assert doc["params"]["bytes"] == doc["params"]["total"] * 2


def test_list_and_show(cli):
    r = cli("list")
    assert r.exit_code == 0 and "cbam_spatial" in r.stdout
    r = cli("list", "--format", "json")
    names = {b["name"] for b in json.loads(r.stdout)}
    assert {"se", "eca", "cbam", "cbam_channel", "cbam_spatial"} <= names
    r = cli("show", "eca_block")
    assert r.exit_code == 0, r.output
    for text in ("eca", "kernel_size", "derived", "odd", "ECA-Net", "attnprof stat eca"):
        assert text in r.stdout, r.output


@pytest.mark.parametrize("args,needle", [
    (["stat", "cbma"], "did you mean 'cbam'"),
    (["stat", ""], "block name is required"),
    (["show", "nope"], "unknown block"),
    (["stat", "se", "-o", "ratio"], "KEY=VALUE"),
    (["stat", "se", "-o", "ratoi=2"], "no option 'ratoi'"),
    (["stat", "se", "-o", "ratio=abc"], "must be integer"),
    (["stat", "se", "-o", "ratio=0"], ">= 1"),
    (["stat", "se", "-c", "4", "-o", "ratio=8"], "channels // ratio must be >= 1"),
    (["stat", "eca", "-o", "kernel_size=4"], "odd"),
    (["stat", "cbam", "-o", "kernel_size=0"], ">= 1"),
    (["stat", "se", "--size", "0"], "size"),
    (["stat", "se", "--size", "12x"], "size"),
    (["stat", "se", "--channels", "0"], "channels must be a positive integer"),
    (["stat", "se", "--batch", "-1"], "batch must be a positive integer"),
    (["stat", "se", "--dtype", "float64"], "unknown dtype"),
    (["stat", "se", "--device", "tpu"], "unknown device"),
    (["stat", "se", "--device", "cuda:7"], "cuda:7"),
    (["stat", "se", "--backends", "torchstats"], "did you mean 'torchstat'"),
    (["stat", "se", "--format", "yaml"], "unknown format"),
    (["stat", "se", "--mode", "eval"], "unknown mode"),
    (["stat", "no_such_pkg_q:Block"], "cannot import module"),
    (["stat", "se", "--json", "/no/such/dir/out.json"], "does not exist"),
    (["list", "--format", "xml"], "unknown format"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, needle):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr, r.output
    assert "Traceback" not in r.output
    assert r.stdout == ""


def test_usage_errors_exit_2(cli):
    r = cli("stat", "se", "--channels", "abc")
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = cli("stat")
    assert r.exit_code == 2


def test_user_block_errors(cli, tmp_path, monkeypatch):
    (tmp_path / "myblocks.py").write_text(
        "import torch\nimport torch.nn as nn\n"
        "class Raises(nn.Module):\n"
        "    def __init__(self, channels): super().__init__()\n"
        "    def forward(self, x): raise ValueError('my block is broken')\n"
        "class Shrinks(nn.Module):\n"
        "    def __init__(self, channels): super().__init__()\n"
        "    def forward(self, x): return x[:, :1]\n"
        "class NoChannels(nn.Module):\n"
        "    def __init__(self): super().__init__()\n"
        "class Fine(nn.Module):\n"
        "    def __init__(self, channels): super().__init__(); self.s = nn.Sigmoid()\n"
        "    def forward(self, x): return x * self.s(x)\n"
    )
    (tmp_path / "badimport.py").write_text("raise RuntimeError('import-time failure')\n")
    monkeypatch.chdir(tmp_path)
    cases = [("myblocks:Raises", "my block is broken"), ("myblocks:Shrinks", "changed the tensor"),
             ("myblocks:NoChannels", "takes no positional"), ("badimport:X", "import-time failure"),
             ("myblocks:Missing", "no attribute")]
    for block, needle in cases:
        r = cli("stat", block, "-c", "4", "-s", "8", "--no-latency")
        assert r.exit_code == 2, (block, r.output)
        assert needle in r.stderr, (block, r.output)
        assert "Traceback" not in r.output
    r = cli("stat", "myblocks:Fine", "-c", "4", "-s", "8", "--no-latency", "-f", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["counters"]["attnprof"]["transcendentals"] == 4 * 64


def test_internal_error_is_exit_3_with_a_hint(cli, monkeypatch):
    import attnprof.runner

    def boom(*a, **k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(attnprof.runner, "profile", boom)
    r = cli("stat", "se", "--no-latency")
    assert r.exit_code == 3
    assert "bug" in r.stderr and "--debug" in r.stderr and "Traceback" not in r.output
    r = cli("--debug", "stat", "se", "--no-latency")
    assert isinstance(r.exception, ZeroDivisionError)


def test_version(cli):
    from attnprof import __version__

    r = cli("--version")
    assert r.exit_code == 0 and __version__ in r.stdout


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\n"
                          "print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["show", "cbam"], ["list", "-f", "json"]])
def test_help_list_show_do_not_import_torch(argv):
    mods = _modules_after(
        "import sys\nfrom attnprof.cli import app\n"
        f"sys.argv = ['attnprof', *{argv!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass")
    assert "torch" not in mods


def test_python_dash_m_and_importtime():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "attnprof", "list"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "cbam" in r.stdout
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    assert "torch" not in imported


def test_counting_only_works_at_sizes_no_machine_could_run(cli):
    """256x512x112x112 float32 is a 6.6 GB input: counted on meta, never allocated."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r = cli("stat", "cbam", "-c", "512", "-b", "256", "-s", "112", "--backends", "attnprof",
            "--no-latency", "-f", "json")
    assert r.exit_code == 0, r.output
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    doc = json.loads(r.stdout)
    b, c, hw, k = 256, 512, 112 * 112, 7
    assert doc["counters"]["attnprof"]["macs"] == 4 * c * (c // 4) * b + 2 * k * k * hw * b
    assert doc["memory"]["peak_bytes"] > 4 * b * c * hw  # at least the input
    assert grown_mib < 1024


def _commands():
    import typer

    from attnprof.cli import app

    return sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("columns", ["80", "120"])
@pytest.mark.parametrize("argv", [[]] + [[name] for name in _commands()])
def test_help_names_values_not_types(cli, argv, columns):
    """Flags show no metavar, values a meaningful one (C, PATH, KEY=VALUE), never a Python
    type (<bool>, <int>, <list[str]>); no help is cut off with an ellipsis; nothing overflows."""
    import re

    r = cli(*argv, "--help", env={"COLUMNS": columns, "TERMINAL_WIDTH": columns})
    assert r.exit_code == 0, r.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)
    assert "--help" in text
    noise = re.findall(r"<[^<>\s]+>", text)
    assert not noise, f"type noise in {argv} --help: {noise}"
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= int(columns)


def test_command_summaries_are_one_line(cli):
    """The command list shows each command's first docstring paragraph as one line, however
    the docstring wraps it."""
    import re

    import typer

    from attnprof.cli import app

    r = cli("--help", env={"COLUMNS": "240", "TERMINAL_WIDTH": "240"})
    lines = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout).splitlines()
    for name, command in typer.main.get_command(app).commands.items():
        first = " ".join(command.help.split("\n\n")[0].split())
        assert any(f" {name} " in line and first in line for line in lines), name


def test_profiling_options_are_declared_once_and_shared():
    """stat, compare and sweep take every shared option; ProfilingOptions has one field per
    option (and the merged --verbose)."""
    import dataclasses

    import typer

    from attnprof.cli import app
    from attnprof.cli.options import COMMON, SHAPE, TAIL, ProfilingOptions

    fields = {f.name for f in dataclasses.fields(ProfilingOptions)}
    assert fields == {p.name for p in [*SHAPE, *COMMON]} | {"verbose"}
    commands = typer.main.get_command(app).commands
    for name, shared in (("stat", SHAPE + COMMON), ("compare", SHAPE + COMMON),
                         ("sweep", COMMON)):
        params = {p.name for p in commands[name].params}
        assert {p.name for p in shared + TAIL} <= params, name
    sweep_channels = next(p for p in commands["sweep"].params if p.name == "channels")
    assert sweep_channels.default == "64"  # sweep's own list-valued shape options


@pytest.mark.parametrize("command", ["stat", "compare", "sweep"])
def test_profiling_help_does_not_import_torch(command):
    mods = _modules_after(  # the help itself, which names torch, is kept off stdout
        "import contextlib, io, sys\nfrom attnprof.cli import app\n"
        f"sys.argv = ['attnprof', {command!r}, '--help']\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        app()\n    except SystemExit:\n        pass")
    assert "torch" not in mods and "attnprof.cli.options" in mods


def test_the_profilers_own_lines_stay_out_of_the_output():
    """torch.profiler's C++ side writes 'profiler_start' / 'profiler_stop' lines straight to
    descriptor 2 (torch 2.13); --ops keeps them out unless --verbose."""
    r = subprocess.run([sys.executable, "-m", "attnprof", "stat", "eca", "-c", "8", "-s", "8",
                        "--ops", "--budget", "0.05", "--backends", "attnprof"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "aten::" in r.stdout
    assert "profiler_start" not in r.stderr + r.stdout
    assert "profiler_stop" not in r.stderr + r.stdout
