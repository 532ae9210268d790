"""The block registry: what each block is called, what it takes, and how to build it.

Specs (:mod:`attnprof.spec`) are plain data and their factories are named by import path, so
``list`` and ``show`` read the registry without importing torch. The built-in blocks come
from :mod:`attnprof.blocks.catalog`; third-party packages add blocks through the entry-point
group ``attnprof.blocks`` (loaded once, on first use); any importable class or factory can
also be named directly as ``package.module:Name``.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from types import MappingProxyType
from typing import Any

from attnprof.blocks.catalog import BUILTIN
from attnprof.errors import BadDefinition, UnknownBlock, closest
from attnprof.spec import KINDS, BlockSpec, Option, Paper, check_positive, import_object

# the spec types are re-exported: plugins and user code import them from here
__all__ = ["REGISTRY", "Registry", "register_block", "spec_from_import", "PluginWarning",
           "ENTRY_POINT_GROUP", "BlockSpec", "Paper", "Option", "KINDS", "check_positive",
           "import_object"]

ENTRY_POINT_GROUP = "attnprof.blocks"


class PluginWarning(UserWarning):
    """A plugin in the ``attnprof.blocks`` entry-point group could not be loaded."""


class Registry:
    """Blocks by name and alias. Read through :attr:`specs`, a read-only view."""

    def __init__(self) -> None:
        self._specs: dict[str, BlockSpec] = {}
        self._aliases: dict[str, str] = {}
        self._plugins_loaded = False
        self._builtins_loaded = False
        self.specs: Mapping[str, BlockSpec] = MappingProxyType(self._specs)

    def _ensure_builtins(self) -> None:
        if not self._builtins_loaded:
            self._builtins_loaded = True
            for spec in BUILTIN:
                self.register(spec)

    def register(self, spec: BlockSpec) -> BlockSpec:
        """Add ``spec``; a name or alias that is already taken raises ``BadDefinition`` (a
        ``ValueError``).

        The built-in blocks are registered first, so a clash is reported against the
        newcomer, whenever it registers."""
        self._ensure_builtins()
        for key in (spec.name, *spec.aliases):
            if key in self._specs or key in self._aliases:
                owner = self._aliases.get(key, key)
                raise BadDefinition(f"block name {key!r} is already registered (by "
                                    f"{owner!r})")
            if not isinstance(key, str) or ":" in key or not key:
                raise BadDefinition(f"block name {key!r} is not valid")
        self._specs[spec.name] = spec
        for alias in spec.aliases:
            self._aliases[alias] = spec.name
        return spec

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._specs)

    def all(self) -> list[BlockSpec]:
        self._ensure_loaded()
        return [self._specs[n] for n in sorted(self._specs)]

    def get(self, name: str) -> BlockSpec:
        """Look a block up by name or alias (case-insensitive), or as ``module:Name``."""
        if not isinstance(name, str) or not name.strip():
            raise UnknownBlock("a block name is required; run 'attnprof list' to see them")
        name = name.strip()
        if name.split(":", 1)[0].lower() in ("timm", "torchvision"):  # the zoo extra's names
            from attnprof.zoo import block_spec

            return block_spec(name)
        if ":" in name:
            return spec_from_import(name)
        self._ensure_loaded()
        key = name.lower().replace("-", "_")
        key = self._aliases.get(key, key)
        if key in self._specs:
            return self._specs[key]
        near = closest(key, [*self._specs, *self._aliases], n=6)
        near = list(dict.fromkeys(self._aliases.get(n, n) for n in near))[:3]
        hint = " (did you mean " + " or ".join(repr(n) for n in near) + "?)" if near else ""
        raise UnknownBlock(
            f"unknown block '{name}'{hint}; run 'attnprof list' to see every block, or name "
            "your own as package.module:Name"
        )

    def _ensure_loaded(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        self._ensure_builtins()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = ep.load()
                for spec in _specs_of(loaded):
                    if spec.source == "attnprof":
                        spec = _with_source(spec, ep.value)
                    self.register(spec)
            except Exception as exc:  # a broken plugin must not take attnprof down
                warnings.warn(
                    f"plugin '{ep.name}' ({ep.value}) of group {ENTRY_POINT_GROUP} was not "
                    f"loaded: {type(exc).__name__}: {exc}",
                    PluginWarning,
                    stacklevel=2,
                )


def _specs_of(loaded: Any) -> Iterable[BlockSpec]:
    """An entry point may name a BlockSpec, an iterable of them, or a module that registered
    its blocks with :func:`register_block` on import (then there is nothing more to add)."""
    if isinstance(loaded, BlockSpec):
        return [loaded]
    if inspect.ismodule(loaded):
        return []
    if isinstance(loaded, (list, tuple)):
        if not all(isinstance(s, BlockSpec) for s in loaded):
            raise TypeError("the entry point's list holds something other than BlockSpec")
        return loaded
    if callable(loaded) and getattr(loaded, "__attnprof_spec__", None) is not None:
        return []  # registered by the decorator when its module was imported
    raise TypeError("an attnprof.blocks entry point must name a BlockSpec, a list of them, "
                    "or a module that uses attnprof.register_block")


def _with_source(spec: BlockSpec, source: str) -> BlockSpec:
    from dataclasses import replace

    return replace(spec, source=source)


REGISTRY = Registry()


def register_block(
    name: str,
    *,
    summary: str,
    kind: str,
    aliases: Iterable[str] = (),
    options: Iterable[Option] = (),
    paper: Paper | None = None,
    derive: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None,
    check: Callable[[int, dict[str, Any]], str | None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers an ``nn.Module`` class or factory taking ``channels`` first."""

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        spec = BlockSpec(
            name=name, factory=factory, summary=summary, kind=kind, paper=paper,
            aliases=tuple(aliases), options=tuple(options), derive=derive, check=check,
            source=getattr(factory, "__module__", "plugin"),
        )
        REGISTRY.register(spec)
        factory.__attnprof_spec__ = spec  # type: ignore[attr-defined]
        return factory

    return decorate


