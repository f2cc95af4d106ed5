"""Synthetic functional connectivity with planted demographic effects, and FC from ROI time series.

numpy only. The cohort generator draws each subject's FC in Fisher-z space (the upper triangle of an
ROI x ROI correlation matrix, ``k=1``, row-major, like ``scipy.spatial.distance.squareform``)::

    z_s = mu + age_std_s * age_effect + sex_s * sex_effect + U h_s + e_s

with ``mu`` a block (network) structure, ``h_s ~ N(0, I)`` individual low-rank variation independent of
the demographics, ``e_s`` edge noise, ``age_std`` the z-scored age and ``sex`` in {0, 1}. The age effect
is planted on a known set of edges (half positive, half negative), the sex effect on a disjoint set, so
the ground truth is exact: ``E[z | age_a] - E[z | age_b] = (age_a - age_b) / age_sd * age_effect``.
With ``n_timepoints`` the observed FC is instead the sample correlation of ``n_timepoints`` Gaussian ROI
samples whose population correlation is the subject's ``tanh(z_s)`` (projected onto the correlation
matrices), which adds realistic finite-scan sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = ["PlantedCohort", "planted_fc_cohort", "sliding_window_fc", "edges_to_matrix", "matrix_to_edges",
           "n_edges_for"]

AGE_MEAN, AGE_SD = 15.0, 3.5   # years; a PNC-like 8-22 year range


def n_edges_for(n_rois: int) -> int:
    """Number of upper-triangle edges of an ``n_rois`` x ``n_rois`` matrix."""
    return n_rois * (n_rois - 1) // 2


def matrix_to_edges(m: np.ndarray) -> np.ndarray:
    """Upper triangle (``k=1``, row-major) of one ``(R, R)`` matrix or a stack ``(n, R, R)``."""
    m = np.asarray(m)
    r = m.shape[-1]
    if m.ndim not in (2, 3) or m.shape[-2] != r:
        raise InvalidInputError(f"matrix_to_edges: expected (R, R) or (n, R, R) matrices, got shape {m.shape}.")
    iu = np.triu_indices(r, k=1)
    return m[..., iu[0], iu[1]]


def edges_to_matrix(e: np.ndarray, diagonal: float = 1.0) -> np.ndarray:
    """Symmetric matrices from upper-triangle edge vectors ``(n_edges,)`` or ``(n, n_edges)``."""
    e = np.asarray(e, dtype=float)
    n_e = e.shape[-1]
    r = int(round((1 + np.sqrt(1 + 8 * n_e)) / 2))
    if n_edges_for(r) != n_e:
        raise InvalidInputError(f"edges_to_matrix: {n_e} edges is not R*(R-1)/2 for any number of ROIs R; "
                                "pass the upper triangle (k=1) of a square matrix.")
    out = np.zeros(e.shape[:-1] + (r, r))
    iu = np.triu_indices(r, k=1)
    out[..., iu[0], iu[1]] = e
    out[..., iu[1], iu[0]] = e
    idx = np.arange(r)
    out[..., idx, idx] = diagonal
    return out


def sliding_window_fc(timeseries: np.ndarray, window: int, step: int = 1, fisher_z: bool = True) -> np.ndarray:
    """FC of sliding windows: ``(n_windows, n_edges)`` correlations (Fisher z by default).

    Parameters
    ----------
    timeseries : ndarray of shape (n_timepoints, n_rois)
    window : int
        Volumes per window (at least 3).
    step : int, default=1
        Volumes between window starts.
    fisher_z : bool, default=True
        Return ``arctanh`` of the correlations (clipped at |r| = 0.999).
    """
    ts = np.asarray(timeseries, dtype=float)
    if ts.ndim != 2 or ts.shape[1] < 2:
        raise InvalidInputError(f"sliding_window_fc: expected (n_timepoints, n_rois >= 2), got shape {ts.shape}.")
    if not (3 <= int(window) <= ts.shape[0]) or int(step) < 1:
        raise InvalidInputError(f"sliding_window_fc: need 3 <= window <= {ts.shape[0]} and step >= 1, got "
                                f"window={window!r}, step={step!r}.")
    starts = range(0, ts.shape[0] - int(window) + 1, int(step))
    out = np.stack([matrix_to_edges(np.corrcoef(ts[s:s + int(window)].T)) for s in starts])
    return np.arctanh(np.clip(out, -0.999, 0.999)) if fisher_z else out


@dataclass(frozen=True)
class PlantedCohort:
    """A synthetic FC cohort and its ground truth.

    Attributes
    ----------
    fc : ndarray of shape (n_subjects, n_edges)
        Observed FC (Fisher z) per subject.
    age : ndarray of shape (n_subjects,)
        Age in years.
    sex : ndarray of shape (n_subjects,)
        0 or 1.
    age_effect : ndarray of shape (n_edges,)
        Planted change of the expected FC per standard deviation of age (``AGE_SD`` years); zero off ``age_edges``.
    sex_effect : ndarray of shape (n_edges,)
        Planted difference sex=1 minus sex=0; zero off ``sex_edges``.
    age_edges, sex_edges : ndarray of bool, shape (n_edges,)
        Where the effects are planted (disjoint).
    mean_fc : ndarray of shape (n_edges,)
        The population mean ``mu`` (at the mean age, sex = 0).
    n_rois : int
    """

    fc: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    age_effect: np.ndarray
    sex_effect: np.ndarray
    age_edges: np.ndarray
    sex_edges: np.ndarray
    mean_fc: np.ndarray
    n_rois: int

    @property
    def demographics(self) -> np.ndarray:
        """``(n_subjects, 2)``: age (years), sex (0/1)."""
        return np.column_stack([self.age, self.sex])

    def expected_fc(self, age: float, sex: float) -> np.ndarray:
        """The population-mean FC (Fisher z, edge space) for the given demographics."""
        return self.mean_fc + (age - AGE_MEAN) / AGE_SD * self.age_effect + sex * self.sex_effect


def _nearest_correlation(r: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Clip the eigenvalues of a symmetric matrix at ``floor`` and rescale it to unit diagonal."""
    w, v = np.linalg.eigh(r)
    c = (v * np.maximum(w, floor)) @ v.T
    d = np.sqrt(np.diag(c))
    return c / d[:, None] / d[None, :]


