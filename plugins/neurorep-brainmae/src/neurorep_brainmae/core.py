"""The torch side of BrainMAE: the network, its pre-training loop and inference helpers.

Imported on first use only (loading the plugin must not import torch).

Architecture (a small version of Yang et al., 2024, Sec. 3):

* each ROI's standardised series is cut into segments of ``segment_length`` samples: token ``(i, k)`` is the
  segment ``k`` of ROI ``i``;
* every ROI has a learnable embedding ``e_i`` (optionally plus a linear map of its coordinates);
* **region-aware graph attention**: the attention between ROIs is computed from the ROI embeddings alone,
  ``A_ij = softmax_j((W_q e_i) . (W_k e_j) / sqrt(d))`` over ``j != i`` (no self-loops) and over the ROIs whose
  segment is visible; token ``(i, k)`` receives ``sum_j A_ij W_v x_j^k``, the graph-weighted signal of the other
  ROIs in the same segment. ``A`` is one static matrix: the interpretable ROI graph;
* the token adds its own segment (``W_o x_i^k``; a learned mask token when hidden), ``e_i`` and a sinusoidal
  position of segment ``k``; a small transformer then mixes each ROI's tokens over time (the temporal encoder);
* a linear head maps each token back to its ``segment_length`` samples;
* pre-training hides a fraction of the ROIs in every segment and minimises
  ``lambda * MSE(hidden) + (1 - lambda) * MSE(visible)`` (the paper uses lambda = 0.75).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .synthetic import token_mask

__all__ = ["BrainMAENet", "TrainConfig", "train", "encode", "reconstruct"]


def _sinusoid(n: int, d: int) -> torch.Tensor:
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: d // 2])
    return pe


class BrainMAENet(nn.Module):
    """Region-aware graph attention over ROIs, a temporal transformer over segments and a linear decoder.

    Parameters
    ----------
    n_rois : int
    segment_length : int
    d_model : int
    n_heads : int
        Heads of the temporal transformer (``d_model`` must be a multiple).
    n_layers : int
        Layers of the temporal transformer.
    coords : ndarray of shape (n_rois, 3), optional
        ROI coordinates; when given, ``e_i = learnable_i + Linear(standardised coords_i)``.
    """

    def __init__(self, n_rois: int, segment_length: int, d_model: int = 32, n_heads: int = 2, n_layers: int = 1,
                 coords: np.ndarray | None = None):
        super().__init__()
        self.n_rois, self.segment_length, self.d_model = int(n_rois), int(segment_length), int(d_model)
        self.roi_embed = nn.Parameter(torch.randn(self.n_rois, self.d_model) / math.sqrt(self.d_model))
        if coords is not None:
            c = np.asarray(coords, dtype=np.float32)
            c = (c - c.mean(0)) / (c.std(0) + 1e-6)
            self.register_buffer("coords", torch.from_numpy(c))
            self.coord_proj = nn.Linear(3, self.d_model)
        else:
            self.coords = None
            self.coord_proj = None
        self.query = nn.Linear(self.d_model, self.d_model, bias=False)
        self.key = nn.Linear(self.d_model, self.d_model, bias=False)
        self.value = nn.Linear(self.segment_length, self.d_model)
        self.own = nn.Linear(self.segment_length, self.d_model)
        self.mask_token = nn.Parameter(torch.zeros(self.d_model))
        self.norm = nn.LayerNorm(self.d_model)
        layer = nn.TransformerEncoderLayer(self.d_model, int(n_heads), dim_feedforward=2 * self.d_model, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.temporal = nn.TransformerEncoder(layer, int(n_layers), enable_nested_tensor=False)
        self.head = nn.Linear(self.d_model, self.segment_length)

    def roi_embeddings(self) -> torch.Tensor:
        """The ROI embeddings ``(n_rois, d_model)``."""
        e = self.roi_embed
        if self.coord_proj is not None:
            e = e + self.coord_proj(self.coords)
        return e

    def attention_logits(self) -> torch.Tensor:
        """``(W_q e_i) . (W_k e_j) / sqrt(d)``, shape ``(n_rois, n_rois)``."""
        e = self.roi_embeddings()
        return self.query(e) @ self.key(e).T / math.sqrt(self.d_model)

    def attention(self, visible: torch.Tensor | None = None) -> torch.Tensor:
        """The region-aware graph attention.

        Parameters
        ----------
        visible : bool tensor of shape (B, n_rois, K), optional
            Visible tokens; hidden ROIs are left out of the keys of their segment.

        Returns
        -------
        Tensor of shape (n_rois, n_rois) without ``visible``, else (B, K, n_rois, n_rois); rows sum to 1 over
        the allowed keys (no self-loops), or to 0 when no key is allowed.
        """
        logits = self.attention_logits()
        off = ~torch.eye(self.n_rois, dtype=torch.bool, device=logits.device)
        w = torch.exp(logits - logits.max(dim=1, keepdim=True).values) * off
        if visible is not None:
            w = w[None, None] * visible.permute(0, 2, 1)[:, :, None, :].to(w.dtype)
        return w / w.sum(dim=-1, keepdim=True).clamp_min(1e-12)

    def encode(self, patches: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """Tokens ``(B, n_rois, K, d_model)`` from patches ``(B, n_rois, K, segment_length)`` and the visible mask."""
        b, r, k, _ = patches.shape
        vis = visible[..., None].to(patches.dtype)
        a = self.attention(visible)                                   # (B, K, R, R)
        v = self.value(patches) * vis                                 # (B, R, K, d)
        graph = torch.einsum("bkij,bjkd->bikd", a, v)
        own = torch.where(visible[..., None], self.own(patches), self.mask_token.expand(b, r, k, self.d_model))
        pe = _sinusoid(k, self.d_model).to(patches.device)
        z = self.norm(own + graph + self.roi_embeddings()[None, :, None, :] + pe[None, None])
        z = self.temporal(z.reshape(b * r, k, self.d_model)).reshape(b, r, k, self.d_model)
        return z

    def forward(self, patches: torch.Tensor, visible: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(reconstruction (B, R, K, segment_length), tokens (B, R, K, d_model))``."""
        z = self.encode(patches, visible)
        return self.head(z), z


