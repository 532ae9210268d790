"""timm's attention zoo read from timm's source, without importing timm (so torch-free).

The keys of ``get_attn``, the class each one builds and the keywords it fixes (``ecam`` is
``EcaModule(use_mlp=True)``) are read from ``timm/layers/create_attn.py``, and each
constructor's parameters (names, annotations, defaults as literals) from its ``__init__``,
both by parsing with :mod:`ast`. Without timm, or when its source cannot be parsed, the keys
are timm 1.0's (:data:`FALLBACK`) and the parameters unknown (``None``).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
