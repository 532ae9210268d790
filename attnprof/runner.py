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

from attnprof.counters import Target, run_backend
from attnprof.errors import BadInput, DeviceUnavailable
from attnprof.registry import REGISTRY, BlockSpec
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


def check_device(device: str) -> None:
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable(f"device {device!r} is not available: this machine has no "
                                    "CUDA GPU (or torch was built without CUDA); use --device cpu")
        index = dev.index or 0
        if index >= torch.cuda.device_count():
            raise DeviceUnavailable(f"device {device!r} does not exist: this machine has "
                                    f"{torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "meta":
        raise BadInput("--device meta is for counting only; attnprof counts on meta by itself")


def build(spec: BlockSpec, channels: int, options: dict[str, Any], seed: int | None = 0):
    """Instantiate ``spec``; the user's constructor errors become :class:`BadInput`."""
    import torch
    from torch import nn

    factory = spec.load_factory()
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        try:
            module = factory(channels, **options)
        except Exception as exc:
            raise BadInput(f"building block '{spec.name}' with channels={channels}"
                           f"{''.join(f', {k}={v!r}' for k, v in options.items())} failed: "
                           f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(module, nn.Module):
        raise BadInput(f"block '{spec.name}' built a {type(module).__name__}, not an nn.Module")
    return module


def check_fits(module, target: Target, peak_live: int | None, name: str) -> None:
    """Refuse, before allocating, a run whose estimate passes what the device has free."""
    import math

    from attnprof.measure import memory as memory_mod
    from attnprof.report.fmt import nbytes

    if peak_live is None:
        return
    element = target.input(device="meta").element_size()
    need = memory_mod.required_bytes(memory_mod.params_bytes(module),
                                     math.prod(target.shape) * element, peak_live, target.train)
    have = memory_mod.available_bytes(target.device)
    if have is not None and need["total"] > have:
        parts = ", ".join(f"{k} {nbytes(v)}" for k, v in need.items() if k != "total")
        raise BadInput(
            f"'{name}' at {list(target.shape)} needs about {nbytes(need['total'])} of "
            f"{target.device} memory ({parts}) but {nbytes(have)} is free; use a smaller "
            "--batch or --size, or count without running it: --backends attnprof --no-latency")


def check_real_forward(target: Target, name: str, dtype_name: str) -> None:
    """One real call on the target device: dtype/device combinations that the block's ops do
    not support, and errors that only real data shows, become bad input."""
    import torch

    try:
        with torch.no_grad():
            copy.deepcopy(target.module).train(target.train)(target.input())
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as exc:
        line = (str(exc).strip().splitlines() or [""])[0]
        if "not implemented for" in line or "Unsupported" in line or "dtype" in line.lower():
            raise BadInput(f"block '{name}' cannot run in {dtype_name} on {target.device}: "
                           f"{line}; try --dtype float32") from exc
        raise BadInput(f"block '{name}' failed in forward on {target.device}: "
                       f"{type(exc).__name__}: {line}") from exc


def check_forward(module, shape: tuple[int, ...], dtype, name: str, device: str,
                  train: bool = False, same_shape: bool = True) -> None:
    """Run the block once on meta tensors (free at any size): its own errors and shape
    changes are bad input. A block that cannot run on meta (say, it makes a tensor without
    ``device=x.device``) is run once for real on ``device`` instead."""
    import torch

    from attnprof.counters.own import meta_copy

    try:
        twin = meta_copy(module).to(dtype=dtype).train(train)
        with torch.no_grad():
            out = twin(torch.empty(shape, dtype=dtype, device="meta"))
    except Exception:
        import math

        from attnprof.measure.memory import available_bytes

        have = available_bytes(device)
        need = 3 * math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        if have is not None and need > have:
            raise BadInput(f"block '{name}' does not run on the meta device, and running it "
                           f"for real on {list(shape)} would not fit in {device} memory; "
                           "use a smaller --batch or --size") from None
        try:
            real = copy.deepcopy(module).to(device=device, dtype=dtype).train(train)
            x = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(device, dtype)
            with torch.no_grad():
                out = real(x)
        except Exception as exc:
            text = str(exc).strip().splitlines()
            raise BadInput(f"block '{name}' failed in forward on input {list(shape)}: "
                           f"{type(exc).__name__}: {text[0] if text else ''}") from exc
    if not isinstance(out, torch.Tensor):
        raise BadInput(f"block '{name}' returned a {type(out).__name__}; attnprof profiles "
                       "blocks that return one tensor")
    if same_shape and tuple(out.shape) != tuple(shape):
        raise BadInput(f"block '{name}' changed the tensor's shape from {list(shape)} to "
                       f"{list(out.shape)}; an attention block must keep its input's shape")


def build_host(spec: BlockSpec, request: ProfileRequest) -> tuple[Any, Any, dict[int, dict]]:
    """The host network with the block in every slot, the same network without it, and the
    block's resolved options per channel count (validated for each)."""
    import torch

    from attnprof.errors import BadOption
    from attnprof.hosts import HOSTS
    from attnprof.registry import import_object

    make = import_object(HOSTS[request.host].factory)
    factory = spec.load_factory()
    per_channels: dict[int, dict[str, Any]] = {}

    def attention(channels: int):
        if channels not in per_channels:
            try:
                per_channels[channels] = spec.resolve_options(channels, request.options)
            except BadOption as exc:
                raise BadOption(f"{exc} (at a {channels}-channel slot of {request.host})") from None
        try:
            return factory(channels, **per_channels[channels])
        except Exception as exc:
            raise BadInput(f"building block '{spec.name}' for a {channels}-channel slot of "
                           f"{request.host} failed: {type(exc).__name__}: {exc}") from exc

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        network = make(attention)
        base = make(None)
    return network, base, per_channels


def resolve(request: ProfileRequest) -> tuple[dict[str, Any], Any, Any, dict[str, Any] | None]:
    """The block's description, the built module (a private one) and, with a host, the host
    network without the block and the host's description."""
    from torch import nn

    if isinstance(request.block, nn.Module):
        if request.host:
            raise BadInput("--host needs a block name: attnprof builds one block per slot")
        module = copy.deepcopy(request.block)
        info = {"name": type(request.block).__name__, "options": dict(request.options),
                "kind": None, "source": "module", "paper": None}
        return info, module, None, None
    if isinstance(request.block, BlockSpec):
        spec = request.block
    else:
        spec = REGISTRY.get(request.block)
    info = {"name": spec.name, "kind": spec.kind, "source": spec.source,
            "paper": spec.paper.cite() if spec.paper else None}
    if request.host:
        from attnprof.hosts import HOSTS

        network, base, per_channels = build_host(spec, request)
        first = next(iter(per_channels.values()), {})
        info["options"] = first
        host = {"name": request.host, "slot": HOSTS[request.host].slot,
                "blocks": sum(1 for m in network.modules() if _is_slot(m, spec)),
                "block_channels": sorted(per_channels),
                "block_options": {str(c): o for c, o in sorted(per_channels.items())}}
        return info, network, base, host
    options = spec.resolve_options(request.channels, request.options)
    info["options"] = options
    return info, build(spec, request.channels, options), None, None


def _is_slot(module, spec: BlockSpec) -> bool:
    factory = spec.load_factory()
    return isinstance(factory, type) and isinstance(module, factory)


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
        own = counts.get("attnprof")
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
        module, target.shape, target.dtype, train=target.train, make_input=target.input,
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
) -> list[Profile]:
    """Profile several blocks; their latencies are measured interleaved (A B C A B C ...)."""
    from attnprof.measure.latency import measure_interleaved

    steps = len(requests) * 2 + (rounds if any(r.latency for r in requests) else 0)
    done = 0

    def tick(message: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(message, done, steps)

    quiet = lambda _m: None  # noqa: E731
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
    """Profile one block. Raises AttnprofError subclasses for bad input; never prints."""
    note = progress or (lambda _msg: None)
    prep = prepare(request, note)
    lat = base_lat = None
    if prep.request.latency:
        note("timing")
        start_timing(prep)
        with preserved_state():
            if prep.timed_base is None:
                prep.timed.sample(prep.request.budget_s)
                lat = prep.timed.latency()
            else:  # with and without the block, interleaved
                from attnprof.measure.latency import measure_interleaved

                lat, base_lat = measure_interleaved([prep.timed, prep.timed_base],
                                                    prep.request.budget_s, rounds=3)
    return finish(prep, lat, note, base_lat)
