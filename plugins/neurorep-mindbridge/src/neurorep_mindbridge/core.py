"""Numerical core of MindBridge: voxel aggregation, the cross-subject network, training, reset-tuning, retrieval.

The network follows the layout of Wang et al. (2024): a subject-specific *embedder* after a fixed
aggregation function (adaptive pooling over voxels, so every subject's fMRI reaches one common size), a
shared *encoder* to a subject-invariant latent, a shared *decoder* and a subject-specific *builder* back to
that subject's aggregated fMRI, and a shared head into the image-embedding space. Training combines

* a decoding loss (mean squared error plus a symmetric InfoNCE term) between the head's output and the
  image embedding of the stimulus,
* reconstruction of the subject's own aggregated fMRI, and
* cyclic fMRI reconstruction: subject ``a``'s latent is built as a *novel* fMRI pattern of another subject
  ``b``, re-encoded with ``b``'s embedder, and must give back the same latent and, built as ``a`` again,
  ``a``'s fMRI.

Reset-tuning (:meth:`MindBridge.reset_tune`) adapts a trained model to a new subject from little data: the
new subject gets freshly initialised embedder and builder, trained with the shared layers kept (frozen by
default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import numpy as np
import torch
from neurorep.errors import InvalidInputError
from torch import nn
from torch.nn import functional as F

__all__ = ["CITATION", "POOLINGS", "TrainConfig", "aggregate", "MindBridgeNet", "MindBridge", "cosine_matrix",
           "top1_accuracy", "with_epochs"]

from ._meta import CITATION, POOLINGS  # noqa: F401  (torch-free constants, re-exported)



def aggregate(X: np.ndarray | torch.Tensor, size: int, pooling: str = "max") -> torch.Tensor:
    """Aggregate voxels to a common size with adaptive 1D pooling (MindBridge's aggregation function).

    Parameters
    ----------
    X : array of shape (n_samples, n_voxels)
        Voxels in their native (e.g. spatial) order; adjacent voxels are pooled together.
    size : int
        Output size. Window ``i`` covers voxels ``floor(i n / size)`` to ``ceil((i + 1) n / size)``.
    pooling : {"max", "avg"}
        Max pooling (the paper's choice, motivated by the sparse, strong responses of fMRI) or mean pooling.

    Returns
    -------
    torch.Tensor of shape (n_samples, size)
    """
    t = torch.as_tensor(X, dtype=torch.float32)
    if t.ndim != 2:
        raise InvalidInputError(f"MindBridge aggregate: expected (n_samples, n_voxels), got shape {tuple(t.shape)}.")
    if pooling == "max":
        return F.adaptive_max_pool1d(t[:, None, :], int(size))[:, 0, :]
    if pooling == "avg":
        return F.adaptive_avg_pool1d(t[:, None, :], int(size))[:, 0, :]
    raise InvalidInputError(f"MindBridge aggregate: pooling must be one of {list(POOLINGS)}, got {pooling!r}.")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :class:`MindBridge` (see :class:`~neurorep_mindbridge.MindBridgeCrossSubject`)."""

    pool_size: int = 64
    pooling: str = "max"
    hidden: int = 128
    latent: int = 64
    dropout: float = 0.1
    epochs: int = 150
    lr: float = 3e-3
    weight_decay: float = 1e-2
    batch_size: int = 32
    temperature: float = 0.1
    contrastive_weight: float = 1.0
    recon_weight: float = 1.0
    cycle_weight: float = 1.0


class MindBridgeNet(nn.Module):
    """Embedders and builders per subject; shared encoder, decoder and head."""

    def __init__(self, n_subjects: int, cfg: TrainConfig, out_dim: int):
        super().__init__()
        self.cfg = cfg
        self.embedders = nn.ModuleList([self._embedder() for _ in range(n_subjects)])
        self.builders = nn.ModuleList([self._builder() for _ in range(n_subjects)])
        self.encoder = nn.Sequential(nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, cfg.hidden),
                                     nn.GELU(), nn.Linear(cfg.hidden, cfg.latent))
        self.decoder = nn.Sequential(nn.Linear(cfg.latent, cfg.hidden), nn.GELU())
        self.head = nn.Linear(cfg.latent, out_dim)

    def _embedder(self) -> nn.Module:
        return nn.Linear(self.cfg.pool_size, self.cfg.hidden)

    def _builder(self) -> nn.Module:
        return nn.Linear(self.cfg.hidden, self.cfg.pool_size)

    def add_subject(self) -> int:
        """Append a freshly initialised embedder and builder; return the new subject's index."""
        self.embedders.append(self._embedder())
        self.builders.append(self._builder())
        return len(self.embedders) - 1

    def encode(self, x: torch.Tensor, s: int) -> torch.Tensor:
        return self.encoder(self.embedders[s](x))

    def build(self, z: torch.Tensor, s: int) -> torch.Tensor:
        return self.builders[s](self.decoder(z))


def _info_nce(pred: torch.Tensor, target: torch.Tensor, temperature: float) -> torch.Tensor:
    logits = F.normalize(pred, dim=1) @ F.normalize(target, dim=1).T / temperature
    labels = torch.arange(len(pred))
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


class MindBridge:
    """One decoder for several subjects whose voxel counts differ.

    Parameters
    ----------
    cfg : TrainConfig
    seed : int
        Seeds initialisation, dropout and batch order.

    Notes
    -----
    Voxels are z-scored per subject with its training statistics, then aggregated to ``cfg.pool_size``.
    Image embeddings are centred and scaled with the training statistics pooled over subjects.
    """

    def __init__(self, cfg: TrainConfig, seed: int = 0):
        self.cfg = cfg
        self.seed = int(seed)
        self.net: MindBridgeNet | None = None
        self._stats: list[tuple[np.ndarray, np.ndarray]] = []
        self._tstat: tuple[np.ndarray, float] | None = None

    # ------------------------------------------------------------------ preprocessing
    def _prep_x(self, X: np.ndarray, s: int) -> torch.Tensor:
        mu, sd = self._stats[s]
        if X.shape[1] != mu.shape[0]:
            raise InvalidInputError(f"MindBridge: subject {s} was fitted with {mu.shape[0]} voxels, got "
                                    f"{X.shape[1]}.")
        return aggregate((np.asarray(X, float) - mu) / sd, self.cfg.pool_size, self.cfg.pooling)

    def _prep_t(self, T: np.ndarray) -> torch.Tensor:
        mu, sd = self._tstat
        return torch.as_tensor((np.asarray(T, float) - mu) / sd, dtype=torch.float32)

    def _add_stats(self, X: np.ndarray) -> None:
        X = np.asarray(X, float)
        mu, sd = X.mean(0), X.std(0)
        sd[sd == 0] = 1.0
        self._stats.append((mu, sd))

    # ------------------------------------------------------------------ training
    def fit(self, Xs: list[np.ndarray], Ts: list[np.ndarray]) -> MindBridge:
        """Train one model on every subject. ``Xs[s]`` (n_s x voxels_s) pairs with ``Ts[s]`` (n_s x dims)."""
        if len(Xs) != len(Ts) or not Xs:
            raise InvalidInputError(f"MindBridge.fit: expected one target array per subject, got {len(Xs)} "
                                    f"subjects and {len(Ts)} target arrays.")
        torch.manual_seed(self.seed)
        self._stats = []
        for X in Xs:
            self._add_stats(X)
        Tall = np.concatenate([np.asarray(T, float) for T in Ts])
        self._tstat = (Tall.mean(0), float(Tall.std()) or 1.0)
        self.net = MindBridgeNet(len(Xs), self.cfg, Tall.shape[1])
        xs = [self._prep_x(X, s) for s, X in enumerate(Xs)]
        ts = [self._prep_t(T) for T in Ts]
        self._train(list(range(len(Xs))), xs, ts, self.net.parameters(), self.cfg.epochs, self.cfg.lr)
        return self

    def _train(self, subjects: list[int], xs: list[torch.Tensor], ts: list[torch.Tensor], params,
               epochs: int, lr: float, cycle_partners: list[int] | None = None) -> None:
        cfg, net = self.cfg, self.net
        gen = torch.Generator().manual_seed(self.seed + 17 * len(net.embedders))
        opt = torch.optim.AdamW([p for p in params if p.requires_grad], lr=lr, weight_decay=cfg.weight_decay)
        n_max = max(len(x) for x in xs)
        steps_per_epoch = max(1, int(np.ceil(n_max / cfg.batch_size)))
        total = epochs * steps_per_epoch
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.1)
        partners = subjects if cycle_partners is None else cycle_partners
        net.train()
        for _ in range(total):
            loss = torch.zeros(())
            for i, s in enumerate(subjects):
                x, t = xs[i], ts[i]
                b = min(cfg.batch_size, len(x))
                idx = torch.randperm(len(x), generator=gen)[:b]
                xb, tb = x[idx], t[idx]
                z = net.encode(xb, s)
                pred = net.head(z)
                loss = loss + F.mse_loss(pred, tb)
                if cfg.contrastive_weight > 0 and b > 1:
                    loss = loss + cfg.contrastive_weight * _info_nce(pred, tb, cfg.temperature)
                if cfg.recon_weight > 0:
                    loss = loss + cfg.recon_weight * F.mse_loss(net.build(z, s), xb)
                others = [p for p in partners if p != s]
                if cfg.cycle_weight > 0 and others:
                    o = others[int(torch.randint(len(others), (1,), generator=gen))]
                    x_novel = net.build(z, o)              # novel fMRI of subject o for this stimulus
                    z_cyc = net.encode(x_novel, o)
                    loss = loss + cfg.cycle_weight * (F.mse_loss(z_cyc, z.detach())
                                                      + F.mse_loss(net.build(z_cyc, s), xb)
                                                      + F.mse_loss(net.head(z_cyc), tb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()

    def reset_tune(self, X: np.ndarray, T: np.ndarray, epochs: int | None = None, lr: float | None = None,
                   freeze_shared: bool = True) -> int:
        """Adapt the trained model to a new subject; return its subject index.

        The new subject gets a freshly initialised (reset) embedder and builder; they are trained on ``X``
        (n x voxels) and ``T`` (n x dims) with the decoding, reconstruction and cycle losses (the cycle goes
        through the trained subjects' builders). With ``freeze_shared`` the shared encoder, decoder and head,
        and the other subjects' layers, stay fixed; otherwise every parameter is fine-tuned.
        """
        if self.net is None:
            raise InvalidInputError("MindBridge.reset_tune: fit the model on the training subjects first.")
        torch.manual_seed(self.seed + 1)
        n_old = len(self.net.embedders)
        s = self.net.add_subject()
        self._add_stats(X)
        for p in self.net.parameters():
            p.requires_grad_(not freeze_shared)
        for p in list(self.net.embedders[s].parameters()) + list(self.net.builders[s].parameters()):
            p.requires_grad_(True)
        self._train([s], [self._prep_x(X, s)], [self._prep_t(T)], list(self.net.parameters()),
                    self.cfg.epochs if epochs is None else int(epochs), self.cfg.lr if lr is None else float(lr),
                    cycle_partners=list(range(n_old)) + [s])
        for p in self.net.parameters():
            p.requires_grad_(True)
        return s

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def predict(self, X: np.ndarray, s: int) -> np.ndarray:
        """Predicted (standardised) image embeddings of subject ``s``'s fMRI ``X``."""
        self.net.eval()
        return self.net.head(self.net.encode(self._prep_x(X, s), s)).numpy().astype(float)

    @torch.no_grad()
    def latent(self, X: np.ndarray, s: int) -> np.ndarray:
        """The subject-invariant latent of subject ``s``'s fMRI ``X``."""
        self.net.eval()
        return self.net.encode(self._prep_x(X, s), s).numpy().astype(float)

    @torch.no_grad()
    def synthesize(self, X: np.ndarray, source: int, target: int) -> np.ndarray:
        """Novel aggregated fMRI of subject ``target`` built from subject ``source``'s fMRI (cycle half-step)."""
        self.net.eval()
        return self.net.build(self.net.encode(self._prep_x(X, source), source), target).numpy().astype(float)

    def targets(self, T: np.ndarray) -> np.ndarray:
        """Image embeddings standardised as in training (the retrieval candidates)."""
        return self._prep_t(T).numpy().astype(float)


def cosine_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``A`` with every row of ``B``."""
    a = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)
    b = B / np.maximum(np.linalg.norm(B, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def top1_accuracy(sim: np.ndarray) -> float:
    """Fraction of queries (rows) whose own candidate (the diagonal) has the highest similarity; ties count
    as misses unless the own candidate is alone at the top."""
    own = np.diag(sim)
    best_other = np.where(np.eye(len(sim), dtype=bool), -np.inf, sim).max(1)
    return float(np.mean(own > best_other))


def with_epochs(cfg: TrainConfig, epochs: int) -> TrainConfig:
    """A copy of ``cfg`` with another number of epochs."""
    return replace(cfg, epochs=int(epochs))

