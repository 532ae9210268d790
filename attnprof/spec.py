"""What a block is, as data: its paper, its options and their validation, how it is built;
and the names of the counting backends that requests choose from and the counters implement.

The leaf under the registry and the catalogs: standard library only (no torch) and nothing of
attnprof but its errors, so ``list`` and ``show`` read specs without importing torch, and the
catalogs describe blocks without importing the registry that collects them.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from attnprof.errors import (
    AttnprofError,
    BadDefinition,
    BadInput,
    BadOption,
    UnknownBlock,
    did_you_mean,
)

__all__ = ["KINDS", "BACKENDS", "Paper", "BlockSpec", "Option", "validate_options",
           "check_positive", "check_option_ranges", "import_object"]

KINDS = ("channel", "spatial", "mixed", "unknown")  # unknown: a user's module:Name
# the counting backends, in the order they are reported; each is attnprof/counters/_NAME.py
BACKENDS = ("torchstat", "torchinfo", "fvcore", "torch", "attnprof")

_TYPE_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
               tuple: "integers, one or a comma-separated list (56 or 56,56)"}


@dataclass(frozen=True)
class Option:
    """One option a block accepts: its type, default, constraints and help text.

    ``default=None`` with ``derived`` set means the block works the value out from the
    channel count (ECA's kernel size); the resolved value is reported either way.
    """

    name: str
    type: type
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    odd: bool = False
    derived: str | None = None

    def constraints(self) -> str:
        """The constraints in words, e.g. 'integer, >= 1, odd'."""
        name = _TYPE_NAMES[self.type]
        parts = [name.split(" ", 1)[1] if name.startswith(("a ", "an ")) else name]
        if self.minimum is not None:
            parts.append(f">= {_fmt(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"<= {_fmt(self.maximum)}")
        if self.odd:
            parts.append("odd")
        if self.choices:
            parts.append("one of " + ", ".join(str(c) for c in self.choices))
        return ", ".join(parts)

    def default_text(self) -> str:
        """The default as ``show`` prints it."""
        if self.default is None and self.derived:
            return f"derived: {self.derived}"
        return _fmt(self.default)

    def validate(self, value: Any, block: str) -> Any:
        """Return ``value`` coerced to this option's type, or raise :class:`BadOption`."""
        where = f"option '{self.name}' of block '{block}'"
        if self.default is None and (value is None or (isinstance(value, str)
                                                       and value.strip() in ("None", "none"))):
            return None  # 'None': the block (or timm) decides, as when the option is not given
        if self.type is float and isinstance(value, str) and "/" in value:
            value = _fraction(value)  # -o rd_ratio=1/16
        if self.type is tuple:  # integers: one (the block repeats it) or a list, 56,56
            return self._integers(value, where)
        if self.type is bool:
            ok = isinstance(value, bool)
        elif self.type is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
            if isinstance(value, float) and value.is_integer():
                value, ok = int(value), True
        elif self.type is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok:
                value = float(value)
                ok = math.isfinite(value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise BadOption(f"{where} must be {self.constraints()}, got {_fmt(value)!s}")
        if self.minimum is not None and value < self.minimum:
            raise BadOption(f"{where} must be >= {_fmt(self.minimum)}, got {_fmt(value)}")
        if self.maximum is not None and value > self.maximum:
            raise BadOption(f"{where} must be <= {_fmt(self.maximum)}, got {_fmt(value)}")
        if self.odd and value % 2 == 0:
            raise BadOption(f"{where} must be odd (so the output keeps its size), got {value}")
        if self.choices and value not in self.choices:
            raise BadOption(
                f"{where} must be one of {', '.join(map(str, self.choices))}, got {_fmt(value)}"
            )
        return value


    def _integers(self, value: Any, where: str) -> int | tuple[int, ...]:
        items = value.strip().strip("()[]").split(",") if isinstance(value, str) else value
        if isinstance(items, (list, tuple)):
            if isinstance(value, str) and len(items) > 1 and not items[-1].strip():
                items = items[:-1]  # '56,' is one value
            try:  # an empty item ('8,,8', ',8') is no integer
                out = tuple(_integer(v) for v in items)
            except (ValueError, TypeError):
                out = ()
            if out and all(v >= (self.minimum or 1) for v in out):
                return out if len(out) > 1 else out[0]
        elif isinstance(value, int) and not isinstance(value, bool) \
                and value >= (self.minimum or 1):
            return value
        raise BadOption(f"{where} must be {self.constraints()}, got {_fmt(value)}")


def _integer(v: Any) -> int:
    """One item of an integer list: an int, or its text; never a bool, a float or ''."""
    if isinstance(v, bool) or isinstance(v, float):
        raise TypeError(v)
    return int(v.strip()) if isinstance(v, str) else int(v) if isinstance(v, int) else \
        int(str(v))


def _fraction(text: str) -> Any:
    """``'1/16'`` as 0.0625; the text itself when it is not a fraction of two numbers."""
    num, sep, den = text.partition("/")
    try:
        n, d = float(num), float(den)
    except ValueError:
        return text
    return n / d if sep and d and math.isfinite(n / d) else text


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def validate_options(
    block: str, declared: Iterable[Option], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``given`` against ``declared``; return every option with defaults filled in."""
    by_name = {o.name: o for o in declared}
    for key in given:
        if key not in by_name:
            known = ", ".join(by_name) or "none"
            raise BadOption(
                f"block '{block}' has no option '{key}'{did_you_mean(key, by_name)}; "
                f"its options: {known}"
            )
    return {
        name: (opt.validate(given[name], block) if name in given else opt.default)
        for name, opt in by_name.items()
    }


@dataclass(frozen=True)
class Paper:
    """Where a block comes from."""

    title: str
    venue: str
    year: int
    url: str | None = None

    def cite(self) -> str:
        return f"{self.title} ({self.venue} {self.year})"


@dataclass(frozen=True)
class BlockSpec:
    """Everything attnprof knows about a block before building it.

    ``factory`` is a callable or an ``"module:attr"`` string taking ``channels`` first and the
    options as keywords. ``derive`` fills options computed from the channel count (ECA's
    kernel); ``check`` returns a message when options clash with the channel count.
    """

    name: str
    factory: str | Callable[..., Any]
    summary: str
    kind: str
    paper: Paper | None = None
    aliases: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    derive: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    check: Callable[[int, dict[str, Any]], str | None] | None = None
    source: str = "attnprof"
    notes: str = ""
    example: str = field(default="")
    # a user's module:Name has no option schema: its constructor's signature is one
    # (attnprof.signature.Signature); None for registered blocks
    signature: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadDefinition(f"block {self.name!r}: kind must be one of {KINDS}, got "
                                f"{self.kind!r}")

    def resolve_options(
        self, channels: int, given: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Validate ``given``, fill defaults and derived values; raise :class:`BadOption`."""
        check_positive("channels", channels)
        if self.source == "import":  # no schema: its constructor's signature is one
            opts = (self.signature.coerce(self.name, given or {})
                    if self.signature is not None else dict(given or {}))
        else:
            opts = validate_options(self.name, self.options, given or {})
        check_option_ranges(self.name, opts)
        given_opts = dict(opts)
        try:
            if self.derive is not None:
                opts = self.derive(channels, opts)
            check_option_ranges(self.name, opts)
            self._check_derived(given_opts, opts)
            problem = self.check(channels, opts) if self.check is not None else None
        except AttnprofError:
            raise
        except (ArithmeticError, ValueError, TypeError) as exc:  # inf, NaN, a huge number
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in given_opts.items()
                              if v is not None and not callable(v))
            raise BadOption(f"block '{self.name}': the values derived from its options "
                            f"({shown}) and channels={channels} are out of range "
                            f"({type(exc).__name__}: {str(exc)[:120]}); choose other "
                            "options") from None
        if problem:
            raise BadOption(f"block '{self.name}': {problem}")
        return opts

    def _check_derived(self, given: Mapping[str, Any], opts: Mapping[str, Any]) -> None:
        """Every value the block derived (a kernel size, a group count) is what its option
        declares (an integer, odd, >= its minimum), as a given one would have to be."""
        for o in self.options:
            value = opts.get(o.name)
            if given.get(o.name) is None and value is not None:
                try:
                    o.validate(value, self.name)
                except BadOption as exc:
                    raise BadOption(f"{exc} (derived from the other options and the "
                                    "channels; choose other options)") from None

    def names_option(self, key: str) -> bool:
        """Whether the block declares option ``key``: in its schema, or a ``module:Name``'s
        constructor names it."""
        if self.signature is not None:
            return key in self.signature.names()
        return key in {o.name for o in self.options}

    def takes_any_option(self) -> bool:
        """A ``module:Name`` whose constructor takes ``**kwargs`` (or has no signature
        attnprof can read): any option can be passed to it."""
        if self.source != "import":
            return False
        return self.signature is None or self.signature.var_keyword is not None

    def load_factory(self) -> Callable[..., Any]:
        if callable(self.factory):
            return self.factory
        return import_object(self.factory)

    def example_command(self) -> str:
        return self.example or f"attnprof stat {self.name} --channels 64 --size 56"


#: the largest integer option value, given or derived (what torch's kernels index with)
MAX_OPTION_INT = 2**31 - 1


def check_option_ranges(block: str, opts: Mapping[str, Any]) -> None:
    """Every option value, given or derived, is one torch can take: integers within
    :data:`MAX_OPTION_INT`, floats finite. Raises :class:`BadOption` before anything is built."""
    for key, value in _flat(opts):
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and abs(value) > MAX_OPTION_INT:
            digits = len(str(abs(value)))
            shown = f"{value:,}" if digits <= 24 else f"a number of {digits} digits"
            raise BadOption(f"option '{key}' of block '{block}' is {shown}, out of range "
                            f"(integers up to {MAX_OPTION_INT:,}); check the options it is "
                            "derived from")
        if isinstance(value, float) and not math.isfinite(value):
            raise BadOption(f"option '{key}' of block '{block}' must be a finite number, "
                            f"got {value}")


def _flat(opts: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """(key, value) pairs, a tuple's or list's items each under its option's key."""
    for key, value in opts.items():
        if isinstance(value, (tuple, list)):
            for item in value:
                yield from _flat({key: item})
        else:
            yield key, value


def check_positive(what: str, value: Any) -> int:
    """Raise :class:`BadInput` unless ``value`` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"{what} must be a positive integer, got {value!r}")
    return value


def import_object(path: str) -> Any:
    """Import ``package.module:Name`` (``Name`` may be dotted); raise :class:`UnknownBlock`."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise UnknownBlock(f"{path!r} is not of the form package.module:Name")
    if module_name.split(".")[0] in getattr(sys, "stdlib_module_names", ()):
        # never imported: the standard library holds no blocks, and some of its modules act
        # when imported (antigravity, this)
        raise UnknownBlock(f"'{module_name}' is part of Python's standard library, which has "
                           f"no attention blocks; name your own: package.module:Name (a "
                           "module of yours named like one of the standard library's must be "
                           "renamed)")
    # A console script does not put the working directory on sys.path, yet users expect a
    # block in ./myblocks.py to be found, as `python -m` would.
    try:
        cwd: str | None = os.getcwd()
    except OSError:  # the working directory was removed
        cwd = None
    cwd_added = cwd is not None and "" not in sys.path and cwd not in sys.path
    if cwd_added:
        sys.path.insert(0, cwd)
    from attnprof.contain import first_line, user_code

    try:
        with user_code(f"importing '{module_name}' for block {path!r}"):
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise UnknownBlock(f"cannot import module '{module_name}' for block {path!r}: "
                               f"no module named '{exc.name}'") from exc
        raise UnknownBlock(f"importing '{module_name}' for block {path!r} failed: {exc}") from exc
    except AttnprofError:  # it exited or interrupted itself (attnprof.contain)
        raise
    except Exception as exc:  # the user's module raised while importing
        raise UnknownBlock(
            f"importing '{module_name}' for block {path!r} failed: {type(exc).__name__}: "
            f"{first_line(exc)}"
        ) from exc
    finally:
        if cwd_added and cwd in sys.path:
            sys.path.remove(cwd)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            names = [n for n in dir(module) if not n.startswith("_")]
            raise UnknownBlock(
                f"module '{module_name}' has no attribute '{attr}'{did_you_mean(attr, names)}"
            ) from None
    return obj


@dataclass(frozen=True)
class HostSpec:
    """A network with attention slots. ``factory`` (an import path) is called as
    ``factory(attention)``, ``attention`` building the block for a slot's channel count, or
    None for the network without blocks."""

    name: str
    factory: str
    slot: str
    params: int | None = None  # the reference parameter count without blocks (docs, tests)
    source: str = "attnprof"  # or "timm", "torchvision"
    notes: str = ""
