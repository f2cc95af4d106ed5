"""Shape metrics and canonical correlations from (weighted) cross-product matrices, batched over resamples.

Every score here is a function of the three centred cross-product matrices of the two
representations ``X`` (n x p) and ``Y`` (n x q):

``Cxx = Xc' Xc``, ``Cxy = Xc' Yc``, ``Cyy = Yc' Yc``.

Each side is mapped by a "side transform" ``Z`` computed from its own ``C`` (a scaling, a
partial whitening, or a (truncated) whitening), and the score is read from the singular values
of ``T = Zx' Cxy Zy``:

* ``procrustes`` -- orthogonal Procrustes distance of the unit-Frobenius-norm centred inputs,
  ``min_Q ||X/|X| - Y/|Y| Q||_F = sqrt(2 - 2 ||Xc'Yc||_* / (|Xc| |Yc|))`` (Schoenemann, 1966;
  Ding, Denain & Steinhardt, 2021).
* ``angular`` -- the angular shape distance of Williams, Kunz, Kornblith & Linderman (2021),
  ``arccos(||Xw'Yw||_* / (|Xw| |Yw|))`` with the partial whitening
  ``Xw = Xc V diag(alpha + (1 - alpha) lam^-1/2) V'`` (``V diag(lam) V' = Cxx``, ``lam`` clipped
  at 1e-7 as in netrep); ``alpha = 1`` is the Procrustes angle, ``alpha = 0`` the CCA angle.
* ``cca`` -- mean canonical correlation (Hotelling, 1936): singular values of
  ``Cxx^-1/2 Cxy Cyy^-1/2`` (pseudo-inverse square roots), averaged over ``min(rank X, rank Y)``.
* ``svcca`` -- Raghu, Gilmer, Yosinski & Sohl-Dickstein (2017): each side is first cut to the
  leading principal directions that hold ``variance`` (0.99) of its variance, then CCA.
* ``pwcca`` -- Morcos, Raghu & Bengio (2018): canonical correlations weighted by how much of
  ``x``'s units each canonical variate ``h_i = Xc w_i`` accounts for, ``a_i = sum_j |<h_i, x_j>|``.

Resampling without re-slicing: a bootstrap sample with stimulus counts ``c`` has
``C(c)xy = X' diag(c) Y - (X'c)(c'Y) / sum(c)``, so a batch of resamples is one batched GEMM;
relabelling the stimuli of ``y`` (a permutation test) changes ``Cxy`` only. The orthogonally
invariant scores first rotate each input onto its singular vectors (``Xc = U S V'`` -> ``U S``),
which changes none of the three matrices' invariants and makes ``p, q <= n``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import InvalidInputError

__all__ = ["METRICS", "SimilarityScores", "prepare", "scores_from_counts", "scores_from_permutations",
           "observed_score", "canonical_correlations"]

METRICS = ("procrustes", "angular", "cca", "svcca", "pwcca")
Metric = Literal["procrustes", "angular", "cca", "svcca", "pwcca"]
_CHUNK_BYTES = 64 * 2 ** 20
_EIG_TOL = 1e-7   # netrep's eigenvalue floor for partial whitening


@dataclass
class Prepared:
    """Centred (and for orthogonally invariant scores, rotated) inputs."""

    X: np.ndarray
    Y: np.ndarray
    metric: str
    alpha: float
    variance: float


SimilarityScores = np.ndarray


def _reduce(Xc: np.ndarray) -> np.ndarray:
    """``U S`` of the thin SVD of ``Xc`` (rank-revealing): the same cross products up to a rotation."""
    if Xc.shape[1] <= Xc.shape[0] // 2:
        return Xc
    U, S, _ = np.linalg.svd(Xc, full_matrices=False)
    tol = S[0] * max(Xc.shape) * np.finfo(np.float64).eps if S.size else 0.0
    r = int(np.sum(S > tol))
    return U[:, :r] * S[:r]


def prepare(X: Any, Y: Any, metric: Metric, *, alpha: float = 1.0, variance: float = 0.99) -> Prepared:
    """Centre both inputs (float64) and rotate them onto their singular vectors where the metric allows."""
    if metric not in METRICS:
        raise InvalidInputError(f"shape metrics: metric must be one of {list(METRICS)}, got {metric!r}.")
    Xc = np.asarray(X, dtype=np.float64)
    Yc = np.asarray(Y, dtype=np.float64)
    Xc = Xc - Xc.mean(0)
    Yc = Yc - Yc.mean(0)
    if metric != "pwcca":         # pwcca weights individual units of x: no rotation of x
        Xc = _reduce(Xc)
    Yc = _reduce(Yc)
    return Prepared(Xc, Yc, metric, float(alpha), float(variance))


# =========================================================================== side transforms

def _eigh(C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, V = np.linalg.eigh(C)
    return np.maximum(lam, 0.0), V


def _rank_mask(lam: np.ndarray, p: int, n: int) -> np.ndarray:
    top = lam.max(-1, keepdims=True)
    return lam > top * max(p, n) * np.finfo(np.float64).eps * 10


def _variance_mask(lam: np.ndarray, variance: float) -> np.ndarray:
    """Keep the leading eigen-directions (eigh sorts ascending) until ``variance`` of the total is held."""
    tot = lam.sum(-1, keepdims=True)
    desc = lam[..., ::-1]
    before = np.cumsum(desc, -1) - desc           # variance held by the directions above this one
    keep_desc = before < variance * tot * (1 - 1e-12)
    return keep_desc[..., ::-1] & (lam > 0)


def _side(C: np.ndarray, metric: str, alpha: float, variance: float, n: int) -> dict[str, np.ndarray]:
    """``Z`` (…, p, k) with the side's scale folded in, and the side's rank (…,)."""
    p = C.shape[-1]
    if metric == "procrustes" or (metric == "angular" and alpha > 1 - _EIG_TOL):
        tr = np.trace(C, axis1=-2, axis2=-1)
        s = np.where(tr > 0, 1.0 / np.sqrt(np.where(tr > 0, tr, 1.0)), np.nan)
        Z = np.broadcast_to(np.eye(p), C.shape) * s[..., None, None]
        return {"Z": Z, "rank": np.full(tr.shape, p)}
    lam, V = _eigh(C)
    if metric == "angular":
        lc = np.maximum(lam, _EIG_TOL)
        d = alpha + (1 - alpha) / np.sqrt(lc)
        var = np.sum(lam * d * d, -1)
        d = d / np.sqrt(np.where(var > 0, var, np.nan))[..., None]
        return {"Z": (V * d[..., None, :]) @ np.swapaxes(V, -1, -2), "rank": np.full(var.shape, p)}
    mask = _rank_mask(lam, p, n) if metric in ("cca", "pwcca") else _variance_mask(lam, variance)
    inv = np.where(mask, 1.0 / np.sqrt(np.where(mask, lam, 1.0)), 0.0)
    out = {"Z": V * inv[..., None, :], "rank": mask.sum(-1)}
    if metric == "pwcca":
        out["VsqrtL"] = V * np.where(mask, np.sqrt(lam), 0.0)[..., None, :]
    return out


def _finish(T: np.ndarray, sx: dict, sy: dict, metric: str) -> np.ndarray:
    """Scores from ``T = Zx' Cxy Zy`` (…, px, qy); NaN where a side had no variance."""
    bad = ~np.isfinite(T).all(axis=(-2, -1))
    if np.any(bad):
        out = _finish(np.where(bad[..., None, None], 0.0, T), sx, sy, metric)
        return np.where(bad, np.nan, out)
    if metric == "pwcca":
        U, s, _ = np.linalg.svd(T, full_matrices=False)
        k = np.minimum(sx["rank"], sy["rank"])
        # canonical variates of x: h_i = Xc Zx u_i; <h_i, x_j> = (Cxx Zx u_i)_j = (V sqrt(lam) u_i)_j
        A = np.abs(sx["VsqrtL"] @ U).sum(-2)                 # (…, r)
        idx = np.arange(s.shape[-1])
        keep = idx < np.asarray(k)[..., None]
        a = np.where(keep, A, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sum(a * np.minimum(s, 1.0), -1) / np.sum(a, -1)
    s = np.linalg.svd(T, compute_uv=False)
    tot = s.sum(-1)
    if metric == "procrustes":
        return np.sqrt(np.maximum(0.0, 2.0 - 2.0 * np.minimum(tot, 1.0)))
    if metric == "angular":
        return np.arccos(np.clip(tot, -1.0, 1.0))
    k = np.minimum(sx["rank"], sy["rank"])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, np.minimum(s, 1.0).sum(-1) / np.maximum(k, 1), np.nan)


