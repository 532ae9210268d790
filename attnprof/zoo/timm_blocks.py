"""timm's attention zoo as attnprof blocks: ``timm:se``, ``timm:cbam``, ... (``get_attn`` keys).

Torch-free until a block is built. The keys, the class each one builds and the keywords
``get_attn`` fixes (``ecam`` is ``EcaModule(use_mlp=True)``) are read from the installed
timm's own ``get_attn``, and each constructor's options (names, defaults, annotations) from
its signature, both by parsing timm's source with :mod:`ast` rather than importing it: so
``list`` and ``show`` stay fast and torch-free, and ``-o`` is validated before anything runs.
If timm's source cannot be read that way, the signature is taken from the imported class.

Options attnprof can give from the command line are the constructor's scalar parameters
(int, float, bool, str, optional or not) and its ``act_layer``, ``gate_layer`` and
``norm_layer`` (as timm's layer names, e.g. ``-o act_layer=silu``); the rest keep timm's
defaults. ``feat_size`` takes one integer (a square feature map, as timm's ``to_2tuple``
reads it) or ``H,W``; float options take fractions (``-o rd_ratio=1/16``), and ``None`` where
timm's default is None.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attnprof.contain import first_line
from attnprof.errors import BadInput, UnknownBlock, did_you_mean
from attnprof.spec import BlockSpec, Option, Paper

PREFIX = "timm:"
LAYER_OPTIONS = ("act_layer", "gate_layer", "norm_layer")
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

# The keys and classes of timm 1.0's get_attn, for a timm whose source cannot be parsed.
FALLBACK = {
    "se": ("squeeze_excite", "SEModule", {}), "ese": ("squeeze_excite", "EffectiveSEModule", {}),
    "eca": ("eca", "EcaModule", {}), "ecam": ("eca", "EcaModule", {"use_mlp": True}),
    "ceca": ("eca", "CecaModule", {}), "ge": ("gather_excite", "GatherExcite", {}),
    "gc": ("global_context", "GlobalContext", {}),
    "gca": ("global_context", "GlobalContext", {"fuse_add": True, "fuse_scale": False}),
    "cbam": ("cbam", "CbamModule", {}), "lcbam": ("cbam", "LightCbamModule", {}),
    "sk": ("selective_kernel", "SelectiveKernel", {}), "splat": ("split_attn", "SplitAttn", {}),
    "lambda": ("lambda_layer", "LambdaLayer", {}),
    "bottleneck": ("bottleneck_attn", "BottleneckAttn", {}),
    "halo": ("halo_attn", "HaloAttn", {}), "nl": ("non_local_attn", "NonLocalAttn", {}),
    "bat": ("non_local_attn", "BatNonLocalAttn", {}),
}


@dataclass(frozen=True)
class Param:
    """One constructor parameter as timm's source declares it."""

    name: str
    annotation: str  # '' when not annotated
    default: Any  # a Python value, or _NotLiteral for e.g. nn.ReLU
    default_text: str  # the default as written in timm's source
    has_default: bool = True


class _NotLiteral:
    def __repr__(self) -> str:
        return "<not a literal>"


NOT_LITERAL = _NotLiteral()


@dataclass(frozen=True)
class TimmEntry:
    key: str
    module: str  # under timm.layers
    cls: str
    presets: tuple[tuple[str, Any], ...]  # keywords get_attn fixes (functools.partial)
    params: tuple[Param, ...] | None  # None: read the signature from the imported class

    @property
    def target(self) -> str:
        preset = "".join(f", {k}={v!r}" for k, v in self.presets)
        return f"timm.layers.{self.module}.{self.cls}(channels{preset})"


# -- reading timm's source --------------------------------------------------------------------

