"""The Profile: what one profiling run found, as frozen dataclasses with ``to_dict``/``from_dict``.

Every section is typed; ``to_dict()`` is exactly the ``attnprof.profile/1`` JSON document
(docs/contract.md), and ``from_dict`` reads it back. Reports and checks read Profiles and
never re-run anything. Torch-free (pandas only for ``to_frame``, rich only for display).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from attnprof.stats.bootstrap import ratio_ci, ratio_from_cis
from attnprof.stats.uncertainty import Estimate, Quality

PROFILE_SCHEMA = "attnprof.profile/1"
#: what every interval of a time covers, said in the JSON beside it (docs/latency.md)
INTERVAL_COVERS = ("the variation within this process only: not from process to process "
                   "or machine to machine (attnprof model --repeat N measures the former)")
RESULTS_SCHEMA = "attnprof.results/1"


def _known(cls: type, d: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``d`` that are fields of ``cls`` (a newer document may carry more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


# -- counting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cost:
    """attnprof's count of some work (one op, one module, or the whole block)."""

    calls: int = 0
    macs: int = 0
    flops: int = 0
    transcendentals: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    uncounted: int = 0  # calls that had no counting rule

    @property
    def bytes(self) -> int:
        return self.bytes_read + self.bytes_written

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Cost:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class OpCost(Cost):
    """One aten op's total over its calls, as attnprof counts it."""

    op: str = ""
    intensity: float | None = None  # FLOPs per byte read + written

    def to_dict(self) -> dict[str, Any]:
        cost = {f.name: getattr(self, f.name) for f in fields(Cost)}
        return {"op": self.op, **cost, "intensity": self.intensity}


def _missed_label(name: str, calls: int) -> str:
    """The JSON form of one missed op: ``aten::mul x2``, or ``Sigmoid (module)`` for a
    module type that a module-level backend does not know."""
    return f"{name} x{calls}" if "::" in name else f"{name} (module)"


def _parse_missed(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items or ():
        text = str(item)
        if text.endswith(" (module)"):
            name, calls = text[: -len(" (module)")], 1
        else:
            name, _, n = text.rpartition(" x")
            name, calls = (name, int(n)) if name and n.isdigit() else (text, 1)
        out[name] = out.get(name, 0) + calls
    return out


@dataclass(frozen=True)
class MissedOp:
    """Work attnprof counts that a wrapped backend did not: one aten op in one pass, with
    attnprof's FLOPs for the calls the backend missed (docs/counting.md)."""

    op: str  # "aten::bmm"
    flops: int
    calls: int
    backward: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "pass": "backward" if self.backward else "forward",
                "calls": self.calls, "flops": self.flops}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MissedOp:
        return cls(op=d["op"], flops=int(d.get("flops") or 0), calls=int(d.get("calls") or 0),
                   backward=d.get("pass") == "backward")


@dataclass(frozen=True)
class Count:
    """What one backend counted. ``macs`` is multiply-accumulates as that backend counts
    them; ``reported``/``unit`` is its headline figure in its own unit; ``layers`` maps a
    module path ("" for the block itself) to that backend's MACs there, children included.
    ``uncounted`` maps what the backend saw but did not count to how often it saw it: aten
    ops by their ``aten::`` name, or module types for module-level backends."""

    backend: str
    status: str
    error: str | None = None
    unit: str | None = None
    reported: int | None = None
    macs: int | None = None
    flops: int | None = None
    uncounted: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    layers: Mapping[str, int | None] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # backend-specific figures
    # attnprof's own counter only
    transcendentals: int | None = None
    bytes_read: int | None = None
    bytes_written: int | None = None
    ops: tuple[OpCost, ...] = ()
    layer_costs: Mapping[str, Cost] = field(default_factory=dict)
    device: str | None = None
    # what the count was made on (every backend; docs/counting.md, data-dependent blocks)
    input: str | None = None  # "meta" | "real" | "own" (the backend made its own input)
    input_why: str | None = None
    flops_range: tuple[int, int] | None = None  # (min, max) when the count varies by input
    # against attnprof's count (wrapped backends): flops of attnprof =
    # counted_flops + sum(missed flops) + unexplained_flops
    counted_flops: int | None = None  # attnprof's FLOPs of the work this backend counted
    missed: tuple[MissedOp, ...] = ()
    unexplained_flops: int | None = None
    not_compared: str | None = None  # why this figure is not compared with attnprof's

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def bytes(self) -> int | None:
        if self.bytes_read is None or self.bytes_written is None:
            return None
        return self.bytes_read + self.bytes_written

    @property
    def uncounted_ops(self) -> tuple[str, ...]:
        """The JSON form of ``uncounted`` (the contract's ``uncounted_ops``)."""
        return tuple(_missed_label(k, n) for k, n in self.uncounted.items())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "backend": self.backend, "status": self.status, "error": self.error,
            "unit": self.unit, "reported": self.reported, "macs": self.macs,
            "flops": self.flops, "uncounted_ops": list(self.uncounted_ops),
            "notes": list(self.notes), "layers": dict(self.layers), "extra": dict(self.extra),
            "input": self.input, "input_why": self.input_why,
            "flops_range": list(self.flops_range) if self.flops_range else None,
            "counted_flops": self.counted_flops,
            "missed_ops": [m.to_dict() for m in self.missed],
            "unexplained_flops": self.unexplained_flops, "not_compared": self.not_compared,
        }
        if self.backend == "attnprof":
            d.update({"transcendentals": self.transcendentals, "bytes_read": self.bytes_read,
                      "bytes_written": self.bytes_written,
                      "ops": [o.to_dict() for o in self.ops],
                      "layer_costs": {k: v.to_dict() for k, v in self.layer_costs.items()},
                      "device": self.device})
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Count:
        kw = _known(cls, d)
        kw["uncounted"] = _parse_missed(d.get("uncounted_ops"))
        kw["notes"] = tuple(kw.get("notes") or ())
        kw["ops"] = tuple(OpCost.from_dict(o) for o in kw.get("ops") or ())
        kw["layer_costs"] = {k: Cost.from_dict(v)
                             for k, v in (kw.get("layer_costs") or {}).items()}
        kw["missed"] = tuple(MissedOp.from_dict(m) for m in d.get("missed_ops") or ())
        if kw.get("flops_range"):
            kw["flops_range"] = tuple(kw["flops_range"])
        return cls(**kw)

    @classmethod
    def failed(cls, backend: str, error: str, status: str = "failed") -> Count:
        return cls(backend=backend, status=status, error=error)


