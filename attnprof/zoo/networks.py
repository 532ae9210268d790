"""timm's and torchvision's networks: as hosts with attention slots, and whole for ``model``.

Slots, where the network documents one:

* timm's ResNet family (``timm.models.resnet``: resnet*, seresnet*, ecaresnet*, resnext*,
  ...): the ``attn_layer`` every block builds its attention from
  (``create_model(name, block_args={"attn_layer": ...})``), after the last BN, before the
  residual add. Without the block, ``attn_layer=None``.
* timm's other networks with attention on feature maps (EfficientNet, MobileNetV3, RegNetY,
  GC/ECA/SE variants, ...): every attention module ``attnprof model`` finds there (timm's
  attention classes) that takes a feature map (B, C, H, W) and gives back one of the same
  shape is replaced by the block built for its input channels; without the block, by
  nothing. Token attention (ViT) and attention that stands in for a convolution (selective
  kernel, split attention, lambda/bottleneck/halo layers) are no slots.
* torchvision's networks with ``SqueezeExcitation`` (MobileNetV3, EfficientNet, EfficientNetV2,
  RegNetY): each SqueezeExcitation is replaced by the block; without it, by nothing.
* torchvision's ResNets and MobileNetV2 have no attention; the block goes where attnprof's own
  hosts put it (after the last BN of every residual block; after the depthwise conv of every
  inverted residual), so ``torchvision:resnet50`` and attnprof's ``resnet50`` are the same host.

A ``HostSpec`` names its factory as ``attnprof.zoo.networks:timm.NAME`` (or
``torchvision.NAME``): :data:`timm` and :data:`torchvision` below hand out those factories.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from attnprof.errors import BadInput, did_you_mean
from attnprof.spec import HostSpec
from attnprof.zoo import _imports

Attention = Callable[[int], Any] | None

TIMM_SLOT = ("timm's attn_layer slot of every ResNet block: after the last BN, before the "
             "residual add")
SE_SLOT = "in place of every SqueezeExcitation (torchvision's own SE positions)"
TIMM_FOUND_SLOT = ("in place of every attention module timm built into it on a feature map "
                   "(its own SE, ECA, ... positions)")
RESNET_SLOT = ("after the last BN of every residual block, before the identity is added "
               "(attnprof's slot: torchvision's ResNets have none)")
MOBILENET_SLOT = ("in every inverted residual, after the depthwise conv, before the 1x1 "
                  "projection (attnprof's slot: torchvision's MobileNetV2 has none)")
_SE_FAMILIES = ("mobilenet_v3", "efficientnet", "regnet_y")
# timm's attention that stands in for a convolution (selective kernel, split attention, the
# self-attention layers of its ByobNets): the network's compute, not a gate to swap
CONV_LIKE = frozenset({"timm:sk", "timm:splat", "timm:lambda", "timm:bottleneck", "timm:halo"})
_RESNET_FAMILIES = ("resnet", "resnext", "wide_resnet")


# -- names -----------------------------------------------------------------------------------

def _split(name: str) -> tuple[str, str]:
    source, _, rest = name.strip().partition(":")
    return source.strip().lower(), rest.strip()


def _check_timm_name(model: str, what: str) -> None:
    _imports.timm(what)
    import timm

    if not model:
        raise BadInput(f"{what}: name a timm network after 'timm:' (e.g. timm:resnet50)")
    base = model.split(".", 1)[0]
    if not timm.is_model(base):
        raise BadInput(f"timm has no network '{base}'"
                       f"{did_you_mean(base, timm.list_models(base[:4] + '*'))}; "
                       "see timm.list_models()")


def host_spec(name: str) -> HostSpec:
    """``timm:NAME`` or ``torchvision:NAME`` as a host; :class:`BadInput` when the network has
    no slot attnprof can fill (with what to use instead)."""
    source, model = _split(name)
    what = f"host '{name}'"
    if "." in model:
        raise BadInput(f"{what}: a host is built without pretrained weights; drop the tag "
                       f"'.{model.split('.', 1)[1]}'")
    if source == "timm":
        _check_timm_name(model, what)
        from timm.models import get_arch_name

        slot = TIMM_SLOT if _timm_resnet(model) else (
            f"{TIMM_FOUND_SLOT} ({get_arch_name(model)})")
        return HostSpec(f"timm:{model}", f"attnprof.zoo.networks:timm.{model}", slot,
                        source="timm")
    tv = _imports.torchvision(what)
    names = tv.models.list_models(module=tv.models)
    if model not in names:
        raise BadInput(f"torchvision has no classification network '{model}'"
                       f"{did_you_mean(model, names)}; see torchvision.models.list_models()")
    if model.startswith(_SE_FAMILIES):
        slot = SE_SLOT
    elif model.startswith(_RESNET_FAMILIES):
        slot = RESNET_SLOT
    elif model == "mobilenet_v2":
        slot = MOBILENET_SLOT
    else:
        raise BadInput(
            f"torchvision:{model} has no attention slot attnprof can fill: torchvision hosts "
            "are its networks with SqueezeExcitation (mobilenet_v3_*, efficientnet_*, "
            "regnet_y_*), its ResNets and mobilenet_v2; 'attnprof model torchvision:"
            f"{model}' profiles the attention it has")
    return HostSpec(f"torchvision:{model}", f"attnprof.zoo.networks:torchvision.{model}", slot,
                    source="torchvision")


# -- building hosts ---------------------------------------------------------------------------

class _Family:
    """``timm.resnet50`` -> the host factory of timm's resnet50 (for import paths)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __getattr__(self, model: str) -> Callable[[Attention], Any]:
        if model.startswith("__"):
            raise AttributeError(model)
        return functools.partial(build_host, f"{self.source}:{model}")


