"""Importing the ``zoo`` extra (timm, torchvision), or one line saying what to install.

A missing package names the extra; a torchvision that is installed but cannot load its C++
ops against this torch (the wheel was built for another torch) says so and how to fix it,
instead of the traceback torchvision raises. Nothing here works around that mismatch.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from attnprof.contain import first_line, one_line
from attnprof.errors import BadInput

EXTRA_HINT = "pip install 'attnprof[zoo]'"


def _import(name: str) -> ModuleType:
    """The import itself (a seam the tests replace to simulate a broken install)."""
    return importlib.import_module(name)


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def missing(package: str, what: str) -> BadInput:
    return BadInput(f"{what} needs {package}, which is not installed: {EXTRA_HINT} "
                    "(it brings timm and torchvision)")


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a None or broken entry in sys.modules
        return False


def torchvision(what: str = "this") -> ModuleType:
    """``import torchvision``, or :class:`BadInput` with the extra or the fix to install."""
    if not _installed("torchvision"):
        raise missing("torchvision", what)
    try:
        return _import("torchvision")
    except ModuleNotFoundError as exc:
        if exc.name in (None, "torchvision"):
            raise missing("torchvision", what) from None
        raise BadInput(f"{what} needs torchvision, whose import failed: no module named "
                       f"'{exc.name}'") from None
    except Exception as exc:  # any failure of its import is reported in one line
        import torch

        first = first_line(exc)
        if "torchvision::" in first or "undefined symbol" in first or "_C" in first:
            raise BadInput(
                f"{what} needs torchvision, and torchvision {_version('torchvision')} is "
                f"installed but cannot load its C++ ops with torch {torch.__version__} "
                f"({first}): it was built for another torch. Install torchvision from the same "
                "index (and build, CPU or CUDA) as torch, e.g. 'pip install torchvision "
                "--index-url https://download.pytorch.org/whl/cpu' for a CPU torch"
            ) from None
        raise BadInput(f"{what} needs torchvision, whose import failed: "
                       f"{one_line(exc, 300)}") from None


def timm(what: str = "this") -> ModuleType:
    """``import timm`` (after torchvision, which timm imports), or :class:`BadInput`."""
    if not _installed("timm"):
        raise missing("timm", what)
    torchvision(what)
    try:
        return _import("timm")
    except ModuleNotFoundError as exc:
        if exc.name in (None, "timm"):
            raise missing("timm", what) from None
        raise BadInput(f"{what} needs timm, whose import failed: no module named "
                       f"'{exc.name}'") from None
    except Exception as exc:
        raise BadInput(f"{what} needs timm, whose import failed: {one_line(exc, 300)}") from None
