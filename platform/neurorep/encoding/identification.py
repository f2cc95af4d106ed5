"""Identification: which candidate's measured pattern does a predicted pattern match best?

Following Kay, Naselaris, Prenger & Gallant (2008, Nature 452:352-355,
doi:10.1038/nature06713): each stimulus's pattern predicted by an encoding model that never
saw it is correlated (Pearson, across targets) with the measured pattern of every
candidate stimulus; the stimulus is identified when its own pattern ranks first (top-1) or
among the first ``k`` (top-k). Chance is ``1/N`` and ``k/N`` for ``N`` candidates.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pattern_correlations", "identification_ranks", "topk_accuracy", "topk_null"]


def _zrows(a: np.ndarray) -> np.ndarray:
    a = a - a.mean(1, keepdims=True)
    nrm = np.linalg.norm(a, axis=1, keepdims=True)
    nrm[nrm == 0] = 1.0
    return a / nrm


def pattern_correlations(predicted: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Pearson correlation (across targets) of every predicted row with every measured row: (n_pred, n_cand)."""
    return _zrows(predicted) @ _zrows(measured).T


def identification_ranks(corr: np.ndarray, truth: np.ndarray | None = None) -> np.ndarray:
    """0-based rank of the true candidate in each row (0 = identified); ties count against it.

    ``truth[i]`` is the column of row ``i``'s own stimulus (default: the diagonal).
    """
    n = corr.shape[0]
    truth = np.arange(n) if truth is None else np.asarray(truth)
    own = corr[np.arange(n), truth]
    better = corr >= own[:, None]
    better[np.arange(n), truth] = False
    return better.sum(1)


def topk_accuracy(ranks: np.ndarray, k: int) -> float:
    """Fraction of rows whose true candidate ranks within the first ``k``."""
    return float(np.mean(ranks < k))


def topk_null(corr: np.ndarray, k: int, n_permutations: int, random_state=None) -> np.ndarray:
    """Top-k accuracy when the candidates' identities are relabelled at random (batched).

    The membership matrix ``M[i, j] = (candidate j is among row i's k best)`` is computed
    once; a relabelling ``pi`` scores ``mean_i M[i, pi(i)]``.
    """
    rng = np.random.default_rng(random_state)
    n = corr.shape[0]
    order = np.argsort(-corr, axis=1, kind="stable")[:, :k]
    M = np.zeros(corr.shape, dtype=bool)
    np.put_along_axis(M, order, True, axis=1)
    perms = np.argsort(rng.random((n_permutations, n)), axis=1)
    return M[np.arange(n)[None, :], perms].mean(1)
