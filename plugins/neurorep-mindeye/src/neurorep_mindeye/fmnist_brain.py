"""``synthetic.fmnist-embedding-brain``: SYNTHETIC voxels that carry the Fashion-MNIST images' 64-d embedding.

Voxels are a random linear mixing of the 64-d whitened pixel-PCA embedding that the shipped Fashion-MNIST
generator is conditioned on (``neurorep-diffusion-models``), plus Gaussian noise, so the embedding a
reconstruction method must recover is known exactly. Nothing here was measured.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from neurorep import Dataset, Representation, StimulusSet, Tags
from neurorep.errors import InvalidInputError

__all__ = ["FashionMNISTEmbeddingBrain", "shipped_embedding"]

_SITES = ("brain", "pixels", "embedding")


def shipped_embedding() -> dict[str, np.ndarray]:
    """The shipped decoder's pixel-PCA embedding buffers (``mean`` (784,), ``components`` (64, 784), ``scale``
    (64,)), read with safetensors' numpy loader (no torch)."""
    from importlib.resources import files

    from safetensors.numpy import load_file

    path = files("neurorep_diffusion_models") / "weights" / "fmnist-diffusion" / "embedding" / \
        "diffusion_pytorch_model.safetensors"
    return {k: v.astype(np.float64) for k, v in load_file(str(path)).items()}


class FashionMNISTEmbeddingBrain(Dataset):
    """SYNTHETIC brain responses to Fashion-MNIST test images that carry the images' 64-d generator embedding.

    ``z`` is the whitened pixel-PCA embedding (unit variance per dimension on the training set) of the
    shipped Fashion-MNIST decoder. Voxel ``v`` responds ``z @ W[:, v] / 8`` (``W`` standard normal, so the
    signal variance of a voxel is about 1) plus Gaussian noise of standard deviation ``noise`` in each of
    ``n_repeats`` repeats (``data`` is their mean).

    Sites: ``brain`` (stimuli x ``n_voxels``, with ``repeats`` when ``n_repeats > 1``), ``pixels`` (the images,
    stimuli x 784, values 0..255) and ``embedding`` (``z``, stimuli x 64). The ground truth is :meth:`ground_truth`.

    Parameters
    ----------
    n_per_class : int, default=4
        The first ``n_per_class`` test images of each of the 10 classes.
    n_voxels : int, default=200
        Voxels.
    noise : float, default=0.5
        Noise standard deviation per voxel and repeat (the signal's is about 1).
    n_repeats : int, default=1
        Noisy repeats per stimulus.
    random_state : int, default=0
        Seeds the mixing weights and the noise.
    """

    id = "synthetic.fmnist-embedding-brain"
    version = "0.1.0"
    citation = ("SYNTHETIC. Images: Xiao, Rasul & Vollgraf (2017) Fashion-MNIST, arXiv:1708.07747; embedding: "
                "neurorep-diffusion-models' pixel-PCA embedding; design after Scotti et al. (2023) MindEye, "
                "arXiv:2305.18274")
    description = "SYNTHETIC voxels = random mixing of the Fashion-MNIST images' 64-d generator embedding + noise"
    tags = Tags(stochastic=True, needs_weights=True)

    def __init__(self, n_per_class: int = 4, n_voxels: int = 200, noise: float = 0.5, n_repeats: int = 1,
                 random_state: int = 0):
        self.n_per_class = n_per_class
        self.n_voxels = n_voxels
        self.noise = noise
        self.n_repeats = n_repeats
        self.random_state = random_state

    def _own(self) -> str:
        return f"Dataset {self.id!r}"

    def _validate(self) -> None:
        for name, low in (("n_per_class", 1), ("n_voxels", 1), ("n_repeats", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise InvalidInputError(f"{self._own()}: {name} must be an integer >= {low}, got {v!r}.")
        if not self.noise >= 0:
            raise InvalidInputError(f"{self._own()}: noise must be >= 0, got {self.noise!r}.")

    def card(self) -> dict[str, Any]:
        return {"files": [], "synthetic": True, "license": "generated data (images: MIT, Zalando SE)",
                "citation": None, "contents": "SYNTHETIC voxel responses driven by the images' 64-d embedding."}

    def load_stimuli(self) -> StimulusSet:
        self._validate()
        from neurorep.models import FashionMNIST

        return FashionMNIST(split="test", n_per_class=int(self.n_per_class)).load_stimuli()

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(_SITES)

    def site_space(self, site: str) -> dict[str, Any]:
        """Provenance of a site (``synthetic: True``)."""
        self._check_site(site)
        kind = {"brain": "brain", "pixels": "stimulus", "embedding": "model"}[site]
        return {"kind": kind, "synthetic": True, "dataset": self.id, "site": site}

    def _check_site(self, site: str) -> None:
        if site not in _SITES:
            raise InvalidInputError(f"{self._own()}: unknown site {site!r}; expected one of {list(_SITES)}.")

    def embedding(self, images: np.ndarray) -> np.ndarray:
        """``z`` of ``(n, 28, 28)`` uint8 images."""
        e = shipped_embedding()
        x = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 127.5 - 1.0
        return ((x - e["mean"]) @ e["components"].T) / e["scale"]

    def ground_truth(self) -> dict[str, Any]:
        """``weights`` (64 x n_voxels mixing matrix, before the 1/8 scaling), ``noise``, ``signal_sd`` (about 1)."""
        self._validate()
        rng = np.random.default_rng([int(self.random_state), 64])
        return {"synthetic": True, "generator": self.id, "weights": rng.standard_normal((64, int(self.n_voxels))),
                "noise": float(self.noise), "signal_sd": 1.0}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        """The site's rows (restricted to ``stimuli``' ids, in their order, when given)."""
        rep = self._load(site)
        return rep if stimuli is None else rep.select(list(stimuli.ids))

    def _load(self, site: str) -> Representation:
        self._check_site(site)
        stim = self.load_stimuli()
        ids = stim.ids
        space = self.site_space(site)
        if site == "pixels":
            return Representation(stim.payload.reshape(len(ids), -1).astype(np.float64), ids, space=space,
                                  name=f"{self.id}:pixels")
        z = self.embedding(stim.payload)
        if site == "embedding":
            return Representation(z, ids, space=space, name=f"{self.id}:embedding")
        w = self.ground_truth()["weights"]
        signal = z @ w / 8.0
        rng = np.random.default_rng([int(self.random_state), 65])
        reps = signal[None] + float(self.noise) * rng.standard_normal((int(self.n_repeats),) + signal.shape)
        return Representation(reps.mean(0), ids, repeats=reps if int(self.n_repeats) > 1 else None, space=space,
                              name=f"{self.id}:brain")
