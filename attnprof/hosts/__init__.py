"""Host networks with an attention slot, written to torchvision's architectures (torchvision
itself cannot be installed beside the CPU torch here). Parameter counts equal torchvision's.

``HOSTS`` is torch-free: names, where the slot is, and the factory's import path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostSpec:
    name: str
    factory: str
    slot: str
    params: int  # torchvision's parameter count (for docs; tests check it)


HOSTS = {
    h.name: h for h in (
        HostSpec("resnet18", "attnprof.hosts.resnet:resnet18",
                 "after the last BN of every basic block, before the identity is added",
                 11_689_512),
        HostSpec("resnet34", "attnprof.hosts.resnet:resnet34",
                 "after the last BN of every basic block, before the identity is added",
                 21_797_672),
        HostSpec("resnet50", "attnprof.hosts.resnet:resnet50",
                 "after the last BN of every bottleneck, before the identity is added",
                 25_557_032),
        HostSpec("resnet101", "attnprof.hosts.resnet:resnet101",
                 "after the last BN of every bottleneck, before the identity is added",
                 44_549_160),
        HostSpec("mobilenetv2", "attnprof.hosts.mobilenet:mobilenet_v2",
                 "in every inverted residual, after the depthwise conv (BN, ReLU6) and before "
                 "the linear 1x1 projection, on the expanded channels (as the coordinate "
                 "attention paper's code does)", 3_504_872),
    )
}
