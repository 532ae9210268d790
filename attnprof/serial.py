"""One profile at a time in a process: the lock behind the library's entry points.

Profiling is not something two threads of one process can do at once and get right:

* the counters and the containment around them change process-wide state for their
  duration: ``sys.stdout``/``sys.stderr`` (a wrapped library's prints are captured), file
  descriptors 1 and 2 (a user's block printing from C), module classes (torchstat replaces
  ``__call__`` on every leaf class it sees), logging levels, warning filters, torch's
  thread count, grad mode, default dtype and global RNG state; two runs interleaving these
  leave each other's changes behind (counts lost, prints leaking to the caller);
* timing two blocks at once on the same CPU cores measures their contention, not either
  block.

So every entry point of the library (:func:`attnprof.profile`, ``create_block``,
``compare``, ``sweep``, ``run``) holds :data:`PROFILING`, a process-wide re-entrant lock,
while it builds, counts and times: profiles started from several threads run one after
another, each giving what it gives alone. The lock is re-entrant, so a block whose own code
calls attnprof (or an entry point calling another) does not deadlock. Reading documents
(``check``, ``Profile.from_dict``) takes no lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["PROFILING", "serialised"]

#: held while a library entry point builds, counts or times a block
PROFILING = threading.RLock()

F = TypeVar("F", bound=Callable[..., Any])


def serialised(fn: F) -> F:
    """``fn`` run while holding :data:`PROFILING`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with PROFILING:
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
