"""From a ProfileRequest to a Profile: build the block, count, measure. Never prints.

The caller's process is left as found: the block is built from a forked RNG, every backend
and measurement works on private copies of the module, and torch's thread count, grad mode,
default dtype and RNG state are restored afterwards.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from attnprof.building import resolve
from attnprof.counters import Target, run_backend
from attnprof.preflight import check_device, check_fits, check_forward, check_real_forward
from attnprof.request import ProfileRequest
from attnprof.results import Count, Latency, Memory, Profile


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


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def layer_rows(module, counts: dict[str, Count]) -> list[dict[str, Any]]:
    """One row per submodule: its type, parameters and what each backend counted there."""
    rows = []
    own = counts.get("attnprof")
    for path, sub in module.named_modules():
        row: dict[str, Any] = {
            "path": path, "depth": path.count(".") + 1 if path else 0,
            "type": type(sub).__name__,
            "params": sum(p.numel() for p in sub.parameters()),
            "macs": {name: (c.layers.get(path) if c.ok else None) for name, c in counts.items()},
        }
        if own is not None and own.ok:
            cost = own.layer_costs.get(path)
            row["attnprof"] = dict(cost) if cost else None
        rows.append(row)
    return rows


@dataclass
class Prepared:
    """A block built, checked, counted and sized; waiting for its timing."""

    request: ProfileRequest
    info: dict[str, Any]
    module: Any
    target: Target
    counts: dict[str, Count]
    memory: Memory
    timed: Any = None  # a latency.TimedCall once timing is set up
    base: Any = None  # with a host: the network without the block
    host: dict[str, Any] | None = None
    base_count: Count | None = None
    base_memory: Memory | None = None
    timed_base: Any = None


def prepare(request: ProfileRequest, note: Callable[[str], None]) -> Prepared:
    """Everything but latency. Raises AttnprofError subclasses for bad input."""
    import torch

    request = request.validated()
    check_device(request.device)
    dtype = torch_dtype(request.dtype)
    with preserved_state():
        info, module, base, host = resolve(request)
        check_forward(module, request.shape, dtype, info["name"], request.device,
                      train=request.mode == "train", same_shape=host is None)
        module = module.to(device=request.device, dtype=dtype)
        if request.channels_last:
            module = module.to(memory_format=torch.channels_last)
        target = Target(module, request.shape, dtype, request.device, request.mode,
                        channels_last=request.channels_last)
        # attnprof's own count first: on meta it is free, and its trace of live tensors says
        # whether the real runs below can fit at all
        note(f"{info['name']}: counting with attnprof")
        own = run_backend("attnprof", target, verbose=request.verbose)
        runs_for_real = request.latency or any(b != "attnprof" for b in request.backends)
        if runs_for_real and own.ok:
            check_fits(module, target, own.extra.get("peak_live_bytes"), info["name"])
        if request.latency:
            check_real_forward(target, info["name"], request.dtype)
        counts: dict[str, Count] = {}
        for name in request.backends:
            note(f"{info['name']}: counting with {name}")
            counts[name] = own if name == "attnprof" else run_backend(name, target,
                                                                      verbose=request.verbose)
        mem = _memory(module, target, own)
        prep = Prepared(request, info, module, target, counts, mem)
        if host is not None:
            base = base.to(device=request.device, dtype=dtype)
            base_target = Target(base, request.shape, dtype, request.device, request.mode,
                                 channels_last=request.channels_last)
            note(f"{info['name']}: counting {request.host} without it")
            prep.base, prep.host = base, host
            prep.base_count = run_backend("attnprof", base_target)
            prep.base_memory = _memory(base, base_target, prep.base_count)
    return prep


def _memory(module, target: Target, own: Count | None) -> Memory:
    from attnprof.measure import memory as memory_mod

    ok = own is not None and own.ok
    return memory_mod.memory(
        module, target.shape, target.dtype, train=target.train, device=target.device,
        make_input=target.input,
        activations_bytes=own.bytes_written if ok else None,
        peak_live_bytes=own.extra.get("peak_live_bytes") if ok else None)


def start_timing(prep: Prepared) -> None:
    """Build the timed call (warm-up, compilation, graph capture) on a private copy."""
    from attnprof.measure.latency import TimedCall

    r = prep.request
    kw = dict(mode=r.mode, threads=r.threads, timer=r.timer, compile=r.compile,
              cuda_graph=r.cuda_graph)
    with preserved_state():
        prep.timed = TimedCall(copy.deepcopy(prep.module), prep.target.input(), **kw)
        if prep.base is not None:
            prep.timed_base = TimedCall(copy.deepcopy(prep.base), prep.target.input(), **kw)


def timed_calls(prep: Prepared) -> list[Any]:
    return [c for c in (prep.timed, prep.timed_base) if c is not None]


def host_section(prep: Prepared, lat: Latency | None, base_lat: Latency | None):
    """The host's totals with and without the block (MACs and FLOPs by attnprof's counter)."""
    if prep.host is None:
        return None
    own, base = prep.counts.get("attnprof"), prep.base_count
    total_params = sum(p.numel() for p in prep.module.parameters())
    base_params = sum(p.numel() for p in prep.base.parameters())
    out = dict(prep.host)
    out.update({"params_base": base_params, "params_total": total_params,
                "params_added": total_params - base_params})
    for key in ("macs", "flops", "bytes"):
        b = getattr(base, key) if base is not None and base.ok else None
        t = getattr(own, key) if own is not None and own.ok else None
        out[f"{key}_base"], out[f"{key}_total"] = b, t
        out[f"{key}_added"] = t - b if b is not None and t is not None else None
    out["peak_bytes_base"] = prep.base_memory.peak_bytes if prep.base_memory else None
    out["peak_bytes_total"] = prep.memory.peak_bytes
    if lat is not None and base_lat is not None:
        out.update({"latency_base_ms": base_lat.median_ms, "latency_total_ms": lat.median_ms,
                    "latency_added_ms": lat.median_ms - base_lat.median_ms,
                    "latency_base": base_lat.to_dict()})
    else:
        out.update({"latency_base_ms": None, "latency_total_ms": None,
                    "latency_added_ms": None, "latency_base": None})
    return out


def finish(prep: Prepared, lat: Latency | None, note: Callable[[str], None],
           base_lat: Latency | None = None) -> Profile:
    """Per-op times and the roofline (when timed), then the Profile."""
    from attnprof.env import environment
    from attnprof.measure import roofline as roof_mod

    r, own = prep.request, prep.counts.get("attnprof")
    op_times: tuple[dict[str, Any], ...] = ()
    roof = None
    with preserved_state():
        if lat is not None and r.ops:
            note(f"{prep.info['name']}: timing each op")
            from attnprof.measure.opsprof import op_times as time_ops

            counted = {row["op"] for row in own.ops} if own is not None and own.ok else set()
            op_times = tuple(time_ops(copy.deepcopy(prep.module), prep.target.input(),
                                      train=r.mode == "train", counted=counted,
                                      threads=lat.threads))
        if lat is not None and own is not None and own.ok:
            roof = roof_mod.roofline(roof_mod.load(r.device, lat.threads), own.flops, own.bytes,
                                     lat.median_ms / 1e3, r.dtype)
        params = list(prep.module.parameters())
        env = environment(r.device)
    return Profile(
        block=prep.info,
        input={"shape": list(r.shape), "dtype": r.dtype, "device": r.device,
               "memory_format": "channels_last" if r.channels_last else "contiguous"},
        mode=r.mode,
        params={"total": sum(p.numel() for p in params),
                "trainable": sum(p.numel() for p in params if p.requires_grad),
                "bytes": prep.memory.params_bytes},
        counters=prep.counts, memory=prep.memory, latency=lat, environment=env,
        layers=tuple(layer_rows(prep.module, prep.counts)), name=r.name, op_times=op_times,
        roofline=roof, host=host_section(prep, lat, base_lat),
    )


def profile_many(
    requests: list[ProfileRequest], *, rounds: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> list[Profile]:
    """Profile several blocks; their latencies are measured interleaved, in rounds whose
    order rotates (with a host, each network with and without its block as well)."""
    from attnprof.measure.latency import measure_interleaved

    steps = len(requests) * 2 + (rounds if any(r.latency for r in requests) else 0)
    done = 0

    def tick(message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(message, done, steps)

    quiet = note or (lambda _m: None)
    prepared = []
    for req in requests:
        prepared.append(prepare(req, quiet))
        tick(f"counted {prepared[-1].info['name']}")
    timed = [p for p in prepared if p.request.latency]
    for p in timed:
        start_timing(p)
    latencies: dict[int, Latency] = {}
    if timed:
        budget = max(p.request.budget_s for p in timed)
        calls = [c for p in timed for c in timed_calls(p)]
        with preserved_state():
            lats = measure_interleaved(calls, budget, rounds,
                                       on_round=lambda r: tick(f"timing round {r}/{rounds}"))
        latencies = {id(c): lat for c, lat in zip(calls, lats, strict=True)}
    out = []
    for p in prepared:
        lat = latencies.get(id(p.timed)) if p.timed is not None else None
        base_lat = latencies.get(id(p.timed_base)) if p.timed_base is not None else None
        out.append(finish(p, lat, quiet, base_lat))
        tick(f"finished {p.info['name']}")
    return out


def profile(request: ProfileRequest, progress: Callable[[str], None] | None = None) -> Profile:
    """Profile one block. Raises AttnprofError subclasses for bad input; never prints.

    Alone, a block is timed in one sample of its whole budget; in a host, the network with
    and without it are timed interleaved over three rounds."""
    return profile_many([request], rounds=3 if request.host else 1, note=progress)[0]
