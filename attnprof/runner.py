"""From requests to Profiles, in one straight line. Never prints.

    plan      ProfileRequest -> Plan (request.py: parsed and validated once)
    build     Plan -> subjects (building.py: the block, or a host with and without it)
    preflight each subject runs, keeps its shape, fits in memory (preflight.py; attnprof's
              count is the trace the memory check reads)
    count     each other backend on each subject (counters/)
    memory    each subject's memory (measure/memory.py)
    time      every subject of every case, interleaved in rotating rounds (measure/latency.py);
              a host's two networks until their ratio has a verdict
    ops       --ops: per-op self time (measure/opsprof.py)
    roofline  against the device's calibration file (measure/roofline.py)
    assemble  the Profile (results/profile.py), with the host delta when there is a host;
              runs nothing

A network (``attnprof model``) takes the same stages in attnprof/network.py, with these
functions where they apply (preserved_state, count_order, measure_memory).

The caller's process is left as found: the block is built from a forked RNG, every backend
and measurement works on private copies of the module, and torch's thread count, grad mode,
default dtype and RNG state are restored afterwards.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from attnprof.building import Built, Subject, build_subjects
from attnprof.counters import Target, run_backend
from attnprof.preflight import check_device, check_fits, check_forward, check_real_forward
from attnprof.request import Plan, ProfileRequest, make_plan
from attnprof.results import (
    Comparison,
    Count,
    Environment,
    HostDelta,
    InputInfo,
    Layer,
    Memory,
    OpTime,
    Params,
    Profile,
    Roofline,
    Totals,
)

Note = Callable[[str], None]


@contextlib.contextmanager
def preserved_state() -> Iterator[None]:
    """Restore torch's global state (threads, grad mode, default dtype, RNG) on exit."""
    import torch

    threads = torch.get_num_threads()
    grad = torch.is_grad_enabled()
    dtype = torch.get_default_dtype()
    rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)
        torch.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)


def channels_last(module):
    """``module`` with its 4-D parameters and buffers in channels-last memory format and its
    5-D ones in channels-last-3d (``Module.to(memory_format=torch.channels_last)`` refuses a
    module that holds a 5-D tensor, such as a Conv3d's weight: "required rank 4 tensor")."""
    import torch

    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    with torch.no_grad():
        for t in (*module.parameters(), *module.buffers()):
            if t.dim() in formats:
                t.data = t.data.contiguous(memory_format=formats[t.dim()])
    return module


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


@dataclass
class Case:
    """One plan on its way through the stages."""

    plan: Plan
    built: Built
    op_times: tuple[OpTime, ...] = ()  # --ops: torch.profiler self time per op
    roofline: Roofline | None = None


# -- build ----------------------------------------------------------------------------------

def _build(plan: Plan) -> Case:
    """The subjects: the block, or the host network with and without it."""
    return Case(plan, build_subjects(plan))


# -- preflight ------------------------------------------------------------------------------

def _preflight(case: Case, note: Note) -> None:
    """Every check before anything real runs, in one stage: the device exists; each subject
    runs (on meta when it can) and keeps its shape; attnprof's trace of the block says the
    real runs fit in memory; the block runs for real once when timing will need it and the
    meta run could not show its errors. Subjects are moved to the device here."""

    plan = case.plan
    check_device(plan.device)
    dtype = torch_dtype(plan.dtype)
    name = case.built.info.name
    said = f"block '{name}'"  # how preflight's errors name it
    runs_for_real = plan.latency or any(b != "attnprof" for b in plan.backends)
    for subject in case.built.subjects:
        subject.runs_on_meta = check_forward(
            subject.module, plan.shape, dtype, said, plan.device, train=plan.train,
            same_shape=plan.host is None, compile=plan.compile)
        module = subject.module.to(device=plan.device, dtype=dtype)
        if plan.channels_last:
            module = channels_last(module)
        subject.module = module
        subject.target = Target(module, plan.shape, dtype, plan.device, plan.mode,
                                channels_last=plan.channels_last,
                                runs_on_meta=subject.runs_on_meta, compile=plan.compile)
        what = name if subject.role != "base" else f"{plan.host.name} without {name}"
        note(f"{what}: counting with attnprof")
        # attnprof's count is the trace the memory check reads; the count stage keeps it
        own = run_backend("attnprof", subject.target, verbose=plan.verbose)
        subject.counts["attnprof"] = own
        if subject.role == "base":
            continue
        if runs_for_real and own.ok:
            check_fits(subject.module, subject.target, own.extra.get("peak_live_bytes"), said)
        if plan.latency and subject.runs_on_meta:  # a real forward that preflight did not run
            check_real_forward(subject.target, said, plan.dtype)


