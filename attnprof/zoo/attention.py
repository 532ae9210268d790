"""Which modules of a network are attention: found by type (attnprof's registered blocks,
timm's attention zoo, torchvision's ``SqueezeExcitation``) or by the caller's fnmatch patterns
(the outermost match counts), and by what the class's name says (torch's
``nn.MultiheadAttention``, timm's ``Attention``, ``AttentionCl``, ``CrossCovarianceAttn``,
HGNet's ``EseModule``, a user's ``SELayer``: the innermost match counts). Used by ``attnprof
model`` (what to measure) and by the zoo's hosts (what to replace: by type only)."""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["attention_types", "named_attention", "find_attention"]


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


_LIBRARIES = ("torch", "timm", "torchvision")

# What a class's name says: attention of any kind ("Attention", "Attn", "Att" anywhere in
# it: ViT's Attention, MaxViT's AttentionCl, CoaT's FactorAttnConvRelPosEnc, EdgeNeXt's
# CrossCovarianceAttn, GCViT's WindowAttentionGlobal, attention pooling, CoordAtt), or one
# of the attention blocks by its usual name (SE, ESE, ECA, CBAM, SK, GC, squeeze-excite,
# gather-excite, non-local, SimAM, XCiT's XCA, GCNet's ContextBlock: HGNet's EseModule, a
# user's SELayer, ECA-Net's eca_layer).
_NAMED = re.compile(
    r"Attention|Attn|Att(?=[A-Z\d_]|$)|SqueezeExcit|GatherExcite|GlobalContext|NonLocal|"
    r"NONLocal|ContextBlock$|SimAM|"
    r"(?:^|(?<=[a-z]))(?:E?SE|Ese|ECA|Eca|CBAM|Cbam|SK|GC|XCA)(?:Module|Layer|Block|Conv)?"
    r"(?:V\d+|Cl|2d)?$|"
    r"(?i:^(?:e?se|eca|cbam|sk|gc|simam)_(?:layer|module|block))$")


def named_attention(m) -> str | None:
    """The label of a module whose class name says attention (:data:`_NAMED`): torch's
    ``nn.MultiheadAttention``, timm's and torchvision's attention classes, and any other
    class so named (``name:SELayer``). :func:`find_attention` takes such a module only when
    nothing inside it is attention too (a block named ``...AttentionBlock`` that holds an
    ``Attention`` is not itself counted: its MLP and norms are not attention)."""
    cls = type(m)
    name = cls.__name__
    if not _NAMED.search(name):
        return None
    root = (cls.__module__ or "").split(".", 1)[0]
    return f"{root}:{name}" if root in _LIBRARIES else f"name:{name}"


def find_attention(net, patterns: Iterable[str] = (),
                   types: Mapping[type, str] | None = None,
                   tokens: bool = True) -> list[tuple[str, Any, str]]:
    """(path, module, found_by) of the attention modules, in module order. Found by type
    (``types``: attnprof's blocks, timm's attention zoo, torchvision's SqueezeExcitation) or
    by a ``patterns`` match: the outermost such module counts, and what is inside it is
    part of it. With ``tokens``, also by name (:func:`named_attention`): the innermost such
    module counts, one that holds another attention module is looked into instead."""
    types = attention_types() if types is None else types
    patterns = list(patterns)

    def strong(path: str, m) -> str | None:
        label = next((lbl for cls, lbl in types.items() if type(m) is cls), None)
        if label is None:
            label = next((lbl for cls, lbl in types.items() if isinstance(m, cls)), None)
        if label is None:
            name = type(m).__name__
            qual = f"{type(m).__module__}.{name}"
            label = next((f"match:{p}" for p in patterns
                          if fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(name, p)
                          or fnmatch.fnmatchcase(qual, p)), None)
        return label

    def weak(m) -> str | None:
        return named_attention(m) if tokens else None

    def holds_attention(prefix: str, m) -> bool:
        return any(strong(f"{prefix}.{p}", d) or weak(d)
                   for p, d in m.named_modules() if p)

    found: list[tuple[str, Any, str]] = []

    def visit(path: str, m) -> None:
        label = strong(path, m)
        if label is None and (named := weak(m)) is not None \
                and not holds_attention(path, m):
            label = named
        if label is not None:
            found.append((path, m, label))
            return
        for child_name, child in m.named_children():
            visit(f"{path}.{child_name}" if path else child_name, child)

    for child_name, child in net.named_children():
        visit(child_name, child)
    return found