# -- measuring ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Latency:
    """Wall time of one call of the block, from ``torch.utils.benchmark``."""

    median_ms: float
    iqr_ms: float
    min_ms: float
    mean_ms: float
    p90_ms: float
    samples: int
    runs_per_sample: int
    threads: int
    mode: str
    device: str
    images_per_s: float
    method: str
    compiled: bool = False
    cuda_graph: bool = False
    channels_last: bool = False
    device_ms: float | None = None  # CUDA only: kernel time between CUDA events, per call
    # the median's interval and how far to trust it (attnprof.stats); the interval
    # is None when there is none (one sample)
    ci_low_ms: float | None = None
    ci_high_ms: float | None = None
    ci_coverage: float | None = None  # the interval's exact confidence (order statistics)
    ci_method: str | None = None
    quality: Quality | None = None
    threads_reason: str | None = None
    l2_flush: bool = False  # CUDA cold-cache timing: L2 flushed before every call
    # the samples, ms per call, by interleaved round: in memory only (not in JSON), for
    # ratios within one run
    rounds_ms: tuple[tuple[float, ...], ...] = field(default=(), repr=False, compare=False)

    @property
    def samples_ms(self) -> tuple[float, ...]:
        """Every sample, ms per call (in memory only)."""
        return tuple(t for r in self.rounds_ms for t in r)

    @property
    def ci(self) -> Estimate:
        """The median (ms) and its interval; (0, inf) when there is none."""
        bounded = self.ci_low_ms is not None and self.ci_high_ms is not None
        return Estimate(self.median_ms, self.ci_low_ms if bounded else 0.0,
                        self.ci_high_ms if bounded else math.inf,
                        self.ci_coverage if bounded and self.ci_coverage else 1.0,
                        self.ci_method or "no interval")

    @property
    def trustworthy(self) -> bool:
        """False when the quality record says the samples timed the scheduler."""
        return self.quality is None or self.quality.trustworthy

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.quality.warnings if self.quality is not None else ()

    def ratio_to(self, baseline: Latency) -> Estimate:
        """This median / ``baseline``'s with a 95% interval: from both sets of samples when
        both are in memory (measured in this process; ``stats.ratio_ci``, by round when
        they were interleaved in the same rounds), else from the two stored intervals
        (``stats.ratio_from_cis``)."""
        a, b = self.rounds_ms, baseline.rounds_ms
        if len(self.samples_ms) > 1 and len(baseline.samples_ms) > 1:
            paired = len(a) == len(b)
            return ratio_ci(a if paired else self.samples_ms, b if paired else baseline.samples_ms)
        return ratio_from_cis(self.ci, baseline.ci)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rounds_ms"}
        d["quality"] = self.quality.to_dict() if self.quality is not None else None
        d["ci_covers"] = INTERVAL_COVERS
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Latency:
        kw = _known(cls, d)
        kw.pop("rounds_ms", None)
        if kw.get("quality") is not None:
            kw["quality"] = Quality.from_dict(kw["quality"])
        return cls(**kw)


