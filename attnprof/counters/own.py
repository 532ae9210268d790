"""attnprof's own counter: every aten op a block runs, costed by :mod:`attnprof.counters.rules`.

It runs the block under a ``TorchDispatchMode`` on the meta device, where tensors have shapes
but no data, so a count needs no memory and no time whatever the input size. Module
attribution uses PyTorch's ``ModuleTracker``, as ``FlopCounterMode`` does.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.module_tracker import ModuleTracker

from attnprof.counters.rules import Call, rule_for


@dataclass
class Tally:
    """Costs summed over calls; ``uncounted`` calls had no rule (their bytes still count)."""

    calls: int = 0
    macs: int = 0
    flops: int = 0
    transcendentals: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    uncounted: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def bytes(self) -> int:
        return self.bytes_read + self.bytes_written

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class OpCount:
    """The result of one counting run."""

    total: Tally = field(default_factory=Tally)
    ops: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    layers: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    uncounted_ops: Counter = field(default_factory=Counter)
    device: str = "meta"
    peak_live_bytes: int = 0  # most bytes of op outputs alive at once (an estimate of peak)


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


class _CountingMode(TorchDispatchMode):
    def __init__(self, result: OpCount, tracker: ModuleTracker, root: str) -> None:
        super().__init__()
        self.result = result
        self.tracker = tracker
        self.root = root
        self.live = 0
        self._live_by_storage: dict[int, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        rule = rule_for(func)
        if rule is None and not func.is_view:
            # An op without a rule may decompose into ops that have one (as FlopCounterMode does).
            with self:
                decomposed = func.decompose(*args, **kwargs)
            if decomposed is not NotImplemented:
                return decomposed
        out = func(*args, **kwargs)
        if not func.is_view:
            self._record(func, rule, args, kwargs, out)
        return out

    def _record(self, func, rule, args, kwargs, out) -> None:
        inputs = _unique(tree_flatten((args, kwargs))[0])
        outputs = _unique(tree_flatten(out)[0])
        if not outputs and not inputs:
            return
        tally = Tally(calls=1)
        tally.bytes_read = sum(tensor_bytes(t) for t in inputs)
        name = func._schema.name
        written = outputs
        if rule is None:
            tally.uncounted = 1
            self.result.uncounted_ops[name] += 1
        else:
            cost = rule(Call(func, tuple(args), kwargs, inputs, outputs, out))
            tally.macs, tally.flops = cost.macs, cost.flops
            tally.transcendentals = cost.transcendentals
            if cost.written_outputs is not None:
                written = outputs[:cost.written_outputs]
        tally.bytes_written = sum(tensor_bytes(t) for t in written)
        self.result.total.add(tally)
        self.result.ops[name].add(tally)
        for parent in set(self.tracker.parents):
            if parent == "Global":
                continue
            path = "" if parent == self.root else parent.split(".", 1)[1]
            self.result.layers[path].add(tally)
        self._track_live(outputs)

    def _track_live(self, outputs: list[torch.Tensor]) -> None:
        """Estimate peak memory: add each new storage an op writes, drop it when freed."""
        import weakref

        for t in outputs:
            try:
                storage = t.untyped_storage()
            except (RuntimeError, NotImplementedError):
                continue
            key = storage._cdata
            if key in self._live_by_storage:
                continue
            nbytes = storage.nbytes()
            self._live_by_storage[key] = nbytes
            self.live += nbytes
            self.result.peak_live_bytes = max(self.result.peak_live_bytes, self.live)
            weakref.finalize(t, self._release, key)

    def _release(self, key: int) -> None:
        nbytes = self._live_by_storage.pop(key, 0)
        self.live -= nbytes


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


def count_module(
    module: nn.Module, shape: tuple[int, ...], dtype: torch.dtype, *, train: bool = False,
    device: str = "meta",
) -> OpCount:
    """Count one forward (and, with ``train``, the backward) of ``module`` on ``shape``.

    ``device="meta"`` counts without data; any other device runs a private copy for real.
    One dispatch mode sees both passes, so the tensors the forward leaves alive for the
    backward count toward the peak.
    """
    twin = meta_copy(module) if device == "meta" else copy.deepcopy(module).to(device)
    if dtype.is_floating_point:
        twin.to(dtype=dtype)
    twin.train(train)
    x = torch.empty(shape, dtype=dtype, device=device)
    if device != "meta":
        x.normal_(generator=torch.Generator(device=device).manual_seed(0))
    result = OpCount(device=device)
    tracker = ModuleTracker()
    mode = _CountingMode(result, tracker, type(twin).__name__)
    if not train:
        with torch.no_grad(), tracker, mode:
            twin(x)
        return result
    x.requires_grad_(True)
    with tracker, mode:
        outs = grad_outputs(twin(x))
    grads = [torch.ones_like(t) for t in outs]  # the backward's seed is not the block's work
    with tracker, mode:
        torch.autograd.backward(outs, grads)
    return result
