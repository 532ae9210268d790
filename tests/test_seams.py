"""The counting seams: every backend answers ``count(target)`` with one type (``Counted``), the
backends are the entries of one table, and a counting rule registered from outside attnprof
(``register_rule``) is the one attnprof's own counter uses."""

from __future__ import annotations

import typing

import pytest
import torch

from attnprof.counters import BACKEND_TABLE, Backend, Counted, Target, load_backend, run_backend
from attnprof.counters.coverage import Attribution
from attnprof.counters.rules import RULES, Call, Cost, op_name, register_rule
from attnprof.results import Count


# A custom op, as a user's block might define it (torch.library): attnprof has no rule for it.
@torch.library.custom_op("attnprof_seams::scale3", mutates_args=())
def scale3(x: torch.Tensor) -> torch.Tensor:
    return x * 3


@scale3.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


class Scaled(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scale3(x) + 1


SHAPE = (2, 4, 8, 8)
N = 2 * 4 * 8 * 8  # elements of the input, and of each op's output


def own_count(module: torch.nn.Module, device: str = "cpu") -> Count:
    return run_backend("attnprof", Target(module, SHAPE, torch.float32, device, "infer"))


@pytest.fixture
def rules_restored():
    """RULES as it was before the test (a registration is process-wide)."""
    saved = dict(RULES)
    yield
    RULES.clear()
    RULES.update(saved)


def test_a_registered_rule_is_used_by_the_counter(rules_restored):
    before = own_count(Scaled())
    assert before.uncounted == {"attnprof_seams::scale3": 1}
    assert before.flops == N  # the "+ 1" alone: one per element

    calls: list[Call] = []

    @register_rule("attnprof_seams::scale3")
    def scale_rule(call: Call) -> Cost:
        calls.append(call)
        return Cost(flops=call.out_numel, transcendentals=2 * call.out_numel)

    assert RULES["attnprof_seams::scale3"] is scale_rule  # the decorator returns the rule
    for device in ("cpu", "meta"):  # real and meta counts both go through it
        after = own_count(Scaled(), device)
        assert after.uncounted == {}
        assert after.flops == N + N and after.transcendentals == 2 * N
        ops = {op.op: op for op in after.ops}
        assert ops["attnprof_seams::scale3"].flops == N
        assert ops["attnprof_seams::scale3"].bytes_read == 4 * N  # bytes still by the engine
    assert calls and calls[0].func._schema.name == "attnprof_seams::scale3"
    assert tuple(calls[0].outputs[0].shape) == SHAPE


def test_register_rule_names_ops_every_way_and_guards_built_in_rules(rules_restored):
    assert op_name(torch.ops.aten.mul) == op_name(torch.ops.aten.mul.Tensor) == "aten::mul"
    assert op_name("mul") == op_name("aten::mul") == "aten::mul"
    assert op_name(scale3) == op_name(torch.ops.attnprof_seams.scale3) == "attnprof_seams::scale3"
    for bad in ("", "a::b::c", "::x"):
        with pytest.raises(ValueError, match="not an op name"):
            op_name(bad)
    with pytest.raises(TypeError, match="not an op"):
        op_name(3)
    with pytest.raises(TypeError, match="at least one op"):
        register_rule()

    sigmoid = RULES["aten::sigmoid"]
    with pytest.raises(ValueError, match="aten::sigmoid already has a rule; pass replace=True"):
        register_rule(torch.ops.aten.sigmoid)(lambda call: Cost())
    assert RULES["aten::sigmoid"] is sigmoid  # a refused registration changes nothing

    class Sig(torch.nn.Module):
        def forward(self, x):
            return torch.sigmoid(x)

    assert own_count(Sig()).flops == N  # the built-in rule: one per element
    register_rule("sigmoid", replace=True)(lambda call: Cost(flops=5 * call.out_numel))
    assert own_count(Sig()).flops == 5 * N


def test_the_backend_table_is_the_list_of_backends():
    from attnprof.spec import BACKENDS

    assert tuple(BACKEND_TABLE) == BACKENDS
    assert {n: e.pip for n, e in BACKEND_TABLE.items() if e.pip} == {
        "torchstat": "torchstat", "torchinfo": "torchinfo", "fvcore": "fvcore"}


@pytest.mark.parametrize("name", list(BACKEND_TABLE))
def test_every_backend_returns_one_type(name):
    backend: Backend = load_backend(name)
    assert typing.get_type_hints(backend.count)["return"] is Counted
    target = Target(Scaled(), SHAPE, torch.float32, "cpu", "infer")
    counted = backend.count(target)
    assert type(counted) is Counted and isinstance(counted.count, Count)
    assert counted.count.backend == name
    # attnprof's own count is the reference: it attributes to nothing; the others say what
    # they counted, so their figures can be matched against it
    if name == "attnprof":
        assert counted.attribution is None
    else:
        assert isinstance(counted.attribution, Attribution)


def test_a_backend_that_gives_a_status_row_still_returns_counted():
    backend = load_backend("torchstat")
    skipped = backend.count(Target(Scaled(), SHAPE, torch.float32, "meta", "infer"))
    assert type(skipped) is Counted and skipped.attribution is None
    assert skipped.count.status == "skipped"


def test_a_backend_not_in_the_table_is_not_found_by_its_file_name():
    with pytest.raises(KeyError):
        load_backend("own")  # counters/own.py exists, but is no backend
