"""Building what a Plan profiles: the block alone, or a host network with the block in every
slot and the same network without it. Each is a Subject the later stages treat alike."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from attnprof.errors import BadInput
from attnprof.request import Plan
from attnprof.results import BlockInfo
from attnprof.signature import recorded_options


@dataclass
class Subject:
    """One module to count and time: the block, or a host network with or without it."""

    role: str  # "block" | "network" (the host with the block) | "base" (the host without)
    module: Any  # nn.Module, private to attnprof
    target: Any = None  # counters.Target, once on the device
    counts: dict[str, Any] = field(default_factory=dict)  # backend -> results.Count
    memory: Any = None  # results.Memory
    timed: Any = None  # latency.TimedCall
    latency: Any = None  # results.Latency
    runs_on_meta: bool = True  # False: data-dependent, counted and checked on real tensors


@dataclass(frozen=True)
class Built:
    """What the build stage hands on: the block's description and one or two subjects."""

    info: BlockInfo
    subjects: tuple[Subject, ...]
    slot_options: dict[int, dict[str, Any]] | None = None  # with a host: per channel count
    slots: int = 0  # with a host: how many blocks it holds

    @property
    def main(self) -> Subject:
        return self.subjects[0]

    @property
    def base(self) -> Subject | None:
        return self.subjects[1] if len(self.subjects) > 1 else None


def construct(spec, channels: int, options: dict[str, Any], where: str = "") -> Any:
    """Call ``spec``'s factory; the user's constructor errors become :class:`BadInput`, and
    its prints, exits and interrupts are contained (:mod:`attnprof.contain`)."""
    from torch import nn

    from attnprof.contain import first_line, user_code
    from attnprof.errors import AttnprofError

    factory = spec.load_factory()
    try:
        with user_code(f"block '{spec.name}'{where}, while being built,"):
            module = factory(channels, **options)
    except AttnprofError:  # a factory of attnprof's (the zoo's) says what is wrong itself
        raise
    except Exception as exc:
        raise BadInput(f"building block '{spec.name}'{where} with channels={channels}"
                       f"{''.join(f', {k}={v!r}' for k, v in options.items())} failed: "
                       f"{type(exc).__name__}: {first_line(exc)}") from exc
    if not isinstance(module, nn.Module):
        raise BadInput(f"block '{spec.name}' built a {type(module).__name__}, not an nn.Module")
    return module


def build(spec, channels: int, options: dict[str, Any], seed: int | None = 0):
    """Instantiate ``spec`` with resolved options, from a forked RNG seeded with ``seed``."""
    import torch

    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        if spec.source != "import":
            _check_parameters_fit(spec, channels, options)
        return construct(spec, channels, options)


def _check_parameters_fit(spec, channels: int, options: dict[str, Any]) -> None:
    """Build one of attnprof's (or a plugin's, or the zoo's) blocks on the meta device first,
    where it costs nothing, and refuse one whose parameters alone could not fit in memory
    before they are allocated and initialised for real. (A user's own ``module:Name`` is not
    built twice: its constructor may do what it likes.)"""
    import torch

    from attnprof.counters.own import tensor_bytes
    from attnprof.measure.memory import available_bytes, params_bytes
    from attnprof.units import nbytes

    try:
        with torch.device("meta"):
            twin = construct(spec, channels, options)
        need = params_bytes(twin) + sum(tensor_bytes(b) for b in twin.buffers())
    except Exception:
        return  # the real construction reports what is wrong
    have = available_bytes("cpu")
    if have is not None and need > have:
        raise BadInput(f"block '{spec.name}' with channels={channels} has {nbytes(need)} of "
                       f"parameters and buffers, more than the {nbytes(have)} of memory free; "
                       "use fewer --channels or other options")


@dataclass(frozen=True)
class HostBuild:
    """A host network with the block in every slot (and the same network without it, when
    asked): the block's resolved options per channel count, how many slots were filled, the
    options its ``**kwargs`` took without using them, and the block's class."""

    network: Any
    base: Any
    per_channels: dict[int, dict[str, Any]]
    slots: int
    unused: dict[str, Any]
    block_type: type | None


def host_networks(spec, host, options, *, base: bool = True) -> HostBuild:
    """Build ``host`` with ``spec`` in every slot (each block by :func:`construct`:
    containment, module checks), seeded, and without it when ``base``. Options are resolved
    per slot's channel count; the unused ones are found on the first slot's block."""
    import torch

    from attnprof.errors import BadOption
    from attnprof.registry import import_object

    make = import_object(host.factory)
    per_channels: dict[int, dict[str, Any]] = {}
    slots = 0
    first: list[tuple[int, Any]] = []  # the first slot's channels and block

    def attention(channels: int):
        nonlocal slots
        slots += 1
        if channels not in per_channels:
            try:
                per_channels[channels] = spec.resolve_options(channels, dict(options))
            except BadOption as exc:
                raise BadOption(f"{exc} (at a {channels}-channel slot of {host.name})") from None
        module = construct(spec, channels, per_channels[channels],
                           where=f" for a {channels}-channel slot of {host.name}")
        if not first:
            first.append((channels, module))
        return module

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        network = make(attention)
        without = make(None) if base else None
    unused = (unused_options(spec, first[0][0], dict(per_channels[first[0][0]]), first[0][1])
              if first else {})
    return HostBuild(network, without, per_channels, slots, unused,
                     type(first[0][1]) if first else None)


