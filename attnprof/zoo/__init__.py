"""timm's and torchvision's zoos in attnprof (the ``zoo`` extra: ``pip install 'attnprof[zoo]'``).

* ``timm:KEY`` names a block of timm's attention zoo (:mod:`attnprof.zoo.timm_blocks`);
* ``timm:NAME`` and ``torchvision:NAME`` name networks: hosts for a block
  (:mod:`attnprof.zoo.networks`) and the subject of ``attnprof model``
  (:mod:`attnprof.model`, the cost of the attention inside a whole network, uses them).

This module is torch-free: names are told apart here, and timm and torchvision are imported
only when something is built (:mod:`attnprof.zoo._imports` says what to install otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attnprof.errors import UnknownBlock

if TYPE_CHECKING:
    from attnprof.spec import BlockSpec

SOURCES = ("timm", "torchvision")


def zoo_source(name: object) -> str | None:
    """'timm' or 'torchvision' for a name with that prefix, else None."""
    if not isinstance(name, str) or ":" not in name:
        return None
    prefix = name.split(":", 1)[0].strip().lower()
    return prefix if prefix in SOURCES else None


def block_spec(name: str) -> BlockSpec:
    """The spec of a zoo block name (``timm:cbam``); :class:`UnknownBlock` otherwise."""
    source = zoo_source(name)
    if source == "timm":
        from attnprof.zoo.timm_blocks import timm_spec

        return timm_spec(name)
    if source == "torchvision":
        raise UnknownBlock(
            f"'{name}': torchvision has no attention blocks by name; its networks go to "
            f"--host {name} or 'attnprof model {name}', and timm's blocks are timm:KEY "
            "(the keys of timm's get_attn: timm:se, timm:eca, timm:cbam, ...)")
    raise UnknownBlock(f"'{name}' is not a timm: or torchvision: name")


def block_specs(source: str = "timm") -> list[BlockSpec]:
    """Every block of a zoo, torch-free (``timm``: the keys of timm's ``get_attn``)."""
    if source != "timm":
        return []
    from attnprof.zoo.timm_blocks import timm_specs

    return timm_specs()
