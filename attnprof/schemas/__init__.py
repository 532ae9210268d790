"""The published JSON Schemas of attnprof's documents (draft 2020-12)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

FILES = {"attnprof.profile/1": "profile-1.json", "attnprof.results/1": "results-1.json"}


def schema(name: str) -> dict[str, Any]:
    """The schema of ``attnprof.profile/1`` or ``attnprof.results/1``."""
    text = resources.files(__package__).joinpath(FILES[name]).read_text(encoding="utf-8")
    return json.loads(text)