# -- count ----------------------------------------------------------------------------------

#: the order the backends run in, quickest to an answer first (after torch is imported and the
#: meta device warm, CBAM 16x256x256 on a 2-core CPU): torch's FlopCounterMode on meta (a few
#: ms), torchinfo (imports in ms), fvcore (its import and JIT traces, ~50 ms), torchstat
#: (imports pandas, ~0.2-0.35 s). Each works on its own copy, so the order changes no figure;
#: they run one after another (torchstat patches module classes, fvcore traces: not threads).
_COUNT_ORDER = ("attnprof", "torch", "torchinfo", "fvcore", "torchstat")


def count_order(backend: str) -> int:
    return _COUNT_ORDER.index(backend) if backend in _COUNT_ORDER else len(_COUNT_ORDER)


def _count(case: Case, note: Note) -> None:
    """Every requested backend on the block, quickest first (attnprof's ran in preflight);
    attnprof's alone on a host's base network, for the delta."""
    plan, name = case.plan, case.built.info.name
    for subject in case.built.subjects:
        backends = plan.backends if subject.role != "base" else ("attnprof",)
        found = dict(subject.counts)
        for backend in sorted(backends, key=count_order):  # quickest first
            if backend not in found:
                note(f"{name}: counting with {backend}")
                found[backend] = run_backend(backend, subject.target, verbose=plan.verbose)
        # reported in the request's order, whatever order they ran
        subject.counts = {backend: found[backend] for backend in backends}


# -- memory ---------------------------------------------------------------------------------

def _measure_memory(case: Case) -> None:
    for subject in case.built.subjects:
        subject.memory = _memory(subject, subject.counts.get("attnprof"))


def _memory(subject: Subject, own: Count | None) -> Memory:
    return measure_memory(subject.target, own)


def measure_memory(t: Target, own: Count | None) -> Memory:
    """The memory stage: parameters, activations and peak of ``t``'s module (from attnprof's
    count when it succeeded; preflight said whether it ran on meta)."""
    from attnprof.measure import memory as memory_mod

    ok = own is not None and own.ok
    return memory_mod.memory(
        t.module, t.shape, t.dtype, train=t.train, device=t.device, make_input=t.input,
        activations_bytes=own.bytes_written if ok else None,
        peak_live_bytes=own.extra.get("peak_live_bytes") if ok else None,
        # preflight found out whether the block runs on meta: not one more forward to ask
        traced_on="meta" if t.runs_on_meta else t.device)


# -- time -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Until:
    """Adaptive timing: keep adding interleaved rounds (at least ``rounds``) until
    ``decide`` is satisfied or ``time_cap_s`` is reached, as criterion.rs and NVBench stop
    on noise. ``decide`` gets, per case in request order, the block's samples by round
    (seconds per call; None for a case not timed) and says whether every decision that
    the caller has to make from them (a verdict, a budget) is decisive."""

    decide: Callable[[list[list[list[float]] | None]], bool]
    time_cap_s: float = 10.0
    on_done: Callable[[int, str], None] | None = None  # rounds run, why timing stopped


#: how long a host comparison (the network with and without its block) may keep adding
#: interleaved rounds to reach a verdict, when the command sets no --time-cap
HOST_TIME_CAP_S = 10.0


