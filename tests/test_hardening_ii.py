"""Hardening II (issue 15): nothing runs that the user did not mean, no file is harmed, and no
input is "a bug in attnprof". One section per class of the issue, then property-based fuzzing
of the command line's options, suites and results documents.

Every case must end with the contract's exit code (0, 1, 2, 130; never 3) and one clear line,
print nothing on stdout when it fails, and never show a traceback."""

from __future__ import annotations

import copy
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import pytest
from docedit import change_count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attnprof.check import compare_results, load_results
from attnprof.errors import AttnprofError, BadInput, UnknownBlock
from attnprof.files import check_outputs, output_kind, write_text
from attnprof.schemas import schema
from attnprof.validate import KEYWORDS, problems

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "compare_se_eca_cbam.json"
FAST = ["--no-latency", "--backends", "attnprof", "-c", "8", "-s", "8"]

USER = '''
import os, sys, signal, functools
import torch
import torch.nn as nn

class Exits(nn.Module):
    def __init__(self, channels):
        super().__init__()
    def forward(self, x):
        sys.exit(0)

class ExitsWithMessage(nn.Module):
    def __init__(self, channels):
        super().__init__()
    def forward(self, x):
        sys.exit("the gate is not ready")

class ExitsInInit(nn.Module):
    def __init__(self, channels):
        super().__init__()
        raise SystemExit(7)

class Interrupts(nn.Module):
    def __init__(self, channels):
        super().__init__()
    def forward(self, x):
        raise KeyboardInterrupt

class CtrlC(nn.Module):
    """A real SIGINT arrives while the block runs."""
    def __init__(self, channels):
        super().__init__()
    def forward(self, x):
        os.kill(os.getpid(), signal.SIGINT)
        return x

class Prints(nn.Module):
    def __init__(self, channels):
        super().__init__()
        print("constructing", flush=True)
    def forward(self, x):
        print("forward!")
        return x * 1.0

class Moves(nn.Module):
    def __init__(self, channels):
        super().__init__()
        os.chdir("/")
    def forward(self, x):
        return x

def make_gate(channels, scale=2.0):
    return Prints(channels)

def writes_a_file(path, text="owned"):
    with open(str(path) + ".pwned", "w") as f:
        f.write(text)
    return nn.Identity()

def star_args(*args, **kwargs):
    return nn.Identity()

class Factory:
    def __call__(self, channels):
        return nn.Identity()

callable_object = Factory()
partial_gate = functools.partial(make_gate, scale=3.0)
identity_lambda = lambda channels: nn.Identity()

class WithClassmethod(nn.Module):
    def __init__(self, channels, k=1):
        super().__init__()
    @classmethod
    def of(cls, channels, k=3):
        return cls(channels, k)
    def forward(self, x):
        return x
'''


@pytest.fixture
def d(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h2_blocks.py").write_text(USER)
    (tmp_path / "h2_exit_on_import.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "h2_print_on_import.py").write_text(
        "print('imported!')\nimport torch.nn as nn\nclass B(nn.Identity):\n"
        "    def __init__(self, channels):\n        super().__init__()\n")
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("h2_")]:
        del sys.modules[name]


def clean_failure(r, code=2):
    """Exit ``code``, one line on stderr, nothing on stdout, no traceback."""
    assert r.exit_code == code, r.output
    assert r.stdout == "", r.stdout
    assert "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr


# -- 1. nothing runs but a block constructor ----------------------------------------------

@pytest.mark.parametrize("block,needle", [
    ("os:system", "standard library"),
    ("shutil:rmtree", "standard library"),
    ("builtins:print", "standard library"),
    ("antigravity:x", "standard library"),
    ("this:s", "standard library"),
    ("subprocess:run", "standard library"),
    ("torch:save", "a function of torch"),
    ("torch:zeros", "built-in"),
    ("torch.nn.functional:relu", "a function of torch"),
    ("attnprof.files:write_text", "a function of attnprof"),
    ("h2_blocks:writes_a_file", "takes 'path' first"),
    ("h2_blocks:star_args", "takes '*args' first"),
    ("h2_blocks:callable_object", "callable object"),
])
def test_only_block_constructors_are_called(cli, d, block, needle):
    before = set(sys.modules)
    err = clean_failure(cli("stat", block, "-o", "path=victim", *FAST))
    assert needle in err
    # and says what a block is instead: one's own module, or a constructor taking channels
    if needle == "standard library":
        assert "has no attention blocks; name your own: package.module:Name" in err
    else:
        assert "attnprof calls only nn.Module subclasses and block factories" in err
    assert not list(d.glob("*.pwned"))
    assert "antigravity" not in set(sys.modules) - before  # never even imported