def build_subjects(plan: Plan) -> Built:
    """The block (a private copy of the caller's module, or built from its spec), or the
    host network with and without it."""
    if plan.module is not None:
        info = BlockInfo(name=type(plan.module).__name__, options=recorded_options(plan.options),
                         kind=None, source="module")
        module = copy.deepcopy(plan.module)
        materialize_lazy(module, plan)
        return Built(info, (Subject("block", module),))
    spec = plan.spec
    paper = spec.paper.cite() if spec.paper else None
    if plan.host is None:
        module = build(spec, plan.channels, dict(plan.options))
        materialize_lazy(module, plan)
        unused = unused_options(spec, plan.channels, dict(plan.options), module)
        applied = {k: v for k, v in plan.options.items() if k not in unused}
        info = BlockInfo(spec.name, recorded_options(applied), spec.kind, spec.source, paper,
                         unused_options=recorded_options(unused))
        return Built(info, (Subject("block", module),))
    h = host_networks(spec, plan.host, plan.options)
    per_channels = slot_options(h)
    first = next(iter(per_channels.values()), {})
    info = BlockInfo(spec.name, first, spec.kind, spec.source, paper,
                     unused_options=recorded_options(h.unused))
    subjects = (Subject("network", h.network), Subject("base", h.base))
    return Built(info, subjects, per_channels, h.slots)


def slot_options(h: HostBuild) -> dict[int, dict[str, Any]]:
    """Each slot channel count's options as recorded (JSON-safe), the unused ones left out."""
    return {c: recorded_options({k: v for k, v in o.items() if k not in h.unused})
            for c, o in h.per_channels.items()}


def materialize_lazy(module: Any, plan: Plan) -> None:
    """Give a block with lazy modules (``nn.LazyConv2d``, ``nn.LazyLinear``: parameters
    whose shapes wait for the first input) its parameters, as its first call in a network
    would: one forward on attnprof's private copy, at batch 1 of the case's input, seeded.
    Without it the parameters have no size to count, copy or move."""
    import torch
    from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

    from attnprof.contain import first_line, user_code

    pending = (UninitializedParameter, UninitializedBuffer)
    if not any(isinstance(t, pending) for t in (*module.parameters(), *module.buffers())):
        return
    shape = (1, *plan.shape[1:])
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad(), \
                user_code(f"block '{plan.block_name}', while its lazy parameters were "
                          "initialised,"):
            torch.manual_seed(0)
            module.train(plan.train)(torch.randn(shape))
    except Exception as exc:
        raise BadInput(f"block '{plan.block_name}' has lazy parameters (nn.Lazy*), and its "
                       f"first forward on {list(shape)}, which sizes them, failed: "
                       f"{type(exc).__name__}: {first_line(exc)}") from exc


def unused_options(spec, channels: int, options: dict[str, Any], module: Any) -> dict[str, Any]:
    """The options a user's constructor took into its ``**kwargs`` without them changing the
    built block. Each is found by building the block once more on the meta device without
    it (no memory, no initialisation) and comparing the two: the modules, their types,
    their attributes, and their parameters' and buffers' shapes. The same block without the
    option means the option was not used. A twin that cannot be built says nothing: the
    option counts as used."""
    signature = getattr(spec, "signature", None)
    extra = signature.extra(options) if signature is not None else {}
    if not extra:
        return {}
    import torch

    from attnprof.contain import user_code

    mark = fingerprint(module)
    unused = {}
    for key, value in extra.items():
        without = {k: v for k, v in options.items() if k != key}
        try:
            with torch.random.fork_rng(devices=[]), torch.device("meta"), \
                    user_code(f"block '{spec.name}', while being built without '{key}',"):
                twin = spec.load_factory()(channels, **without)
        except Exception:
            continue
        if fingerprint(twin) == mark:
            unused[key] = value
    return unused


def fingerprint(module: Any) -> list[tuple[Any, ...]]:
    """What a built block is, independent of its device and of its random initialisation:
    per submodule, its type, its own attributes, and its parameters' and buffers' shapes."""
    from torch import nn

    own = _module_internals()
    out = []
    for name, m in module.named_modules() if isinstance(module, nn.Module) else ():
        attrs = tuple((k, _plain(v)) for k, v in sorted(vars(m).items()) if k not in own)
        params = tuple((n, tuple(p.shape), str(p.dtype), p.requires_grad)
                       for n, p in m.named_parameters(recurse=False))
        buffers = tuple((n, tuple(b.shape), str(b.dtype))
                        for n, b in m.named_buffers(recurse=False))
        out.append((name, type(m).__module__, type(m).__qualname__, attrs, params, buffers))
    return out


