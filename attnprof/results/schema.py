"""The documents' schema names and the one rule of reading them back: a newer
document may carry keys this version does not know."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

PROFILE_SCHEMA = "attnprof.profile/1"
#: what every interval of a time covers, said in the JSON beside it (docs/latency.md)
INTERVAL_COVERS = ("the variation within this process only: not from process to process "
                   "or machine to machine (attnprof model --repeat N measures the former)")
RESULTS_SCHEMA = "attnprof.results/1"
MODEL_SCHEMA = "attnprof.model/1"


def _known(cls: type, d: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``d`` that are fields of ``cls`` (a newer document may carry more)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}

