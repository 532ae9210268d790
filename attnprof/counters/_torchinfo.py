"""torchinfo's summary, contained: it runs on a private copy of the module.

torchinfo counts mult-adds as parameters x output positions, so parameter-free modules
(pooling, activations) and functional ops count 0.
"""

from __future__ import annotations

import copy

from torchinfo import summary

from attnprof.counters import Counted, Target
from attnprof.counters.coverage import Attribution, torchinfo_covers
from attnprof.counters.own import seeded_rngs
from attnprof.results import Count


def count(target: Target) -> Counted:
    model = copy.deepcopy(target.module)
    x = target.input()
    with seeded_rngs(0, str(target.device)):  # the same random numbers as attnprof's seed 0
        stats = summary(model, input_data=[x], verbose=0, device=target.device,
                        mode="train" if target.train else "eval",
                        col_names=("output_size", "num_params", "mult_adds"))
    layers: dict[str, int | None] = {}
    zero_param_free: set[str] = set()
    layer_calls: dict[str, list[bool]] = {}  # leaf path -> per call, whether it counted
    for info in stats.summary_list:
        if not info.is_leaf_layer:
            continue
        path = _path(info)
        layer_calls.setdefault(path, []).append(info.macs > 0)
        parts = path.split(".") if path else []
        for depth in range(len(parts) + 1):
            key = ".".join(parts[:depth])
            layers[key] = layers.get(key, 0) + int(info.macs)
        if info.macs == 0:
            zero_param_free.add(info.class_name)
    layers.setdefault("", 0)
    notes = ["mult-adds = parameters x output positions: parameter-free modules and functional "
             "ops count 0"]
    if target.train:
        notes.append("torchinfo counts the forward pass only")
    result = Count(
        backend="torchinfo", status="ok", unit="MACs", reported=int(stats.total_mult_adds),
        macs=int(stats.total_mult_adds), flops=2 * int(stats.total_mult_adds),
        uncounted={c: 1 for c in sorted(zero_param_free)},
        notes=tuple(notes), layers=layers,
        extra={
            "params": int(stats.total_params),
            "trainable_params": int(stats.trainable_params),
            "input_bytes": int(stats.total_input),
            "forward_backward_pass_bytes": int(stats.total_output_bytes),
            "params_bytes": int(stats.total_param_bytes),
        },
        input="real", input_why="torchinfo runs the module on attnprof's input: N(0, 1) from "
        f"torch.Generator seed 0 on {target.device}, global RNGs seeded 0",
    )
    return Counted(result, Attribution(covers=lambda own: torchinfo_covers(layer_calls, own),
                                       same_input=True))


def _path(info) -> str:
    """torchinfo keeps each layer's own attribute name; the path is its parents' names."""
    names = []
    node = info
    while node is not None and node.depth > 0:
        names.append(node.var_name)
        node = node.parent_info
    return ".".join(reversed(names))
