"""The one ``to_dict``/``from_dict`` of the records (attnprof/results/record.py): each
``Key`` option on a record of its own, and documents written by an earlier attnprof written
again the same, key order included. Torch-free."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from attnprof.results import BlockInfo, Count, Environment, NetworkProfile, Profile
from attnprof.results.record import Record, key, listed, optional, records, tupled

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Part(Record):
    n: int
    tag: str | None = None


@dataclass(frozen=True)
class Whole(Record):
    name: str = field(metadata=key(required=True))
    size: int = field(metadata=key("bytes"))
    parts: tuple[Part, ...] = field(default=(), metadata=key(load=records(Part)))
    shape: tuple[int, ...] = field(default=(), metadata=key(load=tupled))
    by_path: Mapping[str, Part] = field(default_factory=dict, metadata=key(
        load=lambda x: {k: Part.from_dict(v) for k, v in (x or {}).items()}))
    first: str = field(default="", metadata=key(place=-1))
    late: int = field(default=0, metadata=key(place=1))
    after_name: int = field(default=0, metadata=key(after="name"))
    hidden: int = field(default=0, metadata=key(stored=False))
    maybe: Part | None = field(default=None, metadata=key(
        omit=lambda w: w.maybe is None, load=optional(Part.from_dict)))
    who: str = field(default="me", metadata=key(absent="?"))
    span: tuple[int, int] | None = field(default=None, metadata=key(dump=listed))


WHOLE = Whole("w", 8, parts=(Part(1), Part(2, "b")), shape=(1, 2), by_path={"a": Part(3)},
              first="f", late=9, after_name=4, hidden=7, who="you", span=(1, 2))


def test_a_record_is_written_by_its_fields_as_its_keys_say():
    assert list(WHOLE.to_dict().items()) == [
        ("first", "f"), ("name", "w"), ("after_name", 4), ("bytes", 8),
        ("parts", [{"n": 1, "tag": None}, {"n": 2, "tag": "b"}]), ("shape", [1, 2]),
        ("by_path", {"a": {"n": 3, "tag": None}}), ("who", "you"), ("span", [1, 2]),
        ("late", 9)]
    with_part = Whole("w", 8, maybe=Part(5), span=())
    assert with_part.to_dict()["maybe"] == {"n": 5, "tag": None}
    assert with_part.to_dict()["span"] is None


def test_a_record_is_read_back_as_its_keys_say():
    again = Whole.from_dict(json.loads(json.dumps(WHOLE.to_dict())))
    assert again == Whole(**{**WHOLE.__dict__, "hidden": 0, "span": [1, 2]})
    least = Whole.from_dict({"name": "w", "bytes": 1, "hidden": 3, "unknown": 1})
    assert least == Whole("w", 1, who="?")
    assert Whole.from_dict({"name": "w", "bytes": 1, "who": None}).who is None
    with pytest.raises(KeyError, match="name"):
        Whole.from_dict({"bytes": 1})
    with pytest.raises(TypeError, match="size"):
        Whole.from_dict({"name": "w"})
    with pytest.raises(TypeError, match="^a whole must be an object, got list$"):
        Whole.from_dict(["name"])  # type: ignore[arg-type]


def test_block_environment_and_count_keys_stand_in_the_contracts_order():
    block = BlockInfo("se", {"ratio": 16}, kind="channel", paper="p")
    assert list(block.to_dict()) == ["name", "kind", "source", "paper", "options"]
    odd = BlockInfo("m:X", {}, source="user", unused_options={"k": 1})
    assert list(odd.to_dict()) == ["name", "kind", "source", "paper", "options",
                                   "unused_options"]
    env = Environment.from_dict({"device": "cpu"})
    assert list(env.to_dict()) == ["attnprof", "torch", "python", "platform", "device",
                                   "device_name", "cpu", "cpu_count", "threads", "cuda",
                                   "cudnn", "gpus"]  # docs/contract.md's list
    assert (env.attnprof, env.torch, env.device_name) == ("?", "?", "?")
    own = Count("attnprof", "ok", transcendentals=3).to_dict()
    other = Count("torch", "ok", transcendentals=3).to_dict()
    only_own = ["transcendentals", "bytes_read", "bytes_written", "ops", "layer_costs",
                "device"]
    assert list(own)[-6:] == only_own and not set(only_own) & set(other)
    assert list(own)[:-6] == list(other)


def _documents(x):
    if isinstance(x, dict):
        if x.get("schema") in ("attnprof.profile/1", "attnprof.model/1"):
            yield x
            return
        for v in x.values():
            yield from _documents(v)
    elif isinstance(x, list):
        for v in x:
            yield from _documents(v)


# written by real runs of an earlier attnprof (tests/test_report_golden.py); the other
# fixtures predate the latency's ``ci_covers`` key
@pytest.mark.parametrize("name", ["stat_se_in_resnet18", "stat_failed_backend",
                                  "stat_data_dependent", "compare_in_resnet18",
                                  "model_se_in_resnet18"])
def test_a_document_of_an_earlier_attnprof_is_written_again_byte_for_byte(name):
    docs = list(_documents(json.loads((FIXTURES / f"{name}.json").read_text())))
    assert docs
    for doc in docs:
        cls = Profile if doc["schema"] == "attnprof.profile/1" else NetworkProfile
        assert json.dumps(cls.from_dict(doc).to_dict()) == json.dumps(doc)


@pytest.mark.parametrize("entry", ["x", [1, 2], 7, None])
def test_a_record_that_is_not_an_object_is_named(entry):
    """A layer (any record) given as something other than a JSON object is refused by name,
    in the one BadDocument line the library raises."""
    import json
    from pathlib import Path

    from attnprof.errors import BadDocument
    from attnprof.results import Profile

    doc = json.loads((Path(__file__).parent / "fixtures" / "stat_se_layers_ops.json")
                     .read_text())
    assert doc["layers"], "the fixture has layers"
    doc["layers"][0] = entry
    with pytest.raises(BadDocument) as err:
        Profile.from_dict(doc)
    assert str(err.value) == ("malformed attnprof.profile/1 document: TypeError: a layer "
                              f"must be an object, got {type(entry).__name__}")
