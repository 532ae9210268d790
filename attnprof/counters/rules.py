"""Per-op cost rules of attnprof's own counter: one table from aten op name to a small function.

Conventions (XLA's cost analysis; see docs/counting.md):

* ``macs``: multiply-accumulates of matmul-family ops and convolutions, taken from PyTorch's
  own formulas in ``torch.utils.flop_counter`` (whose FLOPs are 2 x MACs);
* ``flops``: all arithmetic. Matmul and convolution: 2 x MACs. Elementwise: per output
  element (1, or the op's cost per element). Reductions and pooling: per input element read.
  Comparisons (relu, max) count like any other arithmetic;
* ``transcendentals``: sigmoid, exp, tanh, log, erf, sqrt, rsqrt, pow ... one per element, apart;
* bytes are not ruled here: the engine adds what every op reads and writes.

Adding a built-in op is one line in :data:`RULES`; code outside attnprof (a plugin, a block's
own module, a custom ``torch.library`` op) adds or replaces rules with :func:`register_rule`,
as ``torch.utils.flop_counter.register_flop_formula`` does for PyTorch's counter. An op with
no rule is reported as uncounted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

import torch
from torch.utils.flop_counter import flop_registry

from attnprof.results import counts


@dataclass(frozen=True)
class Call:
    """One op as the counter saw it."""

    func: Any  # torch._ops.OpOverload
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    inputs: Sequence[torch.Tensor]  # tensor arguments, flattened, in order
    outputs: Sequence[torch.Tensor]  # tensor results, flattened
    out: Any  # the op's raw result

    @property
    def in_numel(self) -> int:
        return self.inputs[0].numel() if self.inputs else 0

    @property
    def out_numel(self) -> int:
        return self.outputs[0].numel() if self.outputs else 0


@dataclass(frozen=True)
class Cost(counts.Cost):
    """One call's cost as a rule gives it: the cost record (:class:`attnprof.results.Cost`),
    of which a rule sets ``macs``, ``flops`` and ``transcendentals`` (the counter adds the
    call and the bytes read and written), and ``written_outputs``: count only the first N
    outputs as written."""

    written_outputs: int | None = None


Rule = Callable[[Call], Cost]
FREE = Cost()


def free(call: Call) -> Cost:
    """Moves or creates data, computes nothing (cat, clone, padding, fills)."""
    return FREE


def matmul(call: Call) -> Cost:
    """Matmul family and convolutions, by PyTorch's own formulas (they return 2 x MACs)."""
    formula = flop_registry[call.func._overloadpacket]
    macs = int(formula(*call.args, **call.kwargs, out_val=call.out)) // 2
    return Cost(macs=macs, flops=2 * macs)


def pointwise(flops: int = 1, transcendentals: int = 0) -> Rule:
    """``flops`` (and ``transcendentals``) per output element."""

    def rule(call: Call) -> Cost:
        n = call.out_numel
        return Cost(flops=flops * n, transcendentals=transcendentals * n)

    return rule


def reduction(flops: int = 1, transcendentals: int = 0) -> Rule:
    """``flops`` per input element read (sum, mean, max, softmax, norms...)."""

    def rule(call: Call) -> Cost:
        n = call.in_numel
        return Cost(flops=flops * n, transcendentals=transcendentals * n)

    return rule


def window_pool(call: Call) -> Cost:
    """max/avg pooling with a kernel: one op per window element per output element."""
    kernel = call.args[1] if len(call.args) > 1 else call.kwargs["kernel_size"]
    kernel = list(kernel) if isinstance(kernel, Sequence) else [kernel]
    spatial = len(call.outputs[0].shape) - 2 if call.outputs else 2
    if len(kernel) == 1:
        kernel = kernel * spatial
    return Cost(flops=call.out_numel * prod(kernel))


def pow_rule(call: Call) -> Cost:
    """x ** 2 is a multiply; any other power is a transcendental."""
    exponent = call.args[1] if len(call.args) > 1 else None
    n = call.out_numel
    if isinstance(exponent, (int, float)) and exponent in (0, 1, 2, 3, -1):
        return Cost(flops=max(int(abs(exponent)) - 1, 1) * n)
    return Cost(flops=n, transcendentals=n)


