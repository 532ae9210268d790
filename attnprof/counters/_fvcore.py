"""fvcore's FlopCountAnalysis and ActivationCountAnalysis, contained.

fvcore traces the module with the JIT and counts one multiply-add as one "flop"; ops it has
no handle for are listed by ``unsupported_ops()`` (and logged, which attnprof keeps quiet).
"""

from __future__ import annotations

import copy

import torch
from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

from attnprof.counters import Target
from attnprof.results import Count

_MAC_OPS = {"conv", "linear", "matmul", "addmm", "bmm", "einsum", "mm", "baddbmm"}


def _quiet(analysis):
    return analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False) \
        .tracer_warnings("none")


def count(target: Target) -> Count:
    model = copy.deepcopy(target.module).train(target.train)
    x = target.input()
    with torch.no_grad():
        flops = _quiet(FlopCountAnalysis(model, (x,)))
        total = int(flops.total())
        by_module = {k: int(v) for k, v in flops.by_module().items()}
        by_operator = {k: int(v) for k, v in flops.by_operator().items()}
        unsupported = flops.unsupported_ops()
        activations = int(_quiet(ActivationCountAnalysis(model, (x,))).total())
    # fvcore's "flop" is a multiply-add for matmuls and convs, but one per element for norms,
    # pooling and upsampling: only the former double when put in FLOPs.
    as_flops = sum(2 * n if op in _MAC_OPS else n for op, n in by_operator.items())
    notes = ["one multiply-add counts as one flop; ops without a handle count 0"]
    if target.train:
        notes.append("fvcore counts the forward pass only")
    return Count(
        backend="fvcore", status="ok", unit="MACs", reported=total,
        macs=total, flops=as_flops,
        uncounted=dict(sorted(unsupported.items())),
        notes=tuple(notes), layers=by_module,
        extra={"activations": activations, "by_operator": by_operator},
    )
