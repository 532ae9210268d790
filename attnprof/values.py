"""The values a request's options take, parsed and checked: sizes, dtypes, devices,
backends, thread counts, seconds and their limits (docs/contract.md, "Limits"). Each
option's record (:mod:`attnprof.profile_options`) names its check here; the plans
(:mod:`attnprof.request`) apply them. Torch-free: errors are :class:`BadInput` (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from attnprof.errors import BadInput, did_you_mean
from attnprof.spec import BACKENDS, check_positive

DTYPES = ("float32", "float16", "bfloat16")
MODES = ("infer", "train")
TIMERS = ("blocked", "adaptive")
FORMATS = ("table", "json", "markdown")
_DEVICE = re.compile(r"^(cpu|meta|cuda(:\d+)?)$")

# Bounds checked before torch sees a value (docs/contract.md, "Limits"):
#: the largest channel count, batch, height or width (what torch's kernels index with int32)
MAX_DIM = 2**31 - 1
#: the most elements an input may have (4 TiB of float32: more than any device holds)
MAX_ELEMENTS = 2**40
#: the longest timing budget per block, in seconds
MAX_BUDGET_S = 3600.0
#: the highest CUDA device index attnprof asks torch about
MAX_DEVICE_INDEX = 1023
#: the most interleaved timing rounds (compare --rounds, a suite's rounds)
MAX_ROUNDS = 1000


def max_threads() -> int:
    """The most threads a run may ask for: four per CPU (``os.cpu_count()``)."""
    import os

    return 4 * (os.cpu_count() or 1)


def check_dim(what: str, value: Any) -> int:
    """A positive integer no larger than :data:`MAX_DIM`; else :class:`BadInput`."""
    check_positive(what, value)
    if value > MAX_DIM:
        raise BadInput(f"{what} must be at most {MAX_DIM:,}, got {value:,}")
    return value


def parse_size(text: str | int | tuple[int, int]) -> tuple[int, int]:
    """``256`` -> (256, 256); ``"224x112"`` -> (224, 112) as (H, W)."""
    if isinstance(text, (tuple, list)):
        if len(text) != 2:
            raise BadInput(f"size must be S or (H, W) with positive integers, got {text!r}")
        h, w = text
        return check_dim("size height", h), check_dim("size width", w)
    if isinstance(text, int) and not isinstance(text, bool):
        return check_dim("size", text), text
    raw = str(text).strip().lower()
    parts = raw.split("x")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise BadInput(f"size must be S or HxW with positive integers (e.g. 56 or 224x112), "
                       f"got {text!r}") from None
    if len(nums) == 1:
        nums = nums * 2
    if len(nums) != 2 or min(nums) < 1:
        raise BadInput(f"size must be S or HxW with positive integers (e.g. 56 or 224x112), "
                       f"got {text!r}")
    return check_dim("size height", nums[0]), check_dim("size width", nums[1])


def parse_choice(what: str, value: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    v = str(value).strip().lower()
    if v not in choices:
        raise BadInput(f"unknown {what} {value!r}{did_you_mean(v, choices)}; "
                       f"choose from {', '.join(choices)}")
    return v


def parse_backends(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"torch,fvcore"`` -> ("torch", "fvcore"); ``all`` or None -> every backend."""
    if value is None:
        return BACKENDS
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(i).strip().lower() for i in items if str(i).strip()]
    if not names:
        raise BadInput(f"--backends needs at least one name: {', '.join(BACKENDS)}")
    if names == ["all"]:
        return BACKENDS
    out: list[str] = []
    for n in names:
        parse_choice("backend", n, BACKENDS)
        if n not in out:
            out.append(n)
    return tuple(out)


def is_cuda(device: str) -> bool:
    """The one test of "is this a CUDA device" for a parsed device string."""
    return device.startswith("cuda")


def parse_device(value: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; ``cuda`` is reported as ``cuda:0`` everywhere."""
    v = str(value).strip().lower()
    if not _DEVICE.match(v):
        raise BadInput(f"unknown device {str(value)[:40]!r}; use cpu, cuda or cuda:N")
    index = v.partition(":")[2]
    if index and (len(index) > 6 or int(index) > MAX_DEVICE_INDEX):
        raise BadInput(f"device index {index[:24]}{'…' if len(index) > 24 else ''} is out of "
                       f"range: use cuda:N with N from 0 to {MAX_DEVICE_INDEX}")
    return "cuda:0" if v == "cuda" else v


def check_threads(threads: Any) -> int | None:
    """None (torch's own count) or a positive integer up to :func:`max_threads`."""
    if threads is None:
        return None
    check_positive("threads", threads)
    if threads > max_threads():
        raise BadInput(f"threads must be at most {max_threads()} (four per CPU of this "
                       f"machine), got {threads:,}")
    return threads


def check_rounds(what: str, rounds: Any) -> int:
    """A positive number of timing rounds, at most :data:`MAX_ROUNDS`."""
    check_positive(what, rounds)
    if rounds > MAX_ROUNDS:
        raise BadInput(f"{what} must be at most {MAX_ROUNDS}, got {rounds:,}")
    return rounds


def seconds(what: str, value: Any) -> float:
    """A positive, finite number of seconds, at most :data:`MAX_BUDGET_S`."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise BadInput(f"{what} must be a positive number of seconds, got {value!r}")
    if value > MAX_BUDGET_S:
        raise BadInput(f"{what} must be at most {MAX_BUDGET_S:g} seconds, got {value:g}")
    return float(value)


# -- checks as an option's record names them: one argument, the value as given ---------------

def choice(what: str, choices: Iterable[str]) -> Callable[[Any], str]:
    """The check of an option that takes one of ``choices`` (case-insensitive)."""
    choices = tuple(choices)
    return lambda value: parse_choice(what, value, choices)


def within_seconds(what: str) -> Callable[[Any], float]:
    """The check of an option that takes a number of seconds."""
    return lambda value: seconds(what, value)


def flag(value: Any) -> bool:
    """An on/off option."""
    return bool(value)
