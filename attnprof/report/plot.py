"""Sweep plots with matplotlib (the ``plot`` extra): latency, FLOPs, bytes and params against
the swept axis, log-log, one line per block."""

from __future__ import annotations

from typing import Any

from attnprof.errors import BadInput
from attnprof.metrics import metric
from attnprof.results import Profile
from attnprof.sweep import axis_value, swept_axes

PANELS = [("latency_ms", "latency (ms, median)"), ("flops", "FLOPs (attnprof, all ops)"),
          ("bytes", "bytes read + written"), ("params", "parameters")]
AXIS_LABEL = {"channels": "channels C", "size": "spatial size √(H·W) (pixels)",
              "batch": "batch B", "dtype": "dtype"}


def require_matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise BadInput("--plot needs matplotlib: pip install 'attnprof[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_sweep(profiles: list[Profile], path: str, scaling: list[dict[str, Any]]) -> None:
    """Write a 2x2 PNG; lines are blocks (and any second swept axis)."""
    plt = require_matplotlib()
    axes = [a for a in swept_axes(profiles) if a != "dtype"] or ["channels"]
    x_axis = axes[0]
    others = [a for a in swept_axes(profiles) if a != x_axis]
    fits = {(f["block"], m): f[m] for f in scaling for m in ("latency_ms", "flops", "bytes",
                                                              "params")}
    fig, grid = plt.subplots(2, 2, figsize=(12, 8.5), dpi=110)
    groups: dict[str, list[Profile]] = {}
    for p in profiles:
        key = p.block.name + "".join(f", {a}={axis_value(p, a):g}" if a != "dtype"
                                        else f", {p.input.dtype}" for a in others)
        groups.setdefault(key, []).append(p)
    for ax, (m, label) in zip(grid.flat, PANELS, strict=True):
        for key, ps in groups.items():
            pts = sorted((axis_value(p, x_axis), metric(p, m)) for p in ps)
            pts = [(x, y) for x, y in pts if y is not None and y > 0]
            if not pts:
                continue
            k = fits.get((key, m))
            legend = key + (f"  (∝ x^{k:.2f})" if k is not None else "")
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=legend)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted({axis_value(p, x_axis) for p in profiles})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel(AXIS_LABEL[x_axis])
        ax.set_ylabel(label)
        ax.set_title(label, fontsize=11)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    first = profiles[0]
    fixed = ", ".join(f"{a}={axis_value(first, a):g}" if a != "dtype"
                      else first.input.dtype for a in ("channels", "size", "batch", "dtype")
                      if a not in swept_axes(profiles))
    fig.suptitle(f"attnprof sweep over {x_axis}" + (f" ({fixed})" if fixed else "")
                 + f", {first.input.device}, mode {first.mode}")
    fig.tight_layout()
    from attnprof.files import check_writable

    check_writable(path)
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".png", dir=target.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png")
        from attnprof.files import replace_atomically

        replace_atomically(tmp, target)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
