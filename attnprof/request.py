"""What the user asked for (a request), and the plan it becomes once parsed and validated: the
one place a request is checked (errors: exit 2). Nothing downstream re-checks a plan.

The requests' and plans' fields are not written here: each is an option's record
(:mod:`attnprof.profile_options`) whose ``request`` names the field; the record's default
is the request's default and its ``check`` makes the plan's value. :class:`ProfileRequest`
and :class:`Plan` hold the fields of the options ``stat`` takes (``compare``, ``sweep``,
suites and the library make the same request), :class:`NetworkRequest` and
:class:`NetworkPlan` those ``model`` takes. The plan makers below add only what no single
record can say: the input's shape, the block, and the checks that tie two fields together.
Torch-free unless the block is a user's ``module:Name`` (importing it imports torch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field, make_dataclass, replace
from typing import Any

from attnprof.errors import BadInput
from attnprof.profile_options import request_fields
from attnprof.values import MAX_ELEMENTS, check_dim, is_cuda, parse_device, parse_size

#: the most fresh processes ``model --repeat`` starts
MAX_REPEAT = 50
#: options a block takes for the (H, W) of the feature map it will see (timm's
#: BottleneckAttn, a user's positional-embedding block): unset, they get the input's size
INPUT_SIZE_OPTIONS = ("feat_size",)


#: a request's fields outside the options' records, with their defaults
_TAIL: dict[str, dict[str, Any]] = {"stat": {"verbose": False, "name": None},
                                    "model": {"verbose": False}}


def _request_class(name: str, command: str, first: str, doc: str, base: type) -> type:
    """A frozen dataclass: ``first`` (no default), then one field per option ``command``
    takes that fills a request field, defaulted as that command declares it, then
    ``verbose`` and (for a block's case) ``name``, its label."""
    fields: list[Any] = [(first, Any)]
    for key, option in request_fields(command).items():
        default = option.declaration(command)["default"]
        fields.append((key, Any, field(default_factory=dict) if option.value == "options"
                       else field(default=default)))
    fields += [(k, Any, field(default=d)) for k, d in _TAIL[command].items()]
    cls = make_dataclass(name, fields, bases=(base,), frozen=True)
    cls.__module__, cls.__doc__ = __name__, doc
    return cls


def _plan_class(name: str, command: str, own: tuple[str, ...], doc: str, base: type) -> type:
    """A frozen dataclass: ``own`` (what the plan resolves: the block, the host), then the
    request's fields (``stat``'s or ``model``'s) as checked, then ``verbose`` and ``name``."""
    keys = [*own, *(k for k in request_fields(command) if k not in own), *_TAIL[command]]
    cls = make_dataclass(name, [(k, Any) for k in keys], bases=(base,), frozen=True)
    cls.__module__, cls.__doc__ = __name__, doc
    return cls


def _checked(r: Any, command: str) -> dict[str, Any]:
    """Every request field of ``command`` through its record's check (a field without one
    as given), and the CUDA-only options refused off a CUDA device."""
    values: dict[str, Any] = {}
    for key, option in request_fields(command).items():
        check = option.declaration(command)["check"]
        values[key] = check(getattr(r, key)) if check is not None else getattr(r, key)
    for key, option in request_fields(command).items():
        if option.cuda_only and values[key] and not is_cuda(values["device"]):
            raise BadInput(f"{option.flags[0]} needs a CUDA device: add --device cuda")
    values.update({key: getattr(r, key) for key in _TAIL[command]}, verbose=bool(r.verbose))
    return values


def _check_elements(batch: int, channels: int, size: tuple[int, int]) -> None:
    elements = batch * channels * size[0] * size[1]
    if elements > MAX_ELEMENTS:
        raise BadInput(f"an input of {batch}x{channels}x{size[0]}x{size[1]} has {elements:,} "
                       f"elements; attnprof takes at most {MAX_ELEMENTS:,} (2^40)")


# -- one block at one input: stat, compare, sweep, suites, attnprof.profile ---------------

class _ProfileRequest:
    def validated(self) -> Plan:
        """The Plan; raises :class:`BadInput` (or a subclass) on any malformed field."""
        return make_plan(self)


def resolved_options(spec: Any, channels: int, size: tuple[int, int],
                     options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked and completed by the block's declaration at ``channels``, and a
    :data:`INPUT_SIZE_OPTIONS` option the block names, left unset, given the input's size."""
    resolved = spec.resolve_options(channels, options)
    for key in INPUT_SIZE_OPTIONS:
        if spec.names_option(key) and resolved.get(key) is None:
            resolved[key] = size
    return resolved


class _Plan:
    """What a Plan adds to its fields (made from the records, below)."""

    spec: Any
    module: Any
    options: Mapping[str, Any]
    name: str | None
    host: Any
    channels: int
    size: tuple[int, int]
    batch: int
    mode: str

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

    def with_options(self, options: Mapping[str, Any]) -> Plan:
        """The same case with other block options (validated)."""
        if self.spec is None or self.host is not None:
            return replace(self, options=dict(options))  # type: ignore[type-var]
        return replace(self, options=resolved_options(  # type: ignore[type-var]
            self.spec, self.channels, self.size, options))

    def validated(self) -> Plan:  # a Plan is valid by construction
        return self  # type: ignore[return-value]


ProfileRequest = _request_class(
    "ProfileRequest", "stat", "block",
    """What was asked: one block at one input. ``block`` is a name, ``module:Name``, a
    BlockSpec, or an nn.Module; the other fields are the profile options' (docs/contract.md),
    as given, with their defaults; ``name`` labels the case. :meth:`validated` makes the
    Plan.""", _ProfileRequest)

Plan = _plan_class(
    "Plan", "stat", ("spec", "module", "options", "channels", "size", "host"),
    """One case, parsed and validated: what to build (``spec`` with resolved ``options``, or
    the caller's ``module``), the input (``channels``, ``size`` as (H, W), ``batch``), and
    how to count and time it (the profile options, checked). A host run keeps the options as
    given (``host`` is a HostSpec); they are resolved per slot when the network is built.""",
    _Plan)


def make_plan(r: Any) -> Any:
    """Parse and check every field of ``r`` once; resolve the block and its options."""
    if isinstance(r, _Plan):
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
    _check_elements(r.batch, channels, size)
    values = _checked(r, "stat")
    if values["cuda_graph"] and values["mode"] == "train":
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
        options = resolved_options(spec, channels, size, options)
    return Plan(**{**values, "spec": spec, "module": module, "options": options,
                   "channels": channels, "size": size, "host": host})


# -- a whole network: attnprof model, attnprof.model ---------------------------------------

class _NetworkRequest:
    def validated(self) -> NetworkPlan:
        return make_network_plan(self)


class _NetworkPlan:
    network: str

    @property
    def label(self) -> str:
        return self.network

    def validated(self) -> NetworkPlan:
        return self  # type: ignore[return-value]


NetworkRequest = _request_class(
    "NetworkRequest", "model", "network",
    """What was asked of ``model``: a network by name (``timm:NAME``, ``torchvision:NAME``,
    one of attnprof's hosts, ``package.module:Name``), optionally with ``block`` put in its
    attention slots, ``match`` patterns naming more modules as attention, and how to count
    and time it (``model``'s options, docs/contract.md). :meth:`validated` makes the plan.""",
    _NetworkRequest)

NetworkPlan = _plan_class(
    "NetworkPlan", "model", ("network", "spec", "host", "options", "match", "size"),
    """A network request parsed and checked once. ``spec`` and ``host``: the block to put in
    the slots and the network as a host (with ``block``); its options are resolved per slot
    when the network is built. ``size``: (H, W), or None for the network's own.""",
    _NetworkPlan)


def make_network_plan(r: Any) -> Any:
    """Parse and check every field of ``r`` once (errors: :class:`BadInput`, exit 2)."""
    if isinstance(r, _NetworkPlan):
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
        _check_elements(r.batch, r.channels or 3, size)
    if parse_device(r.device) == "meta":
        raise BadInput("--device meta is for counting only; attnprof counts on meta by itself")
    values = _checked(r, "model")
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
    return NetworkPlan(**{**values, "network": name, "spec": spec, "host": host,
                          "options": options, "match": patterns, "size": size,
                          "time_cap_s": max(values["time_cap_s"], values["budget_s"])})


def _check_network_name(name: str) -> None:
    """A network ``model`` can build without a block: a zoo name, attnprof's host, or
    ``package.module:Name`` (checked when imported, at build)."""
    from attnprof.zoo import zoo_source

    if zoo_source(name) is not None or ":" in name:
        return
    from attnprof.hosts import HOSTS, resolve_host

    if name.lower() not in HOSTS:
        resolve_host(name)  # raises BadInput with the choices

