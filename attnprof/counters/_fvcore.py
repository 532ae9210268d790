"""fvcore's FlopCountAnalysis and ActivationCountAnalysis, contained.

fvcore traces the module with the JIT and counts one multiply-add as one "flop"; ops it has
no handle for are listed by ``unsupported_ops()`` (and logged, which attnprof keeps quiet).
Ops in fvcore's ignore list (``relu``, ``max``, ``clamp``, comparisons ...) count 0 and are
not listed at all; attnprof's reconciliation finds them (:mod:`attnprof.counters.coverage`).
"""

from __future__ import annotations

import copy

import torch
from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

from attnprof.counters import Counted, Target
from attnprof.counters.coverage import Attribution, exclusive, fvcore_covers, unplaced_fvcore
from attnprof.counters.own import seeded_rngs
from attnprof.results import Count

_MAC_OPS = {"conv", "linear", "matmul", "addmm", "bmm", "einsum", "mm", "baddbmm"}


def _quiet(analysis):
    return analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False) \
        .tracer_warnings("none")


def count(target: Target) -> Counted:
    model = copy.deepcopy(target.module).train(target.train)
    x = target.input()
    device = str(target.device)
    with torch.no_grad():
        with seeded_rngs(0, device):  # the same random numbers as attnprof's seed-0 count
            flops = _quiet(FlopCountAnalysis(model, (x,)))
            total = int(flops.total())
        by_module = {k: int(v) for k, v in flops.by_module().items()}
        by_operator = {k: int(v) for k, v in flops.by_operator().items()}
        per_module = {k: dict(v) for k, v in flops.by_module_and_operator().items()}
        unsupported = flops.unsupported_ops()
        with seeded_rngs(0, device):
            activations = int(_quiet(ActivationCountAnalysis(model, (x,))).total())
    # fvcore's "flop" is a multiply-add for matmuls and convs, but one per element for norms,
    # pooling and upsampling: only the former double when put in FLOPs.
    as_flops = sum(2 * n if op in _MAC_OPS else n for op, n in by_operator.items())
    notes = ["one multiply-add counts as one flop; ops without a handle count 0"]
    if target.train:
        notes.append("fvcore counts the forward pass only")
    result = Count(
        backend="fvcore", status="ok", unit="MACs", reported=total,
        macs=total, flops=as_flops,
        uncounted=dict(sorted(unsupported.items())),
        notes=tuple(notes), layers=by_module,
        extra={"activations": activations, "by_operator": by_operator},
        input="real", input_why="fvcore traces the module on attnprof's input: N(0, 1) from "
        f"torch.Generator seed 0 on {device}, global RNGs seeded 0",
    )
    handled = exclusive(per_module)
    return Counted(result, Attribution(covers=lambda own: fvcore_covers(handled), same_input=True,
                                       unplaced=lambda own: unplaced_fvcore(handled, own)))
