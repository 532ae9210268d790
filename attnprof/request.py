"""What the user asked for (a ProfileRequest), and the Plan it becomes once parsed and
validated: the one place a request is checked (errors: exit 2). Nothing downstream re-checks
a Plan. Torch-free unless the block is a user's ``module:Name`` (importing it imports torch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from attnprof.errors import BadInput, did_you_mean
from attnprof.spec import BACKENDS, check_positive

DTYPES = ("float32", "float16", "bfloat16")
MODES = ("infer", "train")
FORMATS = ("table", "json", "markdown")
_DEVICE = re.compile(r"^(cpu|meta|cuda(:\d+)?)$")

# Bounds checked before torch sees a value (docs/contract.md, "Limits"):
#: the largest channel count, batch, height or width (what torch's kernels index with int32)
MAX_DIM = 2**31 - 1
#: the most elements an input may have (4 TiB of float32: more than any device holds)
MAX_ELEMENTS = 2**40
#: the longest timing budget per block, in seconds
MAX_BUDGET_S = 3600.0
#: the highest CUDA device index attnprof asks torch about
MAX_DEVICE_INDEX = 1023
#: the most interleaved timing rounds (compare --rounds, a suite's rounds)
MAX_ROUNDS = 1000


def max_threads() -> int:
    """The most threads a run may ask for: four per CPU (``os.cpu_count()``)."""
    import os

    return 4 * (os.cpu_count() or 1)


def check_dim(what: str, value: Any) -> int:
    """A positive integer no larger than :data:`MAX_DIM`; else :class:`BadInput`."""
    check_positive(what, value)
    if value > MAX_DIM:
        raise BadInput(f"{what} must be at most {MAX_DIM:,}, got {value:,}")
    return value


def parse_size(text: str | int | tuple[int, int]) -> tuple[int, int]:
    """``256`` -> (256, 256); ``"224x112"`` -> (224, 112) as (H, W)."""
    if isinstance(text, (tuple, list)):
        if len(text) != 2:
            raise BadInput(f"size must be S or (H, W) with positive integers, got {text!r}")
        h, w = text
        return check_dim("size height", h), check_dim("size width", w)
    if isinstance(text, int) and not isinstance(text, bool):
        return check_dim("size", text), text
    raw = str(text).strip().lower()
    parts = raw.split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise BadInput(f"size must be S or HxW with positive integers (e.g. 56 or 224x112), "
                       f"got {text!r}") from None
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2 or min(nums) < 1:
        raise BadInput(f"size must be S or HxW with positive integers (e.g. 56 or 224x112), "
                       f"got {text!r}")
    return check_dim("size height", nums[0]), check_dim("size width", nums[1])


def parse_choice(what: str, value: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    v = str(value).strip().lower()
    if v not in choices:
        raise BadInput(f"unknown {what} {value!r}{did_you_mean(v, choices)}; "
                       f"choose from {', '.join(choices)}")
    return v


def parse_backends(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"torch,fvcore"`` -> ("torch", "fvcore"); ``all`` or None -> every backend."""
    if value is None:
        return BACKENDS
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(i).strip().lower() for i in items if str(i).strip()]
    if not names:
        raise BadInput(f"--backends needs at least one name: {', '.join(BACKENDS)}")
    if names == ["all"]:
        return BACKENDS
    out: list[str] = []
    for n in names:
        parse_choice("backend", n, BACKENDS)
        if n not in out:
            out.append(n)
    return tuple(out)


def is_cuda(device: str) -> bool:
    """The one test of "is this a CUDA device" for a parsed device string."""
    return device.startswith("cuda")


