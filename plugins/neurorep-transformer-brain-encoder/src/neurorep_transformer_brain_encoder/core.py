"""Numerics: spatial tokens, the attention-routing encoder, the factorised receptive-field encoder, training.

Everything is plain torch on the CPU, full-batch AdamW, float64, with every random draw taken from a
``torch.Generator`` seeded by the caller (no global random state is read or changed).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurorep.errors import InvalidInputError

from ._meta import CITATION, FACTORIZED_CITATION  # noqa: F401  (torch-free constants, re-exported)


def to_tokens(X: np.ndarray, grid: list[int], layout: str, owner: str,
              descriptors: dict | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """(n_stimuli, positions*channels) features -> (n_stimuli, n_tokens, n_channels) tokens and the (h, w) grid.

    ``grid = [h, w]``: the features are a flattened (C, h, w) map (``layout="chw"``, torch's order) or a
    flattened (h, w, C) map (``layout="hwc"``). ``grid = []``: the channel descriptors ``"row"`` and
    ``"col"`` of ``x`` (one integer per feature) give each feature's position; without them all features
    form one token (the encoder then has nothing to route and is a learned linear readout).
    """
    n, f = X.shape
    if layout not in ("chw", "hwc"):
        raise InvalidInputError(f"{owner}: 'layout' must be 'chw' or 'hwc', got {layout!r}.")
    if grid:
        if len(grid) != 2 or any(isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < 1 for g in grid):
            raise InvalidInputError(f"{owner}: 'grid' must be [h, w] with two positive integers, got {grid!r}.")
        h, w = int(grid[0]), int(grid[1])
        if f % (h * w):
            raise InvalidInputError(f"{owner}: x has {f} features, not a multiple of the grid's {h}x{w}={h * w} "
                                    "positions; give grid=[h, w] of x's spatial maps (features = channels*h*w).")
        c = f // (h * w)
        if layout == "chw":
            T = X.reshape(n, c, h * w).transpose(0, 2, 1)
        else:
            T = X.reshape(n, h * w, c)
        return np.ascontiguousarray(T), (h, w)
    d = descriptors or {}
    if "row" in d and "col" in d:
        rows = np.asarray(d["row"]).astype(int)
        cols = np.asarray(d["col"]).astype(int)
        h, w = int(rows.max()) + 1, int(cols.max()) + 1
        pos = rows * w + cols
        counts = np.bincount(pos, minlength=h * w)
        if rows.min() < 0 or cols.min() < 0 or np.any(counts != counts[0]) or counts[0] == 0:
            raise InvalidInputError(f"{owner}: x's 'row'/'col' channel descriptors must cover an h x w grid with the "
                                    f"same number of channels at every position; got counts {np.unique(counts)}.")
        order = np.argsort(pos, kind="stable")
        return np.ascontiguousarray(X[:, order].reshape(n, h * w, counts[0])), (h, w)
    return X[:, None, :].copy(), (1, 1)


def _standardise(train: np.ndarray, *others: np.ndarray, axis=0):
    mu = train.mean(axis=axis, keepdims=True)
    sd = train.std(axis=axis, keepdims=True)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return [(a - mu) / sd for a in (train, *others)], mu, sd


class AttentionEncoder(torch.nn.Module):
    """One cross-attention layer: learned per-ROI queries attend over embedded spatial tokens.

    ``e_t = x_t W_e + p_t`` (content embedding plus a learned embedding of the token's position),
    keys ``k_t = e_t W_k``, values ``v_t = e_t W_v``; for ROI ``q``,
    ``a_{q,t} = softmax_t(q . k_t / sqrt(d))``, routed features ``r_q = sum_t a_{q,t} v_t`` and each
    voxel ``v`` of ROI ``q`` reads out ``y_v = r_q . w_v + b_v``.
    """

    def __init__(self, n_tokens: int, n_channels: int, d: int, roi_index: np.ndarray, n_rois: int,
                 gen: torch.Generator):
        super().__init__()

        def p(*shape, scale):
            return torch.nn.Parameter(torch.randn(*shape, generator=gen, dtype=torch.float64) * scale)

        self.W_e = p(n_channels, d, scale=1 / math.sqrt(n_channels))
        self.pos = p(n_tokens, d, scale=0.1)
        self.W_k = p(d, d, scale=1 / math.sqrt(d))
        self.W_v = p(d, d, scale=1 / math.sqrt(d))
        self.queries = p(n_rois, d, scale=1.0)
        nv = len(roi_index)
        self.w_out = p(nv, d, scale=1 / math.sqrt(d))
        self.b_out = torch.nn.Parameter(torch.zeros(nv, dtype=torch.float64))
        self.register_buffer("roi_index", torch.as_tensor(roi_index, dtype=torch.long))
        self.d = d

    def attention(self, T: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = T @ self.W_e + self.pos                      # (n, T, d)
        k, v = e @ self.W_k, e @ self.W_v
        logits = torch.einsum("qd,ntd->nqt", self.queries, k) / math.sqrt(self.d)
        a = torch.softmax(logits, dim=-1)                # (n, Q, T)
        return a, torch.einsum("nqt,ntd->nqd", a, v)

    def forward(self, T: torch.Tensor) -> torch.Tensor:
        _, r = self.attention(T)
        r_vox = r[:, self.roi_index, :]                 # (n, V, d)
        return (r_vox * self.w_out).sum(-1) + self.b_out


def _ridge_batched(A: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-voxel ridge with intercept: A (V, n, p), y (n, V) -> weights (V, p), intercepts (V,)."""
    am = A.mean(1, keepdims=True)
    ym = y.mean(0)
    Ac = A - am
    G = np.einsum("vnp,vnq->vpq", Ac, Ac) + alpha * np.eye(A.shape[2])[None]
    b = np.einsum("vnp,nv->vp", Ac, y - ym)
    w = np.linalg.solve(G, b[..., None])[..., 0]
    return w, ym - np.einsum("vp,vp->v", am[:, 0], w)


class FactorizedRF:
    """Per voxel a spatial mask ``s_v`` (over positions) and feature weights ``w_v`` (over channels):
    ``y_v = sum_t s_{v,t} (x_t . w_v) + b_v`` (Klindt et al. 2017; St-Yves & Naselaris 2018).

    Fitted by alternating ridge regressions (the model is linear in ``w_v`` for fixed ``s_v`` and
    in ``s_v`` for fixed ``w_v``), starting from a uniform mask; deterministic.
    """

    def __init__(self, alpha: float, n_iter: int):
        self.alpha, self.n_iter = alpha, n_iter

    def fit(self, T: np.ndarray, Y: np.ndarray) -> FactorizedRF:
        n, nt, nc = T.shape
        nv = Y.shape[1]
        s = np.full((nv, nt), 1.0 / nt)
        for _ in range(self.n_iter):
            P = np.einsum("ntc,vt->vnc", T, s)
            w, _ = _ridge_batched(P, Y, self.alpha)
            Z = np.einsum("ntc,vc->vnt", T, w)
            s, b = _ridge_batched(Z, Y, self.alpha)
        self.mask, self.feat, self.b = s, w, b
        return self

    def predict(self, T: np.ndarray) -> np.ndarray:
        return np.einsum("ntc,vt,vc->nv", T, self.mask, self.feat) + self.b


def train(model: torch.nn.Module, T: np.ndarray, Y: np.ndarray, *, n_epochs: int, lr: float, weight_decay: float,
          l1: float = 0.0, l1_param: str | None = None) -> torch.nn.Module:
    """Full-batch AdamW on the mean squared error (plus an optional L1 penalty on one parameter)."""
    Tt = torch.as_tensor(T, dtype=torch.float64)
    Yt = torch.as_tensor(Y, dtype=torch.float64)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(n_epochs):
        opt.zero_grad()
        loss = torch.mean((model(Tt) - Yt) ** 2)
        if l1 > 0 and l1_param is not None:
            loss = loss + l1 * getattr(model, l1_param).abs().mean()
        loss.backward()
        opt.step()
    return model


def cross_validated(build, T: np.ndarray, Y: np.ndarray, folds, *, seed: int, train_kw: dict):
    """Held-out predictions for every stimulus; ``build(gen, n_tokens, n_channels)`` makes a fresh model per fold.

    Tokens are standardised per channel and targets per column with training-fold statistics only.
    Returns (predictions, list of (test indices, fitted model, standardised test tokens)).
    """
    pred = np.empty(Y.shape, dtype=float)
    fitted = []
    for i, (tr, te) in enumerate(folds):
        (Ttr, Tte), _, _ = _standardise(T[tr], T[te], axis=(0, 1))
        (Ytr,), ymu, ysd = _standardise(Y[tr])
        gen = torch.Generator().manual_seed(int(seed) * 1000 + i)
        model = build(gen, T.shape[1], T.shape[2])
        train(model, Ttr, Ytr, **train_kw)
        with torch.no_grad():
            p = model(torch.as_tensor(Tte, dtype=torch.float64)).numpy()
        pred[te] = p * ysd + ymu
        fitted.append((te, model, Tte))
    return pred, fitted
