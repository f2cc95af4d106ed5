"""Centred kernel alignment: Gram matrices, biased and unbiased HSIC, batched layer-by-layer matrices, and
stimulus-bootstrap / stimulus-relabelling inference computed for all resamples at once.

Notation: ``K`` and ``L`` are ``(n, n)`` kernel (Gram) matrices of the same ``n`` stimuli;
``H = I - 11'/n`` centres them.

* Biased HSIC (Gretton et al., 2005), up to the factor ``(n - 1)^-2`` that CKA cancels:
  ``hsic(K, L) = tr(K H L H) = <HKH, HLH>_F``.
* Unbiased HSIC (Song et al., 2012, Theorem 2), with ``K~``, ``L~`` the kernels with zeroed diagonal:
  ``[tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))``; the debiased CKA of
  Nguyen, Raghu & Kornblith (2021) divides it by the geometric mean of the two self terms.
* CKA (Kornblith et al., 2019) = ``hsic(K, L) / sqrt(hsic(K, K) hsic(L, L))``.

Resampling without loops
------------------------
A bootstrap sample draws stimulus ``i`` ``c_i`` times (``sum c = n``). Every sum over the resample's
pairs is a weighted sum over the original stimuli, so for count rows ``C`` (``B x n``)

* ``tr(K_b H L_b H) = c'(K o L)c - 2/n sum_j c_j (Kc)_j (Lc)_j + (c'Kc)(c'Lc)/n^2``

and all ``B`` samples cost a few ``(B x n) @ (n x n)`` GEMMs. For the unbiased estimator the
self-pairs of repeated stimuli (``a != b`` but ``i_a == i_b``) are kept, as drawing a stimulus twice
makes two observations. Relabelling the stimuli of ``y`` by ``pi`` leaves every self term unchanged
and permutes ``L`` (``L[pi][:, pi]``), so the null is one gather of the condensed kernel per
permutation and one matrix-vector product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..errors import InvalidInputError

__all__ = [
    "gram_linear",
    "gram_rbf",
    "rbf_bandwidth",
    "center_gram",
    "hsic",
    "hsic_unbiased",
    "cka",
    "cka_matrix",
    "hsic_bootstrap",
    "hsic_permutation_null",
    "cka_bootstrap",
    "cka_permutation_null",
]

_CHUNK_BYTES = 64 * 2 ** 20
_GROUP_BYTES = 256 * 2 ** 20    # Gram matrices of a held at once by cka_matrix


def _as_2d(X: Any, owner: str) -> np.ndarray:
    A = np.asarray(X)
    if A.ndim != 2:
        raise InvalidInputError(f"{owner}: expected a stimuli-first 2D array (n_stimuli, n_features), "
                                f"got shape {A.shape}.")
    if A.dtype.kind not in "fc":
        A = A.astype(np.float64)
    return A


def gram_linear(X: Any, dtype: Any = np.float64) -> np.ndarray:
    """Centred linear Gram matrix ``Xc Xc'`` (``Xc``: column-centred ``X``; one BLAS syrk).

    Parameters
    ----------
    X : ndarray (n_stimuli, n_features)
    dtype : numpy dtype, default float64

    Returns
    -------
    ndarray (n_stimuli, n_stimuli), already centred (``H K H == K``).
    """
    A = _as_2d(X, "gram_linear").astype(dtype, copy=False)
    Xc = A - A.mean(0, dtype=np.float64).astype(dtype)
    return Xc @ Xc.T


def _sq_distances(X: np.ndarray) -> np.ndarray:
    Xc = X - X.mean(0)
    G = Xc @ Xc.T
    d = np.diag(G)
    D = d[:, None] + d[None, :] - 2 * G
    np.maximum(D, 0, out=D)
    np.fill_diagonal(D, 0.0)
    return D


def rbf_bandwidth(X: Any, sigma_scale: float = 1.0) -> float:
    """``sigma^2`` of the RBF kernel: ``sigma_scale^2`` times the median squared distance between stimuli.

    The median runs over the full ``(n, n)`` matrix of squared distances, diagonal included, as in
    Kornblith et al. (2019)'s reference notebook (their ``threshold`` is ``sigma_scale``).
    """
    D = _sq_distances(_as_2d(X, "rbf_bandwidth").astype(np.float64))
    med = float(np.median(D))
    if med <= 0:
        raise InvalidInputError("gram_rbf: the median squared distance between stimuli is 0 (more than half "
                                "the stimuli share one pattern); the RBF bandwidth is undefined.")
    return sigma_scale ** 2 * med


def gram_rbf(X: Any, sigma_scale: float = 1.0, sigma2: float | None = None) -> np.ndarray:
    """RBF kernel ``exp(-||x_i - x_j||^2 / (2 sigma^2))`` (not centred).

    Parameters
    ----------
    X : ndarray (n_stimuli, n_features)
    sigma_scale : float, default=1.0
        ``sigma`` as a multiple of the median distance between stimuli (see :func:`rbf_bandwidth`).
    sigma2 : float, optional
        An explicit ``sigma^2``; overrides ``sigma_scale``.
    """
    A = _as_2d(X, "gram_rbf").astype(np.float64)
    D = _sq_distances(A)
    if sigma2 is None:
        med = float(np.median(D))
        if med <= 0:
            raise InvalidInputError("gram_rbf: the median squared distance between stimuli is 0; the RBF "
                                    "bandwidth is undefined.")
        sigma2 = sigma_scale ** 2 * med
    return np.exp(-D / (2.0 * sigma2))


def center_gram(K: Any) -> np.ndarray:
    """``H K H`` for a symmetric kernel matrix (a new array)."""
    K = np.asarray(K, dtype=np.float64)
    m = K.mean(0)
    return K - m[None, :] - m[:, None] + m.mean()


def hsic(K: Any, L: Any) -> float:
    """Biased HSIC ``tr(K H L H)`` (without the ``(n-1)^-2`` factor)."""
    return float(np.sum(center_gram(K) * center_gram(L)))


def _unbiased_parts(K: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    Kt = np.array(K, dtype=np.float64)
    np.fill_diagonal(Kt, 0.0)
    r = Kt.sum(1)
    return Kt, float(r.sum()), r


def hsic_unbiased(K: Any, L: Any) -> float:
    """Unbiased HSIC estimator of Song et al. (2012) (needs ``n >= 4``)."""
    K = np.asarray(K, dtype=np.float64)
    n = K.shape[0]
    if n < 4:
        raise InvalidInputError(f"hsic_unbiased: needs at least 4 stimuli, got {n}.")
    Kt, sk, rk = _unbiased_parts(K)
    Lt, sl, rl = _unbiased_parts(np.asarray(L, dtype=np.float64))
    t1 = float(np.sum(Kt * Lt))
    return (t1 + sk * sl / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * float(rk @ rl)) / (n * (n - 3))


def _ratio(num: Any, a: Any, b: Any) -> Any:
    den = np.sqrt(np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def cka(K: Any, L: Any, debiased: bool = False) -> float:
    """CKA of two kernel matrices (``debiased``: with the unbiased HSIC estimator); NaN if a self term is <= 0."""
    f = hsic_unbiased if debiased else hsic
    return float(_ratio(f(K, L), f(K, K), f(L, L)))


# =========================================================================== batched layer-by-layer matrices

def cka_matrix(reps_a: Sequence[Any], reps_b: Sequence[Any] | None = None, *, debiased: bool = False,
               dtype: Any = np.float64, method: Literal["auto", "gram", "features"] = "auto") -> np.ndarray:
    """Linear CKA between every representation of ``reps_a`` and every one of ``reps_b``, in one pass.

    Parameters
    ----------
    reps_a : sequence of ndarray (n_stimuli, p_i)
        Representations of the same stimuli in the same row order (e.g. the layers of a network).
    reps_b : sequence of ndarray (n_stimuli, q_j), optional
        Defaults to ``reps_a`` (a symmetric matrix; each Gram matrix is computed once).
    debiased : bool, default=False
        Use the unbiased HSIC estimator (Song et al., 2012): debiased CKA (Gram form only).
    dtype : numpy dtype, default float64
        Precision of the Gram matrices and their inner products (float32 halves memory traffic).
    method : {"auto", "gram", "features"}, default="auto"
        ``"gram"``: one centred Gram matrix per representation (a syrk, ``n^2 p`` multiply-adds), then
        all inner products as one GEMM of the flattened Grams. ``"features"``: one syrk of all
        centred features side by side (``n (sum p)^2 / 2``), whose blocks give
        ``||Xa' Xb||_F^2``. ``"auto"`` picks the one with fewer flops.

    Returns
    -------
    ndarray (len(reps_a), len(reps_b))
    """
    same = reps_b is None
    A = [_as_2d(x, "cka_matrix") for x in reps_a]
    B = A if same else [_as_2d(x, "cka_matrix") for x in reps_b]
    if not A or not B:
        raise InvalidInputError("cka_matrix: expected at least one representation on each side.")
    n = A[0].shape[0]
    bad = [x.shape for x in (*A, *B) if x.shape[0] != n]
    if bad:
        raise InvalidInputError(f"cka_matrix: every representation must have the same number of stimuli (rows); "
                                f"the first has {n}, others have {sorted({s[0] for s in bad})}. Align them first.")
    if debiased and n < 4:
        raise InvalidInputError(f"cka_matrix: debiased CKA needs at least 4 stimuli, got {n}.")
    allreps = A if same else [*A, *B]
    psum = sum(x.shape[1] for x in allreps)
    if method == "auto":
        method = "gram" if (debiased or n * n * psum <= n * psum * psum) else "features"
    if method == "features" and debiased:
        raise InvalidInputError("cka_matrix: debiased=True needs method='gram' (or 'auto').")
    cent = [(x.astype(dtype, copy=False) - x.mean(0, dtype=np.float64).astype(dtype)) for x in allreps]
    if method == "gram":
        # Gram matrices of b are kept (k_b n^2 floats); those of a stream through one buffer.
        def fill(Xc: np.ndarray, out: np.ndarray) -> tuple[np.ndarray, float]:
            G = out.reshape(n, n)
            np.matmul(Xc, Xc.T, out=G)                              # syrk
            if not debiased:
                return np.empty(0), 0.0
            np.fill_diagonal(G, 0.0)
            r = G.sum(1, dtype=np.float64)
            return r, float(r.sum())

        def combine(ip: np.ndarray, ra: np.ndarray, sa: np.ndarray, rb: np.ndarray, sb: np.ndarray) -> np.ndarray:
            if not debiased:
                return ip
            return (ip + np.outer(sa, sb) / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (ra @ rb.T)) / (n * (n - 3))

        nb = len(B)
        keep = np.empty((nb, n * n), dtype=dtype)
        off = 0 if same else len(A)
        rb, sb = np.zeros((nb, n if debiased else 0)), np.zeros(nb)
        for j in range(nb):
            rb[j], sb[j] = fill(cent[off + j], keep[j])
        ipb = np.einsum("ij,ij->i", keep, keep, dtype=np.float64)
        db = ipb if not debiased else np.array([
            combine(np.array([[ipb[j]]]), rb[j:j + 1], sb[j:j + 1], rb[j:j + 1], sb[j:j + 1])[0, 0]
            for j in range(nb)])
        if same:
            num = combine((keep @ keep.T).astype(np.float64), rb, sb, rb, sb)
            da = db
        else:
            ip = np.empty((len(A), nb))
            ipa = np.empty(len(A))
            ra, sa = np.zeros((len(A), n if debiased else 0)), np.zeros(len(A))
            # a's Gram matrices in groups, so that the kept ones are read once per group (GEMM, not GEMV)
            group = int(min(len(A), max(1, _GROUP_BYTES // (n * n * np.dtype(dtype).itemsize))))
            buf = np.empty((group, n * n), dtype=dtype)
            for g0 in range(0, len(A), group):
                g1 = min(len(A), g0 + group)
                for i in range(g0, g1):
                    ra[i], sa[i] = fill(cent[i], buf[i - g0])
                blk = buf[:g1 - g0]
                ip[g0:g1] = blk @ keep.T
                ipa[g0:g1] = np.einsum("ij,ij->i", blk, blk, dtype=np.float64)
            num = combine(ip, ra, sa, rb, sb)
            da = np.array([combine(np.array([[ipa[i]]]), ra[i:i + 1], sa[i:i + 1], ra[i:i + 1], sa[i:i + 1])[0, 0]
                           for i in range(len(A))]) if debiased else ipa
    elif method == "features":
        Z = np.concatenate(cent, axis=1)
        S = (Z.T @ Z).astype(np.float64, copy=False)   # syrk
        edges = np.cumsum([0] + [x.shape[1] for x in cent])
        k = len(cent)
        F = np.empty((k, k))
        for i in range(k):
            for j in range(i, k):
                blk = S[edges[i]:edges[i + 1], edges[j]:edges[j + 1]]
                F[i, j] = F[j, i] = float(np.einsum("ij,ij->", blk, blk))
        if same:
            num, da, db = F, np.diag(F), np.diag(F)
        else:
            num = F[:len(A), len(A):]
            da, db = np.diag(F)[:len(A)], np.diag(F)[len(A):]
    else:
        raise InvalidInputError(f"cka_matrix: method must be 'auto', 'gram' or 'features', got {method!r}.")
    return _ratio(num, da[:, None], db[None, :])


# =========================================================================== bootstrap

def _chunk_rows(n_cols: int, n_mats: int = 1) -> int:
    return max(1, int(_CHUNK_BYTES // (8 * max(1, n_cols) * n_mats)))


def hsic_bootstrap(K: Any, L: Any, counts: np.ndarray, *, debiased: bool = False) -> np.ndarray:
    """HSIC of each bootstrap sample given by stimulus ``counts`` (B, n); kernels are the full-sample ones.

    Biased: ``tr(K_b H L_b H)``; debiased: the unbiased estimator of the resample (``n`` draws).
    All samples together: ``C @ (K o L)``, ``C @ K`` and ``C @ L`` (GEMMs), then row-wise dot products.
    """
    K = np.asarray(K, dtype=np.float64)
    L = np.asarray(L, dtype=np.float64)
    C = np.asarray(counts, dtype=np.float64)
    m = float(C[0].sum()) if C.size else 0.0
    KL = K * L
    out = np.empty(C.shape[0])
    step = _chunk_rows(K.shape[0], 3)
    dk, dl, dkl = np.diag(K), np.diag(L), np.diag(KL)
    for b0 in range(0, C.shape[0], step):
        c = C[b0:b0 + step]
        ckl = np.einsum("bi,bi->b", c @ KL, c)
        kc, lc = c @ K, c @ L                          # (b, n)
        sk, sl = np.einsum("bi,bi->b", kc, c), np.einsum("bi,bi->b", lc, c)
        if not debiased:
            mid = np.einsum("bi,bi,bi->b", c, kc, lc)
            out[b0:b0 + step] = ckl - 2.0 / m * mid + sk * sl / m ** 2
        else:
            t1 = ckl - c @ dkl
            sk_t, sl_t = sk - c @ dk, sl - c @ dl
            t3 = np.einsum("bi,bi,bi->b", c, kc - dk, lc - dl)
            out[b0:b0 + step] = (t1 + sk_t * sl_t / ((m - 1) * (m - 2)) - 2.0 / (m - 2) * t3) / (m * (m - 3))
    return out


def cka_bootstrap(K: Any, L: Any, counts: np.ndarray, *, debiased: bool = False) -> np.ndarray:
    """CKA of each bootstrap sample (``counts``: (B, n)); NaN where a resample's self term is <= 0."""
    num = hsic_bootstrap(K, L, counts, debiased=debiased)
    kk = hsic_bootstrap(K, K, counts, debiased=debiased)
    ll = hsic_bootstrap(L, L, counts, debiased=debiased)
    return _ratio(num, kk, ll)


