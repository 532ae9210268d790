"""The registry and options: names, aliases, validation, plugins, import paths."""

import math
import warnings
from importlib import metadata

import pytest
from fresh import fresh_python

import attnprof
from attnprof.blocks.catalog import eca_kernel
from attnprof.errors import BadInput, BadOption, UnknownBlock
from attnprof.options import Option, parse_assignments, parse_value
from attnprof.registry import REGISTRY, BlockSpec, PluginWarning, Registry

SEED = {"se": ("se_block",), "eca": ("eca_block",), "cbam": (),
        "cbam_channel": ("channel_attention",), "cbam_spatial": ("spatial_attention",)}


@pytest.mark.parametrize("name,aliases", SEED.items())
def test_seed_blocks_and_aliases_are_registered(name, aliases):
    assert REGISTRY.get(name).name == name
    for alias in aliases:
        assert REGISTRY.get(alias).name == name


def test_contract_defaults():
    opts = {s.name: {o.name: o.default for o in s.options} for s in attnprof.list_blocks()}
    assert opts["se"] == {"ratio": 4, "bias": False}
    assert opts["eca"] == {"b": 1, "gamma": 2, "kernel_size": None}
    assert opts["cbam"] == {"ratio": 4, "kernel_size": 7, "bias": False}
    assert opts["cbam_channel"] == {"ratio": 4, "bias": False}
    assert opts["cbam_spatial"] == {"kernel_size": 7}


def test_every_block_has_metadata():
    for spec in attnprof.list_blocks():
        assert spec.summary and spec.kind in ("channel", "spatial", "mixed")
        assert spec.paper is not None and spec.paper.year > 1990
        for opt in spec.options:
            assert opt.help


def test_specs_are_read_only_and_clashes_are_loud():
    with pytest.raises(TypeError):
        REGISTRY.specs["x"] = None  # type: ignore[index]
    reg = Registry()
    spec = BlockSpec(name="a", factory="m:A", summary="s", kind="channel", aliases=("b",))
    reg.register(spec)
    with pytest.raises(ValueError, match="already registered"):
        reg.register(BlockSpec(name="b", factory="m:B", summary="s", kind="channel"))


def test_unknown_block_suggests_closest():
    with pytest.raises(UnknownBlock, match="did you mean 'cbam'"):
        REGISTRY.get("cbma")
    with pytest.raises(UnknownBlock, match="block name is required"):
        REGISTRY.get("  ")


@pytest.mark.parametrize("channels", [1, 2, 3, 8, 16, 31, 64, 100, 256, 512, 1024, 2048])
@pytest.mark.parametrize("b,gamma", [(1, 2), (2, 2), (1, 1), (0, 3)])
def test_eca_kernel_is_the_seed_formula(channels, b, gamma):
    t = int(abs((math.log(channels, 2) + b) / gamma))
    expected = t if t % 2 else t + 1
    assert eca_kernel(channels, b, gamma) == expected
    opts = REGISTRY.get("eca").resolve_options(channels, {"b": b, "gamma": gamma})
    assert opts["kernel_size"] == expected


def test_eca_explicit_kernel_must_be_odd_and_positive():
    assert REGISTRY.get("eca").resolve_options(64, {"kernel_size": 5})["kernel_size"] == 5
    for bad in (4, 0, -1):
        with pytest.raises(BadOption, match="kernel_size"):
            REGISTRY.get("eca").resolve_options(64, {"kernel_size": bad})


def test_ratio_constraint_names_itself():
    with pytest.raises(BadOption, match=r"channels // ratio must be >= 1"):
        REGISTRY.get("se").resolve_options(4, {"ratio": 8})
    with pytest.raises(BadOption, match=r"ratio"):
        REGISTRY.get("cbam").resolve_options(16, {"ratio": 0})


@pytest.mark.parametrize("text,value", [("8", 8), ("0.5", 0.5), ("true", True), ("False", False),
                                        ("relu", "relu"), ("1e3", 1000.0), ("nan", "nan")])
