"""The attention's share of a real network's time: attnprof against an independent A/B.

For timm ``seresnet50``, ``ecaresnet50d`` and torchvision ``mobilenet_v3_small`` (random
weights, their own input size unless ``--size``), at one thread and at attnprof's default
thread count, this prints in one run:

- attnprof (``attnprof.model``, i.e. ``attnprof model NETWORK``): the network's median time,
  the attention's own-time share (module hooks) and its removal share (identity in its
  place), each with its interval, and the verdict;
- an independent alternating A/B, written here without attnprof's code: the network and the
  same network with every attention module (found here by its class) replaced by
  ``nn.Identity``, timed forward by forward with ``time.perf_counter``, alternating A B B A
  for ``--pairs`` pairs; the share ``1 - median(bare) / median(full)`` with a 95% percentile
  bootstrap interval of the pairs (resampled together, 2000 replicates, seed 1);
- ``torch.utils.benchmark.Timer.blocked_autorange`` on the network at the same thread count.

Checks printed per row (issue 20): the removal share within 2.5 percentage points of the
A/B's, or their intervals overlap; the network time within 1.35x of the Timer's.

    python benchmarks/network_attention.py [--quick] [--pairs 60] [--hogs 0] [--size 224]

``--quick``: 20 pairs, a 4 s time cap, mobilenet_v3_small and seresnet50 only. ``--hogs N``
runs N busy-looping processes beside everything (started and always stopped here).
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time

from _hog import Hog  # benchmarks/ is on sys.path when a benchmark runs


def _environment_fix() -> str:
    """The tests' labelled torchvision environment fix (tests/conftest.py), for machines whose
    torchvision wheel was built for another torch; a no-op where torchvision imports."""
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    try:
        from conftest import TORCHVISION_ENVIRONMENT
    finally:
        sys.path.pop(0)
    return TORCHVISION_ENVIRONMENT

NETWORKS = ("timm:seresnet50", "timm:ecaresnet50d", "torchvision:mobilenet_v3_small")


def build(name: str):
    """The network (seeded, random weights) and its attention modules' paths, by class."""
    import torch

    torch.manual_seed(0)
    source, _, model = name.partition(":")
    if source == "timm":
        import timm
        from timm.layers import EcaModule, SEModule

        net, kinds = timm.create_model(model, pretrained=False), (SEModule, EcaModule)
        size = net.pretrained_cfg.get("input_size", (3, 224, 224))
    else:
        import torchvision
        from torchvision.ops.misc import SqueezeExcitation

        net = torchvision.models.get_model(model, weights=None)
        kinds, size = (SqueezeExcitation,), (3, 224, 224)
    paths = [p for p, m in net.named_modules() if isinstance(m, kinds)]
    return net.eval(), paths, tuple(size)


def identity_in(net, paths):
    import torch

    bare = copy.deepcopy(net)
    for path in paths:
        parent, _, child = path.rpartition(".")
        setattr(bare.get_submodule(parent) if parent else bare, child, torch.nn.Identity())
    return bare


def ab_share(net, bare, x, pairs: int, threads: int) -> tuple[float, float, float]:
    """1 - median(bare)/median(full) over alternating forwards, with a bootstrap interval."""
    import torch

    torch.set_num_threads(threads)
    full_t, bare_t = [], []
    with torch.inference_mode():
        for _ in range(3):
            net(x)
            bare(x)
        for i in range(pairs):
            order = ((net, full_t), (bare, bare_t)) if i % 2 == 0 else \
                ((bare, bare_t), (net, full_t))
            for m, out in order:
                t0 = time.perf_counter()
                m(x)
                out.append(time.perf_counter() - t0)
    share = 1 - statistics.median(bare_t) / statistics.median(full_t)
    rng = random.Random(1)
    boots = []
    idx = range(pairs)
    for _ in range(2000):
        pick = [rng.choice(idx) for _ in idx]
        boots.append(1 - statistics.median(bare_t[i] for i in pick)
                     / statistics.median(full_t[i] for i in pick))
    boots.sort()
    return share, boots[50], boots[1949]


def timer_ms(net, x, threads: int) -> float:
    import torch
    from torch.utils import benchmark

    with torch.inference_mode():
        t = benchmark.Timer("m(x)", globals={"m": net, "x": x}, num_threads=threads)
        return t.blocked_autorange(min_run_time=1.0).median * 1e3


def row(name: str, threads: int | None, args) -> str:
    import torch

    import attnprof

    p = attnprof.model(name, threads=threads, backends=("attnprof",),
                       size=args.size, time_cap_s=args.time_cap)
    t = p.timing
    used = t.latency.threads
    net, paths, size = build(name)
    hw = (args.size, args.size) if args.size else size[1:]
    x = torch.randn(1, size[0], *hw)
    share, lo, hi = ab_share(net, identity_in(net, paths), x, args.pairs, used)
    direct = timer_ms(net, x, used)
    own, rem = t.own, t.removal

    def pc(v):
        return f"{100 * v:5.1f}%"

    rem_text = (f"{pc(rem.share)} [{pc(rem.share_ci[0])}, {pc(rem.share_ci[1])}] "
                f"{rem.comparison.verdict}" if rem and rem.share_ci else "-")
    ok_share = rem is not None and (abs(rem.share - share) <= 0.025 or (
        rem.share_ci is not None and rem.share_ci[0] <= hi and lo <= rem.share_ci[1]))
    ratio = t.latency.median_ms / direct
    return (f"{name:32} {used:>2}  net {t.latency.median_ms:7.2f} ms (Timer {direct:7.2f}, "
            f"{ratio:4.2f}x {'ok' if ratio <= 1.35 and 1 / ratio <= 1.35 else 'FAR'})  "
            f"own {pc(own.share)} [{pc(own.share_ci[0])}, {pc(own.share_ci[1])}]  "
            f"removal {rem_text}  A/B {pc(share)} [{pc(lo)}, {pc(hi)}] "
            f"({'agree' if ok_share else 'DISAGREE'})  rounds {t.rounds} ({t.stopped})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--hogs", type=int, default=0)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--time-cap", type=float, default=20.0)
    args = ap.parse_args()
    print(f"torchvision: {_environment_fix()}")
    names = NETWORKS
    if args.quick:
        args.pairs, args.time_cap = 20, 4.0
        names = (NETWORKS[2], NETWORKS[0])
    print("network                       thr  attnprof vs direct Timer; own time; removal; "
          "independent A/B")
    with Hog(args.hogs):
        for threads in (1, None):
            for name in names:
                print(row(name, threads, args), flush=True)


if __name__ == "__main__":
    main()
