"""MindEye's retrieval submodule at small scale: MLP backbone, contrastive projector, losses, retrieval scores.

Scotti et al. (2023) map flattened fMRI voxels through a residual MLP backbone into CLIP image space; a
projector head on the backbone output is trained with a bidirectional contrastive loss (MixCo, a mixup of
voxel patterns with soft targets, early in training, then plain InfoNCE) against the frozen CLIP embeddings
of the seen images. Retrieval ranks candidate images by the cosine between the projected brain embedding and
each candidate's image embedding (brain -> image) and, the other way round, candidate brain samples for one
image (image -> brain). Everything here is written for small CPU runs: a few hundred samples, a hidden layer
of a few hundred units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._meta import CITATION  # noqa: F401  (torch-free constants, re-exported)

__all__ = ["CITATION", "BrainMLP", "TrainConfig", "mixco_nce", "info_nce", "train_brain_mlp", "embed", "backbone_output",
           "retrieval_ranks", "topk_accuracy", "permutation_topk", "cosine_matrix"]


class BrainMLP(nn.Module):
    """Residual MLP backbone (voxels -> embedding) and a contrastive projector head (embedding -> embedding).

    Parameters
    ----------
    n_voxels : int
    embed_dim : int
        Dimension of the target image-embedding space.
    hidden : int
    n_blocks : int
        Residual blocks (Linear, LayerNorm, GELU, Dropout) after the input layer.
    dropout : float
    """

    def __init__(self, n_voxels: int, embed_dim: int, hidden: int = 256, n_blocks: int = 2, dropout: float = 0.15):
        super().__init__()
        self.lin0 = nn.Sequential(nn.Linear(n_voxels, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout))
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout))
            for _ in range(n_blocks))
        self.out = nn.Linear(hidden, embed_dim)
        # MindEye's projector: LayerNorm-GELU-Linear stacks on the backbone output, used for the contrastive loss.
        self.projector = nn.Sequential(nn.LayerNorm(embed_dim), nn.GELU(), nn.Linear(embed_dim, embed_dim))

    def backbone(self, x: torch.Tensor) -> torch.Tensor:
        h = self.lin0(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = self.backbone(x)
        return b, self.projector(b)


def info_nce(brain: torch.Tensor, image: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE (CLIP loss) between L2-normalised brain and image embeddings of one batch.

    Repeats of one stimulus in a batch have identical image embeddings, hence identical logit columns: the loss
    then differs from one with the repeats as shared positives only by a constant, so no special case is needed.
    """
    logits = F.normalize(brain, dim=-1) @ F.normalize(image, dim=-1).T / temperature
    target = torch.arange(len(brain))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def mixco_nce(brain: torch.Tensor, image: torch.Tensor, temperature: float, lam: torch.Tensor,
              perm: torch.Tensor) -> torch.Tensor:
    """Bidirectional MixCo loss: sample ``i``'s brain input was ``lam_i x_i + (1 - lam_i) x_perm[i]``.

    The soft target of row ``i`` puts ``lam_i`` on image ``i`` and ``1 - lam_i`` on image ``perm[i]``; the
    image -> brain direction uses the transposed target matrix (Kim et al., 2020; Scotti et al., 2023).
    ``lam = 1`` gives :func:`info_nce` exactly.
    """
    n = len(brain)
    logits = F.normalize(brain, dim=-1) @ F.normalize(image, dim=-1).T / temperature
    probs = torch.diag(lam) + (1.0 - lam)[:, None] * F.one_hot(perm, n).to(lam.dtype)
    b2i = -(F.log_softmax(logits, dim=-1) * probs).sum(-1).mean()
    i2b = -(F.log_softmax(logits.T, dim=-1) * probs.T).sum(-1).mean()
    return 0.5 * (b2i + i2b)


@dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters of :func:`train_brain_mlp` (see ``mindeye.retrieval`` for their meaning)."""

    hidden: int = 256
    n_blocks: int = 2
    dropout: float = 0.15
    epochs: int = 150
    lr: float = 3e-3
    weight_decay: float = 1e-2
    batch_size: int = 64
    temperature: float = 0.05
    mixco_fraction: float = 0.33
    mixco_beta: float = 0.15
    regression_weight: float = 0.0
    contrastive_weight: float = 1.0


def train_brain_mlp(X: np.ndarray, T: np.ndarray, cfg: TrainConfig, seed: int) -> BrainMLP:
    """Train a :class:`BrainMLP` so that its projected embedding of ``X[i]`` retrieves ``T[i]``.

    The loss is ``contrastive_weight`` times the contrastive loss on the projector output (MixCo, then InfoNCE)
    plus, when ``regression_weight > 0``, ``regression_weight`` times the mean squared error between the
    backbone output and ``T`` (the regression target of MindEye's reconstruction path, where the backbone
    output feeds the diffusion prior). With the defaults (1, 0) it is the contrastive loss alone.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_voxels)
        Standardised voxel patterns (one row per trial or repeat).
    T : ndarray of shape (n_samples, embed_dim)
        The image embedding each row was evoked by (rows of one stimulus repeat across its trials).
    cfg : TrainConfig
    seed : int
        Seeds the weight initialisation, the batches, MixCo and dropout; the global torch random state is
        saved and restored around training.

    Returns
    -------
    BrainMLP in eval mode.
    """
    Xt = torch.as_tensor(X, dtype=torch.float32)
    Tt = torch.as_tensor(T, dtype=torch.float32)
    n = len(Xt)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        gen = torch.Generator().manual_seed(int(seed) + 1)
        model = BrainMLP(Xt.shape[1], Tt.shape[1], cfg.hidden, cfg.n_blocks, cfg.dropout)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        steps_per_epoch = max(1, int(np.ceil(n / cfg.batch_size)))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch)
        beta = torch.distributions.Beta(cfg.mixco_beta, cfg.mixco_beta)
        n_mixco = int(round(cfg.mixco_fraction * cfg.epochs))
        model.train()
        for epoch in range(cfg.epochs):
            order = torch.randperm(n, generator=gen)
            for s in range(steps_per_epoch):
                idx = order[s * cfg.batch_size:(s + 1) * cfg.batch_size]
                if len(idx) < 2:
                    continue
                xb, tb = Xt[idx], Tt[idx]
                if epoch < n_mixco:
                    lam = beta.sample((len(idx),)).clamp(0.0, 1.0)
                    perm = torch.randperm(len(idx), generator=gen)
                    xb = lam[:, None] * xb + (1.0 - lam[:, None]) * xb[perm]
                    back, proj = model(xb)
                    loss = mixco_nce(proj, tb, cfg.temperature, lam, perm)
                    if cfg.regression_weight > 0:   # the mixed input's target is the same mixture of targets
                        tb = lam[:, None] * tb + (1.0 - lam[:, None]) * tb[perm]
                else:
                    back, proj = model(xb)
                    loss = info_nce(proj, tb, cfg.temperature)
                if cfg.contrastive_weight != 1.0:
                    loss = cfg.contrastive_weight * loss
                if cfg.regression_weight > 0:
                    loss = loss + cfg.regression_weight * F.mse_loss(back, tb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        model.eval()
    return model


@torch.no_grad()
def embed(model: BrainMLP, X: np.ndarray) -> np.ndarray:
    """Projected brain embeddings of ``X`` (eval mode), as float64."""
    _, proj = model(torch.as_tensor(X, dtype=torch.float32))
    return proj.double().numpy()


@torch.no_grad()
def backbone_output(model: BrainMLP, X: np.ndarray) -> np.ndarray:
    """Backbone outputs of ``X`` (eval mode, before the projector), as float64: the regression prediction."""
    return model.backbone(torch.as_tensor(X, dtype=torch.float32)).double().numpy()


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity between every row of ``a`` and every row of ``b``."""
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    return (a / na) @ (b / nb).T


def retrieval_ranks(sim: np.ndarray) -> np.ndarray:
    """Rank (0 = best) of every candidate column for every query row of a similarity matrix.

    Ties count against the query: a candidate tied with others gets the worst rank among them, so a constant
    similarity matrix retrieves nothing (no credit for ties).
    """
    # rank[i, j] = number of candidates k != j with sim[i, k] >= sim[i, j]
    return (sim[:, None, :] >= sim[:, :, None]).sum(-1) - 1


def topk_accuracy(ranks: np.ndarray, k: int, truth: np.ndarray | None = None) -> float:
    """Fraction of queries whose true candidate (``truth[i]``, default ``i``) has rank < ``k``."""
    n = ranks.shape[0]
    truth = np.arange(n) if truth is None else truth
    return float(np.mean(ranks[np.arange(n), truth] < k))


def permutation_topk(rank_blocks: list[np.ndarray], k: int, n_permutations: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Null distribution of pooled top-``k`` accuracy: the query-candidate pairing is permuted within each block.

    Parameters
    ----------
    rank_blocks : list of ndarray (n_f, n_f)
        Rank matrices of the folds (queries x candidates).
    k : int
    n_permutations : int
    rng : numpy Generator

    Returns
    -------
    ndarray of shape (n_permutations,)
    """
    hits = np.zeros(n_permutations)
    total = 0
    for ranks in rank_blocks:
        n = ranks.shape[0]
        perms = rng.permuted(np.broadcast_to(np.arange(n), (n_permutations, n)), axis=-1)
        hits += (ranks[np.arange(n)[None, :], perms] < k).sum(-1)
        total += n
    return hits / total
