"""Inference for RDM comparisons: noise ceilings, bootstrap CIs, permutation tests, model comparisons.

Everything evaluates *models* (RDMs, ``K`` of them) against *data* (RDMs of ``S``
subjects over the same stimuli); a model's score is the mean over subjects of its
comparison with each subject's RDM, as in rsatoolbox.

Vectorisation
-------------
* **Stimulus bootstrap.** Resampling stimuli with replacement makes each original pair
  ``(i, j)`` appear ``c_i c_j`` times (``c`` the stimulus counts); rsatoolbox drops the
  dissimilarities between copies of the same stimulus. Every comparison of the resampled
  RDMs is therefore a *weighted* comparison of the original ones with pair weights
  ``W[b] = c_i c_j``: Pearson and cosine become GEMMs ``W @ (x o m)``; Spearman and rho-a
  use the average ranks of the weighted multiset, computed for all resamples at once from
  one sort of each RDM (cumulative sums of the weights in sorted order).
* **Permutation tests.** Relabelling stimuli permutes the linear embeddings of the RDMs
  (:func:`neurorep.rsa.comparisons.embed`), so the null distribution of every model is one
  batched gather of the mean data embedding and one GEMM.
* **Subject bootstrap.** The mean over resampled subjects is ``counts @ scores / S``.
* **Kendall's tau-a** has no matrix form: each (resample, model, subject) costs one
  O(N log N) count of concordant minus discordant pairs. With numba the counts run in one
  compiled, parallel call per batch of resamples (:mod:`neurorep.rsa._tau_numba`): each
  model is sorted once; a permutation relabels the data's rank matrix once for all models;
  a bootstrap sample forms its pair weights ``c_i c_j`` on the fly and skips the pairs it
  did not draw (about 60%); the count is an exact integer (a fixed-depth counting tree
  over the data's ranks, ties in the model queried before they are inserted). Without
  numba, scipy's compiled discordance kernel is called per comparison. Bures similarity
  and the whitened comparisons with a pattern covariance are recomputed per permutation
  in batches.

All random draws come from ``numpy.random.default_rng(random_state)``; every resample's
indices are drawn at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from ..errors import InvalidInputError
from .comparisons import (
    LINEAR,
    TAU_KERNEL_LOCK,
    _dense0,
    _dense_ranks,
    _dense_sorted,
    _discordant,
    _joint_ties,
    _model_order,
    _tau_kernels,
    _tied_pairs,
    _tree_proto,
    as_vectors,
    canonical_method,
    compare,
    embed,
    n_stimuli_from_pairs,
)

__all__ = [
    "NoiseCeiling",
    "BootstrapResult",
    "PermutationResult",
    "pool_rdms",
    "noise_ceiling",
    "stimulus_bootstrap_counts",
    "subject_bootstrap_counts",
    "pair_weights",
    "weighted_compare",
    "bootstrap",
    "permutation_test",
    "permuted_pair_index",
    "fdr_bh",
    "max_statistic_pvalues",
    "bootstrap_pair_tests",
    "bootstrap_difference",
    "subject_pair_t_tests",
]

#: Comparisons the stimulus bootstrap supports (weighted forms of the resampled comparison).
STIMULUS_BOOTSTRAP_METHODS: tuple[str, ...] = ("pearson", "spearman", "rho-a", "cosine", "tau-a")
_CHUNK_BYTES = 64 * 2 ** 20


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


def _pair(models: Any, data: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    M, V = as_vectors(models, f"{owner} (models)"), as_vectors(data, f"{owner} (data)")
    if M.shape[1] != V.shape[1]:
        raise InvalidInputError(f"{owner}: models and data RDMs have different sizes ({M.shape[1]} and {V.shape[1]} "
                                "dissimilarities); they must describe the same stimuli in the same order.")
    for what, a in (("models", M), ("data", V)):
        if not np.all(np.isfinite(a)):
            raise InvalidInputError(f"{owner}: the {what} RDMs contain NaN/inf; inference needs complete RDMs.")
    return M, V


# =========================================================================== noise ceiling

@dataclass
class NoiseCeiling:
    """Lower and upper bound of the noise ceiling.

    Attributes
    ----------
    lower, upper : float
        Means over subjects of the leave-one-out and all-subject bounds.
    lower_per_subject, upper_per_subject : ndarray of shape (n_subjects,)
    method : str
    """

    lower: float
    upper: float
    lower_per_subject: np.ndarray
    upper_per_subject: np.ndarray
    method: str


def _pool_rows(V: np.ndarray, method: str) -> np.ndarray:
    """Per-RDM normalisation before averaging, as rsatoolbox's ``pool_rdm`` for ``method``."""
    if method in ("cosine", "whitened-cosine", "bures", "bures-metric"):
        return V / np.sqrt(np.mean(V ** 2, axis=1, keepdims=True))
    if method in ("pearson", "whitened-pearson"):
        Z = V - V.mean(1, keepdims=True)
        return Z / Z.std(1, keepdims=True)
    return stats.rankdata(V, axis=1)  # spearman, rho-a, tau-a: mean of ranks


