"""Host networks with attention slots: attnprof's own (written to torchvision's architectures,
parameter counts equal to torchvision's) and, with the ``zoo`` extra, timm's and torchvision's
networks by name (``timm:resnet50``, ``torchvision:mobilenet_v3_small``).

Torch-free: ``HOSTS`` holds attnprof's hosts (names, where the slot is, the factory's import
path); :func:`resolve_host` turns any host name into a :class:`HostSpec`, the zoo's names too
(validating them imports timm or torchvision, nothing is built).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from attnprof.errors import BadInput, did_you_mean
from attnprof.spec import HostSpec

RESNET_SLOT = "after the last BN of every {}, before the identity is added"


_BUILTIN = (
    HostSpec("resnet18", "attnprof.hosts.resnet:resnet18", RESNET_SLOT.format("basic block"),
             11_689_512),
    HostSpec("resnet34", "attnprof.hosts.resnet:resnet34", RESNET_SLOT.format("basic block"),
             21_797_672),
    HostSpec("resnet50", "attnprof.hosts.resnet:resnet50", RESNET_SLOT.format("bottleneck"),
             25_557_032, notes="v1.5 (torchvision's): the stride is on the 3x3 conv"),
    HostSpec("resnet50_v1", "attnprof.hosts.resnet:resnet50_v1", RESNET_SLOT.format("bottleneck"),
             25_557_032, notes="v1 (the original, as the SE, CBAM, BAM and ECA papers counted "
             "it): the stride is on the first 1x1 conv; 3.86 G MACs at 224 where v1.5 has 4.09 G"),
    HostSpec("resnet101", "attnprof.hosts.resnet:resnet101", RESNET_SLOT.format("bottleneck"),
             44_549_160),
    HostSpec("mobilenetv2", "attnprof.hosts.mobilenet:mobilenet_v2",
             "in every inverted residual, after the depthwise conv (BN, ReLU6) and before "
             "the linear 1x1 projection, on the expanded channels (as the coordinate "
             "attention paper's code does)", 3_504_872),
)


class _Hosts(Mapping[str, HostSpec]):
    """attnprof's hosts by name; looking up ``timm:NAME`` or ``torchvision:NAME`` resolves it
    (iteration and ``len`` cover attnprof's own hosts only)."""

    def __init__(self, specs: tuple[HostSpec, ...]) -> None:
        self._specs = {s.name: s for s in specs}

    def __getitem__(self, name: str) -> HostSpec:
        if name in self._specs:
            return self._specs[name]
        from attnprof.zoo import zoo_source

        if zoo_source(name) is not None:
            return resolve_host(name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


HOSTS: Mapping[str, HostSpec] = _Hosts(_BUILTIN)


def host_names() -> list[str]:
    """attnprof's own hosts (the zoo's are any ``timm:NAME`` / ``torchvision:NAME``)."""
    return list(HOSTS)


def resolve_host(name: str) -> HostSpec:
    """Any host name -> its :class:`HostSpec`; :class:`BadInput` with the choices otherwise.

    attnprof's hosts are matched case-insensitively; ``timm:NAME`` (timm's ResNet family,
    through its ``attn_layer``) and ``torchvision:NAME`` (its SqueezeExcitation positions, or
    attnprof's slots in its ResNets and MobileNetV2) need the ``zoo`` extra."""
    if not isinstance(name, str) or not name.strip():
        raise BadInput(f"a host is a name: {', '.join(HOSTS)}, timm:NAME or torchvision:NAME")
    text = name.strip()
    from attnprof.zoo import zoo_source

    if zoo_source(text) is not None:
        from attnprof.zoo.networks import host_spec

        return host_spec(text)
    key = text.lower().replace("-", "_")
    if key in HOSTS:
        return HOSTS[key]
    raise BadInput(f"unknown host {name!r}{did_you_mean(key, list(HOSTS))}; choose from "
                   f"{', '.join(HOSTS)}, or a network of timm or torchvision as timm:NAME or "
                   "torchvision:NAME (pip install 'attnprof[zoo]')")
