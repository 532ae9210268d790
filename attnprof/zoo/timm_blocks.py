"""timm's attention zoo as attnprof blocks: ``timm:se``, ``timm:cbam``, ... (``get_attn`` keys).

Torch-free until a block is built. The keys, the class each one builds and the keywords
``get_attn`` fixes (``ecam`` is ``EcaModule(use_mlp=True)``) are read from the installed
timm's own ``get_attn``, and each constructor's options (names, defaults, annotations) from
its signature, both by parsing timm's source with :mod:`ast` rather than importing it: so
``list`` and ``show`` stay fast and torch-free, and ``-o`` is validated before anything runs.
If timm's source cannot be read that way, the signature is taken from the imported class.
Reading the source is :mod:`attnprof.zoo.timm_source`, building a block
:mod:`attnprof.zoo.timm_build`; this module turns each key into a :class:`BlockSpec`.

Options attnprof can give from the command line are the constructor's scalar parameters
(int, float, bool, str, optional or not) and its ``act_layer``, ``gate_layer`` and
``norm_layer`` (as timm's layer names, e.g. ``-o act_layer=silu``); the rest keep timm's
defaults. ``feat_size`` takes one integer (a square feature map, as timm's ``to_2tuple``
reads it) or ``H,W``; float options take fractions (``-o rd_ratio=1/16``), and ``None`` where
timm's default is None.
"""

from __future__ import annotations

import re
from typing import Any

from attnprof.errors import UnknownBlock, did_you_mean
from attnprof.spec import BlockSpec, Option, Paper
from attnprof.zoo.timm_build import LAYER_OPTIONS, TimmBlock, timm_layer
from attnprof.zoo.timm_source import NOT_LITERAL, Param, TimmEntry, entries

PREFIX = "timm:"
_SKIP = {"device", "dtype"}


def _arxiv(title: str, venue: str, year: int, arxiv: str) -> Paper:
    return Paper(title, venue, year, f"https://arxiv.org/abs/{arxiv}")


_SE = _arxiv("Squeeze-and-Excitation Networks", "CVPR", 2018, "1709.01507")
_ECA = _arxiv("ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks",
              "CVPR", 2020, "1910.03151")
_CBAM = _arxiv("CBAM: Convolutional Block Attention Module", "ECCV", 2018, "1807.06521")
_GC = _arxiv("GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond",
             "ICCVW", 2019, "1904.11492")
_NL = _arxiv("Non-local Neural Networks", "CVPR", 2018, "1711.07971")

# What attnprof knows of each key beyond timm's source: kind, a summary, the paper.
KNOWN: dict[str, tuple[str, str, Paper | None]] = {
    "se": ("channel", "squeeze-and-excitation (timm's SEModule: hidden channels rounded to a "
           "multiple of 8, FCs with bias)", _SE),
    "ese": ("channel", "effective SE: one FC, hard-sigmoid gate (CenterMask/VoVNetV2)",
            _arxiv("CenterMask: Real-Time Anchor-Free Instance Segmentation", "CVPR", 2020,
                   "1911.06667")),
    "eca": ("channel", "efficient channel attention: a 1D conv across pooled channels", _ECA),
    "ecam": ("channel", "ECA with a small MLP in place of the 1D conv (timm's variant)", _ECA),
    "ceca": ("channel", "ECA with circular padding of the 1D conv", _ECA),
    "ge": ("mixed", "gather-excite",
           _arxiv("Gather-Excite: Exploiting Feature Context in Convolutional Neural Networks",
                  "NeurIPS", 2018, "1810.12348")),
    "gc": ("channel", "global context block (scaling fusion)", _GC),
    "gca": ("channel", "global context block (additive fusion, as GCNet's paper)", _GC),
    "cbam": ("mixed", "CBAM: channel then spatial attention (timm's CbamModule)", _CBAM),
    "lcbam": ("mixed", "light CBAM: the spatial gate from a channel mean and max", _CBAM),
    "sk": ("channel", "selective kernel convolution (replaces a conv)",
           _arxiv("Selective Kernel Networks", "CVPR", 2019, "1903.06586")),
    "splat": ("channel", "split attention of ResNeSt (replaces a conv)",
              _arxiv("ResNeSt: Split-Attention Networks", "CVPRW", 2022, "2004.08955")),
    "lambda": ("mixed", "lambda layer (replaces a conv)",
               _arxiv("LambdaNetworks: Modeling Long-Range Interactions Without Attention",
                      "ICLR", 2021, "2102.08602")),
    "bottleneck": ("mixed", "bottleneck multi-head self-attention of BoTNet (replaces a conv; "
                   "needs -o feat_size=H)",
                   _arxiv("Bottleneck Transformers for Visual Recognition", "CVPR", 2021,
                          "2101.11605")),
    "halo": ("mixed", "blocked local self-attention of HaloNet (replaces a conv)",
             _arxiv("Scaling Local Self-Attention for Parameter Efficient Visual Backbones",
                    "CVPR", 2021, "2103.12731")),
    "nl": ("spatial", "non-local block (embedded Gaussian)", _NL),
    "bat": ("spatial", "bilinear attentional transform non-local block",
            _arxiv("Non-Local Neural Networks With Grouped Bilinear Attentional Transforms",
                   "CVPR", 2020, "2004.13010")),
}

