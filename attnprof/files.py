"""File input and output: reading files the user named, and writing output files in the way
the path calls for.

Writes respect what the path is (:func:`output_kind`):

* a regular file (or a new path) is replaced atomically: a temporary file in the same
  directory, then ``os.replace``, so a failed or interrupted run leaves an existing file as
  it was. The file keeps its mode (and owner, where the process may set it); a symbolic link
  keeps pointing where it did and its target is replaced;
* a character device (``/dev/null``, a terminal), a FIFO, and the process's own streams
  (``-``, ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N``) are written
  through, never replaced;
* anything else (a directory, a block device, a socket) is refused before any work is done.

:func:`check_outputs` refuses, up front, two outputs on one path and an output on one of the
command's own input files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attnprof.errors import BadInput

#: The largest file attnprof reads (suites, results): a guard against /dev/zero-like inputs.
MAX_READ_BYTES = 1 << 30

# the process's own streams, named as paths
_OWN_STREAM = re.compile(r"^/(dev/(stdout|stderr|stdin|fd/\d+)"
                         r"|proc/(self|thread-self|\d+)/fd/\d+)$")
_STDOUT_PATHS = ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
_STDERR_PATHS = ("/dev/stderr", "/dev/fd/2", "/proc/self/fd/2")


def read_user_file(path: str, what: str) -> str:
    """The text of a file the user named; a missing, directory, device, unreadable, too large
    or binary file is bad input (exit 2) that says which. A FIFO or pipe (``<(cmd)``) is
    read to its end."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{path}: is a directory, not {what}")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        raise BadInput(f"{path}: is a {_kind_name(st.st_mode)}, not {what}")
    if st.st_size > MAX_READ_BYTES:
        raise BadInput(f"{path}: is {st.st_size:,} bytes; attnprof reads files up to "
                       f"{MAX_READ_BYTES:,} bytes")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_READ_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > MAX_READ_BYTES:
        raise BadInput(f"{path}: more than {MAX_READ_BYTES:,} bytes; attnprof reads files up "
                       f"to that size")
    if b"\x00" in data:
        raise BadInput(f"{path}: not a text file (expected {what})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a text file (expected {what})") from None


def _kind_name(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def output_kind(path: str) -> str:
    """How ``path`` is written: ``"stdout"`` or ``"stderr"`` (the process's own streams),
    ``"stream"`` (written through: a character device or a FIFO), ``"file"`` (an existing
    regular file, replaced atomically) or ``"new"`` (created atomically). Raises
    :class:`BadInput` for what attnprof never writes to."""
    if path == "-":
        return "stdout"
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise BadInput(f"cannot write {path!r}: not a path")
    absolute = os.path.abspath(os.path.expanduser(path))
    if absolute in _STDOUT_PATHS:
        return "stdout"
    if absolute in _STDERR_PATHS:
        return "stderr"
    try:
        st = os.stat(absolute)  # follows symbolic links
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None
    if st is None:
        if _OWN_STREAM.match(absolute):
            raise BadInput(f"cannot write {path}: no such stream")
        return "new"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        # a regular file reached through /dev/fd/N or /proc/PID/fd/N is someone's open
        # stream (a shell redirection): appended to, never replaced
        return "stream" if _OWN_STREAM.match(absolute) else "file"
    if stat.S_ISDIR(mode):
        raise BadInput(f"cannot write {path}: it is a directory")
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    raise BadInput(f"cannot write {path}: it is a {_kind_name(mode)}; attnprof writes regular "
                   "files, character devices (e.g. /dev/null) and FIFOs")


def _real_target(path: str) -> Path:
    """The file a regular path names, symbolic links followed (a dangling link's target)."""
    return Path(os.path.realpath(os.path.expanduser(path)))


def check_writable(path: str) -> None:
    """Fail early (exit 2) when ``path`` cannot be written: its directory does not exist,
    it is a directory or something attnprof never writes to, or permission is lacking."""
    kind = output_kind(path)
    if kind in ("stdout", "stderr"):
        return
    if kind == "stream":
        if not os.access(path, os.W_OK):
            raise BadInput(f"cannot write {path}: permission denied")
        return
    target = _real_target(path)
    parent = target.parent
    if not parent.is_dir():
        raise BadInput(f"cannot write {path}: directory {parent} does not exist")
    if kind == "new" and not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write {path}: directory {parent} is not writable")
    if kind == "file" and not (os.access(parent, os.W_OK | os.X_OK)
                               or os.access(target, os.W_OK)):
        raise BadInput(f"cannot write {path}: permission denied")


def check_cache_dir(directory: Path) -> None:
    """Fail early (exit 2) when ``directory`` cannot become a writable directory: the
    nearest part of it that exists must be a directory attnprof may write in."""
    here = Path(directory).expanduser()
    while not here.exists():
        if here.parent == here:
            break
        here = here.parent
    if not here.is_dir():
        raise BadInput(f"cannot use the cache directory {directory}: {here} is not a directory "
                       "(set ATTNPROF_CACHE_DIR to one)")
    if not os.access(here, os.W_OK | os.X_OK):
        raise BadInput(f"cannot use the cache directory {directory}: {here} is not writable "
                       "(set ATTNPROF_CACHE_DIR to one)")
    # permission bits do not say it all (root passes os.access under /proc, /sys, a read-only
    # mount): make the directory and write a file in it, as the cache will
    import tempfile

    try:
        Path(directory).expanduser().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=Path(directory).expanduser()) as probe:
            probe.write(b"attnprof")
            probe.flush()
    except OSError as exc:
        raise BadInput(f"cannot use the cache directory {directory}: "
                       f"{exc.strerror or type(exc).__name__} (set ATTNPROF_CACHE_DIR to a "
                       "writable directory)") from None


