"""Stage 1 of Dyballa et al. (2024): pairwise non-linear affinities between units, per time window.

Two affinities are offered; both are symmetric, lie in [0, 1] and are 1 on the diagonal of a unit that moves.

``"differential"`` (default; our reading of the paper's *differential affinity*)
    Affinity is built from the traces' changes rather than their levels: with ``d_i(t)`` the first
    difference of unit ``i``'s (optionally Gaussian-smoothed) trace inside the window, two units are
    affine at an instant when they change in the same direction, by the product of the changes, and
    not at all when they move oppositely or one is flat::

        a_ij = sum_t max(0, d_i(t) d_j(t)) / sqrt(sum_t d_i(t)^2 * sum_t d_j(t)^2)

    The per-instant rectification makes it non-linear (anti-correlated pairs score 0, not -1) and the
    normalisation (Cauchy-Schwarz) bounds it by 1. The paper's exact kernel is given in its Methods; we
    have not reproduced it term by term (see the plugin README).
``"correlation"``
    The rectified Pearson correlation of the traces inside the window, ``max(0, r_ij)``: the classic
    sliding-window functional connectivity, kept as a baseline.

Units with a flat trace inside a window get affinity 0 to every unit (and themselves) in that window.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = ["AFFINITIES", "sliding_windows", "window_affinity", "affinity_tensor", "pairs_tensor", "pairs_to_matrix"]

AFFINITIES: tuple[str, ...] = ("differential", "correlation")


def sliding_windows(n_timepoints: int, window: int, step: int | None = None) -> np.ndarray:
    """``(start, stop)`` of each window, shape (n_windows, 2).

    Windows of ``window`` samples every ``step`` samples (default ``step = window``: tiled, no overlap);
    samples after the last full window are not used. A recording shorter than ``window`` is one window.
    """
    n, w = int(n_timepoints), int(window)
    s = w if step is None else int(step)
    if w < 3 or s < 1:
        raise InvalidInputError(f"sliding_windows: window must be >= 3 samples and step >= 1, got window={window!r}, "
                                f"step={step!r}.")
    if n <= w:
        return np.array([[0, n]], dtype=np.int64)
    starts = np.arange(0, n - w + 1, s, dtype=np.int64)
    return np.stack([starts, starts + w], axis=1)


def window_affinity(segment: np.ndarray, affinity: str = "differential") -> np.ndarray:
    """Affinity matrix (n_units, n_units) of one window ``segment`` of shape (n_samples, n_units)."""
    seg = np.asarray(segment, dtype=float)
    if affinity == "differential":
        d = np.diff(seg, axis=0)
        pos, neg = np.maximum(d, 0.0), np.maximum(-d, 0.0)
        # at one instant only one of pos/neg is non-zero per unit, so pos.pos + neg.neg = max(0, d_i d_j)
        num = pos.T @ pos + neg.T @ neg
        norm = np.sqrt(np.einsum("ti,ti->i", d, d))
    elif affinity == "correlation":
        c = seg - seg.mean(axis=0)
        num = np.maximum(c.T @ c, 0.0)
        norm = np.sqrt(np.einsum("ti,ti->i", c, c))
    else:
        raise InvalidInputError(f"window_affinity: 'affinity' must be one of {list(AFFINITIES)}; {affinity!r} was "
                                "provided.")
    scale = np.outer(norm, norm)
    tiny = 1e-12 * max(float(scale.max()), 1e-300)
    out = np.divide(num, scale, out=np.zeros_like(num), where=scale > tiny)
    return np.clip((out + out.T) / 2.0, 0.0, 1.0)


def _smooth(x: np.ndarray, smoothing: float) -> np.ndarray:
    if smoothing <= 0:
        return x
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(x, sigma=float(smoothing), axis=-2, mode="nearest")


def affinity_tensor(X: np.ndarray, window: int, step: int | None = None,
                    affinity: Literal["differential", "correlation"] = "differential",
                    smoothing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The unit x unit x window (x animal) affinity tensor of time series ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_timepoints, n_units) or (n_animals, n_timepoints, n_units)
        Time-first traces (calcium, BOLD, model units over tokens); animals/subjects/sessions first when 3D.
    window, step : int
        See :func:`sliding_windows`.
    affinity : {"differential", "correlation"}
    smoothing : float, default=0.0
        Gaussian smoothing (SD in samples) of each trace before the affinities (0: none).

    Returns
    -------
    tensor : ndarray of shape (n_units, n_units, n_windows) for 2D ``X``, else (n_units, n_units, n_windows, n_animals)
    windows : ndarray of shape (n_windows, 2), the ``(start, stop)`` sample of each window
    """
    X = np.asarray(X, dtype=float)
    two_d = X.ndim == 2
    Xa = X[None] if two_d else X
    if Xa.ndim != 3:
        raise InvalidInputError(f"affinity_tensor: expected (n_timepoints, n_units) or (n_animals, n_timepoints, "
                                f"n_units), got shape {X.shape}.")
    Xa = _smooth(Xa, smoothing)
    windows = sliding_windows(Xa.shape[1], window, step)
    n_units = Xa.shape[2]
    out = np.empty((n_units, n_units, len(windows), Xa.shape[0]))
    for a in range(Xa.shape[0]):
        for w, (s, e) in enumerate(windows):
            out[:, :, w, a] = window_affinity(Xa[a, s:e], affinity)
    return (out[..., 0] if two_d else out), windows


def pairs_tensor(tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorise the unit pairs (i < j) of a unit x unit x ... tensor, as the paper does: (n_pairs, ...).

    Returns the pairs tensor and the pair index ``(2, n_pairs)`` (rows ``i``, ``j``).
    """
    n = tensor.shape[0]
    iu = np.triu_indices(n, k=1)
    return tensor[iu[0], iu[1]], np.stack(iu)


def pairs_to_matrix(values: np.ndarray, n_units: int) -> np.ndarray:
    """A symmetric (n_units, n_units) matrix with zero diagonal from one value per pair (i < j)."""
    iu = np.triu_indices(n_units, k=1)
    m = np.zeros((n_units, n_units))
    m[iu] = values
    return m + m.T
