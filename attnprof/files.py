"""File input and output: reading files the user named, and writing output files atomically: a
failed or interrupted run leaves an existing file as it was (temporary file in the same
directory, then ``os.replace``)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from attnprof.errors import BadInput


def read_user_file(path: str, what: str) -> str:
    """The text of a file the user named; a missing, directory, unreadable or binary file is
    bad input (exit 2) that says which."""
    p = Path(path)
    if not p.exists():
        raise BadInput(f"{path}: no such file")
    if p.is_dir():
        raise BadInput(f"{path}: is a directory, not {what}")
    try:
        return p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a text file (expected {what})") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it: {exc.strerror}") from None


def check_writable(path: str) -> None:
    """Fail early (exit 2) when ``path``'s directory does not exist."""
    if path == "-":
        return
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise BadInput(f"cannot write {path}: directory {parent} does not exist")
    if Path(path).is_dir():
        raise BadInput(f"cannot write {path}: it is a directory")


def _mode_for(target: Path) -> int:
    """An existing file keeps its mode; a new one gets the default (0666 less the umask)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def replace_atomically(tmp: str, target: Path) -> None:
    os.chmod(tmp, _mode_for(target))
    os.replace(tmp, target)


def write_text(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    check_writable(path)
    target = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
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