# =========================================================================== permutations

def _perm_pair_index(perms: np.ndarray, n: int) -> np.ndarray:
    """Flat index ``pi_i * n + pi_j`` for every pair ``i < j`` (n_perm, n(n-1)/2)."""
    i0, i1 = np.triu_indices(n, 1)
    p = perms.astype(np.int64 if n * n >= 2 ** 31 else np.int32)
    return (p * p.dtype.type(n))[:, i0] + p[:, i1]


def hsic_permutation_null(K: Any, L: Any, perms: np.ndarray, *, debiased: bool = False) -> np.ndarray:
    """HSIC of ``K`` against ``L`` with the stimuli relabelled by each row of ``perms`` (``L[pi][:, pi]``)."""
    K = np.asarray(K, dtype=np.float64)
    L = np.asarray(L, dtype=np.float64)
    n = K.shape[0]
    perms = np.asarray(perms)
    i0, i1 = np.triu_indices(n, 1)
    if debiased:
        Kt, sk, rk = _unbiased_parts(K)
        Lt, sl, rl = _unbiased_parts(L)
        kv = Kt[i0, i1]
        Lflat = Lt.ravel()
    else:
        Kc, Lc = center_gram(K), center_gram(L)
        kv = Kc[i0, i1]
        kd, ld = np.diag(Kc), np.diag(Lc)
        Lflat = Lc.ravel()
    out = np.empty(perms.shape[0])
    step = _chunk_rows(kv.size, 2)
    for p0 in range(0, perms.shape[0], step):
        pc = perms[p0:p0 + step]
        off = 2.0 * (Lflat[_perm_pair_index(pc, n)] @ kv)
        if debiased:
            t3 = rl[pc] @ rk
            out[p0:p0 + step] = (off + sk * sl / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * t3) / (n * (n - 3))
        else:
            out[p0:p0 + step] = off + ld[pc] @ kd
    return out


def cka_permutation_null(K: Any, L: Any, perms: np.ndarray, *, debiased: bool = False) -> np.ndarray:
    """CKA of ``K`` against the relabelled ``L`` for each permutation (the self terms do not change)."""
    f = hsic_unbiased if debiased else hsic
    return _ratio(hsic_permutation_null(K, L, perms, debiased=debiased), f(K, K), f(L, L))
