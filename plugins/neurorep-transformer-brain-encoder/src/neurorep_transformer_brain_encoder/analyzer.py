"""The two encoding analyzers: ``encoding.transformer`` and ``encoding.factorized-rf``."""

from __future__ import annotations

from typing import Literal

import numpy as np

from neurorep.components import Analyzer, Tags
from neurorep.encoding.ridge import kfold_indices
from neurorep.encoding.scoring import pearson_per_target, r2_per_target
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, Result, align

from ._meta import CITATION, FACTORIZED_CITATION


class _LazyCore:
    """The torch-backed numerics (``core``), imported on first use: loading the plugin must not import torch."""

    def __getattr__(self, name):
        from . import core

        return getattr(core, name)


_core = _LazyCore()

_ALIGN = Literal["strict", "reorder", "intersection"]

_COMMON_DOC = """\
grid : list of int, default=[]
    ``[h, w]`` of ``x``'s spatial maps: ``x``'s features are ``channels * h * w`` values per
    stimulus, flattened in ``layout`` order. Empty: use ``x``'s channel descriptors ``"row"`` and
    ``"col"`` (an integer position per feature); without them all features form one token.
layout : {"chw", "hwc"}, default="chw"
    Order of the flattened features: ``"chw"`` (channel-major, as torch flattens a (C, h, w) map)
    or ``"hwc"`` (position-major).
outer_cv : int, default=5
    Outer K-fold split; every stimulus is predicted by a model fit without it.
random_state : int, default=0
    Seed of the folds and the weight initialisations.
align : {"strict", "reorder", "intersection"}, default="reorder"
    How the two inputs' stimulus ids are matched (see :func:`neurorep.align`)."""


def _prepare(self, x, y):
    owner = f"Analyzer {self.id!r}"
    if y is None:
        raise InvalidInputError(f"{owner}: expected two inputs (x: spatial model features, y: voxel responses), "
                                "got one.")
    for side, v in (("x", x), ("y", y)):
        if not isinstance(v, Representation):
            raise InvalidInputError(f"{owner}: expected a Representation (stimuli x features) as {side}, got "
                                    f"{type(v).__name__}; encoding models need response patterns, not RDMs.")
    try:
        x, y = x.check_finite(), y.check_finite()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{owner}: {exc}") from exc
    for name, lo in (("outer_cv", 2), ("n_epochs", 1), ("n_iter", 1)):
        v = getattr(self, name, lo)
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InvalidInputError(f"{owner}: {name!r} must be an integer >= {lo}, got {v!r}.")
    if hasattr(self, "lr") and (not self.lr > 0 or self.weight_decay < 0):
        raise InvalidInputError(f"{owner}: need lr > 0 and weight_decay >= 0, got lr={self.lr!r}, "
                                f"weight_decay={self.weight_decay!r}.")
    x, y = align(x, y, how=self.align, owner=owner)
    order = np.argsort(np.asarray(x.stimulus_ids, dtype=object).astype(str), kind="stable")
    X = np.asarray(x.data, dtype=float)[order]
    Y = np.asarray(y.data, dtype=float)[order]
    if X.shape[0] < 4:
        raise InvalidInputError(f"{owner}: need at least 4 stimuli for cross-validated encoding, got {X.shape[0]}.")
    desc = {k: np.asarray(v) for k, v in x.channel_descriptors.items()}
    T, hw = _core.to_tokens(X, self.grid, self.layout, owner, desc)
    folds = kfold_indices(X.shape[0], min(self.outer_cv, X.shape[0]), shuffle=True, random_state=self.random_state,
                          owner=owner)
    return owner, T, hw, Y, y, folds


def _scores(self, Y, pred, n, extra):
    r2 = r2_per_target(Y, pred)
    r = pearson_per_target(Y, pred)
    extra.update(n_targets=int(Y.shape[1]), outer_cv=int(self.outer_cv), median_r2=float(np.median(r2)),
                 per_channel=[float(v) for v in r2], per_target_r=[float(v) for v in r])
    return [Result(score=float(r2.mean()), metric="r2", n=int(n), extra=extra),
            Result(score=float(r.mean()), metric="pearson_r", n=int(n), extra={"n_targets": int(Y.shape[1])})]