# -- options from the signature ---------------------------------------------------------------

_SCALARS = {"int": int, "float": float, "bool": bool, "str": str}


def _option_type(p: Param) -> type | None:
    """The attnprof option type of a parameter, or None when it cannot come from ``-o``."""
    if p.name in LAYER_OPTIONS:
        return str
    if p.name == "feat_size":
        return tuple
    ann = p.annotation.replace("typing.", "").replace(" ", "")
    if ann:
        inner = ann
        for wrap in ("Optional[", "Union["):
            if inner.startswith(wrap) and inner.endswith("]"):
                inner = inner[len(wrap):-1]
        parts = [x for x in inner.split(",") if x != "None"]
        if len(parts) == 1 and parts[0] in _SCALARS:
            return _SCALARS[parts[0]]
        if "Type[" in ann or "Module" in ann or "List" in ann or "Tuple" in ann:
            return None
    d = p.default
    if isinstance(d, bool):
        return bool
    if isinstance(d, int):
        return int
    if isinstance(d, float):
        return float
    if isinstance(d, str):
        return str
    if d is None and p.name.endswith(("channels", "_size", "_dim", "_divisor")):
        return int
    return None


def readable(annotation: str) -> str:
    """``Optional[int]`` -> ``int | None``, ``Type[nn.Module]`` -> ``type``: no brackets, which
    tables would take for markup."""
    text = annotation.replace("typing.", "")
    for _ in range(8):
        new = re.sub(r"Type\[[^\[\]]*\]", "type", text)
        new = re.sub(r"Optional\[([^\[\]]*)\]", r"\1 | None", new)
        new = re.sub(r"Union\[([^\[\]]*)\]", lambda m: m.group(1).replace(", ", " | "), new)
        new = re.sub(r"(Tuple|List)\[([^\[\]]*)\]", r"\1 of (\2)", new)
        if new == text:
            break
        text = new
    return text.replace("[", "(").replace("]", ")")