timm = _Family("timm")
torchvision = _Family("torchvision")


def build_host(name: str, attention: Attention = None):
    """The network ``name`` with ``attention(channels)`` in every slot (None: no blocks)."""
    source, model = _split(name)
    if source == "timm":
        _imports.timm(f"host '{name}'")
        import timm as timm_

        def attn_layer(channels: int, **_device_dtype: Any):
            return attention(channels)

        if _timm_resnet(model):
            return timm_.create_model(model, pretrained=False, block_args={
                "attn_layer": attn_layer if attention is not None else None})
        net = timm_.create_model(model, pretrained=False)
        fill_found_slots(net, attention, name)
        return net
    tv = _imports.torchvision(f"host '{name}'")
    net = tv.models.get_model(model, weights=None)
    fill_torchvision_slots(net, attention, name)
    return net


def _timm_resnet(model: str) -> bool:
    """Whether timm builds ``model`` in timm.models.resnet (the ``attn_layer`` slot)."""
    from timm.models._registry import model_entrypoint

    return model_entrypoint(model.split(".", 1)[0]).__module__ == "timm.models.resnet"


def fill_found_slots(net, attention: Attention, name: str = "the network") -> int:
    """Put ``attention`` in place of every attention module the network already has on a
    feature map (found as ``attnprof model`` finds them, and fed a 4-D input in a forward at
    the network's own input size on the meta device), built for that module's input
    channels; without a block, nothing takes their place. Returns how many."""
    from torch import nn

    slots = _found_slots(name, net)
    if not slots:
        raise BadInput(f"{name} has no attention module on a feature map for attnprof to "
                       "replace (none of timm's or torchvision's attention classes that gate a "
                       "feature map: token attention and attention in place of a convolution "
                       "are no slots); 'attnprof model' shows what it has")
    for path, channels in slots:
        _replace(net, path, attention(channels) if attention is not None else nn.Identity())
    return len(slots)


_SLOTS: dict[str, tuple[tuple[str, int], ...]] = {}


def _found_slots(name: str, net) -> tuple[tuple[str, int], ...]:
    """(path, input channels) of the network's slots, found once per network name (a host is
    built twice: with the block and without it)."""
    if name not in _SLOTS:
        from attnprof.zoo.attention import find_attention

        found = [path for path, _m, label in find_attention(net, tokens=False)
                 if label not in CONV_LIKE]
        # a slot takes a feature map and gives back one of the same shape (a gate); timm's
        # selective kernel, say, is a convolution with attention inside: no slot
        _SLOTS[name] = tuple((path, ins[1]) for path, (ins, outs)
                             in module_shapes(net, found).items()
                             if len(ins) == 4 and ins == outs)
    return _SLOTS[name]


