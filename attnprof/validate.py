"""Documents read from files, checked before use: strict JSON, then the shipped JSON Schema.

attnprof validates its own documents (``check``'s results and baseline, ``sweep --resume``'s
earlier run) against the schemas in :mod:`attnprof.schemas` with this small validator rather
than a runtime dependency on ``jsonschema``: it interprets exactly the keywords those schemas
use (a test holds the schemas to that list and compares its verdicts with ``jsonschema``'s),
compiles each schema once, and runs in time linear in the document (10,000 profiles in a
second or two). Beyond the schema, every document is held to what JSON readers elsewhere
can trust: numbers are finite (``NaN`` and ``Infinity`` are not JSON), integers fit in 64
bits, and nesting is at most :data:`MAX_DEPTH` deep.

Every problem is one line, ``FILE: where: what is wrong`` (``where`` as ``results[3].latency``),
raised as :class:`~attnprof.errors.BadInput` (exit 2).
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from attnprof.contain import first_line
from attnprof.errors import BadInput

MAX_DEPTH = 64
INT_LIMIT = 2**63  # integers must lie in (-2**63, 2**63): what every JSON reader can hold

# keywords that only annotate; the validator skips them
ANNOTATIONS = frozenset({"description", "title", "$comment", "$schema", "$id", "$defs"})
#: the keywords this validator interprets (a schema with any other one is refused)
KEYWORDS = frozenset({"type", "const", "enum", "required", "properties",
                      "additionalProperties", "propertyNames", "items", "minItems",
                      "maxItems", "minimum", "maximum", "exclusiveMinimum", "minLength",
                      "pattern", "$ref", "allOf", "if", "then", "else"}) | ANNOTATIONS

Check = Callable[[Any], None]


class Invalid(Exception):
    """Where a document breaks its schema, and how. ``where`` is filled in on the way out,
    innermost key first, so nothing is spent on paths while a document is valid."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
        self.where: list[Any] = []

    def line(self, path: str) -> str:
        return f"{path}: {render(self.where)}: {self.what}"


def render(where: list[Any]) -> str:
    """``[3, "results"]`` (innermost first) -> ``results[3]``; the top is ``the document``."""
    out = ""
    for key in reversed(where):
        if isinstance(key, int):
            out += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            out += f".{key}" if out else key
        else:
            out += f"[{json.dumps(key)}]"
    return out or "the document"


# -- strict JSON ----------------------------------------------------------------------------

class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number (numbers must be finite)")


def load_json(text: str, path: str) -> Any:
    """Parse ``text`` (the file ``path``) as strict JSON: no NaN or Infinity. Raises
    :class:`BadInput`. (Numbers out of range, such as 1e400, and nesting are checked by
    :func:`validate`, which knows where they are.)"""
    try:
        return json.loads(text, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except _NotJson as exc:
        raise BadInput(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise BadInput(f"{path}: not valid JSON for attnprof: nested more than {MAX_DEPTH} "
                       "levels deep") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise BadInput(f"{path}: not valid JSON: {first_line(exc)}") from None


# -- the schema interpreter -----------------------------------------------------------------

def _describe(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)  # null, true, false
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"the string {json.dumps(shown)}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return "an object"


# JSON values are exactly these Python types (json.loads makes no subclasses), so a type test
# is one set lookup, and true/false are never numbers
_TYPES = {"object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
          "number": (int, float), "boolean": (bool,), "null": (type(None),)}
_TYPE_WORDS = {"object": "an object", "array": "an array", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "true or false",
               "null": "null"}
_NUMBERS = (int, float)

#: the bounds on a number a schema may set: its keyword, whether a value is beyond it, and
#: how the message says what the value must be
_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool], str], ...] = (
    ("minimum", operator.lt, ">="), ("exclusiveMinimum", operator.le, ">"),
    ("maximum", operator.gt, "<="))


def _bound(limit: Any, beyond: Callable[[Any, Any], bool], says: str) -> Check:
    def bound(v: Any) -> None:
        if type(v) in _NUMBERS and beyond(v, limit):
            raise Invalid(f"must be {says} {_fmt(limit)}, got {v!r}")

    return bound


def _number_in_range(v: Any) -> None:
    """Integers fit in 64 bits and floats are finite (1e400 parses as infinity)."""
    t = type(v)
    if t is int:
        if not -INT_LIMIT < v < INT_LIMIT:
            digits = len(str(abs(v)))
            raise Invalid(f"the integer of {digits} digits is out of range (64-bit integers "
                          "only)")
    elif t is float and not math.isfinite(v):
        raise Invalid("the number is out of range (numbers must be finite)")


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else repr(n)


