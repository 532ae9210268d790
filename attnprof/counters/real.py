"""Counting on real tensors when that is cheap (issue 24).

A count needs shapes, not values, so it can run on the meta device at any size. But on
torch 2.13 the meta kernels of many ops (reductions, pooling, elementwise ops) are Python
references whose first call imports ``torch._dynamo`` and sympy (about 1.2 s), more than the
whole count of a small block. So a block whose count would touch little memory is counted on
real CPU tensors (attnprof's seeded input), and everything else on meta as before:

* **before anything runs**, the memory the count would touch is estimated as the block's
  parameters and buffers plus its input and its output alive at once (an output the input's
  size); at or under :data:`LIMIT_BYTES` the count runs on real CPU tensors;
* **while it runs**, a guard stops it the moment an op would allocate, or the op outputs
  alive at once reach, :data:`CAP_BYTES` (an attention map of H·W × H·W that the estimate
  could not foresee), or its matrix products and convolutions pass :data:`CAP_MACS` (real
  work would then cost more than the meta device); the count then runs on meta, as it
  would have;
* an op that reads values that follow from the input or the weights (``.item()``,
  ``nonzero``, boolean-mask indexing: torch tags them ``data_dependent_output`` or
  ``dynamic_output_shape``) makes the count one that may depend on the input, which is
  then counted on seeds 1 and 2 too, exactly as a block that does not run on meta.

Meta and real counts are the same figures (tests/test_real_vs_meta.py holds every block to
it); ``counters.<backend>.input`` says which was used.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

#: the estimated bytes (parameters + input + output) at or under which a count runs on real
#: CPU tensors
LIMIT_BYTES = 64 * 2**20
#: what a real count may allocate in one op, or hold in op outputs at once, before it stops
#: and runs on meta instead
CAP_BYTES = 4 * LIMIT_BYTES
#: the multiply-accumulates (matrix products and convolutions) a real count may run before
#: it stops and runs on meta instead: about a tenth of a second or more of CPU, while the
#: meta device's one-off import is about 1.2 s
CAP_MACS = 2**30


T = TypeVar("T")


class TooLarge(Exception):
    """A count on real tensors would need more memory than :data:`CAP_BYTES`."""


def estimate_bytes(module: torch.nn.Module, shape: tuple[int, ...], dtype: torch.dtype) -> int:
    """Parameters and buffers, plus the input and an output of its size alive at once."""
    element = torch.empty((), dtype=dtype).element_size()
    state = sum(t.numel() * t.element_size()
                for t in itertools.chain(module.parameters(), module.buffers()))
    return state + 2 * math.prod(shape) * element


def counts_on_real(module: Any, shape: tuple[int, ...], dtype: Any, device: str) -> bool:
    """Whether a count of ``module`` on ``shape`` runs on real tensors (see the module
    docstring): on a CPU target, when the estimate is within :data:`LIMIT_BYTES`."""
    try:
        if torch.device(device).type != "cpu":
            return False  # a CUDA count would initialise CUDA: dearer than the meta device
        return estimate_bytes(module, shape, dtype) <= LIMIT_BYTES
    except (RuntimeError, TypeError, ValueError, AttributeError):
        return False


# ops whose output size follows from their operands as a matrix product (batch x n x m)
_PRODUCTS = {"aten::mm": 0, "aten::bmm": 0, "aten::addmm": 1, "aten::baddbmm": 1,
             "aten::addbmm": 1}


def output_elements(func: Any, args: tuple) -> int:
    """An estimate of the elements ``func`` will write, from its operands' shapes alone: a
    matrix product's result, else the broadcast of its tensor operands (the largest one when
    they do not broadcast)."""
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors:
        return 0
    first = _PRODUCTS.get(func._schema.name)
    if first is not None and len(tensors) >= first + 2:
        a, b = tensors[first], tensors[first + 1]
        return math.prod(a.shape[:-1]) * (b.shape[-1] if b.dim() else 1)
    broadcast = _broadcast([tuple(t.shape) for t in tensors])
    return math.prod(broadcast) if broadcast is not None else max(t.numel() for t in tensors)


def work_macs(func: Any, args: tuple) -> int:
    """An estimate of the multiply-accumulates ``func`` will run, from its operands' shapes:
    a matrix product's exactly, a convolution's as output positions (input positions over
    the strides) x the weight's elements; 0 for other ops."""
    name = func._schema.name
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    first = _PRODUCTS.get(name)
    if first is not None and len(tensors) >= first + 2:
        a, b = tensors[first], tensors[first + 1]
        return math.prod(a.shape) * (b.shape[-1] if b.dim() > 1 else 1)
    if name in ("aten::convolution", "aten::_convolution") and len(tensors) >= 2:
        x, w = tensors[0], tensors[1]
        stride = args[3] if len(args) > 3 and not (len(args) > 6 and args[6]) else ()
        positions = math.prod(x.shape[2:]) // max(1, math.prod(stride or (1,)))
        return x.shape[0] * positions * w.numel()
    return 0


