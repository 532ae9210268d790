"""The trust rule for classes and functions an option names (``-o norm_layer=BatchNorm2d``).

A value given by name is looked up (:func:`resolve_class`) and passed to the block's
constructor only when it comes from torch, timm, torchvision, the block's own package or the
module the value itself names (``package.module:Name``, a dotted path): never a builtin, a C
function (outside torch) or anything of the standard library, wherever it was found. So
``from os import system`` in the block's module does not let ``-o norm_layer=system`` hand
``os.system`` to the constructor, and ``os.system`` or ``os:system`` are refused without
importing anything. Standard library only until a name has to be looked up in torch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from attnprof.errors import BadOption

__all__ = ["TRUSTED_PACKAGES", "TRUST_RULE", "untrusted", "resolve_class"]

_MISSING = object()


def _qualified(obj: Any) -> str:
    """``torch.nn.BatchNorm2d``, ``torch.sigmoid``, ``mymod.MyNorm``: the shortest public
    module path that holds ``obj`` under its name."""
    import sys

    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__name__", None) or repr(obj)
    parts = module.split(".")
    for cut in range(1, len(parts) + 1):
        holder = sys.modules.get(".".join(parts[:cut]))
        if holder is not None and getattr(holder, name, None) is obj:
            return f"{'.'.join(parts[:cut])}.{name}"
    qualname = getattr(obj, "__qualname__", None) or name
    return f"{module}.{qualname}" if module not in ("builtins", "") else qualname


#: packages whose classes and functions an option may name wherever they are found
TRUSTED_PACKAGES = ("torch", "timm", "torchvision")

TRUST_RULE = ("attnprof passes a class or function found by name only from torch, timm, "
              "torchvision, the block's own package or a module you name "
              "(package.module:Name), never a builtin, a C function or the standard library")


def _origin(obj: Any) -> str:
    """The module that defines ``obj`` (for a C function without one, its owner's name)."""
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and module:
        return module
    owner = getattr(obj, "__self__", None)
    if inspect.ismodule(owner):
        return owner.__name__
    if owner is not None:
        return getattr(type(owner), "__module__", "") or ""
    return ""


def untrusted(obj: Any, trusted: frozenset[str] | set[str]) -> str | None:
    """Why ``obj`` may not be passed to a block as an option found by name (None: it may).
    ``trusted`` holds the top-level packages trusted besides torch, timm and torchvision:
    the block's own, and those the user named."""
    import functools
    import sys

    while isinstance(obj, functools.partial):  # a partial is what it calls
        obj = obj.func
    origin = _origin(obj)
    top = origin.split(".")[0]
    if top in TRUSTED_PACKAGES:
        return None
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__builtin__"}
    if not origin or top in stdlib or top.lstrip("_") in stdlib:
        return f"{_qualified(obj)}, from Python's standard library or its builtins"
    if inspect.isbuiltin(obj) or type(obj).__name__ in ("method-wrapper", "method_descriptor",
                                                        "wrapper_descriptor"):
        return f"{_qualified(obj)}, a C function of {origin}"
    if top not in trusted:
        return f"{_qualified(obj)}, from {origin} (neither the block's package nor one named)"
    return None


def _stdlib_top(name: str) -> bool:
    import sys

    return name.split(".")[0] in set(getattr(sys, "stdlib_module_names", ())) | {"builtins"}


def resolve_class(name: str, module: str | None = None,
                  where: str = "a class or function option") -> Callable[..., Any] | None:
    """A class or function by name: ``package.module:Name``, a dotted path
    (``torch.nn.BatchNorm2d``, ``nn.ReLU``), or a bare name looked up in ``module`` (the
    block's own), then ``torch.nn`` and ``torch.nn.functional`` (any letter case: ``relu``
    is ``nn.ReLU``). None when there is no such callable; :class:`BadOption` when there is
    one but the trust rule (:data:`TRUST_RULE`) refuses it, wherever it was found: never a
    builtin, a C function or anything of the standard library; otherwise only from torch,
    timm, torchvision, the block's own package (``module``'s) or the module the name itself
    names. Standard-library modules are never imported to look."""
    import importlib

    trusted = {module.split(".")[0]} if module else set()

    def checked(obj: Any) -> Any:
        why = untrusted(obj, trusted)
        if why is not None:
            raise BadOption(f"{where}: {name!r} is {why}; {TRUST_RULE}")
        return obj

    if ":" in name:
        from attnprof.spec import import_object

        named = name.partition(":")[0]
        if _stdlib_top(named):
            raise BadOption(f"{where}: {name!r} names the standard library; {TRUST_RULE}")
        try:
            obj = import_object(name)
        except Exception:
            return None
        trusted.add(named.split(".")[0])
        return checked(obj) if callable(obj) else None
    parts = name.split(".")
    if len(parts) > 1:
        if parts[0] == "nn":
            parts = ["torch", *parts]
        elif parts[0] == "F":
            parts = ["torch", "nn", "functional", *parts[1:]]
        if _stdlib_top(parts[0]):
            raise BadOption(f"{where}: {name!r} names the standard library; {TRUST_RULE}")
        trusted.add(parts[0])
        for cut in range(len(parts) - 1, 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:cut]))
            except Exception:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr, _MISSING)
                if obj is _MISSING:
                    break
            if obj is not _MISSING and callable(obj):
                return checked(obj)
        return None
    places: list[Any] = []
    if module:
        try:
            places.append(importlib.import_module(module))
        except Exception:
            pass
    import torch.nn
    import torch.nn.functional

    # the block's module, then torch.nn's layers (any letter case: relu is nn.ReLU), then
    # torch.nn.functional's functions
    for place in places:
        obj = _callable_in(place, name, False)
        if obj is not None:
            return checked(obj)
    found = (_callable_in(torch.nn, name, False) or _callable_in(torch.nn, name, True)
             or _callable_in(torch.nn.functional, name, False))
    return checked(found) if found is not None else None


def _callable_in(place: Any, name: str, any_case: bool) -> Any:
    if not any_case:
        obj = getattr(place, name, None)
        return obj if obj is not None and callable(obj) else None
    lowered = name.lower()
    for attr in dir(place):
        if attr.lower() == lowered and not attr.startswith("_"):
            obj = getattr(place, attr)
            if callable(obj):
                return obj
    return None
