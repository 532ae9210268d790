"""Memory of a block: parameter bytes, activation bytes, peak.

On CUDA the peak is the caching allocator's peak over one call (measured). On CPU no
allocator statistics exist, so the peak is estimated from the meta-device trace of the own
counter: parameters + input + the most op outputs alive at once (``peak_method`` says which).
"""

from __future__ import annotations

import math

import torch

from attnprof.results import Memory


def params_bytes(module: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in module.parameters())


def runs_on_meta(module: torch.nn.Module, shape: tuple[int, ...], dtype: torch.dtype,
                 train: bool = False) -> bool:
    """Whether one forward of ``module`` runs on meta tensors (no data-dependent ops)."""
    from attnprof.counters.own import meta_copy

    try:
        twin = meta_copy(module).to(dtype=dtype).train(train)
        with torch.no_grad():
            twin(torch.empty(shape, dtype=dtype, device="meta"))
    except Exception:
        return False
    return True


def saved_for_backward_bytes(module: torch.nn.Module, shape: tuple[int, ...],
                             dtype: torch.dtype, device: str = "cpu",
                             on_meta: bool | None = None) -> int:
    """Bytes autograd saves for backward in one forward: traced on meta (no data needed), or,
    for a block that needs data, on attnprof's seeded input on ``device``. ``on_meta``:
    whether the block runs on meta in train mode, when the caller knows (else tried here)."""
    from attnprof.counters.real import counts_on_real, watched

    if counts_on_real(module, shape, dtype, device):  # a small input: as on meta, but quicker
        found = watched(lambda: _saved_bytes(module, shape, dtype, device))
        if found is not None:
            return found[0]
    if on_meta is None:
        on_meta = runs_on_meta(module, shape, dtype, train=True)
    if on_meta:
        return _saved_bytes(module, shape, dtype, "meta")
    return _saved_bytes(module, shape, dtype, device)


def _saved_bytes(module: torch.nn.Module, shape: tuple[int, ...], dtype: torch.dtype,
                 device: str) -> int:
    import copy

    from attnprof.counters.own import grad_input, meta_copy, seeded_input, seeded_rngs, tensor_bytes

    twin = meta_copy(module) if device == "meta" else copy.deepcopy(module).to(device)
    twin = twin.to(dtype=dtype).train(True)
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        try:
            key = t.untyped_storage()._cdata
        except (RuntimeError, NotImplementedError):
            key = id(t)
        if not isinstance(t, torch.nn.Parameter):
            seen.setdefault(key, tensor_bytes(t))
        return t

    xm = grad_input(seeded_input(shape, dtype, device))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), seeded_rngs(0, device):
        twin(xm)
    param_keys = {p.untyped_storage()._cdata for p in twin.parameters()}
    return sum(v for k, v in seen.items() if k not in param_keys)


def measure_cuda_peak(module: torch.nn.Module, x: torch.Tensor, train: bool) -> int:
    """Allocator peak over one call, above what was allocated before it."""
    if train:
        from attnprof.counters.own import backward_from, grad_input

        x = grad_input(x)  # allocated before the peak is measured
    torch.cuda.synchronize(x.device)
    before = torch.cuda.memory_allocated(x.device)
    torch.cuda.reset_peak_memory_stats(x.device)
    if train:
        backward_from(module(x))
    else:
        with torch.inference_mode():
            module(x)
    torch.cuda.synchronize(x.device)
    return torch.cuda.max_memory_allocated(x.device) - before + params_bytes(module)


def memory(
    module: torch.nn.Module, shape: tuple[int, ...], dtype: torch.dtype, *, train: bool,
    activations_bytes: int | None, peak_live_bytes: int | None, device: str = "cpu",
    make_input=None, traced_on: str | None = None,
) -> Memory:
    """Memory figures for ``module`` on an input of ``shape``; ``activations_bytes`` and
    ``peak_live_bytes`` come from the own counter when it ran (else None), whose trace ran on
    ``traced_on`` ("meta", or the device of a block that needs data; found out here when not
    given). On CUDA the peak is measured on ``make_input()``; nothing real is allocated
    otherwise, except for a block that cannot run on meta."""
    pbytes = params_bytes(module)
    input_bytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    saved = saved_for_backward_bytes(module, shape, dtype, device, on_meta=(
        traced_on == "meta" if traced_on is not None else None)) if train else None
    if device.startswith("cuda") and make_input is not None:
        peak = measure_cuda_peak(module, make_input(), train)
        method = "measured: CUDA allocator peak"
    elif peak_live_bytes is not None:
        peak = pbytes + input_bytes + peak_live_bytes
        if traced_on is None:
            traced_on = "meta" if runs_on_meta(module, shape, dtype, train) else device
        trace = ("meta trace" if traced_on == "meta" else f"trace on {traced_on} tensors, seed 0:"
                 " the block does not run on meta, so the peak may depend on the input")
        method = f"estimated: parameters + input + most op outputs alive at once ({trace})"
    else:
        peak, method = None, None
    return Memory(params_bytes=pbytes, activations_bytes=activations_bytes, peak_bytes=peak,
                  peak_method=method, saved_for_backward_bytes=saved)


def available_bytes(device: str) -> int | None:
    """Memory free for this run: CUDA's free memory, or the OS's MemAvailable on CPU."""
    if device.startswith("cuda"):
        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def required_bytes(params: int, input_bytes: int, peak_live: int, train: bool) -> dict[str, int]:
    """What a real run holds at its peak: the module and the copies the backends and the
    timer work on (3 x parameters, plus gradients in training), two inputs, and the most op
    outputs alive at once (from the meta trace)."""
    parts = {"parameters": params * (4 if train else 3), "input": 2 * input_bytes,
             "activations": peak_live}
    parts["total"] = sum(parts.values())
    return parts
