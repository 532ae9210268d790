"""Building a ``timm:KEY`` block: :class:`TimmBlock`, the factory a spec holds, calls timm's
``get_attn(key)`` with the options given (layer names turned into timm's layers), and tells
timm's own failures (:class:`TimmError`) from bad input. Imports timm, and torch, only when
a block is loaded or built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from attnprof.contain import first_line
from attnprof.errors import BadInput
from attnprof.zoo.timm_source import NOT_LITERAL, entries

# The constructor parameters that take a timm layer, given by its name (``act_layer=silu``).
LAYER_OPTIONS = ("act_layer", "gate_layer", "norm_layer")


class TimmError(Exception):
    """timm's constructor or get_attn raised (a bug or a constraint inside timm)."""


class TimmBlock:
    """The factory of ``timm:KEY``: ``TimmBlock('se')(channels, **options)``."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"TimmBlock({self.key!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimmBlock) and other.key == self.key

    def __hash__(self) -> int:
        return hash(("TimmBlock", self.key))

    def load(self):
        """timm's ``get_attn(key)``: a class or a ``functools.partial`` of one."""
        from attnprof.zoo import _imports

        _imports.timm(f"block 'timm:{self.key}'")
        from timm.layers import get_attn

        try:
            return get_attn(self.key)
        except Exception as exc:
            raise BadInput(f"timm's get_attn('{self.key}') failed: {_describe(exc)}") from None

    def probes(self, options: dict[str, Any]) -> dict[str, list[Any]]:
        """Other values to build each option with, to find those timm's constructor ignores
        (:func:`attnprof.building.unused_options`): a value given other than timm's default
        is tried at the default (the block without it); a number at its default is tried at
        three or four other values, far and near (a flag at its opposite), so an option
        counts as unused only when none changes the block at the case's channels. Layer
        names and None are not probed."""
        entry = entries().get(self.key)
        declared = {p.name: p for p in (entry.params or ())} if entry else {}
        out: dict[str, list[Any]] = {}
        for name, value in options.items():
            p = declared.get(name)
            default = p.default if p is not None else NOT_LITERAL
            if name in LAYER_OPTIONS or value is None or isinstance(value, str):
                continue
            if default is not NOT_LITERAL and default is not None and value != default:
                out[name] = [default]
            elif isinstance(value, bool):
                out[name] = [not value]
            elif isinstance(value, int):
                out[name] = [4 * value + 3, value + 1, 2 * value + 1]
            elif isinstance(value, float):  # rounded channel counts hide small changes
                out[name] = [value * 4 or 1.0, value / 4 or 0.25, value * 2 or 0.5,
                             value / 2 or 0.125]
        return out

    def __call__(self, channels: int, **options: Any):
        cls = self.load()
        entry = entries().get(self.key)
        declared = {p.name: p for p in (entry.params or ())} if entry else {}
        kwargs: dict[str, Any] = {}
        for name, value in options.items():
            p = declared.get(name)
            if p is not None and p.default is NOT_LITERAL and value == p.default_text:
                continue  # timm's default as its source writes it (nn.ReLU): left to timm
            if name in LAYER_OPTIONS and isinstance(value, str) and (
                    p is None or value != p.default):
                value = timm_layer(name, value)
            kwargs[name] = value
        from timm import __version__

        label = getattr(cls, "func", cls).__name__
        try:
            return cls(channels, **kwargs)
        except Exception as exc:
            raise TimmError(f"timm {__version__}'s {label} (get_attn('{self.key}')) raised "
                            f"{_describe(exc)}") from exc


def timm_layer(name: str, value: str):
    """A timm layer by timm's name (``silu``, ``batchnorm2d``), else a class named as a
    ``module:Name`` block option would be (``nn.SiLU``, ``torch.nn.GELU``, ``pkg.mod:Act``)."""
    from timm.layers import get_act_layer

    try:
        if name == "norm_layer":
            from timm.layers import get_norm_layer

            layer = get_norm_layer(value)
        else:
            layer = get_act_layer(value)
        problem = None
    except Exception as exc:
        layer, problem = None, _describe(exc)
    if layer is None and ("." in value or ":" in value):
        from attnprof.trust import resolve_class

        layer = resolve_class(value)
    if layer is None:
        raise BadInput(f"timm does not know the layer {name}={value!r}"
                       + (f": {problem}" if problem else "")
                       + " (give timm's name, e.g. silu, or a class: nn.SiLU)")
    return layer


def _describe(exc: BaseException) -> str:
    """``Type: message``; an assertion without a message shows the asserting source line."""
    text = first_line(exc)
    if not text and isinstance(exc, AssertionError):
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        if frames and frames[-1].line:
            text = f"{frames[-1].line.strip()} is false (in {Path(frames[-1].filename).name})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
