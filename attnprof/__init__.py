"""attnprof: what a CNN attention block really costs.

Importing attnprof does not import torch; the functions below do, when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attnprof._version import __version__

if TYPE_CHECKING:
    from torch import nn

    from attnprof.registry import BlockSpec
    from attnprof.results import NetworkProfile, Profile

__all__ = ["__version__", "create_block", "profile", "model", "list_blocks", "get_block",
           "register_block", "BlockSpec", "Option", "Paper", "Profile", "NetworkProfile",
           "AttnprofError", "BadInput", "BadOption", "UnknownBlock", "DeviceUnavailable"]


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
    64 (3 with a host); for an nn.Module they are read from the module only when its
    parameters settle the count, else BadInput asks for ``channels=``. Size defaults to 56
    (224 with a host). Returns a
    :class:`Profile`: headline figures as attributes (``flops``, ``macs``, ``params``,
    ``latency_ms``), ``to_dict()`` for the JSON document the CLI prints, ``to_frame()``.
    """
    from attnprof.request import ProfileRequest
    from attnprof.runner import profile as run

    if channels is None and not isinstance(block, str) and not kwargs.get("host"):
        channels = _infer_channels(block)
    return run(ProfileRequest(block=block, channels=channels, size=size, batch=batch,
                              options=options or {}, **kwargs))


def model(network: str, *, block: str | None = None, options: dict[str, Any] | None = None,
          match: tuple[str, ...] | list[str] = (), size: int | str | tuple[int, int] | None = None,
          batch: int = 1, **kwargs: Any) -> NetworkProfile:
    """The attention inside a whole network, as ``attnprof model`` reports it.

    ``network``: ``timm:NAME``, ``torchvision:NAME``, one of attnprof's hosts or
    ``package.module:Name``; ``block`` (with ``options``) is put in its attention slots
    first; ``match``: fnmatch patterns naming more modules as attention. ``kwargs`` are the
    other fields of :class:`attnprof.request.NetworkRequest` (channels, device, backends,
    latency, threads, budget_s, time_cap_s, verbose). Returns a
    :class:`attnprof.results.NetworkProfile` (``to_dict()`` is the CLI's JSON document);
    raises :class:`AttnprofError` subclasses for bad input."""
    from attnprof.network import profile_network
    from attnprof.request import NetworkRequest

    return profile_network(NetworkRequest(network=network, block=block, options=options or {},
                                          match=tuple(match), size=size, batch=batch,
                                          **kwargs))


def _infer_channels(module: Any) -> int:
    """The input channel count of a user's ``nn.Module``, when the module settles it.

    The rule: every size that one of the module's parameters or buffers has (and an int
    ``channels``/``in_channels``/``num_features``/``in_features`` attribute) is a candidate;
    a candidate C works when a copy of the module, in eval mode, takes a 1 x C x 56 x 56
    input (on the meta device, or on CPU for a block that needs data) and returns a tensor of
    that shape. Exactly one candidate must work, and neither a count that no parameter has
    (97) nor twice the one found may. A module without parameters, or one that runs on
    several counts (ECA's Conv1d(1, 1, k) takes any C), cannot say: then ``channels`` must
    be given, and :class:`~attnprof.errors.BadInput` says so. Never a guess.
    """
    import copy

    import torch

    from attnprof.counters.own import meta_copy, seeded_input, seeded_rngs
    from attnprof.errors import BadInput

    name = type(module).__name__
    sizes: set[int] = set()
    for t in [*module.parameters(), *module.buffers()]:
        sizes.update(int(s) for s in t.shape if int(s) > 0)
    for attr in ("channels", "in_channels", "num_features", "in_features"):
        value = getattr(module, attr, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            sizes.add(value)
    if not sizes:
        raise BadInput(f"cannot tell how many input channels {name} takes: it has no parameters "
                       "or buffers to read them from; pass channels= (e.g. "
                       "attnprof.profile(block, channels=64))")

    def works(c: int, device: str) -> bool:
        shape = (1, c, 56, 56)
        twin = meta_copy(module) if device == "meta" else copy.deepcopy(module).to("cpu")
        twin.eval()
        with torch.no_grad(), seeded_rngs(0):
            out = twin(seeded_input(shape, torch.float32, device))
        return isinstance(out, torch.Tensor) and tuple(out.shape) == shape

    def probe(c: int) -> bool:
        try:
            return works(c, "meta")
        except Exception:  # a block that needs data: try it on a real input
            try:
                return works(c, "cpu")
            except Exception:
                return False

    found: list[int] = []
    for c in sorted(sizes, reverse=True):
        if probe(c):
            found.append(c)
            if len(found) > 1:
                break
    if len(found) == 1:
        # a count that none of its parameters has, and twice the one found: a block that
        # takes either does not fix its channel count (SGE takes any multiple of its groups)
        prime = next(p for p in (97, 101, 103, 107, 109, 113, 127) if p not in sizes)
        for other in (prime, 2 * found[0]):
            if other not in sizes and probe(other):
                raise BadInput(f"cannot tell how many input channels {name} takes: it runs on "
                               f"{found[0]} and on {other} channels alike; pass channels= "
                               "(e.g. attnprof.profile(block, channels=64))")
    if len(found) == 1:
        return found[0]
    tried = ", ".join(str(c) for c in sorted(sizes))
    if not found:
        raise BadInput(f"cannot tell how many input channels {name} takes: it runs on none of "
                       f"the sizes its parameters have ({tried}) at 1xCx56x56; pass channels= "
                       "(and size= if it needs another size)")
    raise BadInput(f"cannot tell how many input channels {name} takes: it runs on "
                   f"{found[1]} and on {found[0]} (sizes from its parameters); pass channels= "
                   "(e.g. attnprof.profile(block, channels=64))")


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
    if name in ("Profile", "NetworkProfile"):
        from attnprof import results

        return getattr(results, name)
    if name in ("AttnprofError", "BadInput", "BadOption", "UnknownBlock", "DeviceUnavailable"):
        from attnprof import errors

        return getattr(errors, name)
    if name == "Option":
        from attnprof.options import Option

        return Option
    raise AttributeError(f"module 'attnprof' has no attribute {name!r}")
