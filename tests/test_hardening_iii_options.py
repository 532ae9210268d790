"""Hardening III (issue 23): ``-o`` values read as the parameter declares, completely.

Property-based over option strings per annotation kind: what a value must become follows
from Python's own reading of the text (int(), float(), fractions.Fraction), never from an
earlier attnprof run; anything else is BadOption, never another exception. Then the trust
rule for classes and functions given by name."""

from __future__ import annotations

import math
import sys
import textwrap
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnprof.errors import AttnprofError, BadOption
from attnprof.signature import EMPTY, accepts, coerce_value, read_signature
from attnprof.spec import Option

FAST = settings(max_examples=150, deadline=None)
WHERE = "option 'x' of block 'b'"


def read(annotation: str, text, default=EMPTY, module: str | None = None):
    return coerce_value(text, accepts(annotation, default), WHERE, module)


ints = st.integers(min_value=-(2**40), max_value=2**40)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@FAST
@given(ints)
def test_int_reads_every_integer(n):
    assert read("int", str(n)) == n and type(read("int", str(n))) is int


@FAST
@given(text)
def test_any_text_is_a_value_or_bad_option(t):
    for annotation in ("int", "float", "bool", "Optional[int]", "Tuple[int, int]",
                       "tuple[int, ...]", "List[int]", "Union[int, str]", "int | None",
                       "Tuple[int, str]", "Optional[Tuple[int, int]]"):
        try:
            read(annotation, t)
        except BadOption as exc:
            assert "\n" not in str(exc) and str(exc).startswith(WHERE)


@FAST
@given(ints, st.integers(min_value=1, max_value=10**6))
def test_float_takes_fractions(a, b):
    assert read("float", f"{a}/{b}") == pytest.approx(float(Fraction(a, b)))


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_is_finite(x):
    if math.isfinite(x):
        assert read("float", repr(x)) == x
    else:
        with pytest.raises(BadOption):
            read("float", repr(x))


@FAST
@given(st.sampled_from(["true", "false", "True", "FALSE", "yes", "1", "", "t"]))
def test_bool(t):
    if t.lower() in ("true", "false"):
        assert read("bool", t) is (t.lower() == "true")
    else:
        with pytest.raises(BadOption):
            read("bool", t)


@FAST
@given(st.lists(ints, min_size=0, max_size=5))
def test_fixed_tuple_takes_exactly_its_length(items):
    t = ",".join(map(str, items)) + ("," if len(items) == 1 else "")
    if len(items) == 2:
        assert read("Tuple[int, int]", t) == tuple(items)
        assert read("Tuple[int, int]", list(items)) == tuple(items)  # a library value
    else:
        with pytest.raises(BadOption):
            read("Tuple[int, int]", t)
        with pytest.raises(BadOption):
            read("Tuple[int, int]", list(items))


@FAST
@given(st.lists(ints, min_size=1, max_size=6), st.integers(min_value=0, max_value=6))
def test_empty_items_are_refused(items, at):
    parts = [str(i) for i in items]
    parts.insert(min(at, len(parts) - 1), "")  # '8,,8' or ',8': never a trailing one
    t = ",".join(parts)
    for annotation in ("Tuple[int, int]", "tuple[int, ...]", "List[int]"):
        with pytest.raises(BadOption, match="empty item|takes"):
            read(annotation, t)


@FAST
@given(st.lists(ints, min_size=1, max_size=6))
def test_variable_sequences_take_any_length(items):
    t = ",".join(map(str, items)) + ("," if len(items) == 1 else "")
    assert read("tuple[int, ...]", t) == tuple(items)
    assert read("List[int]", t) == tuple(items)


@FAST
@given(ints, text)
def test_positions_are_read_each_as_declared(n, word):
    word = word.replace(",", "").strip().strip("()[]").strip()
    if not word or word in ("None", "none", "null"):
        return
    assert read("Tuple[int, str]", f"{n},{word}") == (n, word)
    try:
        int(word)
    except ValueError:
        with pytest.raises(BadOption):
            read("Tuple[int, int]", f"{n},{word}")


@FAST
@given(st.one_of(ints, text))
def test_optional_and_unions(v):
    t = str(v)
    assert read("Optional[int]", "None") is None
    assert read("int | None", "none") is None
    out = read("Union[int, str]", t)
    try:
        n = int(t.strip())
    except ValueError:
        assert out == t
    else:
        assert out == n