def _chunk(n: int, p: int, q: int) -> int:
    return max(1, int(_CHUNK_BYTES // (8 * (n * max(p, q) + p * p + q * q + 2 * p * q))))


# =========================================================================== public entry points

def _weighted_cross(A: np.ndarray, B: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``A' diag(c) B - (A'c)(c'B)/sum(c)`` for each row of ``c`` (b, n) -> (b, p, q)."""
    m = c.sum(1)
    ac = c @ A
    bc = c @ B
    Aw = A.T[None] * c[:, None, :]
    return Aw @ B - ac[:, :, None] * bc[:, None, :] / m[:, None, None]


def scores_from_counts(prep: Prepared, counts: np.ndarray) -> np.ndarray:
    """The score of every bootstrap sample given by stimulus ``counts`` (B, n)."""
    X, Y = prep.X, prep.Y
    n, p, q = X.shape[0], X.shape[1], Y.shape[1]
    C = np.asarray(counts, dtype=np.float64)
    out = np.empty(C.shape[0])
    step = _chunk(n, p, q)
    for b0 in range(0, C.shape[0], step):
        c = C[b0:b0 + step]
        cxx, cyy, cxy = _weighted_cross(X, X, c), _weighted_cross(Y, Y, c), _weighted_cross(X, Y, c)
        sx = _side(cxx, prep.metric, prep.alpha, prep.variance, n)
        sy = _side(cyy, prep.metric, prep.alpha, prep.variance, n)
        T = np.swapaxes(sx["Z"], -1, -2) @ cxy @ sy["Z"]
        out[b0:b0 + step] = _finish(T, sx, sy, prep.metric)
    return out


def observed_score(prep: Prepared) -> float:
    """The score of the full sample."""
    return float(scores_from_counts(prep, np.ones((1, prep.X.shape[0])))[0])


def scores_from_permutations(prep: Prepared, perms: np.ndarray) -> np.ndarray:
    """The score with ``y``'s stimuli relabelled by each row of ``perms`` (P, n): only ``Cxy`` changes."""
    X, Y = prep.X, prep.Y
    n, p, q = X.shape[0], X.shape[1], Y.shape[1]
    sx = _side(X.T @ X, prep.metric, prep.alpha, prep.variance, n)
    sy = _side(Y.T @ Y, prep.metric, prep.alpha, prep.variance, n)
    ZxT_X = (X @ sx["Z"]).T                      # (kx, n): the transformed x, computed once
    YZ = Y @ sy["Z"]                             # (n, ky)
    perms = np.asarray(perms)
    out = np.empty(perms.shape[0])
    step = _chunk(n, p, q)
    for p0 in range(0, perms.shape[0], step):
        T = ZxT_X[None] @ YZ[perms[p0:p0 + step]]          # (b, kx, ky)
        out[p0:p0 + step] = _finish(T, sx, sy, prep.metric)
    return out


def canonical_correlations(X: Any, Y: Any) -> np.ndarray:
    """All canonical correlations of ``X`` and ``Y`` (descending, ``min(rank X, rank Y)`` of them)."""
    prep = prepare(X, Y, "cca")
    n = prep.X.shape[0]
    sx = _side(prep.X.T @ prep.X, "cca", 1.0, 1.0, n)
    sy = _side(prep.Y.T @ prep.Y, "cca", 1.0, 1.0, n)
    s = np.linalg.svd(sx["Z"].T @ (prep.X.T @ prep.Y) @ sy["Z"], compute_uv=False)
    return np.minimum(s[:int(min(sx["rank"], sy["rank"]))], 1.0)
