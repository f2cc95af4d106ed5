"""Activation-sparsity measures on stimuli-first arrays (numpy only).

Rows are inputs (a stimulus, a token, an image position), columns are units. The paper's
measure is the fraction of a row's entries that are non-zero; two population-sparseness
measures from neuroscience are computed alongside it:

* Treves-Rolls population sparseness (Treves & Rolls, 1991; in the normalised form of
  Vinje & Gallant, 2000): with the activity ratio ``a = (mean |r|)^2 / mean(r^2)`` over the N
  units of a row, ``S = (1 - a) / (1 - 1/N)``; 0 when all units respond equally, 1 when one
  unit carries all the activity.
* Hoyer sparseness (Hoyer, 2004): ``(sqrt(N) - ||r||_1 / ||r||_2) / (sqrt(N) - 1)``, with the
  same bounds.

Both are undefined (NaN) for an all-zero row; ``|r|`` is used so that signed responses
(z-scored fMRI, SiLU outputs) are accepted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CITATION", "QUANTILES", "nonzero_mask", "nonzero_fraction", "treves_rolls_sparseness",
           "hoyer_sparseness", "summarize"]

CITATION = ("Li, You, Bhojanapalli, Li, Rawat, Reddi, Ye, Chern, Yu, Guo & Kumar (2023). The Lazy Neuron "
            "Phenomenon: On Emergence of Activation Sparsity in Transformers. ICLR 2023. arXiv:2210.06313")

#: Quantiles of the per-input non-zero fraction reported by :func:`summarize`.
QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)


def nonzero_mask(a: np.ndarray, tol: float = 0.0, tol_mode: str = "absolute", side: str = "abs") -> np.ndarray:
    """Boolean array: True where ``|a| > threshold`` (``side="abs"``) or ``a > threshold`` (``side="positive"``).

    Parameters
    ----------
    a : ndarray of shape (n_inputs, n_units)
    tol : float, default=0.0
        The threshold (0: exactly non-zero entries, the paper's count for ReLU outputs).
    tol_mode : {"absolute", "relative"}, default="absolute"
        ``"relative"``: the threshold is ``tol`` times the row's largest ``|a|`` (scale-free).
    side : {"abs", "positive"}, default="abs"
        ``"positive"`` counts only entries above the threshold on the positive side: a unit "fires"
        (for SiLU/GELU, whose negative side is small and bounded, this is the count that matches
        ReLU's; for ReLU outputs both sides give the same count).
    """
    a = np.asarray(a)
    mag = np.abs(a)
    if tol_mode == "relative":
        thr = tol * mag.max(axis=-1, keepdims=True)
    elif tol_mode == "absolute":
        thr = tol
    else:
        raise ValueError(f"nonzero_mask: tol_mode must be 'absolute' or 'relative', got {tol_mode!r}.")
    if side == "positive":
        return a > thr
    if side != "abs":
        raise ValueError(f"nonzero_mask: side must be 'abs' or 'positive', got {side!r}.")
    return mag > thr


def nonzero_fraction(a: np.ndarray, tol: float = 0.0, tol_mode: str = "absolute", side: str = "abs") -> np.ndarray:
    """Per row, the fraction of entries above the threshold (see :func:`nonzero_mask`)."""
    m = nonzero_mask(a, tol, tol_mode, side)
    return m.mean(axis=-1)


def treves_rolls_sparseness(a: np.ndarray) -> np.ndarray:
    """Per row, the normalised Treves-Rolls population sparseness ``(1 - a) / (1 - 1/N)`` (NaN for zero rows)."""
    r = np.abs(np.asarray(a, dtype=float))
    n = r.shape[-1]
    m1 = r.mean(axis=-1)
    m2 = (r * r).mean(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(m2 > 0, m1 * m1 / np.where(m2 > 0, m2, 1.0), np.nan)
        return (1.0 - ratio) / (1.0 - 1.0 / n) if n > 1 else np.full_like(ratio, np.nan)


def hoyer_sparseness(a: np.ndarray) -> np.ndarray:
    """Per row, Hoyer's sparseness ``(sqrt(N) - L1/L2) / (sqrt(N) - 1)`` (NaN for zero rows)."""
    r = np.abs(np.asarray(a, dtype=float))
    n = r.shape[-1]
    l1 = r.sum(axis=-1)
    l2 = np.sqrt((r * r).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(l2 > 0, l1 / np.where(l2 > 0, l2, 1.0), np.nan)
        return (np.sqrt(n) - ratio) / (np.sqrt(n) - 1.0) if n > 1 else np.full_like(ratio, np.nan)


def summarize(a: np.ndarray, tol: float = 0.0, tol_mode: str = "absolute",
              side: str = "abs") -> dict[str, float | int | dict]:
    """The per-input non-zero fraction of ``a`` summarised: mean, std, min, max, quantiles, dead and always-on units.

    Returns
    -------
    dict
        ``mean``, ``std``, ``min``, ``max``, ``quantiles`` (``{"0.05": ..., ...}``), ``dead_units``
        (fraction of units never above the threshold), ``always_on_units``, ``n_inputs``, ``n_units``.
    """
    a = np.asarray(a)
    mask = nonzero_mask(a, tol, tol_mode, side)
    per = mask.mean(axis=1)
    qs = np.quantile(per, QUANTILES)
    return {
        "mean": float(per.mean()), "std": float(per.std()), "min": float(per.min()), "max": float(per.max()),
        "quantiles": {f"{q:g}": float(v) for q, v in zip(QUANTILES, qs)},
        "dead_units": float((~mask.any(axis=0)).mean()), "always_on_units": float(mask.all(axis=0).mean()),
        "n_inputs": int(a.shape[0]), "n_units": int(a.shape[1]),
    }
