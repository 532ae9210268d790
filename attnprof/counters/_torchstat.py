"""torchstat 0.0.7, contained.

torchstat's report step calls ``DataFrame.append`` (gone since pandas 2), so attnprof stops
before it and reads the statistics torchstat has already gathered in its stat tree. torchstat
replaces ``__call__`` on every leaf module class and registers buffers on the model; it runs
here on a private copy, and every class it touched gets its own ``__call__`` back.
"""

from __future__ import annotations

import copy
import re
import sys
from typing import Any

import torch
from torchstat.model_hook import ModelHook
from torchstat.statistics import convert_leaf_modules_to_stat_tree

from attnprof.counters import Counted, Target
from attnprof.counters.coverage import Attribution, torchstat_covers
from attnprof.counters.own import seeded_rngs
from attnprof.results import Count

_MISSING = object()
_UNSUPPORTED = re.compile(r"\[(MAdd|Flops|Memory)\]: (\w+) is not supported!")


OWN_INPUT = ("torchstat makes its own input: torch.rand(1, C, H, W) (uniform in [0, 1), "
             "batch 1, global RNG seeded 0), not attnprof's")


def count(target: Target) -> Counted:
    if not str(target.device).startswith("cpu"):
        return Counted(Count.failed("torchstat", "torchstat runs on CPU only; its counts do "
                                    "not depend on the device: rerun with --device cpu to see "
                                    "them", "skipped"))
    model = copy.deepcopy(target.module).to(device="cpu", dtype=torch.float32)
    classes = {type(m) for m in model.modules() if not list(m.children())}
    saved = {cls: cls.__dict__.get("__call__", _MISSING) for cls in classes}
    import contextlib
    import io

    printed = io.StringIO()
    try:
        with torch.no_grad(), contextlib.redirect_stdout(printed), seeded_rngs(0):
            hook = ModelHook(model, tuple(target.shape[1:]))
            tree = convert_leaf_modules_to_stat_tree(hook.retrieve_leaf_modules())
    finally:
        for cls, original in saved.items():
            if original is _MISSING:
                if "__call__" in cls.__dict__:
                    delattr(cls, "__call__")
            else:
                cls.__call__ = original
        # hand torchstat's prints on: run_backend discards them, or shows them with --verbose
        sys.stdout.write(printed.getvalue())
    batch = target.shape[0]
    root = tree.root_node
    layers: dict[str, int | None] = {"": int(root.Flops) * batch}
    madd_layers: dict[str, int] = {"": int(root.MAdd) * batch}
    for node in _walk(root):
        layers[node.name] = int(node.Flops) * batch
        madd_layers[node.name] = int(node.MAdd) * batch
    # StatNode.Memory crashes on any node with children (it adds into a tuple), so the
    # memory read/written is summed over the leaves, where it is torchstat's own figure.
    leaves = [n for n in _walk(root) if not n.children]
    read = sum(int(n.Memory[0]) for n in leaves)
    write = sum(int(n.Memory[1]) for n in leaves)
    unsupported = sorted({m.group(2) for m in _UNSUPPORTED.finditer(printed.getvalue())})
    notes = ["counts modules only: functional ops (x * w, torch.max, torch.mean) are never seen",
             "a module called twice is recorded once (its last call)"]
    if batch != 1:
        notes.append(f"torchstat runs batch 1 only; its figures are scaled by the batch ({batch})")
    if target.train:
        notes.append("torchstat counts the forward pass only")
    if target.dtype != torch.float32:
        notes.append("torchstat runs in float32 only")
    extra: dict[str, Any] = {
        "madd": int(root.MAdd) * batch,
        "memory_read_bytes": read * batch,
        "memory_write_bytes": write * batch,
        "params": int(root.parameter_quantity),
        "madd_layers": madd_layers,
    }
    counted = {n.name for n in leaves if int(n.Flops) or int(n.MAdd)}
    result = Count(
        backend="torchstat", status="ok", unit="MACs", reported=int(root.Flops) * batch,
        macs=int(root.Flops) * batch, flops=int(root.MAdd) * batch,
        uncounted={name: 1 for name in unsupported}, notes=tuple(notes),
        layers=layers, extra=extra, input="own", input_why=OWN_INPUT,
    )
    return Counted(result, Attribution(covers=lambda own: torchstat_covers(counted, own),
                                       same_input=False))


def _walk(node: Any):
    for child in node.children:
        yield child
        yield from _walk(child)
