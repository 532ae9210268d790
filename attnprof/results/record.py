"""One ``to_dict``/``from_dict`` for every record: a frozen dataclass deriving from
:class:`Record` is written as its fields in order, each under its own name, and read back
from the keys that name fields (a newer document may carry more). A field whose key, form,
place or presence differs says so in its metadata, ``field(metadata=key(...))``; nothing
else is declared per record."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

R = TypeVar("R", bound="Record")

_NOTHING: Any = object()


@dataclass(frozen=True)
class Key:
    """How one field stands in the document.

    ``name``: its key (the field's name when None). ``place``: keys are written by place,
    then in field order; ``after``: the key follows that field's. ``stored=False``: in
    memory only, neither written nor read. ``omit(record)``: leave the key out when true.
    ``dump(value)``: its JSON form (by default, by the field's type: a record's (or
    ``Quality``'s) ``to_dict``, a tuple as a list, a mapping as a dict, records in them by
    their ``to_dict``, None as None where the type allows it). ``load(value)``: the value
    from the key's (None when absent). ``required``: an absent key is a ``KeyError``.
    ``absent``: the value when the key is absent (otherwise the field's default).

    Fields are read in the order the constructor takes them, and written in the
    document's."""

    name: str | None = None
    place: int = 0
    after: str | None = None
    stored: bool = True
    omit: Callable[[Any], bool] | None = None
    dump: Callable[[Any], Any] | None = None
    load: Callable[[Any], Any] | None = None
    required: bool = False
    absent: Any = _NOTHING


def key(name: str | None = None, **how: Any) -> dict[str, Key]:
    """The metadata of a field that :class:`Key` describes: ``field(metadata=key(...))``."""
    return {"json": Key(name, **how)}


_PLAIN = Key()


def _same(value: Any) -> Any:
    return value


def _documented(hint: Any) -> bool:
    """Whether values of the type ``hint`` have a document of their own (``to_dict``)."""
    return isinstance(hint, type) and hasattr(hint, "to_dict")


def _dumper(hint: Any) -> Callable[[Any], Any]:
    """The JSON form of a value of the type ``hint``."""
    origin, args = get_origin(hint), get_args(hint)
    if _documented(hint):
        return lambda value: value.to_dict()
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _dumper(next(a for a in args if a is not type(None)))
        return optional(inner) if inner is not _same else _same
    if origin in (Mapping, dict):
        if _documented(args[1]):
            return lambda value: {k: v.to_dict() for k, v in value.items()}
        return dict
    if origin is tuple:
        if _documented(args[0]):
            return lambda value: [x.to_dict() for x in value]
        return list
    return _same


Layout = tuple[tuple[str, str, Key, Callable[[Any], Any]], ...]


@cache
def _layout(cls: type) -> tuple[Layout, Layout]:
    """The stored fields of ``cls``, each as its name, its key, how it stands in the
    document and its JSON form: in the constructor's order, and in the document's."""
    hints = get_type_hints(cls)
    stored = [(f.name, k.name or f.name, k, k.dump or _dumper(hints[f.name]))
              for f in fields(cls) for k in [f.metadata.get("json", _PLAIN)] if k.stored]
    written = sorted(stored, key=lambda x: x[2].place)
    for x in [x for x in written if x[2].after]:
        written.remove(x)
        at = next(i for i, y in enumerate(written) if y[0] == x[2].after)
        written.insert(at + 1, x)
    return tuple(stored), tuple(written)


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert`` for a value that may be None (None stays None)."""
    return lambda value: None if value is None else convert(value)


def listed(value: Any) -> list[Any] | None:
    """A tuple's JSON form where an empty or absent one is null."""
    return list(value) if value else None


def tupled(value: Any) -> tuple[Any, ...]:
    """A list (absent or null: none) as a tuple."""
    return tuple(value or ())


def records(cls: type[R]) -> Callable[[Any], tuple[R, ...]]:
    """The reader of a list (absent or null: none) of ``cls``'s documents."""
    return lambda value: tuple(map(cls.from_dict, value or ()))


class Record:
    """The base of the frozen dataclass records: the document of one and back."""

    def to_dict(self) -> dict[str, Any]:
        return {name: dump(getattr(self, attr))
                for attr, name, k, dump in _layout(type(self))[1]
                if k.omit is None or not k.omit(self)}

    @classmethod
    def from_dict(cls: type[R], d: Mapping[str, Any]) -> R:
        if not isinstance(d, Mapping):
            raise TypeError(f"{_document_name(cls)} must be an object, got {type(d).__name__}")
        given = dict(d.items())
        kw: dict[str, Any] = {}
        for attr, name, k, _ in _layout(cls)[0]:
            if k.required:
                kw[attr] = k.load(given[name]) if k.load is not None else given[name]
            elif k.load is not None:
                kw[attr] = k.load(given.get(name))
            elif name in given:
                kw[attr] = given[name]
            elif k.absent is not _NOTHING:
                kw[attr] = k.absent
        return cls(**kw)


def _document_name(cls: type) -> str:
    """``Layer`` -> ``a layer``: how a message names a record's document."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", cls.__name__).lower()
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"