def _time(cases: Sequence[Case], rounds: int, tick: Note, until: Until | None = None) -> None:
    """Every subject of every timed case, interleaved in rounds whose order rotates."""
    timed = [c for c in cases if c.plan.latency]
    if not timed:
        return  # before importing torch.utils.benchmark: --no-latency never needs it
    from attnprof.measure.latency import TimedCall, measure_interleaved, measure_until

    subjects: list[Subject] = []
    for case in timed:
        p = case.plan
        for subject in case.built.subjects:
            subject.timed = TimedCall(copy.deepcopy(subject.module), subject.target.input(),
                                      mode=p.mode, threads=p.threads, timer=p.timer,
                                      compile=p.compile, cuda_graph=p.cuda_graph,
                                      l2_flush=p.l2_flush, warmup=p.warmup)
            subjects.append(subject)
    budget = max(c.plan.budget_s for c in timed)
    calls = [s.timed for s in subjects]
    if until is None and any(c.built.base is not None for c in timed):
        until = Until(lambda _mains: True, HOST_TIME_CAP_S)  # the host pairs decide (below)
    if until is None:
        lats = measure_interleaved(calls, budget, rounds,
                                   on_round=lambda r: tick(f"timing round {r}/{rounds}"))
    else:
        mains = [case.built.main.timed if case.plan.latency else None for case in cases]
        # a host run is a comparison: the network with the block against it without,
        # decided like any other pair (a verdict on the ratio's interval)
        hosts = [(c.built.main.timed, c.built.base.timed) for c in timed
                 if c.built.base is not None]

        def decide(_by_call: list) -> bool:
            from attnprof.stats.bootstrap import ratio_ci
            from attnprof.stats.verdicts import is_decisive, verdict

            if not until.decide([m.rounds() if m is not None else None for m in mains]):
                return False
            return all(is_decisive(verdict(ratio_ci(a.rounds(), b.rounds())))
                       for a, b in hosts)

        adaptive = measure_until(calls, decide, round_budget_s=budget / rounds,
                                 min_rounds=rounds, time_cap_s=until.time_cap_s,
                                 on_round=lambda r: tick(f"timing round {r}"))
        lats = adaptive.latencies
        if until.on_done is not None:
            until.on_done(adaptive.rounds, adaptive.stopped)
    for subject, lat in zip(subjects, lats, strict=True):
        subject.latency = lat


# -- assemble -------------------------------------------------------------------------------

def _layers(module, counts: dict[str, Count]) -> tuple[Layer, ...]:
    """One row per submodule: its type, parameters and what each backend counted there."""
    own = counts.get("attnprof")
    rows = []
    for path, sub in module.named_modules():
        rows.append(Layer(
            path=path, depth=path.count(".") + 1 if path else 0, type=type(sub).__name__,
            params=sum(p.numel() for p in sub.parameters()),
            macs={name: (c.layers.get(path) if c.ok else None) for name, c in counts.items()},
            cost=own.layer_costs.get(path) if own is not None and own.ok else None,
        ))
    return tuple(rows)


def _totals(subject: Subject) -> Totals:
    own = subject.counts.get("attnprof")
    ok = own is not None and own.ok
    return Totals(params=sum(p.numel() for p in subject.module.parameters()),
                  macs=own.macs if ok else None, flops=own.flops if ok else None,
                  bytes=own.bytes if ok else None, peak_bytes=subject.memory.peak_bytes,
                  latency=subject.latency)


def _op_times(case: Case, note: Note) -> None:
    """--ops: each op's self time by torch.profiler, on a private copy of the timed block."""
    plan, main = case.plan, case.built.main
    own = main.counts.get("attnprof")
    if main.latency is None or not plan.ops:
        return
    note(f"{case.built.info.name}: timing each op")
    from attnprof.measure.opsprof import op_times as time_ops

    counted = {row.op for row in own.ops} if own is not None and own.ok else set()
    case.op_times = tuple(OpTime.from_dict(r) for r in time_ops(
        copy.deepcopy(main.module), main.target.input(), train=plan.train,
        counted=counted, threads=main.latency.threads, quiet=not plan.verbose,
        warmup=plan.warmup))