def _free_within(budget: int) -> Check:
    """A value the schema does not describe: only the depth limit applies, with ``budget``
    levels left."""

    def free(v: Any) -> None:
        if type(v) not in (dict, list):
            _number_in_range(v)
            return
        level = [v]
        depth = 0
        while level:  # breadth first, one level at a time
            if depth >= budget:
                raise Invalid(f"nested more than {MAX_DEPTH} levels deep")
            depth += 1
            below = []
            for value in level:
                for c in (value.values() if type(value) is dict else value):
                    t = type(c)
                    if t is dict or t is list:
                        below.append(c)
                    elif t is int or t is float:
                        _number_in_range(c)
            level = below

    return free


class _Compiler:
    """Compiles a schema into one closure per node: a value is checked by a few calls and
    set lookups, and the document's depth below the schema's own is the only thing walked
    where the schema says nothing."""

    def __init__(self) -> None:
        self._refs: dict[tuple[int, int], Check] = {}

    def compile(self, schema: Any, root: dict[str, Any], depth: int = 0) -> Check:
        if depth > MAX_DEPTH:
            raise ValueError("the schema nests too deeply")
        if schema is True or schema == {}:
            return _free_within(MAX_DEPTH - depth)
        if not isinstance(schema, dict):
            raise ValueError(f"not a schema: {schema!r}")
        unknown = set(schema) - KEYWORDS
        if unknown:
            raise ValueError(f"the validator does not interpret {sorted(unknown)}")
        if "$id" in schema:
            root = schema
        checks: list[Check] = []
        kinds: list[str] = []
        if "type" in schema:
            kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            allowed = frozenset(t for k in kinds for t in _TYPES[k])
            words = " or ".join(_TYPE_WORDS[k] for k in kinds)

            # as JSON Schema says, 3.0 is an integer (a number with a zero fraction)
            whole = "integer" in kinds and "number" not in kinds

            def type_check(v: Any, allowed=allowed, words=words, whole=whole) -> None:
                t = type(v)
                if t not in allowed and not (whole and t is float and v.is_integer()):
                    raise Invalid(f"must be {words}, got {_describe(v)}")
                if t is int or t is float:
                    _number_in_range(v)

            checks.append(type_check)
        if "const" in schema:
            const = schema["const"]

            def const_check(v: Any, c=const) -> None:
                if v != c or type(v) is not type(c):
                    raise Invalid(f"must be {json.dumps(c)}, got {_describe(v)}")

            checks.append(const_check)
        if "enum" in schema:
            allowed_values = list(schema["enum"])
            words = ", ".join(json.dumps(a) for a in allowed_values)

            def enum_check(v: Any, allowed=allowed_values, words=words) -> None:
                if not any(v == a and type(v) is type(a) for a in allowed):
                    raise Invalid(f"must be one of {words}, got {_describe(v)}")

            checks.append(enum_check)
        checks += self._numbers(schema) + self._strings(schema)
        structural = False
        for part in (self._ref(schema, root, depth), self._object(schema, root, depth),
                     self._array(schema, root, depth)):
            if part is not None:
                checks.append(part)
                structural = True
        for sub in schema.get("allOf", ()):
            checks.append(self.compile(sub, root, depth))
            structural = True
        if "if" in schema:
            cond = self.compile(schema["if"], root, depth)
            then = self.compile(schema.get("then", True), root, depth)
            other = self.compile(schema.get("else", True), root, depth)

            def if_check(v: Any) -> None:
                try:
                    cond(v)
                except Invalid:
                    other(v)
                else:
                    then(v)

            checks.append(if_check)
            structural = True
        containers = not kinds or {"object", "array"} & set(kinds)
        if not structural and containers:  # nothing said of what is inside: walk it plainly
            checks.append(_free_within(MAX_DEPTH - depth))
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks

            def both(v: Any) -> None:
                first(v)
                second(v)

            return both
        sequence = tuple(checks)

        def all_checks(v: Any) -> None:
            for c in sequence:
                c(v)

        return all_checks

    def _ref(self, schema: dict[str, Any], root: dict[str, Any], depth: int) -> Check | None:
        ref = schema.get("$ref")
        if ref is None:
            return None
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        key = (id(target), depth)
        refs = self._refs
        if key not in refs:
            refs[key] = _free_within(MAX_DEPTH - depth)  # placeholder (ours do not recurse)
            refs[key] = self.compile(target, root, depth)

        def ref_check(v: Any) -> None:
            refs[key](v)

        return ref_check

    @staticmethod
    def _numbers(schema: dict[str, Any]) -> list[Check]:
        return [_bound(schema[word], beyond, says) for word, beyond, says in _BOUNDS
                if word in schema]

    @staticmethod
    def _strings(schema: dict[str, Any]) -> list[Check]:
        out: list[Check] = []
        if "minLength" in schema:
            n = schema["minLength"]

            def min_length(v: Any, n=n) -> None:
                if type(v) is str and len(v) < n:
                    raise Invalid("must not be empty" if n == 1
                                  else f"must have at least {n} characters")

            out.append(min_length)
        if "pattern" in schema:
            rx = re.compile(schema["pattern"])

            def pattern(v: Any, rx=rx) -> None:
                if type(v) is str and not rx.search(v):
                    raise Invalid(f"must match {rx.pattern}, got {_describe(v)}")

            out.append(pattern)
        return out

    def _object(self, schema: dict[str, Any], root: dict[str, Any],
                depth: int) -> Check | None:
        keys = ("required", "properties", "additionalProperties", "propertyNames")
        if not any(k in schema for k in keys):
            return None
        required = tuple(schema.get("required", ()))
        props = {k: self.compile(s, root, depth + 1)
                 for k, s in schema.get("properties", {}).items()}
        extra_schema = schema.get("additionalProperties", True)
        extra = None if extra_schema is False else self.compile(extra_schema, root, depth + 1)
        names = (self.compile(schema["propertyNames"], root, depth + 1)
                 if "propertyNames" in schema else None)

        def object_check(v: Any) -> None:
            if type(v) is not dict:
                return
            for k in required:
                if k not in v:
                    raise Invalid(f"missing the required key {json.dumps(k)}")
            for k, item in v.items():
                check = props.get(k, extra)
                try:
                    if names is not None:
                        try:
                            names(k)
                        except Invalid as exc:
                            raise Invalid(f"not a valid key: {exc.what}") from None
                    if check is None:
                        raise Invalid("is not a key this document may have")
                    check(item)
                except Invalid as exc:
                    exc.where.append(k)
                    raise

        return object_check

    def _array(self, schema: dict[str, Any], root: dict[str, Any],
               depth: int) -> Check | None:
        if not any(k in schema for k in ("items", "minItems", "maxItems")):
            return None
        items = self.compile(schema.get("items", True), root, depth + 1)
        lo, hi = schema.get("minItems"), schema.get("maxItems")
        if lo is not None and lo == hi:
            size = f"must have exactly {lo} items"
        elif lo and hi is not None:
            size = f"must have {lo} to {hi} items"
        else:
            size = f"must have at least {lo} items" if lo else f"must have at most {hi} items"

        def array_check(v: Any) -> None:
            if type(v) is not list:
                return
            if (lo is not None and len(v) < lo) or (hi is not None and len(v) > hi):
                raise Invalid(f"{size}, got {len(v)}")
            i = 0
            try:
                for i, item in enumerate(v):  # noqa: B007 (i names a failure)
                    items(item)
            except Invalid as exc:
                exc.where.append(i)
                raise

        return array_check


