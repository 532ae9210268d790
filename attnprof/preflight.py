"""Checks before anything real runs: the device exists, the block runs and keeps its shape,
the dtype is supported, and the run fits in the device's free memory. Failures are bad input
(exit 2), raised before allocating. Each check runs once per subject. ``name`` is how the
messages name what is checked: ``block 'se'``, ``network 'timm:resnet50'``."""

from __future__ import annotations

import copy
import weakref

from attnprof.contain import first_line, one_line
from attnprof.counters import Target
from attnprof.errors import BadInput, DeviceUnavailable
from attnprof.units import nbytes


def check_device(device: str) -> None:
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailable(f"device {device!r} is not available: this machine has no "
                                    "CUDA GPU (or torch was built without CUDA); use --device cpu")
        index = dev.index or 0
        if index >= torch.cuda.device_count():
            raise DeviceUnavailable(f"device {device!r} does not exist: this machine has "
                                    f"{torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "meta":
        raise BadInput("--device meta is for counting only; attnprof counts on meta by itself")


def check_fits(module, target: Target, peak_live: int | None, name: str) -> None:
    """Refuse, before allocating, a run whose estimate passes what the device has free."""
    import math

    from attnprof.measure import memory as memory_mod

    if peak_live is None:
        return
    element = target.input(device="meta").element_size()
    need = memory_mod.required_bytes(memory_mod.params_bytes(module),
                                     math.prod(target.shape) * element, peak_live, target.train)
    have = memory_mod.available_bytes(target.device)
    if have is not None and need["total"] > have:
        parts = ", ".join(f"{k} {nbytes(v)}" for k, v in need.items() if k != "total")
        raise BadInput(
            f"{name} at {list(target.shape)} needs about {nbytes(need['total'])} of "
            f"{target.device} memory ({parts}) but {nbytes(have)} is free; use a smaller "
            "--batch or --size, or count without running it: --backends attnprof --no-latency")


# modules whose forward check_forward already ran for real on a small input, by
# (shape, dtype, device, mode): check_real_forward need not run it again
_RAN_REAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_real_forward(target: Target, name: str, dtype_name: str) -> None:
    """One real call on the target device: dtype/device combinations that the block's ops do
    not support, and errors that only real data shows, become bad input (unless preflight
    ran it for real already, on a small input)."""
    import torch

    key = (tuple(target.shape), target.dtype, str(target.device), target.train)
    if _RAN_REAL.get(target.module) == key and not target.channels_last:
        return

    from attnprof.counters.real import one_thread

    try:
        with torch.no_grad(), one_thread():
            copy.deepcopy(target.module).train(target.train)(target.input())
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as exc:
        raise _forward_error(exc, name, target.device, dtype_name, target.train) from exc


def _forward_error(exc: BaseException, name: str, device: str, dtype_name: str,
                   train: bool = False) -> BadInput:
    line = first_line(exc)
    if "more than 1 value per channel" in line:
        # a norm's statistics over one value have no variance: BatchNorm in training (over
        # the batch), GroupNorm and InstanceNorm in any mode (over a group or a 1x1 map)
        size = line.rpartition("input size ")[2].removeprefix("torch.Size(").rstrip(")") or "?"
        if train:
            return BadInput(f"{name} cannot run in train mode at this batch size: a norm in "
                            "it needs more than one value per channel when training (its "
                            f"input is {size}); use --batch 2 or more (batch=2 in the library)")
        return BadInput(f"{name} cannot run at this input: a norm in it needs more than one "
                        f"value per channel (its input is {size}); use a larger --size or "
                        "more --channels")
    if "not implemented for" in line or "Unsupported" in line or "dtype" in line.lower():
        return BadInput(f"{name} cannot run in {dtype_name} on {device}: {line}; "
                        "try --dtype float32")
    return BadInput(f"{name} failed in forward on {device}: {one_line(exc, 300)}")


def _small_forward(module, shape: tuple[int, ...], dtype, device: str, train: bool,
                   compile: bool) -> tuple[object, bool] | None:
    """One forward (and backward, in train mode) on real tensors for an input small enough
    to count on (:mod:`attnprof.counters.real`): (its output, whether it read values that
    follow from the input or weights), or None when it does not fit its budget or fails
    (the meta device then decides)."""
    import torch

    from attnprof.counters.own import backward_from, grad_input, seeded_input, seeded_rngs
    from attnprof.counters.real import watched

    try:
        real = copy.deepcopy(module).to(device=device, dtype=dtype).train(train)
    except Exception:
        return None
    x = seeded_input(shape, dtype, device)
    x = grad_input(x) if train else x

    def forward():
        with seeded_rngs(0, device), torch.enable_grad() if train else torch.no_grad():
            out = real(x)
            if train:
                backward_from(out)
        return out

    found = watched(forward, [x, *real.parameters(), *real.buffers()], compile)
    return None if found is None else (found[0], bool(found[1].reads))


def check_forward(module, shape: tuple[int, ...], dtype, name: str, device: str,
                  train: bool = False, same_shape: bool = True, compile: bool = False) -> bool:
    """Run the block once on meta tensors (free at any size): its own errors and shape
    changes are bad input. A block that cannot run on meta (data-dependent control flow,
    ``.item()``, a tensor made without ``device=x.device``) is run once for real on
    ``device`` instead. An input small enough to count on real tensors
    (:func:`attnprof.counters.real.counts_on_real`) is run for real first: meta would cost
    more (``compile``: ``torch.compile`` is in use). Returns whether the block runs on meta
    (as far as the real run shows: it read no values)."""
    import torch

    from attnprof.counters.own import grad_input, meta_copy
    from attnprof.counters.real import counts_on_real

    small = (_small_forward(module, shape, dtype, device, train, compile)
             if counts_on_real(module, shape, dtype, device) else None)
    if small is not None:
        fine = _check_output(small[0], shape, name, same_shape) and not small[1]
        _RAN_REAL[module] = (tuple(shape), dtype, str(device), train)
        return fine
    on_meta = True
    try:
        twin = meta_copy(module).to(dtype=dtype).train(train)
        x = torch.empty(shape, dtype=dtype, device="meta")
        with torch.enable_grad() if train else torch.no_grad():
            out = twin(grad_input(x) if train else x)
        if train:
            from attnprof.counters.own import backward_from

            backward_from(out)
    except Exception:  # on real tensors, where a failure is the block's own
        import math

        from attnprof.measure.memory import available_bytes

        on_meta = False
        have = available_bytes(device)
        need = 3 * math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        if have is not None and need > have:
            raise BadInput(f"{name} does not run on the meta device, and running it "
                           f"for real on {list(shape)} would not fit in {device} memory; "
                           "use a smaller --batch or --size") from None
        from attnprof.counters.real import one_thread

        try:
            real = copy.deepcopy(module).to(device=device, dtype=dtype).train(train)
            x = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(device, dtype)
            with torch.enable_grad() if train else torch.no_grad(), one_thread():
                out = real(grad_input(x) if train else x)
        except Exception as exc:
            raise _forward_error(exc, name, device, str(dtype).replace("torch.", ""),
                                 train) from exc
        if train:
            _check_backward(out, name)
    return _check_output(out, shape, name, same_shape) and on_meta


def _check_output(out, shape: tuple[int, ...], name: str, same_shape: bool) -> bool:
    """The block's output is a tensor (or holds one first) of its input's shape."""
    from attnprof.counters.own import main_output

    main = main_output(out)
    if main is None:
        raise BadInput(f"{name} returned a {type(out).__name__} with no tensor in it; "
                       "attnprof profiles blocks that return a tensor (or a tuple whose first "
                       "tensor is the output)")
    out = main
    if same_shape and tuple(out.shape) != tuple(shape):
        raise BadInput(f"{name} changed the tensor's shape from {list(shape)} to "
                       f"{list(out.shape)}; an attention block must keep its input's shape")
    return True


def _check_backward(out, name: str) -> None:
    """Train mode: the backward pass from the block's outputs runs (a block that writes into
    a tensor its backward needs fails here, as it would in any training loop)."""
    from attnprof.counters.own import backward_from

    try:
        backward_from(out)
    except (RuntimeError, NotImplementedError, TypeError, ValueError) as exc:
        raise BadInput(f"{name} fails in its backward pass (--mode train): "
                       f"{one_line(exc, 300)}") from None
