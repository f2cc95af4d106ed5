"""Synthetic ROI time series with a planted coupling graph, token masks and the two reference imputers (numpy only).

The generator is a first-order autoregression whose innovations spread over a known sparse graph::

    x[t] = a * x[t - 1] + S @ e[t],    S = (I - c * W / lambda_max(W))^-1,    e[t] ~ N(0, I)

with ``W`` the planted undirected adjacency (0/1, no self-loops) and ``0 < c < 1``: each ROI's innovation is
the sum of its own drive and of its graph neighbours' (and, more weakly, of theirs: ``S`` is the resolvent of the
graph), so coupled ROIs co-fluctuate within a sample, as at the time-scale of an fMRI volume. ``a`` sets each
ROI's temporal autocorrelation. The series are observed with white measurement noise. Every subject follows the
same graph; subjects differ by their innovations.

The masking scheme is BrainMAE's segment-wise ROI masking (Yang et al., 2024, Sec. 3): each ROI's series is cut
into segments of ``segment_length`` samples, and in every segment a fraction of the ROIs is hidden. The two
reference imputers fill the hidden samples from the ROI alone: its training mean, or linear interpolation in time
between the nearest visible samples of the same ROI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurorep.errors import InvalidInputError

__all__ = ["CoupledSeries", "coupled_roi_series", "planted_graph", "token_mask", "expand_mask",
           "interpolation_fill", "spatial_ridge_fill", "masked_mse"]


@dataclass(frozen=True, eq=False)
class CoupledSeries:
    """What :func:`coupled_roi_series` returns.

    Attributes
    ----------
    series : ndarray of shape (n_subjects, n_timepoints, n_rois)
        The observed ROI series (time first within a subject, as nilearn's maskers give them).
    graph : ndarray of bool, shape (n_rois, n_rois)
        The planted undirected coupling graph (symmetric, no self-loops): the ground truth.
    spread : ndarray of shape (n_rois, n_rois)
        The innovation mixing ``S`` (``x[t] = a * x[t - 1] + S @ e[t]``).
    roi_names : tuple of str
    coords : ndarray of shape (n_rois, 3) or None
        The ROI coordinates the graph was planted on (k nearest neighbours), when given.
    """

    series: np.ndarray
    graph: np.ndarray
    spread: np.ndarray
    roi_names: tuple[str, ...]
    coords: np.ndarray | None = None


def planted_graph(n_rois: int, degree: int = 2, coords: np.ndarray | None = None,
                  random_state: int | None = 0) -> np.ndarray:
    """A sparse undirected graph on ``n_rois`` nodes in which every node has at least ``degree`` neighbours.

    Without ``coords``: the union of ``ceil(degree / 2)`` random Hamiltonian rings (a random order of the nodes,
    each joined to the next). With ``coords`` of shape ``(n_rois, 3)``: each node joined to its ``degree`` nearest
    neighbours in space (symmetrised), as cortical coupling falls off with distance.

    Parameters
    ----------
    n_rois : int
    degree : int, default=2
    coords : ndarray of shape (n_rois, 3), optional
    random_state : int or None, default=0

    Returns
    -------
    ndarray of bool, shape (n_rois, n_rois)
        Symmetric, with a zero diagonal.
    """
    if int(n_rois) < 3:
        raise InvalidInputError(f"planted_graph: n_rois must be >= 3, got {n_rois!r}.")
    if not 1 <= int(degree) < int(n_rois):
        raise InvalidInputError(f"planted_graph: degree must be between 1 and n_rois - 1 ({n_rois - 1}), "
                                f"got {degree!r}.")
    n = int(n_rois)
    g = np.zeros((n, n), dtype=bool)
    if coords is not None:
        c = np.asarray(coords, dtype=float)
        if c.shape != (n, 3) or not np.all(np.isfinite(c)):
            raise InvalidInputError(f"planted_graph: coords must be a finite ({n}, 3) array, got shape {c.shape}.")
        d = np.linalg.norm(c[:, None, :] - c[None, :, :], axis=-1)
        np.fill_diagonal(d, np.inf)
        nearest = np.argsort(d, axis=1, kind="stable")[:, :int(degree)]
        g[np.repeat(np.arange(n), int(degree)), nearest.ravel()] = True
    else:
        rng = np.random.default_rng(random_state)
        for _ in range(-(-int(degree) // 2)):
            order = rng.permutation(n)
            g[order, np.roll(order, -1)] = True
    g = g | g.T
    np.fill_diagonal(g, False)
    return g


def coupled_roi_series(n_rois: int = 16, n_timepoints: int = 240, n_subjects: int = 4, degree: int = 2,
                       coupling: float = 0.8, self_coupling: float = 0.6, noise: float = 0.3,
                       coords: np.ndarray | None = None, burn_in: int = 100,
                       random_state: int | None = 0) -> CoupledSeries:
    """Seeded ROI time series of an autoregressive process coupled through a planted sparse graph.

    Parameters
    ----------
    n_rois : int, default=16
    n_timepoints : int, default=240
    n_subjects : int, default=4
        Independent scans of the same network.
    degree : int, default=2
        Minimum number of neighbours of each ROI in the planted graph (see :func:`planted_graph`).
    coupling : float, default=0.8
        Spatial coupling ``c`` in (0, 1): how far each innovation spreads over the graph.
    self_coupling : float, default=0.6
        Weight ``a`` in [0, 1) of each ROI's own past (temporal autocorrelation).
    noise : float, default=0.3
        Standard deviation of the white measurement noise, relative to each ROI's signal SD.
    coords : ndarray of shape (n_rois, 3), optional
        Plant the graph on the nearest neighbours in space instead of at random.
    burn_in : int, default=100
        Samples simulated and discarded before the first one kept (start from the stationary regime).
    random_state : int or None, default=0

    Returns
    -------
    CoupledSeries
    """
    for name, v, lo in (("n_rois", n_rois, 3), ("n_timepoints", n_timepoints, 2), ("n_subjects", n_subjects, 1),
                        ("burn_in", burn_in, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InvalidInputError(f"coupled_roi_series: {name} must be an integer >= {lo}, got {v!r}.")
    if not 0 < coupling < 1 or not 0 <= self_coupling < 1 or not noise >= 0:
        raise InvalidInputError("coupled_roi_series: expected 0 < coupling < 1, 0 <= self_coupling < 1 and noise >= 0, "
                                f"got coupling={coupling!r}, self_coupling={self_coupling!r}, noise={noise!r}.")
    rng = np.random.default_rng(random_state)
    graph = planted_graph(n_rois, degree, coords=coords, random_state=int(rng.integers(2**31)))
    w = graph.astype(float)
    spread = np.linalg.inv(np.eye(n_rois) - coupling * w / float(np.max(np.abs(np.linalg.eigvalsh(w)))))
    series = np.empty((n_subjects, n_timepoints, n_rois))
    for s in range(n_subjects):
        x = np.zeros(n_rois)
        e = rng.standard_normal((burn_in + n_timepoints, n_rois)) @ spread.T
        for t in range(burn_in + n_timepoints):
            x = self_coupling * x + e[t]
            if t >= burn_in:
                series[s, t - burn_in] = x
    sd = series.reshape(-1, n_rois).std(axis=0)
    series = series + noise * sd * rng.standard_normal(series.shape)
    names = tuple(f"roi-{i:02d}" for i in range(n_rois))
    return CoupledSeries(series=series, graph=graph, spread=spread, roi_names=names,
                         coords=None if coords is None else np.asarray(coords, dtype=float).copy())


def token_mask(n_rois: int, n_segments: int, mask_ratio: float, rng: np.random.Generator) -> np.ndarray:
    """BrainMAE's segment-wise ROI mask: in each segment, ``round(mask_ratio * n_rois)`` ROIs are hidden.

    At least one ROI is hidden and at least one stays visible in every segment.

    Returns
    -------
    ndarray of bool, shape (n_rois, n_segments)
        True where the (ROI, segment) token is hidden.
    """
    if not 0 < float(mask_ratio) < 1:
        raise InvalidInputError(f"token_mask: mask_ratio must be in (0, 1), got {mask_ratio!r}.")
    k = int(min(max(round(float(mask_ratio) * n_rois), 1), n_rois - 1))
    scores = rng.random((n_segments, n_rois))
    order = np.argsort(scores, axis=1)
    out = np.zeros((n_segments, n_rois), dtype=bool)
    np.put_along_axis(out, order[:, :k], True, axis=1)
    return out.T.copy()


def expand_mask(mask: np.ndarray, segment_length: int) -> np.ndarray:
    """A token mask ``(n_rois, n_segments)`` as a sample mask ``(n_segments * segment_length, n_rois)``."""
    return np.repeat(np.asarray(mask, dtype=bool), int(segment_length), axis=1).T.copy()


def interpolation_fill(x: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Fill the hidden samples of each ROI by linear interpolation in time between its visible samples.

    Before the first and after the last visible sample the nearest visible value is carried (``numpy.interp``);
    a ROI with no visible sample is filled with 0 (the standardised mean).

    Parameters
    ----------
    x : ndarray of shape (n_timepoints, n_rois)
    hidden : ndarray of bool, same shape
    """
    x = np.asarray(x, dtype=float)
    hidden = np.asarray(hidden, dtype=bool)
    out = x.copy()
    t = np.arange(x.shape[0])
    for r in range(x.shape[1]):
        vis = ~hidden[:, r]
        if not vis.any():
            out[:, r] = 0.0
        elif hidden[:, r].any():
            out[hidden[:, r], r] = np.interp(t[hidden[:, r]], t[vis], x[vis, r])
    return out


def spatial_ridge_fill(train: np.ndarray, x: np.ndarray, hidden_tokens: np.ndarray, segment_length: int,
                      alpha: float = 1.0) -> np.ndarray:
    """Fill the hidden tokens of each segment by ridge regression on the ROIs visible in that segment.

    For every segment, the hidden ROIs are regressed (no intercept: the data are standardised) on the visible
    ROIs over all the training samples, ``W = (V'V + alpha I)^-1 V'H``, and the fit is applied sample by sample.
    This is the best *linear, same-time* imputer a training set allows: a stronger reference than the ROI mean
    or interpolation, and one BrainMAE's graph attention approximates with a single softmax-weighted average.

    Parameters
    ----------
    train : ndarray of shape (n_train, n_rois)
        Standardised training samples.
    x : ndarray of shape (n_segments * segment_length, n_rois)
        Standardised scan to fill.
    hidden_tokens : ndarray of bool, shape (n_rois, n_segments)
    segment_length : int
    alpha : float, default=1.0

    Returns
    -------
    ndarray like ``x``, with the hidden samples replaced.
    """
    train = np.asarray(train, dtype=float)
    out = np.asarray(x, dtype=float).copy()
    hidden_tokens = np.asarray(hidden_tokens, dtype=bool)
    s = int(segment_length)
    for k in range(hidden_tokens.shape[1]):
        hid = hidden_tokens[:, k]
        if not hid.any():
            continue
        rows = slice(k * s, (k + 1) * s)
        if hid.all():
            out[rows, :] = 0.0
            continue
        v = train[:, ~hid]
        w = np.linalg.solve(v.T @ v + alpha * np.eye(v.shape[1]), v.T @ train[:, hid])
        out[rows, hid] = out[rows][:, ~hid] @ w
    return out


def masked_mse(pred: np.ndarray, target: np.ndarray, hidden: np.ndarray) -> float:
    """Mean squared error over the hidden samples."""
    hidden = np.asarray(hidden, dtype=bool)
    return float(np.mean((np.asarray(pred, float)[hidden] - np.asarray(target, float)[hidden]) ** 2))
