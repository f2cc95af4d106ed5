"""The ``brainmae.pretrain`` estimator: masked-segment pre-training of BrainMAE on ROI time series."""

from __future__ import annotations

from typing import Any

import numpy as np
from neurorep import Estimator, Tags
from neurorep.errors import InvalidInputError

from ._meta import CITATION
from .synthetic import expand_mask, interpolation_fill, masked_mse, spatial_ridge_fill, token_mask

__all__ = ["BrainMAEPretrain"]


class _LazyCore:
    """The torch-backed numerics (``core``), imported on first use: loading the plugin must not import torch."""

    def __getattr__(self, name):
        from . import core

        return getattr(core, name)


_core = _LazyCore()


class BrainMAEPretrain(Estimator):
    """BrainMAE pre-trained by masked-segment reconstruction of ROI time series (Yang et al., 2024).

    ``fit(X)`` takes one scan ``(n_timepoints, n_rois)`` (volumes are the rows, ROIs the columns, as from
    nilearn's maskers and ``dataset.nitime-fmri``'s ``roi-timeseries``) or several scans of the same ROIs
    ``(n_scans, n_timepoints, n_rois)``. Each ROI is z-scored with the training statistics, cut into segments of
    ``segment_length`` volumes, and the network learns to reconstruct segments hidden at random (in each segment a
    fraction ``mask_ratio`` of the ROIs) from the other ROIs through the region-aware graph attention and from
    the ROI's other segments through a temporal transformer (see :mod:`neurorep_brainmae.core`).

    ``transform(X)`` returns one row per volume: the encoder's tokens of the segment holding that volume, averaged
    over ROIs (a ``d_model``-dimensional brain-state time course; a scan whose length is not a multiple of
    ``segment_length`` is padded by repeating its last volume). :meth:`roi_representations` and
    :meth:`subject_representation` give the ROI-level and scan-level representations,
    :meth:`masked_segment_errors` scores held-out reconstruction against the ROI-mean and linear-interpolation
    imputers, and ``attention_`` holds the learned ROI graph.

    Parameters
    ----------
    segment_length : int, default=8
        Volumes per segment (the paper uses 15 s; 8 volumes at TR 1.89 s).
    d_model : int, default=32
        Width of the ROI embeddings and tokens.
    n_heads : int, default=2
        Heads of the temporal transformer (``d_model`` must be a multiple).
    n_layers : int, default=1
        Layers of the temporal transformer.
    mask_ratio : float, default=0.5
        Fraction of the ROIs hidden in each segment during pre-training.
    masked_weight : float, default=0.75
        Weight ``lambda`` of the hidden tokens' error in the loss (``1 - lambda`` for the visible ones).
    window_segments : int, default=8
        Segments per training crop (random crops of the scans).
    batch_size : int, default=4
        Crops per optimisation step.
    n_steps : int, default=200
        Optimisation steps (AdamW).
    lr : float, default=0.003
    coords : list of list of float or None, default=None
        ROI coordinates ``(n_rois, 3)``; when given, the ROI embeddings are learnable vectors plus a learned
        linear map of the coordinates.
    random_state : int or None, default=0
        Seeds the initialisation, the crops and the masks.

    Attributes
    ----------
    net_ : torch.nn.Module
        The pre-trained network (eval mode).
    attention_ : ndarray of shape (n_rois, n_rois)
        The region-aware graph attention (rows sum to 1, zero diagonal).
    roi_embeddings_ : ndarray of shape (n_rois, d_model)
    mean_, scale_ : ndarray of shape (n_rois,)
        The training statistics used to z-score every input.
    loss_curve_ : list of float
    """

    id = "brainmae.pretrain"
    version = "1.0.0"
    citation = CITATION
    description = "BrainMAE: masked-segment pre-training of ROI time series with region-aware graph attention"
    tags = Tags(stochastic=True)

    def __init__(self, segment_length: int = 8, d_model: int = 32, n_heads: int = 2, n_layers: int = 1,
                 mask_ratio: float = 0.5, masked_weight: float = 0.75, window_segments: int = 8,
                 batch_size: int = 4, n_steps: int = 200, lr: float = 0.003,
                 coords: list[list[float]] | None = None, random_state: int | None = 0):
        self.segment_length = segment_length
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.mask_ratio = mask_ratio
        self.masked_weight = masked_weight
        self.window_segments = window_segments
        self.batch_size = batch_size
        self.n_steps = n_steps
        self.lr = lr
        self.coords = coords
        self.random_state = random_state

    # ------------------------------------------------------------------ checks
    def _owner(self) -> str:
        return f"Estimator {self.id!r}"

    def _check_params(self) -> None:
        o = self._owner()
        for name, lo in (("segment_length", 1), ("d_model", 2), ("n_heads", 1), ("n_layers", 1),
                         ("window_segments", 1), ("batch_size", 1), ("n_steps", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise InvalidInputError(f"{o}: {name} must be an integer >= {lo}, got {v!r}.")
        if self.d_model % self.n_heads:
            raise InvalidInputError(f"{o}: d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads}).")
        if not 0 < float(self.mask_ratio) < 1:
            raise InvalidInputError(f"{o}: mask_ratio must be in (0, 1), got {self.mask_ratio!r}.")
        if not 0 <= float(self.masked_weight) <= 1:
            raise InvalidInputError(f"{o}: masked_weight must be in [0, 1], got {self.masked_weight!r}.")
        if not float(self.lr) > 0:
            raise InvalidInputError(f"{o}: lr must be > 0, got {self.lr!r}.")

    def _check_X(self, X: Any, *, fitting: bool) -> np.ndarray:
        o = self._owner()
        X = np.asarray(X, dtype=float)
        if X.ndim == 2:
            X = X[None]
        if X.ndim != 3:
            raise InvalidInputError(f"{o}: expected ROI time series of shape (n_timepoints, n_rois) or "
                                    f"(n_scans, n_timepoints, n_rois), got shape {X.shape}.")
        if not np.all(np.isfinite(X)):
            raise InvalidInputError(f"{o}: the ROI time series hold {int(np.size(X) - np.isfinite(X).sum())} NaN/inf "
                                    "value(s); drop or impute them first (e.g. nilearn's maskers with a brain mask).")
        if fitting:
            if X.shape[2] < 2:
                raise InvalidInputError(f"{o}: at least 2 ROIs are needed (the graph attention relates ROIs), got "
                                        f"{X.shape[2]}.")
            if X.shape[1] < self.segment_length:
                raise InvalidInputError(f"{o}: each scan needs at least segment_length={self.segment_length} "
                                        f"timepoints, got {X.shape[1]}. Lower segment_length or pass longer scans.")
        else:
            self._check_fitted()
            if X.shape[2] != self.mean_.size:
                raise InvalidInputError(f"{o}: fitted on {self.mean_.size} ROIs, got {X.shape[2]}; pass the same "
                                        "ROIs in the same order.")
        return X

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise InvalidInputError(f"{self._owner()}: not fitted yet; call fit(X) first.")

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) / self.scale_

    def _padded(self, x: np.ndarray) -> np.ndarray:
        s = int(self.segment_length)
        n_pad = (-x.shape[0]) % s
        return np.pad(x, ((0, n_pad), (0, 0)), mode="edge") if n_pad else x

    # ------------------------------------------------------------------ fit / transform
    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> BrainMAEPretrain:
        """Pre-train on one scan ``(n_timepoints, n_rois)`` or several ``(n_scans, n_timepoints, n_rois)``.

        Parameters
        ----------
        X : ndarray
            ROI time series, time first.
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        X = self._check_X(X, fitting=True)
        flat = X.reshape(-1, X.shape[2])
        mean, scale = flat.mean(axis=0), flat.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        self.mean_, self.scale_ = mean, scale
        coords = None
        if self.coords is not None:
            coords = np.asarray(self.coords, dtype=float)
            if coords.shape != (X.shape[2], 3) or not np.all(np.isfinite(coords)):
                raise InvalidInputError(f"{self._owner()}: coords must be a finite ({X.shape[2]}, 3) array (one "
                                        f"x, y, z per ROI), got shape {coords.shape}.")
        cfg = _core.TrainConfig(segment_length=int(self.segment_length), d_model=int(self.d_model),
                                n_heads=int(self.n_heads), n_layers=int(self.n_layers),
                                mask_ratio=float(self.mask_ratio), masked_weight=float(self.masked_weight),
                                window_segments=int(self.window_segments), batch_size=int(self.batch_size),
                                n_steps=int(self.n_steps), lr=float(self.lr))
        seed = 0 if self.random_state is None else int(self.random_state)
        net, losses = _core.train([self._standardize(x) for x in X], cfg, seed, coords=coords)
        self.net_ = net
        self.loss_curve_ = losses
        self.attention_ = _core.attention_matrix(net)
        self.roi_embeddings_ = _core.roi_embedding_matrix(net)
        return self

    def tokens(self, X: np.ndarray) -> np.ndarray:
        """The encoder's tokens of one scan, all segments visible: ``(n_rois, n_segments, d_model)``.

        A scan whose length is not a multiple of ``segment_length`` is padded by repeating its last volume.
        """
        X = self._check_X(X, fitting=False)
        if X.shape[0] != 1:
            raise InvalidInputError(f"{self._owner()}: tokens() takes one scan (n_timepoints, n_rois), got "
                                    f"{X.shape[0]} scans.")
        return _core.encode(self.net_, self._padded(self._standardize(X[0])))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """One row per volume: the ROI-averaged token of the segment holding it, shape ``(n_timepoints, d_model)``."""
        n = np.asarray(X).shape[0]
        z = self.tokens(X).mean(axis=0)                               # (K, d)
        return np.repeat(z, int(self.segment_length), axis=0)[:n]

    def roi_representations(self, X: np.ndarray) -> np.ndarray:
        """ROI-level representation of one scan: each ROI's tokens averaged over segments, ``(n_rois, d_model)``."""
        return self.tokens(X).mean(axis=1)

    def subject_representation(self, X: np.ndarray) -> np.ndarray:
        """Scan-level representation: all tokens averaged, ``(d_model,)``."""
        return self.tokens(X).mean(axis=(0, 1))

    # ------------------------------------------------------------------ masked-segment evaluation
    def reconstruct(self, X: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        """Fill hidden segments of one scan.

        Parameters
        ----------
        X : ndarray of shape (n_segments * segment_length, n_rois)
        hidden : ndarray of bool, shape (n_rois, n_segments)
            True for the (ROI, segment) tokens to hide.

        Returns
        -------
        ndarray of shape (n_segments * segment_length, n_rois)
            The network's output in the units of ``X`` (every sample, hidden or not).
        """
        X = self._check_X(X, fitting=False)[0]
        s = int(self.segment_length)
        hidden = np.asarray(hidden, dtype=bool)
        if X.shape[0] % s or hidden.shape != (X.shape[1], X.shape[0] // s):
            raise InvalidInputError(f"{self._owner()}: reconstruct needs a scan of whole segments and a token mask "
                                    f"(n_rois, n_segments); got a scan of {X.shape[0]} timepoints (segment_length "
                                    f"{s}) and a mask of shape {hidden.shape}.")
        z = _core.reconstruct(self.net_, self._standardize(X), hidden)
        return z * self.scale_ + self.mean_

    def masked_segment_errors(self, X: np.ndarray, mask_ratio: float | None = None, n_masks: int = 10,
                              random_state: int = 0, train: np.ndarray | None = None) -> dict[str, float]:
        """Held-out masked-segment reconstruction error of BrainMAE and of two imputers.

        The scan is cut to whole segments and z-scored with the training statistics; ``n_masks`` random
        segment-wise ROI masks are drawn (``mask_ratio`` of the ROIs hidden per segment; default: the training
        ratio) and the mean squared error over the hidden samples is averaged over masks.

        Parameters
        ----------
        X : ndarray of shape (n_timepoints, n_rois)
            A held-out scan.
        mask_ratio : float, optional
        n_masks : int, default=10
        random_state : int, default=0
            Seeds the masks (the same masks for every method).
        train : ndarray of shape (n_timepoints, n_rois) or (n_scans, n_timepoints, n_rois), optional
            The training scans; when given, the ``spatial-ridge`` reference is added.

        Returns
        -------
        dict
            ``{"brainmae": ..., "roi-mean": ..., "interpolation": ..., "n_hidden": ...}`` (errors in squared
            standard deviations): ``roi-mean`` predicts each ROI's training mean (0 after z-scoring),
            ``interpolation`` interpolates each ROI linearly in time between its nearest visible samples
            (:func:`~neurorep_brainmae.synthetic.interpolation_fill`) and, with ``train``, ``spatial-ridge``
            regresses the hidden ROIs of each segment on its visible ROIs
            (:func:`~neurorep_brainmae.synthetic.spatial_ridge_fill`).
        """
        X = self._check_X(X, fitting=False)[0]
        s = int(self.segment_length)
        k = X.shape[0] // s
        if k < 1:
            raise InvalidInputError(f"{self._owner()}: the scan holds {X.shape[0]} timepoints, fewer than one segment "
                                    f"({s}).")
        z = self._standardize(X[: k * s])
        rng = np.random.default_rng(random_state)
        ratio = self.mask_ratio if mask_ratio is None else mask_ratio
        out = {"brainmae": 0.0, "roi-mean": 0.0, "interpolation": 0.0}
        ref = None
        if train is not None:
            tr = self._check_X(train, fitting=False)
            ref = self._standardize(tr.reshape(-1, tr.shape[2]))
            out["spatial-ridge"] = 0.0
        n_hidden = 0
        for _ in range(int(n_masks)):
            m = token_mask(z.shape[1], k, ratio, rng)
            h = expand_mask(m, s)
            rec = _core.reconstruct(self.net_, z, m)
            out["brainmae"] += masked_mse(rec, z, h) / n_masks
            out["roi-mean"] += masked_mse(np.zeros_like(z), z, h) / n_masks
            out["interpolation"] += masked_mse(interpolation_fill(z, h), z, h) / n_masks
            if ref is not None:
                out["spatial-ridge"] += masked_mse(spatial_ridge_fill(ref, z, m, s), z, h) / n_masks
            n_hidden += int(h.sum())
        return {**{k_: float(v) for k_, v in out.items()}, "n_hidden": n_hidden}