def pool_rdms(data: Any, method: str = "spearman") -> np.ndarray:
    """The RDM that best represents a group under ``method`` (rsatoolbox's ``pool_rdm``).

    Parameters
    ----------
    data : RDMs or ndarray (n_subjects, n_pairs)
    method : str
        Cosine-type methods average RMS-normalised RDMs, Pearson-type ones z-scored RDMs (minus
        the minimum), rank methods (Spearman, rho-a, tau-a) average ranks. Bures methods (not
        pooled by rsatoolbox) average RMS-normalised RDMs, as the cosine does.

    Returns
    -------
    ndarray of shape (n_pairs,)
    """
    m = canonical_method(method, "pool_rdms")
    V = as_vectors(data, "pool_rdms")
    pooled = _pool_rows(V, m).mean(0)
    if m in ("pearson", "whitened-pearson"):
        pooled = pooled - pooled.min()
    return pooled


def noise_ceiling(data: Any, method: str = "spearman", *, sigma_k: np.ndarray | None = None) -> NoiseCeiling:
    """Leave-one-subject-out noise ceiling (rsatoolbox's ``boot_noise_ceiling``).

    The upper bound is the mean over subjects of the comparison of each subject's RDM with
    the pooled RDM of all subjects (:func:`pool_rdms`; it includes the subject, so it
    overfits: no model can be expected to do better). The lower bound pools the other
    subjects only (a model as good as the group's shared structure reaches it).

    Parameters
    ----------
    data : RDMs or ndarray (n_subjects, n_pairs)
        At least two subjects.
    method : str, default="spearman"
    sigma_k : ndarray, optional
        Pattern covariance for the whitened methods.

    Returns
    -------
    NoiseCeiling
    """
    m = canonical_method(method, "noise_ceiling")
    V = as_vectors(data, "noise_ceiling")
    S = V.shape[0]
    if S < 2:
        raise InvalidInputError(f"noise_ceiling: needs RDMs of at least 2 subjects, got {S}.")
    Z = _pool_rows(V, m)
    total = Z.sum(0)
    pools = np.vstack([total / S, (total[None] - Z) / (S - 1)])  # row 0: all; row 1+s: leave s out
    if m in ("pearson", "whitened-pearson"):
        pools = pools - pools.min(1, keepdims=True)
    C = compare(pools, V, m, sigma_k=sigma_k)  # (1 + S, S)
    upper_ps = C[0]
    lower_ps = np.diagonal(C[1:]).copy()
    return NoiseCeiling(float(lower_ps.mean()), float(upper_ps.mean()), lower_ps, upper_ps, m)


# =========================================================================== resampling