def test_parse_value(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


@pytest.mark.parametrize("items,match", [(["ratio"], "KEY=VALUE"), (["=3"], "empty key"),
                                         (["ratio="], "empty value"),
                                         (["ratio=1", "ratio=2"], "twice")])
def test_parse_assignments_errors(items, match):
    with pytest.raises(BadOption, match=match):
        parse_assignments(items)


@pytest.mark.parametrize("given,match", [({"ratio": "x"}, "integer"), ({"ratio": 2.5}, "integer"),
                                         ({"ratio": True}, "integer"), ({"bias": 1}, "true or"),
                                         ({"ratoi": 2}, "did you mean 'ratio'")])
def test_option_validation(given, match):
    with pytest.raises(BadOption, match=match):
        REGISTRY.get("se").resolve_options(64, given)


def test_option_constraints_text():
    o = Option("k", int, 7, "h", minimum=1, odd=True)
    assert o.constraints() == "integer, >= 1, odd"
    assert o.validate(9.0, "b") == 9


def test_bad_channels():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(BadInput, match="channels"):
            REGISTRY.get("se").resolve_options(bad, {})


def test_import_path_block(tmp_path, monkeypatch):
    (tmp_path / "reg_userblocks.py").write_text(
        "import torch\nimport torch.nn as nn\n"
        "class Gate(nn.Module):\n"
        "    '''A user gate.'''\n"
        "    def __init__(self, channels, scale=1.0):\n"
        "        super().__init__(); self.w = nn.Parameter(torch.ones(channels))\n"
        "        self.scale = scale\n"
        "    def forward(self, x): return x * self.w.view(1, -1, 1, 1) * self.scale\n"
        "def not_a_block(): pass\n"
        "VALUE = 3\n"
    )
    monkeypatch.chdir(tmp_path)
    block = attnprof.create_block("reg_userblocks:Gate", 8, scale=2.0)
    assert sum(p.numel() for p in block.parameters()) == 8 and block.scale == 2.0
    with pytest.raises(BadOption, match="no option 'scal'"):
        attnprof.create_block("reg_userblocks:Gate", 8, scal=2.0)
    with pytest.raises(UnknownBlock, match="no attribute"):
        REGISTRY.get("reg_userblocks:Nope")
    with pytest.raises(UnknownBlock, match="not an nn.Module"):
        REGISTRY.get("reg_userblocks:VALUE")
    with pytest.raises(UnknownBlock, match="no positional argument"):
        REGISTRY.get("reg_userblocks:not_a_block")
    with pytest.raises(UnknownBlock, match="cannot import module"):
        REGISTRY.get("no_such_module_xyz:Gate")


class _FakeEP:
    def __init__(self, name, value, loaded):
        self.name, self.value, self._loaded = name, value, loaded

    def load(self):
        if isinstance(self._loaded, Exception):
            raise self._loaded
        return self._loaded


def test_plugins_load_once_and_a_broken_one_warns(monkeypatch):
    good = BlockSpec(name="plug_gate", factory="m:G", summary="a plugin", kind="channel")
    calls = []

    def fake_entry_points(group):
        calls.append(group)
        return [_FakeEP("good", "pkg:SPEC", good),
                _FakeEP("broken", "pkg.broken:SPEC", ImportError("boom"))]

    monkeypatch.setattr(metadata, "entry_points", fake_entry_points)
    reg = Registry()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = reg.names()
        reg.names()
    assert calls == ["attnprof.blocks"]
    assert "plug_gate" in names and "se" in names
    assert reg.get("plug_gate").source == "pkg:SPEC"
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(messages) == 1 and "broken" in messages[0] and "boom" in messages[0]


def test_a_decorated_block_that_clashes_with_a_builtin_is_refused_at_registration():
    """Even before anything looked a block up, the built-ins are there to clash with."""
    from attnprof.registry import register_block

    fresh = Registry()
    import attnprof.registry as registry_module

    original = registry_module.REGISTRY
    registry_module.REGISTRY = fresh
    try:
        with pytest.raises(ValueError, match="'se' is already registered"):
            register_block("se", summary="mine", kind="channel")(lambda channels: None)
        register_block("my_gate_x", summary="mine", kind="channel")(lambda channels: None)
        assert "my_gate_x" in fresh.names() and "se" in fresh.names()
    finally:
        registry_module.REGISTRY = original


def _attnprof_modules_after(statement: str) -> set[str]:
    """The attnprof modules (and whether torch) a fresh interpreter holds after ``statement``."""
    code = (f"{statement}\nimport sys\n"
            "print(' '.join(m for m in sys.modules if m == 'torch' or m.startswith('attnprof')))")
    return set(fresh_python(code).split())


def test_spec_is_a_torch_free_leaf():
    loaded = _attnprof_modules_after("import attnprof.spec")
    assert loaded <= {"attnprof", "attnprof._version", "attnprof.errors", "attnprof.spec"}


def test_the_catalogs_do_not_import_the_registry():
    loaded = _attnprof_modules_after("import attnprof.blocks.catalog")
    assert "attnprof.blocks.catalog" in loaded
    assert "attnprof.registry" not in loaded and "torch" not in loaded


def test_spec_types_are_the_same_objects_under_their_old_names():
    import attnprof.registry as registry
    import attnprof.spec as spec

    assert registry.BlockSpec is spec.BlockSpec is attnprof.BlockSpec
    assert registry.Paper is spec.Paper is attnprof.Paper
    assert Option is spec.Option is attnprof.Option
    assert registry.check_positive is spec.check_positive
    assert registry.import_object is spec.import_object


def test_one_list_of_backends_and_each_has_its_module():
    import importlib.util

    import attnprof.spec as spec
    import attnprof.values as request
    from attnprof.counters import BACKEND_TABLE

    assert tuple(request.BACKENDS) == spec.BACKENDS
    assert tuple(BACKEND_TABLE) == spec.BACKENDS  # the same names, in the same order
    for name, entry in BACKEND_TABLE.items():
        assert importlib.util.find_spec(entry.module) is not None, name
