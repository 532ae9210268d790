"""attnprof's own counter: every aten op a block runs, costed by :mod:`attnprof.counters.rules`.

It runs the block under a ``TorchDispatchMode`` on the meta device, where tensors have shapes
but no data, so a count needs no memory and no time whatever the input size. Module
attribution uses PyTorch's ``ModuleTracker``, as ``FlopCounterMode`` does.

Beside the totals, every op call is filed in a *cell*: the pass (forward or backward), the
innermost module running it and which call of that module it is, the torch function the
user's code called (``linear``, ``conv2d``, ``interpolate``; the dispatcher sees what they
become: ``addmm``, ``convolution``, ``upsample_nearest2d``), and which of that module's own
parameters it reads. The cells are what :mod:`attnprof.counters.coverage` matches against
what each wrapped backend says it counted.
"""

from __future__ import annotations

import copy
import itertools
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.module_tracker import ModuleTracker

from attnprof.counters.no_dynamo import without_dynamo_import
from attnprof.counters.real import Budget, LiveBytes
from attnprof.counters.rules import Call, rule_for
from attnprof.results.counts import Cost


class Cell(NamedTuple):
    """Where one op call happened (see the module docstring)."""

    backward: bool  # the backward pass (train mode)
    scope: str  # innermost module running it ("" for the block itself)
    call: int  # which call of that module (0, 1, ...); 0 in the backward pass
    source: str  # the torch function that produced it; "" in the backward pass
    op: str  # the aten op, e.g. "aten::addmm"
    params: tuple[str, ...]  # names of ``scope``'s own parameters it reads


@dataclass
class OpCount:
    """The result of one counting run."""

    total: Cost = field(default_factory=Cost)  # costs summed over calls (attnprof.results.Cost)
    ops: dict[str, Cost] = field(default_factory=lambda: defaultdict(Cost))
    layers: dict[str, Cost] = field(default_factory=lambda: defaultdict(Cost))
    uncounted_ops: Counter = field(default_factory=Counter)
    device: str = "meta"
    peak_live_bytes: int = 0  # most bytes of op outputs alive at once (an estimate of peak)
    cells: dict[Cell, Cost] = field(default_factory=lambda: defaultdict(Cost))
    calls: Counter = field(default_factory=Counter)  # module path -> forward calls
    # module path -> the shape of its first call's output (its first tensor output)
    output_shapes: dict[str, list[int]] = field(default_factory=dict)
    seed: int = 0  # of the input (and of the RNGs the block may draw from)
    rng_used: bool = False  # the block drew from torch's, Python's or NumPy's global RNG
    reads_values: tuple[str, ...] = ()  # on real tensors: ops that read values (nonzero, item)


def tensor_bytes(t: torch.Tensor) -> int:
    """Bytes a kernel touches for ``t``: the elements it spans (a broadcast stride-0 view
    reads its few real elements, not the expanded count)."""
    if t.numel() == 0:
        return 0
    span = 1 + sum((s - 1) * abs(st) for s, st in zip(t.shape, t.stride(), strict=True))
    return min(t.numel(), span) * t.element_size()


def _unique(tensors: list[Any]) -> list[torch.Tensor]:
    seen: set[int] = set()
    out = []
    for t in tensors:
        if isinstance(t, torch.Tensor) and id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def _storage_key(t: torch.Tensor) -> int | None:
    try:
        return t.untyped_storage()._cdata
    except (RuntimeError, NotImplementedError, TypeError, AttributeError):
        return None


# torch function names whose JIT / aten name differs (``x @ y`` is ``matmul``)
_DUNDER = {"matmul": "matmul", "rmatmul": "matmul", "mul": "mul", "rmul": "mul",
           "add": "add", "radd": "add", "sub": "sub", "rsub": "rsub", "truediv": "div",
           "rtruediv": "div", "div": "div", "rdiv": "div", "pow": "pow", "rpow": "pow",
           "neg": "neg", "imul": "mul_", "iadd": "add_", "isub": "sub_", "itruediv": "div_",
           "idiv": "div_", "floordiv": "floor_divide", "mod": "remainder", "and": "logical_and",
           "or": "logical_or", "invert": "bitwise_not", "abs": "abs", "getitem": "getitem",
           "setitem": "setitem"}


def source_name(func: Any) -> str:
    name = getattr(func, "__name__", None) or str(func)
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        inner = name[2:-2]
        return _DUNDER.get(inner, inner)
    return name