def batch_norm(train_flops: int, training_arg: int | None = None) -> Rule:
    """Normalising is (x - mean) * invstd * weight + bias: 4 per element; training adds the
    statistics (mean and variance, 2 per element read) and one rsqrt per channel.

    ``native_batch_norm`` serves eval mode too (its ``training`` argument says which); then it
    costs 4 per element and writes only its output (the saved statistics are empty on CPU,
    not on meta: counting them would make meta and real counts differ)."""

    def rule(call: Call) -> Cost:
        x = call.inputs[0]
        channels = x.shape[1] if x.dim() > 1 else 1
        training = True if training_arg is None else bool(call.args[training_arg])
        if not training:
            return Cost(flops=4 * x.numel(), transcendentals=channels, written_outputs=1)
        return Cost(flops=train_flops * x.numel(), transcendentals=channels)

    return rule


def group_norm(call: Call) -> Cost:
    """Statistics (2 per element), normalise and affine (4 per element), one rsqrt per group."""
    x = call.inputs[0]
    groups = call.args[6] if len(call.args) > 6 else 1
    batch = x.shape[0] if x.dim() else 1
    return Cost(flops=6 * x.numel(), transcendentals=batch * int(groups))


def layer_norm(call: Call) -> Cost:
    x = call.inputs[0]
    normalized = call.args[1]
    rows = x.numel() // max(prod(normalized), 1)
    return Cost(flops=6 * x.numel(), transcendentals=rows)


def _argument(call: Call, name: str, default: Any = None) -> Any:
    """An op's argument by its schema name, given positionally or by keyword."""
    for i, arg in enumerate(call.func._schema.arguments):
        if arg.name == name:
            if name in call.kwargs:
                return call.kwargs[name]
            return call.args[i] if i < len(call.args) else default
    return default


def _attention_shapes(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor
                      ) -> tuple[int, int, int]:
    """(scores, MACs of the two matmuls, elements of q and k) of scaled dot-product attention:
    scores = batch x heads (the query's) x L x S; MACs = scores x (E + Ev)."""
    scores = prod(q.shape[:-1]) * k.shape[-2]
    return scores, scores * (q.shape[-1] + v.shape[-1]), q.numel() + k.numel()


def attention(call: Call) -> Cost:
    """A fused scaled dot-product attention kernel (flash, memory-efficient, cuDNN, or the
    CPU's flash kernel) costs what the math it fuses costs, which is what the same call
    counts as where torch runs it unfused (the meta device): q and k scaled by sqrt(scale)
    (one multiply per element each), the two matmuls (2 x MACs), a softmax over the scores
    (4 FLOPs and one exp per score), and, with a mask or ``is_causal``, the bias added to the
    scores (one per score; a causal mask is first made into a bias, one per L x S)."""
    q, k, v = (_argument(call, name) for name in ("query", "key", "value"))
    scores, macs, scaled = _attention_shapes(q, k, v)
    flops = 2 * macs + scaled + 4 * scores
    causal = bool(_argument(call, "is_causal", False))
    if causal or _argument(call, "attn_mask") is not None \
            or _argument(call, "attn_bias") is not None:
        flops += scores
    if causal:
        flops += q.shape[-2] * k.shape[-2]
    return Cost(macs=macs, flops=flops, transcendentals=scores)


def attention_backward(call: Call) -> Cost:
    """The backward of a fused attention kernel: the four matmuls of its gradients (twice the
    forward's MACs), the softmax's backward (3 FLOPs per score) and the scaling's (one per
    element of q and k), as the unfused backward counts them."""
    q, k, v = (_argument(call, name) for name in ("query", "key", "value"))
    scores, macs, scaled = _attention_shapes(q, k, v)
    return Cost(macs=2 * macs, flops=4 * macs + 3 * scores + scaled)


