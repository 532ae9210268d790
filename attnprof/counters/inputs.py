"""What a count was made on: meta tensors, or a real, seeded input when the block needs data
or when the input is small enough that real tensors are cheaper (:mod:`attnprof.counters.real`).

A block whose forward looks at values (``if x.mean() > 0``, ``.item()``, ``nonzero``, boolean
masks, shapes that follow the data) cannot run on the meta device. attnprof then counts it
on real tensors on the target device: N(0, 1) from a private ``torch.Generator`` seeded 0,
with the global RNGs (torch, Python, NumPy) seeded 0 for the run and restored after. Such a
count may depend on the input, so it is repeated on seeds 1 and 2; so is a meta count when
the block drew from a global RNG (a branch on ``torch.rand``). Where the counts differ, the
range is reported beside the seed-0 count, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attnprof.contain import one_line

SEEDS = (0, 1, 2)
INPUT_TEXT = "N(0, 1) from torch.Generator seed {seed}, global RNGs seeded {seed}"


@dataclass
class Runs:
    """One counting function's results on the inputs it needed."""

    device: str  # "meta", or the real device it ran on
    meta_error: str | None  # why it could not run on meta
    results: dict[int, Any] = field(default_factory=dict)  # seed -> result
    rng_used: bool = False
    chosen: bool = False  # on real tensors by choice (a small input), not for want of meta
    reads: tuple[str, ...] = ()  # value-reading ops a chosen real run saw (nonzero, item)

    @property
    def first(self) -> Any:
        return self.results[SEEDS[0]]

    @property
    def on_meta(self) -> bool:
        return self.device == "meta"

    @property
    def reseeded(self) -> bool:
        return len(self.results) > 1

    @property
    def needs_data(self) -> bool:
        """Whether the count may depend on the input's values: the block does not run on
        meta, or it read values on the real tensors it was counted on by choice."""
        return (not self.on_meta and not self.chosen) or bool(self.reads)


# run(device, seed, budget) -> (result, drew_from_a_global_rng); budget: the guard of a real
# count by choice (attnprof.counters.real.Budget), None otherwise
Run = Callable[[str, int, Any], tuple[Any, bool]]


def run_on_inputs(run: Run, device: str, real_first: bool = False) -> Runs:
    """On meta when the block runs there, else on ``device`` for real; with ``real_first``
    (a small input on a CPU target), on ``device`` for real first, under a budget, and on
    meta only when that fails. Again on the other seeds when the count could depend on the
    input (it needs data, or the block drew random numbers)."""
    runs = _real_first(run, device) if real_first else None
    if runs is None:
        meta_error = None
        try:
            result, used = run("meta", SEEDS[0], None)
            where = "meta"
        except Exception as exc:  # the block needs data: count it on a real input
            meta_error = one_line(exc)
            where = device
            result, used = run(device, SEEDS[0], None)
        runs = Runs(where, meta_error, {SEEDS[0]: result}, used)
    if runs.needs_data or runs.rng_used:
        for seed in SEEDS[1:]:
            runs.results[seed], again = run(runs.device, seed, _budget(runs))
            runs.rng_used = runs.rng_used or again
    return runs


def _budget(runs: Runs) -> Any:
    if not runs.chosen:
        return None
    from attnprof.counters.real import Budget

    return Budget()


def _real_first(run: Run, device: str) -> Runs | None:
    """The seed-0 run on real tensors by choice; None when it does not fit in the budget or
    fails (the meta device then decides, as for any other input)."""
    from attnprof.counters.real import Budget

    budget = Budget()
    try:
        result, used = run(device, SEEDS[0], budget)
    except Exception:
        return None
    return Runs(device, None, {SEEDS[0]: result}, used, chosen=True, reads=tuple(budget.reads))


def run_like(run: Run, plan: Runs) -> Runs:
    """``run`` on the inputs another backend's count was made on (the same device, seeds and
    reasons), so that the two are counts of the same thing."""
    runs = Runs(plan.device, plan.meta_error, chosen=plan.chosen, reads=plan.reads)
    for seed in plan.results:
        runs.results[seed], used = run(plan.device, seed, None)
        runs.rng_used = runs.rng_used or used
    return runs


def spread(values: dict[int, int | None]) -> tuple[int, int] | None:
    """(min, max) of the values when they differ; None when they agree."""
    found = [v for v in values.values() if v is not None]
    if len(set(found)) < 2:
        return None
    return min(found), max(found)


def describe(runs: Runs) -> str:
    """Why the count was made where it was, for ``counters.<backend>.input_why``."""
    drew = ("; the block draws random numbers, so it was also counted with the global RNGs "
            f"seeded {', '.join(str(s) for s in SEEDS[1:])}") if runs.reseeded else ""
    if runs.on_meta:
        return "meta tensors: shapes only, so the count does not depend on the input's values" \
            + drew
    if runs.chosen and not runs.reads:
        return (f"real {runs.device} tensors: the input is small, so counting on it is quicker "
                f"than on the meta device and gives the same count; "
                f"{INPUT_TEXT.format(seed=0)}{drew}")
    again = " and ".join(str(s) for s in SEEDS[1:])
    why = runs.meta_error or f"it reads values: {', '.join(runs.reads)}"
    return (f"the block does not run on the meta device ({why}); counted on "
            f"{runs.device} tensors: {INPUT_TEXT.format(seed=0)} (and again on seeds {again}"
            " to see whether the count depends on the input)")


def variation_note(backend: str, runs: Runs, flops: dict[int, int | None]) -> str | None:
    """A warning when the count differs between seeds."""
    found = spread(flops)
    if found is None:
        return None
    per_seed = ", ".join(f"seed {s}: {v:,}" for s, v in sorted(flops.items()) if v is not None)
    what = "input" if runs.needs_data else "random numbers the block draws"
    return (f"WARNING: the count depends on the {what}: {found[0]:,} to {found[1]:,} FLOPs "
            f"({per_seed}); the figures shown are seed 0's")