class _Sources(TorchFunctionMode):
    """Remembers which torch function the block's code is inside (the outermost one: the
    mode is off while its handler runs, so nested calls are not seen)."""

    def __init__(self) -> None:
        super().__init__()
        self.current = ""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        outer = self.current
        self.current = source_name(func)
        try:
            return func(*args, **kwargs)
        finally:
            self.current = outer


class _Scopes:
    """The innermost module of the block running now, and which call of it this is."""

    def __init__(self, root: nn.Module) -> None:
        self.paths = {}
        for path, mod in root.named_modules():
            self.paths.setdefault(id(mod), path)
        self.params: dict[int, tuple[str, str]] = {}  # storage -> (owner path, local name)
        for path, mod in root.named_modules():
            for local, p in mod.named_parameters(recurse=False):
                key = _storage_key(p)
                if key is not None:
                    self.params.setdefault(key, (path, local))
        self.stack: list[tuple[str, int]] = []
        self.calls: Counter = Counter()
        self.shapes: dict[str, list[int]] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> _Scopes:
        from torch.nn.modules.module import (
            register_module_forward_hook,
            register_module_forward_pre_hook,
        )

        def pre(mod, _args):
            path = self.paths.get(id(mod))
            if path is not None:
                self.stack.append((path, self.calls[path]))
                self.calls[path] += 1

        def post(mod, _args, out):
            path = self.paths.get(id(mod))
            if path is not None and path not in self.shapes:
                first = out[0] if isinstance(out, (tuple, list)) and out else out
                if isinstance(first, torch.Tensor):
                    self.shapes[path] = list(first.shape)
            if path is not None and self.stack and self.stack[-1][0] == path:
                self.stack.pop()

        self._handles = [register_module_forward_pre_hook(pre),
                         register_module_forward_hook(post, always_call=True)]
        return self

    def __exit__(self, *exc: Any) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []
        self.stack.clear()

    def current(self) -> tuple[str, int]:
        return self.stack[-1] if self.stack else ("", 0)


# ops that return their input's storage under another shape (``reshape`` of a copy ends in
# ``_unsafe_view``): like views, they move no data
ALIASING = frozenset({"aten::_unsafe_view", "aten::alias", "aten::lift_fresh", "aten::detach"})


class _CountingMode(TorchDispatchMode):
    def __init__(self, result: OpCount, tracker: ModuleTracker, root: str,
                 scopes: _Scopes, sources: _Sources, budget: Budget | None = None) -> None:
        super().__init__()
        self.result = result
        self.tracker = tracker
        self.root = root
        self.scopes = scopes
        self.sources = sources
        self.backward = False
        self.live = LiveBytes()
        self.budget = budget  # on real tensors: stops a count that would not fit

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.budget is not None:
            self.budget.before(func, args, kwargs)
        rule = rule_for(func)
        if rule is None and not func.is_view:
            # An op without a rule may decompose into ops that have one (as FlopCounterMode does).
            with self:
                decomposed = func.decompose(*args, **kwargs)
            if decomposed is not NotImplemented:
                return decomposed
        out = func(*args, **kwargs)
        if not func.is_view and func._schema.name not in ALIASING:
            self._record(func, rule, args, kwargs, out)
        if self.budget is not None:
            self.budget.after(args, kwargs, out, self.live)
        return out

    def _cell(self, name: str, inputs: list[torch.Tensor]) -> Cell:
        if self.backward:
            return Cell(True, self._innermost(), 0, "", name, ())
        scope, call = self.scopes.current()
        params = set()
        for t in inputs:
            owner = self.scopes.params.get(_storage_key(t))
            if owner is not None and owner[0] == scope:
                params.add(owner[1])
        return Cell(False, scope, call, self.sources.current, name, tuple(sorted(params)))

    def _innermost(self) -> str:
        active = [p for p in self.tracker.parents if p != "Global"]
        if not active:
            return ""
        deepest = max(active, key=lambda p: p.count("."))
        return "" if deepest == self.root else deepest.split(".", 1)[1]

    def _record(self, func, rule, args, kwargs, out) -> None:
        inputs = _unique(tree_flatten((args, kwargs))[0])
        outputs = _unique(tree_flatten(out)[0])
        if not outputs and not inputs:
            return
        name = func._schema.name
        written = outputs
        if rule is None:
            work = Cost(uncounted=1)
            self.result.uncounted_ops[name] += 1
        else:
            work = rule(Call(func, tuple(args), kwargs, inputs, outputs, out))
            keep = getattr(work, "written_outputs", None)  # a rules.Cost may say
            if keep is not None:
                written = outputs[:keep]
        cost = Cost(1, work.macs, work.flops, work.transcendentals,
                    sum(tensor_bytes(t) for t in inputs),
                    sum(tensor_bytes(t) for t in written), work.uncounted)
        r = self.result
        r.total += cost
        r.ops[name] += cost
        r.cells[self._cell(name, inputs)] += cost
        for parent in set(self.tracker.parents):
            if parent == "Global":
                continue
            path = "" if parent == self.root else parent.split(".", 1)[1]
            r.layers[path] += cost
        self._track_live(written)  # what the op writes: an eval batch norm saves no statistics

    def _track_live(self, outputs: list[torch.Tensor]) -> None:
        """Estimate peak memory: add each new storage an op writes, drop it when freed."""
        self.live.add(outputs)
        self.result.peak_live_bytes = self.live.peak


