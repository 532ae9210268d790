"""attnprof: what a CNN attention block really costs.

Importing attnprof does not import torch; the functions below do, when called.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from attnprof._version import __version__

if TYPE_CHECKING:
    from torch import nn

    from attnprof.registry import BlockSpec
    from attnprof.results import NetworkProfile, Profile

__all__ = ["__version__", "create_block", "profile", "model", "list_blocks", "get_block",
           "register_block", "BlockSpec", "Option", "Paper", "Profile", "NetworkProfile",
           "AttnprofError", "BadInput", "BadOption", "BadDocument", "UnknownBlock",
           "DeviceUnavailable", "CountFailed", "compare", "sweep", "run", "check", "Results",
           "SuiteResults", "CheckResult"]


def create_block(name: str, channels: int, **options: Any) -> nn.Module:
    """Build a registered block (or ``package.module:Name``) with validated options.

    Raises :class:`UnknownBlock` for a name that is neither registered nor importable,
    :class:`BadOption` for an option the block does not take or a value out of range,
    :class:`BadInput` for a channel count that is not a positive integer or a block that
    fails to build. Holds the profiling lock (:mod:`attnprof.serial`) while it builds."""
    from attnprof.building import build
    from attnprof.registry import REGISTRY
    from attnprof.request import check_dim
    from attnprof.serial import PROFILING

    spec = REGISTRY.get(_block_name(name))
    check_dim("channels", channels)
    with PROFILING:
        return build(spec, channels, spec.resolve_options(channels, options), seed=None)


def profile(block: Any, channels: int | None = None,
            size: int | str | tuple[int, int] | None = None, batch: int = 1,
            options: dict[str, Any] | None = None, **kwargs: Any) -> Profile:
    """Profile a block given by name, ``module:Name`` or as an ``nn.Module`` instance.

    Raises attnprof's own errors only: :class:`UnknownBlock` (no such block),
    :class:`BadOption` (an option the block does not take, or a value it cannot),
    :class:`BadInput` (any other malformed argument, including a keyword that is not a
    profile option, or a block that fails to build or run), :class:`DeviceUnavailable`,
    and :class:`CountFailed` when attnprof's own counter (the source of ``flops``,
    ``macs`` and ``bytes``) fails on the block: the headline is never silently ``None``.
    Other backends' failures stay status rows in ``counters``. Thread-safe: calls from
    several threads are serialised by a process-wide lock (:mod:`attnprof.serial`), so each
    gives what it gives alone.

    ``kwargs`` are the other fields of :class:`attnprof.request.ProfileRequest` (device,
    dtype, mode, backends, latency, ops, threads, budget_s, host, ...). Channels default to
    64 (3 with a host); for an nn.Module they are read from the module only when its
    parameters settle the count, else BadInput asks for ``channels=``. Size defaults to 56
    (224 with a host). Returns a
    :class:`Profile`: headline figures as attributes (``flops``, ``macs``, ``params``,
    ``latency_ms``), ``to_dict()`` for the JSON document the CLI prints, ``to_frame()``.
    """
    from attnprof.runner import profile as run
    from attnprof.serial import PROFILING

    with PROFILING:
        found = run(_request(block, channels, size, batch, options, kwargs))
    require_own_count(found)
    return found


def require_own_count(p: Profile) -> None:
    """Raise :class:`CountFailed` when attnprof's own counter was asked for and failed."""
    own = p.counters.get("attnprof")
    if own is not None and not own.ok:
        from attnprof.errors import CountFailed

        raise CountFailed(f"attnprof's own counter failed on block '{p.label}': "
                          f"{own.error or own.status}; its MACs, FLOPs and bytes cannot be "
                          "given (the other backends' rows are in the CLI's stat)")


def _block_name(name: Any) -> str:
    from attnprof.errors import UnknownBlock

    if not isinstance(name, str):
        raise UnknownBlock(f"a block name must be a string (a registered name or "
                           f"package.module:Name), got {type(name).__name__}")
    return name


