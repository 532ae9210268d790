"""Counting on the meta device against the same count on real tensors, as the input grows.

Each case runs in a fresh process, so its peak resident memory (ru_maxrss) is its own.
Real-tensor cases stop where the input would pass --real-limit-gb; meta goes on to CBAM at
256x512x112x112, a 6.6 GB input. "cold" is a process's first count: on meta it is
dominated by torch importing its Python meta kernels once (about a second); "warm" is a
second count in the same process.

    python benchmarks/counting.py [--block cbam] [--real-limit-gb 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import torch
import attnprof
from attnprof.counters.own import count_module
name, c, shape, device = sys.argv[1], int(sys.argv[2]), tuple(json.loads(sys.argv[3])), sys.argv[4]
block = attnprof.create_block(name, c)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = count_module(block, shape, torch.float32, device=device)
dt = time.perf_counter() - t
t = time.perf_counter()
count_module(block, shape, torch.float32, device=device)
warm = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"s": dt, "warm_s": warm, "rss_mib": peak / 1024, "grew_mib": (peak - base) / 1024,
                  "flops": r.total.flops, "macs": r.total.macs}))
"""

SHAPES = [(1, 64, 56, 56), (8, 256, 56, 56), (32, 256, 112, 112), (64, 512, 112, 112),
          (256, 512, 112, 112)]


def run(block: str, shape, device: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, block, str(shape[1]), json.dumps(shape),
                          device], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", default="cbam")
    ap.add_argument("--real-limit-gb", type=float, default=2.0)
    args = ap.parse_args()
    print(f"{'input':>20} {'input GB':>9} | {'meta cold':>9} {'warm':>8} {'+MiB':>6} | "
          f"{'real cold':>9} {'warm':>8} {'+MiB':>7} | {'warm x':>7} same")
    for shape in SHAPES:
        gb = 4 * shape[0] * shape[1] * shape[2] * shape[3] / 1e9
        meta = run(args.block, shape, "meta")
        real = run(args.block, shape, "cpu") if gb <= args.real_limit_gb else None
        dims = "x".join(map(str, shape))
        left = (f"{dims:>20} {gb:9.2f} | {meta['s']:9.3f} {meta['warm_s']:8.4f} "
                f"{meta['grew_mib']:6.0f} | ")
        if real is None:
            print(left + f"{'-':>9} {'-':>8} {'-':>7} | {'-':>7} (real: input > limit)")
            continue
        same = meta["flops"] == real["flops"] and meta["macs"] == real["macs"]
        print(left + f"{real['s']:9.3f} {real['warm_s']:8.4f} {real['grew_mib']:7.0f} | "
              f"{real['warm_s'] / meta['warm_s']:6.0f}x {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
