"""A user's block's options, read from its constructor's signature, and ``-o`` values made into
what that signature declares.

A ``module:Class`` block has no option schema: its constructor's signature is the schema. Each
parameter after the channel count is an option: its name, its annotation, its default. What an
option accepts is read from the annotation (``int``, ``float | None``, ``Tuple[int, int]``,
``Type[nn.Module]``, ...) and, where there is none, from the default's type. A command-line
value is text, so it is turned into that: ``56,56`` into a tuple, ``1/16`` into a float,
``None`` into None, ``BatchNorm2d`` into a class (looked up in the block's module, then
``torch.nn``, or given as ``package.module:Name``). A value the signature cannot take is
:class:`~attnprof.errors.BadOption` before anything is built; an option the constructor does
not name goes to its ``**kwargs`` when it has one (attnprof reports whether it changed the
built block: :mod:`attnprof.building`), and is an error when it has none.

Standard library only (no torch until a class name has to be looked up).
"""

from __future__ import annotations

import ast
import inspect
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from attnprof.errors import BadOption, did_you_mean
from attnprof.trust import _qualified

__all__ = ["Param", "Signature", "read_signature", "recorded", "recorded_options"]

EMPTY = inspect.Parameter.empty

# what a parameter can be given as; "any" when the annotation names something else
_SCALARS = {"int": "int", "float": "float", "bool": "bool", "str": "str", "complex": "float"}
_SEQUENCES = {"tuple", "Tuple", "list", "List", "Sequence", "Iterable", "Collection"}
_CLASSES = {"type", "Type", "Callable", "callable"}
_ANY = {"Any", "object"}


@dataclass(frozen=True)
class Accepts:
    """What a parameter accepts: a set of kinds (int, float, bool, str, none, class, seq, any)
    and, for ``seq``, what its items accept."""

    kinds: frozenset[str]
    items: Accepts | None = None
    #: for ``seq``: the lengths a tuple may have (``Tuple[int, int]``: {2}); None for any
    lengths: frozenset[int] | None = None
    #: for ``seq`` of one fixed length: what each position accepts (``Tuple[int, str]``)
    positions: tuple[Accepts, ...] | None = None

    def __or__(self, other: Accepts) -> Accepts:
        items = self.items if other.items is None else (
            other.items if self.items is None else self.items | other.items)
        lengths, positions = self.lengths, self.positions
        if "seq" in other.kinds:
            if "seq" not in self.kinds:
                lengths, positions = other.lengths, other.positions
            else:  # two sequences: any length either takes, items as the union says
                lengths = None if self.lengths is None or other.lengths is None \
                    else self.lengths | other.lengths
                positions = None
        return Accepts(self.kinds | other.kinds, items, lengths, positions)

    def words(self, plural: bool = False) -> str:
        one = {"int": "an integer", "float": "a number", "bool": "true or false",
               "str": "text", "class": "a class or function (e.g. BatchNorm2d, or "
               "package.module:Name)", "any": "anything"}
        many = {"int": "integers", "float": "numbers", "bool": "true/false", "str": "text",
                "class": "classes", "any": "values"}
        names = many if plural else one
        kinds = set(self.kinds)
        if {"int", "float"} <= kinds:
            kinds.discard("int")
        parts = [names[k] for k in ("int", "float", "bool", "str", "class", "any")
                 if k in kinds]
        if "seq" in kinds:
            inner = self.items.words(plural=True) if self.items is not None else "values"
            size = "e.g. 56,56"
            if self.lengths is not None:
                n = " or ".join(str(n) for n in sorted(self.lengths))
                size = f"{n} of them, e.g. 56,56" if n != "2" else "2 of them: 56,56"
            parts.append(f"a comma-separated list of {inner.replace(' or ', '/')} ({size})")
        if "none" in kinds:
            parts.append("None")
        return " or ".join(parts) or "anything"


ANYTHING = Accepts(frozenset({"any"}))


