"""Comparing RDMs: one against many, many against many, vectorised.

Methods (``method=``; rsatoolbox's names are accepted as aliases)
-----------------------------------------------------------------
=====================  ==================  ====================================================
neurorep               rsatoolbox          definition
=====================  ==================  ====================================================
``"pearson"``          ``"corr"``          Pearson r of the dissimilarity vectors
``"spearman"``         ``"spearman"``      Pearson r of their average ranks (ties averaged)
``"rho-a"``            ``"rho-a"``         ``12 sum (r_a - m)(r_b - m) / (N^3 - N)`` on ranks
``"tau-a"``            ``"tau-a"``         Kendall's tau-a, ``(concordant - discordant) / (N (N-1) / 2)``
``"cosine"``           ``"cosine"``        cosine of the dissimilarity vectors
``"whitened-cosine"``  ``"cosine_cov"``    cosine after whitening by the RDMs' covariance under the null
``"whitened-pearson"`` ``"corr_cov"``      the same after removing each vector's mean
``"bures"``            ``"bures"``         Bures similarity (fidelity) of the centred kernel matrices
``"bures-metric"``     ``"bures_metric"``  squared Bures distance between them (a distance, 0 = same)
=====================  ==================  ====================================================

The linear methods (Pearson, Spearman, rho-a, cosine, whitened) are computed by
*embedding* every RDM once (centring, ranking, whitening, scaling to unit norm) and
taking one matrix product ``E_a @ E_b.T`` for all pairs; :func:`embed` exposes the
embedding, which is also what makes permutation tests a gather plus a GEMM.

Whitening (Diedrichsen et al., 2021)
------------------------------------
With ``D`` the squared-distance matrix and ``G = -H D H / 2`` its double-centred
kernel, the covariance of the dissimilarity estimates under the null is
``V = Xi o Xi`` with ``Xi = C Sigma_k C'`` (``C`` the pairwise contrasts, ``Sigma_k`` the
covariance of the pattern estimates). The whitened inner product ``d_a' V^-1 d_b``
equals the Frobenius product ``<W G_a W', W G_b W'>`` with ``W = (Q Sigma_k Q')^-1/2 Q``
(``Q`` an orthonormal basis orthogonal to the ones vector). Without ``sigma_k`` this is the
Frobenius cosine of the ``G`` matrices (rsatoolbox's fast path). With a full matrix
``sigma_k`` it is the closed form of rsatoolbox's conjugate-gradient path. With a vector
``sigma_k`` (a diagonal covariance) rsatoolbox scales ``G_ij`` by
``1 / sqrt(sigma_i sigma_j)``; that convention is kept for vector input for agreement with
it (it differs from passing ``np.diag(sigma_k)``, which whitens exactly).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import numpy as np
from scipy.stats import rankdata

from ..errors import InvalidInputError
from ..types import RDMs

try:  # Knight's O(N log N) discordant-pair count, the kernel of scipy.stats.kendalltau
    from scipy.stats._stats import _kendall_dis
except ImportError:  # pragma: no cover - private scipy API; the public kendalltau fallback is used
    _kendall_dis = None

__all__ = [
    "COMPARISONS",
    "SIMILARITIES",
    "ALIASES",
    "canonical_method",
    "as_vectors",
    "embed",
    "compare",
    "tau_a",
    "bures",
    "centred_kernels",
    "average_ranks",
    "n_stimuli_from_pairs",
]

COMPARISONS: tuple[str, ...] = ("pearson", "spearman", "tau-a", "rho-a", "cosine", "whitened-pearson",
                                "whitened-cosine", "bures", "bures-metric")
#: Methods whose score is a similarity (1 for identical RDMs); ``"bures-metric"`` is a distance.
SIMILARITIES: tuple[str, ...] = tuple(m for m in COMPARISONS if m != "bures-metric")
#: Linear methods: ``compare(a, b) == embed(a) @ embed(b).T``.
LINEAR: tuple[str, ...] = ("pearson", "spearman", "rho-a", "cosine", "whitened-pearson", "whitened-cosine")
ALIASES: dict[str, str] = {
    "corr": "pearson", "correlation": "pearson", "corr_cov": "whitened-pearson", "cosine_cov": "whitened-cosine",
    "bures_metric": "bures-metric", "tau_a": "tau-a", "rho_a": "rho-a",
}

Method = Literal["pearson", "spearman", "tau-a", "rho-a", "cosine", "whitened-pearson", "whitened-cosine", "bures",
                 "bures-metric"]


def canonical_method(method: str, owner: str = "compare") -> str:
    """The neurorep name of a comparison method (rsatoolbox aliases accepted)."""
    m = ALIASES.get(method, method)
    if m not in COMPARISONS:
        hint = " (Kendall's tau-b is not offered: use 'tau-a', which handles tied model predictions)" \
            if method in ("kendall", "tau-b") else ""
        raise InvalidInputError(f"{owner}: unknown comparison method {method!r}{hint}; choose one of "
                                f"{list(COMPARISONS)} (rsatoolbox names {sorted(ALIASES)} are accepted too).")
    return m


def n_stimuli_from_pairs(n_pairs: int) -> int:
    """``n`` such that ``n (n - 1) / 2 == n_pairs``."""
    n = int(round((1 + np.sqrt(1 + 8 * n_pairs)) / 2))
    if n * (n - 1) // 2 != n_pairs:
        raise InvalidInputError(f"{n_pairs} dissimilarities are not the upper triangle of a square matrix "
                                "(n * (n - 1) / 2 for some n).")
    return n


def as_vectors(x: Any, what: str = "rdm") -> np.ndarray:
    """Dissimilarity vectors ``(n_rdms, n_pairs)`` from RDMs, a 1D vector or a 2D array."""
    if isinstance(x, RDMs):
        return x.dissimilarities
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise InvalidInputError(f"{what}: expected RDMs or condensed dissimilarities (n_rdms, n_pairs), got shape "
                                f"{a.shape}. Use neurorep.RDMs.from_matrices for square matrices.")
    return a


def _unit(E: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm; zero rows stay zero (their similarities are 0, as in rsatoolbox)."""
    nrm = np.sqrt(np.einsum("ij,ij->i", E, E))
    return E / np.where(nrm > 0, nrm, 1.0)[:, None]