class TransformerEncoding(Analyzer):
    """Transformer brain encoder: per-ROI learned queries route spatial model tokens to voxels.

    ``x`` holds a basis model's spatial feature maps (stimuli x (channels * h * w)); each grid
    position is a token (its channel vector plus a learned position embedding). Every ROI of
    ``y`` (the channel descriptor ``roi_key``; all voxels form one ROI without it) owns a learned
    query that attends over the tokens (content-dependent routing: the attention weights depend
    on what is where); the routed feature vector is read out linearly by each voxel of the ROI.
    Scores are held-out (outer K-fold) R2 per voxel; the attention maps are returned for
    interpretation.

    Parameters
    ----------
    d_model : int, default=32
        Width of the token embedding, keys, values and queries.
    roi_key : str, default="roi"
        Channel descriptor of ``y`` that assigns voxels to ROIs (one query per ROI).
    n_epochs : int, default=300
        Full-batch AdamW steps per outer fold.
    lr : float, default=0.01
        AdamW learning rate.
    weight_decay : float, default=0.001
        AdamW weight decay.
    {common}

    Notes
    -----
    Headline: mean held-out R2 over voxels (metric ``"r2"``), then the mean Pearson R.
    ``extra``: ``per_channel`` (R2 per voxel), ``per_target_r``, ``grid`` ([h, w]), ``rois``,
    ``attention_mean`` (per ROI, the h x w attention map averaged over held-out stimuli),
    ``attention_peak`` (per ROI, [row, col] of that map's maximum) and ``attention_argmax``
    (per ROI, each stimulus's most-attended token index, stimuli sorted by id).
    Simplifications against the paper: one single-head cross-attention layer, no self-attention
    among tokens, no inner-loop hyper-parameter search.
    """

    id = "encoding.transformer"
    version = "0.1.0"
    citation = CITATION
    tags = Tags(larger_is_more_similar=True, stochastic=True)

    def __init__(self, d_model: int = 32, roi_key: str = "roi", grid: list[int] = [],  # noqa: B006
                 layout: Literal["chw", "hwc"] = "chw", n_epochs: int = 300, lr: float = 0.01,
                 weight_decay: float = 0.001, outer_cv: int = 5, random_state: int = 0, align: _ALIGN = "reorder"):
        self.d_model = d_model
        self.roi_key = roi_key
        self.grid = grid
        self.layout = layout
        self.n_epochs = n_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.outer_cv = outer_cv
        self.random_state = random_state
        self.align = align

    def analyze(self, x, y=None):
        owner, T, (h, w), Y, yrep, folds = _prepare(self, x, y)
        if isinstance(self.d_model, bool) or not isinstance(self.d_model, (int, np.integer)) or self.d_model < 1:
            raise InvalidInputError(f"{owner}: 'd_model' must be a positive integer, got {self.d_model!r}.")
        labels = np.asarray(yrep.channel_descriptors[self.roi_key]).astype(str) \
            if self.roi_key in yrep.channel_descriptors else np.full(Y.shape[1], "all")
        rois, roi_index = np.unique(labels, return_inverse=True)

        def build(gen, nt, nc):
            return _core.AttentionEncoder(nt, nc, int(self.d_model), roi_index, len(rois), gen)

        import torch

        pred, fitted = _core.cross_validated(build, T, Y, folds, seed=self.random_state,
                                       train_kw=dict(n_epochs=int(self.n_epochs), lr=float(self.lr),
                                                     weight_decay=float(self.weight_decay)))
        att = np.empty((T.shape[0], len(rois), T.shape[1]))
        with torch.no_grad():
            for te, model, Tte in fitted:
                a, _ = model.attention(torch.as_tensor(Tte, dtype=torch.float64))
                att[te] = a.numpy()
        mean_map = att.mean(0).reshape(len(rois), h, w)
        peaks = [list(map(int, np.unravel_index(np.argmax(m), (h, w)))) for m in mean_map]
        extra = {"grid": [int(h), int(w)], "n_tokens": int(T.shape[1]), "n_channels": int(T.shape[2]),
                 "rois": [str(r) for r in rois],
                 "attention_mean": [m.tolist() for m in mean_map], "attention_peak": peaks,
                 "attention_argmax": [att[:, q].argmax(1).astype(int).tolist() for q in range(len(rois))]}
        return _scores(self, Y, pred, T.shape[0], extra)

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_epochs=60), cls(grid=[2, 2], d_model=8, n_epochs=60, layout="hwc")]


