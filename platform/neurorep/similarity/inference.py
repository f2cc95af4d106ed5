"""Resampling helpers shared by the CKA and shape analyzers: draws, percentile intervals, p-values."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..rsa.inference import stimulus_bootstrap_counts

__all__ = ["draw_permutations", "stimulus_bootstrap_counts", "percentile_interval", "permutation_p_value"]


def draw_permutations(n: int, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_permutations, n)`` independent uniform permutations of ``0..n-1``."""
    return rng.permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)


def percentile_interval(samples: Any, confidence: float) -> tuple[float, float, float]:
    """Percentile interval ``(low, high)`` of the finite samples, and their standard deviation."""
    s = np.asarray(samples, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size < 2:
        return float("nan"), float("nan"), float("nan")
    a = (1 - confidence) / 2
    lo, hi = np.percentile(s, [100 * a, 100 * (1 - a)])
    return float(lo), float(hi), float(np.std(s, ddof=1))


def permutation_p_value(observed: float, null: Any, larger_is_more_similar: bool) -> float:
    """One-sided ``(1 + #{null at least as similar as observed}) / (1 + n_permutations)``.

    For similarities (CKA, CCA) "as similar" means ``>=``; for distances (Procrustes, angular) ``<=``.
    """
    z = np.asarray(null, dtype=np.float64)
    tol = 1e-12 * max(1.0, abs(observed))
    hits = np.sum(z >= observed - tol) if larger_is_more_similar else np.sum(z <= observed + tol)
    return float((1 + hits) / (1 + z.size))