def stimulus_bootstrap_counts(n_stimuli: int, n_bootstrap: int,
                              random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """How often each stimulus is drawn in each bootstrap sample, ``(n_bootstrap, n_stimuli)``.

    Parameters
    ----------
    n_stimuli, n_bootstrap : int
    random_state : int, Generator or None
    """
    idx = _rng(random_state).integers(0, n_stimuli, size=(n_bootstrap, n_stimuli))
    return counts_from_indices(idx, n_stimuli)


def subject_bootstrap_counts(n_subjects: int, n_bootstrap: int,
                             random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """How often each subject is drawn in each bootstrap sample, ``(n_bootstrap, n_subjects)``."""
    return stimulus_bootstrap_counts(n_subjects, n_bootstrap, random_state)


def counts_from_indices(indices: np.ndarray, n: int) -> np.ndarray:
    """Counts ``(n_samples, n)`` from resampled indices ``(n_samples, n_drawn)`` (one bincount per row, vectorised)."""
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim != 2 or (idx.size and (idx.min() < 0 or idx.max() >= n)):
        raise InvalidInputError(f"resample indices must be a 2D integer array with values in [0, {n}), "
                                f"got shape {idx.shape}.")
    B = idx.shape[0]
    flat = (idx + n * np.arange(B)[:, None]).ravel()
    return np.bincount(flat, minlength=B * n).reshape(B, n)


def pair_weights(counts: np.ndarray) -> np.ndarray:
    """Pair multiplicities ``c_i c_j`` (i < j, condensed order) of stimulus counts ``(n_samples, n)``."""
    c = np.asarray(counts, dtype=np.int64)
    i0, i1 = np.triu_indices(c.shape[1], 1)
    return c[:, i0] * c[:, i1]


class _RankPlan:
    """One sort of a vector, reused to rank it under any pair weights."""

    def __init__(self, v: np.ndarray):
        self.order = np.argsort(v, kind="stable")
        s = v[self.order]
        new = np.r_[True, s[1:] != s[:-1]]
        self.has_ties = not bool(new.all())
        self.gid = np.cumsum(new) - 1                   # group of each sorted position
        self.ends = np.r_[np.nonzero(new)[0][1:], v.size] - 1  # last sorted position of each group

    def group_weights(self, W: np.ndarray) -> np.ndarray:
        """Total weight of each tie group, ``(b, n_groups)``."""
        ce = np.cumsum(W[:, self.order], axis=1)[:, self.ends]
        ce[:, 1:] -= ce[:, :-1].copy()
        return ce

    def ranks(self, W: np.ndarray) -> np.ndarray:
        """Average ranks (1-based) of every element in the multiset where element ``p`` appears ``W[b, p]`` times."""
        Ws = W[:, self.order]
        cs = np.cumsum(Ws, axis=1)
        if not self.has_ties:
            cs -= 0.5 * (Ws - 1.0)
            rs = cs
        else:
            ce = cs[:, self.ends]
            gw = np.diff(ce, axis=1, prepend=0)
            rs = (ce - 0.5 * (gw - 1.0))[:, self.gid]
        R = np.empty_like(rs)
        R[:, self.order] = rs
        return R

    def tied_sum(self, W: np.ndarray, pair_term: np.ndarray) -> np.ndarray:
        """``sum_g (W_g^3 - W_g) / 12`` over the tie groups of the weighted multiset, ``(b,)``.

        ``pair_term`` is the same sum when every element is its own group (copies of one pair only).
        """
        if not self.has_ties:
            return pair_term
        gw = self.group_weights(W)
        return (gw ** 3 - gw).sum(1) / 12.0


def _weight_chunks(counts: np.ndarray | None, weights: np.ndarray | None, n_pairs: int,
                   per_row: int) -> Any:
    """Yield ``(slice, W)`` float64 pair-weight blocks, built from stimulus counts or sliced from weights."""
    B = counts.shape[0] if counts is not None else weights.shape[0]
    chunk = max(1, int(_CHUNK_BYTES // (8 * n_pairs * per_row)))
    if counts is not None:
        c = np.asarray(counts, dtype=np.float64)
        i0, i1 = np.triu_indices(c.shape[1], 1)
    for b0 in range(0, B, chunk):
        sl = slice(b0, min(B, b0 + chunk))
        if counts is not None:
            cb = c[sl]
            yield sl, cb[:, i0] * cb[:, i1]
        else:
            yield sl, np.asarray(weights[sl], dtype=np.float64)


def weighted_compare(models: Any, data: Any, weights: np.ndarray | None = None, method: str = "spearman", *,
                     counts: np.ndarray | None = None) -> np.ndarray:
    """Comparisons of RDMs whose dissimilarities are repeated ``weights[b, p]`` times.

    With ``weights = pair_weights(counts)`` this is the comparison of the stimulus-bootstrap
    resampled RDMs (copies of the same stimulus dropped), as rsatoolbox computes it.

    Parameters
    ----------
    models : RDMs or ndarray (K, n_pairs)
    data : RDMs or ndarray (S, n_pairs)
    weights : ndarray (B, n_pairs), optional
        Non-negative integer multiplicities.
    method : {"pearson", "spearman", "rho-a", "cosine", "tau-a"}, default="spearman"
    counts : ndarray (B, n_stimuli), optional
        Stimulus counts instead of ``weights`` (the pair weights are then built block by block,
        which bounds the memory).

    Returns
    -------
    ndarray of shape (B, S, K)

    Notes
    -----
    Spearman and rho-a never form the models' weighted ranks: with each model sorted once,
    ``sum_p w_p r^x_p r^m_p = sum (w r^x) cumsum(w)`` in the model's order (tie groups handled
    on group sums), and ``sum_p w_p (r^m_p)^2 = sum_{k<=M} k^2 - sum_g (W_g^3 - W_g) / 12``
    in closed form.
    """
    m = canonical_method(method, "weighted_compare")
    if m not in STIMULUS_BOOTSTRAP_METHODS:
        raise InvalidInputError(
            f"weighted_compare: the stimulus bootstrap supports {list(STIMULUS_BOOTSTRAP_METHODS)}, got {m!r}. "
            "For whitened and Bures comparisons bootstrap over subjects instead (over='subjects').")
    if (weights is None) == (counts is None):
        raise InvalidInputError("weighted_compare: give either weights or counts.")
    M, V = _pair(models, data, "weighted_compare")
    K, S, N = M.shape[0], V.shape[0], M.shape[1]
    if weights is not None:
        weights = np.asarray(weights)
        if weights.ndim != 2 or weights.shape[1] != N:
            raise InvalidInputError(f"weighted_compare: weights must be (n_samples, {N}), got {weights.shape}.")
        B = weights.shape[0]
    else:
        counts = np.asarray(counts)
        if counts.ndim != 2 or counts.shape[1] * (counts.shape[1] - 1) // 2 != N:
            raise InvalidInputError(f"weighted_compare: counts must be (n_samples, n_stimuli) for {N} pairs, "
                                    f"got {counts.shape}.")
        B = counts.shape[0]
    out = np.empty((B, S, K))
    if m in ("pearson", "cosine"):
        if m == "pearson":  # centring first keeps the moment formulas well conditioned
            M = M - M.mean(1, keepdims=True)
            V = V - V.mean(1, keepdims=True)
        Z = (V[:, None, :] * M[None, :, :]).reshape(S * K, N).T.copy()
        V2, M2 = (V ** 2).T.copy(), (M ** 2).T.copy()
        for sl, Wc in _weight_chunks(counts, weights, N, 2):
            b = Wc.shape[0]
            sxm = (Wc @ Z).reshape(b, S, K)
            sxx, smm = Wc @ V2, Wc @ M2
            if m == "cosine":
                den = np.sqrt(sxx[:, :, None] * smm[:, None, :])
                num = sxm
            else:
                sw = Wc.sum(1)[:, None]
                sx, sm = Wc @ V.T / sw, Wc @ M.T / sw
                num = sxm / sw[:, :, None] - sx[:, :, None] * sm[:, None, :]
                den = np.sqrt((sxx / sw - sx ** 2)[:, :, None] * (smm / sw - sm ** 2)[:, None, :])
            with np.errstate(invalid="ignore", divide="ignore"):
                out[sl] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        return out
    if m == "tau-a" and _tau_kernels() is not None:
        return _weighted_tau_a_compiled(M, V, counts, weights)
    v_plans = [_RankPlan(v) for v in V]
    m_plans = [_RankPlan(v) for v in M]
    if m == "tau-a":
        tp = _TauPlan(M, V, m_plans, v_plans)
        for sl, Wc in _weight_chunks(counts, weights, N, 2):
            out[sl] = _weighted_tau_a(Wc, tp)
        return out
    for sl, Wc in _weight_chunks(counts, weights, N, S + 4):
        tot = Wc.sum(1)                                   # multiset size per sample
        half = (tot + 1.0) / 2.0                          # mean rank
        sumsq = tot * (tot + 1.0) * (2.0 * tot + 1.0) / 6.0
        pair_term = ((Wc ** 3 - Wc).sum(1)) / 12.0
        U = np.stack([Wc * pl.ranks(Wc) for pl in v_plans])      # (S, b, N): w * data ranks
        var_v = (sumsq - np.stack([pl.tied_sum(Wc, pair_term) for pl in v_plans])) / tot - half ** 2  # (S, b)
        for k, pl in enumerate(m_plans):
            Wm = Wc[:, pl.order]
            cs = np.cumsum(Wm, axis=1)
            Um = U[:, :, pl.order]
            if not pl.has_ties:
                # sum_p u_p r_p with r = cumsum(w) - (w - 1) / 2 in the model's order; sum_p u_p = M (M + 1) / 2
                A = np.einsum("sbn,bn->sb", Um, cs) - 0.5 * np.einsum("sbn,bn->sb", Um, Wm) + tot * half / 2.0
            else:
                ce = cs[:, pl.ends]
                gw = np.diff(ce, axis=1, prepend=0)
                rg = ce - 0.5 * (gw - 1.0)                              # average rank of each tie group
                ug = np.diff(np.cumsum(Um, axis=2)[:, :, pl.ends], axis=2, prepend=0)
                A = np.einsum("sbg,bg->sb", ug, rg)
            if m == "rho-a":
                out[sl, :, k] = ((12.0 / (tot ** 3 - tot))[None] * (A - tot * half ** 2)).T
            else:
                var_m = (sumsq - pl.tied_sum(Wc, pair_term)) / tot - half ** 2
                cov = A / tot - half ** 2
                den = np.sqrt(var_v * var_m[None])
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[sl, :, k] = np.where(den > 0, cov / np.where(den > 0, den, 1.0), 0.0).T
    return out


class _TauPlan:
    """Per (model, subject) sorting for weighted tau-a, computed once for all resamples."""

    def __init__(self, M: np.ndarray, V: np.ndarray, m_plans: list[_RankPlan], v_plans: list[_RankPlan]):
        self.m_plans, self.v_plans = m_plans, v_plans
        self.ym = [_dense_ranks(m) for m in M]            # model ranks (1-based), original order
        ya = [_dense_ranks(v) for v in V]
        self.joint = [[_RankPlan(_dense_ranks(m).astype(np.int64) * (int(y.max()) + 1) + y)
                       if (mp.has_ties and vp.has_ties) else None for y, vp in zip(ya, v_plans, strict=True)]
                      for m, mp in zip(M, m_plans, strict=True)]


def _weighted_tau_a(Wc: np.ndarray, tp: _TauPlan) -> np.ndarray:
    """tau-a of the expanded (weighted) multisets; one compiled discordance count per (sample, subject, model).

    Each resample is expanded once per subject, in the order of the subject's dissimilarities (shared by all
    models); a model then costs one gather of its ranks and the count.
    """
    K, S, B = len(tp.m_plans), len(tp.v_plans), Wc.shape[0]
    tot = Wc.sum(1)
    tot_pairs = tot * (tot - 1.0) / 2.0
    # tied pairs of the expanded multiset: copies of one dissimilarity always tie (sum_p C(w_p, 2)); tie groups
    # of the original values only need their group weights when the vector has ties
    copies = _pairs_tied(Wc)

    def tied(pl: _RankPlan) -> np.ndarray:
        return _pairs_tied(pl.group_weights(Wc)) if pl.has_ties else copies

    tie_m = np.stack([tied(pl) for pl in tp.m_plans], 1)          # (B, K)
    out = np.empty((B, S, K))
    Wi = Wc.astype(np.intp)
    for s, vp in enumerate(tp.v_plans):
        tie_v = tied(vp)
        tie_j = np.stack([tied(tp.joint[k][s]) if tp.joint[k][s] is not None else copies for k in range(K)], 1)
        xs = (vp.gid + 1).astype(np.intp)                             # data ranks in the data's sorted order
        Ws = Wi[:, vp.order]
        for b in range(B):
            w = Ws[b]
            idx = np.repeat(vp.order, w)                              # the expanded multiset, sorted by the data
            x = np.repeat(xs, w)
            for k in range(K):
                dis = _discordant(x, tp.ym[k][idx])
                out[b, s, k] = (tot_pairs[b] - tie_m[b, k] - tie_v[b] + tie_j[b, k] - 2.0 * dis) / tot_pairs[b]
    return np.clip(out, -1.0, 1.0)


def _weighted_tau_a_compiled(M: np.ndarray, V: np.ndarray, counts: np.ndarray | None,
                             weights: np.ndarray | None) -> np.ndarray:
    """Weighted tau-a with the compiled count (:mod:`neurorep.rsa._tau_numba`): (B, S, K).

    From stimulus counts the pair weights ``c_i c_j`` are formed inside the kernel, zero-weight pairs
    skipped (about 60% of them in a stimulus bootstrap). Explicit pair weights go through the same
    kernel as the counts of a "stimulus" per pair (weights ``w_p * 1``).
    """
    kern = _tau_kernels()
    N = M.shape[1]
    RM, L = _dense0(M)          # the tree counts the models' ranks; items follow each data RDM's order
    order, gid = _model_order(V)
    if counts is not None:
        c = np.ascontiguousarray(counts, dtype=np.int64)
        n = c.shape[1]
        i0, i1 = np.triu_indices(n, 1)
        tot = (c.sum(1) ** 2 - (c ** 2).sum(1)) // 2                   # sum_{i<j} c_i c_j
        bound = int(tot.max()) if tot.size else 0
    else:  # pair p <-> "stimuli" (p, N): counts w_p and 1
        w = np.asarray(weights)
        if np.any(w < 0) or not np.all(np.mod(w, 1) == 0):
            raise InvalidInputError("weighted_compare: tau-a weights must be non-negative integers (multiplicities).")
        i0, i1 = np.arange(N), np.full(N, N)
        tot = w.sum(1).astype(np.int64)
        bound = int(tot.max()) if tot.size else 0
    I, J = np.ascontiguousarray(i0[order]), np.ascontiguousarray(i1[order])
    proto = _tree_proto(L, max(bound, 1))
    B = tot.shape[0]
    cd = np.empty((B, V.shape[0], M.shape[0]), dtype=np.int64)
    chunk = max(1, int(_CHUNK_BYTES // (8 * (N + 1))))
    for b0 in range(0, B, chunk):
        if counts is not None:
            cb = c[b0:b0 + chunk]
        else:  # explicit weights: one (chunk, N + 1) block at a time
            cb = np.ones((min(B, b0 + chunk) - b0, N + 1), np.int64)
            cb[:, :N] = w[b0:b0 + chunk]
        with TAU_KERNEL_LOCK:
            cd[b0:b0 + chunk] = kern.weighted_cd(cb, RM, order, I, J, gid, L, proto)
    pairs = tot.astype(np.float64) * (tot - 1.0) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(cd / pairs[:, None, None], -1.0, 1.0)


def _pairs_tied(w: np.ndarray) -> np.ndarray:
    return (w * (w - 1.0) / 2.0).sum(1)


# =========================================================================== bootstrap

@dataclass
class BootstrapResult:
    """Bootstrap distribution of model scores (mean over subjects).

    Attributes
    ----------
    observed : ndarray (K,)
        Scores on the full data.
    samples : ndarray (n_bootstrap, K)
        Scores of every resample (NaN where fewer than 3 distinct stimuli were drawn).
    ci_low, ci_high : ndarray (K,)
        Percentile confidence interval.
    se : ndarray (K,)
        Bootstrap standard error.
    confidence : float
    over : str
    per_subject : ndarray (n_bootstrap, S, K) or None
        Per-subject scores for stimulus resampling.
    """

    observed: np.ndarray
    samples: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    confidence: float
    over: str
    per_subject: np.ndarray | None = field(default=None, repr=False)


def bootstrap(models: Any, data: Any, method: str = "spearman", *, n_bootstrap: int = 1000,
              over: Literal["stimuli", "subjects", "both"] = "stimuli",
              random_state: int | np.random.Generator | None = None, confidence: float = 0.95,
              stimulus_indices: np.ndarray | None = None, subject_indices: np.ndarray | None = None,
              sigma_k: np.ndarray | None = None) -> BootstrapResult:
    """Bootstrap CIs of model scores, resampling stimuli, subjects or both.

    Parameters
    ----------
    models : RDMs or ndarray (K, n_pairs)
    data : RDMs or ndarray (S, n_pairs)
    method : str, default="spearman"
        Any comparison for ``over="subjects"``; {"pearson", "spearman", "rho-a", "cosine", "tau-a"}
        when stimuli are resampled.
    n_bootstrap : int, default=1000
    over : {"stimuli", "subjects", "both"}, default="stimuli"
        rsatoolbox's ``eval_bootstrap_pattern``, ``eval_bootstrap_rdm`` and ``eval_bootstrap``.
    random_state : int, Generator or None
    confidence : float, default=0.95
    stimulus_indices, subject_indices : ndarray (n_bootstrap, n), optional
        Explicit resamples (e.g. to reproduce another tool's draws); override ``random_state``.
    sigma_k : ndarray, optional
        Pattern covariance for the whitened methods (subject bootstrap).

    Returns
    -------
    BootstrapResult
    """
    m = canonical_method(method, "bootstrap")
    if over not in ("stimuli", "subjects", "both"):
        raise InvalidInputError(f"bootstrap: over must be 'stimuli', 'subjects' or 'both', got {over!r}.")
    if not 0 < confidence < 1:
        raise InvalidInputError(f"bootstrap: confidence must be in (0, 1), got {confidence!r}.")
    M, V = _pair(models, data, "bootstrap")
    K, S, N = M.shape[0], V.shape[0], M.shape[1]
    n = n_stimuli_from_pairs(N)
    rng = _rng(random_state)
    observed = compare(M, V, m, sigma_k=sigma_k).mean(1)
    per_subject = None
    if over in ("subjects", "both"):
        if subject_indices is not None:
            sc = counts_from_indices(subject_indices, S)
        else:
            sc = subject_bootstrap_counts(S, n_bootstrap, rng)
        B = sc.shape[0]
    if over in ("stimuli", "both"):
        if stimulus_indices is not None:
            cnt = counts_from_indices(stimulus_indices, n)
        else:
            cnt = stimulus_bootstrap_counts(n, n_bootstrap if over == "stimuli" else B, rng)
        B = cnt.shape[0]
        per_subject = weighted_compare(M, V, method=m, counts=cnt)   # (B, S, K)
        per_subject[(cnt > 0).sum(1) < 3] = np.nan                  # as rsatoolbox: too few distinct stimuli
    if over == "subjects":
        scores = compare(M, V, m, sigma_k=sigma_k).T              # (S, K)
        samples = sc @ scores / S
    elif over == "stimuli":
        samples = per_subject.mean(1)
    else:
        if sc.shape[0] != B:
            raise InvalidInputError("bootstrap: stimulus_indices and subject_indices must have the same number "
                                    "of rows.")
        samples = np.einsum("bs,bsk->bk", sc, per_subject) / S
    a = (1 - confidence) / 2
    lo, hi = np.nanpercentile(samples, [100 * a, 100 * (1 - a)], axis=0)
    se = np.nanstd(samples, axis=0, ddof=1)
    return BootstrapResult(observed, samples, lo, hi, se, confidence, over, per_subject)


# =========================================================================== permutation tests

@dataclass
class PermutationResult:
    """A stimulus-relabelling permutation test of model scores.

    Attributes
    ----------
    observed : ndarray (K,)
    null : ndarray (n_permutations, K)
        Scores with the data's stimuli relabelled: row ``r`` compares each model with the data RDMs
        ``D[pi_r][:, pi_r]`` (equivalently, the model relabelled by the inverse permutation).
    p_values : ndarray (K,)
        ``(1 + #{null at least as extreme}) / (1 + n_permutations)``.
    p_max : ndarray (K,)
        Family-wise corrected over the models with the max-statistic method.
    alternative : str
    """

    observed: np.ndarray
    null: np.ndarray
    p_values: np.ndarray
    p_max: np.ndarray
    alternative: str


def permuted_pair_index(perms: np.ndarray, n: int) -> np.ndarray:
    """Condensed index ``(n_perm, n_pairs)`` of the pair ``(pi_i, pi_j)`` for every pair ``(i, j)``.

    ``v[permuted_pair_index(perms, n)]`` is the RDM ``v`` with stimulus ``i`` relabelled as ``pi_i``.
    """
    i0, i1 = np.triu_indices(n, 1)
    a, b = perms[:, i0], perms[:, i1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo * n - lo * (lo + 1) // 2 + hi - lo - 1


def _flat_pair_index(perms: np.ndarray, n: int) -> np.ndarray:
    """Flat index ``pi_i * n + pi_j`` into an (n, n) matrix for every pair ``(i < j)`` and permutation (int32)."""
    i0, i1 = np.triu_indices(n, 1)
    p32 = perms.astype(np.int32)
    return (p32 * np.int32(n))[:, i0] + p32[:, i1]


def _square(v: np.ndarray, n: int) -> np.ndarray:
    """The symmetric (n, n) matrix of a condensed vector (diagonal 0), in the vector's dtype."""
    F = np.zeros((n, n), dtype=v.dtype)
    i0, i1 = np.triu_indices(n, 1)
    F[i0, i1] = v
    F[i1, i0] = v
    return F


def _p_from_null(observed: np.ndarray, null: np.ndarray, alternative: str) -> np.ndarray:
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    P = null.shape[0]
    ge = (null >= observed - tol).sum(0)
    le = (null <= observed + tol).sum(0)
    if alternative == "greater":
        return (1 + ge) / (1 + P)
    if alternative == "less":
        return (1 + le) / (1 + P)
    return np.minimum(1.0, 2 * np.minimum((1 + ge) / (1 + P), (1 + le) / (1 + P)))


def max_statistic_pvalues(observed: np.ndarray, null: np.ndarray,
                          alternative: Literal["greater", "less", "two-sided"] = "greater") -> np.ndarray:
    """Family-wise error corrected p-values by the max-statistic method (Westfall & Young; Nichols & Holmes).

    Parameters
    ----------
    observed : ndarray (K,)
    null : ndarray (n_permutations, K)
        Null scores of all tests under the *same* permutations.
    alternative : {"greater", "less", "two-sided"}, default="greater"
        For "two-sided" the statistic is the absolute deviation from each test's null mean.

    Returns
    -------
    ndarray (K,)
    """
    observed = np.asarray(observed, dtype=np.float64)
    null = np.asarray(null, dtype=np.float64)
    if alternative == "less":
        observed, null = -observed, -null
    elif alternative == "two-sided":
        mu = null.mean(0)
        observed, null = np.abs(observed - mu), np.abs(null - mu)
    elif alternative != "greater":
        raise InvalidInputError(f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}.")
    mx = null.max(1)
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    return (1 + (mx[:, None] >= observed[None] - tol).sum(0)) / (1 + null.shape[0])


def permutation_test(models: Any, data: Any, method: str = "spearman", *, n_permutations: int = 1000,
                     random_state: int | np.random.Generator | None = None,
                     alternative: Literal["greater", "less", "two-sided"] = "greater",
                     permutations: np.ndarray | None = None, sigma_k: np.ndarray | None = None) -> PermutationResult:
    """Stimulus-relabelling permutation test of every model's score.

    Parameters
    ----------
    models : RDMs or ndarray (K, n_pairs)
    data : RDMs or ndarray (S, n_pairs)
    method : str, default="spearman"
    n_permutations : int, default=1000
    random_state : int, Generator or None
    alternative : {"greater", "less", "two-sided"}, default="greater"
        "greater": the model is more similar to the data than under relabelling (for
        "bures-metric", a distance, use "less").
    permutations : ndarray (n_permutations, n_stimuli), optional
        Explicit permutations; override ``random_state``.
    sigma_k : ndarray, optional

    Returns
    -------
    PermutationResult

    Notes
    -----
    ``compare(model o pi, data) == compare(model, data o pi^-1)``, so for linear methods the
    permutations act on the mean embedding of the data (one gather of ``(n_perm, n_pairs)``)
    and the null of all models is one GEMM. Tau-a reuses one sort per model and counts
    ``C - D`` per permutation in compiled code; Bures and whitened comparisons with ``sigma_k``
    recompute the permuted models' comparisons in batches.
    """
    m = canonical_method(method, "permutation_test")
    if alternative not in ("greater", "less", "two-sided"):
        raise InvalidInputError(f"permutation_test: alternative must be 'greater', 'less' or 'two-sided', "
                                f"got {alternative!r}.")
    M, V = _pair(models, data, "permutation_test")
    K, S, N = M.shape[0], V.shape[0], M.shape[1]
    n = n_stimuli_from_pairs(N)
    if permutations is None:
        perms = _rng(random_state).permuted(np.tile(np.arange(n), (n_permutations, 1)), axis=1)
    else:
        perms = np.asarray(permutations, dtype=np.int64)
        if perms.ndim != 2 or perms.shape[1] != n or not np.all(np.sort(perms, 1) == np.arange(n)):
            raise InvalidInputError(f"permutation_test: permutations must be (n_permutations, {n}) rows that each "
                                    f"permute 0..{n - 1}.")
    P = perms.shape[0]
    null = np.empty((P, K))
    linear = m in LINEAR and not (m.startswith("whitened") and sigma_k is not None)
    if linear:
        EM = embed(M, m)
        ev = embed(V, m).mean(0)
        observed = EM @ ev
        whitened = m.startswith("whitened")
        F = _square(ev[:N], n).ravel()   # relabelling is a gather from the (cache-resident) square matrix
        chunk = max(1, int(_CHUNK_BYTES // (16 * ev.size)))
        for p0 in range(0, P, chunk):
            pc = perms[p0:p0 + chunk]
            Ep = F[_flat_pair_index(pc, n)]
            if whitened:  # the diagonal of the centred kernel follows the stimuli
                Ep = np.concatenate([Ep, ev[N:][pc]], axis=1)
            null[p0:p0 + chunk] = Ep @ EM.T
    elif m == "tau-a" and _tau_kernels() is not None:
        observed = compare(M, V, m).mean(1)
        tot = N * (N - 1) // 2
        Y, L = _dense0(V)
        small = np.int16 if L < 16 else np.int32
        F = np.stack([_square(y.astype(small), n).ravel() for y in Y])   # (S, n * n): data ranks as matrices
        order, gid = _model_order(M)
        i0, i1 = np.triu_indices(n, 1)
        PQ = np.ascontiguousarray(i0[order] * n + i1[order])
        proto = _tree_proto(L, N)
        chunk = max(1, int(_CHUNK_BYTES // (8 * K * S)))
        for p0 in range(0, P, chunk):
            with TAU_KERNEL_LOCK:
                cd = _tau_kernels().permutation_cd(F, n, np.ascontiguousarray(perms[p0:p0 + chunk]), PQ, gid, L,
                                                   proto)
            null[p0:p0 + chunk] = np.clip(cd / tot, -1.0, 1.0).mean(2)
    elif m == "tau-a":
        observed = compare(M, V, m).mean(1)
        tot = N * (N - 1) // 2
        ya = [_dense_ranks(v) for v in V]
        Fy = [_square(y, n).ravel() for y in ya]
        tie_v = [_tied_pairs(y) for y in ya]
        prepared = [_dense_sorted(v) for v in M]
        chunk = max(1, int(_CHUNK_BYTES // (16 * N)))
        acc = np.zeros((P, K))
        for p0 in range(0, P, chunk):
            flat = _flat_pair_index(perms[p0:p0 + chunk], n)
            for s in range(S):
                yperm = Fy[s][flat]                             # (chunk, N): data ranks relabelled
                for k, (order, xs, tie_m) in enumerate(prepared):
                    ys_all = yperm[:, order]
                    for r in range(ys_all.shape[0]):
                        ys = ys_all[r]
                        dis = _discordant(xs, ys)
                        nt = _joint_ties(xs, ys) if (tie_m and tie_v[s]) else 0
                        acc[p0 + r, k] += (tot - tie_m - tie_v[s] + nt - 2 * dis) / tot
        null[:] = acc / S
    else:
        observed = compare(M, V, m, sigma_k=sigma_k).mean(1)
        chunk = max(1, int(_CHUNK_BYTES // (8 * n * n * K * 4)))
        for p0 in range(0, P, chunk):
            # compare(model o pi^-1, data) == compare(model, data o pi): the same null as the other paths
            inv = np.argsort(perms[p0:p0 + chunk], axis=1)
            idx = permuted_pair_index(inv, n)                        # (c, N)
            Mp = M[:, idx].transpose(1, 0, 2).reshape(-1, N)        # (c*K, N): relabelled models
            null[p0:p0 + chunk] = compare(Mp, V, m, sigma_k=sigma_k).mean(1).reshape(-1, K)
    p = _p_from_null(observed, null, alternative)
    p_max = max_statistic_pvalues(observed, null, alternative)
    return PermutationResult(observed, null, p, p_max, alternative)


# =========================================================================== corrections and model comparisons

def fdr_bh(p_values: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); reject where ``q <= alpha`` controls the FDR at ``alpha``.

    Parameters
    ----------
    p_values : array-like
        Any shape; NaNs are kept and ignored.

    Returns
    -------
    ndarray of the input's shape
    """
    p = np.asarray(p_values, dtype=np.float64)
    flat = p.ravel()
    ok = np.isfinite(flat)
    q = np.full_like(flat, np.nan)
    pv = flat[ok]
    m = pv.size
    if m:
        order = np.argsort(pv)
        ranked = pv[order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        out = np.empty(m)
        out[order] = np.minimum(ranked, 1.0)
        q[ok] = out
    return q.reshape(p.shape)


def bootstrap_pair_tests(samples: np.ndarray) -> np.ndarray:
    """Two-sided bootstrap p-values for every pair of models (rsatoolbox's ``bootstrap_pair_tests``).

    Parameters
    ----------
    samples : ndarray (n_bootstrap, K) or (n_bootstrap, K, ...)
        Bootstrap scores; trailing axes are averaged (ignoring NaN).

    Returns
    -------
    ndarray (K, K)
        ``2 * min(P(a < b), P(a > b))`` over resamples (ties excluded), shrunk as
        ``(B - 1) / B * p + 1 / B``; ones on the diagonal.
    """
    e = np.asarray(samples, dtype=np.float64)
    while e.ndim > 2:
        e = np.nanmean(e, axis=-1)
    B = e.shape[0]
    less = (e[:, :, None] < e[:, None, :]).sum(0)
    eq = (e[:, :, None] == e[:, None, :]).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = less / (B - eq)
    prop = np.minimum(prop, 1 - prop) * 2
    prop = (B - 1) / B * prop + 1 / B
    np.fill_diagonal(prop, 1.0)
    return prop


def bootstrap_difference(result: BootstrapResult, confidence: float | None = None) -> dict[str, np.ndarray]:
    """Paired differences between models from one bootstrap (the same resamples for every model).

    Parameters
    ----------
    result : BootstrapResult
    confidence : float, optional
        Defaults to ``result.confidence``.

    Returns
    -------
    dict with ``difference`` (K, K) observed ``score_i - score_j``, ``ci_low``/``ci_high`` (K, K)
    percentile intervals of the resampled differences and ``p_value`` (K, K) from
    :func:`bootstrap_pair_tests`.
    """
    conf = result.confidence if confidence is None else confidence
    s = result.samples
    d = s[:, :, None] - s[:, None, :]
    a = (1 - conf) / 2
    lo, hi = np.nanpercentile(d, [100 * a, 100 * (1 - a)], axis=0)
    return {"difference": result.observed[:, None] - result.observed[None, :], "ci_low": lo, "ci_high": hi,
            "p_value": bootstrap_pair_tests(s)}


def subject_pair_t_tests(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paired t-tests across subjects between every pair of models.

    Parameters
    ----------
    scores : ndarray (S, K)
        Each subject's score for each model.

    Returns
    -------
    t, p : ndarray (K, K)
        ``t[i, j]`` tests ``score_i - score_j`` (two-sided, ``S - 1`` degrees of freedom);
        the diagonal is 0 and 1.
    """
    X = np.asarray(scores, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise InvalidInputError(f"subject_pair_t_tests: expected scores of shape (n_subjects >= 2, n_models), "
                                f"got {X.shape}.")
    d = X[:, :, None] - X[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        res = stats.ttest_1samp(d, 0.0, axis=0)
    t, p = np.nan_to_num(res.statistic, nan=0.0), np.where(np.isnan(res.pvalue), 1.0, res.pvalue)
    np.fill_diagonal(t, 0.0)
    np.fill_diagonal(p, 1.0)
    return t, p
