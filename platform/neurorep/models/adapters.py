"""Site-name adapters: canonical site names <-> the native module paths of torch models.

An adapter is a plain ``{canonical_site: hook_point}`` mapping. A hook point names a
module of ``model.named_modules()`` and which of its tensors to read:

* ``"model.layers.3"`` -- the module's output (the first tensor when it returns a tuple);
* ``"model.layers.3:input"`` -- the module's first positional input (a forward pre-hook).
  This names values that no module returns, e.g. the residual stream between the
  attention and MLP halves of a transformer block (the input of the second norm).

Adapters here are pure functions of a few structural numbers, so a model component can
list its sites without building the model; :func:`adapter_for_module` derives the same
mapping from a built module (it backs the ``resolve_adapter`` hook of the built-in plugin).
Nothing in this module imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "HookPoint",
    "parse_hook_point",
    "llama_adapter",
    "efficientnet_lite_adapter",
    "adapter_for_module",
    "EFFICIENTNET_LITE0_REPEATS",
]

_IO = ("output", "input")


@dataclass(frozen=True)
class HookPoint:
    """Where a site is read: a module path and whether its output or first input is taken."""

    module: str
    io: str = "output"

    def __str__(self) -> str:
        return self.module if self.io == "output" else f"{self.module}:{self.io}"


def parse_hook_point(spec: str) -> HookPoint:
    """Parse ``"path"`` or ``"path:input"`` / ``"path:output"`` into a :class:`HookPoint`.

    Raises
    ------
    ValueError
        For an unknown suffix.
    """
    module, sep, io = spec.rpartition(":")
    if not sep:
        return HookPoint(spec, "output")
    if io not in _IO:
        raise ValueError(f"Hook point {spec!r}: expected 'module.path', 'module.path:input' or "
                         f"'module.path:output', got the suffix {io!r}.")
    return HookPoint(module, io)


# --------------------------------------------------------------------------- Llama-family decoders

def llama_adapter(n_layers: int, prefix: str = "model.") -> dict[str, str]:
    """TransformerLens-style names for a Hugging Face Llama-family decoder (``LlamaForCausalLM``).

    Parameters
    ----------
    n_layers : int
        Number of decoder layers (``config.num_hidden_layers``).
    prefix : str, default="model."
        Path of the ``LlamaModel`` inside the module (``"model."`` for ``LlamaForCausalLM``,
        ``""`` for a bare ``LlamaModel``).

    Returns
    -------
    dict
        In forward order: ``hook_embed`` (token embeddings), then per layer ``i``
        ``blocks.{i}.hook_resid_pre`` (input of layer i), ``blocks.{i}.hook_attn_out``
        (attention output after ``o_proj``), ``blocks.{i}.hook_resid_mid`` (residual stream after
        the attention half: the input of ``post_attention_layernorm``), ``blocks.{i}.hook_mlp_out``
        and ``blocks.{i}.hook_resid_post`` (output of layer i), and ``ln_final.hook_normalized``
        (output of the final RMSNorm, including its learned gain).
    """
    p = prefix
    out: dict[str, str] = {"hook_embed": f"{p}embed_tokens"}
    for i in range(n_layers):
        layer = f"{p}layers.{i}"
        out[f"blocks.{i}.hook_resid_pre"] = f"{layer}:input"
        out[f"blocks.{i}.hook_attn_out"] = f"{layer}.self_attn"
        out[f"blocks.{i}.hook_resid_mid"] = f"{layer}.post_attention_layernorm:input"
        out[f"blocks.{i}.hook_mlp_out"] = f"{layer}.mlp"
        out[f"blocks.{i}.hook_resid_post"] = layer
    out["ln_final.hook_normalized"] = f"{p}norm"
    return out


# --------------------------------------------------------------------------- EfficientNet-Lite

#: Repeats per stage of EfficientNet-Lite0 (depth coefficient 1.0; Lite models keep the first and
#: last stage unscaled): the seven MBConv stages of the published configuration, 16 blocks in all.
EFFICIENTNET_LITE0_REPEATS: tuple[int, ...] = (1, 2, 2, 3, 3, 4, 1)


def efficientnet_lite_adapter(n_blocks: int) -> dict[str, str]:
    """Names for ``efficientnet_lite_pytorch.EfficientNet``: stem, every MBConv block, head, logits.

    ``stem`` is the activation after the stem convolution (the input of ``_blocks.0``),
    ``blocks.{i}`` the output of MBConv block ``i``, ``head`` the activation after the 1x1 head
    convolution (the input of the global average pooling), ``logits`` the classifier output.
    The stem and head activations are read as module inputs because the model applies one shared
    activation module (``_swish``) to both.
    """
    out = {"stem": "_blocks.0:input"}
    for i in range(n_blocks):
        out[f"blocks.{i}"] = f"_blocks.{i}"
    out["head"] = "_avg_pooling:input"
    out["logits"] = "_fc"
    return out


# --------------------------------------------------------------------------- detection on built modules

def _class_path(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def adapter_for_module(model: Any) -> dict[str, str] | None:
    """The adapter of a built module whose architecture is known here, else None.

    Known: Hugging Face Llama models (``config.model_type == "llama"``: ``LlamaForCausalLM`` or a
    bare ``LlamaModel``) and ``efficientnet_lite_pytorch`` EfficientNets.
    """
    cls = _class_path(model)
    if cls.startswith("efficientnet_lite_pytorch.") and hasattr(model, "_blocks"):
        return efficientnet_lite_adapter(len(model._blocks))
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    if model_type == "llama":
        inner = getattr(model, "model", None)
        if inner is not None and hasattr(inner, "layers") and hasattr(inner, "embed_tokens"):
            return llama_adapter(len(inner.layers), prefix="model.")
        if hasattr(model, "layers") and hasattr(model, "embed_tokens"):
            return llama_adapter(len(model.layers), prefix="")
    return None