@dataclass(frozen=True)
class Comparison:
    """Two times measured interleaved in one run: ``candidate / baseline``, the ratio of
    their medians, with its interval (``stats.ratio_ci``: a bootstrap of the samples,
    widened to the per-round ratios) and a verdict (``stats.verdict``: faster, slower, same
    within the noise threshold, or inconclusive). ``verdict`` reads as "the candidate is
    ... than the baseline". The interval covers the variation within this process only
    (docs/latency.md)."""

    ratio: float
    ci_low: float | None
    ci_high: float | None
    coverage: float | None
    verdict: str
    method: str

    @classmethod
    def of(cls, candidate: Latency, baseline: Latency, threshold: float | None = None
           ) -> Comparison:
        from attnprof.stats.verdicts import NOISE_THRESHOLD, verdict

        est = candidate.ratio_to(baseline)
        trusted = candidate.trustworthy and baseline.trustworthy
        return cls(ratio=est.value, ci_low=est.low if est.bounded else None,
                   ci_high=est.high if est.bounded else None,
                   coverage=est.coverage if est.bounded else None,
                   verdict=verdict(est, NOISE_THRESHOLD if threshold is None else threshold,
                                   trusted=trusted),
                   method=est.method)

    @property
    def estimate(self) -> Estimate:
        bounded = self.ci_low is not None and self.ci_high is not None
        return Estimate(self.ratio, self.ci_low if bounded else 0.0,
                        self.ci_high if bounded else math.inf,
                        self.coverage if bounded and self.coverage else 1.0, self.method)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Comparison:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class Memory:
    params_bytes: int
    activations_bytes: int | None
    peak_bytes: int | None
    peak_method: str | None
    saved_for_backward_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Memory:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class OpTime:
    """torch.profiler's self time of one aten op, per call of the block (``--ops``)."""

    op: str
    calls: int
    self_ms: float
    share: float  # of the summed self time

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OpTime:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class Roofline:
    """Achieved throughput against ``attnprof calibrate``'s peaks, and the floor
    max(FLOPs / peak, bytes / bandwidth)."""

    achieved_gbs: float
    achieved_gflops: float
    peak_gbs: float
    peak_gflops: float
    floor_ms: float
    bound: str  # "memory" | "compute"
    latency_over_floor: float | None
    calibrated_at: str | None = None
    # the last-level cache (bytes) and the block's working set (its estimated peak memory):
    # a working set that fits is not bound by the DRAM bandwidth the floor uses
    llc_bytes: int | None = None
    working_set_bytes: int | None = None
    cache_resident: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Roofline:
        return cls(**_known(cls, d))


# -- what was profiled ----------------------------------------------------------------------

@dataclass(frozen=True)
class BlockInfo:
    name: str
    options: Mapping[str, Any]
    kind: str | None = None
    source: str = "attnprof"
    paper: str | None = None
    # options a user's constructor took into its **kwargs that changed nothing in the built
    # block: reported, not recorded in ``options`` as applied
    unused_options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "kind": self.kind, "source": self.source,
             "paper": self.paper, "options": dict(self.options)}
        if self.unused_options:
            d["unused_options"] = dict(self.unused_options)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BlockInfo:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class InputInfo:
    shape: tuple[int, ...]  # (B, C, H, W)
    dtype: str
    device: str
    memory_format: str = "contiguous"

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "dtype": self.dtype, "device": self.device,
                "memory_format": self.memory_format}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InputInfo:
        kw = _known(cls, d)
        kw["shape"] = tuple(kw["shape"])
        return cls(**kw)

    @property
    def text(self) -> str:
        """``1×64×56×56``."""
        return "×".join(str(s) for s in self.shape)


@dataclass(frozen=True)
class Params:
    total: int
    trainable: int
    bytes: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Params:
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class Layer:
    """One submodule: its type, parameters, each backend's MACs there and attnprof's cost."""

    path: str
    depth: int
    type: str
    params: int
    macs: Mapping[str, int | None]
    cost: Cost | None = None  # attnprof's (JSON key "attnprof"; absent when it did not run)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "depth": self.depth, "type": self.type,
                             "params": self.params, "macs": dict(self.macs)}
        if self.cost is not None:
            d["attnprof"] = self.cost.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Layer:
        cost = d.get("attnprof")
        return cls(path=d["path"], depth=d["depth"], type=d["type"], params=d["params"],
                   macs=dict(d.get("macs") or {}),
                   cost=Cost.from_dict(cost) if cost else None)


@dataclass(frozen=True)
class Environment:
    attnprof: str
    torch: str
    device_name: str
    python: str | None = None
    platform: str | None = None
    device: str | None = None
    cpu: str | None = None
    cpu_count: int | None = None
    threads: int | None = None
    cuda: str | None = None
    cudnn: int | None = None
    gpus: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"attnprof": self.attnprof, "torch": self.torch, "python": self.python,
                "platform": self.platform, "device": self.device,
                "device_name": self.device_name, "cpu": self.cpu,
                "cpu_count": self.cpu_count, "threads": self.threads, "cuda": self.cuda,
                "cudnn": self.cudnn, "gpus": list(self.gpus)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Environment:
        kw = _known(cls, d)
        kw["gpus"] = tuple(kw.get("gpus") or ())
        kw.setdefault("attnprof", "?")
        kw.setdefault("torch", "?")
        kw.setdefault("device_name", "?")
        return cls(**kw)


# -- a block inside a network ---------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    """A whole network's figures: params, attnprof's MACs/FLOPs/bytes, peak memory, time."""

    params: int
    macs: int | None
    flops: int | None
    bytes: int | None
    peak_bytes: int | None
    latency: Latency | None = None


