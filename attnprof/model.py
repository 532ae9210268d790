"""The cost of the attention inside a whole network (``attnprof model``).

The network's attention modules are found by type: attnprof's registered blocks, the classes
of timm's attention zoo (``get_attn``'s and timm's EfficientNet/MobileNetV3
``SqueezeExcite``), torchvision's ``SqueezeExcitation``, and the type of a block put into the
network with ``block=``; self-attention over tokens (torch's ``nn.MultiheadAttention``, timm's
and torchvision's ``*Attention`` classes: ViT, Swin); plus the caller's fnmatch patterns on
module paths and class names.
Only the outermost match counts (CBAM's channel gate is part of the CBAM found around it).

Per attention module and in total: parameters; MACs, FLOPs and bytes read + written by
attnprof's own counter (every aten op, attributed to modules by PyTorch's ModuleTracker,
counted on the meta device); and, when timed, its share of the network's time, measured with
module hooks: the time between each attention module's forward pre-hook and forward hook (the
wall clock on CPU; on CUDA, events recorded on the stream, read after the forward, so nothing
synchronises inside it), summed over one forward, divided by that forward's time; medians over
the runs. The input is the network's own (timm's ``input_size``; else
3x224x224), batch 1; its output need not have the input's shape.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from attnprof.errors import BadInput
from attnprof.zoo.attention import attention_types, find_attention, token_attention  # noqa: F401

SCHEMA = "attnprof.model/1"
TIMING = ("module hooks: {clock} from each attention module's forward pre-hook to its forward "
          "hook, summed per forward and divided by that forward's time (inference mode); "
          "median of {runs} forwards after {warmup} warm-up")


@dataclass
class Cost:
    params: int = 0
    macs: int = 0
    flops: int = 0
    bytes: int = 0
    time_ms: float | None = None

    def add(self, other: Cost) -> None:
        self.params += other.params
        self.macs += other.macs
        self.flops += other.flops
        self.bytes += other.bytes
        if other.time_ms is not None:
            self.time_ms = (self.time_ms or 0.0) + other.time_ms


@dataclass
class AttentionModule:
    path: str
    type: str
    found_by: str  # "timm:se", "attnprof:cbam", "torchvision:SqueezeExcitation", "match:PAT"
    cost: Cost
    time_share: float | None = None  # of the network's time, median over runs
    time_ms_ci: list[float] | None = None  # the median time's 95% interval (order statistics)


@dataclass
class ModelReport:
    network: str
    input: tuple[int, ...]
    dtype: str
    device: str
    total: Cost
    modules: list[AttentionModule]
    block: dict[str, Any] | None = None
    timing: dict[str, Any] | None = None
    uncounted_ops: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def attention(self) -> Cost:
        """The attention modules together; their time is the median over the forwards of
        their summed time (not the sum of each module's median)."""
        out = Cost(time_ms=None)
        for m in self.modules:
            out.add(m.cost)
        out.time_ms = self.timing["attention_ms"] if self.timing else None
        return out

    @property
    def time_share(self) -> float | None:
        if self.timing is None:
            return None
        return self.timing.get("attention_share")

    def shares(self) -> dict[str, float | None]:
        att, tot = self.attention, self.total
        out = {k: (getattr(att, k) / getattr(tot, k) if getattr(tot, k) else None)
               for k in ("params", "macs", "flops", "bytes")}
        out["time"] = self.time_share
        return out

    def to_dict(self) -> dict[str, Any]:
        att = self.attention
        return {
            "schema": SCHEMA,
            "network": {"name": self.network, "input": list(self.input), "dtype": self.dtype,
                        "device": self.device, **asdict(self.total),
                        "uncounted_ops": dict(self.uncounted_ops)},
            "block": self.block,
            "attention": {"modules": len(self.modules), **asdict(att),
                          "share": self.shares()},
            "modules": [{"path": m.path, "type": m.type, "found_by": m.found_by,
                         **asdict(m.cost), "time_share": m.time_share,
                         "time_ms_ci": m.time_ms_ci} for m in self.modules],
            "timing": self.timing,
            "notes": list(self.notes),
        }


# -- building --------------------------------------------------------------------------------

def _build(make, on_meta: bool):
    import torch

    if on_meta:
        try:
            with torch.device("meta"):
                return make()
        except Exception:  # some constructors read data (a .item() on a schedule): build for real
            pass
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return make()


def network_factory(name: str, block: str | None = None,
                    options: Mapping[str, Any] | None = None):
    """A no-argument builder of ``name`` (``timm:``/``torchvision:``/attnprof's host names, or
    ``package.module:Name``), with ``block`` in its slots when given; its default input
    (C, H, W) if the network says; the block's description; and the classes the block built."""
    from attnprof.zoo import zoo_source

    built_types: dict[type, str] = {}
    if block is not None:
        from attnprof.errors import BadOption
        from attnprof.hosts import resolve_host
        from attnprof.registry import REGISTRY
        from attnprof.spec import import_object

        spec = REGISTRY.get(block)
        host = resolve_host(name)
        make_host = import_object(host.factory)
        per_channels: dict[int, dict[str, Any]] = {}
        slots: list[int] = []

        def attention(channels: int):
            if channels not in per_channels:
                try:
                    per_channels[channels] = spec.resolve_options(channels, dict(options or {}))
                except BadOption as exc:
                    raise BadOption(f"{exc} (at a {channels}-channel slot of {host.name})") \
                        from None
            factory = spec.load_factory()
            try:
                module = factory(channels, **per_channels[channels])
            except Exception as exc:
                raise BadInput(f"building block '{spec.name}' for a {channels}-channel slot of "
                               f"{host.name} failed: {type(exc).__name__}: {exc}") from None
            built_types.setdefault(type(module), spec.name)
            slots.append(channels)
            return module

        def make():
            slots.clear()
            return make_host(attention)

        info = {"name": spec.name, "source": spec.source, "host_slot": host.slot,
                "options": per_channels, "slots": slots}
        return make, None, info, built_types
    if options:
        raise BadInput("block options (-o) need a block: add --block NAME")
    if zoo_source(name) is not None:
        from attnprof.zoo.networks import load_network

        holder: dict[str, Any] = {}

        def make():
            net, size = load_network(name)
            holder["size"] = size
            return net

        return make, holder, None, built_types
    from attnprof.hosts import HOSTS

    if name.lower() in HOSTS:
        from attnprof.spec import import_object

        factory = import_object(HOSTS[name.lower()].factory)
        return (lambda: factory(None)), None, None, built_types
    if ":" in name:
        from attnprof.spec import import_object

        obj = import_object(name)
        return (lambda: _instantiate(name, obj)), None, None, built_types
    from attnprof.hosts import resolve_host

    resolve_host(name)  # raises BadInput with the choices
    raise AssertionError("unreachable")


def _instantiate(name: str, obj):
    from torch import nn

    if isinstance(obj, nn.Module):
        import copy

        return copy.deepcopy(obj)
    from attnprof.contain import user_code
    from attnprof.errors import AttnprofError
    from attnprof.registry import check_network_callable

    check_network_callable(obj, name)  # nothing but a network's constructor is called
    try:
        with user_code(f"network '{name}', while being built,"):
            net = obj()
    except AttnprofError:
        raise
    except Exception as exc:
        raise BadInput(f"building network '{name}' with no arguments failed: "
                       f"{type(exc).__name__}: {exc}") from None
    if not isinstance(net, nn.Module):
        raise BadInput(f"'{name}' built a {type(net).__name__}, not an nn.Module")
    return net


# -- timing ----------------------------------------------------------------------------------

@dataclass
class Timing:
    """Medians over the timed forwards: of the forward, of the attention modules' sum and
    share, and of each module's time and share."""

    network_ms: float
    attention_ms: float
    attention_share: float
    runs: int
    warmup: int
    module_ms: dict[str, float]
    module_share: dict[str, float]
    # 95% intervals of the medians (order statistics; None with too few forwards)
    network_ci: list[float] | None = None
    attention_ci: list[float] | None = None
    share_ci: list[float] | None = None
    module_ci: dict[str, list[float] | None] = field(default_factory=dict)
    # what makes the times doubtful (noise, a busy machine: attnprof.measure.quality)
    warnings: tuple[str, ...] = ()


def time_modules(net, x, targets: list[tuple[str, Any]], budget_s: float, device: str,
                 warmup: int = 2, min_runs: int = 3, max_runs: int = 200) -> Timing:
    """Time forwards of ``net`` with hooks on ``targets`` (see the module's doc). On CPU each
    hook reads the wall clock; on CUDA each records an event on the current stream, read once
    the forward is done (nothing synchronises inside the forward)."""
    import torch

    from attnprof.measure.machine import machine_state
    from attnprof.measure.quality import quality
    from attnprof.stats.order import median_ci

    cuda = device.startswith("cuda")
    if cuda:
        def mark():
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event

        def seconds(a, b) -> float:
            return a.elapsed_time(b) / 1e3
    else:
        mark = time.perf_counter

        def seconds(a, b) -> float:
            return b - a

    spans: list[tuple[str, Any, Any]] = []
    open_: dict[str, Any] = {}
    handles = []
    for path, module in targets:
        def pre(_m, _inp, path=path):
            open_[path] = mark()

        def post(_m, _inp, _out, path=path):
            spans.append((path, open_.pop(path), mark()))

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    totals: list[float] = []
    per: dict[str, list[float]] = {p: [] for p, _ in targets}
    shares: list[float] = []
    sums: list[float] = []
    clock = time.perf_counter
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                net(x)
            if cuda:
                torch.cuda.synchronize()
            deadline = clock() + budget_s
            machine = []
            while len(totals) < min_runs or (clock() < deadline and len(totals) < max_runs):
                spans.clear()
                t0 = mark()
                net(x)
                t1 = mark()
                if cuda:
                    torch.cuda.synchronize()
                total = seconds(t0, t1)
                acc = dict.fromkeys(per, 0.0)
                for path, a, b in spans:
                    acc[path] += seconds(a, b)
                totals.append(total)
                if len(totals) % 16 == 1:  # the run queue now and then while timing
                    machine.append(machine_state())
                for p, v in acc.items():
                    per[p].append(v)
                sums.append(sum(acc.values()))
                shares.append(sums[-1] / total if total > 0 else 0.0)
    finally:
        for h in handles:
            h.remove()
    median = statistics.median
    return Timing(
        network_ms=median(totals) * 1e3, attention_ms=median(sums) * 1e3,
        attention_share=median(shares), runs=len(totals), warmup=warmup,
        module_ms={p: median(v) * 1e3 for p, v in per.items()},
        module_share={p: median([a / t for a, t in zip(v, totals, strict=True)])
                      for p, v in per.items()},
        warnings=quality(
            totals, threads=torch.get_num_threads(), ci=median_ci(totals),
            machine=sorted(machine, key=lambda m: m.others or 0)[len(machine) // 2]
            if machine else None).warnings,
        network_ci=_ci(totals, 1e3), attention_ci=_ci(sums, 1e3), share_ci=_ci(shares),
        module_ci={p: _ci(v, 1e3) for p, v in per.items()})


def _ci(samples: list[float], scale: float = 1.0) -> list[float] | None:
    """The median's 95% interval (attnprof.stats.order.median_ci), scaled; None when
    there are too few samples for one."""
    from attnprof.stats.order import median_ci

    est = median_ci(samples)
    return [est.low * scale, est.high * scale] if est.bounded else None


# -- the analysis ----------------------------------------------------------------------------

def analyze(name: str, *, block: str | None = None, options: Mapping[str, Any] | None = None,
            match: Iterable[str] = (), size: tuple[int, int] | None = None, batch: int = 1,
            channels: int | None = None, latency: bool = True, device: str = "cpu",
            budget_s: float = 1.0, threads: int | None = None) -> ModelReport:
    """Find the attention modules of network ``name`` and cost them (see the module's doc)."""
    import torch

    from attnprof.counters.own import count_module
    from attnprof.request import check_dim, check_threads, seconds
    from attnprof.runner import preserved_state
    from attnprof.spec import check_positive

    patterns = [p.strip() for p in match if p and p.strip()]
    check_dim("batch", batch)
    check_threads(threads)
    seconds("the timing budget", budget_s)
    if device != "cpu" and latency:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BadInput(f"device {device!r} is not available on this machine")
    make, holder, block_info, built_types = network_factory(name, block, options)
    with preserved_state():
        net = _build(make, on_meta=not latency)
        chw = (holder or {}).get("size")
        c = channels if channels is not None else (chw[0] if chw else 3)
        hw = size if size is not None else ((chw[1], chw[2]) if chw else (224, 224))
        check_positive("channels", c)
        shape = (batch, c, *hw)
        from attnprof.registry import REGISTRY

        types = attention_types(REGISTRY.all())
        for cls, label in built_types.items():
            types.setdefault(cls, f"block:{label}")
        found = find_attention(net, patterns, types)
        notes = []
        for p in patterns:
            if not any(lbl == f"match:{p}" for _, _, lbl in found):
                notes.append(f"--match {p!r} matched no module outside those already found")
        if not found:
            notes.append("no attention module found: none of attnprof's blocks, timm's attention "
                         "classes, torchvision's SqueezeExcitation or a self-attention class; "
                         "name yours with --match "
                         "PATTERN (a module path like 'layer*.*.se' or a class name)")
        try:
            counted = count_module(net, shape, torch.float32)
        except Exception as exc:
            raise BadInput(f"counting {name} on a {'x'.join(map(str, shape))} input failed: "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                           ) from None

        def params_of(m) -> int:
            return sum(p.numel() for p in m.parameters())

        total = Cost(params_of(net), counted.total.macs, counted.total.flops,
                     counted.total.bytes)
        modules = []
        for path, m, label in found:
            t = counted.layers.get(path)
            modules.append(AttentionModule(
                path, type(m).__name__, label,
                Cost(params_of(m), t.macs if t else 0, t.flops if t else 0,
                     t.bytes if t else 0)))
        timing = None
        if latency:
            net = net.to(device).eval()
            x = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(device)
            targets = [(path, m) for path, m, _ in found]
            from torch.utils.benchmark.utils.common import set_torch_threads

            try:  # the caller's thread count is restored after
                with set_torch_threads(threads or torch.get_num_threads()):
                    used_threads = torch.get_num_threads()
                    timed = time_modules(net, x, targets, budget_s, device)
            except Exception as exc:
                raise BadInput(f"running {name} on {device} failed: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
            total.time_ms = timed.network_ms
            for mod in modules:
                mod.cost.time_ms = timed.module_ms[mod.path]
                mod.time_share = timed.module_share[mod.path]
                mod.time_ms_ci = timed.module_ci.get(mod.path)
            clock = ("CUDA events recorded on the stream (GPU time, no synchronisation inside "
                     "the forward)" if device.startswith("cuda") else "wall time")
            timing = {"method": TIMING.format(clock=clock, runs=timed.runs, warmup=timed.warmup),
                      "runs": timed.runs, "threads": used_threads,
                      "network_ms": timed.network_ms, "attention_ms": timed.attention_ms,
                      "attention_share": timed.attention_share,
                      "network_ms_ci": timed.network_ci, "attention_ms_ci": timed.attention_ci,
                      "attention_share_ci": timed.share_ci,
                      "warnings": list(timed.warnings)}
    if block_info is not None:
        from attnprof.signature import recorded_options

        block_info = {**block_info, "options": {str(k): recorded_options(v) for k, v in
                                                sorted(block_info["options"].items())},
                      "slots": len(block_info["slots"])}
    return ModelReport(
        network=name, input=shape, dtype="float32", device=device if latency else "meta",
        total=total, modules=modules, block=block_info, timing=timing,
        uncounted_ops=dict(counted.uncounted_ops), notes=notes)
