"""Latency, memory, per-op time, calibration and the roofline."""

import json

import pytest
import torch

import attnprof
from attnprof.measure import roofline
from attnprof.measure.latency import TimedCall, measure
from attnprof.measure.memory import saved_for_backward_bytes


def test_latency_fields_are_consistent():
    block = attnprof.create_block("se", 16).eval()
    lat = measure(block, torch.randn(4, 16, 16, 16), budget_s=0.05, threads=1)
    assert lat.samples >= 1 and lat.runs_per_sample >= 1 and lat.threads == 1
    # order statistics of one set of samples (equal when there is one sample); the tolerance
    # is float rounding of the interpolated percentile
    assert lat.min_ms <= lat.median_ms <= lat.p90_ms * (1 + 1e-9)
    assert lat.min_ms <= lat.mean_ms
    assert lat.iqr_ms >= 0
    assert lat.images_per_s == pytest.approx(4 / (lat.median_ms / 1e3))
    assert lat.mode == "infer" and lat.device == "cpu"
    assert lat.device_ms is None  # CUDA events only on CUDA
    if lat.samples > 1:
        assert lat.ci_low_ms <= lat.median_ms <= lat.ci_high_ms
        assert lat.ci_coverage > 0 and "order statistics" in lat.ci_method
    assert lat.quality is not None and lat.quality.threads == 1
    assert lat.threads_reason == "1 requested" and lat.l2_flush is False
    assert len(lat.samples_ms) == lat.samples and len(lat.rounds_ms) == 1



@pytest.mark.parametrize("times_s", [[0.002], [0.004, 0.001], [0.003, 0.001, 0.010, 0.002, 0.004],
                                     [0.001 * k for k in range(1, 38)]])
def test_latency_summary_is_the_statistics_of_the_samples(times_s):
    """min, median, mean, p90 and IQR of the per-call times, as numpy computes them (linear
    interpolation); one sample has no spread."""
    import numpy as np

    call = TimedCall(attnprof.create_block("se", 16), torch.randn(2, 16, 8, 8), warmup=0)
    call.times = list(times_s)
    lat = call.latency()
    ms = np.array(times_s) * 1e3
    assert lat.samples == len(times_s)
    assert lat.min_ms == pytest.approx(ms.min())
    assert lat.median_ms == pytest.approx(np.median(ms))
    assert lat.mean_ms == pytest.approx(ms.mean())
    assert lat.p90_ms == pytest.approx(np.percentile(ms, 90))
    assert lat.iqr_ms == pytest.approx(np.percentile(ms, 75) - np.percentile(ms, 25))
    assert lat.images_per_s == pytest.approx(2 / (np.median(ms) / 1e3))

def test_adaptive_timer_and_train_mode():
    block = attnprof.create_block("eca", 16)
    lat = measure(block, torch.randn(2, 16, 8, 8), mode="train", timer="adaptive", budget_s=0.05)
    assert lat.mode == "train" and "adaptive" in lat.method
    assert all(p.grad is not None for p in block.parameters())  # the step really ran backward


def test_timer_restores_thread_count():
    before = torch.get_num_threads()
    measure(attnprof.create_block("se", 16), torch.randn(1, 16, 8, 8), threads=1, budget_s=0.02)
    assert torch.get_num_threads() == before


