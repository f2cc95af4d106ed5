"""Banded ridge regression: one regularisation per feature band and target, chosen by cross-validation.

Banded ridge (Nunez-Elizalde, Huth & Gallant, 2019) penalises each feature band ``b``
with its own ``alpha_b``. Writing ``alpha_b = alpha / gamma_b`` with ``gamma`` on the simplex,
it is plain ridge with penalty ``alpha`` on the rescaled features ``sqrt(gamma_b) X_b``, so a
search over candidate ``gamma`` vectors needs, per candidate and fold, one decomposition
shared by every alpha and every target (:mod:`neurorep.encoding.ridge`). The candidates are
the uniform weighting followed by Dirichlet samples, the random search of himalaya's
``solve_group_ridge_random_search`` (Dupre la Tour, Eickenberg, Nunez-Elizalde & Gallant,
2022, NeuroImage 264:119728, doi:10.1016/j.neuroimage.2022.119728). Per target, the best
alpha of each candidate is chosen as in :func:`~neurorep.encoding.ridge.select_alphas`; a
later candidate replaces the current best only when its mean CV score is larger by more
than the machine epsilon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from .ridge import (
    TARGET_BATCH,
    _fold_scores,
    _per_target_B,
    check_alphas,
    decompose,
    kfold_indices,
    select_alphas,
)

__all__ = ["band_slices", "dirichlet_gammas", "BandedRidgeFit", "banded_ridge_cv"]


def band_slices(sizes: Sequence[int], n_features: int, owner: str | None = None) -> list[slice]:
    """Consecutive column blocks of the given sizes, which must add up to ``n_features``."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes) or sum(sizes) != n_features:
        raise InvalidInputError(
            f"{owner or 'neurorep.encoding'}: band sizes must be >= 2 positive integers adding up to the number of "
            f"features ({n_features}), got {sizes} (sum {sum(sizes)}). List the width of each feature space in "
            "the order they are concatenated in x, e.g. band_sizes = [768, 300].")
    edges = np.concatenate([[0], np.cumsum(sizes)])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def dirichlet_gammas(n_iter: int, n_bands: int, *, concentration: Sequence[float] = (0.1, 1.0),
                     random_state: int | None = 0) -> np.ndarray:
    """``n_iter`` candidate band weightings on the simplex: the uniform one, then Dirichlet samples.

    Samples cycle through the ``concentration`` values (small ones explore the corners,
    where one band dominates; 1.0 is uniform on the simplex).
    """
    rng = np.random.default_rng(random_state)
    out = np.empty((n_iter, n_bands))
    for i in range(n_iter):
        out[i] = rng.dirichlet(np.full(n_bands, concentration[i % len(concentration)]))
    out[0] = 1.0 / n_bands
    return out


@dataclass
class BandedRidgeFit:
    """Result of :func:`banded_ridge_cv`.

    Attributes
    ----------
    gammas : ndarray of shape (n_iter, n_bands)
        The candidate band weightings.
    best_gamma : ndarray of shape (n_targets, n_bands)
    best_alpha : ndarray of shape (n_targets,)
    band_alpha : ndarray of shape (n_targets, n_bands)
        The effective per-band penalties ``alpha / gamma_b``.
    cv_scores : ndarray of shape (n_iter, n_targets)
        Mean CV score of each candidate at its best alpha.
    coef : ndarray of shape (n_features, n_targets)
        Weights on the original (unscaled) features, refit on all training rows.
    intercept : ndarray of shape (n_targets,)
    """

    gammas: np.ndarray
    best_gamma: np.ndarray
    best_alpha: np.ndarray
    band_alpha: np.ndarray
    cv_scores: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    slices: list[slice]
    x_mean: np.ndarray

    def predict(self, X_new: np.ndarray) -> np.ndarray:
        return X_new @ self.coef + self.intercept

    def band_predictions(self, X_new: np.ndarray) -> np.ndarray:
        """Each band's part of the prediction, ``(X_b - mean_b) @ coef_b``: shape (n_bands, n, t)."""
        Xc = X_new - self.x_mean
        return np.stack([Xc[:, s] @ self.coef[s] for s in self.slices])


