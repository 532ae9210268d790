"""The cost of the attention inside a whole network (``attnprof model``), on the main road.

    plan      NetworkRequest -> NetworkPlan (request.py: parsed and validated once)
    build     the network, with the block in its slots when asked (building.py, the builder
              ``--host`` uses), its attention modules found (zoo/attention.py), and the bare
              network: the same weights with every attention module replaced by identity
    preflight one forward on meta (or real data): the network runs; each attention module
              keeps its input's shape (else identity cannot stand in: no removal measure)
    count     each backend on the network (counters/); attnprof's count per module path
    memory    the network's peak memory (measure/memory.py)
    time      the network, the bare network and the hooked network, interleaved in rotating
              rounds under stat's timing policy (measure/latency.py, measure/hooks.py)
    assemble  a frozen NetworkProfile (results.py)

What counts as attention: attnprof's registered blocks, timm's attention zoo, torchvision's
``SqueezeExcitation``, the block put in with ``block=``, self-attention over tokens, and the
caller's fnmatch patterns (``zoo/attention.py``; only the outermost match counts).

Two measures of the attention's time, side by side (docs/latency.md): its *own time* (module
hooks: how long the attention modules run inside the forward) and the *saving by removal*
(the network against the bare network, timed interleaved: ``1 - bare/network``, with the
ratio's bootstrap interval and a verdict). They answer different questions and can differ:
hooks cost time at every boundary they mark, and removing a module changes what runs around
it (caches, the thread pool's wake-ups). When their intervals do not overlap, the profile
says so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from attnprof.errors import AttnprofError, BadInput
from attnprof.request import NetworkPlan, NetworkRequest, make_network_plan
from attnprof.results import (
    Comparison,
    Cost,
    Environment,
    ModuleCost,
    NetworkProfile,
    NetworkTiming,
    Removal,
)
from attnprof.zoo.attention import attention_types, find_attention

Note = Callable[[str], None]

#: each timed call gets at least this many samples, so its median's interval can reach 95%
#: (order statistics: six samples give [min, max] at 96.9%)
MIN_SAMPLES = 6
#: interleaved rounds before the timing may stop
MIN_ROUNDS = 3
#: the removal share's interval is narrow enough to stop at this width (2 percentage points)
SHARE_WIDTH = 0.02


def profile_network(request: NetworkRequest | NetworkPlan, note: Note | None = None
                    ) -> NetworkProfile:
    """Profile a network's attention (see the module's doc). Raises AttnprofError
    subclasses for bad input; never prints."""
    from attnprof.contain import user_code
    from attnprof.runner import preserved_state

    plan = make_network_plan(request)
    say = note or (lambda _m: None)
    with preserved_state(), user_code(f"network '{plan.network}'"):
        return _profile(plan, say)


def _profile(plan: NetworkPlan, say: Note) -> NetworkProfile:
    import torch

    from attnprof.building import build_network, without_attention
    from attnprof.counters import Target
    from attnprof.preflight import check_device, check_fits, check_forward
    from attnprof.registry import REGISTRY

    # build -----------------------------------------------------------------------------
    if plan.latency:
        check_device(plan.device)
    say(f"{plan.network}: building")
    on_meta = not plan.latency and set(plan.backends) <= {"attnprof"}
    built = build_network(plan, on_meta=on_meta)
    net = built.network
    chw = built.default_input
    channels = plan.channels if plan.channels is not None else (chw[0] if chw else 3)
    hw = plan.size if plan.size is not None else ((chw[1], chw[2]) if chw else (224, 224))
    shape = (plan.batch, channels, *hw)
    types = attention_types(REGISTRY.all())
    for cls, label in built.block_types.items():  # a registered class keeps its own label
        types.setdefault(cls, label)
    found = find_attention(net, plan.match, types)
    notes = _found_notes(plan, found)

    # preflight -------------------------------------------------------------------------
    dtype = torch.float32
    device = plan.device if plan.latency else "cpu"
    # the network runs once (on meta when it can); its output need not keep the input's shape
    runs_on_meta = check_forward(net, shape, dtype, f"network '{plan.network}'", device,
                                 same_shape=False)
    # why identity cannot stand in for the attention ("" when it can)
    unfit = _keeps_shape(net, shape, [p for p, _, _ in found],
                         "meta" if runs_on_meta else "cpu") if plan.latency else ""
    if not on_meta:
        net = net.to(device)
    target = Target(net, shape, dtype, device, "infer", runs_on_meta=runs_on_meta)

    # count -----------------------------------------------------------------------------
    counts = _count(plan, target, say)
    own = counts.get("attnprof")
    if own is None or not own.ok:  # the figures the report is about: never silently None
        from attnprof.errors import CountFailed

        raise CountFailed(f"counting {plan.network} on a {'x'.join(map(str, shape))} input "
                          f"failed: {own.error if own is not None else 'no count'}")
    if plan.latency:
        check_fits(net, target, own.extra.get("peak_live_bytes"), f"network '{plan.network}'")

    # memory ----------------------------------------------------------------------------
    from attnprof.runner import measure_memory

    memory = measure_memory(target, own)

    # time ------------------------------------------------------------------------------
    timing, per_module = None, {}
    if plan.latency:
        paths = [p for p, _, _ in found]
        why = "no attention module found" if not found else (unfit or None)
        bare = without_attention(net, paths) if why is None else None
        say(f"{plan.network}: timing")
        timing, per_module = _time(plan, net, bare, paths, target, why)
        if timing.removal is not None and timing.own is not None:
            timing = _with_agreement(timing)

    # assemble --------------------------------------------------------------------------
    from attnprof.env import environment

    modules = []
    for path, m, label in found:
        c = own.layer_costs.get(path)
        ms, share, ci = per_module.get(path, (None, None, None))
        modules.append(ModuleCost(
            path=path, type=type(m).__name__, found_by=label,
            params=sum(p.numel() for p in m.parameters()),
            cost=c or Cost(), time_ms=ms, time_share=share, time_ms_ci=ci))
    return NetworkProfile(
        network=plan.network, input=shape, dtype="float32",
        device=plan.device if plan.latency else "meta",
        params=sum(p.numel() for p in net.parameters()), counters=counts,
        modules=tuple(modules), memory=memory, timing=timing, block=built.block,
        notes=tuple(notes),
        environment=Environment.from_dict(environment(plan.device if plan.latency else "cpu")))


def _found_notes(plan: NetworkPlan, found: list[tuple[str, Any, str]]) -> list[str]:
    notes = [f"--match {p!r} matched no module outside those already found"
             for p in plan.match if not any(lbl == f"match:{p}" for _, _, lbl in found)]
    if not found:
        notes.append("no attention module found: none of attnprof's blocks, timm's attention "
                     "classes, torchvision's SqueezeExcitation or a self-attention class; "
                     "name yours with --match PATTERN (a module path like 'layer*.*.se' or a "
                     "class name)")
    return notes


def _keeps_shape(net, shape, paths: list[str], device: str = "meta") -> str:
    """"" when every module at ``paths`` returns one tensor of its input's shape (so
    identity can stand in for it); else why not, for the first that does not. One forward
    with hooks on a private copy: on the meta device, or on a seeded real input for a
    network that does not run there."""
    import torch

    from attnprof.counters.own import meta_copy

    if not paths:
        return ""
    twin = (meta_copy(net) if device == "meta" else copy.deepcopy(net).to(device)).eval()
    bad: list[str] = []
    handles = []
    for path in paths:
        def hook(_m, args, out, path=path):
            x = args[0] if args else None
            if not isinstance(out, torch.Tensor) or not isinstance(x, torch.Tensor) \
                    or out.shape != x.shape:
                got = (list(out.shape) if isinstance(out, torch.Tensor)
                       else type(out).__name__)
                want = list(x.shape) if isinstance(x, torch.Tensor) else "no tensor"
                bad.append(f"attention module {path} returns {got} for an input of {want}: "
                           "identity cannot stand in for it")
        handles.append(twin.get_submodule(path).register_forward_hook(hook))
    x = (torch.empty(shape, device="meta") if device == "meta" else
         torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(device))
    try:
        with torch.no_grad():
            twin(x)
    finally:
        for h in handles:
            h.remove()
    return bad[0] if bad else ""


def _count(plan: NetworkPlan, target, say: Note) -> dict[str, Any]:
    """Every requested backend on the network, quickest first (attnprof's first), reported
    in the request's order."""
    from attnprof.counters import run_backend
    from attnprof.runner import count_order

    found = {}
    for backend in sorted(dict.fromkeys(("attnprof", *plan.backends)), key=count_order):
        say(f"{plan.network}: counting with {backend}")
        found[backend] = run_backend(backend, target, verbose=plan.verbose)
    return {b: found[b] for b in dict.fromkeys(("attnprof", *plan.backends))}


def _time(plan: NetworkPlan, net, bare, paths: list[str], target, why: str | None):
    """The network, the bare network and the hooked network, interleaved in rotating rounds
    (measure_until) until the removal share is narrow enough, or the time cap."""
    from attnprof.measure.hooks import HookedCall
    from attnprof.measure.latency import TimedCall, measure_until
    from attnprof.stats.bootstrap import ratio_ci

    x = target.input()
    try:
        full = TimedCall(copy.deepcopy(net), x, threads=plan.threads)
        threads = full.threads
        bare_call = TimedCall(bare, x, threads=threads) if bare is not None else None
        hooked_net = copy.deepcopy(net)
        hooked = HookedCall(hooked_net, x, [(p, hooked_net.get_submodule(p)) for p in paths],
                            threads=threads)
    except AttnprofError:
        raise
    except Exception as exc:
        from attnprof.contain import first_line

        raise BadInput(f"running {plan.network} on {plan.device} failed: "
                       f"{type(exc).__name__}: {first_line(exc)}") from None
    calls = [c for c in (full, bare_call, hooked) if c is not None]

    def decide(_rounds) -> bool:
        if len(full.times) < MIN_SAMPLES or len(hooked.totals) < MIN_SAMPLES:
            return False
        if bare_call is None:
            return True
        if len(bare_call.times) < MIN_SAMPLES:
            return False
        est = ratio_ci(full.rounds(), bare_call.rounds())
        if not est.bounded:
            return False
        return 1 / est.low - 1 / est.high <= SHARE_WIDTH  # the removal share's width

    try:
        done = measure_until(calls, decide, round_budget_s=plan.budget_s / MIN_ROUNDS,
                             min_rounds=MIN_ROUNDS, time_cap_s=plan.time_cap_s,
                             cap_after_min=True)
    finally:
        hooked.close()
    latency = done.latencies[0]
    own, per_module = hooked.own_time()
    removal = None
    if bare_call is not None:
        bare_lat = done.latencies[1]
        removal = Removal(bare=bare_lat, comparison=Comparison.of(latency, bare_lat))
    return NetworkTiming(latency=latency, own=own, removal=removal, rounds=done.rounds,
                         stopped=done.stopped, removal_why=why), per_module


def _with_agreement(t: NetworkTiming) -> NetworkTiming:
    """Say whether the own-time share and the removal share agree within their intervals,
    and, when they do not, which question each answers."""
    from dataclasses import replace

    a, b = t.own.share_ci, t.removal.share_ci
    if a is None or b is None:
        return replace(t, agreement="no interval on one of the two shares: not compared")
    if a[1] < b[0] or b[1] < a[0]:
        text = ("the two measures disagree beyond their intervals: own time "
                f"{100 * t.own.share:.1f}% [{100 * a[0]:.1f}%, {100 * a[1]:.1f}%] against "
                f"removal {100 * t.removal.share:.1f}% [{100 * b[0]:.1f}%, {100 * b[1]:.1f}%]. "
                "Own time answers 'how long do the attention modules run inside this "
                "forward' (module hooks, which cost time of their own at each boundary, more "
                "with a busy thread pool); removal answers 'how much faster is this network "
                "without them' (what a user saves by dropping them)")
    else:
        text = "the two measures agree within their intervals"
    return replace(t, agreement=text)


# -- the spread over fresh processes (--repeat) -------------------------------------------------

def check_repeat(n: object, plan: NetworkPlan) -> int:
    """0 (off) or a number of fresh processes up to ``MAX_REPEAT``; timing must be on."""
    from attnprof.request import MAX_REPEAT

    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise BadInput(f"--repeat takes a number of processes (0 or more), got {n!r}")
    if n > MAX_REPEAT:
        raise BadInput(f"--repeat must be at most {MAX_REPEAT}, got {n:,}")
    if n and not plan.latency:
        raise BadInput("--repeat times the network again in fresh processes: drop --no-latency")
    return n


def repeat_in_processes(plan: NetworkPlan, n: int) -> dict[str, Any]:
    """Time ``plan`` again in ``n`` fresh Python processes, one after another (as pyperf's
    worker processes do), and report each process's medians and their spread: what varies
    from process to process (memory layout, thread placement, the machine's state) and an
    interval within one process does not cover. Each worker counts with attnprof only."""
    import pickle
    import subprocess
    import sys
    from dataclasses import replace

    job = pickle.dumps(replace(plan, backends=("attnprof",), verbose=False))
    rows = []
    for i in range(n):
        done = subprocess.run([sys.executable, "-c", "from attnprof.network import _worker; "
                               "_worker()"], input=job, capture_output=True, timeout=3600)
        if done.returncode != 0:
            err = (done.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1]
            raise BadInput(f"--repeat: process {i + 1} of {n} failed: {err}")
        rows.append(pickle.loads(done.stdout))
    out: dict[str, Any] = {"processes": n, "runs": rows,
                           "covers": "process to process on this machine, one after another"}
    for key in ("network_ms", "own_share", "removal_share"):
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = {"min": min(values), "max": max(values),
                    "median": sorted(values)[len(values) // 2]} if values else None
    lat = out["network_ms"]
    out["network_spread"] = lat["max"] / lat["min"] if lat and lat["min"] > 0 else None
    return out


def _worker() -> None:
    """One --repeat process: read a pickled plan on stdin, write its medians, pickled."""
    import pickle
    import sys

    plan = pickle.loads(sys.stdin.buffer.read())
    p = profile_network(plan)
    t = p.timing
    row = {"network_ms": t.latency.median_ms if t else None,
           "network_ms_ci": [t.latency.ci_low_ms, t.latency.ci_high_ms] if t else None,
           "threads": t.latency.threads if t else None,
           "own_share": p.own_time_share, "removal_share": p.removal_share}
    sys.stdout.buffer.write(pickle.dumps(row))