def _to_matrices(v: np.ndarray, n: int) -> np.ndarray:
    iu = np.triu_indices(n, 1)
    D = np.zeros((v.shape[0], n, n))
    D[:, iu[0], iu[1]] = v
    D[:, iu[1], iu[0]] = v
    return D


def centred_kernels(v: np.ndarray) -> np.ndarray:
    """Double-centred kernels ``G = -H D H / 2`` of condensed RDMs ``v`` (k, n_pairs) -> (k, n, n)."""
    n = n_stimuli_from_pairs(v.shape[1])
    D = _to_matrices(v, n)
    m = D.mean(1, keepdims=True)
    return -0.5 * (D - m - np.swapaxes(m, 1, 2) + m.mean(2, keepdims=True))


def _contrast_basis(n: int) -> np.ndarray:
    """An orthonormal basis ``Q`` ((n-1) x n) of the vectors orthogonal to the ones vector."""
    A = np.eye(n)[:, 1:] - 1.0 / n
    return np.linalg.qr(A)[0].T


def average_ranks(v: np.ndarray) -> np.ndarray:
    """Ranks 1..N of every row, ties averaged (``scipy.stats.rankdata(v, axis=1)``), one sort per row."""
    order = np.argsort(v, axis=1)
    s = np.take_along_axis(v, order, 1)
    if np.all(s[:, 1:] != s[:, :-1]):  # no ties (continuous dissimilarities): ranks are the sort positions
        R = np.empty(v.shape)
        np.put_along_axis(R, order, np.broadcast_to(np.arange(1.0, v.shape[1] + 1), v.shape), 1)
        return R
    return rankdata(v, axis=1)