#: what a factory's first parameter may be called: the channel count, by any common name
CHANNEL_PARAMETER = re.compile(
    r"^(in_|num_|n_|input_)?(c|ch|chs|chan|chans|channel|channels|dim|planes|features|"
    r"width)$|^(inplanes|inp|nc|in_dim|in_chs)$")
# where no block factory lives: functions defined here are never called
_NOT_BLOCKS = ("torch", "attnprof", "typer", "click", "rich", "numpy", "pandas", "_pytest",
               "pytest", "hypothesis", "setuptools", "pip")


def _stdlib_file(filename: str) -> bool:
    import sysconfig

    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    real = os.path.realpath(filename)
    return real.startswith(stdlib + os.sep) and "site-packages" not in real \
        and "dist-packages" not in real


def _not_callable(path: str, why: str, network: bool = False) -> UnknownBlock:
    if network:
        return UnknownBlock(
            f"{path!r} {why}; attnprof model calls only nn.Module subclasses and network "
            "factories (plain Python functions outside the standard library and torch that "
            "take no arguments)")
    return UnknownBlock(
        f"{path!r} {why}; attnprof calls only nn.Module subclasses and block factories "
        "(plain Python functions outside the standard library and torch whose first "
        "parameter is the channel count, e.g. def make(channels, ...))")


