"""The CI gate under load: does the shipped SE-vs-ECA suite ever fail on noise?

Runs ``attnprof run configs/se-vs-eca.toml`` ten times with a background CPU hog (busy-looping
processes this script starts and always stops) and reports, per run, the exit code, the
``latency_vs`` budget's value and outcome from the JSON, and every line of output that says
"inconclusive". Goal (issue 14): the same verdict every time, pass or inconclusive (exit 0),
never a false fail.

Then the control: the same latency budget where ECA is made 3x slower (a user block that
applies ECA three times; the count budgets are left out, so only latency can fail), which
must fail with exit 1 every time.

    python benchmarks/gate.py [--quick] [--runs 10] [--hogs 1] [--no-control]

``--quick``: three runs of the suite and two of the control (about two minutes on a busy
2-core machine; each run profiles two blocks with every backend).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _hog import Hog  # benchmarks/ is on sys.path when a benchmark runs

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "configs" / "se-vs-eca.toml"

SLOW_BLOCK = '''
import torch.nn as nn

from attnprof import create_block


class SlowECA(nn.Module):
    """ECA applied three times: a real 3x regression of the ECA case."""

    def __init__(self, channels):
        super().__init__()
        self.eca = create_block("eca", channels)

    def forward(self, x):
        return self.eca(self.eca(self.eca(x)))
'''

SLOW_SUITE = '''
[defaults]
channels = 64
size = 56
batch = 1
budget = 0.3
rounds = 5

[[case]]
name = "se"
block = "se"
options = { ratio = 16 }

[[case]]
name = "eca"
block = "slow_eca:SlowECA"

[[budget]]
case = "eca"
latency_vs = "se"
max_ratio = 1.5
'''


def run_suite(suite: Path, cwd: Path, json_path: Path) -> dict:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "attnprof", "run", str(suite), "--quiet",
                          "--json", str(json_path)], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": f"{cwd}{os.pathsep}"
                              f"{os.environ.get('PYTHONPATH', '')}"})
    text = out.stdout + out.stderr
    row = {"rc": out.returncode, "s": time.perf_counter() - start,
           "inconclusive": [ln.strip() for ln in text.splitlines()
                            if "inconclusive" in ln.lower()],
           "latency": None, "error": None}
    try:
        doc = json.loads(json_path.read_text())
        for b in doc.get("budgets") or ():
            if "latency" in str(b.get("budget", "")):
                outcome = b.get("outcome") or b.get("verdict") or b.get("result") or (
                    "pass" if b.get("passed") else "fail")
                row["latency"] = (b.get("value"), outcome)
    except (OSError, ValueError) as exc:
        row["error"] = f"{type(exc).__name__}: {exc}; {text.strip().splitlines()[-1:]}"
    return row


def report(label: str, rows: list[dict], want_rc: int) -> bool:
    print(f"\n{label}")
    for i, r in enumerate(rows, 1):
        lat = r["latency"]
        lat_text = f"{lat[0]:.3f}x {lat[1]}" if lat and lat[0] is not None else "-"
        extra = f"; {len(r['inconclusive'])} 'inconclusive' line(s)" if r["inconclusive"] else ""
        err = f"; {r['error']}" if r["error"] else ""
        print(f"  run {i:2}: exit {r['rc']}  latency/se {lat_text}  ({r['s']:.1f} s){extra}{err}")
    for line in sorted({ln for r in rows for ln in r["inconclusive"]}):
        print(f"    says: {line}")
    codes = Counter(r["rc"] for r in rows)
    same = len(codes) == 1
    ok = same and set(codes) == {want_rc}
    print(f"  exit codes {dict(codes)}: {'same every time' if same else 'DIFFERENT'}; "
          f"want {want_rc} every time: {'ok' if ok else 'MISSED'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--hogs", type=int, default=1, help="busy-looping processes (default 1)")
    ap.add_argument("--no-control", action="store_true", help="skip the 3x-slower control")
    args = ap.parse_args()
    runs = args.runs or (3 if args.quick else 10)
    control_runs = min(runs, 2) if args.quick else runs
    print(f"{SUITE.relative_to(ROOT)}: {runs} runs under {args.hogs} hog(s), "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "slow_eca.py").write_text(SLOW_BLOCK)
        (tmp_path / "slow.toml").write_text(SLOW_SUITE)
        with Hog(args.hogs):
            shipped = [run_suite(SUITE, ROOT, tmp_path / f"s{i}.json") for i in range(runs)]
            control = [] if args.no_control else [
                run_suite(tmp_path / "slow.toml", tmp_path, tmp_path / f"c{i}.json")
                for i in range(control_runs)]
    ok = report("shipped suite (want exit 0: pass or inconclusive, never a false fail)",
                shipped, 0)
    if control:
        ok &= report("control: ECA made 3x slower (want exit 1: a real regression fails)",
                     control, 1)
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
