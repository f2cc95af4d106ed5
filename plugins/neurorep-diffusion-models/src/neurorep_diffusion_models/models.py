"""The networks: pixel PCA embedding, condition encoder, UNet factory and the embedding-space prior.

Every module is a diffusers ``ModelMixin``/``ConfigMixin``, so each saves with
``save_pretrained`` (``config.json`` + ``diffusion_pytorch_model.safetensors``)
and loads with ``from_pretrained``.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from diffusers import UNet2DModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

__all__ = ["PixelPCAEmbedding", "ConditionEncoder", "EmbeddingPrior", "build_unet"]


class PixelPCAEmbedding(ModelMixin, ConfigMixin):
    """A fixed linear image embedding: whitened PCA of pixels.

    ``embed(x) = ((x - mean) @ components.T) / scale`` gives each embedding
    dimension unit variance on the training set; ``decode`` is the
    least-squares linear inverse (the PCA reconstruction), i.e. the linear
    decoder baseline.

    Parameters
    ----------
    n_components : int
        Embedding dimension.
    image_size : int
        Side of the square single-channel images.
    """

    @register_to_config
    def __init__(self, n_components: int = 64, image_size: int = 28) -> None:
        super().__init__()
        d = image_size * image_size
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("components", torch.zeros(n_components, d))
        self.register_buffer("scale", torch.ones(n_components))

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> PixelPCAEmbedding:
        """Fit on float images in [-1, 1], ``(n, 1, s, s)`` or ``(n, s, s)``; deterministic (eigh, sign-fixed)."""
        x = images.reshape(len(images), -1).double()
        k = self.config.n_components
        if x.shape[1] != self.mean.numel():
            raise ValueError(f"PixelPCAEmbedding expects {self.mean.numel()} pixels per image, got {x.shape[1]}")
        if k > min(x.shape):
            raise ValueError(f"cannot fit {k} components on {x.shape[0]} images of {x.shape[1]} pixels")
        mean = x.mean(0)
        xc = x - mean
        cov = (xc.T @ xc) / max(len(x) - 1, 1)
        evals, evecs = torch.linalg.eigh(cov)
        order = torch.argsort(evals, descending=True)[:k]
        comps = evecs[:, order].T  # (k, d)
        sign = torch.sign(comps[torch.arange(k), comps.abs().argmax(1)])
        comps = comps * sign[:, None]
        self.mean.copy_(mean.float())
        self.components.copy_(comps.float())
        self.scale.copy_(evals[order].clamp_min(1e-12).sqrt().float())
        return self

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] -> whitened embedding ``(n, n_components)``."""
        x = images.reshape(len(images), -1).to(self.mean.dtype)
        return ((x - self.mean) @ self.components.T) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Embedding -> PCA reconstruction ``(n, 1, s, s)`` (not clipped)."""
        s = self.config.image_size
        return ((z * self.scale) @ self.components + self.mean).reshape(len(z), 1, s, s)

    def fingerprint(self) -> str:
        """Short hash of the fitted buffers, to check that two models share one embedding space."""
        h = hashlib.sha256()
        for t in (self.mean, self.components, self.scale):
            h.update(np.ascontiguousarray(t.detach().cpu().numpy()).tobytes())
        return h.hexdigest()[:16]


class ConditionEncoder(ModelMixin, ConfigMixin):
    """Maps (class label, image embedding) to a vector added to the UNet's time embedding.

    Either condition can be absent (classifier-free guidance): a label equal to
    ``num_classes`` is the null label, and ``embedding_keep=False`` replaces the
    embedding's contribution by a learned null vector.

    Parameters
    ----------
    num_classes : int
        Number of real classes; index ``num_classes`` is the null class.
    embedding_dim : int
        Dimension of the continuous image embedding.
    hidden_dim : int
        Width of the embedding MLP.
    out_dim : int
        The UNet's time-embedding width (``block_out_channels[0] * 4``).
    """

    @register_to_config
    def __init__(self, num_classes: int = 10, embedding_dim: int = 64, hidden_dim: int = 256,
                 out_dim: int = 128) -> None:
        super().__init__()
        self.class_embedding = nn.Embedding(num_classes + 1, out_dim)
        self.embedding_mlp = nn.Sequential(
            nn.Linear(embedding_dim, hidden_dim), nn.SiLU(),
            nn.Linear(hidden_dim, hidden_dim), nn.SiLU(),
            nn.Linear(hidden_dim, out_dim),
        )
        self.null_embedding = nn.Parameter(torch.zeros(out_dim))

    def forward(self, labels: torch.Tensor, embedding: torch.Tensor, embedding_keep: torch.Tensor) -> torch.Tensor:
        """``(n,)`` labels (null = num_classes), ``(n, E)`` embeddings, ``(n,)`` bool keep -> ``(n, out_dim)``."""
        e = self.embedding_mlp(embedding)
        e = torch.where(embedding_keep[:, None], e, self.null_embedding.expand_as(e))
        return self.class_embedding(labels) + e


def build_unet(block_out_channels: tuple[int, ...] = (32, 64, 64), layers_per_block: int = 1,
               norm_num_groups: int = 8, image_size: int = 28, spatial_condition: bool = True) -> UNet2DModel:
    """A small attention-free diffusers ``UNet2DModel`` whose ``class_labels`` input is a condition vector.

    ``class_embed_type="identity"`` adds the :class:`ConditionEncoder` output to the
    time embedding in every ResNet block; with ``spatial_condition`` the PCA
    reconstruction of the embedding enters as a second input channel.
    """
    n = len(block_out_channels)
    return UNet2DModel(
        sample_size=image_size,
        in_channels=2 if spatial_condition else 1,
        out_channels=1,
        layers_per_block=layers_per_block,
        block_out_channels=tuple(block_out_channels),
        down_block_types=("DownBlock2D",) * n,
        up_block_types=("UpBlock2D",) * n,
        norm_num_groups=norm_num_groups,
        class_embed_type="identity",
    )


class _ResBlock(nn.Module):
    def __init__(self, width: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.cond = nn.Linear(cond_dim, 2 * width)
        self.fc2 = nn.Linear(width, width)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        scale, shift = self.cond(c).chunk(2, dim=-1)
        y = self.norm(h) * (1 + scale) + shift
        y = self.fc2(torch.nn.functional.silu(self.fc1(torch.nn.functional.silu(y))))
        return h + y


class EmbeddingPrior(ModelMixin, ConfigMixin):
    """Diffusion prior over image embeddings (after MindEye's prior): an MLP noise predictor.

    It denoises ``z_t`` towards the distribution of real image embeddings,
    optionally conditioned on an observed embedding ``y = z + sigma * noise``
    (e.g. one predicted from brain data, with its noise level ``sigma`` in
    whitened units) and on a class label. Sampling conditioned on ``y`` draws
    from the learned posterior of clean embeddings given the noisy observation.

    Parameters
    ----------
    embedding_dim : int
        Embedding dimension.
    hidden_dim : int
        MLP width.
    n_blocks : int
        Residual blocks.
    num_classes : int
        Real classes; index ``num_classes`` is the null label.
    time_dim : int
        Width of the sinusoidal timestep features.
    """

    @register_to_config
    def __init__(self, embedding_dim: int = 64, hidden_dim: int = 256, n_blocks: int = 4, num_classes: int = 10,
                 time_dim: int = 128) -> None:
        super().__init__()
        self.time_proj = Timesteps(time_dim, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(time_dim, hidden_dim)
        self.class_embedding = nn.Embedding(num_classes + 1, hidden_dim)
        self.obs_in = nn.Linear(embedding_dim + 3, hidden_dim)
        self.z_in = nn.Linear(embedding_dim, hidden_dim)
        self.blocks = nn.ModuleList(_ResBlock(hidden_dim, hidden_dim) for _ in range(n_blocks))
        self.out_norm = nn.LayerNorm(hidden_dim)
        self.out = nn.Linear(hidden_dim, embedding_dim)

    def forward(self, z_t: torch.Tensor, timesteps: torch.Tensor, observation: torch.Tensor,
                observation_sigma: torch.Tensor, observation_keep: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Predict the noise in ``z_t``.

        Parameters
        ----------
        z_t : (n, E) noisy embeddings at ``timesteps``.
        timesteps : (n,) integer diffusion steps.
        observation : (n, E) observed embeddings (ignored where not kept).
        observation_sigma : (n,) noise std of the observation in whitened units.
        observation_keep : (n,) bool; False drops the observation (null condition).
        labels : (n,) class labels, ``num_classes`` = null.
        """
        keep = observation_keep.to(z_t.dtype)[:, None]
        sig = observation_sigma.to(z_t.dtype)[:, None]
        obs = torch.cat([observation * keep, keep, sig * keep, torch.log(sig + 0.05) * keep], dim=1)
        temb = self.time_embedding(self.time_proj(timesteps).to(z_t.dtype))
        c = temb + self.class_embedding(labels)
        h = self.z_in(z_t) + self.obs_in(obs)
        for blk in self.blocks:
            h = blk(h, c)
        return self.out(torch.nn.functional.silu(self.out_norm(h)))
