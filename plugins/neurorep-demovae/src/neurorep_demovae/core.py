"""The DemoVAE network and its training loop (torch; imported lazily by the components).

Objective per mini-batch (standardised FC ``x``, standardised demographics ``d``, latents ``z = enc(x)``)::

    L = w_rec  * mean((dec(z, d) - x)^2)                        reconstruction
      + w_cov  * mean((Cov_batch(z) - I)^2)                     latent covariance -> identity   (L_Cov)
      + w_mean * mean(mean_batch(z)^2)                          latent mean -> 0                (L_Mean)
      + w_dec  * mean_jk(corr_batch(d_j, z_k)^2)                latent-demographic decorrelation (L_Demo)
      + w_guide * mean((ridge(dec(z', d')) - d')^2)             demographic guidance            (L_Guide)
      + w_kl   * KL(q(z|x) || N(0, I))                          only with a stochastic encoder (w_kl > 0)

``L_Cov`` and ``L_Mean`` match the first two moments of the aggregate posterior to the N(0, I) prior that
:meth:`DemoVAE.sample` draws from; this is how the reference implementation regularises its deterministic
encoder, in place of the per-sample KL of a textbook VAE (which is available through ``w_kl``). For the
guidance term ``z' ~ N(0, I)`` and ``d'`` are demographics re-drawn from the training rows; ``ridge`` is a
fixed linear map from FC to demographics fitted on the training data beforehand, so generated FC must carry
the demographic signal that real FC carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["DemoVAEConfig", "DemoVAENet", "ridge_map", "train_demovae", "decorrelation", "moment_losses"]


@dataclass(frozen=True)
class DemoVAEConfig:
    """Architecture and loss weights (see the module docstring)."""

    latent_dim: int = 8
    hidden: int = 128
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    rec_weight: float = 1.0
    cov_weight: float = 1.0
    mean_weight: float = 1.0
    decor_weight: float = 10.0
    guide_weight: float = 1.0
    kl_weight: float = 0.0
    ridge_alpha: float = 1.0


class DemoVAENet(nn.Module):
    """One-hidden-layer ReLU encoder (FC -> latents) and decoder ([latents, demographics] -> FC)."""

    def __init__(self, n_features: int, n_demographics: int, latent_dim: int, hidden: int, stochastic: bool):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * latent_dim if stochastic else latent_dim))
        self.dec = nn.Sequential(nn.Linear(latent_dim + n_demographics, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_features))
        self.latent_dim = latent_dim
        self.stochastic = stochastic

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(mean, log-variance or None)`` of the latents."""
        h = self.enc(x)
        if self.stochastic:
            return h[:, :self.latent_dim], h[:, self.latent_dim:]
        return h, None

    def decode(self, z: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        return self.dec(torch.cat([z, d], dim=1))


def ridge_map(X: np.ndarray, D: np.ndarray, alpha: float) -> np.ndarray:
    """``W`` minimising ``||X W - D||^2 + alpha ||W||^2`` for centred ``X`` (n, p) and ``D`` (n, m)."""
    p = X.shape[1]
    if p <= X.shape[0]:
        return np.linalg.solve(X.T @ X + alpha * np.eye(p), X.T @ D)
    return X.T @ np.linalg.solve(X @ X.T + alpha * np.eye(X.shape[0]), D)  # dual form when p > n


def decorrelation(z: torch.Tensor, d: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Pearson correlations ``(n_demographics, latent_dim)`` between demographics and latents over the batch."""
    zc = z - z.mean(0, keepdim=True)
    dc = d - d.mean(0, keepdim=True)
    cov = dc.T @ zc / z.shape[0]
    return cov / (dc.pow(2).mean(0).sqrt()[:, None] * zc.pow(2).mean(0).sqrt()[None, :] + eps)


def moment_losses(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean((Cov(z) - I)^2), mean(mean(z)^2))`` over the batch."""
    mu = z.mean(0)
    zc = z - mu
    cov = zc.T @ zc / max(z.shape[0] - 1, 1)
    eye = torch.eye(z.shape[1], dtype=z.dtype)
    return (cov - eye).pow(2).mean(), mu.pow(2).mean()


def train_demovae(X: np.ndarray, D: np.ndarray, cfg: DemoVAEConfig, seed: int) -> tuple[DemoVAENet, dict]:
    """Train on standardised FC ``X`` (n, p) and standardised demographics ``D`` (n, m; m may be 0).

    Returns the network (eval mode) and the loss history (one entry per epoch, per term).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        net = DemoVAENet(X.shape[1], D.shape[1], int(cfg.latent_dim), int(cfg.hidden), cfg.kl_weight > 0)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    x_all = torch.as_tensor(X, dtype=torch.float32)
    d_all = torch.as_tensor(D, dtype=torch.float32)
    m = D.shape[1]
    W = torch.as_tensor(ridge_map(X, D, float(cfg.ridge_alpha)), dtype=torch.float32) if m else None
    opt = torch.optim.Adam(net.parameters(), lr=float(cfg.lr))
    n = X.shape[0]
    bs = max(2, min(int(cfg.batch_size), n))
    hist: dict[str, list[float]] = {k: [] for k in ("rec", "cov", "mean", "decor", "guide", "kl")}
    net.train()
    for _ in range(int(cfg.epochs)):
        perm = torch.randperm(n, generator=gen)
        sums = dict.fromkeys(hist, 0.0)
        n_b = 0
        for s in range(0, n, bs):
            idx = perm[s:s + bs]
            if idx.numel() < 2:
                continue
            xb, db = x_all[idx], d_all[idx]
            mu, logvar = net.encode(xb)
            if logvar is not None:
                z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
                kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
            else:
                z, kl = mu, torch.zeros(())
            rec = (net.decode(z, db) - xb).pow(2).mean()
            l_cov, l_mean = moment_losses(mu)
            if m:
                decor = decorrelation(mu, db).pow(2).mean()
                zg = torch.randn((idx.numel(), net.latent_dim), generator=gen)
                dg = d_all[torch.randint(0, n, (idx.numel(),), generator=gen)]
                guide = (net.decode(zg, dg) @ W - dg).pow(2).mean()
            else:
                decor = guide = torch.zeros(())
            loss = (cfg.rec_weight * rec + cfg.cov_weight * l_cov + cfg.mean_weight * l_mean
                    + cfg.decor_weight * decor + cfg.guide_weight * guide + cfg.kl_weight * kl)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for k, v in (("rec", rec), ("cov", l_cov), ("mean", l_mean), ("decor", decor), ("guide", guide),
                         ("kl", kl)):
                sums[k] += float(v.detach())
            n_b += 1
        for k in hist:
            hist[k].append(sums[k] / max(n_b, 1))
    net.eval()
    return net, hist


def encode_numpy(net: DemoVAENet, X: np.ndarray) -> np.ndarray:
    """Latent means of standardised ``X``."""
    with torch.no_grad():
        mu, _ = net.encode(torch.as_tensor(X, dtype=torch.float32))
    return mu.numpy().astype(float)


def decode_numpy(net: DemoVAENet, Z: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Standardised FC decoded from latents ``Z`` and standardised demographics ``D``."""
    with torch.no_grad():
        out = net.decode(torch.as_tensor(Z, dtype=torch.float32), torch.as_tensor(D, dtype=torch.float32))
    return out.numpy().astype(float)