def banded_ridge_cv(X: np.ndarray, Y: np.ndarray, slices: Sequence[slice], alphas: Sequence[float], *,
                    gammas: np.ndarray | None = None, n_iter: int = 20, cv=5, scoring: str = "mse",
                    fit_intercept: bool = True, random_state: int | None = 0, target_batch: int = TARGET_BATCH,
                    owner: str | None = None) -> BandedRidgeFit:
    """Choose per-target band weightings and alphas by cross-validation, then refit on all rows.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        The feature bands side by side.
    Y : ndarray of shape (n, t)
    slices : list of slice
        The columns of each band (:func:`band_slices`).
    alphas : sequence of float
    gammas : ndarray of shape (n_iter, n_bands), optional
        Candidate weightings; default :func:`dirichlet_gammas` (``n_iter``, ``random_state``).
    cv : int or list of (train, test) index pairs, default=5
        K-fold (contiguous folds) or explicit folds.
    scoring : {"mse", "r2"}
    """
    a = check_alphas(alphas, owner)
    X = np.asarray(X)
    Y = np.asarray(Y)
    n_bands = len(slices)
    if gammas is None:
        gammas = dirichlet_gammas(n_iter, n_bands, random_state=random_state)
    gammas = np.asarray(gammas, dtype=float)
    folds = kfold_indices(X.shape[0], cv, shuffle=False, owner=owner) if isinstance(cv, (int, np.integer)) \
        else list(cv)
    t = Y.shape[1]
    scale_cols = np.empty(X.shape[1])
    best_score = np.full(t, -np.inf)
    best_iter = np.zeros(t, dtype=int)
    best_alpha = np.ones(t)
    cv_scores = np.empty((len(gammas), t))
    eps = np.finfo(X.dtype if X.dtype.kind == "f" else float).eps
    for i, g in enumerate(gammas):
        for b, s in enumerate(slices):
            scale_cols[s] = np.sqrt(g[b])
        Xg = X * scale_cols.astype(X.dtype)
        scores = np.empty((len(folds), len(a), t))
        for k, (tr, va) in enumerate(folds):
            dec = decompose(Xg[tr], fit_intercept=fit_intercept)
            scores[k] = _fold_scores(dec, Xg[va], Y[tr], Y[va], a, scoring, fit_intercept, target_batch)
        idx, sc = select_alphas(scores, a)
        cv_scores[i] = sc
        better = sc > best_score + eps
        best_score[better] = sc[better]
        best_iter[better] = i
        best_alpha[better] = a[idx[better]]
    # refit: one decomposition per weighting that some target uses
    coef = np.empty((X.shape[1], t), dtype=np.result_type(X.dtype, np.float32))
    intercept = np.empty(t)
    x_mean = X.mean(0) if fit_intercept else np.zeros(X.shape[1])
    for i in np.unique(best_iter):
        cols = np.flatnonzero(best_iter == i)
        for b, s in enumerate(slices):
            scale_cols[s] = np.sqrt(gammas[i, b])
        Xg = X * scale_cols.astype(X.dtype)
        dec = decompose(Xg, fit_intercept=fit_intercept)
        B, y_mean = _per_target_B(dec, Y[:, cols], best_alpha[cols], fit_intercept)
        w = dec.basis @ B if dec.primal else dec.x_train.T @ (dec.basis @ B)
        w *= scale_cols[:, None]                 # back to weights on the unscaled features
        coef[:, cols] = w
        intercept[cols] = y_mean - x_mean @ w
    best_gamma = gammas[best_iter]
    with np.errstate(divide="ignore"):
        band_alpha = best_alpha[:, None] / best_gamma
    return BandedRidgeFit(gammas=gammas, best_gamma=best_gamma, best_alpha=best_alpha, band_alpha=band_alpha,
                          cv_scores=cv_scores, coef=coef, intercept=intercept, slices=list(slices), x_mean=x_mean)
