"""Does attnprof's median agree with torch.utils.benchmark timing the same module directly?

For each case: attnprof.profile's latency median and a plain
``Timer("m(x)").blocked_autorange()`` under ``inference_mode``, interleaved over rounds. Goal
(issue 4): within 10 %. Then five attnprof invocations of one case: medians within 25 %.

    python benchmarks/latency_fidelity.py [--rounds 5] [--budget 0.3]
"""

from __future__ import annotations

import argparse
import statistics

import torch
from torch.utils import benchmark

import attnprof

CASES = [("se", 64, 56, 1), ("eca", 64, 56, 1), ("cbam", 64, 56, 1), ("cbam", 256, 56, 8)]


def direct(name: str, c: int, s: int, b: int, budget: float, threads: int) -> float:
    block = attnprof.create_block(name, c).eval()
    x = torch.randn(b, c, s, s)
    with torch.inference_mode():
        for _ in range(3):
            block(x)
        t = benchmark.Timer("m(x)", globals={"m": block, "x": x}, num_threads=threads)
        return t.blocked_autorange(min_run_time=budget).median * 1e3


def ours(name: str, c: int, s: int, b: int, budget: float, threads: int) -> float:
    r = attnprof.profile(name, channels=c, size=s, batch=b, backends=("attnprof",),
                         budget_s=budget, threads=threads)
    return r.latency.median_ms


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    print(f"{'case':>22} {'attnprof ms':>12} {'direct ms':>10} {'ratio':>6}  goal 0.90..1.10")
    worst = 0.0
    for case in CASES:
        a, d = [], []
        for _ in range(args.rounds):
            a.append(ours(*case, args.budget, args.threads))
            d.append(direct(*case, args.budget, args.threads))
        ratio = statistics.median(x / y for x, y in zip(a, d, strict=True))
        worst = max(worst, abs(ratio - 1))
        name, c, s, b = case
        verdict = "ok" if abs(ratio - 1) <= 0.1 else "MISSED"
        print(f"{f'{name} {b}x{c}x{s}x{s}':>22} {statistics.median(a):12.4f} "
              f"{statistics.median(d):10.4f} {ratio:6.3f}  {verdict}")
    runs = [ours("cbam", 64, 56, 1, args.budget, args.threads) for _ in range(5)]
    spread = max(runs) / min(runs) - 1
    print(f"five invocations of cbam 1x64x56x56: {', '.join(f'{r:.4f}' for r in runs)} ms; "
          f"spread {100 * spread:.1f}% (goal <= 25%) {'ok' if spread <= .25 else 'MISSED'}")
    return 0 if worst <= 0.1 and spread <= 0.25 else 1


if __name__ == "__main__":
    raise SystemExit(main())