def _from_ast(node: ast.AST) -> Accepts:
    """The kinds an annotation expression accepts (unknown names accept anything)."""
    if isinstance(node, ast.Constant):
        if node.value is None:
            return Accepts(frozenset({"none"}))
        if isinstance(node.value, str):  # a quoted annotation
            try:
                return _from_ast(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                return ANYTHING
        return ANYTHING
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _from_ast(node.left) | _from_ast(node.right)
    name = _last_name(node.value if isinstance(node, ast.Subscript) else node)
    if isinstance(node, ast.Subscript):
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if name == "Optional":
            return _from_ast(args[0]) | Accepts(frozenset({"none"}))
        if name == "Union":
            out = Accepts(frozenset())
            for a in args:
                out = out | _from_ast(a)
            return out
        if name == "Annotated":
            return _from_ast(args[0])
        if name in _SEQUENCES:
            items = Accepts(frozenset())
            each = [_from_ast(a) for a in args
                    if not (isinstance(a, ast.Constant) and a.value is Ellipsis)]
            for a in each:
                items = items | a
            fixed = name in ("tuple", "Tuple") and len(each) == len(args)
            if fixed and isinstance(node.slice, ast.Tuple) and not node.slice.elts:
                each = []  # Tuple[()]: the empty tuple
            return Accepts(frozenset({"seq"}), items if items.kinds else ANYTHING,
                           frozenset({len(each)}) if fixed else None,
                           tuple(each) if fixed else None)
        if name in _CLASSES:
            return Accepts(frozenset({"class"}))
        if name == "Literal":
            kinds = set()
            for a in args:
                v = a.value if isinstance(a, ast.Constant) else None
                kinds.add("none" if v is None else _kind_of_value(v))
            return Accepts(frozenset(kinds))
        return ANYTHING
    if name in _SCALARS:
        return Accepts(frozenset({_SCALARS[name]}))
    if name in _SEQUENCES:
        return Accepts(frozenset({"seq"}), ANYTHING)
    if name in _CLASSES:
        return Accepts(frozenset({"class"}))
    return ANYTHING


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _kind_of_value(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, (tuple, list)):
        return "seq"
    if inspect.isclass(v) or callable(v):
        return "class"
    return "any"


def annotation_text(annotation: Any) -> str:
    """An annotation as written: ``'int'``, ``'Optional[Tuple[int, int]]'``; '' when none."""
    if annotation is EMPTY:
        return ""
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def accepts(annotation: str, default: Any) -> Accepts:
    """What a parameter accepts, from its annotation text or, without one, its default."""
    if annotation:
        try:
            out = _from_ast(ast.parse(annotation, mode="eval").body)
        except SyntaxError:
            out = ANYTHING
        if default is None and "none" not in out.kinds:  # `x: int = None` means Optional
            out = out | Accepts(frozenset({"none"}))
        return out
    if default is EMPTY:
        return ANYTHING
    kind = _kind_of_value(default)
    if kind == "none":
        return Accepts(frozenset({"none", "any"}))
    if kind in ("int", "float"):  # `scale=1` is a number; Python does not check it
        return Accepts(frozenset({"int", "float"}))
    if kind == "seq":
        items = Accepts(frozenset())
        for v in default:
            items = items | accepts("", v)
        # an unannotated tuple default is often an int-or-pair parameter (kernel_size=(3, 3))
        return Accepts(frozenset({"seq"}) | items.kinds, items if items.kinds else ANYTHING)
    return Accepts(frozenset({kind}))


@dataclass(frozen=True)
class Param:
    """One constructor parameter after the channel count."""

    name: str
    annotation: str  # as written; '' when not annotated
    default: Any  # EMPTY when required
    keyword_only: bool = False

    @property
    def required(self) -> bool:
        return self.default is EMPTY

    @property
    def accepts(self) -> Accepts:
        return accepts(self.annotation, self.default)

    def default_text(self) -> str:
        if self.required:
            return "(required)"
        return _text(self.default)


def _text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value):
        return _qualified(value)
    if isinstance(value, (tuple, list)):
        return ",".join(_text(v) for v in value)
    return str(value)