def parse_device(value: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; ``cuda`` is reported as ``cuda:0`` everywhere."""
    v = str(value).strip().lower()
    if not _DEVICE.match(v):
        raise BadInput(f"unknown device {str(value)[:40]!r}; use cpu, cuda or cuda:N")
    index = v.partition(":")[2]
    if index and (len(index) > 6 or int(index) > MAX_DEVICE_INDEX):
        raise BadInput(f"device index {index[:24]}{'…' if len(index) > 24 else ''} is out of "
                       f"range: use cuda:N with N from 0 to {MAX_DEVICE_INDEX}")
    return "cuda:0" if v == "cuda" else v


@dataclass(frozen=True)
class ProfileRequest:
    """What was asked: one block at one input. ``block`` is a name, ``module:Name``, a
    BlockSpec, or an nn.Module. Fields are as given; :meth:`validated` makes the Plan."""

    block: Any
    channels: int | None = None  # 64, or 3 (RGB) with a host
    size: Any = None  # 56, or 224 with a host
    batch: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    dtype: str = "float32"
    mode: str = "infer"
    backends: Any = BACKENDS
    latency: bool = True
    ops: bool = False  # time each op with torch.profiler (needs latency on)
    threads: int | None = None
    budget_s: float = 0.3
    timer: str = "blocked"
    channels_last: bool = False
    compile: bool = False
    cuda_graph: bool = False
    verbose: bool = False
    name: str | None = None
    host: str | None = None
    l2_flush: bool = False  # CUDA: flush the L2 cache before each timed call (cold cache)

    def validated(self) -> Plan:
        """The Plan; raises :class:`BadInput` (or a subclass) on any malformed field."""
        return make_plan(self)


@dataclass(frozen=True)
class Plan:
    """One case, parsed and validated: what to build (``spec`` with resolved ``options``, or
    the caller's ``module``), the input, and how to count and time it. A host run keeps the
    options as given; they are resolved per slot when the network is built."""

    spec: Any  # a registry.BlockSpec, or None for a module instance
    module: Any  # the caller's nn.Module (library), or None
    options: Mapping[str, Any]
    channels: int
    size: tuple[int, int]
    batch: int
    device: str
    dtype: str
    mode: str
    backends: tuple[str, ...]
    latency: bool
    ops: bool
    threads: int | None
    budget_s: float
    timer: str
    channels_last: bool
    compile: bool
    cuda_graph: bool
    verbose: bool
    name: str | None
    host: Any  # a hosts.HostSpec, or None
    l2_flush: bool = False

    @property
    def block_name(self) -> str:
        return self.spec.name if self.spec is not None else type(self.module).__name__

    @property
    def label(self) -> str:
        return self.name or self.block_name

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, *self.size)

    @property
    def train(self) -> bool:
        return self.mode == "train"

    @property
    def on_cuda(self) -> bool:
        return is_cuda(self.device)

    def with_options(self, options: Mapping[str, Any]) -> Plan:
        """The same case with other block options (validated)."""
        if self.spec is None:
            return replace(self, options=dict(options))
        if self.host is not None:
            return replace(self, options=dict(options))
        return replace(self, options=self.spec.resolve_options(self.channels, options))

    def validated(self) -> Plan:  # a Plan is valid by construction
        return self


def check_threads(threads: Any) -> int | None:
    """None (torch's own count) or a positive integer up to :func:`max_threads`."""
    if threads is None:
        return None
    check_positive("threads", threads)
    if threads > max_threads():
        raise BadInput(f"threads must be at most {max_threads()} (four per CPU of this "
                       f"machine), got {threads:,}")
    return threads


def check_rounds(what: str, rounds: Any) -> int:
    """A positive number of timing rounds, at most :data:`MAX_ROUNDS`."""
    check_positive(what, rounds)
    if rounds > MAX_ROUNDS:
        raise BadInput(f"{what} must be at most {MAX_ROUNDS}, got {rounds:,}")
    return rounds


def seconds(what: str, value: Any) -> float:
    """A positive, finite number of seconds, at most :data:`MAX_BUDGET_S`."""
    return _positive_number(what, value)


def _positive_number(what: str, value: Any) -> float:
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise BadInput(f"{what} must be a positive number of seconds, got {value!r}")
    if value > MAX_BUDGET_S:
        raise BadInput(f"{what} must be at most {MAX_BUDGET_S:g} seconds, got {value:g}")
    return float(value)


def make_plan(r: ProfileRequest) -> Plan:
    """Parse and check every field of ``r`` once; resolve the block and its options."""
    if isinstance(r, Plan):
        return r
    from attnprof.hosts import resolve_host
    from attnprof.registry import REGISTRY, BlockSpec

    host = resolve_host(r.host) if r.host is not None else None
    if host is not None and r.channels not in (None, 3):
        raise BadInput(f"--channels does not apply with --host {host.name}: the network takes "
                       "3-channel images and gives each block its own channels")
    channels = r.channels if r.channels is not None else (3 if host else 64)
    size = parse_size(r.size if r.size is not None else (224 if host else 56))
    check_dim("channels", channels)
    check_dim("batch", r.batch)
    elements = r.batch * channels * size[0] * size[1]
    if elements > MAX_ELEMENTS:
        raise BadInput(f"an input of {r.batch}x{channels}x{size[0]}x{size[1]} has {elements:,} "
                       f"elements; attnprof takes at most {MAX_ELEMENTS:,} (2^40)")
    check_threads(r.threads)
    budget = _positive_number("the latency budget", r.budget_s)
    device = parse_device(r.device)
    mode = parse_choice("mode", r.mode, MODES)
    if r.cuda_graph and not is_cuda(device):
        raise BadInput("--cuda-graph needs a CUDA device: add --device cuda")
    if r.l2_flush and not is_cuda(device):
        raise BadInput("--l2-flush flushes a GPU's L2 cache: it needs --device cuda")
    if r.cuda_graph and mode == "train":
        raise BadInput("--cuda-graph times inference only: drop --mode train")
    spec = module = None
    if isinstance(r.block, BlockSpec):
        spec = r.block
    elif isinstance(r.block, str):
        spec = REGISTRY.get(r.block)
    else:
        from torch import nn

        if not isinstance(r.block, nn.Module):
            raise BadInput(f"a block is a name, 'package.module:Name' or an nn.Module, not a "
                           f"{type(r.block).__name__}")
        module = r.block
        if host is not None:
            raise BadInput("--host needs a block name: attnprof builds one block per slot")
    options = dict(r.options)
    if spec is not None and host is None:
        options = spec.resolve_options(channels, options)
    return Plan(
        spec=spec, module=module, options=options, channels=channels, size=size,
        batch=r.batch, device=device, dtype=parse_choice("dtype", r.dtype, DTYPES), mode=mode,
        backends=parse_backends(r.backends), latency=bool(r.latency), ops=bool(r.ops),
        threads=r.threads, budget_s=budget,
        timer=parse_choice("timer", r.timer, ("blocked", "adaptive")),
        channels_last=bool(r.channels_last), compile=bool(r.compile),
        cuda_graph=bool(r.cuda_graph), verbose=bool(r.verbose), name=r.name, host=host,
        l2_flush=bool(r.l2_flush),
    )


# -- a whole network (attnprof model) ------------------------------------------------------------

#: the backends ``model`` runs unless told otherwise: attnprof's count of every op and torch's
#: own counter (torchinfo and fvcore run on request: --backends; they trace the whole network)
NETWORK_BACKENDS = ("attnprof", "torch")
#: how long ``model`` may keep adding interleaved timing rounds (--time-cap)
NETWORK_TIME_CAP_S = 20.0
#: the most fresh processes ``--repeat`` starts
MAX_REPEAT = 50


@dataclass(frozen=True)
class NetworkRequest:
    """What was asked of ``model``: a network by name (``timm:NAME``, ``torchvision:NAME``,
    one of attnprof's hosts, ``package.module:Name``), optionally with ``block`` put in its
    attention slots, and how to count and time it. :meth:`validated` makes the plan."""

    network: str
    block: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    match: tuple[str, ...] = ()
    size: Any = None  # the network's own input size, else 224
    batch: int = 1
    channels: int | None = None
    device: str = "cpu"
    backends: Any = NETWORK_BACKENDS
    latency: bool = True
    threads: int | None = None
    budget_s: float = 1.0
    time_cap_s: float = NETWORK_TIME_CAP_S
    verbose: bool = False

    def validated(self) -> NetworkPlan:
        return make_network_plan(self)


@dataclass(frozen=True)
class NetworkPlan:
    """A network request parsed and checked once. ``spec`` and ``host``: the block to put in
    the slots and the network as a host (with ``block``); its options are resolved per slot
    when the network is built."""

    network: str
    spec: Any  # registry.BlockSpec, or None
    host: Any  # hosts.HostSpec, or None (without a block)
    options: Mapping[str, Any]
    match: tuple[str, ...]
    size: tuple[int, int] | None
    batch: int
    channels: int | None
    device: str
    backends: tuple[str, ...]
    latency: bool
    threads: int | None
    budget_s: float
    time_cap_s: float
    verbose: bool

    @property
    def label(self) -> str:
        return self.network

    def validated(self) -> NetworkPlan:
        return self


def make_network_plan(r: NetworkRequest | NetworkPlan) -> NetworkPlan:
    """Parse and check every field of ``r`` once (errors: :class:`BadInput`, exit 2)."""
    if isinstance(r, NetworkPlan):
        return r
    if not isinstance(r.network, str) or not r.network.strip():
        raise BadInput("model needs a network: timm:NAME, torchvision:NAME, one of attnprof's "
                       "hosts, or package.module:Name")
    name = r.network.strip()
    check_dim("batch", r.batch)
    if r.channels is not None:
        check_dim("channels", r.channels)
    size = parse_size(r.size) if r.size is not None else None
    if size is not None:
        elements = r.batch * (r.channels or 3) * size[0] * size[1]
        if elements > MAX_ELEMENTS:
            raise BadInput(f"an input of {r.batch}x{r.channels or 3}x{size[0]}x{size[1]} has "
                           f"{elements:,} elements; attnprof takes at most {MAX_ELEMENTS:,}")
    check_threads(r.threads)
    budget = seconds("the timing budget", r.budget_s)
    cap = seconds("--time-cap", r.time_cap_s)
    device = parse_device(r.device)
    if device == "meta":
        raise BadInput("--device meta is for counting only; attnprof counts on meta by itself")
    patterns = tuple(p.strip() for p in (r.match or ()) if isinstance(p, str) and p.strip())
    spec = host = None
    options = dict(r.options or {})
    if r.block is not None:
        from attnprof.hosts import resolve_host
        from attnprof.registry import REGISTRY

        spec = REGISTRY.get(r.block)
        host = resolve_host(name)
    elif options:
        raise BadInput("block options (-o) need a block: add --block NAME")
    else:
        _check_network_name(name)
    return NetworkPlan(
        network=name, spec=spec, host=host, options=options, match=patterns, size=size,
        batch=r.batch, channels=r.channels, device=device,
        backends=parse_backends(r.backends), latency=bool(r.latency), threads=r.threads,
        budget_s=budget, time_cap_s=max(cap, budget), verbose=bool(r.verbose))


def _check_network_name(name: str) -> None:
    """A network ``model`` can build without a block: a zoo name, attnprof's host, or
    ``package.module:Name`` (checked when imported, at build)."""
    from attnprof.zoo import zoo_source

    if zoo_source(name) is not None or ":" in name:
        return
    from attnprof.hosts import HOSTS, resolve_host

    if name.lower() not in HOSTS:
        resolve_host(name)  # raises BadInput with the choices