def _roofline(case: Case) -> None:
    """Against the device's calibration (`attnprof calibrate`), when there is one."""
    from attnprof.measure import roofline as roof_mod

    plan, main = case.plan, case.built.main
    own, lat = main.counts.get("attnprof"), main.latency
    if lat is None or own is None or not own.ok:
        return
    found = roof_mod.roofline(roof_mod.load(plan.device, lat.threads), own.flops, own.bytes,
                              lat.median_ms / 1e3, plan.dtype,
                              working_set=main.memory.peak_bytes)
    case.roofline = Roofline.from_dict(found) if found else None


def _assemble(case: Case) -> Profile:
    """The Profile, from what the stages found (nothing runs here)."""
    from attnprof.env import environment

    plan, built = case.plan, case.built
    main = built.main
    params = list(main.module.parameters())
    host = None
    if built.base is not None:
        timed = main.latency is not None and built.base.latency is not None
        host = HostDelta(name=plan.host.name, slot=plan.host.slot, blocks=built.slots,
                         block_options=built.slot_options or {}, base=_totals(built.base),
                         total=_totals(main),
                         latency_comparison=Comparison.of(main.latency, built.base.latency)
                         if timed else None)
    return Profile(
        block=built.info,
        input=InputInfo(shape=plan.shape, dtype=plan.dtype, device=plan.device,
                        memory_format="channels_last" if plan.channels_last else "contiguous"),
        mode=plan.mode,
        parameters=Params(total=sum(p.numel() for p in params),
                          trainable=sum(p.numel() for p in params if p.requires_grad),
                          bytes=main.memory.params_bytes),
        counters=dict(main.counts), memory=main.memory, latency=main.latency,
        environment=Environment.from_dict(environment(plan.device)),
        layers=_layers(main.module, main.counts), name=plan.name, op_times=case.op_times,
        roofline=case.roofline, host=host,
    )


# -- the line -------------------------------------------------------------------------------

def profile_many(
    requests: Sequence[ProfileRequest | Plan], *, rounds: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
    note: Note | None = None, until: Until | None = None,
) -> list[Profile]:
    """Profile several cases; their latencies are measured interleaved, in rounds whose
    order rotates (with a host, each network with and without its block as well); with
    ``until``, rounds go on until its decisions are decisive or its time cap."""
    plans = [make_plan(r) for r in requests]
    steps = len(plans) * 2 + (rounds if any(p.latency for p in plans) else 0)
    done = 0

    def tick(message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(message, done, steps)

    quiet = note or (lambda _m: None)
    # the blocks' own code runs contained: prints to stderr, an exit or self-raised
    # KeyboardInterrupt is the block's failure (attnprof.contain)
    from attnprof.contain import user_code

    with preserved_state():
        cases = []
        for plan in plans:
            with user_code(f"block '{plan.label}'"):
                case = _build(plan)
                _preflight(case, quiet)
                _count(case, quiet)
                _measure_memory(case)
            cases.append(case)
            tick(f"counted {case.built.info.name}")
        labels = [c.plan.label for c in cases if c.plan.latency]
        with user_code(f"block '{labels[0]}', while being timed," if len(labels) == 1 else
                       f"one of the blocks {', '.join(labels)}, while being timed,"):
            _time(cases, rounds, tick, until)
        out = []
        for case in cases:
            with user_code(f"block '{case.plan.label}'"):
                _op_times(case, quiet)
                _roofline(case)
                out.append(_assemble(case))
            tick(f"finished {case.built.info.name}")
    return out


def profile(request: ProfileRequest | Plan, progress: Note | None = None) -> Profile:
    """Profile one case. Raises AttnprofError subclasses for bad input; never prints.

    Alone, a block is timed in one sample of its whole budget; in a host, the network with
    and without it are timed interleaved over three rounds."""
    plan = make_plan(request)
    return profile_many([plan], rounds=3 if plan.host else 1, note=progress)[0]