def _broadcast(shapes: list[tuple[int, ...]]) -> tuple[int, ...] | None:
    """The broadcast of ``shapes``, or None when they do not broadcast (in plain Python:
    ``torch.broadcast_shapes`` imports sympy)."""
    out: list[int] = []
    for sizes in itertools.zip_longest(*(reversed(s) for s in shapes), fillvalue=1):
        big = {n for n in sizes if n != 1}
        if len(big) > 1:
            return None
        out.append(big.pop() if big else 1)
    return tuple(reversed(out))


def reads_values(func: Any, args: tuple) -> bool:
    """Whether ``func`` reads tensor values into its result's shape or a Python value
    (torch's ``data_dependent_output`` and ``dynamic_output_shape`` tags; ``index`` only
    with a boolean mask)."""
    tags = func.tags
    if torch.Tag.data_dependent_output in tags:
        return True
    if torch.Tag.dynamic_output_shape not in tags:
        return False
    if func._schema.name == "aten::index":
        indices = args[1] if len(args) > 1 else ()
        return any(isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8)
                   for i in indices or ())
    return True


class LiveBytes:
    """Bytes of op outputs alive now (each storage once, dropped when freed), and the most
    at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._by_storage: dict[int, int] = {}

    def add(self, outputs: list[torch.Tensor]) -> None:
        for t in outputs:
            try:
                storage = t.untyped_storage()
            except (RuntimeError, NotImplementedError):
                continue
            key = storage._cdata
            if key in self._by_storage:
                continue
            nbytes = storage.nbytes()
            self._by_storage[key] = nbytes
            self.now += nbytes
            self.peak = max(self.peak, self.now)
            weakref.finalize(t, self._release, key)

    def _release(self, key: int) -> None:
        self.now -= self._by_storage.pop(key, 0)


class Budget:
    """The guard of a count on real tensors: :meth:`before` an op, :meth:`after` it.

    It also notes the ops that read values the meta device would not have: values that
    follow from the input or the block's weights (tensors :meth:`mark` ed, and every op
    output made from one). A branch on ``torch.rand(1)`` reads a value too, but one that
    runs on meta as well (the global RNGs are seeded, so the draw is checked apart)."""

    def __init__(self, cap: int | None = None, cap_macs: int | None = None) -> None:
        self.cap = CAP_BYTES if cap is None else cap
        self.cap_macs = CAP_MACS if cap_macs is None else cap_macs
        self.macs = 0
        self.reads: list[str] = []  # value-reading ops seen, in order, once each
        self._derived: dict[int, weakref.ref] = {}  # id -> tensor, from the input or weights

    def mark(self, tensors: Any) -> None:
        for t in tensors:
            key = id(t)
            if key not in self._derived:
                self._derived[key] = weakref.ref(t, lambda _, key=key: self._derived.pop(key, None))

    def _is_derived(self, t: Any) -> bool:
        ref = self._derived.get(id(t))
        return ref is not None and ref() is t

    def before(self, func: Any, args: tuple, kwargs: dict | None = None) -> None:
        tensors = [t for t in tree_flatten((args, kwargs or {}))[0]
                   if isinstance(t, torch.Tensor)]
        if (reads_values(func, args) and func._schema.name not in self.reads
                and any(self._is_derived(t) for t in tensors)):
            self.reads.append(func._schema.name)
        if tensors and output_elements(func, args) * tensors[0].element_size() > self.cap:
            raise TooLarge(f"{func._schema.name} would allocate more than {self.cap} bytes")
        self.macs += work_macs(func, args)
        if self.macs > self.cap_macs:
            raise TooLarge(f"the count would run more than {self.cap_macs} MACs for real")

    def after(self, args: tuple, kwargs: dict | None, out: Any, live: LiveBytes) -> None:
        if any(isinstance(t, torch.Tensor) and self._is_derived(t)
               for t in tree_flatten((args, kwargs or {}))[0]):
            self.mark(t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor))
        if live.now > self.cap:
            raise TooLarge(f"the op outputs alive at once passed {self.cap} bytes")


class Watch(TorchDispatchMode):
    """A real forward under a :class:`Budget` (preflight's, before any count)."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget
        self.live = LiveBytes()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.budget.before(func, args, kwargs)
        out = func(*args, **(kwargs or {}))
        if not func.is_view:
            self.live.add([t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)])
        self.budget.after(args, kwargs, out, self.live)
        return out


@contextmanager
def one_thread() -> Iterator[None]:
    """Real runs made to count, not to time, on one intra-op thread: a small input gains
    nothing from a second one, and starting and waking it costs more than the ops (several
    times more on a busy machine). torch's thread count is restored on leaving."""
    threads = torch.get_num_threads()
    if threads != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def watched(run: Callable[[], T], derived: Any = (), compile: bool = False,
            ) -> tuple[T, Budget] | None:
    """``run()`` on real tensors under a :class:`Watch` (``derived``: the input and weights
    whose values it may read), without importing ``torch._dynamo``: (its result, the budget
    with the value reads it saw), or None when it would not fit or fails (the caller then
    goes to the meta device)."""
    from attnprof.counters.no_dynamo import without_dynamo_import

    budget = Budget()
    budget.mark(derived)
    try:
        with one_thread(), without_dynamo_import(Watch, compile=compile), Watch(budget):
            return run(), budget
    except Exception:
        return None
