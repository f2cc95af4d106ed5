"""The planted brain: voxel and MEG responses built from model activations with a known recipe.

Everything here is synthetic. Given activations ``F_b`` (stimuli x channels) of model blocks, each
region of interest (ROI) is driven by one planted block and each subject gets:

* its own voxels: a random subset (60 to 100 % of the region, drawn per subject) of the region's
  in-mask voxels, so voxel counts differ between subjects;
* its own mixing: ``W = W0 K``, with ``W0`` standard normal (channels x voxels) and ``K`` a
  Gaussian kernel over the voxels' MNI distances (``smoothness_mm``), so neighbouring voxels share
  tuning; the signal ``S = z(F_b) W`` is standardised per voxel (mean 0, variance 1 over the stimuli);
* repeats ``Y_r = S + E_r`` with spatially correlated noise: every voxel's noise has variance
  ``1 / snr`` and two voxels at distance ``d`` mm correlate ``exp(-d / noise_length_mm)``.

So a voxel's signal-to-noise ratio (signal over noise variance, one repeat) is exactly ``snr``; its
expected test-retest correlation between two repeats is ``snr / (1 + snr)`` and that of the mean of
``n_repeats`` repeats with another such mean is ``n snr / (1 + n snr)`` (Spearman-Brown).

Routing (optional): in the routing ROI, half the voxels (the "routing" voxels) are driven by the
spatial maximum of each channel's map (a feature drives them wherever it appears in the image), the
other half (the "fixed" voxels) by the channels' values at one position of the map each.

MEG (optional): sensor x time responses. Each planted block's activations project to the sensors
through its own random mixing (one overall scale: mean signal variance 1 per sensor) and its
contribution follows a Gaussian time course peaking
at the block's planted latency; repeats add independent noise of variance ``1 / snr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SubjectROI", "MEGData", "PlantedData", "zscore_stats", "make_subject_roi", "make_meg",
           "signal_from_features"]


@dataclass
class SubjectROI:
    """One subject's ROI: its voxels, mixing and responses.

    Attributes
    ----------
    subject, roi, block : str
        Names; ``block`` is the planted model block that drives the ROI.
    coords : ndarray of shape (n_voxels, 3)
        MNI coordinates (mm) of the subject's voxels.
    weights : ndarray of shape (n_channels, n_voxels)
        The mixing ``W`` (after spatial smoothing).
    drive : ndarray of str, shape (n_voxels,)
        ``"mean"`` (spatial mean of the block's maps), ``"routing"`` (spatial max) or ``"fixed"``.
    position : ndarray of shape (n_voxels, 2)
        The map position (row, column) of fixed-location voxels (-1 for the others).
    signal : ndarray of shape (n_stimuli, n_voxels)
        The noise-free response, standardised per voxel.
    repeats : ndarray of shape (n_repeats, n_stimuli, n_voxels)
        ``signal`` plus structured noise.
    signal_mean, signal_std : ndarray of shape (n_voxels,)
        The standardisation applied to the raw mixed signal (reused for new stimuli).
    """

    subject: str
    roi: str
    block: str
    coords: np.ndarray
    weights: np.ndarray
    drive: np.ndarray
    position: np.ndarray
    signal: np.ndarray
    repeats: np.ndarray
    signal_mean: np.ndarray
    signal_std: np.ndarray


@dataclass
class MEGData:
    """MEG-like sensor x time responses.

    Attributes
    ----------
    times_ms : ndarray of shape (n_times,)
    latencies_ms : dict of str to float
        Planted peak latency of each block's contribution.
    width_ms : float
        Standard deviation of each Gaussian time course.
    sensor_weights : dict of str to ndarray (n_channels, n_sensors)
    repeats : ndarray of shape (n_repeats, n_stimuli, n_sensors, n_times)
    signal : ndarray of shape (n_stimuli, n_sensors, n_times)
    """

    times_ms: np.ndarray
    latencies_ms: dict[str, float]
    width_ms: float
    sensor_weights: dict[str, np.ndarray]
    repeats: np.ndarray
    signal: np.ndarray


@dataclass
class PlantedData:
    """Everything generated, with the ground truth.

    Attributes
    ----------
    stimulus_ids : tuple of str
    rois : dict of str to SubjectROI, keyed ``"<roi>.<subject>"``
    meg : MEGData or None
    feature_stats : dict
        Per block (and drive) the channel means and standard deviations used to standardise features.
    ground_truth : dict
        See :meth:`neurorep_planted_brain.PlantedBrain.ground_truth`.
    """

    stimulus_ids: tuple[str, ...]
    rois: dict[str, SubjectROI]
    meg: MEGData | None
    feature_stats: dict[str, tuple[np.ndarray, np.ndarray]]
    ground_truth: dict[str, Any] = field(default_factory=dict)


def zscore_stats(a: np.ndarray, axis: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over ``axis`` (a zero deviation becomes 1: constant channels stay 0)."""
    mu = a.mean(axis=axis)
    sd = a.std(axis=axis)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return mu, sd


def _gauss_kernel(coords: np.ndarray, sigma_mm: float) -> np.ndarray:
    d2 = ((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    if sigma_mm <= 0:
        return np.eye(coords.shape[0])
    k = np.exp(-d2 / (2.0 * sigma_mm ** 2))
    return k / np.sqrt((k ** 2).sum(0, keepdims=True))


def _noise_factor(coords: np.ndarray, length_mm: float) -> np.ndarray:
    """Lower Cholesky factor of the noise correlation ``exp(-d / length_mm)``."""
    if length_mm <= 0:
        return np.eye(coords.shape[0])
    d = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
    c = np.exp(-d / length_mm)
    return np.linalg.cholesky(c + 1e-9 * np.eye(c.shape[0]))


def drive_features(features: dict[str, np.ndarray], block: str, drive: str,
                   stats: dict[str, tuple[np.ndarray, np.ndarray]], position: tuple[int, int] | None = None
                   ) -> np.ndarray:
    """Standardised (stimuli x channels) drive of ``block``: spatial mean, spatial max, or one map position."""
    if drive == "mean":
        f, key = features[block], block
    elif drive == "routing":
        f, key = features[f"{block}:map"].max(axis=(2, 3)), f"{block}:max"
    else:
        m = features[f"{block}:map"]
        f, key = m[:, :, position[0], position[1]], f"{block}:map"
    mu, sd = stats[key]
    return (f - mu) / sd


def signal_from_features(features: dict[str, np.ndarray], sr: SubjectROI,
                         stats: dict[str, tuple[np.ndarray, np.ndarray]], standardise: bool = True) -> np.ndarray:
    """The noise-free voxel responses of ``sr`` to the stimuli whose activations are ``features``."""
    n = features[sr.block].shape[0]
    raw = np.empty((n, sr.weights.shape[1]))
    for drive in ("mean", "routing"):
        sel = np.flatnonzero(sr.drive == drive)
        if sel.size:
            raw[:, sel] = drive_features(features, sr.block, drive, stats) @ sr.weights[:, sel]
    fixed = np.flatnonzero(sr.drive == "fixed")
    for pos in {tuple(p) for p in sr.position[fixed]}:
        sel = fixed[(sr.position[fixed] == pos).all(1)]
        raw[:, sel] = drive_features(features, sr.block, "fixed", stats, pos) @ sr.weights[:, sel]
    if not standardise:
        return raw
    return (raw - sr.signal_mean) / sr.signal_std


def make_subject_roi(features: dict[str, np.ndarray], stats: dict[str, tuple[np.ndarray, np.ndarray]], *,
                     subject: str, roi: str, block: str, roi_coords: np.ndarray, keep_fraction: float,
                     smoothness_mm: float, noise_length_mm: float, snr: float, n_repeats: int, routing: bool,
                     rng_weights: np.random.Generator, rng_noise: np.random.Generator) -> SubjectROI:
    """Draw one subject's voxels and mixing for one ROI and generate its responses (see the module docstring)."""
    n_all = roi_coords.shape[0]
    n_vox = max(4, int(round(keep_fraction * n_all)))
    idx = np.sort(rng_weights.choice(n_all, size=n_vox, replace=False))
    coords = roi_coords[idx]
    n_ch = features[block].shape[1]
    w = rng_weights.standard_normal((n_ch, n_vox)) @ _gauss_kernel(coords, smoothness_mm)
    drive = np.full(n_vox, "mean", dtype=object)
    position = -np.ones((n_vox, 2), dtype=int)
    if routing:
        side = features[f"{block}:map"].shape[-1]
        order = rng_weights.permutation(n_vox)
        drive[order[: n_vox // 2]] = "routing"
        fixed = order[n_vox // 2:]
        drive[fixed] = "fixed"
        lo, hi = side // 4, side - side // 4  # the central half of the map
        position[fixed] = rng_weights.integers(lo, hi, size=(fixed.size, 2))
    sr = SubjectROI(subject, roi, block, coords, w, drive.astype(str), position, np.empty(0), np.empty(0),
                    np.zeros(n_vox), np.ones(n_vox))
    raw = signal_from_features(features, sr, stats, standardise=False)
    sr.signal_mean, sr.signal_std = zscore_stats(raw, (0,))
    sr.signal = (raw - sr.signal_mean) / sr.signal_std
    chol = _noise_factor(coords, noise_length_mm)
    z = rng_noise.standard_normal((n_repeats, raw.shape[0], n_vox))
    sr.repeats = sr.signal[None] + (z @ chol.T) / np.sqrt(snr)
    return sr


def make_meg(features: dict[str, np.ndarray], stats: dict[str, tuple[np.ndarray, np.ndarray]], *,
             latencies_ms: dict[str, float], times_ms: np.ndarray, width_ms: float, n_sensors: int, snr: float,
             n_repeats: int, rng_weights: np.random.Generator, rng_noise: np.random.Generator) -> MEGData:
    """Sensor x time responses with each block's contribution peaking at its planted latency."""
    n = next(iter(features.values())).shape[0]
    signal = np.zeros((n, n_sensors, times_ms.size))
    weights: dict[str, np.ndarray] = {}
    for block, lat in latencies_ms.items():
        # the block's own activations (not centred or rescaled channel by channel, so the pattern
        # geometry is the block's) through a random sensor mixing, scaled by one number so that the mean
        # signal variance per sensor over the stimuli is 1; the part common to all stimuli is kept (an
        # evoked response)
        f = features[block]
        a = rng_weights.standard_normal((f.shape[1], n_sensors))
        p = f @ a
        p = p / np.sqrt(p.var(0).mean())
        g = np.exp(-((times_ms - lat) ** 2) / (2.0 * width_ms ** 2))
        signal += p[:, :, None] * g[None, None, :]
        weights[block] = a
    noise = rng_noise.standard_normal((n_repeats,) + signal.shape) / np.sqrt(snr)
    return MEGData(times_ms, dict(latencies_ms), float(width_ms), weights, signal[None] + noise, signal)
