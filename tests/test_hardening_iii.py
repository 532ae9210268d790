"""Hardening III (issue 23), the library: profiles from several threads, the headline never
silently missing, and every entry point answering with attnprof's own errors.

Expected counts come from a lone run of the same request in the same process (the claim is
"the same as alone"), and, for one block, from its formula."""

from __future__ import annotations

import threading

import pytest

import attnprof
from attnprof.errors import (
    AttnprofError,
    BadDefinition,
    BadDocument,
    BadInput,
    BadOption,
    CountFailed,
    UnknownBlock,
)
from attnprof.serial import PROFILING

BLOCKS = ("cbam", "eca", "gc")
SMALL = dict(channels=16, size=8, latency=False)


def _counts(p) -> dict:
    """Every count of a profile: params, each backend's status, MACs and FLOPs, attnprof's
    bytes and transcendentals, and the per-layer figures."""
    out = {"params": p.params, "peak": p.memory.peak_bytes}
    for name, c in p.counters.items():
        out[name] = (c.status, c.macs, c.flops, c.reported, tuple(sorted(c.layers.items())))
    own = p.own
    out["own"] = (own.bytes_read, own.bytes_written, own.transcendentals)
    out["layers"] = tuple((x.path, x.params) for x in p.layers)
    return out


def test_four_threads_three_blocks_give_the_lone_counts(capsys):
    alone = {b: _counts(attnprof.profile(b, **SMALL)) for b in BLOCKS}
    capsys.readouterr()
    # ECA at 16 channels: k = |(log2 16 + 1) / 2| = 2, made odd: 3; a Conv1d(1, 1, 3)
    assert alone["eca"]["params"] == 3
    found: dict[tuple[str, int], dict] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(i: int) -> None:
        try:
            start.wait(timeout=60)
            for b in BLOCKS[i % 3:] + BLOCKS[:i % 3]:  # each thread in another order
                found[(b, i)] = _counts(attnprof.profile(b, **SMALL))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a profiling thread hangs"
    assert not errors, errors
    assert len(found) == 12
    for (b, _i), counts in found.items():
        assert counts == alone[b], b
    # torchstat prints "[MAdd]: ... is not supported!" for some of these blocks: alone and
    # from threads it stays inside attnprof
    out = capsys.readouterr().out
    assert out == ""


def test_the_lock_is_reentrant_and_released():
    with PROFILING:  # a caller (or a block) already holding it does not deadlock
        p = attnprof.profile("se", channels=8, size=4, latency=False, backends=("attnprof",))
    assert p.params == 2 * (8 * 2)  # ratio 4: Linear(8, 2) and Linear(2, 8), no bias
    assert PROFILING.acquire(blocking=False)  # released after the call
    PROFILING.release()


def test_a_failing_own_counter_raises(monkeypatch):
    from attnprof.counters import _attnprof

    def broken(target):
        raise IndexError("list index out of range")

    monkeypatch.setattr(_attnprof, "count", broken)
    with pytest.raises(CountFailed, match="IndexError: list index out of range"):
        attnprof.profile("se", channels=8, size=4, latency=False,
                         backends=("attnprof", "torch"))


def test_own_counter_not_asked_for_is_no_error():
    p = attnprof.profile("se", channels=8, size=4, latency=False, backends=("torch",))
    assert p.flops is None and p.counters["torch"].ok


@pytest.mark.parametrize("call", [
    lambda: attnprof.profile("se", chanels=8),
    lambda: attnprof.profile("se", latency="no"),
    lambda: attnprof.profile("se", device=0),
    lambda: attnprof.profile("se", options=[("ratio", 2)]),
    lambda: attnprof.profile("se", options={1: 2}),
    lambda: attnprof.profile(123),
    lambda: attnprof.profile(None),
    lambda: attnprof.profile("se", channels="64"),
    lambda: attnprof.profile("se", channels=64.0),
    lambda: attnprof.profile("se", size=-3),
    lambda: attnprof.profile("se", size=(8, 8, 8)),
    lambda: attnprof.profile("se", batch=0),
    lambda: attnprof.profile("se", backends="nope"),
    lambda: attnprof.profile("se", backends=1),
    lambda: attnprof.profile("se", backends=["attnprof", 2]),
    lambda: attnprof.profile("se", options={"ratio": float("nan")}),
    lambda: attnprof.profile("se", threads=-1),
    lambda: attnprof.profile("se", budget_s=float("nan")),
    lambda: attnprof.profile("se", options={"ratio": "x"}),
    lambda: attnprof.profile("nope"),
    lambda: attnprof.create_block("se", 0),
    lambda: attnprof.create_block("se", "8"),
    lambda: attnprof.create_block(3, 8),
    lambda: attnprof.create_block("se", 8, ratio=0),
    lambda: attnprof.create_block("eca", 8, gamma=1e-320),
    lambda: attnprof.get_block(None),
    lambda: attnprof.get_block("nope"),
    lambda: attnprof.Profile.from_dict({}),
    lambda: attnprof.Profile.from_dict([]),
    lambda: attnprof.Profile.from_dict(None),
    lambda: attnprof.Profile.from_dict({"schema": "attnprof.profile/2"}),
    lambda: attnprof.Profile.from_dict({"schema": "attnprof.profile/1", "block": 3}),
])
def test_library_errors_are_attnprofs_own(call):
    with pytest.raises(AttnprofError) as info:
        call()
    assert str(info.value).strip() and "\n" not in str(info.value)


def test_error_classes_keep_their_old_bases():
    assert issubclass(BadDocument, BadInput) and issubclass(BadDocument, ValueError)
    assert issubclass(BadDefinition, BadInput) and issubclass(BadDefinition, ValueError)
    with pytest.raises(BadDocument, match="newer attnprof"):
        attnprof.Profile.from_dict({"schema": "attnprof.profile/7"})
    with pytest.raises(BadDefinition):
        attnprof.BlockSpec(name="x", factory="m:X", summary="", kind="nope")
    with pytest.raises(BadDefinition, match="already registered"):
        from attnprof.registry import REGISTRY

        REGISTRY.register(attnprof.BlockSpec(name="se", factory="m:X", summary="",
                                             kind="channel"))
    assert issubclass(UnknownBlock, AttnprofError) and issubclass(BadOption, AttnprofError)


def test_to_frame_unknown_table_is_bad_input():
    p = attnprof.profile("se", channels=8, size=4, latency=False, backends=("attnprof",))
    with pytest.raises(BadInput, match="unknown table"):
        p.to_frame("nope")


@pytest.mark.parametrize("directory", ["/proc/attnprof-cache", "/proc", "/sys/attnprof",
                                       "/dev/null/cache"])
def test_calibrate_checks_its_cache_directory_first(cli, monkeypatch, directory):
    monkeypatch.setenv("ATTNPROF_CACHE_DIR", directory)
    r = cli("calibrate", "--budget", "0.01")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: cannot use the cache directory {directory}")
    assert "Traceback" not in r.output and r.stdout == ""