def _request(block: Any, channels: Any, size: Any, batch: Any, options: Any,
             kwargs: dict[str, Any]) -> Any:
    """The ProfileRequest for the library's arguments, their kinds checked first so that a
    wrong one is attnprof's error, never a TypeError from deep inside."""
    from attnprof.errors import BadInput, BadOption, did_you_mean
    from attnprof.profile_options import library_keywords
    from attnprof.request import ProfileRequest
    from attnprof.spec import BlockSpec

    # the profile options' records, and the request's own fields outside them
    known = {**library_keywords(), "ops": "bool", "verbose": "bool", "name": "text"}
    for key in kwargs:
        if key not in known:
            raise BadInput(f"profile() takes no argument {key!r}{did_you_mean(key, known)}; "
                           f"its profile options: {', '.join(sorted(known))}")
    for key, kind in known.items():
        value = kwargs.get(key)
        if kind == "bool" and key in kwargs and not isinstance(value, bool):
            raise BadInput(f"{key} must be True or False, got {value!r}")
        if kind == "text" and value is not None and not isinstance(value, str):
            raise BadInput(f"{key} must be a string, got {value!r}")
    backends = kwargs.get("backends")
    if backends is not None and not isinstance(backends, str) and (
            not isinstance(backends, (list, tuple, set, frozenset))
            or not all(isinstance(b, str) for b in backends)):
        raise BadInput(f"backends must be 'all', a comma-separated string or a list of "
                       f"backend names, got {backends!r}")
    if options is not None and (not hasattr(options, "items")
                                or not all(isinstance(k, str) for k in options)):
        raise BadOption(f"options must be a mapping of option names to values (e.g. "
                        f"{{'ratio': 8}}), got {type(options).__name__}")
    if isinstance(block, str):
        pass
    elif isinstance(block, BlockSpec):
        pass
    elif not _is_module(block):
        raise BadInput(f"block must be a name, package.module:Name, a BlockSpec or an "
                       f"nn.Module instance, got {type(block).__name__}")
    elif channels is None and not kwargs.get("host"):
        channels = _infer_channels(block)
    return ProfileRequest(block=block, channels=channels, size=size, batch=batch,
                          options=dict(options or {}), **kwargs)


def _is_module(obj: Any) -> bool:
    from torch import nn

    return isinstance(obj, nn.Module)


def model(network: str, *, block: str | None = None, options: dict[str, Any] | None = None,
          match: tuple[str, ...] | list[str] = (), size: int | str | tuple[int, int] | None = None,
          batch: int = 1, **kwargs: Any) -> NetworkProfile:
    """The attention inside a whole network, as ``attnprof model`` reports it.

    ``network``: ``timm:NAME``, ``torchvision:NAME``, one of attnprof's hosts or
    ``package.module:Name``; ``block`` (with ``options``) is put in its attention slots
    first; ``match``: fnmatch patterns naming more modules as attention. ``kwargs`` are the
    other fields of :class:`attnprof.request.NetworkRequest` (channels, device, backends,
    latency, threads, budget_s, time_cap_s, verbose). Returns a
    :class:`attnprof.results.NetworkProfile` (``to_dict()`` is the CLI's JSON document).

    Raises attnprof's own errors only: :class:`UnknownBlock` (no such block),
    :class:`BadOption`, :class:`BadInput` (any other malformed argument, a keyword that is no
    model option, a network that fails to build or run), :class:`DeviceUnavailable`, and
    :class:`CountFailed` when attnprof's own count of the network fails. Thread-safe: holds
    the process-wide profiling lock (:mod:`attnprof.serial`)."""
    from dataclasses import fields

    from attnprof.errors import BadInput, did_you_mean
    from attnprof.network import profile_network
    from attnprof.request import NetworkRequest
    from attnprof.serial import PROFILING

    known = {f.name for f in fields(NetworkRequest)} - {"network", "block", "options",
                                                        "match", "size", "batch"}
    for key in kwargs:
        if key not in known:
            raise BadInput(f"model() takes no argument {key!r}{did_you_mean(key, known)}; "
                           f"its options: {', '.join(sorted(known))}")
    for key in ("latency", "verbose"):
        if key in kwargs and not isinstance(kwargs[key], bool):
            raise BadInput(f"{key} must be True or False, got {kwargs[key]!r}")
    if not isinstance(network, str):
        raise BadInput(f"network must be a name (timm:NAME, torchvision:NAME, one of "
                       f"attnprof's hosts, package.module:Name), got {type(network).__name__}")
    if block is not None:
        _block_name(block)
    if options is not None and not isinstance(options, dict):
        raise BadInput(f"options must be a dict of option names to values, got {options!r}")
    if isinstance(match, str) or not all(isinstance(m, str) for m in match):
        raise BadInput(f"match must be a list of fnmatch patterns, got {match!r}")
    with PROFILING:
        return profile_network(NetworkRequest(
            network=network, block=block, options=options or {}, match=tuple(match),
            size=size, batch=batch, **kwargs))


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
    """Every registered block, plugins included, sorted by name. Raises nothing (a plugin
    that fails to load is a warning that names it)."""
    from attnprof.registry import REGISTRY

    return REGISTRY.all()