def test_a_suite_cannot_call_a_function(cli, d):
    victim = d / "keep"
    victim.mkdir()
    (victim / "precious.txt").write_text("mine")
    (d / "evil.toml").write_text('[[case]]\nblock = "shutil:rmtree"\n'
                                 'options = {ignore_errors = true}\nchannels = 1\n'
                                 '[[case]]\nname = "w"\nblock = "h2_blocks:writes_a_file"\n')
    err = clean_failure(cli("run", "evil.toml"))
    assert "evil.toml:1" in err and "standard library" in err
    assert (victim / "precious.txt").read_text() == "mine"
    (d / "evil2.toml").write_text('[[case]]\nname = "w"\nblock = "h2_blocks:writes_a_file"\n')
    err = clean_failure(cli("run", "evil2.toml"))
    assert "first, not a channel count" in err and not list(d.glob("*.pwned"))


ONLY_NETWORKS = "attnprof model calls only nn.Module subclasses and network factories"


@pytest.mark.parametrize("network,needle,why", [
    ("h2_blocks:writes_a_file", "needs path", ONLY_NETWORKS),
    ("h2_blocks:Exits", "needs channels", ONLY_NETWORKS),
    ("h2_nets:exits", "called sys.exit(4)", "must return, not exit the process"),
    ("torch:seed", "a function of torch", ONLY_NETWORKS),
    ("os:getcwd", "standard library", "which has no attention blocks"),
])
def test_model_calls_only_network_constructors(cli, d, network, needle, why):
    (d / "h2_nets.py").write_text("import sys\ndef exits():\n    sys.exit(4)\n")
    err = clean_failure(cli("model", network, "--no-latency"))
    assert needle in err and why in err, err
    assert not list(d.glob("*.pwned"))


@pytest.mark.parametrize("block", ["h2_blocks:make_gate", "h2_blocks:partial_gate",
                                   "h2_blocks:identity_lambda", "h2_blocks:WithClassmethod.of"])