def _minus(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


@dataclass(frozen=True)
class HostDelta:
    """The network with the block in every slot (``total``) against the same network
    without it (``base``): what the block adds, as the papers report it."""

    name: str
    slot: str
    blocks: int  # slots filled
    block_options: Mapping[int, Mapping[str, Any]]  # resolved options per channel count
    base: Totals
    total: Totals
    # the network with the block against the network without it, timed interleaved
    latency_comparison: Comparison | None = None

    @property
    def block_channels(self) -> list[int]:
        return sorted(self.block_options)

    def added(self, key: str) -> float | None:
        """``params``, ``macs``, ``flops``, ``bytes``, ``peak_bytes`` or ``latency_ms``."""
        if key == "latency_ms":
            b, t = self.base.latency, self.total.latency
            return _minus(t.median_ms if t else None, b.median_ms if b else None)
        return _minus(getattr(self.total, key), getattr(self.base, key))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name, "slot": self.slot, "blocks": self.blocks,
            "block_channels": self.block_channels,
            "block_options": {str(c): dict(o) for c, o in sorted(self.block_options.items())},
        }
        for key in ("params", "macs", "flops", "bytes"):
            d[f"{key}_base"] = getattr(self.base, key)
            d[f"{key}_total"] = getattr(self.total, key)
            d[f"{key}_added"] = self.added(key)
        d["peak_bytes_base"] = self.base.peak_bytes
        d["peak_bytes_total"] = self.total.peak_bytes
        timed = self.base.latency is not None and self.total.latency is not None
        d["latency_base_ms"] = self.base.latency.median_ms if timed else None
        d["latency_total_ms"] = self.total.latency.median_ms if timed else None
        d["latency_added_ms"] = self.added("latency_ms") if timed else None
        d["latency_base"] = self.base.latency.to_dict() if timed else None
        c = self.latency_comparison if timed else None
        d["latency_ratio"] = c.ratio if c else None
        d["latency_ratio_ci"] = ([c.ci_low, c.ci_high] if c and c.ci_low is not None
                                 else None)
        d["latency_added_ci_ms"] = self.added_ci_ms()
        d["latency_verdict"] = c.verdict if c else None
        d["latency_comparison"] = c.to_dict() if c else None
        return d

    def added_ci_ms(self) -> list[float] | None:
        """The interval of the latency the block adds (ms): the ratio's interval times the
        network's median time without it."""
        c, b = self.latency_comparison, self.base.latency
        if c is None or c.ci_low is None or c.ci_high is None or b is None:
            return None
        return [(c.ci_low - 1) * b.median_ms, (c.ci_high - 1) * b.median_ms]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], latency: Latency | None = None) -> HostDelta:
        base_lat = Latency.from_dict(d["latency_base"]) if d.get("latency_base") else None

        def totals(which: str, lat: Latency | None) -> Totals:
            return Totals(params=d[f"params_{which}"], macs=d.get(f"macs_{which}"),
                          flops=d.get(f"flops_{which}"), bytes=d.get(f"bytes_{which}"),
                          peak_bytes=d.get(f"peak_bytes_{which}"), latency=lat)

        return cls(name=d["name"], slot=d["slot"], blocks=d["blocks"],
                   block_options={int(c): o for c, o in (d.get("block_options") or {}).items()},
                   base=totals("base", base_lat),
                   total=totals("total", latency if base_lat is not None else None),
                   latency_comparison=Comparison.from_dict(d["latency_comparison"])
                   if d.get("latency_comparison") else None)


