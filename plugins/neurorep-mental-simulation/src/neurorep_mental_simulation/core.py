"""Numerics of time-resolved neural predictivity with a split-half noise ceiling.

Layout: a time-resolved Representation has columns ordered time-major, column
``t * n_units + u`` is unit ``u`` at time bin ``t`` (``data.reshape(n_stimuli, n_time, n_units)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from neurorep.encoding import cv_ridge_predictions, kfold_indices

__all__ = [
    "CITATION",
    "spearman_brown",
    "split_half_reliability",
    "corr_columns",
    "time_resolved_predictions",
]

CITATION = ("Nayebi, A., Rajalingham, R., Jazayeri, M. & Yang, G. R. (2023). Neural foundations of mental "
            "simulation: future prediction of latent representations on dynamic scenes. Advances in Neural "
            "Information Processing Systems 36 (NeurIPS 2023). arXiv:2305.11772")


def spearman_brown(r: np.ndarray, factor: float) -> np.ndarray:
    """Spearman-Brown prophecy: the reliability of a measurement ``factor`` times longer.

    ``factor * r / (1 + (factor - 1) * r)``; ``factor=2`` is the classic split-half correction.
    """
    r = np.asarray(r, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return factor * r / (1.0 + (factor - 1.0) * r)


def corr_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching columns along axis ``-2`` (stimuli); 0 where a side is constant.

    Works on stacks: ``a`` and ``b`` of shape (..., n_stimuli, n_targets).
    """
    ac = a - a.mean(-2, keepdims=True)
    bc = b - b.mean(-2, keepdims=True)
    num = (ac * bc).sum(-2)
    den = np.sqrt((ac * ac).sum(-2) * (bc * bc).sum(-2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return np.where(den > 0, r, 0.0)


def split_half_reliability(repeats: np.ndarray, n_splits: int, rng: np.random.Generator,
                           stimuli: np.ndarray | None = None) -> np.ndarray:
    """Reliability of the mean over all repeats, per target: split-half correlation, Spearman-Brown corrected.

    The repeats are split at random into two disjoint halves of ``h = n_repeats // 2`` repeats
    (one repeat left out when ``n_repeats`` is odd); the correlation across stimuli of the two half
    means, averaged over ``n_splits`` splits, is the reliability of an ``h``-repeat mean, stepped up
    to ``n_repeats`` repeats with Spearman-Brown (factor ``n_repeats / h``). Under the classical model
    (signal plus independent noise of equal variance per repeat) its square root is the expected
    correlation between the true signal and the repeat mean: the ceiling of a model's correlation.

    Parameters
    ----------
    repeats : ndarray of shape (n_repeats, n_stimuli, n_targets)
    n_splits : int
    rng : numpy Generator
    stimuli : ndarray of shape (n_boot, n_stimuli) of int, optional
        Resampled stimulus indices (bootstrap); the result then has a leading ``n_boot`` axis.

    Returns
    -------
    ndarray of shape (n_targets,) or (n_boot, n_targets)
    """
    k = repeats.shape[0]
    h = k // 2
    total = None
    for _ in range(n_splits):
        perm = rng.permutation(k)
        a = repeats[perm[:h]].mean(0)
        b = repeats[perm[h:2 * h]].mean(0)
        if stimuli is not None:
            a, b = a[stimuli], b[stimuli]
        r = corr_columns(a, b)
        total = r if total is None else total + r
    return spearman_brown(total / n_splits, k / h)


def time_resolved_predictions(x: np.ndarray, y: np.ndarray, n_time: int, alphas: Sequence[float],
                              n_splits: int, inner_cv: int, random_state: int,
                              owner: str) -> tuple[np.ndarray, np.ndarray]:
    """Held-out ridge predictions of each time bin of ``y`` from the same time bin of ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_stimuli, n_time * n_features)
    y : ndarray of shape (n_stimuli, n_time * n_units)
    n_time : int
    alphas : sequence of float
    n_splits : int
        Outer K-fold over stimuli (the same folds for every time bin).
    inner_cv : int
        Inner K-fold choosing one alpha per unit and time bin inside each outer training set.
    random_state : int

    Returns
    -------
    predictions : ndarray of shape (n_stimuli, n_time * n_units)
        Every stimulus predicted by a model fit without it.
    alphas : ndarray of shape (n_time, n_splits, n_units)
        The chosen alphas.
    """
    n = x.shape[0]
    xs = x.reshape(n, n_time, -1)
    ys = y.reshape(n, n_time, -1)
    folds = kfold_indices(n, n_splits, shuffle=True, random_state=random_state, owner=owner)
    pred = np.empty(ys.shape)
    chosen = []
    for t in range(n_time):
        p, a = cv_ridge_predictions(xs[:, t], ys[:, t], alphas, outer_folds=folds, inner_cv=inner_cv,
                                    random_state=random_state, owner=owner)
        pred[:, t] = p
        chosen.append(a)
    return pred.reshape(n, -1), np.asarray(chosen)
