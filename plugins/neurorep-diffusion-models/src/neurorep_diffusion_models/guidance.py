"""Brain-guided synthesis: steer diffusion sampling up a linear readout of image features.

BrainDiVE (Luo et al. 2023, NeurIPS, arXiv:2306.03089) generates images that drive a
brain region by following, at every denoising step, the gradient of a differentiable
voxel-wise encoder evaluated on the predicted clean image. Here the encoder is a linear
readout of the judge CNN's 128-d penultimate features -- a stand-in for a fitted voxel
encoding model: ``r(x) = features(x) @ w + b`` (a class direction, or a random fixed
readout playing one voxel).

At each DDIM step with noise prediction ``eps`` and cumulative ``alpha_bar``:

1. ``x0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar)`` (predicted clean image);
2. ``g = grad_x0 r(clip(x0))``, normalised per sample to unit per-pixel RMS
   (BrainDiVE also normalises the gradient, so the scale is independent of the readout's units);
3. ``x0' = x0 + scale * g`` and the noise prediction consistent with it,
   ``eps' = (x_t - sqrt(alpha_bar) x0') / sqrt(1 - alpha_bar)``, replaces ``eps``.

The gradient is taken through the readout only (not back through the UNet), which keeps
one guided step at roughly the cost of one judge forward/backward pass.
"""

from __future__ import annotations

import numpy as np
import torch

from .judge import Judge

__all__ = ["JudgeReadout", "readout_guided_eps"]


class JudgeReadout(torch.nn.Module):
    """A linear readout of the judge's penultimate features: ``images -> features @ weights + bias``.

    Parameters
    ----------
    judge : Judge
        The judge whose 128-d features are read out.
    weights : array-like of shape (n_features,)
        Readout weights.
    bias : float
        Readout offset.
    """

    def __init__(self, judge: Judge, weights, bias: float = 0.0) -> None:
        super().__init__()
        self.net = judge.model.eval()
        w = torch.as_tensor(np.asarray(weights, dtype=np.float32)).reshape(-1)
        n_feat = int(self.net.fc.out_features)
        if w.numel() != n_feat:
            raise ValueError(f"JudgeReadout: weights must have {n_feat} entries (one per judge feature), "
                             f"got {w.numel()}")
        self.register_buffer("weights", w)
        self.bias = float(bias)

    @classmethod
    def random(cls, judge: Judge, seed: int = 0) -> JudgeReadout:
        """A random fixed readout (a stand-in voxel): standard-normal weights / sqrt(n_features)."""
        n = int(judge.model.fc.out_features)
        w = np.random.default_rng(seed).standard_normal(n) / np.sqrt(n)
        return cls(judge, w)

    @classmethod
    def class_logit(cls, judge: Judge, label: int) -> JudgeReadout:
        """The judge's logit for class ``label`` (its head's row: a readout direction for one class)."""
        head = judge.model.head
        if not 0 <= int(label) < head.out_features:
            raise ValueError(f"JudgeReadout.class_logit: label must be in 0..{head.out_features - 1}, got {label}")
        return cls(judge, head.weight[int(label)].detach().numpy(), float(head.bias[int(label)].detach()))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(n, 1, 28, 28)`` images in [-1, 1] -> ``(n,)`` readout values (differentiable)."""
        return self.net.features(images) @ self.weights + self.bias

    @torch.no_grad()
    def score(self, images) -> np.ndarray:
        """Readout values of images (tensor or array, ``(n, 28, 28)`` or ``(n, 1, 28, 28)``) as a numpy array."""
        x = torch.as_tensor(np.asarray(images, dtype=np.float32))
        if x.ndim == 3:
            x = x[:, None]
        return self.forward(x).numpy()


def readout_guided_eps(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar: torch.Tensor, readout,
                       scale: float) -> torch.Tensor:
    """The noise prediction after one readout-guidance step on the predicted clean image (see module doc).

    Parameters
    ----------
    x_t : (b, 1, h, w) current noisy images.
    eps : (b, 1, h, w) the (classifier-free guided) noise prediction.
    alpha_bar : scalar tensor, cumulative alpha of the current timestep.
    readout : callable, images -> (b,) differentiable objective.
    scale : float, per-pixel RMS step on the predicted clean image.
    """
    a = alpha_bar.to(x_t.dtype)
    sa, s1a = a.sqrt(), (1 - a).sqrt()
    x0 = ((x_t - s1a * eps) / sa).detach()
    with torch.enable_grad():
        x0r = x0.clone().requires_grad_(True)
        r = readout(x0r.clamp(-1, 1)).sum()
        (g,) = torch.autograd.grad(r, x0r)
    rms = g.flatten(1).pow(2).mean(1).sqrt().clamp_min(1e-12)
    g = g / rms[:, None, None, None]
    x0g = x0 + scale * g
    return (x_t - sa * x0g) / s1a