def _whitening_matrix(sigma_k: np.ndarray, n: int) -> np.ndarray:
    """``W = (Q Sigma Q')^-1/2 Q`` ((n-1) x n) for a full pattern covariance ``Sigma``."""
    sigma_k = np.asarray(sigma_k, dtype=np.float64)
    if sigma_k.shape != (n, n):
        raise InvalidInputError(f"whitened comparison: sigma_k must be ({n}, {n}) for {n} stimuli, "
                                f"got {sigma_k.shape}.")
    Q = _contrast_basis(n)
    S = Q @ sigma_k @ Q.T
    w, U = np.linalg.eigh((S + S.T) / 2)
    if np.any(w <= 0):
        raise InvalidInputError("whitened comparison: sigma_k is not positive definite on the contrasts between "
                                "stimuli; pass a covariance matrix of the pattern estimates.")
    return (U / np.sqrt(w)) @ U.T @ Q


def _whitened_embedding(v: np.ndarray, sigma_k: np.ndarray | None, demean: bool) -> np.ndarray:
    """Vectors whose inner products are the whitened inner products of the RDMs (rows of ``v``)."""
    if demean:
        v = v - v.mean(1, keepdims=True)
    n = n_stimuli_from_pairs(v.shape[1])
    if sigma_k is not None and np.ndim(sigma_k) == 2:
        W = _whitening_matrix(sigma_k, n)
        D = _to_matrices(v, n)
        M = -0.5 * (W @ D @ W.T)  # (k, n-1, n-1)
        iu = np.triu_indices(n - 1, 1)
        return np.concatenate([np.sqrt(2) * M[:, iu[0], iu[1]], np.diagonal(M, axis1=1, axis2=2)], axis=1)
    G = centred_kernels(v)
    if sigma_k is not None:
        s = np.asarray(sigma_k, dtype=np.float64)
        if s.shape != (n,):
            raise InvalidInputError(f"whitened comparison: a vector sigma_k must have one variance per stimulus "
                                    f"({n}), got shape {s.shape}.")
        r = 1.0 / np.sqrt(s)
        G = G * r[None, :, None] * r[None, None, :]
    iu = np.triu_indices(n, 1)
    return np.concatenate([np.sqrt(2) * G[:, iu[0], iu[1]], np.diagonal(G, axis1=1, axis2=2)], axis=1)


def embed(v: Any, method: str, *, sigma_k: np.ndarray | None = None) -> np.ndarray:
    """Embedding ``E`` of RDMs such that ``compare(a, b, method) == embed(a) @ embed(b).T``.

    Parameters
    ----------
    v : RDMs or ndarray (n_rdms, n_pairs)
    method : {"pearson", "spearman", "rho-a", "cosine", "whitened-pearson", "whitened-cosine"}
    sigma_k : ndarray, optional
        Pattern covariance for the whitened methods: (n,) variances or an (n, n) matrix.

    Returns
    -------
    ndarray of shape (n_rdms, n_pairs) (or (n_rdms, n_pairs + n) for whitened methods)
    """
    m = canonical_method(method, "embed")
    v = as_vectors(v)
    if m not in LINEAR:
        raise InvalidInputError(f"embed: {m!r} is not a linear comparison; linear ones are {list(LINEAR)}.")
    if m == "cosine":
        return _unit(v)
    if m == "pearson":
        return _unit(v - v.mean(1, keepdims=True))
    if m in ("spearman", "rho-a"):
        r = average_ranks(v)
        r = r - r.mean(1, keepdims=True)
        if m == "spearman":
            return _unit(r)
        N = v.shape[1]
        return r * np.sqrt(12.0 / (N ** 3 - N))
    return _unit(_whitened_embedding(v, sigma_k, demean=m == "whitened-pearson"))


# --------------------------------------------------------------------------- tau-a

