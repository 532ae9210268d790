"""The machine a latency is measured on, from /proc and cgroups: the run queue
(``machine_state``), the CPUs this process may use (``usable_cpus``: affinity and cgroup CPU
quota) and the thread count to time with (``default_threads``), each with its reason.
Standard library only; without /proc the figures are unknown, never a failure.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MachineState", "default_threads", "machine_state", "usable_cpus"]


@dataclass(frozen=True)
class MachineState:
    """The run queue as /proc sees it. ``others``: runnable tasks that are not this
    process's threads; ``cores``: CPUs this process may use."""

    load1: float | None
    runnable: int | None
    own_running: int
    cores: int

    @property
    def others(self) -> int | None:
        return None if self.runnable is None else max(0, self.runnable - self.own_running)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _own_running(proc: Path) -> int:
    """This process's threads in state R (running or runnable)."""
    n = 0
    with contextlib.suppress(OSError):
        for task in (proc / "self" / "task").iterdir():
            stat = _read(task / "stat")
            if stat and stat.rpartition(")")[2].split()[:1] == ["R"]:
                n += 1
    return max(n, 1)   # the thread reading this is running


def _cgroup_quota(root: Path, proc: Path) -> tuple[float | None, str]:
    """CPUs allowed by a cgroup CPU quota (v2 ``cpu.max``, v1 ``cfs_quota_us``), if any."""
    groups = _read(proc / "self" / "cgroup") or ""
    own_v2 = next((line.split(":", 2)[2].strip() for line in groups.splitlines()
                   if line.startswith("0::")), "/")
    for d in dict.fromkeys((root / own_v2.lstrip("/"), root)):
        text = _read(d / "cpu.max")
        if text:
            quota, period = (text.split() + ["100000"])[:2]
            if quota != "max" and int(period) > 0:
                return int(quota) / int(period), f"cgroup v2 cpu.max {text.strip()}"
            return None, ""
    for d in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu"):
        quota, period = _read(d / "cpu.cfs_quota_us"), _read(d / "cpu.cfs_period_us")
        if quota and period and int(quota) > 0 and int(period) > 0:
            return int(quota) / int(period), f"cgroup v1 quota {int(quota)}/{int(period)} us"
    return None, ""


def usable_cpus(*, cgroup_root: str | Path = "/sys/fs/cgroup",
                proc: str | Path = "/proc") -> tuple[int, str]:
    """How many CPUs this process may use: its affinity mask, cut by a cgroup CPU quota
    (rounded up: 1.5 CPUs of quota can keep two threads half-busy). With the reason."""
    try:
        affinity = len(os.sched_getaffinity(0))
        why = f"affinity {affinity}"
    except (AttributeError, OSError):
        affinity = os.cpu_count() or 1
        why = f"{affinity} CPUs"
    quota, quota_why = _cgroup_quota(Path(cgroup_root), Path(proc))
    if quota is not None and math.ceil(quota) < affinity:
        return max(1, math.ceil(quota)), f"{why}, {quota_why}"
    return affinity, why


def machine_state(*, cores: int | None = None, proc: str | Path = "/proc",
                  reads: int = 1, interval_s: float = 0.002) -> MachineState:
    """The run queue now: /proc/loadavg's runnable count (the median of ``reads`` reads) less
    this process's own running threads, and the 1-minute load. Without /proc: unknowns."""
    proc = Path(proc)
    cores = cores if cores is not None else usable_cpus(proc=proc)[0]
    runnable, own, load1 = [], [], None
    for i in range(max(1, reads)):
        text = _read(proc / "loadavg")
        if text is None:
            return MachineState(None, None, 1, cores)
        parts = text.split()
        load1 = float(parts[0])
        runnable.append(int(parts[3].split("/")[0]))
        own.append(_own_running(proc))
        if i + 1 < reads:
            time.sleep(interval_s)
    others = sorted(r - o for r, o in zip(runnable, own, strict=True))[len(runnable) // 2]
    own_now = own[-1]
    return MachineState(load1, max(0, others) + own_now, own_now, cores)


def default_threads(*, limit: int | None = None, state: MachineState | None = None,
                    cgroup_root: str | Path = "/sys/fs/cgroup",
                    proc: str | Path = "/proc") -> tuple[int, str]:
    """The thread count to time with, and why: the usable CPUs (affinity, cgroup quota),
    less the other runnable tasks, less one CPU left for the rest of the machine (when all
    of them would be busy, one descheduled worker stalls every parallel op for a whole
    scheduler slice: the times snap to 4/8/16 ms), at most ``limit`` (torch's own count),
    at least 1."""
    cores, why = usable_cpus(cgroup_root=cgroup_root, proc=proc)
    if state is None:
        state = machine_state(cores=cores, proc=proc, reads=5)
    others = state.others or 0
    free = cores - others
    threads = max(1, free - 1) if cores > 1 else 1
    parts = [f"{cores} usable CPU{'s' * (cores != 1)} ({why})"]
    if state.others is None:
        parts.append("run queue unknown")
    else:
        parts.append(f"{others} other runnable task{'s' * (others != 1)}")
    if cores > 1:
        parts.append("one CPU left for the rest of the machine")
    if limit is not None and threads > limit:
        threads = limit
        parts.append(f"capped at torch's {limit}")
    return threads, ", ".join(parts) + f": {threads} thread{'s' * (threads != 1)}"
