"""How a Profile and a NetworkProfile present themselves: ``repr``, the notebook's HTML,
``show()``/``report()`` (the CLI's tables) and ``to_frame(table)`` (pandas).

The records in :mod:`attnprof.results` hold data only; this module, the report layer, gives
them these methods (:func:`attach`, called by the ``attnprof`` package as soon as
``attnprof.results`` is imported), so that the data layer never
imports the report layer. Every method reads the record, never computes a figure that
the views do not.
"""

from __future__ import annotations

from typing import Any

from attnprof.report.console import print_tables, text_of
from attnprof.results.network import NetworkProfile
from attnprof.results.profile import Profile


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas comes with torchstat
        raise ImportError("to_frame needs pandas: pip install pandas") from exc
    return pd


def _counters_frame(pd: Any, counters: Any) -> Any:
    """One row per backend: status, unit, reported, MACs, FLOPs, error."""
    return pd.DataFrame([{"backend": c.backend, "status": c.status, "unit": c.unit,
                          "reported": c.reported, "macs": c.macs, "flops": c.flops,
                          "error": c.error} for c in counters.values()])


def profile_repr(self) -> str:
    """The headline, in the CLI's units: ``<Profile se [1x64x56x56 float32 cpu infer]:
    params=512, MACs=512, FLOPs=17.4 k, bytes=98.88 KiB, latency=19.7 µs>``."""
    from attnprof import units

    parts = [f"params={units.count(self.params)}", f"MACs={units.si(self.macs)}",
             f"FLOPs={units.si(self.flops)}", f"bytes={units.nbytes(self.bytes)}"]
    if self.latency is not None:  # as the tables: the digits its interval supports
        from attnprof.report.view import median_text

        parts.append(f"latency={median_text(self.latency)}")
    where = f"{self.input.text} {self.input.dtype} {self.device} {self.mode}"
    host = f" in {self.host.name}" if self.host else ""
    return f"<Profile {self.label}{host} [{where}]: {', '.join(parts)}>"


def profile_show(self: Profile, layers: bool = False, ops: bool = False,
                 file: Any = None) -> None:
    """Print the tables ``attnprof stat`` prints (``layers``: the per-module table,
    ``ops``: the per-op table, as ``--layers`` and ``--ops``) to ``file`` (stdout)."""
    print_tables(lambda c: _draw(self, c, layers, ops), file)


def profile_report(self: Profile, layers: bool = False, ops: bool = False,
                   width: int = 160) -> str:
    """The tables :meth:`show` prints, as plain text."""
    return text_of(lambda c: _draw(self, c, layers, ops), width)


def _draw(p: Profile, console: Any, layers: bool, ops: bool) -> None:
    from attnprof.report.block_views import profile_views
    from attnprof.report.media import renderer

    console.print(renderer("table").render(profile_views(p, layers=layers, ops=ops)))


def notebook_html(self: Profile) -> str:
    """The notebook display: the headline line, then each counter's figures and what
    was measured, as tables (pandas renders them). The full report is
    ``renderer("html").render(profile_views(p))`` (``attnprof.report.media``,
    ``attnprof.report.block_views``)."""
    import html

    head = f"<p><b>{html.escape(repr(self)[1:-1])}</b></p>"
    try:
        counters = self.to_frame("counters").to_html(index=False, na_rep="-")
    except ImportError:
        counters = ""
    measured = [("peak memory (bytes)", self.memory.peak_bytes, self.memory.peak_method),
                ("activations written (bytes)", self.memory.activations_bytes, "")]
    if self.latency is not None:
        lat = self.latency
        measured.append(("latency median (ms)", f"{lat.median_ms:.4g}",
                         f"IQR {lat.iqr_ms:.3g} ms, {lat.samples} samples, "
                         f"{lat.threads} thread(s)"))
    rows = "".join(f"<tr><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td>"
                   f"<td>{html.escape(str(c or ''))}</td></tr>" for a, b, c in measured)
    return f"{head}{counters}<table>{rows}</table>"


def profile_frame(self: Profile, table: str = "layers") -> Any:
    """A pandas DataFrame of one of the tables ``attnprof stat`` prints: ``layers`` (one
    row per module: path, depth, type, params, each backend's MACs, attnprof's costs),
    ``ops`` (one row per aten op: attnprof's counts, with ``self_ms`` and
    ``time_share`` when timed with ``ops=True``) or ``counters`` (one row per backend:
    status, unit, reported, MACs, FLOPs, error). Another name is BadInput."""
    pd = _pandas()
    if table == "layers":
        rows = []
        for x in self.layers:
            row: dict[str, Any] = {"path": x.path, "depth": x.depth, "type": x.type,
                                   "params": x.params}
            row.update({f"{b}_macs": v for b, v in x.macs.items()})
            if x.cost is not None:
                row.update({k: v for k, v in x.cost.to_dict().items() if k != "calls"})
            rows.append(row)
        return pd.DataFrame(rows)
    if table == "ops":
        times = {t.op: t for t in self.op_times}
        own = self.own
        names = dict.fromkeys([*(o.op for o in (own.ops if own else ())), *times])
        counts = {o.op: o for o in (own.ops if own else ())}
        rows = []
        for name in names:
            row = {"op": name}
            if name in counts:
                row.update({k: v for k, v in counts[name].to_dict().items() if k != "op"})
            if name in times:
                row.update({"self_ms": times[name].self_ms, "time_share": times[name].share})
            rows.append(row)
        return pd.DataFrame(rows)
    if table == "counters":
        return _counters_frame(pd, self.counters)
    from attnprof.errors import BadInput

    raise BadInput(f"to_frame: unknown table {table!r}; choose layers, ops or counters")


def network_repr(self: NetworkProfile) -> str:
    from attnprof.units import nbytes, percent, si

    share = self.shares()
    parts = [f"params={self.params:,}", f"flops={si(self.flops) if self.flops else '-'}",
             f"bytes={nbytes(self.bytes) if self.bytes is not None else '-'}",
             f"attention={len(self.modules)} modules "
             f"({percent(share['params'], 1) if share['params'] is not None else '-'} of "
             "params)"]
    if self.latency_ms is not None:
        parts.append(f"latency={self.latency_ms:.4g} ms")
    if self.removal_share is not None:
        parts.append(f"removal share={percent(self.removal_share, 1)}")
    where = f"{'x'.join(map(str, self.input))} {self.dtype} {self.device}"
    return f"<NetworkProfile {self.network} [{where}]: {', '.join(parts)}>"


def network_frame(self: NetworkProfile, table: str = "modules") -> Any:
    """A pandas DataFrame of ``modules`` (one row per attention module) or ``counters``
    (one row per backend's count of the whole network)."""
    pd = _pandas()
    if table == "modules":
        return pd.DataFrame([m.to_dict() for m in self.modules])
    if table == "counters":
        return _counters_frame(pd, self.counters)
    raise ValueError(f"to_frame: unknown table {table!r}; choose modules or counters")


def attach() -> None:
    """Give the records their presentation (the ``attnprof`` package calls it when
    ``attnprof.results`` has been imported; calling it again changes nothing)."""
    for cls, methods in ((Profile, {"__repr__": profile_repr, "show": profile_show,
                                    "report": profile_report, "_repr_html_": notebook_html,
                                    "to_frame": profile_frame}),
                         (NetworkProfile, {"__repr__": network_repr,
                                           "to_frame": network_frame})):
        for name, method in methods.items():
            method.__qualname__ = f"{cls.__name__}.{name}"
            setattr(cls, name, method)

