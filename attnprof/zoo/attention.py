"""Which modules of a network are attention: found by type (attnprof's registered blocks,
timm's attention zoo, torchvision's ``SqueezeExcitation``), self-attention over tokens (torch's
``nn.MultiheadAttention``, timm's and torchvision's ``*Attention`` classes), and the caller's
fnmatch patterns. Used by ``attnprof model`` (what to measure) and by the zoo's hosts (what
to replace). Only the outermost match counts."""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["attention_types", "token_attention", "find_attention"]


def attention_types(specs: Iterable[Any] = ()) -> dict[type, str]:
    """Classes recognised as attention, with how each is labelled: the classes of ``specs``
    (attnprof's registered blocks, given by the caller: ``REGISTRY.all()``), timm's attention
    zoo and torchvision's SqueezeExcitation. timm's and torchvision's classes are looked up
    only when those are already imported (a network built from them has imported them)."""
    import importlib

    out: dict[type, str] = {}
    for spec in specs:
        try:
            obj = spec.load_factory()
        except Exception:  # a plugin that cannot load is not attnprof's to report here
            continue
        if isinstance(obj, type):
            out.setdefault(obj, f"attnprof:{spec.name}")
    if "timm.layers" in sys.modules:
        from attnprof.zoo.timm_source import entries

        for key, e in sorted(entries().items()):
            try:
                cls = getattr(importlib.import_module(f"timm.layers.{e.module}"), e.cls)
            except (ImportError, AttributeError):
                continue
            out.setdefault(cls, f"timm:{key}")
        for module, cls_name in (("timm.models._efficientnet_blocks", "SqueezeExcite"),
                                 ("timm.layers.squeeze_excite", "SqueezeExciteCl")):
            cls = getattr(sys.modules.get(module), cls_name, None)
            if isinstance(cls, type):
                out.setdefault(cls, f"timm:{cls_name}")
    misc = sys.modules.get("torchvision.ops.misc")
    se = getattr(misc, "SqueezeExcitation", None)
    if isinstance(se, type):
        out.setdefault(se, "torchvision:SqueezeExcitation")
    return out


_TOKEN_SOURCES = ("torch.", "timm.", "torchvision.")


def token_attention(m) -> str | None:
    """The label of a self-attention module over tokens (transformers): torch's
    ``nn.MultiheadAttention``, and timm's and torchvision's classes whose name ends in
    ``Attention`` (timm's ``Attention``, ``WindowAttention``, torchvision's
    ``ShiftedWindowAttention``, ...) or that pool by attention (``AttentionPool2d``)."""
    import re

    cls = type(m)
    module = cls.__module__ or ""
    if not module.startswith(_TOKEN_SOURCES):
        return None
    name = cls.__name__
    if re.search(r"Attention(V\d+)?$", name) or name.startswith("AttentionPool"):
        return f"{module.split('.', 1)[0]}:{name}"
    return None


def find_attention(net, patterns: Iterable[str] = (),
                   types: Mapping[type, str] | None = None,
                   tokens: bool = True) -> list[tuple[str, Any, str]]:
    """(path, module, found_by) of the outermost attention modules, in module order;
    ``tokens``: self-attention over tokens too (:func:`token_attention`)."""
    types = attention_types() if types is None else types
    patterns = list(patterns)
    found: list[tuple[str, Any, str]] = []
    inside: str | None = None
    for path, m in net.named_modules():
        if not path:
            continue
        if inside is not None and path.startswith(inside):
            continue
        label = next((lbl for cls, lbl in types.items() if type(m) is cls), None)
        if label is None:
            label = next((lbl for cls, lbl in types.items() if isinstance(m, cls)), None)
        if label is None and tokens:
            label = token_attention(m)
        if label is None:
            name = type(m).__name__
            qual = f"{type(m).__module__}.{name}"
            label = next((f"match:{p}" for p in patterns
                          if fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(name, p)
                          or fnmatch.fnmatchcase(qual, p)), None)
        if label is not None:
            found.append((path, m, label))
            inside = path + "."
    return found
