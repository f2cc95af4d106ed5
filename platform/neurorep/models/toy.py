"""A seeded tiny convolutional network: a bring-your-own model for examples and the conformance suite.

``tiny_convnet`` returns the module (native site names ``"0"`` ... ``"4"``); ``TinyConvNet`` wraps it as an
unregistered :class:`~neurorep.models.TorchModel` with named sites, which a recipe can reference as
``model = "neurorep.models.toy:TinyConvNet"`` (listing its sites needs no torch import).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..types import StimulusSet
from .base import PreparedInputs, TorchModel, images_to_tensor

__all__ = ["tiny_convnet", "TinyConvNet"]


def tiny_convnet(seed: int = 0, n_classes: int = 5) -> Any:
    """``nn.Sequential(Conv2d(3, 4, 3, padding=1), ReLU, AdaptiveAvgPool2d(2), Flatten, Linear(16, n_classes))``.

    Weights are drawn from ``torch.Generator().manual_seed(seed)``, so the same seed gives the
    same network on every machine. Its modules are named ``"0"`` ... ``"4"``.
    """
    import torch
    from torch import nn

    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                        nn.Linear(16, n_classes))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return net.eval()


class TinyConvNet(TorchModel):
    """:func:`tiny_convnet` with named sites ``conv``, ``relu``, ``pool``, ``flatten`` and ``logits``.

    Images (same size, uint8) are scaled to [0, 1]; nothing else is done to them.

    Parameters
    ----------
    seed : int, default=0
        Seed of the weights.
    """

    id = "model.toy-convnet"
    version = "1.0.0"
    citation = None  # a seeded random toy network, not a published model
    modality: ClassVar[str] = "image"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def adapter(self) -> dict[str, str]:
        return {"conv": "0", "relu": "1", "pool": "2", "flatten": "3", "logits": "4"}

    def build(self, device: str = "cpu") -> Any:
        return tiny_convnet(self.seed).to(device)

    def prepare(self, stimuli: StimulusSet) -> PreparedInputs:
        return PreparedInputs(args=(images_to_tensor(stimuli, owner=f"Model {self._label()}"),))
