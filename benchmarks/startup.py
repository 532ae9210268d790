"""Time to answer (issues 11, 24): whole commands, cold, as ratios to ``python -c "import torch"``.

Every command runs in a fresh process, timed from its start to its exit; the commands run
side by side in one run: each round runs every command once, in an order that rotates from
round to round, so a machine that slows down or speeds up during the run moves all of them
alike. A command's figure is the median of its per-round ratio to ``import torch`` in the
same round (and its median seconds, for scale).

    python benchmarks/startup.py [--rounds 5] [--quick] [--compare-with DIR] [--stages]

``--compare-with DIR``: DIR holds another version's ``attnprof`` package (for instance
``git archive HEAD~3 attnprof | tar -x -C DIR``); the two ``stat`` rows are run with it too,
in the same rounds, so before and after are measured side by side.

Rows:

- ``import torch``: the yardstick.
- ``torch + meta mean``: import torch and run one ``mean`` on a meta tensor. Its first run
  makes torch import ``torch._dynamo`` and sympy (the meta kernels of reductions such as
  ``mean`` and ``amax`` are Python references wrapped by ``torch._compile._disable_dynamo``):
  the least that any count on the meta device of a block with a pooling or reduction costs.
  A small input is therefore counted on real CPU tensors (attnprof/counters/real.py), with
  the dispatch modes' disable cache seeded (attnprof/counters/no_dynamo.py): no dynamo.
- ``attnprof --help``, ``list``, ``show se``: never import torch.
- ``stat counting-only``: ``stat cbam -c 16 -s 256 --backends attnprof --no-latency``.
- ``stat full``: ``stat cbam -c 16 -s 256`` (every backend, the default latency budget).
- ``cold torchinfo.summary``, ``cold fvcore count``: each library alone on the same block
  and input, in a fresh process (import torch, the library and attnprof's block included).

Targets (issue 24): counting-only <= 1.4x import torch (moonshot 1.15x); full stat <= 1.8x
cold torchinfo (moonshot 1.3x); help/list/show <= 0.35x import torch. This script reports;
it does not fail on them.

``--stages``: where the time of ``stat cbam -c 16 -s 256`` goes, stage by stage, each
measured in a fresh process (the same rounds, medians): importing torch, attnprof's CLI and
pipeline, building the block, preflight, each backend (its library's import included, in
the runner's order), the latency machinery's import and the default 0.3 s of timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TORCHINFO = """
import torch, torchinfo, attnprof
block = attnprof.create_block("cbam", 16)
torchinfo.summary(block, input_size=(1, 16, 256, 256), verbose=0, device="cpu")
"""

FVCORE = """
import torch, attnprof
from fvcore.nn import FlopCountAnalysis
block = attnprof.create_block("cbam", 16).eval()
with torch.no_grad():
    FlopCountAnalysis(block, (torch.randn(1, 16, 256, 256),)).total()
"""


CLI = [PY, "-m", "attnprof"]  # run from ROOT, so this checkout's package
STAT = ["stat", "cbam", "-c", "16", "-s", "256"]
COUNTING = ["--backends", "attnprof", "--no-latency"]


def commands(quick: bool, other: Path | None) -> dict[str, tuple[list[str], Path]]:
    cli = CLI
    stat = [*CLI, *STAT]
    out = {
        "import torch": [PY, "-c", "import torch"],
        "torch + meta mean": [PY, "-c", "import torch; "
                              "torch.empty(1, 16, 256, 256, device='meta').mean((2, 3))"],
        "attnprof --help": [*cli, "--help"],
        "attnprof list": [*cli, "list"],
        "attnprof show se": [*cli, "show", "se"],
        "stat counting-only": [*stat, *COUNTING],
        "stat full": stat,
        "cold torchinfo.summary": [PY, "-c", TORCHINFO],
        "cold fvcore count": [PY, "-c", FVCORE],
    }
    if quick:
        for name in ("attnprof list", "cold fvcore count"):
            del out[name]
    runs = {name: (argv, ROOT) for name, argv in out.items()}
    if other is not None:  # python -m from DIR itself puts DIR first on sys.path
        runs["stat counting-only (other)"] = ([*CLI, *STAT, *COUNTING], other)
        runs["stat full (other)"] = ([*CLI, *STAT], other)
    return runs


def run_once(run: tuple[list[str], Path]) -> float:
    argv, cwd = run
    env = dict(os.environ, COLUMNS="120")
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} exited {done.returncode}:\n"
                         f"{done.stderr[-2000:]}")
    return took


TARGETS = {  # row: (reference row, at most)
    "stat counting-only": ("import torch", 1.4),
    "stat full": ("cold torchinfo.summary", 1.8),
    "attnprof --help": ("import torch", 0.35),
    "attnprof list": ("import torch", 0.35),
    "attnprof show se": ("import torch", 0.35),
}


STAGES = """
import json, time
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
import torch
mark("import torch")
import attnprof.cli.app
mark("import attnprof's CLI (typer, rich, click)")
import attnprof.runner
mark("import the pipeline (runner, building, results)")
import attnprof
block = attnprof.create_block("cbam", 16)
mark("build the block")
from attnprof.preflight import check_forward
shape = (1, 16, 256, 256)
check_forward(block, shape, torch.float32, "cbam", "cpu")
mark("preflight (one real forward: the input is small)")
from attnprof.counters import Target, run_backend
target = Target(block, shape, torch.float32, "cpu", "infer")
for backend in ("attnprof", "torch", "torchinfo", "fvcore", "torchstat"):
    assert run_backend(backend, target).ok, backend
    mark(f"count: {backend}")
