"""Profiling leaves the caller's process as it found it (docs/contract.md, Library)."""

import torch
import torch.nn as nn

import attnprof


def _class_state():
    classes = {nn.Module, nn.Linear, nn.Conv1d, nn.Conv2d, nn.ReLU, nn.Sigmoid,
               nn.AdaptiveAvgPool2d}
    classes |= {type(m) for name in ("se", "eca", "cbam")
                for m in attnprof.create_block(name, 16).modules()}
    return {cls: dict(vars(cls)) for cls in classes}


def _global_state():
    return (torch.get_num_threads(), torch.is_grad_enabled(), torch.get_default_dtype(),
            torch.get_rng_state().clone(), torch.is_inference_mode_enabled())


def test_every_backend_and_mode_leaves_no_trace():
    block = attnprof.create_block("cbam", 16)
    block.train()
    reference = {k: v.clone() for k, v in block.state_dict().items()}
    classes = _class_state()
    torch.set_num_threads(1)
    state = _global_state()
    hooks = (dict(block._forward_hooks), dict(block._forward_pre_hooks),
             dict(block._backward_hooks))
    from torch.nn.modules import module as module_globals

    global_hooks = (dict(module_globals._global_forward_hooks),
                    dict(module_globals._global_forward_pre_hooks))
    for mode in ("infer", "train"):
        for dtype in ("float32", "bfloat16"):
            result = attnprof.profile(block, size=16, mode=mode, dtype=dtype, budget_s=0.02,
                                      threads=2)
            assert all(c.status == "ok" for c in result.counters.values()), result.counters
    result = attnprof.profile("se", channels=8, size=8, budget_s=0.02)
    assert result.to_dict()["params"]["total"] == 2 * 8 * 2

    after = _global_state()
    assert after[:3] == state[:3] and after[4] == state[4]
    assert torch.equal(after[3], state[3]), "the global RNG was advanced"
    assert _class_state() == classes, "a class was left patched"
    assert list(block.named_buffers()) == []
    assert block.training is True
    assert all(p.grad is None for p in block.parameters())
    assert all(p.dtype == torch.float32 for p in block.parameters())
    assert (dict(block._forward_hooks), dict(block._forward_pre_hooks),
            dict(block._backward_hooks)) == hooks
    assert (dict(module_globals._global_forward_hooks),
            dict(module_globals._global_forward_pre_hooks)) == global_hooks
    for k, v in block.state_dict().items():
        assert torch.equal(v, reference[k])
    x = torch.randn(1, 16, 8, 8)
    assert block(x).shape == x.shape
    torch.set_num_threads(2)


def test_library_api_returns_the_cli_document():
    result = attnprof.profile("cbam", channels=16, size=256, latency=False,
                              backends=("attnprof", "torchinfo"))
    doc = result.to_dict()
    assert doc["schema"] == "attnprof.profile/1"
    assert doc["params"]["total"] == 226
    assert doc["counters"]["torchinfo"]["macs"] == 6_422_784
    from attnprof.results import Profile

    assert Profile.from_dict(doc).to_dict() == doc


def test_wrapped_libraries_print_nothing(capfd):
    """torchstat prints, fvcore logs unsupported ops: none of it reaches the terminal."""
    import logging
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        attnprof.profile("cbam", channels=16, size=16, latency=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert [str(w.message) for w in caught] == []
    assert not logging.getLogger("fvcore").disabled  # the logger is handed back as it was


def test_verbose_lets_them_through(capfd):
    attnprof.profile("cbam", channels=16, size=16, latency=False, verbose=True,
                     backends=("torchstat",))
    out, err = capfd.readouterr()
    assert "not supported" in err  # torchstat's own print, shown on request