def _p(names: str, rule: Rule) -> dict[str, Rule]:
    return {f"aten::{n}": rule for n in names.split()}


RULES: dict[str, Rule] = {
    # matmul family and convolutions: PyTorch's formulas
    **{f"aten::{str(k).split('.', 1)[1]}": matmul
       for k in flop_registry if str(k).startswith("aten.")},
    # fused attention: the math it fuses (the matmul formulas above count only the matmuls)
    **_p("_scaled_dot_product_flash_attention _scaled_dot_product_efficient_attention "
         "_scaled_dot_product_cudnn_attention _scaled_dot_product_flash_attention_for_cpu "
         "_scaled_dot_product_fused_attention_overrideable", attention),
    **_p("_scaled_dot_product_flash_attention_backward "
         "_scaled_dot_product_efficient_attention_backward "
         "_scaled_dot_product_cudnn_attention_backward "
         "_scaled_dot_product_flash_attention_for_cpu_backward "
         "_scaled_dot_product_fused_attention_overrideable_backward", attention_backward),
    # elementwise arithmetic and comparisons: one per output element
    **_p("add add_ sub sub_ rsub mul mul_ div div_ neg neg_ abs abs_ relu relu_ hardtanh hardtanh_ "
         "clamp clamp_ clamp_min clamp_min_ clamp_max clamp_max_ maximum minimum eq ne gt lt ge le "
         "where threshold threshold_ threshold_backward leaky_relu leaky_relu_ reciprocal sign "
         "floor ceil round trunc masked_fill masked_fill_ square logical_not logical_and "
         "logical_or bitwise_and remainder fmod heaviside", pointwise(1)),
    **_p("addcmul addcmul_ addcdiv addcdiv_ lerp lerp_ leaky_relu_backward hardtanh_backward "
         "prelu", pointwise(2)),
    **_p("hardsigmoid hardsigmoid_ hardsigmoid_backward", pointwise(3)),
    **_p("hardswish hardswish_ hardswish_backward", pointwise(4)),
    **_p("sigmoid_backward tanh_backward", pointwise(3)),
    # transcendentals: one flop and one transcendental per element (more where the op is more)
    **_p("sigmoid sigmoid_ tanh tanh_ exp exp_ exp2 log log_ log2 log10 log1p expm1 erf erfc "
         "sqrt sqrt_ rsqrt rsqrt_ sin cos tan atan asin acos sinh cosh", pointwise(1, 1)),
    **_p("silu silu_ softplus elu elu_ selu celu", pointwise(2, 1)),
    **_p("gelu gelu_ mish mish_", pointwise(4, 1)),
    **_p("silu_backward gelu_backward mish_backward softplus_backward elu_backward",
         pointwise(4, 1)),
    "aten::pow": pow_rule,
    "aten::pow_": pow_rule,
    # reductions: one per input element
    **_p("sum mean amax amin max min prod argmax argmin any all nansum cumsum", reduction(1)),
    **_p("norm linalg_vector_norm", reduction(2)),
    **_p("var std var_mean std_mean", reduction(3)),
    **_p("_softmax _log_softmax _safe_softmax", reduction(4, 1)),
    **_p("logsumexp", reduction(3, 1)),
    **_p("_softmax_backward_data _log_softmax_backward_data", reduction(3)),
    # pooling
    **_p("adaptive_avg_pool1d _adaptive_avg_pool2d adaptive_avg_pool2d _adaptive_avg_pool3d "
         "adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d", reduction(1)),
    **_p("avg_pool1d avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d "
         "max_pool2d_with_indices max_pool3d_with_indices", window_pool),
    **_p("_adaptive_avg_pool2d_backward adaptive_max_pool2d_backward avg_pool2d_backward "
         "max_pool2d_with_indices_backward", pointwise(1)),
    # normalisation
    **_p("_native_batch_norm_legit_no_training", batch_norm(4, training_arg=None)),
    **_p("native_batch_norm _native_batch_norm_legit", batch_norm(6, training_arg=5)),
    **_p("native_batch_norm_backward", batch_norm(8)),
    "aten::native_group_norm": group_norm,
    "aten::native_layer_norm": layer_norm,
    **_p("native_group_norm_backward native_layer_norm_backward", reduction(8)),
    # resampling
    **_p("upsample_bilinear2d _upsample_bilinear2d_aa", pointwise(8)),
    **_p("upsample_nearest2d _upsample_nearest_exact2d upsample_nearest1d", free),
    # their backward sums each output gradient into its source: one add per element read
    **_p("upsample_nearest2d_backward _upsample_nearest_exact2d_backward", reduction(1)),
    **_p("upsample_bilinear2d_backward", reduction(8)),
    # data movement and creation: bytes, no arithmetic
    **_p("cat stack clone _to_copy copy copy_ contiguous constant_pad_nd reflection_pad2d "
         "replication_pad2d zeros zeros_like ones ones_like empty empty_like empty_strided "
         "new_zeros new_ones new_empty new_empty_strided full full_like fill fill_ zero_ "
         "index_select gather scatter scatter_ index index_put index_put_ roll flip repeat "
         "pixel_shuffle pixel_unshuffle slice_backward select_backward expand_copy "
         "permute_copy _unsafe_view lift_fresh arange randn rand normal_ uniform_ bernoulli_ "
         "_local_scalar_dense split_with_sizes_copy native_dropout "
         "native_dropout_backward eye linspace logspace scalar_tensor tril triu "
         "nonzero nonzero_static argwhere masked_select", free),
}


