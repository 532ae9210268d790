"""Typed errors raised below the CLI; only ``attnprof.cli`` turns them into a line and an exit code.

Every user mistake is an :class:`AttnprofError` subclass carrying a message that already says
what was wrong and, where it helps, what to do. Anything else that escapes is a bug (exit 3).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class AttnprofError(Exception):
    """Base class of every error attnprof reports as bad input (exit code 2)."""

    exit_code = 2


class UnknownBlock(AttnprofError):
    """A block name that is neither registered nor an importable ``module:Name``."""


class BadOption(AttnprofError):
    """A block option that is unknown, of the wrong type or out of range."""


class BadInput(AttnprofError):
    """Any other malformed request: sizes, dtypes, backends, formats, files."""


class DeviceUnavailable(AttnprofError):
    """The requested device does not exist on this machine."""


class BadDocument(BadInput, ValueError):
    """A JSON document (a file, or a dict given to ``Profile.from_dict``) that is not one
    attnprof can read: wrong schema, a future version, missing or malformed fields, figures
    that contradict each other. Also a ``ValueError``, as it was before it had its own class."""


class BadDefinition(BadInput, ValueError):
    """A block defined wrongly for the registry (``register_block``, ``BlockSpec``): a name
    taken or not valid, an unknown kind. Also a ``ValueError``, as it was before."""


class CountFailed(AttnprofError):
    """attnprof's own counter failed on a block, so the headline figures (MACs, FLOPs,
    bytes) cannot be given: the library raises it rather than return them as None."""


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` choices that look like ``word``, best first."""
    return difflib.get_close_matches(word, list(choices), n=n, cutoff=0.5)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix, or '' when nothing is close."""
    near = closest(word, choices)
    if not near:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in near) + "?)"
