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
                  train: bool = False) -> None:
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
    if tuple(out.shape) != tuple(shape):
        raise BadInput(f"block '{name}' changed the tensor's shape from {list(shape)} to "
                       f"{list(out.shape)}; an attention block must keep its input's shape")


def resolve(request: ProfileRequest) -> tuple[dict[str, Any], Any]:
    """The block's description and the built module (a private one)."""
    from torch import nn

    if isinstance(request.block, nn.Module):
        module = copy.deepcopy(request.block)
        info = {"name": type(request.block).__name__, "options": dict(request.options),
                "kind": None, "source": "module", "paper": None}
        return info, module
    if isinstance(request.block, BlockSpec):
        spec = request.block
    else:
        spec = REGISTRY.get(request.block)
    options = spec.resolve_options(request.channels, request.options)
    module = build(spec, request.channels, options)
    info = {"name": spec.name, "options": options, "kind": spec.kind, "source": spec.source,
            "paper": spec.paper.cite() if spec.paper else None}
    return info, module


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


def prepare(request: ProfileRequest, note: Callable[[str], None]) -> Prepared:
    """Everything but latency. Raises AttnprofError subclasses for bad input."""
    import torch

    from attnprof.measure import memory as memory_mod

    request = request.validated()
    check_device(request.device)
    dtype = torch_dtype(request.dtype)
    with preserved_state():
        info, module = resolve(request)
        check_forward(module, request.shape, dtype, info["name"], request.device,
                      train=request.mode == "train")
        module = module.to(device=request.device, dtype=dtype)
        if request.channels_last:
            module = module.to(memory_format=torch.channels_last)
        target = Target(module, request.shape, dtype, request.device, request.mode,
                        channels_last=request.channels_last)
        if request.latency:
            check_real_forward(target, info["name"], request.dtype)
        counts: dict[str, Count] = {}
        for name in request.backends:
            note(f"{info['name']}: counting with {name}")
            counts[name] = run_backend(name, target, verbose=request.verbose)
        own = counts.get("attnprof")
        mem = memory_mod.memory(
            module, request.shape, dtype, train=request.mode == "train", make_input=target.input,
            activations_bytes=own.bytes_written if own is not None and own.ok else None,
            peak_live_bytes=own.extra.get("peak_live_bytes") if own is not None and own.ok
            else None,
        )
    return Prepared(request, info, module, target, counts, mem)


def start_timing(prep: Prepared) -> None:
    """Build the timed call (warm-up, compilation, graph capture) on a private copy."""
    from attnprof.measure.latency import TimedCall

    r = prep.request
    with preserved_state():
        prep.timed = TimedCall(copy.deepcopy(prep.module), prep.target.input(), mode=r.mode,
                               threads=r.threads, timer=r.timer, compile=r.compile,
                               cuda_graph=r.cuda_graph)


def finish(prep: Prepared, lat: Latency | None, note: Callable[[str], None]) -> Profile:
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
        roofline=roof,
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
        with preserved_state():
            lats = measure_interleaved([p.timed for p in timed], budget, rounds,
                                       on_round=lambda r: tick(f"timing round {r}/{rounds}"))
        latencies = {id(p): lat for p, lat in zip(timed, lats, strict=True)}
    out = []
    for p in prepared:
        out.append(finish(p, latencies.get(id(p)), quiet))
        tick(f"finished {p.info['name']}")
    return out


def profile(request: ProfileRequest, progress: Callable[[str], None] | None = None) -> Profile:
    """Profile one block. Raises AttnprofError subclasses for bad input; never prints."""
    note = progress or (lambda _msg: None)
    prep = prepare(request, note)
    lat = None
    if prep.request.latency:
        note("timing")
        start_timing(prep)
        with preserved_state():
            prep.timed.sample(prep.request.budget_s)
            lat = prep.timed.latency()
    return finish(prep, lat, note)