@dataclass(frozen=True)
class Signature:
    """A constructor's options: its parameters after the first (the channel count), and the
    name of its ``**kwargs`` if it has one. ``module`` is where a class name given as a value
    is looked up first (the block's own module)."""

    params: tuple[Param, ...]
    var_keyword: str | None = None
    module: str | None = None

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def coerce(self, block: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` made into what the signature declares, parameter by parameter; options
        it does not name are kept as given when it takes ``**kwargs``. Raises
        :class:`BadOption` for an unknown option (no ``**kwargs``), a value the parameter
        cannot take, or a required parameter not given."""
        by_name = {p.name: p for p in self.params}
        out: dict[str, Any] = {}
        for key, value in given.items():
            p = by_name.get(key)
            if p is None:
                if self.var_keyword is None:
                    raise BadOption(
                        f"block '{block}' has no option '{key}'"
                        f"{did_you_mean(key, by_name)}; its options: "
                        f"{', '.join(by_name) or 'none'}")
                out[key] = value
                continue
            out[key] = coerce_value(value, p.accepts, f"option '{key}' of block '{block}'",
                                    self.module)
        missing = [p.name for p in self.params if p.required and p.name not in out]
        if missing:
            raise BadOption(
                f"block '{block}' needs option{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)} (its constructor has no default): "
                + " ".join(f"-o {m}=VALUE" for m in missing))
        return out

    def extra(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The options that the constructor does not name (they went into ``**kwargs``)."""
        names = set(self.names())
        return {k: v for k, v in options.items() if k not in names}


def read_signature(sig: inspect.Signature, module: str | None = None) -> Signature:
    """The options of a constructor (its signature without ``self``): every parameter after
    the first, which receives the channel count."""
    params: list[Param] = []
    var_keyword = None
    positional_seen = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_keyword = p.name
            continue
        if p.kind is p.VAR_POSITIONAL:
            positional_seen = True
            continue
        if not positional_seen and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional_seen = True  # the channel count
            continue
        if p.kind is p.POSITIONAL_ONLY:  # cannot be given by keyword
            continue
        params.append(Param(p.name, annotation_text(p.annotation), p.default,
                            keyword_only=p.kind is p.KEYWORD_ONLY))
    return Signature(tuple(params), var_keyword, module)


# -- values ---------------------------------------------------------------------------------

_FRACTION = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*/\s*\d+(\.\d*)?\s*$")


def _number(text: str, want: frozenset[str]) -> Any:
    """``text`` as an int or float the kinds allow, or None."""
    t = text.strip()
    if "int" in want:
        try:
            return int(t)
        except ValueError:
            pass
    if "float" in want:
        try:
            v = float(t)
        except ValueError:
            v = None
            if _FRACTION.match(t):
                num, den = (Fraction(x.strip()) for x in t.split("/"))
                v = float(num / den) if den else None
        if v is not None and math.isfinite(v):
            return v
    return None


def coerce_value(value: Any, want: Accepts, where: str, module: str | None = None) -> Any:
    """``value`` (a command-line string, or a Python value from the library or a suite)
    as one of the kinds ``want`` allows; :class:`BadOption` when it is none of them."""
    kinds = want.kinds
    if "any" in kinds and not (kinds - {"any", "none"}):
        if isinstance(value, str) and value.strip() in ("None", "none"):
            return None
        return value
    if isinstance(value, str):
        out = _from_text(value, want, where, module)
    else:
        out = _from_python(value, want, where, module)
    return out




def _bad(where: str, want: Accepts, value: Any) -> BadOption:
    shown = value if isinstance(value, str) else _text(value)
    return BadOption(f"{where} takes {want.words()}, got {shown!r}")


def _from_text(text: str, want: Accepts, where: str, module: str | None) -> Any:
    kinds, t = want.kinds, text.strip()
    if t in ("None", "none", "null") and "none" in kinds:
        return None
    if "bool" in kinds and t.lower() in ("true", "false"):
        return t.lower() == "true"
    n = _number(t, kinds)
    if n is not None:
        return n
    if "seq" in kinds and ("," in t or t.startswith(("(", "["))):
        inner = t.strip("()[]").strip()
        parts = [x.strip() for x in inner.split(",")] if inner else []
        if len(parts) > 1 and not parts[-1]:
            parts.pop()  # '56,' is a 1-tuple
        if any(not x for x in parts):
            raise BadOption(f"{where} takes {want.words()}, got {text!r}: an empty item")
        return _sequence(parts, want, where, module, text)
    if "str" in kinds:  # a name where text is accepted is that text (timm's 'sigmoid')
        return text
    if "class" in kinds and re.fullmatch(r"[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?", t):
        from attnprof.trust import resolve_class

        found = resolve_class(t, module, where)
        if found is not None:
            return found
        if "str" not in kinds and "any" not in kinds:
            raise BadOption(f"{where}: no class or function named {t!r} in "
                            f"{'the block module, ' if module else ''}torch.nn or "
                            "torch.nn.functional; name it as package.module:Name")
    if "str" in kinds or "any" in kinds:
        return text
    raise _bad(where, want, text)


def _sequence(items: list[Any], want: Accepts, where: str, module: str | None,
              shown: Any) -> tuple[Any, ...]:
    """The items as a tuple, its length and each item checked against the declaration."""
    if want.lengths is not None and len(items) not in want.lengths:
        sizes = " or ".join(str(n) for n in sorted(want.lengths))
        raise BadOption(f"{where} takes {want.words()}, got {_shown(shown)}: {len(items)} "
                        f"item{'s' if len(items) != 1 else ''}, not {sizes}")
    if want.positions is not None and len(want.positions) == len(items):
        each = list(want.positions)
    else:
        each = [want.items or ANYTHING] * len(items)
    try:
        return tuple(coerce_value(v, w, where, module) for v, w in zip(items, each, strict=True))
    except BadOption as exc:
        from attnprof.trust import TRUST_RULE

        if TRUST_RULE in str(exc):
            raise  # a refused class says why itself
        raise _bad(where, want, shown) from None


def _shown(value: Any) -> str:
    return repr(value if isinstance(value, str) else _text(value))


def _from_python(value: Any, want: Accepts, where: str, module: str | None) -> Any:
    kinds = want.kinds
    if value is None:
        if "none" in kinds:
            return None
        raise _bad(where, want, value)
    if isinstance(value, bool):
        if "bool" in kinds or "any" in kinds:
            return value
        raise _bad(where, want, value)
    if isinstance(value, int) and "int" in kinds:
        return value
    if isinstance(value, float) and value.is_integer() and "int" in kinds \
            and "float" not in kinds:
        return int(value)
    if isinstance(value, (int, float)) and "float" in kinds:
        v = float(value)
        if math.isfinite(v):
            return v
    if isinstance(value, (tuple, list)) and "seq" in kinds:
        return _sequence(list(value), want, where, module, value)
    if "class" in kinds and callable(value):
        return value
    if isinstance(value, (int, float)) and "str" in kinds:
        return str(value)  # parsed as a number from the command line: the text it was
    if "any" in kinds:
        return value
    raise _bad(where, want, value)


def recorded(value: Any) -> Any:
    """A value as the JSON records it: classes and functions by their qualified name,
    tuples as lists; anything else JSON cannot hold as its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        return [recorded(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): recorded(v) for k, v in value.items()}
    if inspect.isclass(value) or inspect.isroutine(value):
        return _qualified(value)
    return str(value)


def recorded_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: recorded(v) for k, v in options.items()}