def meta_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose parameters and buffers live on the meta device.

    The memo makes ``deepcopy`` take meta twins instead of copying data, so a copy of a large
    network costs nothing; the original is not touched.
    """
    memo: dict[int, Any] = {}
    for t in itertools.chain(module.parameters(), module.buffers()):
        if id(t) in memo:
            continue
        twin = t.detach().to("meta")
        memo[id(t)] = nn.Parameter(twin, requires_grad=t.requires_grad) if isinstance(
            t, nn.Parameter) else twin
    return copy.deepcopy(module, memo)


def grad_outputs(out: Any) -> list[torch.Tensor]:
    """The tensors of a forward's output that a backward pass starts from."""
    return [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor) and t.requires_grad]


def grad_input(x: torch.Tensor) -> torch.Tensor:
    """A training step's input as a block meets it inside a network: an activation that
    needs a gradient, not a leaf (a copy of a leaf that does), so a block that writes into
    its input in place (``x.mul_(g)``, ``ReLU(inplace=True)``) runs as it would there.
    Made outside any counting mode: the copy is not the block's work."""
    return x.detach().requires_grad_(True).clone()


def writes_input(module: Any, x: torch.Tensor, train: bool) -> bool:
    """Whether ``module`` writes into its input in place (its version counter moves in one
    call on a copy). Such a block, called again and again on one tensor, would run on what
    its last call left there, or (training) backward through a graph already freed: each
    timed call then gets a fresh copy of the input."""
    probe = x.detach().clone()
    if train:
        probe = probe.requires_grad_(True).clone()
    before = probe._version
    with torch.enable_grad() if train else torch.no_grad():
        module(probe)
    return probe._version != before


def backward_from(out: Any) -> None:
    """The training step's backward: from every output tensor that needs a gradient (a block
    may return a tensor, or a tuple such as ``(output, attention map)``), seeded with ones."""
    outs = grad_outputs(out)
    if outs:
        torch.autograd.backward(outs, [torch.ones_like(t) for t in outs])


def main_output(out: Any) -> torch.Tensor | None:
    """The block's output tensor: itself, or the first tensor of a tuple, list or dict."""
    if isinstance(out, torch.Tensor):
        return out
    return next((t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)), None)


#: the last small input drawn (key, tensor): preflight, the counters, torchinfo, fvcore and the
#: timer all take the same seed-0 input, so it is drawn once and copied (a copy is cheaper)
_LAST_INPUT: list[Any] = [None, None]
_KEEP_BYTES = 16 * 2**20


def seeded_input(shape: tuple[int, ...], dtype: torch.dtype, device: str,
                 seed: int = 0) -> torch.Tensor:
    """The input attnprof counts on: N(0, 1) from a private ``torch.Generator`` seeded with
    ``seed`` (meta: shapes only). The global RNG is not touched. Each call returns a fresh
    tensor (a block may write into its input)."""
    if device == "meta":
        return torch.empty(shape, dtype=dtype, device=device)
    key = (tuple(shape), dtype, str(device), seed)
    if _LAST_INPUT[0] == key:
        return _LAST_INPUT[1].clone()
    x = torch.empty(shape, dtype=dtype, device=device)
    x.normal_(generator=torch.Generator(device=device).manual_seed(seed))
    if x.numel() * x.element_size() <= _KEEP_BYTES:
        _LAST_INPUT[:] = [key, x.clone()]
    return x


