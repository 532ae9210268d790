import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

torch.set_num_threads(min(torch.get_num_threads(), 2))


@pytest.fixture
def cli():
    """Invoke the CLI through Typer's CliRunner; returns the Result."""
    from attnprof.cli import STATE, app

    runner = CliRunner()

    def invoke(*args: str, **kw):
        STATE.debug = False
        STATE.verbose = False
        return runner.invoke(app, list(args), **kw)

    return invoke


# --- ENVIRONMENT FIX, tests only (issue 16); never part of the attnprof package ---------------
# Where the installed torchvision wheel was built for another torch (on the CI machines: the
# registry's CUDA torchvision beside the CPU torch pinned in .ci/run), `import torchvision`
# fails with "operator torchvision::nms does not exist": the two modules that register the C++
# detection ops (nms, roi_align) cannot load. The model definitions the zoo tests use are pure
# Python, so those two modules are replaced by empty ones before a test imports torchvision.
# Where torchvision imports normally, or is not installed, nothing is changed. The package
# itself answers such a torchvision with one line telling the user how to fix the install.
def _torchvision_environment_fix() -> str:
    import importlib.util
    import types

    if importlib.util.find_spec("torchvision") is None:
        return "torchvision not installed"
    try:
        import torchvision  # noqa: F401
        return "torchvision imports as installed"
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            return f"torchvision fails to import: {exc}"
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules[name] = types.ModuleType(name)
    return "torchvision's C++ op registrations stubbed (environment fix in tests/conftest.py)"


TORCHVISION_ENVIRONMENT = _torchvision_environment_fix()
# --- end of the environment fix ---------------------------------------------------------------