def check_network_callable(obj: Any, path: str) -> None:
    """The same trust rule for ``attnprof model package.module:Name``, which calls ``Name()``:
    an nn.Module subclass, or a plain ``def`` factory outside the standard library, torch and
    attnprof's non-block modules that needs no argument."""
    check_block_callable(obj, path, first_is_channels=False)
    sig = _signature(obj)
    needed = [p.name for p in (sig.parameters.values() if sig else ())
              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                     p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if needed:
        raise _not_callable(path, f"needs {', '.join(needed)}", network=True)


def check_block_callable(obj: Any, path: str,
                         first_is_channels: bool = True) -> inspect.Signature | None:
    """Refuse, before anything is called, what is neither an ``nn.Module`` subclass nor a
    block factory (the trust rule of the README): a factory is a plain ``def`` function (or a
    ``functools.partial`` or classmethod of one) defined outside the standard library, torch
    and attnprof's non-block modules, whose first positional parameter names the channel
    count (:data:`CHANNEL_PARAMETER`). Returns the signature attnprof will call it by."""

    import torch.nn as nn

    target = obj
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.ismethod(target):  # a classmethod of a block: Block.from_config
        owner = target.__self__
        if not (inspect.isclass(owner) and issubclass(owner, nn.Module)):
            raise _not_callable(path, "is a method of an object, not a factory",
                                not first_is_channels)
        target = target.__func__
    if inspect.isclass(target):
        if not issubclass(target, nn.Module):
            raise UnknownBlock(f"{path!r} is a class but not an nn.Module subclass")
        return _signature(obj)
    if not callable(target):
        raise UnknownBlock(f"{path!r} is a {type(obj).__name__}, not an nn.Module class or "
                           "factory")
    if not inspect.isfunction(target):
        raise _not_callable(path, f"is a {type(target).__name__} (built-in, C or callable "
                                  "object)", not first_is_channels)
    module = (getattr(target, "__module__", None) or "").split(".")
    top = module[0]
    if top in getattr(sys, "stdlib_module_names", ()) or top == "builtins" \
            or _stdlib_file(target.__code__.co_filename):
        raise _not_callable(path, "is a function of the standard library",
                            not first_is_channels)
    if top in _NOT_BLOCKS and not (top == "attnprof" and module[1:2] in (["blocks"], ["zoo"])):
        raise _not_callable(path, f"is a function of {top}", not first_is_channels)
    sig = _signature(obj)
    if sig is None:
        raise _not_callable(path, "has no signature attnprof can read", not first_is_channels)
    params = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    if first_is_channels and params and (params[0].kind is params[0].VAR_POSITIONAL
                                         or not CHANNEL_PARAMETER.match(params[0].name)):
        raise _not_callable(path, f"takes '{params[0]}' first, not a channel count")
    return sig


def _signature(obj: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def spec_from_import(path: str) -> BlockSpec:
    """A spec for ``package.module:Name``: options are whatever its signature accepts. Only an
    nn.Module subclass or a block factory is accepted (:func:`check_block_callable`)."""
    obj = import_object(path)
    registered = getattr(obj, "__attnprof_spec__", None)
    if isinstance(registered, BlockSpec):
        return registered
    if not callable(obj):
        raise UnknownBlock(f"{path!r} is a {type(obj).__name__}, not an nn.Module class or factory")
    sig = check_block_callable(obj, path)
    if sig is not None:
        positional = [
            p for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
        if not positional:
            raise UnknownBlock(
                f"{path!r} takes no positional argument; attnprof builds blocks as "
                f"{path.partition(':')[2]}(channels, **options)"
            )
    from attnprof.signature import read_signature

    signature = read_signature(sig, path.partition(":")[0]) if sig is not None else None
    # its own docstring only: inspect.getdoc would inherit nn.Module's
    target = obj
    while isinstance(target, functools.partial):  # a partial's doc is functools' own
        target = target.func
    doc = getattr(target, "__doc__", None)
    doc = inspect.cleandoc(doc) if isinstance(doc, str) else ""
    return BlockSpec(
        name=path, factory=obj, summary=doc.split("\n")[0],
        kind="unknown", source="import", signature=signature,
        example=f"attnprof stat {path} --channels 64 --size 56"
                + "".join(f" -o {p.name}=VALUE" for p in (signature.params if signature else ())
                          if p.required),
    )
