"""The published JSON Schemas of attnprof's documents (draft 2020-12).

Each schema stands alone: ``jsonschema.validate(doc, schema(name))`` needs no registry (the
results schema carries a copy of the profile schema in its ``$defs``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

FILES = {"attnprof.profile/1": "profile-1.json", "attnprof.results/1": "results-1.json",
         "attnprof.check/1": "check-1.json", "attnprof.model/1": "model-1.json"}


def schema(name: str) -> dict[str, Any]:
    """The schema of ``attnprof.profile/1``, ``attnprof.results/1``, ``attnprof.check/1`` or
    ``attnprof.model/1``."""
    text = resources.files(__package__).joinpath(FILES[name]).read_text(encoding="utf-8")
    return json.loads(text)
