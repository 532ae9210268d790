"""The library's arguments made into requests: the kinds of what a caller passed checked
first (so a wrong one is attnprof's error, never a TypeError from deep inside), a module's
channel count inferred where its parameters settle it, and the rule that a profile's headline
is never silently missing. Used by the public functions in ``attnprof/__init__.py`` and by
``attnprof.library``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attnprof.results import Profile

def require_own_count(p: Profile) -> None:
    """Raise :class:`CountFailed` when attnprof's own counter was asked for and failed."""
    own = p.counters.get("attnprof")
    if own is not None and not own.ok:
        from attnprof.errors import CountFailed

        raise CountFailed(f"attnprof's own counter failed on block '{p.label}': "
                          f"{own.error or own.status}; its MACs, FLOPs and bytes cannot be "
                          "given (the other backends' rows are in the CLI's stat)")


def _block_name(name: Any) -> str:
    from attnprof.errors import UnknownBlock

    if not isinstance(name, str):
        raise UnknownBlock(f"a block name must be a string (a registered name or "
                           f"package.module:Name), got {type(name).__name__}")
    return name


def _request(block: Any, channels: Any, size: Any, batch: Any, options: Any,
             kwargs: dict[str, Any]) -> Any:
    """The ProfileRequest for the library's arguments, their kinds checked first so that a
    wrong one is attnprof's error, never a TypeError from deep inside."""
    from attnprof.errors import BadInput, BadOption
    from attnprof.request import ProfileRequest
    from attnprof.spec import BlockSpec

    check_keywords("profile", kwargs, "stat", ("channels", "size", "batch", "options"))
    if options is not None and (not hasattr(options, "items")
                                or not all(isinstance(k, str) for k in options)):
        raise BadOption(f"options must be a mapping of option names to values (e.g. "
                        f"{{'ratio': 8}}), got {type(options).__name__}")
    if isinstance(block, str):
        pass
    elif isinstance(block, BlockSpec):
        pass
    elif not _is_module(block):
        raise BadInput(f"block must be a name, package.module:Name, a BlockSpec or an "
                       f"nn.Module instance, got {type(block).__name__}")
    elif channels is None and not kwargs.get("host"):
        channels = _infer_channels(block)
    return ProfileRequest(block=block, channels=channels, size=size, batch=batch,
                          options=dict(options or {}), **kwargs)


def check_keywords(function: str, kwargs: dict[str, Any], command: str,
                   positional: tuple[str, ...]) -> None:
    """``kwargs`` of the library's ``function`` are fields of ``command``'s request outside its
    ``positional`` parameters (and ``verbose``, ``name``), each of its record's kind: a bool
    True or False, a text a string, texts a string or a list of strings (the plan checks
    the rest)."""
    from attnprof.errors import BadInput, did_you_mean
    from attnprof.profile_options import library_keywords

    known = {key: kind for key, kind in library_keywords(command).items()
             if key not in positional}
    known.update(verbose="bool", **({"name": "text"} if command == "stat" else {}))
    for key in kwargs:
        if key not in known:
            raise BadInput(f"{function}() takes no argument {key!r}"
                           f"{did_you_mean(key, known)}; its options: {', '.join(sorted(known))}")
    for key, kind in known.items():
        value = kwargs.get(key)
        if kind == "bool" and key in kwargs and not isinstance(value, bool):
            raise BadInput(f"{key} must be True or False, got {value!r}")
        if kind == "text" and value is not None and not isinstance(value, str):
            raise BadInput(f"{key} must be a string, got {value!r}")
        if kind == "texts" and value is not None and not isinstance(value, str) and (
                not isinstance(value, (list, tuple, set, frozenset))
                or not all(isinstance(v, str) for v in value)):
            raise BadInput(f"{key} must be a comma-separated string or a list of strings, "
                           f"got {value!r}")


def _is_module(obj: Any) -> bool:
    from torch import nn

    return isinstance(obj, nn.Module)


def _infer_channels(module: Any) -> int:
    """The input channel count of a user's ``nn.Module``, when the module settles it.

    The rule: every size that one of the module's parameters or buffers has (and an int
    ``channels``/``in_channels``/``num_features``/``in_features`` attribute) is a candidate;
    a candidate C works when a copy of the module, in eval mode, takes a 1 x C x 56 x 56
    input (on the meta device, or on CPU for a block that needs data) and returns a tensor of
    that shape. Exactly one candidate must work, and neither a count that no parameter has
    (97) nor twice the one found may. A module without parameters, or one that runs on
    several counts (ECA's Conv1d(1, 1, k) takes any C), cannot say: then ``channels`` must
    be given, and :class:`~attnprof.errors.BadInput` says so. Never a guess.
    """
    import copy

    import torch

    from attnprof.counters.own import meta_copy, seeded_input, seeded_rngs
    from attnprof.errors import BadInput

    name = type(module).__name__
    sizes: set[int] = set()
    for t in [*module.parameters(), *module.buffers()]:
        sizes.update(int(s) for s in t.shape if int(s) > 0)
    for attr in ("channels", "in_channels", "num_features", "in_features"):
        value = getattr(module, attr, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            sizes.add(value)
    if not sizes:
        raise BadInput(f"cannot tell how many input channels {name} takes: it has no parameters "
                       "or buffers to read them from; pass channels= (e.g. "
                       "attnprof.profile(block, channels=64))")

    def works(c: int, device: str) -> bool:
        shape = (1, c, 56, 56)
        twin = meta_copy(module) if device == "meta" else copy.deepcopy(module).to("cpu")
        twin.eval()
        with torch.no_grad(), seeded_rngs(0):
            out = twin(seeded_input(shape, torch.float32, device))
        return isinstance(out, torch.Tensor) and tuple(out.shape) == shape

    def probe(c: int) -> bool:
        try:
            return works(c, "meta")
        except Exception:  # a block that needs data: try it on a real input
            try:
                return works(c, "cpu")
            except Exception:
                return False

    found: list[int] = []
    for c in sorted(sizes, reverse=True):
        if probe(c):
            found.append(c)
            if len(found) > 1:
                break
    if len(found) == 1:
        # a count that none of its parameters has, and twice the one found: a block that
        # takes either does not fix its channel count (SGE takes any multiple of its groups)
        prime = next(p for p in (97, 101, 103, 107, 109, 113, 127) if p not in sizes)
        for other in (prime, 2 * found[0]):
            if other not in sizes and probe(other):
                raise BadInput(f"cannot tell how many input channels {name} takes: it runs on "
                               f"{found[0]} and on {other} channels alike; pass channels= "
                               "(e.g. attnprof.profile(block, channels=64))")
    if len(found) == 1:
        return found[0]
    tried = ", ".join(str(c) for c in sorted(sizes))
    if not found:
        raise BadInput(f"cannot tell how many input channels {name} takes: it runs on none of "
                       f"the sizes its parameters have ({tried}) at 1xCx56x56; pass channels= "
                       "(and size= if it needs another size)")
    raise BadInput(f"cannot tell how many input channels {name} takes: it runs on "
                   f"{found[1]} and on {found[0]} (sizes from its parameters); pass channels= "
                   "(e.g. attnprof.profile(block, channels=64))")
