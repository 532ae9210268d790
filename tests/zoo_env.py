"""Whether the zoo extra (timm, torchvision) imports here: the zoo tests skip, saying why,
only where it cannot (tests/conftest.py applies the labelled torchvision environment fix
first, where torchvision was built for another torch)."""

import pytest

from attnprof.errors import BadInput
from attnprof.zoo import _imports


def _zoo_problem() -> str | None:
    try:
        _imports.timm("the zoo tests")
    except BadInput as exc:
        return str(exc)
    return None


ZOO_PROBLEM = _zoo_problem()
needs_zoo = pytest.mark.skipif(ZOO_PROBLEM is not None,
                               reason=f"the zoo extra cannot be imported here: {ZOO_PROBLEM}")