def test_block_factories_are_still_called(cli, d, block):
    r = cli("stat", block, *FAST, "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["schema"] == "attnprof.profile/1"


# -- 4. a user's exits, interrupts and prints are contained -----------------------------------

@pytest.mark.parametrize("block,needle", [
    ("h2_blocks:Exits", "called sys.exit(0)"),
    ("h2_blocks:ExitsWithMessage", "the gate is not ready"),
    ("h2_blocks:ExitsInInit", "sys.exit(7)"),
    ("h2_blocks:Interrupts", "raised KeyboardInterrupt itself"),
    ("h2_exit_on_import:B", "sys.exit(3)"),
])
def test_an_exit_from_a_block_is_its_failure(cli, d, block, needle):
    err = clean_failure(cli("stat", block, *FAST))
    assert needle in err and block.split(":")[0] in err


def test_an_exit_while_timing_is_the_blocks_failure(cli, d):
    err = clean_failure(cli("stat", "h2_blocks:Exits", "--budget", "0.01", "-c", "4", "-s",
                            "4", "--backends", "attnprof"))
    assert "sys.exit(0)" in err


def test_a_real_ctrl_c_in_a_block_still_exits_130(cli, d):
    r = cli("stat", "h2_blocks:CtrlC", *FAST)
    assert r.exit_code == 130 and "interrupted" in r.stderr and "Traceback" not in r.output


def test_prints_of_a_block_never_reach_stdout(cli, d):
    r = cli("stat", "h2_blocks:Prints", "-c", "4", "-s", "4", "--budget", "0.01",
            "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["schema"] == "attnprof.profile/1"  # stdout is one document
    assert "constructing" in r.stderr and "forward!" in r.stderr
    r = cli("stat", "h2_print_on_import:B", *FAST, "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout) and "imported!" in r.stderr


def test_a_block_that_moves_the_working_directory_is_put_back(cli, d):
    r = cli("stat", "h2_blocks:Moves", *FAST)
    assert r.exit_code == 0, r.output
    assert Path.cwd() == d


# -- 2. writes respect what the path is --------------------------------------------------------

def test_a_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_text(str(fifo), '{"a": 1}\n')
    reader.join(10)
    assert got == ['{"a": 1}\n']
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fifo"]


def test_character_devices_and_own_streams_are_written_through(tmp_path, capsys):
    assert output_kind("/dev/null") == "stream"
    before = os.stat("/dev/null")
    write_text("/dev/null", "discarded")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert output_kind("-") == output_kind("/dev/stdout") == "stdout"
    write_text("/dev/stdout", "to stdout\n")
    assert capsys.readouterr().out == "to stdout\n"
    with pytest.raises(BadInput, match="No space left"):
        write_text("/dev/full", "x")


def test_a_symlink_keeps_pointing_at_its_file(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_text(str(link), "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o640


def test_two_outputs_on_one_path_are_refused(tmp_path):
    a = tmp_path / "a.json"
    with pytest.raises(BadInput, match="--json and --csv both write"):
        check_outputs({"--json": str(a), "--csv": str(tmp_path / "." / "a.json")})
    a.write_text("x")
    (tmp_path / "b.json").symlink_to(a)
    with pytest.raises(BadInput, match="both write"):
        check_outputs({"--json": str(a), "--markdown": str(tmp_path / "b.json")})
    with pytest.raises(BadInput, match="both write"):
        check_outputs({"--json": "-", "--markdown": "/dev/stdout"})
    with pytest.raises(BadInput, match="would overwrite"):
        check_outputs({"--json": str(a)}, {"the results file": str(a)})
    check_outputs({"--json": str(a), "--csv": str(tmp_path / "a.csv"), "--plot": None})


@pytest.mark.parametrize("path,needle", [
    ("{d}", "is a directory"),
    ("{d}/missing/x.json", "does not exist"),
    ("/dev/zero/x", "cannot write"),
])
def test_unwritable_outputs_are_refused_up_front(tmp_path, path, needle):
    with pytest.raises(BadInput, match=needle):
        check_outputs({"--json": path.replace("{d}", str(tmp_path))})


def test_inputs_that_are_devices_are_refused(cli, tmp_path):
    err = clean_failure(cli("check", "/dev/zero", "--baseline", str(FIXTURE)))
    assert "character device" in err


# -- 3. every input read from a file is validated ------------------------------------------

def results_doc():
    return json.loads(FIXTURE.read_text())


def _set(doc, path, value):
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


MUTATIONS = [
    (("results", 0, "latency", "median_ms"), "fast", "results[0].latency.median_ms: must be "
                                                      "a number"),
    (("results", 1, "params", "total"), -3, "results[1].params.total: must be >= 0"),
    (("results", 0, "input", "shape"), [1, 2, 3], "results[0].input.shape: must have "
                                                  "exactly 4 items"),
    (("results", 2, "counters"), [], "results[2].counters: must be an object"),
    (("results", 0, "latency", "median_ms"), 0, "must be > 0"),
    (("results",), {"a": 1}, "results: must be an array"),
    (("results", 0, "block", "options"), {"a": json.loads("[" * 80 + "]" * 80)},
     "nested more than 64 levels"),
]


@pytest.mark.parametrize("path,value,needle", MUTATIONS)
def test_malformed_results_say_file_where_and_what(cli, tmp_path, path, value, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_set(results_doc(), path, value)))
    err = clean_failure(cli("check", str(bad), "--baseline", str(FIXTURE)))
    assert f"{bad}: " in err and needle in err


@pytest.mark.parametrize("text,needle", [
    ('"median_ms": NaN', "NaN is not a JSON number"),
    ('"median_ms": Infinity', "Infinity is not a JSON number"),
    ('"median_ms": 1e400', "out of range"),
    ('"median_ms": 1' + "0" * 30, "out of range"),
    ('"median_ms": 1' + "0" * 5000, "not valid JSON"),
])
def test_non_finite_and_huge_numbers_are_refused(cli, tmp_path, text, needle):
    bad = tmp_path / "bad.json"
    bad.write_text(FIXTURE.read_text().replace('"median_ms": ', text + ', "x": ', 1))
    err = clean_failure(cli("check", str(bad), "--baseline", str(FIXTURE)))
    assert needle in err


def test_deep_nesting_is_refused(cli, tmp_path):
    bad = tmp_path / "deep.json"
    bad.write_text('{"schema": "attnprof.results/1", "results": ' + "[" * 50000
                   + "]" * 50000 + "}")
    assert "nested" in clean_failure(cli("check", str(bad), "--baseline", str(FIXTURE)))


@pytest.mark.parametrize("args,needle", [
    (["--latency-tolerance", "nan"], "finite"),
    (["--latency-tolerance", "inf"], "finite"),
    (["--tolerance", "flops=nan"], "finite"),
    (["--tolerance", "flops=inf"], "finite"),
    (["--tolerance", "flops=0.1", "--tolerance", "flops=0.2"], "given twice"),
])
def test_tolerances_must_be_finite(cli, args, needle):
    assert needle in clean_failure(cli("check", str(FIXTURE), "--baseline", str(FIXTURE),
                                       *args))


SUITE_CASES = [
    ('[defaults]\nlatency = "false"\n[[case]]\nblock = "se"\n', "latency in [defaults] must "
                                                               "be true or false"),
    ('[[case]]\nblock = "se"\nlatency = "no"\n', ":3: latency in [[case]]"),
    ('[[case]]\nblock = "se"\nchannels_last = 1\n', "must be true or false"),
    ('[[case]]\nblock = "se"\nsize = [1, 2, 3]\n', "must be a size"),
    ('[[case]]\nblock = "se"\nsize = [0, 2]\n', "must be a size"),
    ('[[case]]\nblock = "se"\nbudget = nan\n', "budget in [[case]] must be a finite number"),
    ('[[case]]\nblock = "se"\nbudget = inf\n', "finite number"),
    ('[[case]]\nblock = "se"\nchannels = 8.0\n', "must be a positive integer"),
    ('[[case]]\nblock = "se"\nchannels = 99999999999999999\n', "at most 2,147,483,647"),
    ('[[case]]\nblock = "se"\nthreads = 100000\n', "threads must be at most"),
    ('[[case]]\nblock = "se"\noptions = { ratio = { a = 1 } }\n', "options in [[case]]"),
    ('[[case]]\nblock = "se"\noptions = { ratio = nan }\n', "options in [[case]]"),
    ('[[case]]\nblock = "se"\nwhen = 1979-05-27\n', "unknown key 'when'"),
    ('[[case]]\nblock = 7\n', "block in [[case]] must be a non-empty string"),
    ('[[case]]\nblock = "se"\nbackends = [1]\n', "backends in [[case]]"),
    ('[defaults]\nrounds = 0\n[[case]]\nblock = "se"\n', "rounds in [defaults]"),
    ('[defaults]\nrounds = 100000\n[[case]]\nblock = "se"\n', "up to 1000"),
    ('[[case]]\nblock = "se"\nlatency = false\n[[budget]]\ncase = "se"\nmax_params = inf\n',
     ":6: max_params in [[budget]] must be a finite number >= 0"),
    ('[[case]]\nblock = "se"\n[[budget]]\ncase = "se"\nlatency_vs = "se"\nmax_ratio = -1\n',
     "max_ratio in [[budget]]"),
    ('[[case]]\nblock = "se"\nx = ' + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ('case = 3\n', "cases are tables"),
    ('[sweep]\nblocks = ["se"]\nsize = [[1, 2, 3]]\n', "size in [sweep]"),
    ('[sweep]\nblocks = "se"\n', "blocks in [sweep] must be a non-empty list"),
]


@pytest.mark.parametrize("text,needle", SUITE_CASES)
def test_suites_are_held_to_their_declared_keys_and_types(cli, tmp_path, text, needle):
    (tmp_path / "s.toml").write_text(text)
    err = clean_failure(cli("run", str(tmp_path / "s.toml")))
    assert needle in err and "s.toml" in err


@pytest.mark.parametrize("args,needle", [
    (["--threads", "100000"], "threads must be at most"),
    (["--budget", "inf"], "positive number of seconds"),
    (["--budget", "nan"], "positive number of seconds"),
    (["--budget", "1e300"], "at most 3600 seconds"),
    (["--channels", "99999999999999999999"], "at most 2,147,483,647"),
    (["--size", "3000000000"], "at most 2,147,483,647"),
    (["--size", "100000", "-b", "1000"], "elements; attnprof takes at most"),
    (["--device", "cuda:" + "9" * 20], "out of range"),
    (["--device", "cuda:1024"], "out of range"),
    (["-o", "gamma=1e-300"], "out of range"),
    (["-o", "kernel_size=99999999999999999999"], "out of range"),
])
def test_absurd_values_are_refused_before_torch_sees_them(cli, args, needle):
    block = "eca" if args[0] == "-o" else "se"
    assert needle in clean_failure(cli("stat", block, *args))


def test_a_block_whose_parameters_cannot_fit_is_refused_before_building(cli, monkeypatch):
    from attnprof.measure import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 10_000)
    assert "of memory free" in clean_failure(cli("stat", "se", "-c", "1024", "--no-latency"))


# -- 5. results that mix or mislabel work --------------------------------------------------

def _lower(doc, case, metric="flops"):
    for p in doc["results"]:
        if p["name"] == case:
            change_count(p, metric, -10)
    return doc


def test_a_lower_count_is_an_improvement_not_a_regression():
    base = load_results(str(FIXTURE))
    from attnprof.results import Profile

    better = [Profile.from_dict(p) for p in _lower(results_doc(), "eca")["results"]]
    diffs = compare_results(better, base)
    row = next(d for d in diffs if d.case == "eca" and d.metric == "flops")
    assert row.verdict == "lower (improvement)" and not row.failed
    strict = compare_results(better, base, exact=True)
    row = next(d for d in strict if d.case == "eca" and d.metric == "flops")
    assert row.failed and row.verdict.startswith("lower (improvement)")
    higher = compare_results(base, better)
    assert next(d for d in higher if d.case == "eca" and d.metric == "flops").failed


def test_check_reports_improvements_and_exact_fails_them(cli, tmp_path):
    better = tmp_path / "better.json"
    better.write_text(json.dumps(_lower(results_doc(), "eca")))
    r = cli("check", str(better), "--baseline", str(FIXTURE))
    assert r.exit_code == 0, r.output
    assert "lower (improvement)" in r.stdout and "regression" not in r.stderr
    r = cli("check", str(better), "--baseline", str(FIXTURE), "--exact", "--format", "json")
    assert r.exit_code == 1, r.output
    row = next(d for d in json.loads(r.stdout)["diffs"] if d["case"] == "eca"
               and d["metric"] == "flops")
    assert row["failed"] and row["verdict"].startswith("lower (improvement)")
    assert "0 regression(s), 1 improvement(s)" in r.stderr and "(--exact" in r.stderr
    r = cli("check", str(FIXTURE), "--baseline", str(better))
    assert r.exit_code == 1 and "1 regression(s)" in r.stderr and "higher" in r.stderr


def test_resume_refuses_a_file_made_with_other_settings(cli, tmp_path):
    out, csv = str(tmp_path / "sweep.json"), str(tmp_path / "sweep.csv")
    base = ["sweep", "se", "-c", "8", "--size", "4,8", "--backends", "attnprof", "--quiet"]
    assert cli(*base, "--no-latency", "--json", out, "--csv", csv).exit_code == 0
    before = Path(out).read_text()
    err = clean_failure(cli(*base, "--size", "4,8,16", "--no-latency", "-o", "ratio=2",
                            "--json", out, "--resume"))
    assert "other settings" in err and "ratio" in err
    err = clean_failure(cli(*base, "--budget", "0.01", "--json", out, "--resume"))
    assert "latency: off -> on" in err
    err = clean_failure(cli(*base, "--no-latency", "--mode", "train", "--csv", csv,
                            "--resume"))
    assert "mode: infer -> train" in err
    assert Path(out).read_text() == before  # nothing of the refused runs was written
    r = cli(*base, "--size", "4,8,16", "--no-latency", "--json", out, "--resume")
    assert r.exit_code == 0 and "2 of 3 cases already done" in r.stderr


@pytest.mark.parametrize("content,needle", [
    (b"x,y\n1,2\n", "no 'name' column"),
    (b"\xff\xfe\x00", "not a text file"),
    (b'name,block\n"' + b"a" * 200_000 + b'",se\n', "cannot resume from it"),
])
def test_resume_reads_a_csv_as_carefully_as_any_input(cli, tmp_path, content, needle):
    path = tmp_path / "old.csv"
    path.write_bytes(content)
    err = clean_failure(cli("sweep", "se", "-c", "8", "--size", "4", "--no-latency",
                            "--backends", "attnprof", "--csv", str(path), "--resume"))
    assert needle in err and path.read_bytes() == content


def test_a_specific_option_wins_over_a_general_one_in_any_order(cli):
    for order in (["-o", "se.ratio=2", "-o", "ratio=8"], ["-o", "ratio=8", "-o", "se.ratio=2"]):
        r = cli("compare", "se", "cbam", *order, "--no-latency", "--backends", "attnprof",
                "-c", "16", "-s", "8", "-f", "json")
        assert r.exit_code == 0, r.output
        ratios = [p["block"]["options"]["ratio"] for p in json.loads(r.stdout)["results"]]
        assert ratios == [2, 8]


@pytest.mark.parametrize("args,needle", [
    (["compare", "se", "eca", "--json", "{d}/x", "--csv", "{d}/./x"],
     "--json and --csv both write"),
    (["compare", "se", "eca", "--markdown", "{d}/x", "--json", "{d}/x"],
     "--json and --markdown both write"),
    (["sweep", "se", "--json", "{d}/x", "--csv", "{d}/x"], "--json and --csv both write"),
    (["sweep", "se", "--json", "{d}/x", "--plot", "{d}/x"], "--json and --plot both write"),
    (["run", "{d}/ok.toml", "--json", "{d}/x", "--markdown", "{d}/x"],
     "--json and --markdown both write"),
    (["run", "{d}/ok.toml", "--json", "{d}/ok.toml"],
     "--json would overwrite {d}/ok.toml, the suite this command reads"),
    (["check", "{d}/r.json", "--baseline", "{d}/r.json", "--markdown", "{d}/r.json"],
     "--markdown would overwrite {d}/r.json, the results file this command reads"),
    (["stat", "se", "--json", "{d}/link"], "cannot write {d}/link: it is a directory"),
])
def test_outputs_are_checked_before_any_work(cli, tmp_path, args, needle):
    (tmp_path / "ok.toml").write_text('[[case]]\nblock = "se"\nlatency = false\n')
    (tmp_path / "r.json").write_text(FIXTURE.read_text())
    (tmp_path / "link").symlink_to(tmp_path)  # a link to a directory
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    args = [a.replace("{d}", str(tmp_path)) for a in args]
    err = clean_failure(cli(*args, *(["--no-latency"] if args[0] in ("stat", "sweep",
                                                                      "compare") else [])))
    assert needle.replace("{d}", str(tmp_path)) in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_json_to_stdout_leaves_stdout_only_json(cli):
    for fmt in ("table", "markdown"):
        r = cli("stat", "se", *FAST, "--format", fmt, "--json", "-")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["schema"] == "attnprof.profile/1"
        assert "se" in r.stderr
    r = cli("compare", "se", "eca", *FAST, "--json", "/dev/stdout")
    assert r.exit_code == 0 and json.loads(r.stdout)["schema"] == "attnprof.results/1"
    r = cli("compare", "se", "eca", *FAST, "--csv", "-")
    assert r.exit_code == 0 and r.stdout.startswith("name,block,") and len(
        r.stdout.splitlines()) == 3
    r = cli("sweep", "se", "-c", "8", "--size", "4,8", "--no-latency", "--backends",
            "attnprof", "--quiet", "--csv", "-")  # written once, not after every case
    assert r.exit_code == 0 and r.stdout.count("name,block,") == 1
    r = cli("check", str(FIXTURE), "--baseline", str(FIXTURE), "--markdown", "-")
    assert r.exit_code == 0 and r.stdout.startswith("### attnprof check")


def test_the_cli_writes_through_a_fifo(cli, tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    r = cli("stat", "se", *FAST, "--json", str(fifo))
    reader.join(20)
    assert r.exit_code == 0, r.output
    assert json.loads(got[0])["schema"] == "attnprof.profile/1"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_plot_to_a_fifo_is_written_through(cli, tmp_path):
    pytest.importorskip("matplotlib")
    fifo = tmp_path / "plot.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = cli("sweep", "se", "-c", "8", "--size", "4,8", "--no-latency", "--backends",
            "attnprof", "--plot", str(fifo), "--quiet")
    reader.join(30)
    assert r.exit_code == 0, r.output
    assert got and got[0].startswith(b"\x89PNG") and stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unusable_step_summary_is_a_warning_not_a_crash(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a directory
    r = cli("check", str(FIXTURE), "--baseline", str(FIXTURE))
    assert r.exit_code == 0, r.output
    assert "cannot append to $GITHUB_STEP_SUMMARY" in r.stderr


def test_narrow_and_piped_consoles_never_cut_a_figure(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "24")
    r = cli("compare", "se", "eca", "cbam", *FAST)
    assert r.exit_code == 0, r.output
    words = r.stdout.split()
    assert {"se", "eca", "cbam", "15,828"} <= set(words), r.stdout  # whole names and numbers
    assert "…" not in r.stdout
    monkeypatch.delenv("COLUMNS")
    r = cli("stat", "cbam", *FAST, "--layers")
    assert r.exit_code == 0 and "…" not in r.stdout


@pytest.mark.parametrize("args,needle", [
    (["calibrate", "--budget", "nan"], "positive number of seconds"),
    (["calibrate", "--budget", "inf"], "positive number of seconds"),
    (["calibrate", "--threads", "100000"], "threads must be at most"),
    (["model", "resnet18", "--threads", "100000"], "threads must be at most"),
    (["model", "resnet18", "--budget", "inf"], "positive number of seconds"),
    (["model", "resnet18", "--batch", "99999999999999999999"], "at most 2,147,483,647"),
    (["compare", "se", "eca", "--rounds", "99999999999999999999"], "at most 1000"),
    (["compare", "se", "eca", "--baseline", "se", "--time-cap", "inf"], "--time-cap"),
    (["compare", "se", "eca", "--baseline", "se", "--time-cap", "1e300"], "at most 3600"),
])
def test_machine_and_model_bounds(cli, args, needle):
    assert needle in clean_failure(cli(*args))


def test_an_unusable_cache_directory_is_refused_before_measuring(cli, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("ATTNPROF_CACHE_DIR", str(tmp_path / "file" / "cache"))
    from attnprof.measure import roofline

    monkeypatch.setattr(roofline, "calibrate", lambda *a, **k: pytest.fail("measured"))
    assert "is not a directory" in clean_failure(cli("calibrate"))


def test_a_damaged_calibration_is_ignored(cli, tmp_path, monkeypatch):
    from attnprof.measure import roofline

    monkeypatch.setenv("ATTNPROF_CACHE_DIR", str(tmp_path))
    key = roofline.machine_key("cpu", 1)
    (tmp_path / roofline.CACHE_FILE).write_text(json.dumps(
        {key: {"bandwidth_bytes_per_s": 0, "matmul_flops_per_s": {"float32": 0}}}))
    assert roofline.load("cpu", 1) is None
    r = cli("stat", "se", "-c", "4", "-s", "4", "--budget", "0.01", "--threads", "1",
            "--backends", "attnprof")
    assert r.exit_code == 0, r.output


# -- 6. linear-time loading --------------------------------------------------------------------

def test_ten_thousand_suite_cases_load_in_seconds(tmp_path, monkeypatch):
    from attnprof import suite

    built = []
    original = suite.Lines.__init__

    def counting(self, text):
        built.append(1)
        original(self, text)

    monkeypatch.setattr(suite.Lines, "__init__", counting)
    text = "".join(f'[[case]]\nname = "c{i}"\nblock = "se"\nlatency = false\n'
                   f'backends = "attnprof"\n' for i in range(10_000))
    text += "".join(f'[[budget]]\ncase = "c{i}"\nmax_params = 100\n' for i in range(0, 10_000, 7))
    path = tmp_path / "big.toml"
    path.write_text(text)
    start = time.perf_counter()
    loaded = suite.load(str(path))
    assert len(loaded.requests) == 10_000 and len(loaded.budgets) == 1429
    assert built == [1]  # the text is indexed once, not rescanned per case
    assert time.perf_counter() - start < 30  # minutes before; ~1 s on a quiet machine


def test_ten_thousand_results_load_in_seconds(tmp_path):
    doc = results_doc()
    one = doc["results"][0]
    one["counters"] = {"attnprof": one["counters"]["attnprof"]}
    for key in ("layers", "op_times"):
        one.pop(key, None)
    text = json.dumps(one)
    cases = [text.replace(f'"name": "{one["name"]}"', f'"name": "case {i}"', 1)
             for i in range(10_000)]
    path = tmp_path / "big.json"
    path.write_text('{"schema": "attnprof.results/1", "results": [' + ", ".join(cases) + "]}")
    start = time.perf_counter()
    loaded = load_results(str(path))
    assert len(loaded) == 10_000 and loaded[-1].label == "case 9999"
    assert time.perf_counter() - start < 30  # minutes before; a few seconds here
    cases = cases[:100] + [cases[0]]
    path.write_text('{"schema": "attnprof.results/1", "results": [' + ", ".join(cases) + "]}")
    with pytest.raises(BadInput, match="case names repeat: case 0"):
        load_results(str(path))


# -- the validator itself ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["attnprof.profile/1", "attnprof.results/1",
                                  "attnprof.check/1"])
def test_the_schemas_use_only_keywords_the_validator_interprets(name):
    # compiling refuses a keyword it does not interpret: a schema that starts using one must
    # teach attnprof.validate first
    from attnprof.validate import _Compiler, validator

    validator(name)
    with pytest.raises(ValueError, match="does not interpret"):
        _Compiler().compile({"type": "object", "dependentRequired": {}}, {})
    assert "if" in KEYWORDS and "$ref" in KEYWORDS


def _paths(doc, prefix=()):
    """Every path into ``doc`` (limited: the first two results)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:2]):
            yield from _paths(v, (*prefix, i))


DOC = results_doc()
DOC["results"] = DOC["results"][:2]
PATHS = [p for p in _paths(DOC) if p]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5),
                   st.lists(st.integers(0, 3), max_size=5),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.sampled_from(PATHS), VALUES, st.booleans())
def test_fuzz_results_documents(tmp_path, path, value, delete):
    """Any one change to a valid document: loading it either works or is one BadInput line
    naming the file; the validator agrees with jsonschema; check never crashes."""
    doc = copy.deepcopy(DOC)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    ours = problems(doc, "attnprof.results/1")
    theirs = jsonschema.Draft202012Validator(schema("attnprof.results/1")).is_valid(doc)
    big = any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63
              for v in [value])
    if not big:  # beyond the schema, integers must fit 64 bits; else the two agree
        assert (ours is None) == theirs, ours
    file = tmp_path / "fuzz.json"
    file.write_text(json.dumps(doc))
    try:
        profiles = load_results(str(file))
    except BadInput as exc:  # refused: in one line naming the file, and only what is invalid
        assert str(exc).startswith(f"{file}: ") and "\n" not in str(exc)
        assert ours is not None, f"a valid document was refused: {exc}"
    else:
        assert ours is None
        compare_results(profiles, profiles)


TOML_VALUES = st.one_of(
    st.booleans(), st.integers(-3, 2**40), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(['"se"', '"false"', '"8x8"', '"cuda:99"', '"float64"', '""', '"all"']),
    st.lists(st.integers(-1, 70), max_size=4), st.just("{ ratio = 2 }"),
    st.just("{ ratio = { a = 1 } }"), st.just("1979-05-27"))
KEYS = sorted({"channels", "size", "batch", "device", "dtype", "mode", "backends", "latency",
               "budget", "threads", "timer", "channels_last", "options", "host", "name",
               "block", "rounds", "case", "max_params", "latency_vs", "max_ratio", "blocks",
               "bogus"})


# the keys each table takes (docs/contract.md, "Suites"), of those in KEYS
PROFILE_KEYS = {"channels", "size", "batch", "device", "dtype", "mode", "backends", "latency",
                "budget", "threads", "timer", "channels_last", "options", "host"}
SUITE_KEYS = {"defaults": PROFILE_KEYS | {"rounds"}, "case": PROFILE_KEYS | {"name", "block"},
              "budget": {"case", "latency_vs", "max_ratio", "max_params"},
              "sweep": {"blocks", "channels", "size", "batch", "dtype", "options"}}


def _toml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["defaults", "case", "budget", "sweep"]),
                          st.dictionaries(st.sampled_from(KEYS), TOML_VALUES, max_size=4)),
                min_size=1, max_size=4))
def test_fuzz_suites(tmp_path, tables):
    """Random suites of declared and undeclared keys with values of every kind: loading one
    either plans it or is one line ``FILE[:LINE]: ...`` (exit 2); nothing is ever run."""
    from attnprof.suite import load

    lines = []
    for table, body in tables:
        lines.append(f"[[{table}]]" if table in ("case", "budget") else f"[{table}]")
        if table == "case":
            body = {"block": '"se"', "latency": False, **body}
        lines += [f"{k} = {_toml(v)}" for k, v in body.items()]
    file = tmp_path / "fuzz.toml"
    file.write_text("\n".join(lines) + "\n")
    try:
        suite = load(str(file))
    except AttnprofError as exc:
        assert str(exc).startswith(str(file)) and "\n" not in str(exc), str(exc)
    else:  # what loads holds only the keys its tables take, and plans every case
        for table, body in tables:
            assert set(body) <= SUITE_KEYS[table], (table, sorted(body))
        assert len(suite.requests) == sum(table == "case" for table, _ in tables)


CLI_VALUES = {
    "--channels": st.one_of(st.integers(-2, 2**64).map(str), st.sampled_from(["x", "", "8"])),
    "--size": st.sampled_from(["8", "0", "8x", "x8", "4x4", "9" * 25, "-1", "nan"]),
    "--batch": st.one_of(st.integers(-1, 2**40).map(str), st.just("1.5")),
    "--dtype": st.sampled_from(["float32", "float64", "", "FLOAT16"]),
    "--device": st.sampled_from(["cpu", "cuda", "cuda:" + "1" * 20, "tpu", "cuda:-1", "meta"]),
    "--mode": st.sampled_from(["infer", "train", "eval"]),
    "--backends": st.sampled_from(["attnprof", ",", "torch,attnprof", "x"]),
    "--threads": st.one_of(st.integers(-1, 10**6).map(str), st.just("two")),
    "--budget": st.sampled_from(["0.01", "inf", "nan", "-1", "1e-300", "1e300", "0"]),
    "--timer": st.sampled_from(["blocked", "adaptive", "fast"]),
    "-o": st.sampled_from(["ratio=2", "ratio=0", "ratio", "=1", "ratio=nan", "ratio=1e400",
                           "ratio=99999999999999999999", "bias=maybe", "x=1"]),
    "--format": st.sampled_from(["table", "json", "markdown", "yaml"]),
}


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(sorted(CLI_VALUES)), st.none(), max_size=4)
       .flatmap(lambda keys: st.fixed_dictionaries({k: CLI_VALUES[k] for k in keys})))
def test_fuzz_command_line_options(cli, chosen):
    """Any mix of profiling options, valid or not: the contract's exit code (0 or 2 here),
    one line on stderr when refused, stdout untouched, never a traceback."""
    args = ["stat", "se", "--no-latency", "-c", "4", "-s", "4", "--backends", "attnprof"]
    for key, value in chosen.items():
        args += [key, value]
    if "--budget" in chosen or "--threads" in chosen or "--timer" in chosen:
        args.remove("--no-latency")
        args += [] if "--budget" in chosen else ["--budget", "0.01"]
    r = cli(*args)
    assert r.exit_code in (0, 2), (args, r.output)
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        assert r.stdout == "" and r.stderr.strip(), (args, r.output)
    elif chosen.get("--format") == "json":
        json.loads(r.stdout)


# -- 7. output that keeps its promise (real processes: pipes, encodings, closed streams) ------

def _attnprof(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **kw.pop("env", {})}
    return subprocess.run([sys.executable, "-m", "attnprof", *args], env=env,
                          capture_output=True, text=True, timeout=120, **kw)


def test_a_pipe_whose_reader_has_gone_is_a_quiet_exit():
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first byte
    with os.fdopen(write, "w") as out:
        r = subprocess.run([sys.executable, "-m", "attnprof", "list"], stdout=out,
                           stderr=subprocess.PIPE, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_a_closed_stdout_is_not_a_crash():
    r = subprocess.run(["sh", "-c", f'"{sys.executable}" -m attnprof list >&-'],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_an_ascii_only_stdout_gets_an_ascii_table():
    r = _attnprof("list", env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.isascii() and "cbam" in r.stdout and "Traceback" not in r.stderr


def test_sigint_leaves_with_130(tmp_path):
    """A real Ctrl-C (SIGINT to the process) while a block runs: exit 130, one line."""
    (tmp_path / "h2_slow.py").write_text(
        "import time, torch.nn as nn\nclass Slow(nn.Module):\n"
        "    def __init__(self, channels):\n        super().__init__()\n"
        "        open('started', 'w').close()\n        time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-m", "attnprof", "stat", "h2_slow:Slow",
                          "--no-latency"], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert out == "" and "interrupted" in err and "Traceback" not in err


def test_unknown_blocks_raise_unknown_block():
    from attnprof.registry import REGISTRY

    with pytest.raises(UnknownBlock, match="standard library"):
        REGISTRY.get("json:dumps")
