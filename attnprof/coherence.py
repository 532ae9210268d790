"""Documents read back, held to what their figures mean, beyond the schema.

The schema says what type and range each field has; it cannot say that a file's figures
could all be true at once. A results file whose latency interval is inverted, or whose
median lies outside it, or whose coverage does not add up, passes any schema and then
misleads ``check`` or ``sweep --resume``. These are the rules, each one a fact of how
attnprof writes the figures (``docs/json-schema.md``, "Coherence"):

* **intervals** are ordered and hold their point: ``ci_low_ms <= median_ms <= ci_high_ms``;
  ``min_ms <= median_ms <= p90_ms``; ``min_ms <= mean_ms``; a fit's ``slope_low <= slope <=
  slope_high``; a ``[low, high]`` pair named ``X_ci`` is ordered; a latency comparison's or
  budget's ``ci_low <= ci_high`` (a bootstrap interval of a ratio need not hold the ratio of
  the two medians, so only its order is required);
* **shares and coverages** lie in [0, 1] (``share``, ``*_share``, ``ci_coverage``), and the
  per-op time shares add up to at most 1;
* **counts add up**: a backend's ``counted_flops + sum(missed_ops flops) +
  unexplained_flops`` is attnprof's ``flops``; attnprof's totals are the sums of its ``ops``;
  ``reported`` is the figure its ``unit`` names; ``trainable <= total`` parameters; a host's
  ``*_added = *_total - *_base``;
* **ratios agree with what they divide**: a comparison row's ``ratio`` is its value over the
  baseline's and ``diff`` their difference; ``images_per_s`` is the batch over the median;
  an op's ``intensity`` is its FLOPs per byte; a roofline's ``latency_over_floor`` is the
  median over the floor; a scaling exponent is its fit's slope; a budget that is not about
  latency passed exactly when its value is within its limit.

Each problem is ``where: what is wrong`` (the caller adds the file); the first one found is
reported. Pure Python, linear in the document.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["incoherence"]


class _Wrong(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-12


def _g(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def incoherence(doc: Any, name: str) -> str | None:
    """The first figure of ``doc`` (a document of schema ``name``, already valid by that
    schema) that contradicts another, as ``where: what``; None when they agree."""
    try:
        _shares(doc, "")
        if name == "attnprof.profile/1":
            _profile(doc, "")
        elif name == "attnprof.results/1":
            _results(doc)
    except _Wrong as exc:
        return str(exc)
    except (TypeError, ValueError, AttributeError, KeyError, ArithmeticError):
        return None  # a field the schema leaves free holds something odd: not a figure
    return None


def _at(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _ordered(where: str, pairs: list[tuple[str, Any, str, Any]]) -> None:
    """Each (low name, low, high name, high) with both numbers has low <= high."""
    for lo_name, lo, hi_name, hi in pairs:
        if _num(lo) and _num(hi) and lo > hi and not _close(lo, hi, 1e-12):
            raise _Wrong(where, f"{lo_name} {_g(lo)} is above {hi_name} {_g(hi)}")


def _inside(where: str, point_name: str, point: Any, lo: Any, hi: Any, lo_name: str,
            hi_name: str) -> None:
    if not (_num(point) and _num(lo) and _num(hi)):
        return
    if lo > hi and not _close(lo, hi, 1e-12):
        raise _Wrong(where, f"the interval is inverted: {lo_name} {_g(lo)} is above "
                            f"{hi_name} {_g(hi)}")
    if not lo - 1e-9 * abs(lo) <= point <= hi + 1e-9 * abs(hi):
        raise _Wrong(where, f"{point_name} {_g(point)} lies outside its interval "
                            f"[{lo_name} {_g(lo)}, {hi_name} {_g(hi)}]")


# -- shares anywhere --------------------------------------------------------------------------

def _shares(v: Any, where: str) -> None:
    """Every ``share``, ``*_share`` and ``ci_coverage`` number (or object of numbers) lies in
    [0, 1]; every ``X_ci`` pair is ordered."""
    if isinstance(v, dict):
        for k, item in v.items():
            here = _at(where, k)
            if isinstance(k, str) and (k == "share" or k.endswith("_share")
                                       or k == "ci_coverage"):
                values = item.items() if isinstance(item, dict) else [(None, item)]
                for sub, x in values:
                    if _num(x) and not 0 <= x <= 1 + 1e-9:
                        spot = _at(here, sub) if sub is not None else here
                        raise _Wrong(spot, f"a share must lie in [0, 1], got {_g(x)}")
            if isinstance(k, str) and k.endswith("_ci") and isinstance(item, list) \
                    and len(item) == 2:
                _ordered(here, [("low", item[0], "high", item[1])])
            _shares(item, here)
    elif isinstance(v, list):
        for i, item in enumerate(v):
            _shares(item, _at(where, i))


# -- one profile ------------------------------------------------------------------------------

def _profile(p: dict[str, Any], where: str) -> None:
    _latency(p, _at(where, "latency"))
    params = p.get("params") or {}
    _ordered(_at(where, "params"), [("trainable", params.get("trainable"), "total",
                                     params.get("total"))])
    counters = p.get("counters") or {}
    own = counters.get("attnprof")
    own_ok = isinstance(own, dict) and own.get("status") == "ok"
    for backend, c in counters.items():
        if not isinstance(c, dict):
            continue
        here = _at(_at(where, "counters"), backend)
        if c.get("status") == "ok":
            unit = c.get("unit")
            key = {"MACs": "macs", "FLOPs": "flops"}.get(unit) if isinstance(unit, str) else None
            if key and _num(c.get("reported")) and _num(c.get(key)) \
                    and c["reported"] != c[key]:
                raise _Wrong(_at(here, "reported"), f"{_g(c['reported'])} {unit} is not its "
                                                    f"{key} ({_g(c[key])})")
        if own_ok and _num(own.get("flops")):
            _coverage(c, own["flops"], here)
    if own_ok:
        _own_sums(own, _at(_at(where, "counters"), "attnprof"))
    _op_times(p.get("op_times"), _at(where, "op_times"))
    _host(p.get("host"), _at(where, "host"))
    _roofline(p, where)


def _latency(p: dict[str, Any], where: str) -> None:
    lat = p.get("latency")
    if not isinstance(lat, dict):
        return
    med = lat.get("median_ms")
    _inside(where, "median_ms", med, lat.get("ci_low_ms"), lat.get("ci_high_ms"),
            "ci_low_ms", "ci_high_ms")
    _ordered(where, [("min_ms", lat.get("min_ms"), "median_ms", med),
                     ("median_ms", med, "p90_ms", lat.get("p90_ms")),
                     ("min_ms", lat.get("min_ms"), "mean_ms", lat.get("mean_ms"))])
    shape = (p.get("input") or {}).get("shape")
    ips = lat.get("images_per_s")
    if _num(ips) and _num(med) and med > 0 and isinstance(shape, list) and shape \
            and _num(shape[0]):
        expected = shape[0] / (med / 1e3)
        if not _close(ips, expected, 1e-6):
            raise _Wrong(_at(where, "images_per_s"),
                         f"{_g(ips)} is not the batch ({shape[0]}) over the median "
                         f"({_g(med)} ms): {_g(expected)}")


def _coverage(c: dict[str, Any], total: int, where: str) -> None:
    counted, unexplained = c.get("counted_flops"), c.get("unexplained_flops")
    missed = c.get("missed_ops")
    if not (_num(counted) and _num(unexplained) and isinstance(missed, list)):
        return
    lost = sum(m.get("flops") for m in missed if isinstance(m, dict) and _num(m.get("flops")))
    if counted + lost + unexplained != total:
        raise _Wrong(where, f"counted_flops {_g(counted)} + missed ops {_g(lost)} + "
                            f"unexplained_flops {_g(unexplained)} = "
                            f"{_g(counted + lost + unexplained)}, not attnprof's flops "
                            f"{_g(total)}")


def _own_sums(own: dict[str, Any], where: str) -> None:
    ops = [o for o in own.get("ops") or () if isinstance(o, dict)]
    if not ops:
        return
    for key in ("macs", "flops", "transcendentals", "bytes_read", "bytes_written"):
        total = own.get(key)
        parts = [o.get(key) for o in ops]
        if _num(total) and all(_num(x) for x in parts) and sum(parts) != total:
            raise _Wrong(_at(where, key), f"{_g(total)} is not the sum over its ops "
                                          f"({_g(sum(parts))})")
    for i, o in enumerate(ops):
        read, written = o.get("bytes_read"), o.get("bytes_written")
        intensity, flops = o.get("intensity"), o.get("flops")
        moved = read + written if _num(read) and _num(written) else None
        if _num(intensity) and _num(flops) and moved is not None and moved > 0:
            expected = flops / moved
            if not _close(intensity, expected, 1e-3) and abs(intensity - expected) > 1e-4:
                raise _Wrong(_at(_at(_at(where, "ops"), i), "intensity"),
                             f"{_g(intensity)} is not flops / bytes moved "
                             f"({_g(flops)} / {_g(moved)} = {_g(expected)})")


def _op_times(rows: Any, where: str) -> None:
    if not isinstance(rows, list):
        return
    shares = [r.get("share") for r in rows if isinstance(r, dict) and _num(r.get("share"))]
    if sum(shares) > 1 + 1e-6:
        raise _Wrong(where, f"the ops' time shares add up to {_g(sum(shares))}, more than 1")


def _host(host: Any, where: str) -> None:
    if not isinstance(host, dict):
        return
    for key in ("params", "macs", "flops", "bytes"):
        base, total, added = (host.get(f"{key}_{s}") for s in ("base", "total", "added"))
        if _num(base) and _num(total) and _num(added) and not _close(total - base, added):
            raise _Wrong(_at(where, f"{key}_added"), f"{_g(added)} is not {key}_total "
                                                     f"{_g(total)} - {key}_base {_g(base)}")


def _roofline(p: dict[str, Any], where: str) -> None:
    roof, lat = p.get("roofline"), p.get("latency")
    if not isinstance(roof, dict) or not isinstance(lat, dict):
        return
    over, floor, med = roof.get("latency_over_floor"), roof.get("floor_ms"), lat.get("median_ms")
    if _num(over) and _num(floor) and _num(med) and floor > 0 \
            and not _close(over, med / floor, 1e-6):
        raise _Wrong(_at(_at(where, "roofline"), "latency_over_floor"),
                     f"{_g(over)} is not the median {_g(med)} ms over the floor "
                     f"{_g(floor)} ms ({_g(med / floor)})")


# -- several --------------------------------------------------------------------------------

def _results(doc: dict[str, Any]) -> None:
    for i, r in enumerate(doc.get("results") or ()):
        if isinstance(r, dict):
            _profile(r, f"results[{i}]")
    _comparison(doc.get("comparison"))
    _scaling(doc.get("scaling"))
    _budgets(doc.get("budgets"))


def _comparison(cmp: Any) -> None:
    if not isinstance(cmp, dict) or not isinstance(cmp.get("rows"), list):
        return
    rows = cmp["rows"]
    base = next((r for r in rows if isinstance(r, dict) and r.get("name") == cmp.get("baseline")),
                None)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        for metric, cell in row.items():
            if not isinstance(cell, dict):
                continue
            here = f"comparison.rows[{i}].{metric}"
            value, ratio, diff = cell.get("value"), cell.get("ratio"), cell.get("diff")
            # ordered only: a bootstrap interval need not hold the ratio of the medians
            _ordered(here, [("ci_low", cell.get("ci_low"), "ci_high", cell.get("ci_high"))])
            ref = (base or {}).get(metric)
            ref = ref.get("value") if isinstance(ref, dict) else None
            if not (_num(value) and _num(ref)):
                continue
            if _num(diff) and not _close(diff, value - ref) \
                    and abs(diff - (value - ref)) > 1e-9:
                raise _Wrong(_at(here, "diff"), f"{_g(diff)} is not the value {_g(value)} "
                                                f"less the baseline's {_g(ref)}")
            if _num(ratio) and ref != 0 and not _close(ratio, value / ref):
                raise _Wrong(_at(here, "ratio"), f"{_g(ratio)} is not the value {_g(value)} "
                                                 f"over the baseline's {_g(ref)}")


def _scaling(rows: Any) -> None:
    if not isinstance(rows, list):
        return
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("fits"), dict):
            continue
        for figure, fit in row["fits"].items():
            if not isinstance(fit, dict):
                continue
            here = f"scaling[{i}].fits.{figure}"
            _inside(here, "slope", fit.get("slope"), fit.get("slope_low"),
                    fit.get("slope_high"), "slope_low", "slope_high")
            exponent = row.get(figure)
            if _num(exponent) and _num(fit.get("slope")) \
                    and not _close(exponent, fit["slope"], 1e-9):
                raise _Wrong(f"scaling[{i}].{figure}", f"the exponent {_g(exponent)} is not "
                                                       f"its fit's slope {_g(fit['slope'])}")


def _budgets(rows: Any) -> None:
    if not isinstance(rows, list):
        return
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        here = f"budgets[{i}]"
        passed, outcome = row.get("passed"), row.get("outcome")
        _ordered(here, [("ci_low", row.get("ci_low"), "ci_high", row.get("ci_high"))])
        if isinstance(passed, bool) and outcome in ("pass", "fail") \
                and passed != (outcome == "pass"):
            raise _Wrong(here, f"passed is {str(passed).lower()} but the outcome is "
                               f"{outcome!r}")
        budget, value, limit = row.get("budget"), row.get("value"), row.get("limit")
        about_latency = isinstance(budget, str) and "latency" in budget
        if not about_latency and isinstance(passed, bool) and _num(value) and _num(limit) \
                and passed != (value <= limit) and math.isfinite(value):
            raise _Wrong(here, f"passed is {str(passed).lower()}, yet the value {_g(value)} "
                               f"is {'within' if value <= limit else 'over'} the limit "
                               f"{_g(limit)}")