# -- the profile ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """One block at one input, as every backend and measurement saw it.

    The headline figures are attributes (``flops``, ``macs``, ``params``, ``bytes``,
    ``transcendentals``, ``latency_ms``, ``peak_bytes``: attnprof's own count and the
    measurements); the sections hold the rest. ``to_dict()`` is the JSON document.
    """

    block: BlockInfo
    input: InputInfo
    mode: str
    parameters: Params
    counters: Mapping[str, Count]
    memory: Memory
    latency: Latency | None
    environment: Environment
    layers: tuple[Layer, ...] = ()
    name: str | None = None  # a case name in compare/suites; the block name otherwise
    op_times: tuple[OpTime, ...] = ()  # torch.profiler self time per op (--ops)
    roofline: Roofline | None = None  # against `attnprof calibrate`'s figures
    host: HostDelta | None = None  # the network the block sits in (--host)

    # headline figures ------------------------------------------------------------------
    @property
    def label(self) -> str:
        return self.name or self.block.name

    @property
    def own(self) -> Count | None:
        """attnprof's own count, when it ran and succeeded."""
        c = self.counters.get("attnprof")
        return c if c is not None and c.ok else None

    def _own(self, attr: str) -> int | None:
        own = self.own
        return getattr(own, attr) if own is not None else None

    @property
    def params(self) -> int:
        return self.parameters.total

    @property
    def macs(self) -> int | None:
        return self._own("macs")

    @property
    def flops(self) -> int | None:
        return self._own("flops")

    @property
    def transcendentals(self) -> int | None:
        return self._own("transcendentals")

    @property
    def bytes(self) -> int | None:
        return self._own("bytes")

    @property
    def peak_bytes(self) -> int | None:
        return self.memory.peak_bytes

    @property
    def latency_ms(self) -> float | None:
        return self.latency.median_ms if self.latency is not None else None

    @property
    def device(self) -> str:
        return self.input.device

    # documents ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PROFILE_SCHEMA,
            "name": self.label,
            "block": self.block.to_dict(),
            "input": self.input.to_dict(),
            "mode": self.mode,
            "params": self.parameters.to_dict(),
            "counters": {k: c.to_dict() for k, c in self.counters.items()},
            "memory": self.memory.to_dict(),
            "latency": self.latency.to_dict() if self.latency else None,
            "layers": [x.to_dict() for x in self.layers],
            "op_times": [x.to_dict() for x in self.op_times],
            "roofline": self.roofline.to_dict() if self.roofline else None,
            "host": self.host.to_dict() if self.host else None,
            "environment": self.environment.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        """The Profile of an ``attnprof.profile/1`` document (as ``to_dict()`` gives it).
        Raises :class:`~attnprof.errors.BadDocument` (a ``BadInput`` and a ``ValueError``)
        for anything else: not a mapping, another schema or a later version, a missing or
        malformed field."""
        from attnprof.errors import BadDocument
        from attnprof.validate import schema_mismatch

        wrong = schema_mismatch(d, PROFILE_SCHEMA)
        if wrong:
            raise BadDocument(wrong)
        try:
            return cls._from_dict(d)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            what = f"missing the key {exc}" if isinstance(exc, KeyError) else \
                f"{type(exc).__name__}: {str(exc)[:200]}"
            raise BadDocument(f"malformed {PROFILE_SCHEMA} document: {what}") from None

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> Profile:
        lat = Latency.from_dict(d["latency"]) if d.get("latency") else None
        return cls(
            block=BlockInfo.from_dict(d["block"]), input=InputInfo.from_dict(d["input"]),
            mode=d.get("mode", "infer"), parameters=Params.from_dict(d["params"]),
            counters={k: Count.from_dict(v) for k, v in d["counters"].items()},
            memory=Memory.from_dict(d["memory"]), latency=lat,
            environment=Environment.from_dict(d.get("environment") or {}),
            layers=tuple(Layer.from_dict(x) for x in d.get("layers") or ()),
            name=d.get("name"),
            op_times=tuple(OpTime.from_dict(x) for x in d.get("op_times") or ()),
            roofline=Roofline.from_dict(d["roofline"]) if d.get("roofline") else None,
            host=HostDelta.from_dict(d["host"], lat) if d.get("host") else None,
        )

    # in a notebook -------------------------------------------------------------------------
    def __repr__(self) -> str:
        """The headline, in the CLI's units: ``<Profile se [1x64x56x56 float32 cpu infer]:
        params=512, MACs=512, FLOPs=17.4 k, bytes=98.88 KiB, latency=19.7 µs>``."""
        from attnprof import units

        parts = [f"params={units.count(self.params)}", f"MACs={units.si(self.macs)}",
                 f"FLOPs={units.si(self.flops)}", f"bytes={units.nbytes(self.bytes)}"]
        if self.latency is not None:  # as the tables: the digits its interval supports
            from attnprof.report.views import median_text

            parts.append(f"latency={median_text(self.latency)}")
        where = f"{self.input.text} {self.input.dtype} {self.device} {self.mode}"
        host = f" in {self.host.name}" if self.host else ""
        return f"<Profile {self.label}{host} [{where}]: {', '.join(parts)}>"

    def show(self, layers: bool = False, ops: bool = False, file: Any = None) -> None:
        """Print the tables ``attnprof stat`` prints (``layers``: the per-module table,
        ``ops``: the per-op table, as ``--layers`` and ``--ops``) to ``file`` (stdout)."""
        from attnprof.library import print_tables
        from attnprof.report.rich_render import render

        print_tables(lambda c: render(self, c, layers=layers, ops=ops), file)

    def report(self, layers: bool = False, ops: bool = False, width: int = 160) -> str:
        """The tables :meth:`show` prints, as plain text."""
        from attnprof.library import text_of
        from attnprof.report.rich_render import render

        return text_of(lambda c: render(self, c, layers=layers, ops=ops), width)

    def _repr_html_(self) -> str:
        """The notebook display: the headline line, then each counter's figures and what
        was measured, as tables (pandas renders them). The full report is
        ``attnprof.report.html.profile_html(p)``; the data layer does not import it, so
        that the report layer can read Profiles without a circle."""
        import html

        head = f"<p><b>{html.escape(repr(self)[1:-1])}</b></p>"
        try:
            counters = self.to_frame("counters").to_html(index=False, na_rep="-")
        except ImportError:
            counters = ""
        measured = [("peak memory (bytes)", self.memory.peak_bytes, self.memory.peak_method),
                    ("activations written (bytes)", self.memory.activations_bytes, "")]
        if self.latency is not None:
            lat = self.latency
            measured.append(("latency median (ms)", f"{lat.median_ms:.4g}",
                             f"IQR {lat.iqr_ms:.3g} ms, {lat.samples} samples, "
                             f"{lat.threads} thread(s)"))
        rows = "".join(f"<tr><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td>"
                       f"<td>{html.escape(str(c or ''))}</td></tr>" for a, b, c in measured)
        return f"{head}{counters}<table>{rows}</table>"

    def to_frame(self, table: str = "layers") -> Any:
        """A pandas DataFrame of one of the tables ``attnprof stat`` prints: ``layers`` (one
        row per module: path, depth, type, params, each backend's MACs, attnprof's costs),
        ``ops`` (one row per aten op: attnprof's counts, with ``self_ms`` and
        ``time_share`` when timed with ``ops=True``) or ``counters`` (one row per backend:
        status, unit, reported, MACs, FLOPs, error). Another name is BadInput."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas comes with torchstat
            raise ImportError("to_frame needs pandas: pip install pandas") from exc
        if table == "layers":
            rows = []
            for x in self.layers:
                row: dict[str, Any] = {"path": x.path, "depth": x.depth, "type": x.type,
                                       "params": x.params}
                row.update({f"{b}_macs": v for b, v in x.macs.items()})
                if x.cost is not None:
                    row.update({k: v for k, v in x.cost.to_dict().items() if k != "calls"})
                rows.append(row)
            return pd.DataFrame(rows)
        if table == "ops":
            times = {t.op: t for t in self.op_times}
            own = self.own
            names = dict.fromkeys([*(o.op for o in (own.ops if own else ())), *times])
            counts = {o.op: o for o in (own.ops if own else ())}
            rows = []
            for name in names:
                row = {"op": name}
                if name in counts:
                    row.update({k: v for k, v in counts[name].to_dict().items() if k != "op"})
                if name in times:
                    row.update({"self_ms": times[name].self_ms, "time_share": times[name].share})
                rows.append(row)
            return pd.DataFrame(rows)
        if table == "counters":
            return pd.DataFrame([{"backend": c.backend, "status": c.status, "unit": c.unit,
                                  "reported": c.reported, "macs": c.macs, "flops": c.flops,
                                  "error": c.error} for c in self.counters.values()])
        from attnprof.errors import BadInput

        raise BadInput(f"to_frame: unknown table {table!r}; choose layers, ops or counters")


def results_document(profiles: list[Profile], **extra: Any) -> dict[str, Any]:
    """The ``attnprof.results/1`` document for several profiles."""
    return {"schema": RESULTS_SCHEMA, **extra, "results": [p.to_dict() for p in profiles]}


# -- a whole network (attnprof model) ---------------------------------------------------------

MODEL_SCHEMA = "attnprof.model/1"


@dataclass(frozen=True)
class ModuleCost:
    """One attention module of a network: where it is, what found it, its own parameters,
    attnprof's count of its work, and (timed) its own time inside the forward."""

    path: str
    type: str
    found_by: str  # "timm:se", "attnprof:cbam", "torchvision:SqueezeExcitation", "match:PAT"
    params: int
    macs: int
    flops: int
    bytes: int
    time_ms: float | None = None  # median over the hooked forwards
    time_share: float | None = None  # of each forward's time, median over the forwards
    time_ms_ci: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["time_ms_ci"] = list(self.time_ms_ci) if self.time_ms_ci else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModuleCost:
        kw = _known(cls, d)
        kw["time_ms_ci"] = tuple(kw["time_ms_ci"]) if kw.get("time_ms_ci") else None
        return cls(**kw)