def _rng_states(device: str) -> list[Any]:
    states: list[Any] = [torch.get_rng_state(), random.getstate()]
    np = sys.modules.get("numpy")
    if np is not None:
        st = np.random.get_state()
        states.append((st[1].tobytes(), st[2]))
    if device.startswith("cuda") and torch.cuda.is_initialized():
        states.append(torch.cuda.get_rng_state(torch.device(device)))
    return states


def _same_states(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, torch.Tensor):
            if not torch.equal(x, y):
                return False
        elif x != y:
            return False
    return True


@contextmanager
def seeded_rngs(seed: int, device: str = "cpu") -> Iterator[dict[str, bool]]:
    """Run with torch's, Python's and NumPy's global RNGs seeded with ``seed``, and restore
    them afterwards; the yielded dict's ``used`` says whether the code drew from any."""
    np = sys.modules.get("numpy")
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    py_state = random.getstate()
    np_state = np.random.get_state() if np is not None else None
    report = {"used": False}
    with torch.random.fork_rng(devices=devices):
        try:
            torch.manual_seed(seed)
            random.seed(seed)
            if np is not None:
                np.random.seed(seed)
            before = _rng_states(device)
            yield report
            report["used"] = not _same_states(before, _rng_states(device))
        finally:
            random.setstate(py_state)
            if np is not None:
                np.random.set_state(np_state)


def counting_copy(module: Any, device: str, dtype: torch.dtype, train: bool) -> Any:
    """The private copy of ``module`` a counter runs: on ``device`` (on meta without copying
    a weight), in ``dtype``, in train or eval mode. In eval no parameter needs a gradient, so
    no view of one made in the forward claims one either (CaiT's class token, expanded and
    handed to a block): torch's ``ModuleTracker``, which attributes ops to modules, fails on
    such a view under ``no_grad``."""
    twin = meta_copy(module) if device == "meta" else copy.deepcopy(module).to(device)
    if dtype.is_floating_point:
        twin.to(dtype=dtype)
    twin.train(train)
    if not train:
        twin.requires_grad_(False)
    return twin


def count_module(
    module: nn.Module, shape: tuple[int, ...], dtype: torch.dtype, *, train: bool = False,
    device: str = "meta", seed: int = 0, budget: Budget | None = None, compile: bool = False,
) -> OpCount:
    """Count one forward (and, with ``train``, the backward) of ``module`` on ``shape``.

    ``device="meta"`` counts without data; any other device runs a private copy for real, on
    :func:`seeded_input`. Either way the global RNGs are seeded with ``seed`` for the run (a
    block that draws random numbers gets the same ones every time) and restored after.
    One dispatch mode sees both passes, so the tensors the forward leaves alive for the
    backward count toward the peak. ``budget`` (real tensors only) stops a count that would
    not fit (:mod:`attnprof.counters.real`) and notes the ops that read values; ``compile``
    says ``torch.compile`` is in use, so the mode pays for ``torch._dynamo`` as torch wants
    (:mod:`attnprof.counters.no_dynamo`).
    """
    twin = counting_copy(module, device, dtype, train)
    x = seeded_input(shape, dtype, device, seed)
    result = OpCount(device=device, seed=seed)
    tracker = ModuleTracker()
    scopes = _Scopes(twin)
    sources = _Sources()
    mode = _CountingMode(result, tracker, type(twin).__name__, scopes, sources, budget)
    if budget is not None:
        budget.mark(itertools.chain(twin.parameters(), twin.buffers()))
    with without_dynamo_import(_CountingMode, compile=compile), \
            seeded_rngs(seed, device) as rng:
        if not train:
            if budget is not None:
                budget.mark([x])
            with torch.no_grad(), tracker, scopes, mode, sources:
                twin(x)
        else:
            x = grad_input(x)
            if budget is not None:
                budget.mark([x])
            with tracker, scopes, mode, sources:
                outs = grad_outputs(twin(x))
            grads = [torch.ones_like(t) for t in outs]  # the backward's seed is not the work
            mode.backward = True
            with tracker, mode:
                torch.autograd.backward(outs, grads)
    result.rng_used = rng["used"]
    result.calls = scopes.calls
    result.output_shapes = scopes.shapes
    result.reads_values = tuple(budget.reads) if budget is not None else ()
    return result
