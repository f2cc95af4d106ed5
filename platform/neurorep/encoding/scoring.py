"""Held-out scores of encoding models, their noise ceiling and their inference.

* :func:`r2_per_target`, :func:`pearson_per_target`: one value per target (voxel, unit).
* :func:`ncsnr_ceiling`: the noise ceiling of each target from repeated measurements, in
  the "noise-ceiling SNR" form of Allen et al. (2022, Nat. Neurosci. 25:116-126,
  doi:10.1038/s41593-021-00962-x): with ``k`` repeats averaged, noise variance ``s2_n``
  (the variance across repeats, averaged over stimuli) and signal variance ``s2_s``, the
  largest fraction of the variance of the repeat means a model can explain is
  ``NC = s2_s / (s2_s + s2_n / k) = ncsnr^2 / (ncsnr^2 + 1 / k)``, ``ncsnr = s_s / s_n``.
  ``s2_s`` is estimated without bias as ``var(mean over repeats) - s2_n / k`` (clipped at 0).
* :func:`permutation_null`: stimulus-relabelling null of every target's R and R2, the same
  permutations for all targets (so the max-statistic gives family-wise p-values), batched.
* :func:`bootstrap_mean_r2`: stimulus-bootstrap distribution of the mean R2 over targets, as
  three GEMMs of the resampling-count matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "r2_per_target",
    "pearson_per_target",
    "ncsnr_ceiling",
    "PermutationNull",
    "permutation_null",
    "bootstrap_mean_r2",
    "r2_split",
]


def r2_per_target(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column, ``1 - SS_res / SS_tot`` (0 where ``y`` is constant)."""
    yc = y - y.mean(0)
    ss_tot = np.einsum("ij,ij->j", yc, yc)
    d = y - pred
    ss_res = np.einsum("ij,ij->j", d, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    r2[ss_tot == 0] = 0.0
    return r2


def pearson_per_target(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Pearson correlation per column (0 where either side is constant)."""
    yc = y - y.mean(0)
    pc = pred - pred.mean(0)
    num = np.einsum("ij,ij->j", yc, pc)
    den = np.sqrt(np.einsum("ij,ij->j", yc, yc) * np.einsum("ij,ij->j", pc, pc))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    r[den == 0] = 0.0
    return r


def ncsnr_ceiling(repeats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Noise ceiling (fraction of variance) of the repeat means of each target.

    Parameters
    ----------
    repeats : ndarray of shape (n_repeats, n_stimuli, n_targets)

    Returns
    -------
    ceiling : ndarray of shape (n_targets,)
        ``NC`` in [0, 1]: the expected R2 of the true signal against the repeat means.
    ncsnr : ndarray of shape (n_targets,)
    """
    k = repeats.shape[0]
    noise_var = repeats.var(0, ddof=1).mean(0)                   # s2_n per target
    mean_var = repeats.mean(0).var(0, ddof=1)                     # s2_s + s2_n / k in expectation
    signal_var = np.maximum(mean_var - noise_var / k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ncsnr = np.where(noise_var > 0, np.sqrt(signal_var / noise_var), np.inf)
        ceiling = np.where(mean_var > 0, signal_var / mean_var, 0.0)
    return np.clip(ceiling, 0.0, 1.0), ncsnr


@dataclass
class PermutationNull:
    """Null distributions of per-target statistics under stimulus relabelling.

    Attributes
    ----------
    r2 : ndarray of shape (n_permutations, n_targets)
    r : ndarray of shape (n_permutations, n_targets)
    """

    r2: np.ndarray
    r: np.ndarray

    def p_values(self, observed: np.ndarray, which: str = "r2") -> np.ndarray:
        """One-sided ``(1 + #null >= observed) / (1 + n)`` per target."""
        null = getattr(self, which)
        return (1 + np.sum(null >= observed[None] - 1e-12 * np.maximum(1.0, np.abs(observed))[None], 0)) / (
            1 + null.shape[0])

    def p_values_fwer(self, observed: np.ndarray, which: str = "r2") -> np.ndarray:
        """Family-wise p-values from the maximum statistic over targets (Nichols & Holmes, 2002)."""
        mx = getattr(self, which).max(1)
        return (1 + np.sum(mx[:, None] >= observed[None] - 1e-12, 0)) / (1 + mx.shape[0])


def permutation_null(y: np.ndarray, pred: np.ndarray, n_permutations: int, random_state=None,
                     batch: int = 64) -> PermutationNull:
    """R and R2 of every target when the held-out predictions are paired with relabelled stimuli.

    Permuting the rows of ``pred`` changes only ``y' P pred`` per target (the norms stay), so
    both statistics follow from one batched inner product per permutation.
    """
    rng = np.random.default_rng(random_state)
    n, t = y.shape
    yc = y - y.mean(0)
    ss_tot = np.einsum("ij,ij->j", yc, yc)
    pc = pred - pred.mean(0)
    pp = np.einsum("ij,ij->j", pred, pred)
    pcpc = np.einsum("ij,ij->j", pc, pc)
    ysum2 = np.einsum("ij,ij->j", y, y)
    perms = np.argsort(rng.random((n_permutations, n)), axis=1)
    r2 = np.empty((n_permutations, t))
    r = np.empty((n_permutations, t))
    den = np.sqrt(ss_tot * pcpc)
    # chunks of targets keep the gathered (batch, n, chunk) block near 16 M values
    chunk = max(1, int(16e6 // max(1, batch * n)))
    for s in range(0, n_permutations, batch):
        P = perms[s:s + batch]
        for c in range(0, t, chunk):
            sl = slice(c, min(c + chunk, t))
            # y . pred[perm] per target: gather the permuted predictions, multiply, sum over stimuli
            dot = np.einsum("bij,ij->bj", pred[:, sl][P], y[:, sl])          # (b, chunk)
            dotc = dot - n * y[:, sl].mean(0) * pred[:, sl].mean(0)
            ss_res = ysum2[None, sl] + pp[None, sl] - 2 * dot
            with np.errstate(divide="ignore", invalid="ignore"):
                r2[s:s + batch, sl] = np.where(ss_tot[sl] > 0, 1.0 - ss_res / ss_tot[sl], 0.0)
                r[s:s + batch, sl] = np.where(den[sl] > 0, dotc / den[sl], 0.0)
    return PermutationNull(r2=r2, r=r)


def bootstrap_mean_r2(y: np.ndarray, pred: np.ndarray, n_bootstrap: int, random_state=None,
                      batch: int = 256) -> np.ndarray:
    """Mean R2 over targets for ``n_bootstrap`` resamples of the stimuli (with replacement).

    With the count matrix ``C`` (b x n) of each resample: ``SS_res = C (y - pred)^2`` and
    ``SS_tot = C y^2 - (C y)^2 / n``: three GEMMs per batch of resamples.
    """
    rng = np.random.default_rng(random_state)
    n = y.shape[0]
    e2 = (y - pred) ** 2
    y2 = y ** 2
    out = np.empty(n_bootstrap)
    for s in range(0, n_bootstrap, batch):
        b = min(batch, n_bootstrap - s)
        idx = rng.integers(0, n, size=(b, n))
        C = np.zeros((b, n))
        np.add.at(C, (np.repeat(np.arange(b), n), idx.ravel()), 1.0)
        ss_res = C @ e2
        sy = C @ y
        ss_tot = C @ y2 - sy ** 2 / n
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 1e-12 * np.maximum(1.0, np.abs(C @ y2)), 1.0 - ss_res / ss_tot, 0.0)
        out[s:s + b] = r2.mean(1)
    return out


def r2_split(y: np.ndarray, band_predictions: np.ndarray) -> np.ndarray:
    """Split of each target's R2 between feature bands (the product measure).

    ``R2_b = (2 yhat_b' y - yhat_b' yhat) / (y' y)`` with ``y`` centred on its mean and
    ``yhat = sum_b yhat_b`` (Dupre la Tour, Eickenberg, Nunez-Elizalde & Gallant, 2022, the
    formula of himalaya's ``r2_score_split``; St-Yves & Naselaris, 2018). When the band
    predictions sum to the centred prediction, the bands' values sum to its R2; a constant
    offset between the prediction's mean and ``y``'s mean is not attributed to any band.

    Parameters
    ----------
    y : ndarray of shape (n, t)
    band_predictions : ndarray of shape (n_bands, n, t)
        Each band's part of the prediction (``(X_b - mean) @ coef_b``), without the intercept.

    Returns
    -------
    ndarray of shape (n_bands, t)
    """
    yc = y - y.mean(0)
    total = band_predictions.sum(0)
    yy = np.einsum("ij,ij->j", yc, yc)
    num = 2 * np.einsum("bij,ij->bj", band_predictions, yc) - np.einsum("bij,ij->bj", band_predictions, total)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(yy > 0, num / yy, 0.0)
    return out
