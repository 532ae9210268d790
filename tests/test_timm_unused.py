"""Options a timm block's constructor ignores are reported as not applied, as for a
``module:Name`` block's ``**kwargs`` (issue 21): found by building the block once more on
the meta device with the option at other values."""

import json
import math

from zoo_env import needs_zoo  # the zoo extra: timm, torchvision


def eca_kernel(channels, gamma=2, beta=1):
    """timm's EcaModule, written from its definition: the kernel follows the channels."""
    t = int(abs(math.log(channels, 2) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


def _stat(cli, *args):
    r = cli("stat", *args, "--no-latency", "--backends", "attnprof", "-s", "8",
            "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@needs_zoo
def test_timm_eca_kernel_size_is_reported_unused(cli):
    doc = _stat(cli, "timm:eca", "-c", "256")
    assert eca_kernel(256) == 5
    assert doc["block"]["unused_options"]["kernel_size"] == 3
    assert "kernel_size" not in doc["block"]["options"]
    assert doc["params"]["total"] == eca_kernel(256)  # the conv's weight: 1 x 1 x k
    doc = _stat(cli, "timm:eca", "-c", "256", "-o", "kernel_size=9")
    assert doc["block"]["unused_options"]["kernel_size"] == 9
    assert doc["params"]["total"] == 5  # -o kernel_size=9 built the same block
    r = cli("stat", "timm:eca", "-c", "256", "-s", "8", "--no-latency", "--backends",
            "attnprof", "-o", "kernel_size=9")
    assert "not applied: kernel_size=9" in r.stdout, r.stdout


@needs_zoo
def test_timm_options_that_shape_the_block_stay_applied(cli):
    """ECA's gamma and beta choose its kernel; SE's rd_ratio its hidden width (timm rounds
    it to a multiple of 8, so a small change can hide: 64 / 16 and 64 / 8 both give 8)."""
    doc = _stat(cli, "timm:eca", "-c", "256")
    assert {"gamma", "beta", "use_mlp"} <= set(doc["block"]["options"])
    doc = _stat(cli, "timm:se", "-c", "64")
    assert "rd_ratio" in doc["block"]["options"] and not doc["block"].get("unused_options")
    # ECA without its MLP: the MLP's width options change nothing
    doc = _stat(cli, "timm:eca", "-c", "64")
    assert {"rd_ratio", "rd_divisor"} <= set(doc["block"]["unused_options"])
    doc = _stat(cli, "timm:eca", "-c", "64", "-o", "use_mlp=true")
    assert not {"rd_ratio", "rd_divisor"} & set(doc["block"].get("unused_options", {}))