def _pair(x: Any) -> tuple[float, float] | None:
    return (float(x[0]), float(x[1])) if x else None


def _pct_interval(low: float | None, high: float | None) -> list[float] | None:
    return [low, high] if low is not None and high is not None else None


@dataclass(frozen=True)
class OwnTime:
    """The attention modules' own time inside the forward, by module hooks: per forward, the
    time from each attention module's forward pre-hook to its forward hook, summed, and that
    sum's share of the (hooked) forward; medians over the forwards with their order-statistic
    intervals (``coverage``: their exact confidence)."""

    forwards: int
    network_ms: float  # the hooked forward (the hooks cost time of their own)
    attention_ms: float
    share: float
    network_ms_ci: tuple[float, float] | None
    attention_ms_ci: tuple[float, float] | None
    share_ci: tuple[float, float] | None
    coverage: float | None
    method: str

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in ("network_ms_ci", "attention_ms_ci", "share_ci"):
            d[k] = list(d[k]) if d[k] else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OwnTime:
        kw = _known(cls, d)
        for k in ("network_ms_ci", "attention_ms_ci", "share_ci"):
            kw[k] = _pair(kw.get(k))
        return cls(**kw)


@dataclass(frozen=True)
class Removal:
    """The saving by removal: the network against the same network with every attention
    module replaced by identity (same weights elsewhere), timed interleaved. ``share`` is
    ``1 - bare / network``; its interval comes from the ratio's; ``comparison`` is the
    network with its attention against the bare one (its verdict reads "the network with
    attention is slower/faster/the same")."""

    bare: Latency
    comparison: Comparison

    @property
    def share(self) -> float:
        return 1.0 - 1.0 / self.comparison.ratio if self.comparison.ratio > 0 else 0.0

    @property
    def share_ci(self) -> tuple[float, float] | None:
        c = self.comparison
        if c.ci_low is None or c.ci_high is None or c.ci_low <= 0:
            return None
        return (1.0 - 1.0 / c.ci_low, 1.0 - 1.0 / c.ci_high)

    def to_dict(self) -> dict[str, Any]:
        ci = self.share_ci
        return {"share": self.share, "share_ci": list(ci) if ci else None,
                "ratio": self.comparison.ratio,
                "ratio_ci": _pct_interval(self.comparison.ci_low, self.comparison.ci_high),
                "verdict": self.comparison.verdict, "coverage": self.comparison.coverage,
                "bare_ms": self.bare.median_ms,
                "bare_ms_ci": _pct_interval(self.bare.ci_low_ms, self.bare.ci_high_ms),
                "bare": self.bare.to_dict(), "comparison": self.comparison.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Removal:
        return cls(bare=Latency.from_dict(d["bare"]),
                   comparison=Comparison.from_dict(d["comparison"]))


@dataclass(frozen=True)
class NetworkTiming:
    """How a network was timed (``measure/``, the policy ``stat`` uses): the network alone
    (``latency``: torch.utils.benchmark, interleaved with the rest), the attention's own
    time by hooks, and the saving by removal (when every attention module keeps its input's
    shape, so identity can stand in). ``agreement`` says whether the two shares agree
    within their intervals, and what each answers when they do not."""

    latency: Latency
    own: OwnTime | None
    removal: Removal | None
    rounds: int
    stopped: str  # "decisive" | "time cap" | "max rounds"
    removal_why: str | None = None  # why there is no removal measure
    agreement: str | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.latency.warnings

    def to_dict(self) -> dict[str, Any]:
        lat, own = self.latency, self.own
        d: dict[str, Any] = {
            # the keys of attnprof.model/1 as they were first written
            "method": lat.method, "runs": lat.samples, "threads": lat.threads,
            "network_ms": lat.median_ms,
            "attention_ms": own.attention_ms if own else None,
            "attention_share": own.share if own else None,
            "network_ms_ci": _pct_interval(lat.ci_low_ms, lat.ci_high_ms),
            "attention_ms_ci": list(own.attention_ms_ci) if own and own.attention_ms_ci
            else None,
            "attention_share_ci": list(own.share_ci) if own and own.share_ci else None,
            "warnings": list(lat.warnings),
            # added with the timing policy of stat
            "threads_reason": lat.threads_reason, "ci_coverage": lat.ci_coverage,
            "rounds": self.rounds, "stopped": self.stopped,
            "latency": lat.to_dict(), "own": own.to_dict() if own else None,
            "removal": self.removal.to_dict() if self.removal else None,
            "removal_why": self.removal_why, "agreement": self.agreement,
            "intervals_cover": INTERVAL_COVERS,
        }
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NetworkTiming:
        return cls(latency=Latency.from_dict(d["latency"]),
                   own=OwnTime.from_dict(d["own"]) if d.get("own") else None,
                   removal=Removal.from_dict(d["removal"]) if d.get("removal") else None,
                   rounds=d.get("rounds") or 0, stopped=d.get("stopped") or "",
                   removal_why=d.get("removal_why"), agreement=d.get("agreement"))


@dataclass(frozen=True)
class NetworkProfile:
    """A whole network as ``attnprof model`` saw it: its totals (attnprof's count, the other
    backends beside it), each attention module found in it, and, when timed, the network's
    time, the attention's own time and the saving by removal. ``to_dict()`` is the
    ``attnprof.model/1`` document; ``from_dict`` reads it back."""

    network: str
    input: tuple[int, ...]
    dtype: str
    device: str  # where it was timed; "meta" when counted only
    params: int
    counters: Mapping[str, Count]
    modules: tuple[ModuleCost, ...]
    memory: Memory | None = None
    timing: NetworkTiming | None = None
    block: Mapping[str, Any] | None = None  # --block: the block put in the network's slots
    notes: tuple[str, ...] = ()
    repeat: Mapping[str, Any] | None = None  # --repeat: the spread over fresh processes
    environment: Environment | None = None

    # headline figures ------------------------------------------------------------------
    @property
    def own(self) -> Count | None:
        c = self.counters.get("attnprof")
        return c if c is not None and c.ok else None

    @property
    def macs(self) -> int | None:
        return self.own.macs if self.own else None

    @property
    def flops(self) -> int | None:
        return self.own.flops if self.own else None

    @property
    def bytes(self) -> int | None:
        return self.own.bytes if self.own else None

    @property
    def latency_ms(self) -> float | None:
        return self.timing.latency.median_ms if self.timing else None

    def attention_total(self, key: str) -> int:
        """``params``, ``macs``, ``flops`` or ``bytes`` of the attention modules together."""
        return sum(getattr(m, key) for m in self.modules)

    @property
    def attention_params(self) -> int:
        return self.attention_total("params")

    @property
    def attention_flops(self) -> int:
        return self.attention_total("flops")

    @property
    def own_time_share(self) -> float | None:
        """The attention modules' own time over the forward's (module hooks)."""
        return self.timing.own.share if self.timing and self.timing.own else None

    @property
    def removal_share(self) -> float | None:
        """``1 - bare / network``: how much faster the network is without its attention."""
        return self.timing.removal.share if self.timing and self.timing.removal else None

    def shares(self) -> dict[str, float | None]:
        """The attention's share of the network's params, MACs, FLOPs, bytes and time (its
        own time; the saving by removal is ``removal_share``)."""
        totals = {"params": self.params, "macs": self.macs, "flops": self.flops,
                  "bytes": self.bytes}
        out: dict[str, float | None] = {
            k: (self.attention_total(k) / v if v else None) for k, v in totals.items()}
        out["time"] = self.own_time_share
        return out

    # documents ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        own = self.own
        t = self.timing
        att_ms = t.own.attention_ms if t and t.own else None
        return {
            "schema": MODEL_SCHEMA,
            "network": {"name": self.network, "input": list(self.input), "dtype": self.dtype,
                        "device": self.device, "params": self.params, "macs": self.macs,
                        "flops": self.flops, "bytes": self.bytes,
                        "time_ms": self.latency_ms,
                        "uncounted_ops": dict(own.uncounted) if own else {}},
            "block": dict(self.block) if self.block is not None else None,
            "attention": {"modules": len(self.modules),
                          **{k: self.attention_total(k)
                             for k in ("params", "macs", "flops", "bytes")},
                          "time_ms": att_ms, "share": self.shares(),
                          "removal_share": self.removal_share},
            "modules": [m.to_dict() for m in self.modules],
            "timing": t.to_dict() if t else None,
            "counters": {k: c.to_dict() for k, c in self.counters.items()},
            "memory": self.memory.to_dict() if self.memory else None,
            "notes": list(self.notes),
            "repeat": dict(self.repeat) if self.repeat is not None else None,
            "environment": self.environment.to_dict() if self.environment else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NetworkProfile:
        """Read an ``attnprof.model/1`` document back; :class:`BadDocument` for anything
        else (not a mapping, another schema or version, a missing or malformed field)."""
        from attnprof.errors import BadDocument

        if not isinstance(d, Mapping) or d.get("schema") != MODEL_SCHEMA:
            found = d.get("schema") if isinstance(d, Mapping) else type(d).__name__
            raise BadDocument(f"not an {MODEL_SCHEMA} document (schema: {found!r})")
        try:
            return cls._from_dict(d)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise BadDocument(f"a malformed {MODEL_SCHEMA} document: {type(exc).__name__}: "
                              f"{exc}") from None

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> NetworkProfile:
        net = d["network"]
        return cls(
            network=net["name"], input=tuple(net["input"]), dtype=net["dtype"],
            device=net["device"], params=net["params"],
            counters={k: Count.from_dict(v) for k, v in (d.get("counters") or {}).items()},
            modules=tuple(ModuleCost.from_dict(m) for m in d.get("modules") or ()),
            memory=Memory.from_dict(d["memory"]) if d.get("memory") else None,
            timing=NetworkTiming.from_dict(d["timing"])
            if d.get("timing") and d["timing"].get("latency") else None,
            block=d.get("block"), notes=tuple(d.get("notes") or ()), repeat=d.get("repeat"),
            environment=Environment.from_dict(d["environment"]) if d.get("environment")
            else None)

    def __repr__(self) -> str:
        from attnprof.units import nbytes, percent, si

        share = self.shares()
        parts = [f"params={self.params:,}", f"flops={si(self.flops) if self.flops else '-'}",
                 f"bytes={nbytes(self.bytes) if self.bytes is not None else '-'}",
                 f"attention={len(self.modules)} modules "
                 f"({percent(share['params'], 1) if share['params'] is not None else '-'} of "
                 "params)"]
        if self.latency_ms is not None:
            parts.append(f"latency={self.latency_ms:.4g} ms")
        if self.removal_share is not None:
            parts.append(f"removal share={percent(self.removal_share, 1)}")
        where = f"{'x'.join(map(str, self.input))} {self.dtype} {self.device}"
        return f"<NetworkProfile {self.network} [{where}]: {', '.join(parts)}>"

    def to_frame(self, table: str = "modules") -> Any:
        """A pandas DataFrame of ``modules`` (one row per attention module) or ``counters``
        (one row per backend's count of the whole network)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas comes with torchstat
            raise ImportError("to_frame needs pandas: pip install pandas") from exc
        if table == "modules":
            return pd.DataFrame([m.to_dict() for m in self.modules])
        if table == "counters":
            return pd.DataFrame([{"backend": c.backend, "status": c.status, "unit": c.unit,
                                  "reported": c.reported, "macs": c.macs, "flops": c.flops,
                                  "error": c.error} for c in self.counters.values()])
        raise ValueError(f"to_frame: unknown table {table!r}; choose modules or counters")