def _module_internals() -> set[str]:
    from torch import nn

    return set(vars(nn.Module())) | {"training"}


def _plain(v: Any, depth: int = 0) -> Any:
    """An attribute's value as far as it describes the block (not its device or contents)."""
    import torch

    if v is None or isinstance(v, (bool, int, float, str, bytes)):
        return v
    if isinstance(v, torch.Tensor):
        return ("tensor", tuple(v.shape), str(v.dtype))
    if depth < 4 and isinstance(v, (tuple, list, set, frozenset)):
        return (type(v).__name__, tuple(_plain(x, depth + 1) for x in v))
    if depth < 4 and isinstance(v, dict):
        return ("dict", tuple((str(k), _plain(x, depth + 1)) for k, x in v.items()))
    if isinstance(v, torch.nn.Module):
        return ("module", type(v).__qualname__)
    if callable(v):
        return ("callable", getattr(v, "__module__", None), getattr(v, "__qualname__", None)
                or type(v).__qualname__)
    return ("object", type(v).__module__, type(v).__qualname__)


# -- a whole network (attnprof model) ------------------------------------------------------------

@dataclass
class NetworkBuilt:
    """What the build stage hands on for ``model``: the network (with the block in its slots
    when one was asked for), its default input size (C, H, W) when the zoo says it, the
    block's description, and the classes the block built (found as attention by type)."""

    network: Any
    default_input: tuple[int, ...] | None
    block: dict[str, Any] | None
    block_types: dict[type, str]


def build_network(plan, *, on_meta: bool = False) -> NetworkBuilt:
    """Build ``plan``'s network, seeded (and on the meta device when ``on_meta`` and its
    constructor allows: counting alone needs no memory). With a block, by
    :func:`host_networks`, as ``--host`` builds it."""
    import torch

    from attnprof.zoo import zoo_source

    def seeded(make):
        if on_meta:
            try:
                with torch.device("meta"):
                    return make()
            except Exception:  # a constructor that reads data (.item()): build it for real
                pass
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return make()

    name = plan.network
    if plan.spec is not None:
        spec = plan.spec
        h = seeded(lambda: host_networks(spec, plan.host, plan.options, base=False))
        block = {"name": spec.name, "source": spec.source, "host_slot": plan.host.slot,
                 "options": {str(c): o for c, o in sorted(slot_options(h).items())},
                 "slots": h.slots, "unused_options": recorded_options(h.unused)}
        types = {h.block_type: f"block:{spec.name}"} if h.block_type is not None else {}
        return NetworkBuilt(h.network, None, block, types)
    if zoo_source(name) is not None:
        from attnprof.zoo.networks import load_network

        net, size = seeded(lambda: load_network(name))
        return NetworkBuilt(net, size, None, {})
    from attnprof.hosts import HOSTS
    from attnprof.registry import import_object

    if name.lower() in HOSTS:
        factory = import_object(HOSTS[name.lower()].factory)
        return NetworkBuilt(seeded(lambda: factory(None)), None, None, {})
    obj = import_object(name)
    return NetworkBuilt(seeded(lambda: _instantiate(name, obj)), None, None, {})


def _instantiate(name: str, obj: Any) -> Any:
    """A user's network: a module instance (copied) or a constructor called with no
    arguments, contained (its prints, exits and errors are its own)."""
    from torch import nn

    from attnprof.contain import first_line, user_code
    from attnprof.errors import AttnprofError
    from attnprof.registry import check_network_callable

    if isinstance(obj, nn.Module):
        return copy.deepcopy(obj)
    check_network_callable(obj, name)  # nothing but a network's constructor is called
    try:
        with user_code(f"network '{name}', while being built,"):
            net = obj()
    except AttnprofError:
        raise
    except Exception as exc:
        raise BadInput(f"building network '{name}' with no arguments failed: "
                       f"{type(exc).__name__}: {first_line(exc)}") from None
    if not isinstance(net, nn.Module):
        raise BadInput(f"'{name}' built a {type(net).__name__}, not an nn.Module")
    return net


def without_attention(net: Any, paths: list[str]) -> Any:
    """A copy of ``net`` with the modules at ``paths`` replaced by ``nn.Identity`` (every
    other weight the same): the network as it would run without its attention."""
    from torch import nn

    bare = copy.deepcopy(net)
    for path in paths:
        parent, _, child = path.rpartition(".")
        setattr(bare.get_submodule(parent) if parent else bare, child, nn.Identity())
    return bare