def op_name(op: Any) -> str:
    """The name :data:`RULES` files an op under: ``"aten::mul"`` for ``"aten::mul"``, ``"mul"``,
    ``torch.ops.aten.mul`` or ``torch.ops.aten.mul.Tensor``; ``"mylib::op"`` for a custom op
    (its qualified name, its ``torch.ops`` packet or overload, or the ``torch.library.custom_op``
    object)."""
    if isinstance(op, str):
        name = op.strip()
        if not name or name.count("::") > 1 or name.startswith("::") or name.endswith("::"):
            raise ValueError(f"not an op name: {op!r} (an aten op such as 'aten::mul', or "
                             "'namespace::op')")
        return name if "::" in name else f"aten::{name}"
    # a torch.ops packet, a torch.library.custom_op object, an overload (torch.ops...default)
    for name in (getattr(op, "_qualified_op_name", None), getattr(op, "_qualname", None),
                 getattr(getattr(op, "_schema", None), "name", None)):
        if isinstance(name, str):
            return name
    raise TypeError(f"not an op: {op!r} (give its name, 'namespace::op', or "
                    "torch.ops.namespace.op)")


def register_rule(*ops: Any, replace: bool = False) -> Callable[[Rule], Rule]:
    """A decorator that makes the decorated function the cost rule of each op in ``ops`` for
    attnprof's own counter: ``rule(call: Call) -> Cost`` (MACs, FLOPs, transcendentals; the
    counter adds the bytes each op reads and writes). Ops are named as :func:`op_name` takes
    them. An op that has a rule already (a built-in one included) raises ``ValueError``
    unless ``replace=True``. Returns the rule unchanged::

        @register_rule("mylib::scaled_gate")
        def scaled_gate(call: Call) -> Cost:
            return Cost(flops=2 * call.out_numel)
    """
    names = [op_name(op) for op in ops]
    if not names:
        raise TypeError("register_rule needs at least one op")

    def register(rule: Rule) -> Rule:
        if not callable(rule):
            raise TypeError(f"a rule is a function of a Call, not {rule!r}")
        taken = [n for n in names if n in RULES]
        if taken and not replace:
            raise ValueError(f"{', '.join(taken)} already ha{'ve' if len(taken) > 1 else 's'} "
                             "a rule; pass replace=True to replace it")
        for name in names:
            RULES[name] = rule
        return rule

    return register


def rule_for(func: Any) -> Rule | None:
    """The rule for an aten op overload, or None when attnprof has none."""
    return RULES.get(func._schema.name)