def timm_root() -> Path | None:
    """Where timm is installed, found without importing it; None when it is not."""
    try:
        spec = importlib.util.find_spec("timm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow}


def _value(node: ast.AST | None) -> Any:
    """The value of a default as written (constants, tuples, arithmetic such as ``1. / 16``)."""
    if node is None:
        return NOT_LITERAL
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _value(node.operand)
        return -v if isinstance(v, (int, float)) and not isinstance(v, bool) else NOT_LITERAL
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a, b = _value(node.left), _value(node.right)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
            try:
                return _OPS[type(node.op)](a, b)
            except ArithmeticError:
                return NOT_LITERAL
        return NOT_LITERAL
    if isinstance(node, ast.Tuple):
        items = [_value(e) for e in node.elts]
        return NOT_LITERAL if any(i is NOT_LITERAL for i in items) else tuple(items)
    return NOT_LITERAL


def _params_of(fn: ast.FunctionDef) -> tuple[Param, ...]:
    args = fn.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.AST | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    pairs = list(zip(positional, defaults, strict=True))
    pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    out = []
    for arg, default in pairs[1:]:  # drop self
        out.append(Param(arg.arg, ast.unparse(arg.annotation) if arg.annotation else "",
                         _value(default), ast.unparse(default) if default is not None else "",
                         has_default=default is not None))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _class_params(path: str, cls: str) -> tuple[Param, ...] | None:
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    return _params_of(item)
    return None


def _get_attn_table(source: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """key -> (module under timm.layers, class, preset keywords), from ``get_attn``'s branches."""
    tree = ast.parse(source)
    modules: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                modules[alias.asname or alias.name] = node.module
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_attn"),
              None)
    if fn is None:
        return {}
    table: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for node in ast.walk(fn):
        if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
            continue
        test = node.test
        right = test.comparators[0]
        if not (isinstance(test.left, ast.Name) and len(test.ops) == 1
                and isinstance(test.ops[0], ast.Eq) and isinstance(right, ast.Constant)
                and isinstance(right.value, str)):
            continue
        key = right.value
        stmt = node.body[0] if node.body else None
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.Return)) else None
        cls, presets = None, {}
        if isinstance(value, ast.Name):
            cls = value.id
        elif (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
              and value.func.id == "partial" and value.args
              and isinstance(value.args[0], ast.Name)):
            cls = value.args[0].id
            presets = {k.arg: _value(k.value) for k in value.keywords if k.arg}
            if any(v is NOT_LITERAL for v in presets.values()):
                continue
        if cls and cls in modules:
            table[key] = (modules[cls], cls, presets)
    return table


@functools.lru_cache(maxsize=4)
def _entries(root: str | None) -> dict[str, TimmEntry]:
    table: dict[str, tuple[str, str, dict[str, Any]]] = {}
    if root is not None:
        try:
            table = _get_attn_table((Path(root) / "layers" / "create_attn.py").read_text("utf-8"))
        except (OSError, SyntaxError, ValueError):
            table = {}
    if not table:
        table = dict(FALLBACK)
    out = {}
    for key, (module, cls, presets) in table.items():
        params = (_class_params(str(Path(root) / "layers" / f"{module}.py"), cls)
                  if root is not None else None)
        out[key] = TimmEntry(key, module, cls, tuple(presets.items()), params)
    return out


def entries() -> dict[str, TimmEntry]:
    """Every key of the installed timm's ``get_attn`` (timm 1.0's keys when timm is absent)."""
    root = timm_root()
    return _entries(str(root) if root is not None else None)


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
                _layer(name, value)  # an unknown layer name is bad input, found before building
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


# -- building ---------------------------------------------------------------------------------

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
                value = _layer(name, value)
            kwargs[name] = value
        from timm import __version__

        label = getattr(cls, "func", cls).__name__
        try:
            return cls(channels, **kwargs)
        except Exception as exc:
            raise TimmError(f"timm {__version__}'s {label} (get_attn('{self.key}')) raised "
                            f"{_describe(exc)}") from exc


def _layer(name: str, value: str):
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