def _option(p: Param, preset: dict[str, Any]) -> Option | None:
    typ = _option_type(p)
    if typ is None or not p.has_default:
        return None
    declared = f"{p.name}: {readable(p.annotation)} = {p.default_text}" if p.annotation else (
        f"{p.name} = {p.default_text}")
    if p.name in preset:
        return Option(p.name, typ, preset[p.name], f"timm: {declared}; get_attn sets "
                      f"{p.name}={preset[p.name]!r}")
    if p.name in LAYER_OPTIONS:
        names = ("batchnorm2d, groupnorm, layernorm2d" if p.name == "norm_layer" else
                 "relu, silu, gelu, sigmoid, hard_sigmoid")
        help_ = f"timm: {declared} (a timm layer name: {names}, ...)"
        if p.default is None:
            return Option(p.name, str, None, help_, derived="None, no such layer")
        default = p.default if isinstance(p.default, str) else p.default_text
        return Option(p.name, str, default, help_)
    default = p.default
    if default is None:
        return Option(p.name, typ, None, f"timm: {declared}", derived="None, timm decides")
    if default is NOT_LITERAL:
        return None
    if typ is float and isinstance(default, int) and not isinstance(default, bool):
        default = float(default)
    if not isinstance(default, typ) or (typ is int and isinstance(default, bool)):
        return None
    return Option(p.name, typ, default, f"timm: {declared}")


def spec_for(entry: TimmEntry) -> BlockSpec:
    kind, summary, paper = KNOWN.get(entry.key, ("mixed", f"timm's {entry.cls}", None))
    if entry.params is None:
        summary += (" (its options are read from timm's constructor: timm is not installed, "
                    "pip install 'attnprof[zoo]')")
    preset = dict(entry.presets)
    options: tuple[Option, ...] = ()
    if entry.params is not None:
        params = [p for p in entry.params[1:] if p.name not in _SKIP and p.name != "_"]
        options = tuple(o for o in (_option(p, preset) for p in params) if o is not None)
    return BlockSpec(
        name=PREFIX + entry.key, factory=TimmBlock(entry.key), summary=summary, kind=kind,
        paper=paper, options=options, source="timm", check=_importable(entry.key),
        derive=None if entry.params is not None else _check_against_signature(entry),
        notes=f"timm's get_attn('{entry.key}'): {entry.target}",
        example=f"attnprof stat {PREFIX}{entry.key} --channels 64 --size 56"
                + (" -o feat_size=56" if entry.key == "bottleneck" else ""),
    )


def _importable(key: str):
    """The spec's check: timm (and the torchvision it imports) can be imported, before a
    block is built; otherwise :class:`BadInput` with the extra or the fix to install."""

    def check(channels: int, opts: dict[str, Any]) -> str | None:
        from attnprof.zoo import _imports

        _imports.timm(f"block 'timm:{key}'")
        entry = entries().get(key)
        declared = {p.name: p for p in (entry.params or ())} if entry else {}
        for name in LAYER_OPTIONS:
            value, p = opts.get(name), declared.get(name)
            if isinstance(value, str) and p is not None and value not in (p.default,
                                                                          p.default_text):
                timm_layer(name, value)  # an unknown layer name is bad input, found before building
        return None

    return check


def _check_against_signature(entry: TimmEntry):
    """Without timm's source, options are checked against the imported class's signature."""

    def derive(channels: int, opts: dict[str, Any]) -> dict[str, Any]:
        import inspect

        from attnprof.errors import BadOption

        cls = TimmBlock(entry.key).load()
        names = [n for n in list(inspect.signature(cls).parameters)[1:] if n not in _SKIP]
        for key in opts:
            if key not in names:
                raise BadOption(f"block 'timm:{entry.key}' has no option '{key}'"
                                f"{did_you_mean(key, names)}; its options: {', '.join(names)}")
        return opts

    return derive


def timm_specs() -> list[BlockSpec]:
    """A spec per key of timm's ``get_attn``, sorted by key (torch-free)."""
    return [spec_for(e) for _, e in sorted(entries().items())]


def timm_spec(name: str) -> BlockSpec:
    """``timm:KEY`` -> its spec; :class:`UnknownBlock` naming the keys otherwise."""
    key = name.split(":", 1)[1].strip().lower().replace("-", "_")
    table = entries()
    if key not in table:
        keys = sorted(table)
        raise UnknownBlock(
            f"'{name}' is not one of timm's attention blocks{did_you_mean(key, keys)}; timm's "
            f"get_attn keys: {', '.join(keys)} (a timm network goes to --host timm:NAME or "
            "'attnprof model timm:NAME')")
    return spec_for(table[key])
