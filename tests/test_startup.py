"""Time to answer (issue 11): a request imports only what it needs. Not timed (the timings
are in benchmarks/startup.py); these check which modules a fresh process ends up holding."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fresh import fresh_python

import attnprof.runner as runner_mod
from attnprof.results import Count

WATCHED = ("torch.profiler", "attnprof.measure.opsprof", "fvcore", "torchinfo", "torchstat",
           "matplotlib", "pandas", "timm", "torch.utils.benchmark", "attnprof.measure.latency",
           "attnprof.report.markdown", "attnprof.report.plot", "attnprof.report.html")


def _held_after(code: str) -> set[str]:
    """Which of WATCHED a fresh interpreter holds after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport json, sys\n"
         f"print(json.dumps([m for m in {WATCHED!r} if m in sys.modules]))"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_counting_only_imports_no_profiler_wrapped_library_or_plotting():
    """``stat --backends attnprof --no-latency`` imports none of the wrapped libraries, the
    per-op profiler, the latency machinery, pandas, matplotlib or the Markdown renderer.
    ``import torch`` itself imports torch.profiler on some versions (2.13 does), so that one
    is only held against attnprof where torch alone does not import it."""
    held = _held_after(
        "import sys\nfrom attnprof.cli import main\n"
        "sys.argv = ['attnprof', 'stat', 'cbam', '-c', '16', '-s', '256', "
        "'--backends', 'attnprof', '--no-latency']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code")
    by_torch = _held_after("import torch")
    assert held - by_torch == set(), held - by_torch
    assert "attnprof.measure.opsprof" not in held  # attnprof's per-op profiler (--ops)


def test_pipeline_modules_import_no_dynamo():
    """attnprof never imports torch._dynamo itself: importing the pipeline and the counters
    leaves it out (torch imports it on the first meta op whose kernel is a Python reference,
    such as mean, so a count on the meta device still does; timing imports it with
    --compile)."""
    out = subprocess.run(
        [sys.executable, "-c",
         "import sys\nimport attnprof.cli, attnprof.runner, attnprof.preflight\n"
         "import attnprof.counters._attnprof, attnprof.counters._torch\n"
         "import attnprof.counters.coverage, attnprof.measure.latency\n"
         "print('torch._dynamo' in sys.modules)"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False"]


def _fresh(code: str) -> list[str]:
    """The lines a fresh interpreter prints after running ``code``."""
    return fresh_python(code).split()


_RAW = ("import attnprof.counters.own as own, torch.utils.flop_counter as fc\n"
        "raws = [c.__dict__['__torch_dispatch__'].__wrapped__ "
        "for c in (own._CountingMode, fc._FlopCounterMode)]\n")


@pytest.mark.parametrize("mode", ["infer", "train"])
def test_a_counting_run_on_a_small_input_imports_no_dynamo_and_leaves_torch_as_found(mode):
    """``stat cbam -c 16 -s 256 --backends attnprof,torch --no-latency``: attnprof's dispatch
    mode and FlopCounterMode's count on real tensors without importing torch._dynamo or
    sympy, and the disable caches they were given are emptied afterwards (in train mode,
    the saved-for-backward bytes too). In train mode torch itself imports sympy: its
    ``autograd.backward`` checks the gradients' shapes with ``symbolic_shapes``."""
    lines = _fresh(
        "import sys\nfrom attnprof.cli import main\n"
        "sys.argv = ['attnprof', 'stat', 'cbam', '-c', '16', '-s', '256', '--mode', "
        f"'{mode}', '--backends', 'attnprof,torch', '--no-latency', '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        + _RAW +
        "print('DYNAMO', 'torch._dynamo' in sys.modules, 'sympy' in sys.modules)\n"
        "print('CACHES', *['__dynamo_disable' in r.__dict__ for r in raws])")
    sympy = "True" if mode == "train" else "False"
    assert lines[lines.index("DYNAMO"):] == ["DYNAMO", "False", sympy,
                                              "CACHES", "False", "False"]


def test_a_count_with_compile_pays_for_dynamo_as_torch_wants():
    """``compile=True`` (``--compile``): the cache is not seeded, torch's wrapper runs."""
    lines = _fresh(
        "import sys, torch, attnprof\nfrom attnprof.counters.own import count_module\n"
        "count_module(attnprof.create_block('se', 8), (1, 8, 4, 4), torch.float32, "
        "device='cpu', compile=True)\nprint('torch._dynamo' in sys.modules)")
    assert lines[-1] == "True"


def test_a_block_that_imports_dynamo_mid_count_hands_over_to_torch():
    """A block that compiles (here: imports torch._dynamo in its forward) in the middle of a
    count: the guard hands every later call to torch's own wrapper, the count is whole, and
    the cache left behind is torch's, not attnprof's."""
    lines = _fresh(
        "import sys, torch\nfrom torch import nn\n"
        "from attnprof.counters.own import count_module\n" + _RAW +
        "class Late(nn.Module):\n"
        "    def forward(self, x):\n"
        "        x = x * 2\n"
        "        import torch._dynamo\n"
        "        return x * 3\n"
        "r = count_module(Late(), (1, 4, 4, 4), torch.float32, device='cpu')\n"
        "cache = raws[0].__dict__.get('__dynamo_disable')\n"
        "print(r.total.flops, getattr(cache, '__module__', None))")
    assert lines[0] == str(2 * 64)
    assert lines[1] != "attnprof.counters.no_dynamo"


def test_nothing_is_seeded_with_compile_after_dynamo_or_on_an_unknown_wrapper(monkeypatch):
    import types

    from torch.utils._python_dispatch import TorchDispatchMode

    from attnprof.counters.no_dynamo import without_dynamo_import
    from attnprof.counters.own import _CountingMode

    class Plain:
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    class ClassLevel(TorchDispatchMode):
        @classmethod
        def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    with without_dynamo_import(Plain, ClassLevel, object()) as seeded:
        assert seeded == 0
    with without_dynamo_import(_CountingMode, compile=True) as seeded:
        assert seeded == 0
    if "torch._dynamo" not in sys.modules:
        monkeypatch.setitem(sys.modules, "torch._dynamo", types.ModuleType("torch._dynamo"))
    with without_dynamo_import(_CountingMode) as seeded:
        assert seeded == 0


def test_backends_run_quickest_first_and_report_in_the_requested_order(monkeypatch):
    from attnprof.request import ProfileRequest

    ran: list[str] = []
    real = runner_mod.run_backend

    def spy(name, target, verbose=False):
        ran.append(name)
        if name == "attnprof":
            return real(name, target, verbose=verbose)
        return Count.failed(name, "not run in this test", status="skipped")

    monkeypatch.setattr(runner_mod, "run_backend", spy)
    request = ProfileRequest(block="se", channels=16, size=(8, 8), latency=False,
                             backends=("torchstat", "fvcore", "attnprof", "torchinfo", "torch"))
    profile = runner_mod.profile(request)
    assert ran == ["attnprof", "torch", "torchinfo", "fvcore", "torchstat"]
    assert list(profile.counters) == ["torchstat", "fvcore", "attnprof", "torchinfo", "torch"]
