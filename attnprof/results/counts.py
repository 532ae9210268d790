"""Counting records: attnprof's cost of some work, an op's cost, a missed op, and one
backend's count of a whole block or network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from attnprof.results.schema import _known

# -- counting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cost:
    """attnprof's count of some work (one op call, one op's calls, one module, the whole block
    or network): the one cost record. The own counter sums it with ``+``; a counting rule
    gives one call's (:class:`attnprof.counters.rules.Cost`); a network's attention module
    and the Profile's ``layer_costs`` hold it."""

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

    def __add__(self, other: Cost) -> Cost:
        """The two costs summed, field by field (how the counter accumulates them)."""
        return Cost(self.calls + other.calls, self.macs + other.macs, self.flops + other.flops,
                    self.transcendentals + other.transcendentals,
                    self.bytes_read + other.bytes_read, self.bytes_written + other.bytes_written,
                    self.uncounted + other.uncounted)

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

