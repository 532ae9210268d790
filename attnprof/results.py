"""The Profile: what one profiling run found, as frozen dataclasses with ``to_dict``/``from_dict``.

The JSON documents of CONTRACT.md are exactly ``to_dict()``; reports and checks read
Profiles and never re-run anything. Torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PROFILE_SCHEMA = "attnprof.profile/1"
RESULTS_SCHEMA = "attnprof.results/1"


@dataclass(frozen=True)
class Count:
    """What one backend counted. ``macs`` is multiply-accumulates as that backend counts
    them; ``reported``/``unit`` is its headline figure in its own unit; ``layers`` maps a
    module path ("" for the block itself) to that backend's MACs there, children included."""

    backend: str
    status: str
    error: str | None = None
    unit: str | None = None
    reported: int | None = None
    macs: int | None = None
    flops: int | None = None
    uncounted_ops: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    layers: Mapping[str, int | None] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # backend-specific figures
    # attnprof's own counter only
    transcendentals: int | None = None
    bytes_read: int | None = None
    bytes_written: int | None = None
    ops: tuple[Mapping[str, Any], ...] = ()
    layer_costs: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    device: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def bytes(self) -> int | None:
        if self.bytes_read is None or self.bytes_written is None:
            return None
        return self.bytes_read + self.bytes_written

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["uncounted_ops"] = list(self.uncounted_ops)
        d["notes"] = list(self.notes)
        d["ops"] = [dict(o) for o in self.ops]
        d["layers"] = dict(self.layers)
        d["extra"] = dict(self.extra)
        d["layer_costs"] = {k: dict(v) for k, v in self.layer_costs.items()}
        if self.backend != "attnprof":
            for key in ("transcendentals", "bytes_read", "bytes_written", "ops", "layer_costs",
                        "device"):
                d.pop(key)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Count:
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        for key in ("uncounted_ops", "notes"):
            kw[key] = tuple(kw.get(key) or ())
        kw["ops"] = tuple(kw.get("ops") or ())
        return cls(**kw)

    @classmethod
    def failed(cls, backend: str, error: str, status: str = "failed") -> Count:
        return cls(backend=backend, status=status, error=error)


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Memory:
    params_bytes: int
    activations_bytes: int | None
    peak_bytes: int | None
    peak_method: str | None
    saved_for_backward_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Profile:
    """One block at one input, as every backend and measurement saw it."""

    block: Mapping[str, Any]
    input: Mapping[str, Any]
    mode: str
    params: Mapping[str, int]
    counters: Mapping[str, Count]
    memory: Memory
    latency: Latency | None
    environment: Mapping[str, Any]
    layers: tuple[Mapping[str, Any], ...] = ()
    name: str | None = None  # a case name in compare/suites; the block name otherwise
    op_times: tuple[Mapping[str, Any], ...] = ()  # torch.profiler self time per op (--ops)
    roofline: Mapping[str, Any] | None = None  # against `attnprof calibrate`'s figures
    host: Mapping[str, Any] | None = None  # the network the block sits in (--host)

    @property
    def label(self) -> str:
        return self.name or self.block["name"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PROFILE_SCHEMA,
            "name": self.label,
            "block": dict(self.block),
            "input": dict(self.input),
            "mode": self.mode,
            "params": dict(self.params),
            "counters": {k: c.to_dict() for k, c in self.counters.items()},
            "memory": self.memory.to_dict(),
            "latency": self.latency.to_dict() if self.latency else None,
            "layers": [dict(x) for x in self.layers],
            "op_times": [dict(x) for x in self.op_times],
            "roofline": dict(self.roofline) if self.roofline else None,
            "host": dict(self.host) if self.host else None,
            "environment": dict(self.environment),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        if d.get("schema") != PROFILE_SCHEMA:
            raise ValueError(f"not an {PROFILE_SCHEMA} document (schema: {d.get('schema')!r})")
        lat = d.get("latency")
        return cls(
            block=d["block"], input=d["input"], mode=d.get("mode", "infer"), params=d["params"],
            counters={k: Count.from_dict(v) for k, v in d["counters"].items()},
            memory=Memory(**d["memory"]),
            latency=Latency(**lat) if lat else None,
            environment=d.get("environment", {}), layers=tuple(d.get("layers") or ()),
            name=d.get("name"), op_times=tuple(d.get("op_times") or ()),
            roofline=d.get("roofline"), host=d.get("host"),
        )


def results_document(profiles: list[Profile], **extra: Any) -> dict[str, Any]:
    """The ``attnprof.results/1`` document for several profiles."""
    return {"schema": RESULTS_SCHEMA, **extra, "results": [p.to_dict() for p in profiles]}
