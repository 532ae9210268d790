"""Running the user's code (importing a block's module, building it, its forward while attnprof
checks, counts and times it) so that it cannot take the process over.

Inside :func:`user_code`:

* whatever the code prints goes to stderr, at the Python level and, where stdout is the
  process's file descriptor 1, at the descriptor level too (C extensions, ``os.write(1, ...)``):
  stdout stays attnprof's own, so ``--format json`` remains one JSON document;
* ``SystemExit`` (``sys.exit()``, ``exit()``) is a failure of that code: :class:`BadInput`
  naming it and its message (exit 2), never a silent exit;
* a ``KeyboardInterrupt`` the code raises itself is likewise a failure of the code, while a
  real Ctrl-C (SIGINT) still interrupts: it is told apart by a SIGINT handler installed for
  the duration (in the main thread), and leaves with exit 130 as everywhere;
* the working directory is restored.

What cannot be contained is said in the README's trust model: importing a module runs it,
and ``os._exit`` or a crash in native code ends the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from attnprof.errors import BadInput

__all__ = ["user_code", "first_line", "one_line", "c_stderr_quiet"]


def first_line(exc: BaseException, most: int = 300) -> str:
    """The first line of an exception's message (C++ errors carry a whole backtrace); for one
    raised without a message (a bare ``assert``), the statement that raised it and where."""
    text = (str(exc).strip().splitlines() or [""])[0].strip() or raised_at(exc)
    return text if len(text) <= most else text[:most] + "…"


def raised_at(exc: BaseException) -> str:
    """``assert x.shape[-1] % self.block_size == 0 (timm/layers/non_local_attn.py:105)``: the
    source line of the innermost frame that raised ``exc`` (the caller of a torch helper
    such as ``torch._assert``), and its file from the package down ("" without a
    traceback)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    if not frames:
        return ""
    frame = frames[-1]
    for outer in reversed(frames[:-1]):  # past torch's helpers that raise for their caller
        if "/torch/" not in frame.filename.replace("\\", "/") \
                or not (frame.line or "").startswith("raise"):
            break
        frame = outer
    parts = frame.filename.replace("\\", "/").split("/")
    where = "/".join(parts[parts.index("site-packages") + 1:] if "site-packages" in parts
                     else parts[-2:])
    line = (frame.line or "").strip()
    return f"{line} ({where}:{frame.lineno})" if line else f"at {where}:{frame.lineno}"


def one_line(exc: BaseException, most: int = 160) -> str:
    """``RuntimeError: first line of the message``, cut at ``most`` characters."""
    text = f"{type(exc).__name__}: {first_line(exc, most)}".rstrip(": ")
    return text if len(text) <= most else text[: most - 1] + "…"


def _flush_c_stdio() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Python's stdout, and descriptor 1 when it is the process's stdout, onto stderr."""
    saved_fd = None
    try:
        real = sys.stdout is not None and sys.stdout.fileno() == 1 \
            and sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    if real:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        _flush_c_stdio()
        try:
            saved_fd = os.dup(1)
            os.dup2(2, 1)
        except OSError:
            saved_fd = None
    target = sys.stderr if sys.stderr is not None else open(os.devnull, "w")
    try:
        with contextlib.redirect_stdout(target):
            yield
    finally:
        if saved_fd is not None:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            _flush_c_stdio()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


class _Sigint:
    """Notes whether a real SIGINT arrived while installed (main thread only)."""

    def __init__(self) -> None:
        self.arrived = False
        self.previous: Any = None
        self.installed = False

    def __enter__(self) -> _Sigint:
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.getsignal(signal.SIGINT)
                signal.signal(signal.SIGINT, self._handle)
                self.installed = True
            except (ValueError, OSError, TypeError):
                self.installed = False
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.arrived = True
        if callable(self.previous) and self.previous is not signal.default_int_handler:
            self.previous(signum, frame)
        raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        if self.installed:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signal.SIGINT, self.previous)


@contextlib.contextmanager
def c_stderr_quiet(quiet: bool = True) -> Iterator[None]:
    """Descriptor 2 onto /dev/null for the duration (``quiet``): for the lines torch's C++
    side writes there itself (the profiler's ``USDT: ... profiler_start``), which Python's
    ``sys.stderr`` never sees. Python's own stderr is flushed first and is quiet too, so
    keep the block short."""
    if not quiet:
        yield
        return
    saved = None
    try:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        _flush_c_stdio()
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
    except (OSError, AttributeError, ValueError):
        saved = None
    try:
        yield
    finally:
        if saved is not None:
            _flush_c_stdio()
            os.dup2(saved, 2)
            os.close(saved)


def _exit_message(exc: SystemExit) -> str:
    code = exc.code
    if code is None:
        return "sys.exit()"
    if isinstance(code, int):
        return f"sys.exit({code})"
    return f"sys.exit({str(code)[:200]!r})"


@contextlib.contextmanager
def user_code(what: str) -> Iterator[None]:
    """Run the block that ``what`` names (e.g. ``"block 'mod:Name' while building"``) as
    described in this module's docstring."""
    cwd = None
    with contextlib.suppress(OSError):
        cwd = os.getcwd()
    sigint = _Sigint()
    try:
        with sigint, _stdout_to_stderr():
            yield
    except SystemExit as exc:
        raise BadInput(f"{what} called {_exit_message(exc)}; code attnprof runs must return, "
                       "not exit the process") from None
    except KeyboardInterrupt:
        if sigint.arrived or not sigint.installed:
            raise  # a real Ctrl-C
        raise BadInput(f"{what} raised KeyboardInterrupt itself (no Ctrl-C was pressed); code "
                       "attnprof runs must not interrupt the process") from None
    finally:
        if cwd is not None:
            with contextlib.suppress(OSError):
                if os.getcwd() != cwd:
                    os.chdir(cwd)
