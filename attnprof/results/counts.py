"""Counting records: attnprof's cost of some work, an op's cost, a missed op, and one
backend's count of a whole block or network."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from attnprof.results.record import Key, Record, key, listed, records, tupled

# -- counting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cost(Record):
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


@dataclass(frozen=True)
class OpCost(Cost):
    """One aten op's total over its calls, as attnprof counts it."""

    op: str = field(default="", metadata=key(place=-1))  # first in the document
    intensity: float | None = None  # FLOPs per byte read + written


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
class MissedOp(Record):
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


def _not_own(count: Count) -> bool:
    return count.backend != "attnprof"


def _own(**how: Any) -> dict[str, Key]:
    """A figure of attnprof's own counter only: last in the document, and only in its
    count's."""
    return key(place=1, omit=_not_own, **how)


def _labels(uncounted: Mapping[str, int]) -> list[str]:
    return [_missed_label(k, n) for k, n in uncounted.items()]


@dataclass(frozen=True)
class Count(Record):
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
    uncounted: Mapping[str, int] = field(default_factory=dict, metadata=key(
        "uncounted_ops", dump=_labels, load=_parse_missed))
    notes: tuple[str, ...] = field(default=(), metadata=key(load=tupled))
    layers: Mapping[str, int | None] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # backend-specific figures
    # attnprof's own counter only
    transcendentals: int | None = field(default=None, metadata=_own())
    bytes_read: int | None = field(default=None, metadata=_own())
    bytes_written: int | None = field(default=None, metadata=_own())
    ops: tuple[OpCost, ...] = field(default=(), metadata=_own(load=records(OpCost)))
    layer_costs: Mapping[str, Cost] = field(default_factory=dict, metadata=_own(
        load=lambda x: {k: Cost.from_dict(v) for k, v in (x or {}).items()}))
    device: str | None = field(default=None, metadata=_own())
    # what the count was made on (every backend; docs/counting.md, data-dependent blocks)
    input: str | None = None  # "meta" | "real" | "own" (the backend made its own input)
    input_why: str | None = None
    # (min, max) when the count varies by input
    flops_range: tuple[int, int] | None = field(default=None, metadata=key(
        dump=listed, load=lambda x: tuple(x) if x else x))
    # against attnprof's count (wrapped backends): flops of attnprof =
    # counted_flops + sum(missed flops) + unexplained_flops
    counted_flops: int | None = None  # attnprof's FLOPs of the work this backend counted
    missed: tuple[MissedOp, ...] = field(default=(), metadata=key(
        "missed_ops", load=records(MissedOp)))
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
        return tuple(_labels(self.uncounted))

    @classmethod
    def failed(cls, backend: str, error: str, status: str = "failed") -> Count:
        return cls(backend=backend, status=status, error=error)



class OwnFigure:
    """A headline figure of a :class:`WithCounters` record: its own count's attribute of the same
    name, None when attnprof's counter did not run or failed."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, record: None, owner: type) -> OwnFigure: ...

    @overload
    def __get__(self, record: WithCounters, owner: type | None = None) -> int | None: ...

    def __get__(self, record: WithCounters | None, owner: type | None = None
                ) -> OwnFigure | int | None:
        if record is None:
            return self
        own = record.own
        return getattr(own, self.name) if own is not None else None


class WithCounters:
    """A record of every backend's count (a Profile, a NetworkProfile): attnprof's own count
    and its headline figures."""

    counters: Mapping[str, Count]

    @property
    def own(self) -> Count | None:
        """attnprof's own count, when it ran and succeeded."""
        c = self.counters.get("attnprof")
        return c if c is not None and c.ok else None

    macs = OwnFigure()
    flops = OwnFigure()
    bytes = OwnFigure()
