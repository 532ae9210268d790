"""The ``attnprof`` command line: the only package that prints, exits, or imports typer.

:mod:`~attnprof.cli.app` holds the Typer app (global options, error barrier, help without type
noise), :mod:`~attnprof.cli.options` the options commands share, :mod:`~attnprof.cli.output`
consoles, progress and ``emit``. Each command file registers its commands on ``app`` when
imported below, one line per file, in the order ``--help`` lists them. ``--help``, ``list``
and ``show`` never import torch.
"""

from attnprof.cli.app import STATE, app, main

# isort: off
from attnprof.cli import stat  # noqa: F401  stat
from attnprof.cli import compare  # noqa: F401  compare
from attnprof.cli import sweep  # noqa: F401  sweep
from attnprof.cli import model  # noqa: F401  model
from attnprof.cli import gating  # noqa: F401  run, check
from attnprof.cli import info  # noqa: F401  list, show
from attnprof.cli import machine  # noqa: F401  calibrate, env
# isort: on

__all__ = ["app", "main", "STATE"]