class FactorizedRFEncoding(Analyzer):
    """Factorised receptive-field encoder: per voxel a spatial mask times feature weights (what x where).

    ``y_v = sum_t s_{v,t} (x_t . w_v) + b_v``: each voxel has a fixed spatial receptive field
    ``s_v`` over the grid and a feature tuning ``w_v`` over the channels (Klindt et al. 2017;
    St-Yves & Naselaris 2018), fitted by alternating ridge regressions (``w_v`` given ``s_v``,
    then ``s_v`` given ``w_v``) from a uniform mask. The baseline the transformer encoder is
    compared with in the paper: its receptive fields are static, so it cannot follow a feature
    that moves.

    Parameters
    ----------
    alpha : float, default=10.0
        Ridge penalty of both alternating steps (on standardised tokens and targets).
    n_iter : int, default=20
        Alternating steps.
    {common}

    Notes
    -----
    Headline: mean held-out R2 over voxels (metric ``"r2"``), then the mean Pearson R.
    ``extra``: ``per_channel`` (R2 per voxel), ``per_target_r``, ``grid``, ``rf_peak``
    (per voxel, [row, col] of the largest absolute mask weight, averaged over the folds' masks).
    """

    id = "encoding.factorized-rf"
    version = "0.1.0"
    citation = FACTORIZED_CITATION
    tags = Tags(larger_is_more_similar=True, stochastic=True)

    def __init__(self, alpha: float = 10.0, n_iter: int = 20, grid: list[int] = [],  # noqa: B006
                 layout: Literal["chw", "hwc"] = "chw", outer_cv: int = 5, random_state: int = 0,
                 align: _ALIGN = "reorder"):
        self.alpha = alpha
        self.n_iter = n_iter
        self.grid = grid
        self.layout = layout
        self.outer_cv = outer_cv
        self.random_state = random_state
        self.align = align

    def analyze(self, x, y=None):
        owner, T, (h, w), Y, _, folds = _prepare(self, x, y)
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha > 0:
            raise InvalidInputError(f"{owner}: 'alpha' must be a number > 0, got {self.alpha!r}.")
        pred = np.empty(Y.shape)
        masks = []
        for tr, te in folds:
            (Ttr, Tte), _, _ = _core._standardise(T[tr], T[te], axis=(0, 1))
            (Ytr,), ymu, ysd = _core._standardise(Y[tr])
            fit = _core.FactorizedRF(float(self.alpha), int(self.n_iter)).fit(Ttr, Ytr)
            pred[te] = fit.predict(Tte) * ysd + ymu
            masks.append(np.abs(fit.mask) / np.maximum(np.abs(fit.mask).max(1, keepdims=True), 1e-300))
        mean_mask = np.mean(masks, axis=0)
        peaks = [list(map(int, np.unravel_index(np.argmax(m), (h, w)))) for m in mean_mask]
        extra = {"grid": [int(h), int(w)], "n_tokens": int(T.shape[1]), "n_channels": int(T.shape[2]),
                 "rf_peak": peaks}
        return _scores(self, Y, pred, T.shape[0], extra)

    @classmethod
    def _conformance_instances(cls):
        return [cls(), cls(grid=[2, 2], alpha=1.0, n_iter=5)]


TransformerEncoding.__doc__ = TransformerEncoding.__doc__.replace("{common}", _COMMON_DOC.replace("\n", "\n    "))
FactorizedRFEncoding.__doc__ = FactorizedRFEncoding.__doc__.replace("{common}", _COMMON_DOC.replace("\n", "\n    "))