def module_shapes(net, paths: list[str]) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """(input shape, output shape) of each module at ``paths`` that takes and returns a
    tensor, in one forward of ``net`` at its default input (timm's ``input_size``, else
    3x224x224), batch 1, on the meta device (on a meta copy: nothing is allocated or run for
    real); the module's first call, in module order."""
    import torch

    from attnprof.counters.own import meta_copy

    twin = meta_copy(net).eval()
    shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def recorder(path: str):
        def hook(_module, args, out) -> None:
            if args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
                shapes.setdefault(path, (tuple(args[0].shape), tuple(out.shape)))
        return hook

    handles = [twin.get_submodule(p).register_forward_hook(recorder(p)) for p in paths]
    cfg = getattr(net, "pretrained_cfg", None) or {}
    size = tuple(cfg.get("input_size") or (3, 224, 224))
    try:
        with torch.no_grad():
            twin(torch.empty((1, *size), device="meta"))
    finally:
        for h in handles:
            h.remove()
    return shapes


def _replace(root, path: str, new) -> None:
    parent_path, _, leaf = path.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    setattr(parent, leaf, new)


def fill_torchvision_slots(net, attention: Attention, name: str = "the network") -> int:
    """Put ``attention`` into a torchvision network's slots, in place; return how many."""
    from torch import nn
    from torchvision.models.mobilenetv2 import InvertedResidual
    from torchvision.models.resnet import BasicBlock, Bottleneck
    from torchvision.ops.misc import SqueezeExcitation

    modules = list(net.named_modules())
    ses = [(p, m) for p, m in modules if isinstance(m, SqueezeExcitation)]
    if ses:
        for path, se in ses:
            _replace(net, path, attention(se.fc1.in_channels) if attention else nn.Identity())
        return len(ses)
    if attention is None:
        return 0
    filled = 0
    for _path, m in modules:
        if isinstance(m, Bottleneck):
            m.bn3 = nn.Sequential(m.bn3, attention(m.bn3.num_features))
        elif isinstance(m, BasicBlock):
            m.bn2 = nn.Sequential(m.bn2, attention(m.bn2.num_features))
        elif isinstance(m, InvertedResidual):
            layers = list(m.conv)
            dw = next(i for i, layer in enumerate(layers) if _is_depthwise(layer))
            hidden = _conv_of(layers[dw]).out_channels
            m.conv = nn.Sequential(*layers[:dw + 1], attention(hidden), *layers[dw + 1:])
        else:
            continue
        filled += 1
    if not filled:
        raise BadInput(f"{name} has no slot attnprof can fill")
    return filled


def _conv_of(layer):
    from torch import nn

    if isinstance(layer, nn.Conv2d):
        return layer
    return next((m for m in layer.modules() if isinstance(m, nn.Conv2d)), None)


def _is_depthwise(layer) -> bool:
    conv = _conv_of(layer)
    return conv is not None and conv.groups > 1 and conv.groups == conv.in_channels


# -- whole networks for `model` -------------------------------------------------------------

def load_network(name: str):
    """``timm:NAME`` (any timm network; a tag is ignored, no weights are loaded) or
    ``torchvision:NAME`` (any of ``torchvision.models.list_models()``), built on the current
    default device; returns the module and its input size (C, H, W) when the zoo says it."""
    source, model = _split(name)
    if source == "timm":
        _check_timm_name(model, f"network '{name}'")
        import timm as timm_

        try:
            net = timm_.create_model(model, pretrained=False)
        except Exception as exc:
            raise BadInput(f"timm.create_model('{model}') failed: {type(exc).__name__}: "
                           f"{exc}") from None
        size = getattr(net, "pretrained_cfg", {}).get("input_size")
        return net, tuple(size) if size else None
    tv = _imports.torchvision(f"network '{name}'")
    names = tv.models.list_models()
    if model not in names:
        raise BadInput(f"torchvision has no network '{model}'{did_you_mean(model, names)}; "
                       "see torchvision.models.list_models()")
    try:
        net = tv.models.get_model(model, weights=None)
    except Exception as exc:
        raise BadInput(f"torchvision.models.get_model('{model}') failed: "
                       f"{type(exc).__name__}: {exc}") from None
    return net, None
