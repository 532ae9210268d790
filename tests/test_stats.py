"""The statistics of timed samples (attnprof.stats, attnprof.measure.quality and .machine,
attnprof.units' digits) on synthetic samples: every expected value comes from a formula
computed here (binomial sums, closed-form t quantiles, hand-worked least squares), and the
random samples are drawn from seeded generators, so no test depends on the machine."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections import Counter
from fractions import Fraction

import pytest

from attnprof import units
from attnprof.measure import machine, quality
from attnprof.measure.machine import MachineState
from attnprof.stats import bootstrap, fits, order, student, uncertainty, verdicts
from attnprof.stats.uncertainty import Estimate


def binom_cdf(k: int, n: int) -> Fraction:
    """P(K <= k) for K ~ Binomial(n, 1/2), exactly."""
    return Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2 ** n)


# -- the median's interval ------------------------------------------------------------------

@pytest.mark.parametrize("n", [6, 10, 20, 30, 100])
def test_order_statistic_interval_is_the_narrowest_with_95_percent(n):
    lo, hi, coverage = order.order_statistic_indices(n)
    assert hi == n - 1 - lo  # symmetric
    exact = 1 - 2 * binom_cdf(lo, n)  # P(x[lo] <= median <= x[hi]), 0-based lo = l - 1
    assert coverage == pytest.approx(float(exact), abs=1e-12)
    assert exact >= Fraction(95, 100)
    assert 1 - 2 * binom_cdf(lo + 1, n) < Fraction(95, 100)  # one index tighter falls short


def test_order_statistic_interval_textbook_values():
    # the classic table: n=10 -> x(2)..x(9), n=20 -> x(6)..x(15), n=100 -> x(40)..x(61)
    assert order.order_statistic_indices(10)[:2] == (1, 8)
    assert order.order_statistic_indices(20)[:2] == (5, 14)
    assert order.order_statistic_indices(100)[:2] == (39, 60)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_tiny_samples_fall_back_to_min_max_with_their_coverage(n):
    lo, hi, coverage = order.order_statistic_indices(n)
    assert (lo, hi) == (0, n - 1)
    assert coverage == pytest.approx(1 - 2.0 ** (1 - n))  # 50%, 75%, 87.5%, 93.75%
    ci = order.median_ci([float(i) for i in range(1, n + 1)])
    assert (ci.low, ci.high) == (1.0, float(n)) and "too few" in ci.method


def test_one_sample_has_no_interval():
    ci = order.median_ci([3.0])
    assert ci.value == 3.0 and ci.low == 0 and ci.high == math.inf and not ci.bounded


def test_median_interval_covers_as_stated():
    # exponential samples (skewed, like latencies), true median ln 2; 2000 seeded trials of
    # n=20, whose exact coverage is 1 - 2 P(K <= 5) = 0.9586: the count of hits is Binomial
    rng = random.Random(7)
    trials, n = 2000, 20
    hits = sum(order.median_ci([rng.expovariate(1.0) for _ in range(n)]).contains(math.log(2))
               for _ in range(trials))
    p = float(1 - 2 * binom_cdf(5, n))
    sd = math.sqrt(trials * p * (1 - p))
    assert abs(hits - trials * p) < 4 * sd


# -- ratios ---------------------------------------------------------------------------------

def _bootstrap_exact(xs: list[float]) -> Counter:
    """The exact bootstrap distribution of the median, by enumerating every resample."""
    n = len(xs)
    dist: Counter = Counter()
    for idx in itertools.product(range(n), repeat=n):
        dist[statistics.median(sorted(xs[i] for i in idx))] += 1
    return dist


@pytest.mark.parametrize("xs", [[1.0, 2.0, 3.0, 5.0, 8.0], [1.0, 2.0, 4.0, 8.0]])
def test_bootstrap_medians_are_drawn_from_the_exact_bootstrap_distribution(xs):
    exact = _bootstrap_exact(xs)
    total = sum(exact.values())
    draws = 40000
    got = Counter(bootstrap._bootstrap_medians(sorted(xs), draws, random.Random(3)))
    assert set(got) <= set(exact)
    for value, count in exact.items():
        p = count / total
        sd = math.sqrt(draws * p * (1 - p))
        assert abs(got[value] - draws * p) < 5 * sd + 1, value


def test_ratio_interval_is_deterministic_and_covers():
    rng = random.Random(11)
    a = [1.5 * rng.lognormvariate(0, 0.1) for _ in range(40)]
    b = [rng.lognormvariate(0, 0.1) for _ in range(40)]
    r1, r2 = bootstrap.ratio_ci(a, b), bootstrap.ratio_ci(a, b)
    assert r1 == r2
    assert r1.value == pytest.approx(statistics.median(a) / statistics.median(b))
    assert r1.low < r1.value < r1.high

    # coverage of the true ratio 1.5 over seeded trials: near 95% (bootstrap percentile
    # intervals of medians are approximate; at least 90% here)
    hits, trials = 0, 200
    for _ in range(trials):
        a = [1.5 * rng.lognormvariate(0, 0.1) for _ in range(30)]
        b = [rng.lognormvariate(0, 0.1) for _ in range(30)]
        hits += bootstrap.ratio_ci(a, b, resamples=1000).contains(1.5)
    assert hits >= 0.9 * trials


def test_ratio_by_rounds_is_widened_to_the_t_interval_of_per_round_ratios():
    # three rounds whose samples are constant within a round: per-round ratios 1.0, 1.2,
    # 1.1 against a baseline of 1.0. The t interval of their logs (df=2, closed-form
    # quantile) is wider than the pooled bootstrap, so it is the interval
    k = 10
    cand = [[1.0] * k, [1.2] * k, [1.1] * k]
    base = [[1.0] * k] * 3
    logs = [0.0, math.log(1.2), math.log(1.1)]
    t2 = 0.95 * math.sqrt(2 / (1 - 0.95 ** 2))
    half = t2 * statistics.stdev(logs) / math.sqrt(3)
    r = bootstrap.ratio_ci(cand, base)
    assert r.value == pytest.approx(1.1)
    assert r.low == pytest.approx(math.exp(statistics.fmean(logs) - half))
    assert r.high == pytest.approx(math.exp(statistics.fmean(logs) + half))
    assert "3 per-round ratios" in r.method
    with pytest.raises(ValueError, match="rounds"):
        bootstrap.ratio_ci(cand, base[:2])


def test_a_burst_in_one_round_cannot_make_a_ratio_decisive():
    # equal blocks (true ratio 1); in round 2 a burst of load slows every sample of the
    # candidate by 30%. Pooled as if independent, the samples look "slower"; by round, the
    # rounds disagree and the verdict is inconclusive
    rng = random.Random(9)

    def round_(scale=1.0):
        return [scale * 1e-3 * (1 + 0.01 * rng.random()) for _ in range(40)]

    cand = [round_(), round_(1.3), round_(1.3), round_()]
    base = [round_(), round_(), round_(), round_()]
    flat = bootstrap.ratio_ci([x for r in cand for x in r], [x for r in base for x in r])
    by_round = bootstrap.ratio_ci(cand, base)
    assert verdicts.verdict(flat) == "slower"            # the overconfident answer
    assert verdicts.verdict(by_round) == "inconclusive"
    assert by_round.low <= flat.low and by_round.high >= flat.high
    # when every round agrees, rounds cost nothing: still decisive
    steady = [round_(1.3) for _ in range(4)]
    assert verdicts.verdict(bootstrap.ratio_ci(steady, base)) == "slower"


def test_ratio_with_too_few_samples_has_no_interval():
    r = bootstrap.ratio_ci([2.0], [1.0, 1.1])
    assert r.value == pytest.approx(2 / 1.05) and (r.low, r.high) == (0.0, math.inf)
    assert verdicts.verdict(r) == "inconclusive" and verdicts.budget(r, 1.5) == "inconclusive"


def test_ratio_from_intervals_adds_log_half_widths_in_quadrature():
    a = Estimate(2.0, 2 * math.exp(-0.3), 2 * math.exp(0.3), 0.96, "")
    b = Estimate(1.0, math.exp(-0.4), math.exp(0.4), 0.97, "")
    r = bootstrap.ratio_from_cis(a, b)
    assert r.value == pytest.approx(2.0)
    assert r.low == pytest.approx(2 * math.exp(-0.5)) and r.high == pytest.approx(2 * math.exp(0.5))
    assert r.coverage == 0.96
    unbounded = bootstrap.ratio_from_cis(a, Estimate(1.0, 0.0, math.inf, 1.0, ""))
    assert (unbounded.low, unbounded.high) == (0.0, math.inf)


# -- decisions ------------------------------------------------------------------------------

def est(lo, hi, value=None):
    return Estimate((lo + hi) / 2 if value is None else value, lo, hi, 0.95, "test")


@pytest.mark.parametrize("interval,expected", [
    ((0.97, 1.03), "same"),
    ((0.80, 0.90), "faster"),
    ((1.20, 1.30), "slower"),
    ((0.90, 1.10), "inconclusive"),       # straddles 1
    ((0.90, 0.99, 0.96), "inconclusive"),  # below 1, but 0.96 may be noise
    ((0.0, math.inf), "inconclusive"),    # no interval
])
def test_verdict(interval, expected):
    assert verdicts.verdict(est(*interval), threshold=0.05) == expected


def test_verdict_on_constructed_samples():
    rng = random.Random(5)
    base = [1e-3 * (1 + 0.02 * rng.random()) for _ in range(50)]
    slow = [2 * t for t in base]
    same = [t * (1 + 0.005 * rng.random()) for t in base]
    assert verdicts.verdict(bootstrap.ratio_ci(slow, base)) == "slower"
    assert verdicts.verdict(bootstrap.ratio_ci(base, slow)) == "faster"
    assert verdicts.verdict(bootstrap.ratio_ci(same, base)) == "same"
    assert verdicts.verdict(bootstrap.ratio_ci(slow, base), trusted=False) == "inconclusive"


@pytest.mark.parametrize("interval,trusted,expected", [
    ((1.0, 1.4), True, "pass"),
    ((1.0, 1.5), True, "pass"),          # at the limit
    ((1.6, 1.8), True, "fail"),
    ((1.4, 1.6), True, "inconclusive"),
    ((1.6, 1.8), False, "inconclusive"),  # quantised samples never fail a budget
    ((1.0, 1.4), False, "pass"),
])
def test_budget(interval, trusted, expected):
    assert verdicts.budget(est(*interval), 1.5, trusted=trusted) == expected
    assert verdicts.is_decisive(expected) is (expected != "inconclusive")


# -- quality --------------------------------------------------------------------------------

def test_quantised_samples_are_detected():
    rng = random.Random(2)
    # 8/16/24 ms, most at 16 (two slices), each within 0.1 ms
    on_grid = [8 * k + rng.uniform(-0.1, 0.1) for k in [2] * 20 + [1] * 5 + [3] * 5]
    assert quality.quantum_of(on_grid) == 8.0
    continuous = [rng.uniform(5, 30) for _ in range(30)]
    assert quality.quantum_of(continuous) is None
    one_level = [16 + rng.uniform(-0.1, 0.1) for _ in range(30)]  # a tight distribution
    assert quality.quantum_of(one_level) is None
    offset = [t + 3.3 for t in on_grid]  # evenly spaced, but not whole multiples
    assert quality.quantum_of(offset) is None
    assert quality.quantum_of(on_grid[:7]) is None  # too few to say


def test_quality_checks_block_times_not_per_call_times():
    rng = random.Random(4)
    per_call = [(8 * k + rng.uniform(-0.1, 0.1)) / 10 / 1e3 for k in [2] * 20 + [1, 3] * 4]
    q = quality.quality(per_call, block_sizes=10)
    assert q.quantum_ms == 8.0 and not q.trustworthy
    assert any("multiples of 8 ms" in w for w in q.warnings)
    assert quality.quality(per_call, block_sizes=1).quantum_ms is None  # 0.8..2.4 ms


def test_quality_figures_and_warnings():
    xs = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 4.0]
    q = quality.quality([x / 1e3 for x in xs], threads=1)
    quart = statistics.quantiles(xs, n=4, method="inclusive")
    assert q.iqr_over_median == pytest.approx((quart[2] - quart[0]) / 2.0)
    assert q.min_gap == pytest.approx(1.0)  # median 2 against min 1
    assert any("IQR" in w for w in q.warnings) and any("fastest" in w for w in q.warnings)
    quiet = quality.quality([1e-3 * (1 + i / 1000) for i in range(30)], threads=1)
    assert quiet.warnings == () and quiet.trustworthy
    assert quality.quality([1e-3]).warnings[0].startswith("one sample")


def test_quality_reports_a_busy_machine():
    xs = [1e-3] * 10
    busy = quality.quality(xs, threads=2, machine=MachineState(1.5, 3, 1, 2))
    assert busy.run_queue == 2 and busy.cores == 2
    assert any("2 other runnable tasks + 2 timing threads > 2 usable CPUs" in w
               for w in busy.warnings)
    calm = quality.quality(xs, threads=1, machine=MachineState(0.3, 2, 1, 2))
    assert calm.warnings == ()
    lagging = quality.quality(xs, threads=1, machine=MachineState(3.5, 1, 1, 2))
    assert any("1-minute load 3.50" in w for w in lagging.warnings)


def test_quality_round_trips():
    q = quality.quality([1e-3, 2e-3, 1.5e-3], threads=1, machine=MachineState(1.0, 2, 1, 2))
    d = q.to_dict()
    assert d["trustworthy"] is True and isinstance(d["warnings"], list)
    assert uncertainty.Quality.from_dict(d) == q


# -- machine state and threads --------------------------------------------------------------

def fake_proc(tmp_path, runnable, own_states=("R",), load1=0.5):
    proc = tmp_path / "proc"
    (proc / "self" / "task").mkdir(parents=True)
    (proc / "loadavg").write_text(f"{load1} 0.4 0.3 {runnable}/200 12345\n")
    for i, state in enumerate(own_states):
        (proc / "self" / "task" / str(100 + i)).mkdir()
        (proc / "self" / "task" / str(100 + i) / "stat").write_text(
            f"{100 + i} (python3 (x)) {state} 1 2 3\n")
    (proc / "self" / "cgroup").write_text("0::/\n")
    return proc


def test_machine_state_counts_others_not_our_threads(tmp_path):
    proc = fake_proc(tmp_path, runnable=4, own_states=("R", "R", "S"), load1=2.5)
    m = machine.machine_state(cores=2, proc=proc, reads=3, interval_s=0)
    assert m.own_running == 2 and m.others == 2 and m.load1 == 2.5


@pytest.mark.parametrize("cgroup,expected", [
    ({"cpu.max": "max 100000\n"}, 4),
    ({"cpu.max": "150000 100000\n"}, 2),                      # 1.5 CPUs: two threads
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4),
    ({}, 4),
])
def test_usable_cpus_from_affinity_and_cgroup_quota(tmp_path, monkeypatch, cgroup, expected):
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    root = tmp_path / "cgroup"
    for name, text in cgroup.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    proc = fake_proc(tmp_path, runnable=1)
    cpus, why = machine.usable_cpus(cgroup_root=root, proc=proc)
    assert cpus == expected and "affinity 4" in why
    assert ("cgroup" in why) is (expected < 4)


@pytest.mark.parametrize("affinity,others,limit,expected", [
    (2, 0, None, 1),     # one CPU left spare
    (2, 1, None, 1),     # a hog: still one
    (1, 0, None, 1),
    (8, 0, None, 7),
    (8, 3, None, 4),
    (8, 0, 4, 4),        # torch's own count caps it
    (4, 9, None, 1),     # never below one
])
def test_default_threads(tmp_path, monkeypatch, affinity, others, limit, expected):
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: set(range(affinity)),
                        raising=False)
    proc = fake_proc(tmp_path, runnable=1)
    state = MachineState(0.0, others + 1, 1, affinity)
    threads, why = machine.default_threads(limit=limit, state=state,
                                         cgroup_root=tmp_path / "none", proc=proc)
    assert threads == expected
    assert f"{affinity} usable CPU" in why and f"{others} other runnable" in why
    assert why.endswith(f"{expected} thread{'s' * (expected != 1)}")


def test_default_threads_reads_the_run_queue(tmp_path, monkeypatch):
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: set(range(8)),
                        raising=False)
    proc = fake_proc(tmp_path, runnable=4, own_states=("R",))
    threads, why = machine.default_threads(cgroup_root=tmp_path / "none", proc=proc)
    assert threads == 8 - 3 - 1 and "3 other runnable tasks" in why


# -- presentation ---------------------------------------------------------------------------

@pytest.mark.parametrize("value,low,high,text", [
    (15.98, 8.0, 24.0, "16"),            # half-width 8: units
    (0.25312, 0.2501, 0.2562, "0.253"),  # half-width 0.003: thousandths
    (0.25312, 0.2516, 0.2546, "0.2531"), # half-width 0.0015 starts with 1: one more digit
    (1234.5, 1000.0, 1500.0, "1200"),    # half-width 250: hundreds
    (0.0871, 0.083, 9.97, "0.09"),       # never fewer than one significant digit
    (12.3456, math.nan, math.nan, "12.3"),  # no interval: three significant digits
])
def test_significant(value, low, high, text):
    assert units.significant(value, low, high) == text


def test_format_ms_picks_the_unit():
    assert units.format_ms(0.25312, 0.2501, 0.2562) == "253 µs"
    assert units.format_ms(15.98, 8.0, 24.0) == "16 ms"
    assert units.format_ms(2.0) == "2.00 ms"


# -- fits -----------------------------------------------------------------------------------

def test_t_quantiles_against_closed_forms():
    # df=1 is Cauchy: t = tan(pi * level / 2); df=2: t = level * sqrt(2 / (1 - level^2))
    for level in (0.9, 0.95, 0.99):
        assert student.t_quantile(level, 1) == pytest.approx(math.tan(math.pi * level / 2))
        assert student.t_quantile(level, 2) == pytest.approx(level * math.sqrt(2 / (1 - level**2)))
    z = statistics.NormalDist().inv_cdf(0.975)
    assert student.t_quantile(0.95, 2001) == pytest.approx(z, abs=2e-3)
    assert student.t_quantile(0.95, 3) > student.t_quantile(0.95, 4) > student.t_quantile(0.95, 30)


def test_loglog_fit_by_hand():
    # log x = 0, 1, 2, 3; log y = 0, 2.1, 3.9, 6.0. Worked by hand: Sxx = 5, Sxy = 9.9,
    # slope 1.98, intercept 0.03, residuals -0.03, 0.09, -0.09, 0.03: SSE 0.018, SST 19.62,
    # se = sqrt(0.018 / 2 / 5)
    xs = [math.exp(v) for v in (0, 1, 2, 3)]
    ys = [math.exp(v) for v in (0, 2.1, 3.9, 6.0)]
    fit = fits.loglog_fit(xs, ys)
    assert fit.slope == pytest.approx(1.98) and fit.intercept == pytest.approx(0.03)
    assert fit.r2 == pytest.approx(1 - 0.018 / 19.62)
    half = student.t_quantile(0.95, 2) * math.sqrt(0.0018)
    assert fit.slope_low == pytest.approx(1.98 - half)
    assert fit.slope_high == pytest.approx(1.98 + half)
    assert fit.describe("size", "latency").startswith("latency ∝ size^1.98 (95% CI 1.80 to 2.16")


def test_loglog_fit_exact_power_law_and_two_points():
    fit = fits.loglog_fit([14, 28, 56, 112], [3 * s**2 for s in (14, 28, 56, 112)])
    assert fit.slope == pytest.approx(2) and fit.r2 == pytest.approx(1)
    assert fit.slope_high - fit.slope_low == pytest.approx(0, abs=1e-6)
    two = fits.loglog_fit([1, 2], [1, 4])
    assert two.slope == pytest.approx(2) and two.slope_low is None
    assert "no interval" in two.describe()


def test_loglog_fit_on_flagged_times_is_untrustworthy():
    fit = fits.loglog_fit([14, 28, 56, 112], [1.0, 0.8, 0.7, 0.4],
                           flagged=[False, True, False, True])
    assert not fit.trustworthy and fit.flagged == 2
    text = fit.describe("size", "latency")
    assert "untrustworthy" in text and "2 of 4" in text and "^-" not in text
    assert not fits.loglog_fit([1, 2, 3], [1, 2, 3], flagged=True).trustworthy


def test_loglog_fit_refuses_bad_input():
    for xs, ys in (([1], [1]), ([1, 2], [1]), ([1, 1], [1, 2]), ([0, 1], [1, 2])):
        with pytest.raises(ValueError):
            fits.loglog_fit(xs, ys)
