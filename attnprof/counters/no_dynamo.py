"""Dispatch modes whose first op does not import ``torch._dynamo`` (issue 24).

``TorchDispatchMode.__init_subclass__`` wraps every subclass's ``__torch_dispatch__`` in
``torch._compile._disable_dynamo``. That wrapper imports ``torch._dynamo`` (and sympy) on its
first call, about 1.2 s, only to build ``torch._dynamo.disable(fn)``, which it caches on the
wrapped function as ``fn.__dynamo_disable``. Its job is to keep Dynamo from tracing into the
mode; a process that has not imported ``torch._dynamo`` compiles nothing, so there is nothing
to keep it from.

:func:`without_dynamo_import` fills that cache, for the duration of one count, with a guard:
while ``torch._dynamo`` is not imported it calls the mode's own function; the moment it is
(the block itself compiles something), it removes itself and hands the call to torch's
wrapper, which then does exactly what it always does. On leaving, the cache is emptied again
(unless torch filled it in the meantime), so the user's process is left as found.

The rule (docs/counting.md, "Start-up"): the cache is seeded only when ``torch._dynamo`` is
not imported yet (a process that uses ``torch.compile`` has imported it, and then there is
nothing to save) and never when ``--compile`` is asked for. It touches a private attribute of
torch, so it checks first that the wrapper is the one it knows (its code reads
``__dynamo_disable``): on a torch without that mechanism nothing is seeded and the first op
pays for the import, as before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CACHE = "__dynamo_disable"  # where torch._compile._disable_dynamo caches torch._dynamo.disable(fn)
DYNAMO = "torch._dynamo"


def _wrapped(cls: type) -> tuple[Any, Any] | None:
    """(torch's wrapper, the mode's own function) when ``cls.__torch_dispatch__`` is the
    ``_disable_dynamo`` wrapper this module knows, with an empty cache; else None."""
    wrapper = cls.__dict__.get("__torch_dispatch__")
    raw = getattr(wrapper, "__wrapped__", None)
    code = getattr(wrapper, "__code__", None)
    if raw is None or code is None or CACHE not in code.co_consts:
        return None
    if not hasattr(raw, "__dict__") or CACHE in raw.__dict__:
        return None  # torch already built its disabled function: nothing to save
    return wrapper, raw


def _guard(wrapper: Any, raw: Any) -> Any:
    def guard(*args: Any, **kwargs: Any) -> Any:
        if DYNAMO in sys.modules:  # something compiles now: torch's own wrapper takes over
            if raw.__dict__.get(CACHE) is guard:
                delattr(raw, CACHE)
            return wrapper(*args, **kwargs)
        return raw(*args, **kwargs)

    return guard


@contextmanager
def without_dynamo_import(*classes: type, compile: bool = False) -> Iterator[int]:
    """Run dispatch modes of ``classes`` without importing ``torch._dynamo`` on their first
    op (see the module docstring for when this applies). Yields how many were seeded."""
    seeded: list[tuple[Any, Any]] = []
    if not compile and DYNAMO not in sys.modules:
        for cls in classes:
            found = _wrapped(cls) if isinstance(cls, type) else None
            if found is not None:
                guard = _guard(*found)
                setattr(found[1], CACHE, guard)
                seeded.append((found[1], guard))
    try:
        yield len(seeded)
    finally:
        for raw, guard in seeded:
            if raw.__dict__.get(CACHE) is guard:
                delattr(raw, CACHE)