_COMPILED: dict[str, Check] = {}


def validator(name: str) -> Check:
    """The compiled check of the schema of ``name`` (``attnprof.results/1``, ...)."""
    if name not in _COMPILED:
        from attnprof.schemas import schema

        doc = schema(name)
        _COMPILED[name] = _Compiler().compile(doc, doc)
    return _COMPILED[name]


def problems(doc: Any, name: str) -> str | None:
    """The first problem of ``doc`` as ``where: what``, or None when it is valid."""
    try:
        validator(name)(doc)
    except Invalid as exc:
        return f"{render(exc.where)}: {exc.what}"
    except RecursionError:
        return f"the document: nested more than {MAX_DEPTH} levels deep"
    return None


def validate(doc: Any, name: str, path: str) -> None:
    """Raise :class:`BadInput` (``FILE: where: what``) unless ``doc`` is a valid ``name``:
    by its schema, then by what its figures mean (:mod:`attnprof.coherence`: intervals
    ordered and holding their point, shares in [0, 1], counts that add up, ratios that
    agree with what they divide)."""
    found = problems(doc, name)
    if found is None:
        from attnprof.coherence import incoherence

        found = incoherence(doc, name)
    if found is not None:
        raise BadInput(f"{path}: {found}")


def schema_mismatch(doc: Any, name: str) -> str | None:
    """Why ``doc`` is not an ``name`` document at all (``attnprof.profile/1``): not an
    object, no or another ``schema`` key, or a later version of it (written by a newer
    attnprof); None when its ``schema`` is ``name``."""
    if not isinstance(doc, dict):
        return f"not an {name} document: a JSON object is needed, got {_describe(doc)}"
    found = doc.get("schema")
    if found == name:
        return None
    family, _, version = name.rpartition("/")
    if isinstance(found, str) and found.startswith(family + "/"):
        theirs = found[len(family) + 1:]
        if theirs.isdigit() and version.isdigit() and int(theirs) > int(version):
            return (f"an {found} document, written by a newer attnprof; this one "
                    f"({_version()}) reads {name}: upgrade attnprof to read it")
    shown = found if not isinstance(found, str) or len(found) <= 60 else found[:60] + "…"
    return f"not an {name} document (schema: {shown!r})"


def _version() -> str:
    from attnprof._version import __version__

    return __version__
