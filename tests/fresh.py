"""A fresh interpreter for the tests that need one (what a new process imports, a record
added before the CLI is built): ``python -c CODE``, its stdout, and its stderr in the failure
when it exits non-zero."""

from __future__ import annotations

import subprocess
import sys


def fresh_python(code: str, *args: str, timeout: float = 300) -> str:
    """The stdout of ``python -c code *args`` in a new process; the test fails, showing the
    end of its stderr, when it exits non-zero."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout
