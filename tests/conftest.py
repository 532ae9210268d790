import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

torch.set_num_threads(min(torch.get_num_threads(), 2))


@pytest.fixture
def cli():
    """Invoke the CLI through Typer's CliRunner; returns the Result."""
    from attnprof.cli import STATE, app

    runner = CliRunner()

    def invoke(*args: str, **kw):
        STATE.debug = False
        STATE.verbose = False
        return runner.invoke(app, list(args), **kw)

    return invoke