from attnprof.measure import latency
mark("import the latency machinery (torch.utils.benchmark)")
latency.measure(block, target.input(), budget_s=0.3)
mark("latency: the default 0.3 s budget")
print(json.dumps([(n, t - marks[i][1]) for i, (n, t) in enumerate(marks[1:])]))
"""


def stages(rounds: int) -> None:
    """Each stage's median seconds over ``rounds`` fresh processes."""
    import json

    per: dict[str, list[float]] = {}
    for _ in range(rounds + 1):  # the first warms the file cache
        out = subprocess.run([PY, "-c", STAGES], cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        for name, took in json.loads(out.stdout.strip().splitlines()[-1]):
            per.setdefault(name, []).append(took)
    print(f"stages of stat cbam -c 16 -s 256, {rounds} fresh processes, medians")
    for name, took in per.items():
        print(f"  {name:<55} {statistics.median(took[1:]):7.3f} s")
    print(f"  {'total':<55} {sum(statistics.median(t[1:]) for t in per.values()):7.3f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="three rounds, fewer rows")
    ap.add_argument("--compare-with", type=Path, metavar="DIR",
                    help="a directory holding another version's attnprof package")
    ap.add_argument("--stages", action="store_true",
                    help="time each stage of stat in fresh processes instead")
    args = ap.parse_args()
    rounds = 3 if args.quick else args.rounds
    if args.stages:
        stages(rounds)
        return 0
    other = args.compare_with.resolve() if args.compare_with else None
    if other is not None and not (other / "attnprof" / "__init__.py").is_file():
        ap.error(f"{other} holds no attnprof package")
    cmds = commands(args.quick, other)
    names = list(cmds)
    for name in names:  # warm the file cache: the first run of anything is not counted
        run_once(cmds[name])
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(run_once(cmds[name]))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)

    def ratio(name: str, ref: str) -> float:
        return statistics.median(a / b for a, b in zip(times[name], times[ref], strict=True))

    print(f"{rounds} interleaved rounds, medians ({os.cpu_count()} CPUs)")
    if other is not None:
        print(f"(other): {other}")
    print(f"{'command':<28} {'median s':>9} {'min s':>7} {'max s':>7} {'x import torch':>15} "
          f"{'x torchinfo':>12} {'x torch+meta':>13}")
    for name in names:
        t = times[name]
        print(f"{name:<28} {statistics.median(t):9.2f} {min(t):7.2f} {max(t):7.2f} "
              f"{ratio(name, 'import torch'):15.2f} {ratio(name, 'cold torchinfo.summary'):12.2f} "
              f"{ratio(name, 'torch + meta mean'):13.2f}")
    print("x torch+meta: to 'torch + meta mean', the least a count on the meta device costs "
          "(torch imports torch._dynamo and sympy on the first mean/amax there)")
    print()
    for name, (ref, limit) in TARGETS.items():
        if name in times:
            got = ratio(name, ref)
            print(f"target {name} <= {limit}x {ref}: {got:.2f}x "
                  f"{'met' if got <= limit else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