@dataclass
class TrainConfig:
    """Pre-training settings (see :class:`neurorep_brainmae.BrainMAEPretrain` for their meaning)."""

    segment_length: int = 8
    d_model: int = 32
    n_heads: int = 2
    n_layers: int = 1
    mask_ratio: float = 0.5
    masked_weight: float = 0.75
    window_segments: int = 8
    batch_size: int = 8
    n_steps: int = 300
    lr: float = 3e-3
    weight_decay: float = 1e-4


def to_patches(x: np.ndarray, segment_length: int) -> np.ndarray:
    """``(n_timepoints, n_rois)`` with ``n_timepoints = K * segment_length`` -> ``(n_rois, K, segment_length)``."""
    t, r = x.shape
    k = t // segment_length
    return np.ascontiguousarray(x[: k * segment_length].T.reshape(r, k, segment_length))


def from_patches(p: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_patches`: ``(n_rois, K, segment_length)`` -> ``(K * segment_length, n_rois)``."""
    r, k, s = p.shape
    return np.ascontiguousarray(p.reshape(r, k * s).T)


def train(series: list[np.ndarray], cfg: TrainConfig, random_state: int, coords: np.ndarray | None = None
          ) -> tuple[BrainMAENet, list[float]]:
    """Pre-train a :class:`BrainMAENet` by masked-segment reconstruction.

    Parameters
    ----------
    series : list of ndarray of shape (n_timepoints, n_rois)
        Standardised scans (lengths may differ; each holds at least one segment).
    cfg : TrainConfig
    random_state : int
        Seeds the initialisation, the crops and the masks (the global torch and numpy states are not touched).
    coords : ndarray of shape (n_rois, 3), optional

    Returns
    -------
    (net in eval mode, loss per step)

    Notes
    -----
    The network is tiny (thousands of parameters); torch's intra-op threads only add overhead to it, and on a
    shared CPU they slow it down many times. Training runs on one thread; the caller's setting is restored.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(series, cfg, random_state, coords)
    finally:
        torch.set_num_threads(threads)


def _train(series: list[np.ndarray], cfg: TrainConfig, random_state: int, coords: np.ndarray | None
           ) -> tuple[BrainMAENet, list[float]]:
    s = cfg.segment_length
    r = series[0].shape[1]
    rng = np.random.default_rng([int(random_state), 7])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(random_state))
        net = BrainMAENet(r, s, cfg.d_model, cfg.n_heads, cfg.n_layers, coords=coords)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    # every crop has the same number of segments: the shortest scan's, capped at window_segments
    k = int(min(cfg.window_segments, min(x.shape[0] // s for x in series)))
    lam = float(cfg.masked_weight)
    losses: list[float] = []
    net.train()
    for _ in range(int(cfg.n_steps)):
        which = rng.integers(len(series), size=int(cfg.batch_size))
        batch = []
        for w in which:
            x = series[int(w)]
            start = int(rng.integers(x.shape[0] - k * s + 1))
            batch.append(to_patches(x[start:start + k * s], s))
        patches = torch.from_numpy(np.stack(batch).astype(np.float32))
        hidden = np.stack([token_mask(r, k, cfg.mask_ratio, rng) for _ in which])
        hid = torch.from_numpy(hidden)
        recon, _ = net(patches, ~hid)
        err = ((recon - patches) ** 2).mean(dim=-1)                  # (B, R, K)
        hf = hid.to(err.dtype)
        loss = lam * (err * hf).sum() / hf.sum() + (1 - lam) * (err * (1 - hf)).sum() / (1 - hf).sum().clamp_min(1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    net.eval()
    return net, losses


@torch.no_grad()
def encode(net: BrainMAENet, x: np.ndarray, hidden: np.ndarray | None = None) -> np.ndarray:
    """Tokens ``(n_rois, K, d_model)`` of a standardised scan ``(K * segment_length, n_rois)``."""
    p = torch.from_numpy(to_patches(np.asarray(x, np.float32), net.segment_length))[None]
    vis = torch.ones(p.shape[:3], dtype=torch.bool) if hidden is None else torch.from_numpy(~np.asarray(hidden))[None]
    return net.encode(p, vis)[0].numpy().astype(float)


@torch.no_grad()
def reconstruct(net: BrainMAENet, x: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The network's reconstruction ``(K * segment_length, n_rois)`` of a standardised scan with hidden tokens
    ``hidden`` (bool, ``(n_rois, K)``)."""
    p = torch.from_numpy(to_patches(np.asarray(x, np.float32), net.segment_length))[None]
    vis = torch.from_numpy(~np.asarray(hidden, dtype=bool))[None]
    recon, _ = net(p, vis)
    return from_patches(recon[0].numpy().astype(float))


@torch.no_grad()
def attention_matrix(net: BrainMAENet) -> np.ndarray:
    """The static ROI attention ``(n_rois, n_rois)`` (rows sum to 1, zero diagonal)."""
    return net.attention().numpy().astype(float)


@torch.no_grad()
def roi_embedding_matrix(net: BrainMAENet) -> np.ndarray:
    """The ROI embeddings ``(n_rois, d_model)``."""
    return net.roi_embeddings().numpy().astype(float)
