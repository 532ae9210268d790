"""What the user asked for, parsed and validated before torch is imported (errors: exit 2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from attnprof.errors import BadInput, did_you_mean
from attnprof.registry import check_positive

BACKENDS = ("torchstat", "torchinfo", "fvcore", "torch", "attnprof")
DTYPES = ("float32", "float16", "bfloat16")
MODES = ("infer", "train")
FORMATS = ("table", "json", "markdown")
_DEVICE = re.compile(r"^(cpu|meta|cuda(:\d+)?)$")


def parse_size(text: str | int | tuple[int, int]) -> tuple[int, int]:
    """``256`` -> (256, 256); ``"224x112"`` -> (224, 112) as (H, W)."""
    if isinstance(text, tuple):
        h, w = text
        return check_positive("size height", h), check_positive("size width", w)
    if isinstance(text, int) and not isinstance(text, bool):
        return check_positive("size", text), text
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
    return nums[0], nums[1]


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


def parse_device(value: str) -> str:
    v = str(value).strip().lower()
    if not _DEVICE.match(v):
        raise BadInput(f"unknown device {value!r}; use cpu, cuda or cuda:N")
    return v


@dataclass(frozen=True)
class ProfileRequest:
    """One block at one input. ``block`` is a name, ``module:Name``, or an nn.Module."""

    block: Any
    channels: int | None = None  # 64, or 3 (RGB) with a host
    size: Any = None  # 56, or 224 with a host
    batch: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    dtype: str = "float32"
    mode: str = "infer"
    backends: tuple[str, ...] = BACKENDS
    latency: bool = True
    ops: bool = False  # time each op with torch.profiler (needs latency on)
    threads: int | None = None
    budget_s: float = 0.3
    timer: str = "blocked"
    channels_last: bool = False
    compile: bool = False
    cuda_graph: bool = False
    verbose: bool = False
    name: str | None = None
    host: str | None = None

    def validated(self) -> ProfileRequest:
        """A normalised copy; raises :class:`BadInput` on any malformed field."""
        from attnprof.hosts import HOSTS

        host = parse_choice("host", self.host, HOSTS) if self.host is not None else None
        if host is not None and self.channels not in (None, 3):
            raise BadInput(f"--channels does not apply with --host {host}: the network takes "
                           "3-channel images and gives each block its own channels")
        channels = self.channels if self.channels is not None else (3 if host else 64)
        size = self.size if self.size is not None else (224 if host else 56)
        check_positive("channels", channels)
        check_positive("batch", self.batch)
        if self.threads is not None:
            check_positive("threads", self.threads)
        if not (isinstance(self.budget_s, (int, float)) and self.budget_s > 0):
            raise BadInput(f"the latency budget must be a positive number of seconds, "
                           f"got {self.budget_s!r}")
        if self.cuda_graph and not str(self.device).startswith("cuda"):
            raise BadInput("--cuda-graph needs a CUDA device: add --device cuda")
        if self.cuda_graph and self.mode == "train":
            raise BadInput("--cuda-graph times inference only: drop --mode train")
        return replace(
            self,
            host=host, channels=channels,
            timer=parse_choice("timer", self.timer, ("blocked", "adaptive")),
            size=parse_size(size),
            device=parse_device(self.device),
            dtype=parse_choice("dtype", self.dtype, DTYPES),
            mode=parse_choice("mode", self.mode, MODES),
            backends=parse_backends(self.backends),
        )

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.channels, *self.size)