def _dense_sorted(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Stable order of ``v``, its dense ranks in that order, and the number of tied pairs."""
    order = np.argsort(v, kind="stable")
    s = v[order]
    dense = np.r_[True, s[1:] != s[:-1]].cumsum(dtype=np.intp)
    return order, dense, _tied_pairs(dense)


def _tied_pairs(dense: np.ndarray) -> int:
    cnt = np.bincount(dense)
    cnt = cnt[cnt > 1].astype(np.int64)
    return int((cnt * (cnt - 1) // 2).sum())


def _dense_ranks(v: np.ndarray) -> np.ndarray:
    return rankdata(v, method="dense").astype(np.intp)


def _joint_ties(x: np.ndarray, y: np.ndarray) -> int:
    key = x.astype(np.int64) * (int(y.max()) + 1) + y
    _, cnt = np.unique(key, return_counts=True)
    cnt = cnt[cnt > 1].astype(np.int64)
    return int((cnt * (cnt - 1) // 2).sum())


def _discordant(x_sorted_dense: np.ndarray, y: np.ndarray) -> int:
    """Pairs ordered oppositely by ``x`` and ``y`` (``x`` sorted ascending; integer ranks, ``y >= 1``).

    scipy's kernel counts with a Fenwick tree indexed by ``y``: a 0 in ``y`` would never terminate,
    so callers pass 1-based dense ranks (``rankdata(..., method="dense")``).
    """
    if _kendall_dis is not None:
        return int(_kendall_dis(x_sorted_dense, y))
    # public fallback: kendalltau gives tau-b = (C - D) / sqrt((T - tx)(T - ty)); recover D
    from scipy.stats import kendalltau  # pragma: no cover

    N = x_sorted_dense.size  # pragma: no cover
    tot = N * (N - 1) // 2  # pragma: no cover
    tx, ty, nt = _tied_pairs(x_sorted_dense), _tied_pairs(y), _joint_ties(x_sorted_dense, y)  # pragma: no cover
    tb = kendalltau(x_sorted_dense, y).statistic  # pragma: no cover
    c_minus_d = 0.0 if not np.isfinite(tb) else tb * np.sqrt(float(tot - tx) * float(tot - ty))  # pragma: no cover
    return int(round((tot - tx - ty + nt - c_minus_d) / 2))  # pragma: no cover


_FAST_TAU: Any = None  # the compiled kernels (module), False when numba is missing; loaded on first use
#: Serialises launches of the parallel kernels: numba's fallback threading layer (workqueue) aborts on
#: concurrent launches from several Python threads (e.g. a threaded Dask worker running two analyses).
TAU_KERNEL_LOCK = threading.Lock()


def _tau_kernels() -> Any:
    """:mod:`neurorep.rsa._tau_numba` if numba imports, else ``None`` (scipy's discordance kernel is used)."""
    global _FAST_TAU
    if _FAST_TAU is None:
        try:
            from . import _tau_numba
            _FAST_TAU = _tau_numba
        except ImportError:  # pragma: no cover - numba is a dependency; kept for stripped-down installs
            _FAST_TAU = False
    return _FAST_TAU or None


def _tree_proto(levels: int, max_total: int) -> np.ndarray:
    """A zeroed counting tree for the compiled tau-a kernels, in the narrowest dtype that holds ``max_total``."""
    dt = np.int16 if max_total <= np.iinfo(np.int16).max else np.int32 if max_total <= np.iinfo(np.int32).max \
        else np.int64
    return np.zeros(2 << levels, dtype=dt)


def _dense0(V: np.ndarray) -> tuple[np.ndarray, int]:
    """0-based dense ranks of every row (int32) and the number of bits ``L`` with every rank ``< 2**L``."""
    Y = (rankdata(V, method="dense", axis=1) - 1).astype(np.int32)
    top = int(Y.max()) if Y.size else 0
    return np.ascontiguousarray(Y), max(1, top.bit_length())


def _model_order(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's stable sort order and the tie-group id of each sorted position (both (K, N) int64)."""
    order = np.argsort(M, axis=1, kind="stable")
    s = np.take_along_axis(M, order, 1)
    new = np.ones(M.shape, dtype=np.int64)
    new[:, 0] = 0
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    return np.ascontiguousarray(order, dtype=np.int64), np.cumsum(new, axis=1)


def tau_a(a: Any, b: Any) -> np.ndarray:
    """Kendall's tau-a between every row of ``a`` and every row of ``b``.

    Parameters
    ----------
    a, b : RDMs or ndarray (n_rdms, n_pairs)

    Returns
    -------
    ndarray of shape (n_a, n_b)

    Notes
    -----
    ``tau_a = (C - D) / (N (N - 1) / 2)``: tied pairs count neither as concordant nor as
    discordant but stay in the denominator (appropriate for models predicting ties). Each
    row of ``b`` is sorted once; each pair then costs one O(N log N) count of ``C - D`` in
    compiled code (:mod:`neurorep.rsa._tau_numba`, exact integer counts, parallel over pairs;
    without numba, Knight's discordance count, scipy's compiled kernel). Same value as
    rsatoolbox's ``compare(..., method="tau-a")``.
    """
    A, B = as_vectors(a, "tau_a"), as_vectors(b, "tau_a")
    _check_same_length(A, B, "tau_a")
    N = A.shape[1]
    tot = N * (N - 1) // 2
    fast = _tau_kernels()
    if fast is not None and N > 1:
        Y, L = _dense0(A)
        order, gid = _model_order(B)
        with TAU_KERNEL_LOCK:
            cd = fast.pairs_cd(Y, order, gid, L, _tree_proto(L, N))
        return np.clip(cd / tot, -1.0, 1.0)
    ya = [_dense_ranks(r) for r in A]
    tie_a = [_tied_pairs(y) for y in ya]
    prepared = [_dense_sorted(r) for r in B]
    out = np.empty((A.shape[0], B.shape[0]))
    for j, (order, xs, tie_b) in enumerate(prepared):
        for i, y in enumerate(ya):
            ys = y[order]
            dis = _discordant(xs, ys)
            nt = _joint_ties(xs, ys) if (tie_b and tie_a[i]) else 0
            out[i, j] = (tot - tie_a[i] - tie_b + nt - 2 * dis) / tot
    return np.clip(out, -1.0, 1.0)


# --------------------------------------------------------------------------- Bures

def _psd_factor(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``R`` with ``R R' = `` the PSD projection of each symmetric matrix (k, m, m), and its trace."""
    w, U = np.linalg.eigh(G)
    w = np.clip(w, 0.0, None)
    return U * np.sqrt(w)[:, None, :], w.sum(1)


def bures(a: Any, b: Any, metric: bool = False) -> np.ndarray:
    """Bures similarity (or squared Bures metric) between the centred kernels of RDMs.

    Parameters
    ----------
    a, b : RDMs or ndarray (n_rdms, n_pairs)
    metric : bool, default=False
        Return ``tr A + tr B - 2 F`` (the squared Bures distance) instead of ``F / sqrt(tr A tr B)``,
        where ``F = tr (A^1/2 B A^1/2)^1/2`` and ``A = -H D_a H / 2``.

    Returns
    -------
    ndarray of shape (n_a, n_b)

    Notes
    -----
    The Bures similarity is defined for positive semi-definite kernels, i.e. RDMs of squared
    Euclidean-type distances (squared Euclidean, Mahalanobis, crossnobis without noise).
    Other RDMs (correlation distances, binary category models) can have indefinite kernels;
    they are first projected onto the PSD cone (negative eigenvalues set to 0, for both kernels
    and their traces), which keeps the similarity symmetric and at most 1. For PSD kernels this
    equals rsatoolbox's ``bures``/``bures_metric``; for indefinite ones rsatoolbox clips only the
    first kernel, which makes its value asymmetric and lets it exceed 1.
    """
    A, B = as_vectors(a, "bures"), as_vectors(b, "bures")
    _check_same_length(A, B, "bures")
    # the kernels are centred: work in the (n-1)-dimensional complement of the ones vector, where
    # they have no structural zero eigenvalue (whose rounding error sqrt() would amplify to ~1e-8)
    Q = _contrast_basis(n_stimuli_from_pairs(A.shape[1]))
    RA, trA = _psd_factor(Q @ centred_kernels(A) @ Q.T)
    RB, trB = _psd_factor(Q @ centred_kernels(B) @ Q.T)
    out = np.empty((A.shape[0], B.shape[0]))
    for i in range(A.shape[0]):
        # F = tr (A^1/2 B A^1/2)^1/2 = nuclear norm of RA' RB: singular values, not square roots of
        # eigenvalues, so rank-deficient kernels lose no accuracy
        F = np.linalg.svd(np.swapaxes(RA[i], 0, 1)[None] @ RB, compute_uv=False).sum(1)
        if metric:
            out[i] = trA[i] + trB - 2 * F
        else:
            den = np.sqrt(trA[i] * trB)
            out[i] = np.where(den > 0, F / np.where(den > 0, den, 1.0), 0.0)
    return out


# --------------------------------------------------------------------------- compare

def _check_same_length(A: np.ndarray, B: np.ndarray, owner: str) -> None:
    if A.shape[1] != B.shape[1]:
        raise InvalidInputError(f"{owner}: the RDMs have different sizes ({A.shape[1]} and {B.shape[1]} "
                                "dissimilarities); compare RDMs of the same stimuli (align them first).")


def _drop_nan(A: np.ndarray, B: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    if np.isfinite(A.sum()) and np.isfinite(B.sum()):  # the common case, without boolean temporaries
        return A, B
    na, nb = np.isnan(A).any(0), np.isnan(B).any(0)
    if not (na.any() or nb.any()):
        return A, B
    if not np.array_equal(na, nb):
        raise InvalidInputError("compare: the two sets of RDMs have NaNs at different positions; NaN marks a "
                                "missing dissimilarity and must be missing in both.")
    if method not in ("pearson", "spearman", "rho-a", "cosine", "tau-a"):
        raise InvalidInputError(f"compare: {method!r} needs complete RDMs (no NaN).")
    return A[:, ~na], B[:, ~nb]


def _inner(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B.T``; with a handful of rows on one side einsum beats BLAS's matrix-vector path."""
    if min(A.shape[0], B.shape[0]) <= 4:
        return np.einsum("ij,kj->ik", A, B)
    return A @ B.T


def compare(a: Any, b: Any, method: str = "pearson", *, sigma_k: np.ndarray | None = None) -> np.ndarray:
    """Compare every RDM in ``a`` with every RDM in ``b``.

    Parameters
    ----------
    a, b : RDMs or ndarray (n_rdms, n_pairs) or (n_pairs,)
        Condensed RDMs over the same stimuli in the same order.
    method : str, default="pearson"
        One of :data:`COMPARISONS` (rsatoolbox names accepted, see the module docstring).
    sigma_k : ndarray, optional
        Pattern covariance (n,) or (n, n) for the whitened methods.

    Returns
    -------
    ndarray of shape (n_a, n_b)

    Notes
    -----
    Positions that are NaN in every RDM of both inputs are dropped (rsatoolbox's convention
    for missing dissimilarities) for Pearson, Spearman, rho-a, cosine and tau-a.
    """
    m = canonical_method(method)
    A, B = as_vectors(a, "compare"), as_vectors(b, "compare")
    _check_same_length(A, B, "compare")
    A, B = _drop_nan(A, B, m)
    if m in ("cosine", "pearson"):  # one Gram product, scaled: no normalised copies of the inputs
        if m == "pearson":
            A = A - A.mean(1, keepdims=True)
            B = B - B.mean(1, keepdims=True)
        na, nb = np.sqrt(np.einsum("ij,ij->i", A, A)), np.sqrt(np.einsum("ij,ij->i", B, B))
        G = _inner(A, B)
        G /= np.where(na > 0, na, 1.0)[:, None]
        G /= np.where(nb > 0, nb, 1.0)[None, :]
        return G
    if m in LINEAR:
        return _inner(embed(A, m, sigma_k=sigma_k), embed(B, m, sigma_k=sigma_k))
    if m == "tau-a":
        return tau_a(A, B)
    return bures(A, B, metric=m == "bures-metric")
