"""A whole network as ``attnprof model`` saw it: its attention modules' costs, their own
time, the saving by removal, and the NetworkProfile holding them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from attnprof.results.counts import Cost, Count, WithCounters
from attnprof.results.measures import Comparison, Latency, Memory
from attnprof.results.profile import Environment
from attnprof.results.record import Record, key, listed
from attnprof.results.schema import INTERVAL_COVERS, MODEL_SCHEMA, _known


@dataclass(frozen=True)
class ModuleCost:
    """One attention module of a network: where it is, what found it, its own parameters,
    attnprof's count of its work (``cost``: the one cost record, the own count's
    ``layer_costs`` entry for its path), and (timed) its own time inside the forward. The
    ``attnprof.model/1`` document gives of its cost ``macs``, ``flops`` and ``bytes``."""

    path: str
    type: str
    found_by: str  # "timm:se", "attnprof:cbam", "torchvision:SqueezeExcitation", "match:PAT"
    params: int
    cost: Cost = field(default_factory=Cost)
    time_ms: float | None = None  # median over the hooked forwards
    time_share: float | None = None  # of each forward's time, median over the forwards
    time_ms_ci: tuple[float, float] | None = None

    @property
    def macs(self) -> int:
        return self.cost.macs

    @property
    def flops(self) -> int:
        return self.cost.flops

    @property
    def bytes(self) -> int:
        return self.cost.bytes

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "type": self.type, "found_by": self.found_by,
                "params": self.params, "macs": self.macs, "flops": self.flops,
                "bytes": self.bytes, "time_ms": self.time_ms, "time_share": self.time_share,
                "time_ms_ci": listed(self.time_ms_ci)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], costs: Mapping[str, Cost] | None = None
                  ) -> ModuleCost:
        """Read back; ``costs``: the own count's ``layer_costs``, whose entry for the path
        is the module's cost when it agrees with the document (otherwise the document's
        bytes, read and written together, stand as ``bytes_read``)."""
        kw = _known(cls, d)
        kw["time_ms_ci"] = tuple(kw["time_ms_ci"]) if kw.get("time_ms_ci") else None
        cost = (costs or {}).get(d["path"])
        if cost is None or (cost.macs, cost.flops, cost.bytes) != (d["macs"], d["flops"],
                                                                  d["bytes"]):
            cost = Cost(macs=d["macs"], flops=d["flops"], bytes_read=d["bytes"])
        return cls(**kw, cost=cost)


def _pair(x: Any) -> tuple[float, float] | None:
    return (float(x[0]), float(x[1])) if x else None


#: an interval of OwnTime's, (low, high): null when there is none
_INTERVAL = key(dump=listed, load=_pair)


def _interval(low: float | None, high: float | None) -> list[float] | None:
    return [low, high] if low is not None and high is not None else None


@dataclass(frozen=True)
class OwnTime(Record):
    """The attention modules' own time inside the forward, by module hooks: per forward, the
    time from each attention module's forward pre-hook to its forward hook, summed, and that
    sum's share of the (hooked) forward; medians over the forwards with their order-statistic
    intervals (``coverage``: their exact confidence)."""

    forwards: int
    network_ms: float  # the hooked forward (the hooks cost time of their own)
    attention_ms: float
    share: float
    network_ms_ci: tuple[float, float] | None = field(metadata=_INTERVAL)
    attention_ms_ci: tuple[float, float] | None = field(metadata=_INTERVAL)
    share_ci: tuple[float, float] | None = field(metadata=_INTERVAL)
    coverage: float | None
    method: str


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
        return {"share": self.share, "share_ci": listed(ci),
                "ratio": self.comparison.ratio,
                "ratio_ci": _interval(self.comparison.ci_low, self.comparison.ci_high),
                "verdict": self.comparison.verdict, "coverage": self.comparison.coverage,
                "bare_ms": self.bare.median_ms,
                "bare_ms_ci": _interval(self.bare.ci_low_ms, self.bare.ci_high_ms),
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
            "network_ms_ci": _interval(lat.ci_low_ms, lat.ci_high_ms),
            "attention_ms_ci": listed(own.attention_ms_ci) if own else None,
            "attention_share_ci": listed(own.share_ci) if own else None,
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


@dataclass(frozen=True, repr=False)
class NetworkProfile(WithCounters):
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
    # own, macs, flops, bytes: from WithCounters
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
        counters = {k: Count.from_dict(v) for k, v in (d.get("counters") or {}).items()}
        own = counters.get("attnprof")
        return cls(
            network=net["name"], input=tuple(net["input"]), dtype=net["dtype"],
            device=net["device"], params=net["params"], counters=counters,
            modules=tuple(ModuleCost.from_dict(m, own.layer_costs if own else None)
                          for m in d.get("modules") or ()),
            memory=Memory.from_dict(d["memory"]) if d.get("memory") else None,
            timing=NetworkTiming.from_dict(d["timing"])
            if d.get("timing") and d["timing"].get("latency") else None,
            block=d.get("block"), notes=tuple(d.get("notes") or ()), repeat=d.get("repeat"),
            environment=Environment.from_dict(d["environment"]) if d.get("environment")
            else None)

