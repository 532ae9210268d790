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
    from attnprof.serial import PROFILING
    from attnprof.values import check_dim

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
    from attnprof.arguments import _request, require_own_count
    from attnprof.runner import profile as run
    from attnprof.serial import PROFILING

    with PROFILING:
        found = run(_request(block, channels, size, batch, options, kwargs))
    require_own_count(found)
    return found


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
    from attnprof.arguments import check_keywords
    from attnprof.errors import BadInput
    from attnprof.network import profile_network
    from attnprof.request import NetworkRequest
    from attnprof.serial import PROFILING

    check_keywords("model", kwargs, "model", ("block", "options", "match", "size", "batch"))
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


def _block_name(name: Any) -> str:
    from attnprof.arguments import _block_name as check

    return check(name)