def get_block(name: str) -> BlockSpec:
    """One BlockSpec, by name, alias or ``package.module:Name``; :class:`UnknownBlock`
    when there is no such block."""
    from attnprof.registry import REGISTRY

    return REGISTRY.get(_block_name(name))


def __getattr__(name: str) -> Any:
    if name in ("register_block", "BlockSpec", "Paper"):
        from attnprof import registry

        return getattr(registry, name)
    if name in ("Profile", "NetworkProfile"):
        from attnprof import results

        return getattr(results, name)
    if name in ("AttnprofError", "BadInput", "BadOption", "BadDocument", "UnknownBlock",
                "DeviceUnavailable", "CountFailed"):
        from attnprof import errors

        return getattr(errors, name)
    if name in ("Results", "SuiteResults", "CheckResult"):
        from attnprof import library

        return getattr(library, name)
    if name == "Option":
        from attnprof.options import Option

        return Option
    raise AttributeError(f"module 'attnprof' has no attribute {name!r}")


# -- the library's compare, sweep, run and check ----------------------------------------------

def compare(blocks: Any, *args: Any, **kwargs: Any) -> Any:
    """``attnprof compare`` as a function: see :func:`attnprof.library.compare`."""
    from attnprof.library import compare as run_compare

    return run_compare(blocks, *args, **kwargs)


def sweep(blocks: Any, *args: Any, **kwargs: Any) -> Any:
    """``attnprof sweep`` as a function: see :func:`attnprof.library.sweep`."""
    from attnprof.library import sweep as run_sweep

    return run_sweep(blocks, *args, **kwargs)


def run(suite: Any, **kwargs: Any) -> Any:
    """``attnprof run SUITE.toml`` as a function: see :func:`attnprof.library.run`."""
    from attnprof.library import run as run_suite

    return run_suite(suite, **kwargs)


def check(results: Any, baseline: Any, **kwargs: Any) -> Any:
    """``attnprof check`` as a function: see :func:`attnprof.library.check`."""
    from attnprof.library import check as run_check

    return run_check(results, baseline, **kwargs)


_FUNCTIONS = ("compare", "sweep", "run", "check")


class _Package(types.ModuleType):
    """The ``attnprof`` module itself. ``attnprof.sweep`` and ``attnprof.check`` are also
    submodules; importing one would set the package's attribute to the module and hide the
    function of that name, so the functions keep their names (the submodules stay importable
    as ``from attnprof.check import ...``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FUNCTIONS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


class _Presentation:
    """An import hook, one-shot: when ``attnprof.results`` (the records) has been imported,
    the report layer gives its records their presentation (``repr``, the notebook's HTML,
    ``show``/``report``, ``to_frame``: :mod:`attnprof.report.present`). The records never
    import the report layer, and ``import attnprof`` imports neither."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "attnprof.results":
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            load = spec.loader.exec_module

            def exec_module(module: types.ModuleType) -> None:
                load(module)
                _present()

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _present() -> None:
    from attnprof.report import present

    present.attach()


if "attnprof.results" in sys.modules:  # pragma: no cover - imported before the package
    _present()
else:
    sys.meta_path.insert(0, _Presentation())
