"""Building what is profiled: a registered block with validated options, or a host network
with the block in every slot (and the same network without it)."""

from __future__ import annotations

import copy
from typing import Any

from attnprof.errors import BadInput
from attnprof.registry import REGISTRY, BlockSpec
from attnprof.request import ProfileRequest


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


def build_host(spec: BlockSpec,
               request: ProfileRequest) -> tuple[Any, Any, dict[int, dict], int]:
    """The host network with the block in every slot, the same network without it, the
    block's resolved options per channel count (validated for each), and how many slots
    the network filled."""
    import torch

    from attnprof.errors import BadOption
    from attnprof.hosts import HOSTS
    from attnprof.registry import import_object

    make = import_object(HOSTS[request.host].factory)
    factory = spec.load_factory()
    per_channels: dict[int, dict[str, Any]] = {}
    slots = 0

    def attention(channels: int):
        nonlocal slots
        slots += 1
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
    return network, base, per_channels, slots


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

        network, base, per_channels, slots = build_host(spec, request)
        first = next(iter(per_channels.values()), {})
        info["options"] = first
        host = {"name": request.host, "slot": HOSTS[request.host].slot,
                "blocks": slots,
                "block_channels": sorted(per_channels),
                "block_options": {str(c): o for c, o in sorted(per_channels.items())}}
        return info, network, base, host
    options = spec.resolve_options(request.channels, request.options)
    info["options"] = options
    return info, build(spec, request.channels, options), None, None


