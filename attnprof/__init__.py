"""attnprof: what a CNN attention block really costs.

Importing attnprof does not import torch; the functions below do, when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attnprof._version import __version__

if TYPE_CHECKING:
    from torch import nn

    from attnprof.registry import BlockSpec
    from attnprof.results import Profile

__all__ = ["__version__", "create_block", "profile", "list_blocks", "get_block",
           "register_block", "BlockSpec", "Option", "Paper", "Profile", "AttnprofError",
           "BadInput", "BadOption", "UnknownBlock", "DeviceUnavailable"]


def create_block(name: str, channels: int, **options: Any) -> nn.Module:
    """Build a registered block (or ``package.module:Name``) with validated options."""
    from attnprof.building import build
    from attnprof.registry import REGISTRY

    spec = REGISTRY.get(name)
    return build(spec, channels, spec.resolve_options(channels, options), seed=None)


def profile(block: Any, channels: int | None = None,
            size: int | str | tuple[int, int] | None = None, batch: int = 1,
            options: dict[str, Any] | None = None, **kwargs: Any) -> Profile:
    """Profile a block given by name, ``module:Name`` or as an ``nn.Module`` instance.

    ``kwargs`` are the other fields of :class:`attnprof.request.ProfileRequest` (device,
    dtype, mode, backends, latency, ops, threads, budget_s, host, ...). Channels default to
    64 (3 with a host, or the module's own), size to 56 (224 with a host). Returns a
    :class:`Profile`: headline figures as attributes (``flops``, ``macs``, ``params``,
    ``latency_ms``), ``to_dict()`` for the JSON document the CLI prints, ``to_frame()``.
    """
    from attnprof.request import ProfileRequest
    from attnprof.runner import profile as run

    if channels is None and not isinstance(block, str) and not kwargs.get("host"):
        channels = _infer_channels(block)
    return run(ProfileRequest(block=block, channels=channels, size=size, batch=batch,
                              options=options or {}, **kwargs))


def _infer_channels(module: Any) -> int:
    for p in module.parameters():
        if p.dim() >= 2:
            return int(p.shape[1])
    return 64


def list_blocks() -> list[BlockSpec]:
    """Every registered block, plugins included, sorted by name."""
    from attnprof.registry import REGISTRY

    return REGISTRY.all()


def get_block(name: str) -> BlockSpec:
    from attnprof.registry import REGISTRY

    return REGISTRY.get(name)


def __getattr__(name: str) -> Any:
    if name in ("register_block", "BlockSpec", "Paper"):
        from attnprof import registry

        return getattr(registry, name)
    if name == "Profile":
        from attnprof.results import Profile

        return Profile
    if name in ("AttnprofError", "BadInput", "BadOption", "UnknownBlock", "DeviceUnavailable"):
        from attnprof import errors

        return getattr(errors, name)
    if name == "Option":
        from attnprof.options import Option

        return Option
    raise AttributeError(f"module 'attnprof' has no attribute {name!r}")
