"""The torch model component: how a registered model is built, fed and read.

:class:`TorchModel` extends :class:`neurorep.Model` with what :class:`~neurorep.models.TorchSource`
needs to turn stimuli into activations:

* :meth:`~TorchModel.adapter` -- ``{canonical site: hook point}`` (see :mod:`neurorep.models.adapters`),
  known without building the model, so :meth:`~TorchModel.sites` is cheap;
* :meth:`~TorchModel.prepare` -- a batch of stimuli -> model inputs (:class:`PreparedInputs`);
* :meth:`~TorchModel.forward` -- one forward pass (defaults to ``module(**kwargs)``);
* :meth:`~TorchModel.output_sites` / :meth:`~TorchModel.read_outputs` -- sites computed from the
  forward pass's return value rather than read by a hook (e.g. a language model's per-text
  negative log-likelihood).

Nothing here imports torch at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..components import Model
from ..errors import InvalidInputError
from ..types import StimulusSet

__all__ = ["PreparedInputs", "TorchModel", "as_rgb_uint8", "image_list", "images_to_tensor"]


@dataclass
class PreparedInputs:
    """Model inputs for one batch.

    Attributes
    ----------
    args : tuple
        Positional arguments of the forward call (e.g. an image tensor).
    kwargs : dict
        Keyword arguments (e.g. ``input_ids``, ``attention_mask``).
    token_mask : torch.Tensor of shape (N, T), optional
        The token positions that ``mean``/``last`` pooling averages or picks (real tokens; padding
        and an added BOS token excluded).
    extra : dict
        Anything :meth:`TorchModel.read_outputs` needs besides the output (e.g. the targets of a
        language model's next-token loss).
    padding_mask : torch.Tensor of shape (N, T), optional
        True at real (non-padding) positions, when it differs from ``token_mask`` (e.g. an added
        BOS token is real but not pooled); ``flatten`` pooling refuses padded batches.
    """

    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    token_mask: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    padding_mask: Any = None

    def to(self, device: Any) -> PreparedInputs:
        """A copy with every tensor moved to ``device``."""
        import torch

        def move(v: Any) -> Any:
            return v.to(device) if isinstance(v, torch.Tensor) else v

        return PreparedInputs(tuple(move(a) for a in self.args), {k: move(v) for k, v in self.kwargs.items()},
                              move(self.token_mask), {k: move(v) for k, v in self.extra.items()},
                              move(self.padding_mask))


class TorchModel(Model):
    """A torch model with named sites, fed by :class:`~neurorep.models.TorchSource`.

    Subclasses set :attr:`modality` and implement :meth:`build`, :meth:`adapter` and :meth:`prepare`.

    Attributes
    ----------
    modality : str
        The stimulus modality the model takes (``"image"`` or ``"text"``).
    """

    modality: ClassVar[str] = "image"

    # ------------------------------------------------------------------ sites
    def adapter(self) -> dict[str, str]:
        """``{canonical site: hook point}`` in forward order; must not build the model."""
        return {}

    def output_sites(self) -> list[str]:
        """Sites computed from the forward pass's return value (see :meth:`read_outputs`)."""
        return []

    def sites(self) -> list[str]:
        """Every site: the adapter's, then :meth:`output_sites`."""
        return list(self.adapter()) + list(self.output_sites())

    def default_pooling(self, site: str) -> str:
        """Pooling used for ``site`` when the source's ``pooling`` is ``"auto"``."""
        return "auto"

    # ------------------------------------------------------------------ running
    def check_stimuli(self, stimuli: StimulusSet) -> None:
        """Raise :class:`InvalidInputError` unless the stimuli have this model's modality."""
        if stimuli.modality != self.modality:
            raise InvalidInputError(
                f"Model {self._label()} takes {self.modality} stimuli, got the {stimuli.modality!r} stimulus set "
                f"{stimuli.name!r}. Give it a StimulusSet with modality={self.modality!r}.")

    def prepare(self, stimuli: StimulusSet) -> PreparedInputs:
        """Model inputs for ``stimuli`` (a batch), on the CPU."""
        raise TypeError(f"Model {self._label()} defines no prepare(); subclasses of TorchModel must implement it.")

    def forward(self, module: Any, inputs: PreparedInputs, sites: Sequence[str]) -> Any:
        """Run ``module`` on ``inputs``; ``sites`` are the sites requested (a model may skip work none needs)."""
        return module(*inputs.args, **inputs.kwargs)

    def read_outputs(self, output: Any, inputs: PreparedInputs, sites: Sequence[str]) -> dict[str, Any]:
        """Values of the requested :meth:`output_sites` (tensors ``(N, F)``) from the forward's return value."""
        return {}


# --------------------------------------------------------------------------- image helpers

def as_rgb_uint8(img: Any, *, owner: str = "Model", index: int | str = "?") -> np.ndarray:
    """One image as an ``(H, W, 3)`` uint8 array.

    Accepts uint8 or bool ``(H, W)`` (grey, replicated to 3 channels), ``(H, W, 3)`` and
    ``(H, W, 4)`` (alpha dropped) arrays; bool images become 0/255.
    """
    a = np.asarray(img)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    if a.dtype != np.uint8:
        raise InvalidInputError(
            f"{owner}: image {index} has dtype {a.dtype}; expected uint8 pixel values 0-255. Convert it first, e.g. "
            "skimage.util.img_as_ubyte(image).")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3:
        raise InvalidInputError(f"{owner}: image {index} has shape {a.shape}; expected (H, W), (H, W, 3) or (H, W, 4).")
    return np.ascontiguousarray(a)


def image_list(stimuli: StimulusSet, *, owner: str = "Model") -> list[Any]:
    """The payload of an image StimulusSet as a list of arrays (an ``(N, H, W, C)`` array or a list)."""
    if stimuli.payload is None:
        raise InvalidInputError(
            f"{owner}: the stimulus set {stimuli.name!r} holds no images in memory (payload is None); load "
            "them into StimulusSet(payload=...) as uint8 (H, W, 3) arrays.")
    pay = stimuli.payload
    return [pay[i] for i in range(len(pay))]


def images_to_tensor(stimuli: StimulusSet, *, owner: str = "Model") -> Any:
    """Same-size images -> float32 tensor ``(N, 3, H, W)`` with values in [0, 1]."""
    import torch

    imgs = [as_rgb_uint8(a, owner=owner, index=stimuli.ids[i]) for i, a in enumerate(image_list(stimuli, owner=owner))]
    shapes = {a.shape for a in imgs}
    if len(shapes) > 1:
        raise InvalidInputError(f"{owner}: images of different sizes {sorted(shapes)[:4]} cannot be batched as they "
                                "are; pass preprocess= a function that resizes them.")
    arr = np.stack(imgs).astype(np.float32) / 255.0
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()