def planted_fc_cohort(n_subjects: int = 1000, n_rois: int = 16, n_networks: int = 4, age_effect: float = 0.25,
                      sex_effect: float = 0.25, planted_fraction: float = 0.15, n_factors: int = 5,
                      individual_sd: float = 0.12, noise_sd: float = 0.08, n_timepoints: int | None = None,
                      random_state: int | None = 0, layout_seed: int = 0) -> PlantedCohort:
    """Draw a synthetic FC cohort with planted age and sex effects (see the module docstring).

    Parameters
    ----------
    n_subjects : int, default=1000
    n_rois : int, default=16
    n_networks : int, default=4
        ROIs are split into this many equal networks; within-network mean FC is z = 0.6, between 0.1.
    age_effect : float, default=0.25
        Size (Fisher z per SD of age) of the age effect on each planted edge; signs alternate.
    sex_effect : float, default=0.25
        Size of the sex effect on each of its planted edges; signs alternate.
    planted_fraction : float, default=0.15
        Share of edges carrying the age effect (the same share, disjoint, carries the sex effect).
    n_factors : int, default=5
        Rank of the individual (demographics-independent) variation.
    individual_sd : float, default=0.12
        Scale of the individual variation per factor.
    noise_sd : float, default=0.08
        Independent edge noise.
    n_timepoints : int or None, default=None
        When given, observe FC as the sample correlation of this many simulated time points.
    random_state : int or None, default=0
        Seed of the subjects (demographics, individual variation, noise).
    layout_seed : int, default=0
        Seed of the cohort's structure (planted edges, factor loadings), shared by every draw so that a
        training and a held-out cohort drawn with different ``random_state`` have the same ground truth.
    """
    n_subjects, n_rois = int(n_subjects), int(n_rois)
    if n_subjects < 2 or n_rois < 3:
        raise InvalidInputError(f"planted_fc_cohort: need n_subjects >= 2 and n_rois >= 3, got {n_subjects}, {n_rois}.")
    if not (0 < planted_fraction <= 0.5):
        raise InvalidInputError(f"planted_fc_cohort: planted_fraction must lie in (0, 0.5], got {planted_fraction!r}.")
    if n_timepoints is not None and int(n_timepoints) < n_rois + 2:
        raise InvalidInputError(f"planted_fc_cohort: n_timepoints must exceed n_rois + 1 = {n_rois + 1}, "
                                f"got {n_timepoints!r}.")
    n_e = n_edges_for(n_rois)
    lay = np.random.default_rng([int(layout_seed), 77])
    net = np.arange(n_rois) * int(n_networks) // n_rois
    mu = matrix_to_edges(np.where(net[:, None] == net[None, :], 0.6, 0.1))
    k = max(1, int(round(planted_fraction * n_e)))
    order = lay.permutation(n_e)
    age_edges, sex_edges = np.zeros(n_e, bool), np.zeros(n_e, bool)
    age_edges[order[:k]] = True
    sex_edges[order[k:2 * k]] = True
    signs = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    a_eff, s_eff = np.zeros(n_e), np.zeros(n_e)
    a_eff[order[:k]] = float(age_effect) * signs
    s_eff[order[k:2 * k]] = float(sex_effect) * signs
    loadings = lay.standard_normal((int(n_factors), n_e)) * float(individual_sd)

    rng = np.random.default_rng(random_state)
    age = np.clip(rng.normal(AGE_MEAN, AGE_SD, n_subjects), 8.0, 22.0)
    sex = (rng.random(n_subjects) < 0.5).astype(float)
    h = rng.standard_normal((n_subjects, int(n_factors)))
    z = (mu[None] + ((age - AGE_MEAN) / AGE_SD)[:, None] * a_eff[None] + sex[:, None] * s_eff[None]
         + h @ loadings + float(noise_sd) * rng.standard_normal((n_subjects, n_e)))
    if n_timepoints is not None:
        mats = edges_to_matrix(np.tanh(z))
        obs = np.empty_like(z)
        for i in range(n_subjects):
            c = _nearest_correlation(mats[i])
            ts = rng.standard_normal((int(n_timepoints), n_rois)) @ np.linalg.cholesky(c).T
            obs[i] = matrix_to_edges(np.corrcoef(ts.T))
        z = np.arctanh(np.clip(obs, -0.999, 0.999))
    return PlantedCohort(fc=z, age=age, sex=sex, age_effect=a_eff, sex_effect=s_eff, age_edges=age_edges,
                         sex_edges=sex_edges, mean_fc=mu, n_rois=n_rois)