def _identity(path: str) -> tuple[Any, ...]:
    """What two paths must share to be the same output: the same stream, or the same file
    (device and inode when it exists, else its resolved path)."""
    kind = output_kind(path)
    if kind in ("stdout", "stderr"):
        stream = sys.stdout if kind == "stdout" else sys.stderr
        try:
            st = os.fstat(stream.fileno())
            return ("inode", st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else (kind,)
        except (AttributeError, OSError, ValueError):
            return (kind,)
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", str(_real_target(path)))


def check_outputs(outputs: Mapping[str, str | None],
                  inputs: Mapping[str, str | None] | None = None) -> None:
    """Check every output path of a command before any work: each can be written, no two
    outputs name one path (``--json x --csv x``), and no output names one of the command's
    input files (``inputs``), which would be lost. ``outputs`` and ``inputs`` map the option
    (``--json``) to its path; ``None`` is an option not given. Raises :class:`BadInput`."""
    seen: dict[tuple[Any, ...], str] = {}
    for option, path in outputs.items():
        if not path:
            continue
        check_writable(path)
        key = _identity(path)
        if key in seen:
            raise BadInput(f"{seen[key]} and {option} both write {path}; give each output "
                           "its own path")
        seen[key] = option
    for option, path in (inputs or {}).items():
        if not path or path == "-":
            continue
        try:
            key = _identity(path)
        except BadInput:
            continue  # not an output-able path: it cannot be overwritten either
        if key in seen and key[0] != "stdout":
            raise BadInput(f"{seen[key]} would overwrite {path}, {option} this command "
                           "reads; write the output elsewhere")


def _mode_for(target: Path) -> int:
    """An existing file keeps its mode; a new one gets the default (0666 less the umask)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def replace_atomically(tmp: str, target: Path) -> None:
    """Move ``tmp`` over ``target`` (a regular file, or a new one), keeping ``target``'s mode
    and, where allowed, its owner. A symbolic link is followed: its target is replaced. A
    target that is not a regular file (a device, a FIFO, stdout) is never replaced: ``tmp``'s
    bytes are written through to it and ``tmp`` removed."""
    kind = output_kind(str(target))
    if kind not in ("file", "new"):
        try:
            with open(tmp, "rb") as f:
                data = f.read()
            if kind in ("stdout", "stderr"):
                stream = sys.stdout if kind == "stdout" else sys.stderr
                stream.flush()
                stream.buffer.write(data)
                stream.buffer.flush()
            else:
                with open(target, "ab") as out:
                    out.write(data)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return
    target = _real_target(str(target))
    os.chmod(tmp, _mode_for(target))
    with contextlib.suppress(OSError):
        st = target.stat()
        if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
            os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, target)


def _write_stream(stream: Any, text: str) -> None:
    stream.write(text)
    stream.flush()


def _write_through(path: str, text: str) -> None:
    """A device, a FIFO or someone's open stream: opened for appending and written, never
    replaced or truncated."""
    for stream in (sys.stdout, sys.stderr):  # the tool's own output first, in order
        with contextlib.suppress(Exception):
            stream.flush()
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` as :func:`output_kind` says; an OS failure is bad input
    (exit 2) that names the path, and leaves an existing regular file as it was."""
    kind = output_kind(path)
    try:
        if kind == "stdout":
            _write_stream(sys.stdout, text)
        elif kind == "stderr":
            _write_stream(sys.stderr, text)
        elif kind == "stream":
            _write_through(path, text)
        else:
            _write_file(path, text)
    except BrokenPipeError:
        if kind == "stdout":
            raise  # the reader of our own stdout has gone: the command line's concern
        raise BadInput(f"cannot write {path}: its reader has gone") from None
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_file(path: str, text: str) -> None:
    check_writable(path)
    target = _real_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except PermissionError:
        # a writable file in a directory that is not: written in place (not atomically)
        if target.exists() and os.access(target, os.W_OK):
            with open(target, "w", encoding="utf-8") as f:
                f.write(text)
            return
        raise
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        replace_atomically(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def json_text(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def write_json(path: str, doc: Any) -> None:
    write_text(path, json_text(doc))