def test_registered_tuple_option_refuses_empty_items():
    opt = Option("feat_size", tuple, None, "h,w")
    assert opt.validate("8,8", "b") == (8, 8) and opt.validate("8,", "b") == 8
    for bad in ("8,,8", ",8", "()", "8.5,8", [8, "", 8], (True, 2)):
        with pytest.raises(BadOption):
            opt.validate(bad, "b")


# -- the trust rule -------------------------------------------------------------------------

USER = textwrap.dedent('''
    import functools
    from os import system
    from math import sqrt
    from subprocess import Popen
    from collections import OrderedDict
    import torch
    from torch import nn

    relu6 = functools.partial(nn.ReLU6, inplace=True)
    shell = functools.partial(system, "true")

    class MyNorm(nn.BatchNorm2d):
        pass

    def my_act(inplace=False):
        return nn.ReLU(inplace)
''')


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    name = "i23_trust_mod"
    (tmp_path / f"{name}.py").write_text(USER)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.mark.parametrize("value", ["system", "sqrt", "Popen", "OrderedDict", "shell",
                                   "os:system", "os.system", "subprocess.Popen",
                                   "builtins:print", "collections:OrderedDict",
                                   "{m}.system", "{m}:system", "{m}.sqrt"])
def test_untrusted_callables_are_refused(user_module, value):
    for annotation in ("Type[nn.Module]", "Callable", "Optional[Callable]"):
        with pytest.raises(BadOption, match="standard library|C function"):
            read(annotation, value.format(m=user_module), module=user_module)


@pytest.mark.parametrize(("value", "expected"), [
    ("MyNorm", "{m}.MyNorm"), ("my_act", "{m}.my_act"), ("relu6", None),
    ("BatchNorm2d", "torch.nn.BatchNorm2d"), ("batchnorm2d", "torch.nn.BatchNorm2d"),
    ("nn.ReLU", "torch.nn.ReLU"), ("torch.sigmoid", "torch.sigmoid"),
    ("F.gelu", "torch.nn.functional.gelu"), ("{m}:MyNorm", "{m}.MyNorm"),
])
def test_trusted_callables_are_found(user_module, value, expected):
    import functools

    import torch

    found = read("Type[nn.Module]", value.format(m=user_module), module=user_module)
    if expected is None:
        assert isinstance(found, functools.partial) and found.func is torch.nn.ReLU6
        return
    mod, _, name = expected.format(m=user_module).rpartition(".")
    assert found is getattr(sys.modules[mod], name)


def test_signature_coerce_applies_the_rule(user_module):
    import inspect

    import torch

    def block(channels, norm_layer: type = torch.nn.BatchNorm2d,
              feat_size: tuple[int, int] = (7, 7)):
        return None

    sig = read_signature(inspect.signature(block), user_module)
    with pytest.raises(BadOption, match="standard library"):
        sig.coerce("b", {"norm_layer": "system"})
    with pytest.raises(BadOption, match="2 items|not 2"):
        sig.coerce("b", {"feat_size": "8,8,8"})
    assert sig.coerce("b", {"norm_layer": "MyNorm", "feat_size": "8,8"})["feat_size"] == (8, 8)


@pytest.mark.parametrize("gamma", [1e-320, 1e-9, 5e-324])
def test_derived_kernel_out_of_range_is_bad_option(gamma):
    from attnprof.registry import REGISTRY

    with pytest.raises(BadOption, match="out of range"):
        REGISTRY.get("eca").resolve_options(64, {"gamma": gamma})


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False,
                                                                   allow_infinity=False))
def test_eca_options_resolve_or_refuse(b, gamma):
    from attnprof.registry import REGISTRY

    try:
        opts = REGISTRY.get("eca").resolve_options(64, {"b": b, "gamma": gamma})
    except AttnprofError:
        return
    k = opts["kernel_size"]
    expected = int(abs((math.log2(64) + b) / gamma))  # ECA-Net's formula, made odd
    assert k == (expected if expected % 2 else expected + 1)
    assert isinstance(k, int) and 1 <= k <= 2**31 - 1 and k % 2 == 1
