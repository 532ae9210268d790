"""What each wrapped backend counted and missed, in attnprof's terms.

attnprof's own count files every op call in a cell (:class:`~attnprof.counters.own.Cell`:
pass, innermost module and which call of it, the torch function the code called, the
module's parameters it reads). Each wrapped backend says what *it* attributed work to; a
cell it covers is counted, every other cell is missed. So for every backend

    attnprof's FLOPs = counted_flops + sum(missed ops' FLOPs) + unexplained_flops

where ``counted_flops`` is attnprof's figure for the work the backend counted (its own figure
for that work can differ by convention: a bias, a norm counted per element),
``unexplained_flops`` is work that could not be matched either way (0 unless the backend's
record and attnprof's disagree on how often a module ran), and the missed ops are listed.

Coverage comes from each backend's own record, not from a list of module types:

* ``torch`` (FlopCounterMode): the aten ops it gave FLOPs to (``get_flop_counts()``), in both
  passes;
* ``fvcore``: per module, the op handles that gave FLOPs there (``by_module_and_operator()``,
  minus the children's); a cell is covered when the torch function that produced it is
  traced as one of those ops (``F.linear`` -> ``linear``, ``conv2d`` -> ``conv``,
  ``F.interpolate`` -> ``upsample_nearest2d``). Forward pass only;
* ``torchinfo``: each call of each leaf layer it gave mult-adds to; its formula is
  parameters x output positions, so the ops of that call that read one of the parameters it
  counts (names with ``weight`` or ``bias``) are covered. Forward pass only;
* ``torchstat``: each leaf module it gave a non-zero figure to, for the module's last call
  (it keeps one record per module). Forward pass only.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from attnprof.counters.inputs import Runs
from attnprof.counters.own import Cell, OpCount
from attnprof.results import Count, MissedOp

Covers = Callable[[Cell], bool | None]  # True counted, False missed, None cannot tell


@dataclass(frozen=True)
class Attribution:
    """What a wrapped backend's run says it counted. ``covers(own)`` gives the test of one of
    attnprof's cells (True counted, False missed, None cannot tell); ``unplaced(own)`` names
    what the backend counted that attnprof has no op for."""

    covers: Callable[[OpCount], Covers]
    same_input: bool  # it ran on attnprof's seed-0 input (or its run does not depend on one)
    unplaced: Callable[[OpCount], tuple[str, ...]] | None = None


# -- attnprof's count, shared by every backend of one target ---------------------------------

_REFERENCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _key(target) -> tuple:
    return (tuple(target.shape), str(target.dtype), target.mode, str(target.device))


def reference(target) -> Runs:
    """attnprof's count of ``target`` (``Runs`` of :class:`OpCount`), computed once per target
    and kept while the module lives: the attnprof backend reports it, and every other
    backend is matched against its seed-0 run."""
    from attnprof.counters.inputs import run_on_inputs
    from attnprof.counters.own import count_module

    per_module = _REFERENCES.setdefault(target.module, {})
    key = _key(target)
    if key not in per_module:
        def run(device: str, seed: int, budget) -> tuple[OpCount, bool]:
            result = count_module(target.module, target.shape, target.dtype,
                                  train=target.train, device=device, seed=seed, budget=budget,
                                  compile=target.compile)
            return result, result.rng_used

        per_module[key] = run_on_inputs(run, target.device, real_first=target.counts_on_real())
    return per_module[key]


def depends_on_input(runs: Runs) -> bool:
    """Whether another input (a backend's own) could have given another count."""
    flops = {r.total.flops for r in runs.results.values()}
    return runs.needs_data or len(flops) > 1


# -- matching -----------------------------------------------------------------------------

def reconcile(count: Count, attribution: Attribution, runs: Runs) -> Count:
    """``count`` with ``counted_flops``, ``missed`` and ``unexplained_flops`` filled in from
    attnprof's seed-0 cells, or ``not_compared`` saying why they cannot be."""
    if not count.ok:
        return count
    if not attribution.same_input and depends_on_input(runs):
        why = (f"not compared with attnprof: {count.backend} ran on its own input, not "
               "attnprof's, and this block's count depends on the input")
        return replace(count, not_compared=why, notes=(*count.notes, why))
    own: OpCount = runs.first
    covers = attribution.covers(own)
    counted = unexplained = 0
    missed: dict[tuple[str, bool], list[int]] = {}
    for cell, tally in own.cells.items():
        verdict = covers(cell)
        if verdict is None:
            unexplained += tally.flops
        elif verdict:
            counted += tally.flops
        elif tally.flops:
            entry = missed.setdefault((cell.op, cell.backward), [0, 0])
            entry[0] += tally.flops
            entry[1] += tally.calls
    unexplained += own.total.flops - counted - unexplained - sum(f for f, _ in missed.values())
    ops = tuple(sorted((MissedOp(op=op, flops=f, calls=n, backward=bw)
                        for (op, bw), (f, n) in missed.items()),
                       key=lambda m: (-m.flops, m.backward, m.op)))
    notes = list(count.notes)
    if attribution.unplaced is not None:
        notes += [f"{count.backend} counted {u}, where attnprof saw no such op"
                  for u in attribution.unplaced(own)]
    return replace(count, counted_flops=counted, missed=ops, unexplained_flops=unexplained,
                   notes=tuple(notes))


def forward_only(covers: Covers) -> Covers:
    return lambda cell: False if cell.backward else covers(cell)


# -- per backend ------------------------------------------------------------------------------

def torch_covers(counted_ops: Iterable[str]) -> Covers:
    """FlopCounterMode: the aten ops (``aten::mm``) it gave FLOPs to, in either pass."""
    names = set(counted_ops)
    return lambda cell: cell.op in names


def torchinfo_covers(layer_calls: dict[str, list[bool]], own: OpCount) -> Covers:
    """``layer_calls``: leaf layer path -> for each of its calls, whether torchinfo gave it
    mult-adds. A call attnprof saw a different number of times cannot be matched."""

    def covers(cell: Cell) -> bool | None:
        calls = layer_calls.get(cell.scope)
        reads = any("weight" in p or "bias" in p for p in cell.params)
        if calls is None or not reads:
            return False
        if len(calls) != own.calls.get(cell.scope, 0):
            return None
        return calls[cell.call]

    return forward_only(covers)


def torchstat_covers(counted_leaves: set[str], own: OpCount) -> Covers:
    """torchstat keeps one record per leaf module, its last call's."""

    def covers(cell: Cell) -> bool:
        return cell.scope in counted_leaves and cell.call == own.calls.get(cell.scope, 0) - 1

    return forward_only(covers)


# torch functions whose fvcore (JIT) op has another name
_FVCORE_KIND = {
    **dict.fromkeys(("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                     "conv_transpose3d", "convolution", "_convolution", "conv_tbc"), "conv"),
    "grid_sample": "grid_sampler",
}
_RESAMPLING = {"interpolate", "upsample", "upsample_nearest", "upsample_bilinear"}


def fvcore_kind(cell: Cell) -> str:
    """The op fvcore's JIT trace records for the code that produced ``cell``."""
    if cell.source in _RESAMPLING:  # traced as the kernel it picks: upsample_nearest2d, ...
        return cell.op.split("::", 1)[-1]
    return _FVCORE_KIND.get(cell.source, cell.source)


def fvcore_covers(handled: dict[str, set[str]]) -> Covers:
    """``handled``: module path -> the op handles that gave FLOPs in that module itself."""
    return forward_only(lambda cell: fvcore_kind(cell) in handled.get(cell.scope, ()))


def exclusive(per_module: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """fvcore's per-module counts include the children's; what each module counted itself."""
    out: dict[str, set[str]] = {}
    for name, ops in per_module.items():
        depth = name.count(".") + 1 if name else 0
        children = [c for c in per_module if c != name and (c.startswith(name + ".") or not name)
                    and c.count(".") + 1 == depth + 1]
        kinds = set()
        for kind, value in ops.items():
            below = sum(per_module[c].get(kind, 0) for c in children)
            if value - below > 0:
                kinds.add(kind)
        out[name] = kinds
    return out


def unplaced_fvcore(handled: dict[str, set[str]], own: OpCount) -> tuple[str, ...]:
    seen = {(c.scope, fvcore_kind(c)) for c in own.cells if not c.backward}
    return tuple(f"{kind} in '{scope or '(block)'}'" for scope, kinds in sorted(handled.items())
                 for kind in sorted(kinds) if (scope, kind) not in seen)
