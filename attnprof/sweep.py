"""Sweeps: one block set over the Cartesian product of channels, sizes, batches and dtypes.

:func:`plan` names every case of the product; :func:`run_sweep` runs them one by one, hands
the finished ones to a ``save`` callback after each (so an interrupted sweep keeps them) and
skips those an earlier run finished (``--resume``); :func:`scaling` fits how each cost grows.
Nothing here prints or exits: the command line (and a suite's ``[sweep]`` table, through it)
reports progress, writes the files and turns Ctrl-C into its message and exit code. Importing
this module does not import torch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import replace
from typing import Any

from attnprof.errors import BadInput
from attnprof.metrics import metric
from attnprof.request import ProfileRequest
from attnprof.results import Profile
from attnprof.values import DTYPES, parse_choice, parse_size

AXES = ("channels", "size", "batch", "dtype")


def parse_list(what: str, value: str | Iterable[Any], parse) -> list[Any]:
    """``"16,32,64"`` (or a list) -> parsed values, in order, without repeats."""
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[Any] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        v = parse(text)
        if v not in out:
            out.append(v)
    if not out:
        raise BadInput(f"--{what} needs at least one value, e.g. --{what} 16,32,64")
    return out


def _positive(what: str):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise BadInput(f"--{what}: {text!r} is not an integer") from None
        if v < 1:
            raise BadInput(f"--{what}: values must be positive integers, got {v}")
        return v

    return parse


def plan(blocks: list[str], channels, sizes, batches, dtypes,
         base: ProfileRequest) -> list[ProfileRequest]:
    """Every case of the product, named so a later run can recognise it."""
    cs = parse_list("channels", channels, _positive("channels"))
    ss = parse_list("size", sizes, parse_size)
    bs = parse_list("batch", batches, _positive("batch"))
    ds = parse_list("dtype", dtypes, lambda t: parse_choice("dtype", t, DTYPES))
    out = []
    for block, c, (h, w), b, d in itertools.product(blocks, cs, ss, bs, ds):
        name = f"{block} c={c} {h}x{w} b={b} {d}"
        out.append(replace(base, block=block, channels=c, size=(h, w), batch=b, dtype=d,
                           name=name).validated())
    return out


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_sweep`, raised after the finished cases were saved."""

    def __init__(self, finished: list[Profile], total: int) -> None:
        super().__init__(f"{len(finished)} of {total} cases finished")
        self.finished = finished
        self.total = total


def run_sweep(cases: list[ProfileRequest], *, prior: Iterable[Profile] = (),
              skip: Collection[str] = (),
              save: Callable[[list[Profile]], None] | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> list[Profile]:
    """Profile ``cases`` one by one, in order, except those named in ``skip`` (finished by an
    earlier run); return every finished profile, ``prior`` (that run's profiles) first.

    ``progress(message, done, total)`` is called before each case, ``save(finished)`` after
    each, so Ctrl-C loses at most the case in flight: on KeyboardInterrupt ``save`` runs once
    more and :class:`SweepInterrupted` is raised with what finished. A sweep that names a case
    twice is bad input.
    """
    from attnprof.runner import profile as run_case

    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise BadInput("the sweep repeats a case; give each block once")
    todo = [c for c in cases if c.name not in skip]
    finished = list(prior)
    try:
        for i, case in enumerate(todo):
            if progress is not None:
                progress(f"{case.name} ({i + 1}/{len(todo)})", i, len(todo))
            finished.append(run_case(case))
            if save is not None:
                save(finished)
    except KeyboardInterrupt:
        if save is not None:
            save(finished)
        raise SweepInterrupted(finished, len(cases)) from None
    return finished


def swept_axes(profiles: list[Profile]) -> list[str]:
    """The axes with more than one value, in the order channels, size, batch, dtype."""
    values: dict[str, set[Any]] = {a: set() for a in AXES}
    for p in profiles:
        for a in AXES:
            values[a].add(axis_value(p, a))
    return [a for a in AXES if len(values[a]) > 1]


def axis_value(p: Profile, axis: str) -> Any:
    b, c, h, w = p.input.shape
    return {"channels": c, "size": math.sqrt(h * w), "batch": b, "dtype": p.input.dtype}[axis]


def fit(xs: list[float], ys: list[float], flagged: list[bool] | None = None):
    """The log-log least-squares fit of cost on the axis (``attnprof.stats.fits.Fit``: exponent,
    its 95% interval, R²), or None with fewer than two usable points."""
    from attnprof.stats.fits import loglog_fit

    flags = flagged if flagged is not None else [False] * len(xs)
    pts = [(x, y, f) for x, y, f in zip(xs, ys, flags, strict=True)
           if x and y and x > 0 and y > 0]
    if len({x for x, _, _ in pts}) < 2:
        return None
    return loglog_fit([x for x, _, _ in pts], [y for _, y, _ in pts],
                      flagged=[f for _, _, f in pts])


def scaling_exponent(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y on log x: cost ∝ x^k. None with < 2 usable points."""
    found = fit(xs, ys)
    return found.slope if found is not None else None


FIT_METRICS = ("latency_ms", "flops", "bytes", "params")


def scaling(profiles: list[Profile]) -> list[dict[str, Any]]:
    """Where exactly one numeric axis is swept: each block's exponent per metric, and under
    ``fits`` each fit's interval, R² and whether its inputs were trustworthy."""
    axes = [a for a in swept_axes(profiles) if a != "dtype"]
    if len(axes) != 1 or "dtype" in swept_axes(profiles):
        return []
    axis = axes[0]
    out = []
    for block in dict.fromkeys(p.block.name for p in profiles):
        mine = [p for p in profiles if p.block.name == block]
        row: dict[str, Any] = {"block": block, "axis": axis}
        fits: dict[str, Any] = {}
        for m in FIT_METRICS:
            points = [(axis_value(p, axis), metric(p, m),
                       m == "latency_ms" and p.latency is not None and not p.latency.trustworthy)
                      for p in mine]
            points = [pt for pt in points if pt[1] is not None]
            found = fit([x for x, _, _ in points], [y for _, y, _ in points],
                        [f for _, _, f in points]) if len(points) > 1 else None
            # an exponent fitted to times that timed the scheduler is no exponent at all
            row[m] = found.slope if found is not None and found.trustworthy else None
            fits[m] = found.to_dict() if found is not None else None
        row["fits"] = fits
        out.append(row)
    return out
