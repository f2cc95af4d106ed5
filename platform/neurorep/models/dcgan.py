"""The DCGAN face generator of ``gan-face-generate`` as a model, and seeded latent vectors as its stimuli.

The package (install it with ``pip install --no-deps gan-face-generate``: its own dependencies -- wandb,
torchvision, requests... -- serve its training script and viewer, not the generator) ships the
generator's architecture in ``gan_face_generate.models`` (the only module neurorep imports; it needs
torch alone) and its trained weights in ``weights.tar`` (a checkpoint with ``netG_state_dict``), a DCGAN
(Radford et al., 2016) trained on DigiFace-1M's synthetic faces: a 100-dimensional standard normal
latent -> five transposed convolutions -> a 3 x 64 x 64 image in [-1, 1] (tanh).

* :class:`DCGANFaces` (``model.dcgan-faces``): sites ``main.0`` ... ``main.13`` (the generator's own
  ``named_modules()`` paths: ConvTranspose2d, BatchNorm2d and ReLU of each stage, then the last
  ConvTranspose2d and the Tanh) and ``image`` (the generated image, flattened channel-first).
* :class:`GaussianLatents` (``dataset.gaussian-latents``): ``n_stimuli`` standard normal vectors with
  stable ids; latent ``i`` of a seed is the same vector whatever ``n_stimuli`` is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..components import Dataset, Tags
from ..errors import InvalidInputError
from ..types import StimulusSet
from .base import PreparedInputs, TorchModel

__all__ = ["DCGANFaces", "GaussianLatents", "dcgan_weights_path", "images_to_uint8"]

_INSTALL = ("pip install --no-deps gan-face-generate (only its generator module and weights file are used; "
            "its own dependencies are not needed)")


def dcgan_weights_path() -> Path:
    """``weights.tar`` inside the installed ``gan_face_generate`` package (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("gan_face_generate")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        p = Path(folder) / "weights.tar"
        if p.is_file():
            return p
    raise InvalidInputError(f"Model 'model.dcgan-faces' needs the generator weights of the package gan-face-generate "
                            f"(weights.tar); install it: {_INSTALL}.")


def images_to_uint8(images: Any) -> np.ndarray:
    """Generator images -> uint8 ``(N, H, W, 3)``.

    Parameters
    ----------
    images : array-like
        ``(N, 3, H, W)`` values in [-1, 1] (the tanh output), or the ``image`` site's rows
        ``(N, 3 * 64 * 64)`` (channel-first, flattened).
    """
    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 2:
        side = int(round((a.shape[1] / 3) ** 0.5))
        if 3 * side * side != a.shape[1]:
            raise InvalidInputError(f"images_to_uint8: rows of {a.shape[1]} values are not 3 x H x H images.")
        a = a.reshape(a.shape[0], 3, side, side)
    if a.ndim != 4 or a.shape[1] != 3:
        raise InvalidInputError(f"images_to_uint8: expected (N, 3, H, W) or (N, 3*H*W), got shape {a.shape}.")
    return np.clip(np.rint((a.transpose(0, 2, 3, 1) + 1.0) * 127.5), 0, 255).astype(np.uint8)


class DCGANFaces(TorchModel):
    """The DCGAN face generator of ``gan-face-generate`` (64 x 64 RGB faces from 100-d latents).

    Stimuli are latent vectors (modality ``"other"``, payload ``(N, 100)`` float; e.g.
    :class:`GaussianLatents`). Sites are the generator's module paths, in forward order:

    ========== ======================= =================
    site       module                  output
    ========== ======================= =================
    ``main.0`` ConvTranspose2d 100->512 512 x 4 x 4
    ``main.1`` BatchNorm2d             512 x 4 x 4
    ``main.2`` ReLU                    512 x 4 x 4
    ``main.3`` ... ``main.5``          256 x 8 x 8
    ``main.6`` ... ``main.8``          128 x 16 x 16
    ``main.9`` ... ``main.11``         64 x 32 x 32
    ``main.12`` ConvTranspose2d 64->3  3 x 64 x 64
    ``main.13`` Tanh                   3 x 64 x 64
    ``image``  the generator's output  3 * 64 * 64 values in [-1, 1]
    ========== ======================= =================

    Feature maps are averaged over space by default (``pooling="auto"``; use ``"flatten"`` to keep
    them whole); ``image`` is flattened channel-first (``images_to_uint8`` turns its rows back into
    pictures). The BatchNorm layers use their running statistics (eval mode), so a latent's image
    does not depend on the rest of its batch.

    Parameters
    ----------
    latent_scale : float, default=1.0
        Multiply every latent by this before the generator (1.0: the training distribution;
        below 1 trades variety for typicality, the "truncation" of later GANs).
    """

    id = "model.dcgan-faces"
    version = "1.0.0"
    citation = ("Radford, Metz & Chintala (2016). Unsupervised Representation Learning with Deep Convolutional "
                "Generative Adversarial Networks. ICLR. arXiv:1511.06434; trained on DigiFace-1M: Bae et al. (2023). "
                "WACV. arXiv:2210.02579")
    description = "DCGAN face generator (gan-face-generate, DigiFace-1M): latents -> 64x64 faces, per-layer sites"
    tags = Tags(needs_weights=True)
    modality: ClassVar[str] = "other"

    N_LATENT: ClassVar[int] = 100
    N_LAYERS: ClassVar[int] = 14
    IMAGE_SIZE: ClassVar[int] = 64

    def __init__(self, latent_scale: float = 1.0):
        self.latent_scale = latent_scale

    # ------------------------------------------------------------------ sites
    def adapter(self) -> dict[str, str]:
        out = {f"main.{i}": f"main.{i}" for i in range(self.N_LAYERS)}
        out["image"] = "main"
        return out

    def default_pooling(self, site: str) -> str:
        return "flatten" if site == "image" else "auto"

    # ------------------------------------------------------------------ building
    def build(self, device: str = "cpu") -> Any:
        """The generator with the package's trained weights, eval mode, on ``device``."""
        try:
            import torch
            from gan_face_generate.models import Generator
        except ImportError as exc:
            raise InvalidInputError(f"Model {self._label()} needs torch and gan-face-generate: {_INSTALL}.") from exc
        path = dcgan_weights_path()
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            state = ckpt["netG_state_dict"]
        except Exception as exc:  # a corrupt file, or a checkpoint of another layout
            raise InvalidInputError(f"Model {self._label()}: cannot read the generator weights from {str(path)!r} "
                                    f"({type(exc).__name__}: {exc}); reinstall the package ({_INSTALL}).") from exc
        net = Generator(ngpu=0, nc=3, nz=self.N_LATENT, ngf=64)
        net.load_state_dict(state, strict=True)
        names = dict(net.named_modules())
        missing = [m for m in self.adapter().values() if m not in names]
        if missing:
            raise InvalidInputError(f"Model {self._label()}: modules {missing} not found in the installed "
                                    "gan_face_generate.models.Generator; its version is not supported.")
        return net.eval().to(device)

    # ------------------------------------------------------------------ inputs
    def latents_to_tensor(self, latents: Any) -> Any:
        """``(N, 100)`` latents -> the generator's input ``(N, 100, 1, 1)`` float32, scaled by ``latent_scale``."""
        import torch

        z = np.asarray(latents)
        if z.dtype.kind not in "fiu":
            raise InvalidInputError(f"Model {self._label()}: latents must be numbers, got dtype {z.dtype}.")
        if z.ndim == 4 and z.shape[2:] == (1, 1):
            z = z[:, :, 0, 0]
        if z.ndim != 2 or z.shape[1] != self.N_LATENT:
            raise InvalidInputError(f"Model {self._label()}: expected latents of shape (n, {self.N_LATENT}), got "
                                    f"{z.shape}; use dataset.gaussian-latents with n_dims={self.N_LATENT}.")
        if not np.isfinite(z).all():
            raise InvalidInputError(f"Model {self._label()}: latents contain NaN or inf.")
        scale = float(self.latent_scale)
        if not np.isfinite(scale) or scale <= 0:
            raise InvalidInputError(f"Model {self._label()}: latent_scale must be a positive number, got "
                                    f"{self.latent_scale!r}.")
        x = torch.from_numpy(np.ascontiguousarray(z, dtype=np.float32) * np.float32(scale))
        return x[:, :, None, None]

    def prepare(self, stimuli: StimulusSet) -> PreparedInputs:
        if stimuli.payload is None:
            raise InvalidInputError(f"Model {self._label()}: the stimulus set {stimuli.name!r} holds no latents "
                                    "(payload is None); give an (n, 100) array, e.g. from dataset.gaussian-latents.")
        return PreparedInputs(args=(self.latents_to_tensor(stimuli.payload),))


class GaussianLatents(Dataset):
    """Seeded standard normal latent vectors with stable ids, the stimuli of a generator model.

    Latent ``i`` (id ``z{seed}-{i:05d}``, e.g. ``z0-00000``) is drawn from its own generator,
    ``numpy.random.default_rng([seed, i])``, so it is the same vector whatever ``n_stimuli`` is
    and a larger set extends a smaller one.

    Parameters
    ----------
    n_stimuli : int, default=64
        Number of latents.
    n_dims : int, default=100
        Dimensions of each latent (100 for ``model.dcgan-faces``).
    seed : int, default=0
        Seed of the draw (part of every id).
    """

    id = "dataset.gaussian-latents"
    version = "1.0.0"
    citation = None  # random draws: nothing to cite
    description = "Seeded standard normal latent vectors with stable ids (stimuli of generator models)"

    def __init__(self, n_stimuli: int = 64, n_dims: int = 100, seed: int = 0):
        self.n_stimuli = n_stimuli
        self.n_dims = n_dims
        self.seed = seed

    def card(self) -> dict[str, Any]:
        return {"files": [], "license": None, "citation": None,
                "contents": f"{self.n_stimuli} standard normal vectors of {self.n_dims} dimensions, seed {self.seed}"}

    def load_stimuli(self) -> StimulusSet:
        for name in ("n_stimuli", "n_dims"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidInputError(f"Dataset {self.id!r}: {name} must be an int >= 1, got {v!r}.")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidInputError(f"Dataset {self.id!r}: seed must be an int >= 0, got {self.seed!r}.")
        z = np.stack([np.random.default_rng([self.seed, i]).standard_normal(self.n_dims)
                      for i in range(self.n_stimuli)]).astype(np.float32)
        ids = tuple(f"z{self.seed}-{i:05d}" for i in range(self.n_stimuli))
        return StimulusSet(ids=ids, modality="other", payload=z, name=f"gaussian-latents-s{self.seed}",
                           descriptors={"index": np.arange(self.n_stimuli)})
