"""The block registry: what each block is called, what it takes, and how to build it.

Specs are plain data and their factories are named by import path, so ``list`` and ``show``
read the registry without importing torch. Third-party packages add blocks through the
entry-point group ``attnprof.blocks`` (loaded once, on first use); any importable class or
factory can also be named directly as ``package.module:Name``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from types import MappingProxyType
from typing import Any

from attnprof.errors import BadInput, BadOption, UnknownBlock, closest, did_you_mean
from attnprof.options import Option, validate_options

KINDS = ("channel", "spatial", "mixed")
ENTRY_POINT_GROUP = "attnprof.blocks"


class PluginWarning(UserWarning):
    """A plugin in the ``attnprof.blocks`` entry-point group could not be loaded."""


@dataclass(frozen=True)
class Paper:
    """Where a block comes from."""

    title: str
    venue: str
    year: int
    url: str | None = None

    def cite(self) -> str:
        return f"{self.title} ({self.venue} {self.year})"


@dataclass(frozen=True)
class BlockSpec:
    """Everything attnprof knows about a block before building it.

    ``factory`` is a callable or an ``"module:attr"`` string taking ``channels`` first and the
    options as keywords. ``derive`` fills options computed from the channel count (ECA's
    kernel); ``check`` returns a message when options clash with the channel count.
    """

    name: str
    factory: str | Callable[..., Any]
    summary: str
    kind: str
    paper: Paper | None = None
    aliases: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    derive: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    check: Callable[[int, dict[str, Any]], str | None] | None = None
    source: str = "attnprof"
    notes: str = ""
    example: str = field(default="")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"block {self.name!r}: kind must be one of {KINDS}")

    def resolve_options(
        self, channels: int, given: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Validate ``given``, fill defaults and derived values; raise :class:`BadOption`."""
        check_positive("channels", channels)
        if self.source == "import":  # no schema: its signature is checked in derive
            opts = dict(given or {})
        else:
            opts = validate_options(self.name, self.options, given or {})
        if self.derive is not None:
            opts = self.derive(channels, opts)
        if self.check is not None:
            problem = self.check(channels, opts)
            if problem:
                raise BadOption(f"block '{self.name}': {problem}")
        return opts

    def load_factory(self) -> Callable[..., Any]:
        if callable(self.factory):
            return self.factory
        return import_object(self.factory)

    def example_command(self) -> str:
        return self.example or f"attnprof stat {self.name} --channels 64 --size 56"


def check_positive(what: str, value: Any) -> int:
    """Raise :class:`BadInput` unless ``value`` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"{what} must be a positive integer, got {value!r}")
    return value


def import_object(path: str) -> Any:
    """Import ``package.module:Name`` (``Name`` may be dotted); raise :class:`UnknownBlock`."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise UnknownBlock(f"{path!r} is not of the form package.module:Name")
    # A console script does not put the working directory on sys.path, yet users expect a
    # block in ./myblocks.py to be found, as `python -m` would.
    cwd_added = "" not in sys.path and os.getcwd() not in sys.path
    if cwd_added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UnknownBlock(f"cannot import module '{module_name}' for block {path!r}: "
                               f"no module named '{exc.name}'") from exc
        raise UnknownBlock(f"importing '{module_name}' for block {path!r} failed: {exc}") from exc
    except Exception as exc:  # the user's module raised while importing
        raise UnknownBlock(
            f"importing '{module_name}' for block {path!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        if cwd_added:
            sys.path.remove(os.getcwd())
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = [n for n in dir(module) if not n.startswith("_")]
            raise UnknownBlock(
                f"module '{module_name}' has no attribute '{attr}'{did_you_mean(attr, names)}"
            ) from None
    return obj


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
            for spec in importlib.import_module("attnprof.blocks.catalog").BUILTIN:
                self.register(spec)

    def register(self, spec: BlockSpec) -> BlockSpec:
        """Add ``spec``; a name or alias that is already taken raises ``ValueError``.

        The built-in blocks are registered first, so a clash is reported against the
        newcomer, whenever it registers."""
        self._ensure_builtins()
        for key in (spec.name, *spec.aliases):
            if key in self._specs or key in self._aliases:
                owner = self._aliases.get(key, key)
                raise ValueError(f"block name {key!r} is already registered (by {owner!r})")
            if ":" in key or not key:
                raise ValueError(f"block name {key!r} is not valid")
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


def spec_from_import(path: str) -> BlockSpec:
    """A spec for ``package.module:Name``: options are whatever its signature accepts."""
    obj = import_object(path)
    registered = getattr(obj, "__attnprof_spec__", None)
    if isinstance(registered, BlockSpec):
        return registered
    if not callable(obj):
        raise UnknownBlock(f"{path!r} is a {type(obj).__name__}, not an nn.Module class or factory")
    import torch.nn as nn

    if inspect.isclass(obj) and not issubclass(obj, nn.Module):
        raise UnknownBlock(f"{path!r} is a class but not an nn.Module subclass")
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        sig = None
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
    return BlockSpec(
        name=path, factory=obj, summary=(inspect.getdoc(obj) or "").split("\n")[0],
        kind="mixed", source="import", check=None, derive=_signature_checker(path, sig),
    )


def _signature_checker(path: str, sig: inspect.Signature | None):
    """Options of an imported block are checked against its signature (there is no schema)."""

    def derive(channels: int, opts: dict[str, Any]) -> dict[str, Any]:
        return opts

    if sig is None:
        return derive
    params = list(sig.parameters.values())[1:]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def check_keys(channels: int, opts: dict[str, Any]) -> dict[str, Any]:
        for key in opts:
            if not takes_any and key not in names:
                raise BadOption(
                    f"block '{path}' has no option '{key}'{did_you_mean(key, names)}; "
                    f"its options: {', '.join(names) or 'none'}"
                )
        return opts

    return check_keys
