"""Importing the ``zoo`` extra (timm, torchvision), or one line saying what to install.

A missing package names the extra; a torchvision that is installed but cannot load its C++
ops against this torch (the wheel was built for another torch) says so and how to fix it,
instead of the traceback torchvision raises. Nothing here works around that mismatch.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
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


def _load(package: str, what: str,
          broken: Callable[[Exception], str | None] = lambda exc: None) -> ModuleType:
    """``import package`` (installed), or :class:`BadInput` in one line: the extra when it
    is missing after all, the module it lacks, or what ``broken`` says of any other
    failure (by default the failure's own line)."""
    try:
        return _import(package)
    except ModuleNotFoundError as exc:
        if exc.name in (None, package):
            raise missing(package, what) from None
        raise BadInput(f"{what} needs {package}, whose import failed: no module named "
                       f"'{exc.name}'") from None
    except Exception as exc:  # any failure of its import is reported in one line
        raise BadInput(broken(exc) or f"{what} needs {package}, whose import failed: "
                       f"{one_line(exc, 300)}") from None


def _ops_mismatch(what: str, exc: Exception) -> str | None:
    """The line for a torchvision that cannot load its C++ ops with this torch."""
    first = first_line(exc)
    if "torchvision::" not in first and "undefined symbol" not in first and "_C" not in first:
        return None
    import torch

    return (f"{what} needs torchvision, and torchvision {_version('torchvision')} is "
            f"installed but cannot load its C++ ops with torch {torch.__version__} "
            f"({first}): it was built for another torch. Install torchvision from the same "
            "index (and build, CPU or CUDA) as torch, e.g. 'pip install torchvision "
            "--index-url https://download.pytorch.org/whl/cpu' for a CPU torch")


def torchvision(what: str = "this") -> ModuleType:
    """``import torchvision``, or :class:`BadInput` with the extra or the fix to install."""
    if not _installed("torchvision"):
        raise missing("torchvision", what)
    return _load("torchvision", what, lambda exc: _ops_mismatch(what, exc))


def timm(what: str = "this") -> ModuleType:
    """``import timm`` (after torchvision, which timm imports), or :class:`BadInput`."""
    if not _installed("timm"):
        raise missing("timm", what)
    torchvision(what)
    return _load("timm", what)
