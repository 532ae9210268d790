"""The Profile: one block at one input, as every backend and measurement saw it, with
the sections it holds (what was profiled, the block inside a host network)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from attnprof.results.counts import Cost, Count, OwnFigure, WithCounters
from attnprof.results.measures import Comparison, Latency, Memory, OpTime, Roofline
from attnprof.results.record import Record, key, tupled
from attnprof.results.schema import PROFILE_SCHEMA, RESULTS_SCHEMA

# -- what was profiled ----------------------------------------------------------------------

@dataclass(frozen=True)
class BlockInfo(Record):
    name: str
    options: Mapping[str, Any] = field(metadata=key(after="paper"))
    kind: str | None = None
    source: str = "attnprof"
    paper: str | None = None
    # options a user's constructor took into its **kwargs that changed nothing in the built
    # block: reported, not recorded in ``options`` as applied (no key when there are none)
    unused_options: Mapping[str, Any] = field(default_factory=dict, metadata=key(
        omit=lambda b: not b.unused_options))


@dataclass(frozen=True)
class InputInfo(Record):
    shape: tuple[int, ...] = field(metadata=key(required=True, load=tuple))  # (B, C, H, W)
    dtype: str
    device: str
    memory_format: str = "contiguous"

    @property
    def text(self) -> str:
        """``1×64×56×56``."""
        return "×".join(str(s) for s in self.shape)


@dataclass(frozen=True)
class Params(Record):
    total: int
    trainable: int
    bytes: int


_REQUIRED = key(required=True)
_UNKNOWN = key(absent="?")  # where an older document has no such key


@dataclass(frozen=True)
class Layer(Record):
    """One submodule: its type, parameters, each backend's MACs there and attnprof's cost."""

    path: str = field(metadata=_REQUIRED)
    depth: int = field(metadata=_REQUIRED)
    type: str = field(metadata=_REQUIRED)
    params: int = field(metadata=_REQUIRED)
    macs: Mapping[str, int | None] = field(metadata=key(load=lambda x: dict(x or {})))
    # attnprof's (JSON key "attnprof"; absent when it did not run)
    cost: Cost | None = field(default=None, metadata=key(
        "attnprof", omit=lambda layer: layer.cost is None,
        load=lambda x: Cost.from_dict(x) if x else None))


@dataclass(frozen=True)
class Environment(Record):
    attnprof: str = field(metadata=_UNKNOWN)
    torch: str = field(metadata=_UNKNOWN)
    device_name: str = field(metadata=key(absent="?", after="device"))
    python: str | None = None
    platform: str | None = None
    device: str | None = None
    cpu: str | None = None
    cpu_count: int | None = None
    threads: int | None = None
    cuda: str | None = None
    cudnn: int | None = None
    gpus: tuple[str, ...] = field(default=(), metadata=key(load=tupled))


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
        for fig in ("params", "macs", "flops", "bytes"):
            d[f"{fig}_base"] = getattr(self.base, fig)
            d[f"{fig}_total"] = getattr(self.total, fig)
            d[f"{fig}_added"] = self.added(fig)
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

@dataclass(frozen=True, repr=False)
class Profile(WithCounters):
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

    transcendentals = OwnFigure()  # and from WithCounters: own, macs, flops, bytes

    @property
    def params(self) -> int:
        return self.parameters.total

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


def results_document(profiles: list[Profile], **extra: Any) -> dict[str, Any]:
    """The ``attnprof.results/1`` document for several profiles."""
    return {"schema": RESULTS_SCHEMA, **extra, "results": [p.to_dict() for p in profiles]}

