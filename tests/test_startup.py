"""Time to answer (issue 11): a request imports only what it needs. Not timed (the timings
are in benchmarks/startup.py); these check which modules a fresh process ends up holding."""

from __future__ import annotations

import json
import subprocess
import sys

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
    such as mean; timing imports it with --compile)."""
    out = subprocess.run(
        [sys.executable, "-c",
         "import sys\nimport attnprof.cli, attnprof.runner, attnprof.preflight\n"
         "import attnprof.counters._attnprof, attnprof.counters._torch\n"
         "import attnprof.counters.coverage, attnprof.measure.latency\n"
         "print('torch._dynamo' in sys.modules)"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False"]


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
