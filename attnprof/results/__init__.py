"""What profiling found, as frozen records with ``to_dict``/``from_dict`` (docs/contract.md):
counts (``counts``), measurements (``measures``), one block's ``Profile`` (``profile``) and
a whole network's ``NetworkProfile`` (``network``). Torch-free.

The records hold data only: their presentation (``repr``, ``_repr_html_``, ``show``,
``report``, ``to_frame``) is given them by the report layer (``attnprof.report.present``)
when this package is imported, through the ``attnprof`` package; nothing here imports it.
"""

from attnprof.results.counts import Cost, Count, MissedOp, OpCost
from attnprof.results.measures import Comparison, Latency, Memory, OpTime, Roofline
from attnprof.results.network import ModuleCost, NetworkProfile, NetworkTiming, OwnTime, Removal
from attnprof.results.profile import (
                                      BlockInfo,
                                      Environment,
                                      HostDelta,
                                      InputInfo,
                                      Layer,
                                      Params,
                                      Profile,
                                      Totals,
                                      results_document,
)
from attnprof.results.schema import INTERVAL_COVERS, MODEL_SCHEMA, PROFILE_SCHEMA, RESULTS_SCHEMA

__all__ = ["BlockInfo", "Comparison", "Cost", "Count", "Environment", "HostDelta",
           "INTERVAL_COVERS", "InputInfo", "Latency", "Layer", "MODEL_SCHEMA", "Memory",
           "MissedOp", "ModuleCost", "NetworkProfile", "NetworkTiming", "OpCost", "OpTime",
           "OwnTime", "PROFILE_SCHEMA", "Params", "Profile", "RESULTS_SCHEMA", "Removal",
           "Roofline", "Totals", "results_document"]
