"""What machine a profile came from: versions, devices, CPU and threads."""

from __future__ import annotations

import os
import platform
from typing import Any

from attnprof._version import __version__


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str = "cpu") -> dict[str, Any]:
    """The environment block of every JSON document (imports torch)."""
    import torch

    cuda = torch.cuda.is_available()
    dev = torch.device(device)
    if dev.type == "cuda" and cuda:
        device_name = torch.cuda.get_device_name(dev)
    elif dev.type == "meta":
        device_name = "meta (no data)"
    else:
        device_name = cpu_name()
    return {
        "attnprof": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(dev),
        "device_name": device_name,
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "cuda": torch.version.cuda if cuda else None,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if cuda else [],
    }
