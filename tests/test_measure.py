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