def test_saved_for_backward_by_formula():
    # SE saves: the input x for the gating multiply (grad of the gate needs x), fc1's input
    # (B x C), relu's output (B x C/r, also fc2's input), the sigmoid's output (B x C, also
    # the gate for grad of x). In bytes, float32.
    b, c, h, w = 2, 16, 8, 8
    block = attnprof.create_block("se", c)
    saved = saved_for_backward_bytes(block, (b, c, h, w), torch.float32)
    assert saved == 4 * (b * c * h * w + b * c + b * (c // 4) + b * c)


def test_profile_memory_and_latency_keys():
    doc = attnprof.profile("cbam", channels=16, size=32, budget_s=0.05).to_dict()
    mem = doc["memory"]
    assert mem["params_bytes"] == 226 * 4
    n = 16 * 32 * 32 * 4
    assert mem["activations_bytes"] >= n  # at least the output
    assert mem["peak_bytes"] >= 2 * n and mem["peak_method"].startswith("estimated")
    assert doc["latency"]["median_ms"] > 0


def test_ops_times_line_up_with_counts():
    r = attnprof.profile("cbam", channels=16, size=32, budget_s=0.05, ops=True,
                         backends=("attnprof",))
    timed = {row.op: row for row in r.op_times}
    counted = {row.op for row in r.counters["attnprof"].ops}
    assert "aten::convolution" in timed and "aten::amax" in timed and "aten::mean" in timed
    assert "aten::mkldnn_convolution" not in timed  # folded into its counted parent
    assert sum(row.share for row in r.op_times) == pytest.approx(1.0)
    assert timed["aten::amax"].calls == 2
    assert {"aten::mul", "aten::sigmoid"} <= set(timed) & counted


def test_roofline_by_formula():
    cal = {"bandwidth_bytes_per_s": 10e9, "matmul_flops_per_s": {"float32": 100e9}}
    r = roofline.roofline(cal, flops=1e9, nbytes=1e9, latency_s=0.2, dtype="float32")
    # memory floor 0.1 s beats compute floor 0.01 s
    assert r["floor_ms"] == pytest.approx(100.0) and r["bound"] == "memory"
    assert r["latency_over_floor"] == pytest.approx(2.0)
    assert r["achieved_gbs"] == pytest.approx(5.0) and r["achieved_gflops"] == pytest.approx(5.0)
    assert roofline.roofline(None, 1, 1, 1.0, "float32") is None


def test_calibrate_caches_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNPROF_CACHE_DIR", str(tmp_path))
    entry = roofline.calibrate("cpu", threads=1, budget_s=0.02, copy_mib=8, matmul_n=128)
    assert entry["bandwidth_bytes_per_s"] > 0 and entry["matmul_flops_per_s"]["float32"] > 0
    path = roofline.save(entry)
    assert path.parent == tmp_path
    assert roofline.load("cpu", 1) == entry
    assert roofline.load("cpu", 2) is None  # another thread count is another machine setup
    r = attnprof.profile("se", channels=16, size=16, budget_s=0.02, threads=1,
                         backends=("attnprof",))
    assert r.roofline is not None and r.roofline.latency_over_floor > 0


def test_calibrate_cli(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTNPROF_CACHE_DIR", str(tmp_path))
    r = cli("calibrate", "--budget", "0.05", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["bandwidth_bytes_per_s"] > 0 and (tmp_path / "calibration.json").exists()
    r = cli("stat", "se", "-c", "16", "-s", "16", "--budget", "0.05")
    assert r.exit_code == 0 and "roofline floor" in r.stdout, r.output


def test_channels_last(cli):
    r = cli("stat", "cbam", "-c", "16", "-s", "16", "--channels-last", "--budget", "0.05",
            "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["input"]["memory_format"] == "channels_last"
    assert doc["latency"]["channels_last"] is True


def test_compile(cli):
    r = cli("stat", "se", "-c", "16", "-s", "8", "--compile", "--backends", "attnprof",
            "--budget", "0.05", "-f", "json")
    assert r.exit_code == 0, r.output
    lat = json.loads(r.stdout)["latency"]
    assert lat["compiled"] is True and "compiled" in lat["method"]


def test_env_cli(cli):
    r = cli("env", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for key in ("attnprof", "torch", "cuda", "cudnn", "device_name", "cpu", "threads"):
        assert key in doc
    assert doc["torch"] == torch.__version__


@pytest.mark.parametrize("args,needle", [
    (["stat", "se", "--cuda-graph"], "--cuda-graph needs a CUDA device"),
    (["stat", "se", "--timer", "fast"], "unknown timer"),
    (["stat", "se", "--budget", "0"], "budget"),
    (["stat", "se", "--threads", "0"], "threads"),
    (["calibrate", "--device", "cuda:3"], "cuda:3"),
])
def test_measurement_bad_input(cli, args, needle):
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.stderr and "Traceback" not in r.output


def test_unsupported_dtype_is_bad_input(cli, tmp_path, monkeypatch):
    (tmp_path / "lowprec.py").write_text(
        "import torch\nimport torch.nn as nn\n"
        "class Inv(nn.Module):\n"
        "    def __init__(self, channels): super().__init__()\n"
        "    def forward(self, x):\n"
        "        m = torch.linalg.inv(x[..., :2, :2] + 3 * torch.eye(2, dtype=x.dtype))\n"
        "        return x * m.sum()\n")
    monkeypatch.chdir(tmp_path)
    r = cli("stat", "lowprec:Inv", "-c", "2", "-s", "4", "--dtype", "float16")
    assert r.exit_code == 2, r.output
    assert "Half" in r.stderr and "Traceback" not in r.output
    r = cli("stat", "lowprec:Inv", "-c", "2", "-s", "4", "--budget", "0.02")
    assert r.exit_code == 0, r.output


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("mode", ["infer", "train"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_cuda_paths(cli, mode, dtype):
    r = cli("stat", "cbam", "-c", "64", "--device", "cuda", "--mode", mode, "--dtype", dtype,
            "--budget", "0.1", "--ops", "-f", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["counters"]["torchstat"]["status"] == "skipped"
    assert doc["memory"]["peak_method"].startswith("measured")
    assert doc["latency"]["device"].startswith("cuda")
    assert doc["latency"]["device_ms"] > 0  # CUDA events
    assert doc["op_times"]


@cuda
@pytest.mark.cuda
def test_cuda_graph_and_compile():
    for kw in ({"cuda_graph": True}, {"compile": True}):
        r = attnprof.profile("cbam", channels=64, device="cuda", budget_s=0.1, **kw)
        assert r.latency.median_ms > 0


def test_interleaving_rotates_the_order():
    from attnprof.measure.latency import measure_interleaved

    order = []

    class Fake:
        def __init__(self, name):
            self.name = name

        def sample(self, budget):
            order.append(self.name)

        def latency(self, rounds):
            return self.name

    calls = [Fake("a"), Fake("b"), Fake("c")]
    assert measure_interleaved(calls, budget_s=0.3, rounds=3) == ["a", "b", "c"]
    assert order == list("abc") + list("bca") + list("cab")


# -- timer plumbing, with a fake timer and clock (no real timing) ---------------------------

class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeTimer:
    """Stands in for torch.utils.benchmark.Timer: each _timeit(number), its inner loop,
    'takes' block(number) seconds on the fake clock."""

    def __init__(self, clock, block):
        self.clock, self.block, self.numbers = clock, block, []

    def _timeit(self, number):
        t = self.block(number)
        self.clock.now += t
        self.numbers.append(number)
        return t


@pytest.fixture
def faked(monkeypatch):
    """A TimedCall of a trivial module whose timer and clock are fakes, on a quiet machine."""
    from attnprof.measure import latency, machine

    clock = FakeClock()
    monkeypatch.setattr(latency.time, "perf_counter", clock)
    monkeypatch.setattr(latency.machine, "machine_state",
                        lambda **kw: machine.MachineState(0.1, 1, 1, 2))

    def make(block):
        call = latency.TimedCall(torch.nn.Identity(), torch.zeros(1, 1, 1, 1), threads=1)
        call.timer = FakeTimer(clock, block)
        return call

    return make


def test_blocks_fill_the_budget_with_a_fixed_block_size(faked):
    per_call = 2.0 ** -10                        # 0.98 ms: two calls make a 1 ms block
    call = faked(lambda number: number * per_call)
    call.sample(budget_s=10 * 2 * per_call)      # exactly ten blocks on the fake clock
    assert call.block_size() == 2 and call.timer.numbers == [1] * 5 + [2] * 10
    call.sample(budget_s=3 * 2 * per_call)       # the next round keeps the block size
    lat = call.latency(rounds=2)
    assert lat.samples == 13 and lat.runs_per_sample == 2
    assert [len(r) for r in lat.rounds_ms] == [10, 3] and call.round_sizes == [10, 3]
    assert lat.median_ms == pytest.approx(per_call * 1e3)
    assert lat.ci_low_ms == lat.ci_high_ms == pytest.approx(per_call * 1e3)
    assert lat.iqr_ms == 0 and lat.quality.warnings == () and lat.trustworthy
    assert "blocks of 2 calls" in lat.method and "2 interleaved rounds" in lat.method


def test_quantised_blocks_are_flagged(faked):
    # a 0.25 ms call that the scheduler stretches to whole 8 ms slices: 16, 16, 8, 16, 24, ...
    # (the first call alone is longer than a block: the block size is 1 without more calls)
    slices = iter([2, 2, 1, 2, 3, 2, 2, 2, 1, 2, 3, 2, 2, 2, 2, 1, 3] * 3)
    call = faked(lambda number: number * 8e-3 * next(slices))
    call.sample(budget_s=0.3)
    lat = call.latency()
    assert call.block_size() == 1 and lat.samples >= 8
    assert len(call.timer.numbers) == lat.samples + 1  # one call to size the block
    assert lat.quality.quantum_ms == 8.0 and not lat.trustworthy
    assert any("scheduler" in w for w in lat.warnings)


def test_default_threads_are_decided_once_and_explained(monkeypatch):
    from attnprof.measure import latency

    asked = []

    def decide(limit=None, **kw):
        asked.append(limit)
        return 1, "2 usable CPUs (affinity 2), 1 other runnable task: 1 thread"

    monkeypatch.setattr(latency.machine, "default_threads", decide)
    monkeypatch.setattr(latency, "_default", None)
    calls = [latency.TimedCall(torch.nn.Identity(), torch.zeros(1, 1, 1, 1)) for _ in "ab"]
    assert [c.threads for c in calls] == [1, 1] and asked == [torch.get_num_threads()]
    assert calls[0].threads_reason.endswith("1 thread")
    lat = latency.measure(torch.nn.Identity(), torch.zeros(1, 1, 1, 1), budget_s=0.01)
    assert lat.threads == 1 and lat.threads_reason == calls[0].threads_reason
    assert len(asked) == 1  # the same decision within 30 s


def test_l2_flush_needs_cuda():
    from attnprof.errors import BadInput
    from attnprof.measure.latency import TimedCall

    with pytest.raises(BadInput, match="l2-flush needs a CUDA device"):
        TimedCall(torch.nn.Identity(), torch.zeros(1, 1, 1, 1), l2_flush=True)


class RoundFake:
    def __init__(self, name, clock, order):
        self.name, self.clock, self.order, self.times = name, clock, order, []

    def sample(self, budget):
        self.order.append(self.name)
        self.clock.now += 0.25
        self.times.append(budget)

    def rounds(self):
        return tuple((t,) for t in self.times)

    def latency(self, rounds):
        return (self.name, rounds)


def test_adaptive_rounds_stop_when_decisive():
    from attnprof.measure.latency import measure_until

    clock, order, seen = FakeClock(), [], []
    calls = [RoundFake("a", clock, order), RoundFake("b", clock, order)]

    def decide(samples):
        seen.append([len(s) for s in samples])
        return len(samples[0]) >= 4

    out = measure_until(calls, decide, round_budget_s=0.1, min_rounds=3, clock=clock)
    assert out.rounds == 4 and out.stopped == "decisive" and out.decisive
    assert seen == [[3, 3], [4, 4]]  # asked only from min_rounds on
    assert order == list("ab" "ba" "ab" "ba")  # rotating
    assert out.latencies == [("a", 4), ("b", 4)] and out.elapsed_s == pytest.approx(2.0)


def test_adaptive_rounds_stop_at_the_time_cap_or_max_rounds():
    from attnprof.measure.latency import measure_until

    clock = FakeClock()
    calls = [RoundFake("a", clock, []), RoundFake("b", clock, [])]
    # each round takes 0.5 s; after round 3 (1.5 s) the next would end at 2.0 <= 2.2, after
    # round 4 (2.0 s) it would end at 2.5 > 2.2: stop
    out = measure_until(calls, lambda s: False, time_cap_s=2.2, clock=clock)
    assert out.rounds == 4 and out.stopped == "time cap" and out.elapsed_s <= 2.2
    out = measure_until(calls, lambda s: False, max_rounds=5, time_cap_s=1e9, clock=FakeClock())
    assert out.rounds == 5 and out.stopped == "max rounds" and not out.decisive
    with pytest.raises(ValueError):
        measure_until(calls, lambda s: True, min_rounds=0)


def test_latency_json_round_trips_the_interval_and_quality():
    from attnprof.measure.machine import MachineState
    from attnprof.measure.quality import quality
    from attnprof.results import Latency
    from attnprof.stats.order import median_ci
    from attnprof.stats.verdicts import verdict

    samples = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]
    ci = median_ci(samples)
    q = quality([s / 1e3 for s in samples], threads=1, machine=MachineState(0.5, 2, 1, 2), ci=ci)
    lat = Latency(median_ms=ci.value, iqr_ms=0.45, min_ms=1.0, mean_ms=1.45, p90_ms=1.81,
                  samples=10, runs_per_sample=1, threads=1, mode="infer", device="cpu",
                  images_per_s=1.0, method="t", ci_low_ms=ci.low, ci_high_ms=ci.high,
                  ci_coverage=ci.coverage, ci_method=ci.method, quality=q,
                  threads_reason="1 requested", rounds_ms=(tuple(samples[:5]), tuple(samples[5:])))
    assert lat.samples_ms == tuple(samples)
    d = lat.to_dict()
    assert "samples_ms" not in d and "rounds_ms" not in d
    assert d["quality"]["warnings"] == list(q.warnings)
    assert (d["ci_low_ms"], d["ci_high_ms"]) == (1.1, 1.8)  # x(2)..x(9) of 10
    back = Latency.from_dict(json.loads(json.dumps(d)))
    assert back == lat and back.quality == q and back.rounds_ms == ()
    # in one run, a ratio bootstraps the samples; from JSON, it combines the intervals
    slower = Latency.from_dict({**d, "median_ms": 2 * ci.value, "ci_low_ms": 2.2,
                                "ci_high_ms": 3.6})
    assert back.ratio_to(back).value == pytest.approx(1.0)
    assert slower.ratio_to(back).value == pytest.approx(2.0)
    assert "quadrature" in slower.ratio_to(back).method
    assert "bootstrap" in lat.ratio_to(lat).method and "2 per-round" in lat.ratio_to(lat).method
    assert verdict(slower.ratio_to(back)) == "slower"


@pytest.mark.slow
def test_adaptive_rounds_on_real_timing_never_fail_identical_blocks():
    # two copies of one block, timed for real: whatever the load, a budget of 3x between
    # them cannot fail (a failure needs the whole interval above 3), rounds respect their
    # bounds, and every median lies within its interval
    import copy

    from attnprof.measure.latency import TimedCall, measure_until
    from attnprof.stats.bootstrap import ratio_ci
    from attnprof.stats.verdicts import budget, is_decisive

    block = attnprof.create_block("se", 32).eval()
    x = torch.randn(2, 32, 28, 28)
    calls = [TimedCall(copy.deepcopy(block), x, threads=1) for _ in range(2)]
    outcome = []

    def decide(s):
        assert len(s[0]) == len(s[1]) >= 3  # by round
        outcome.append(budget(ratio_ci(s[1], s[0]), 3.0))
        return is_decisive(outcome[-1])

    out = measure_until(calls, decide, round_budget_s=0.05, min_rounds=3, max_rounds=20,
                        time_cap_s=5.0)
    assert 3 <= out.rounds <= 20 and "fail" not in outcome
    for lat in out.latencies:
        assert lat.samples >= out.rounds
        if lat.ci_low_ms is not None:
            assert lat.ci_low_ms <= lat.median_ms <= lat.ci_high_ms


@cuda
@pytest.mark.cuda
def test_cuda_l2_flush_times_each_cold_call():
    from attnprof.measure.latency import TimedCall

    block = attnprof.create_block("se", 64).cuda().eval()
    call = TimedCall(block, torch.randn(4, 64, 56, 56, device="cuda"), l2_flush=True)
    call.sample(0.05)
    lat = call.latency()
    assert lat.l2_flush and lat.runs_per_sample == 1 and lat.samples >= 10
    assert "L2 flushed" in lat.method and lat.median_ms > 0


def test_channels_last_takes_a_block_with_a_5d_weight():
    """--channels-last on a block that holds a Conv3d (timm's lambda layer does): its 4-D
    tensors go channels-last, its 5-D ones channels-last-3d; torch's Module.to(memory_format=
    channels_last) refuses the whole module ("required rank 4 tensor")."""
    from torch import nn

    import attnprof

    class WithConv3d(nn.Module):
        def __init__(self, c=8):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 1)
            self.pos = nn.Conv3d(1, 1, (1, 3, 3), padding=(0, 1, 1))

        def forward(self, x):
            return self.conv(x) + self.pos(x.unsqueeze(1)).squeeze(1)

    block = WithConv3d()
    p = attnprof.profile(block, channels=8, size=6, channels_last=True, budget_s=0.01,
                         backends=("attnprof",))
    assert p.latency.channels_last
    assert block.conv.weight.is_contiguous()  # the caller's block is left as it was
