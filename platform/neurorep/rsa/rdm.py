"""Representational dissimilarity matrices, computed as GEMMs and batched over many representations.

Distances (``distance=``)
-------------------------
``"euclidean"``, ``"sqeuclidean"``, ``"correlation"``, ``"cosine"``, ``"mahalanobis"``, ``"crossnobis"``,
``"poisson"``, ``"poisson-cv"``.

Conventions (rsatoolbox's, so that numbers agree with it to rounding)
--------------------------------------------------------------------
* **Per-feature normalisation.** With ``normalize=True`` (default) the squared distances
  are divided by the number of features ``p``: ``sqeuclidean(x, y) = ||x - y||^2 / p``.
  This is what rsatoolbox's ``calc_rdm(..., method="euclidean")`` returns (it stores it as
  ``"squared euclidean"``). ``euclidean`` is the square root of ``sqeuclidean``
  (``||x - y|| / sqrt(p)`` normalised, ``||x - y||`` as in ``scipy.spatial.distance.pdist``
  with ``normalize=False``).
* ``"mahalanobis"`` is the *squared* Mahalanobis distance per feature,
  ``(x - y)' P (x - y) / p`` with a noise precision ``P`` (rsatoolbox's ``"mahalanobis"``);
  ``P = I`` gives ``sqeuclidean``.
* ``"crossnobis"`` is the cross-validated squared Mahalanobis distance: with runs
  (``repeats``) ``r = 1..R`` as folds, ``d(i, j) = mean over ordered run pairs r != s of
  (x_ri - x_rj)' P (x_si - x_sj) / p``. This equals rsatoolbox's leave-one-run-out form
  (mean over runs of (training mean difference)' P (test difference) / p) exactly.
  It is unbiased (its expectation is the noise-free squared distance) and can be negative.
* ``"correlation"`` is ``1 - Pearson r`` across features and ``"cosine"`` ``1 - cosine``;
  they take no normalisation.
* ``"poisson"`` is the symmetrised KL divergence between Poisson rates per feature,
  ``(x_i - x_j)' (log x_i - log x_j) / p`` after shrinking the rates towards a prior,
  ``x <- (x + prior_lambda * prior_weight) / (1 + prior_weight)`` (spike counts; needs
  non-negative data). ``"poisson-cv"`` cross-validates it over runs like crossnobis: the mean
  over ordered pairs of distinct runs ``r != s`` of ``(x_ri - x_rj)' (log x_si - log x_sj) / p``.
  (rsatoolbox's ``poisson_cv`` returns the last leave-one-run-out fold only instead of the
  mean over folds; for two runs, the mean of its result and of its result with the run labels
  swapped is this value.)

How it is computed
------------------
Every distance is a function of a Gram matrix ``G = X X'`` of the patterns:
``d(i, j) = G_ii + G_jj - 2 G_ij`` (Euclidean family) or ``1 - G_ij / sqrt(G_ii G_jj)``
(correlation with centred patterns, cosine).
``X X'`` runs as one BLAS ``syrk`` (half a GEMM) and the patterns are never copied:
centring (correlation, ``remove_mean``) is applied to ``G`` as ``X X' - p m m'`` (with an
explicit centring when that would cancel digits). Mahalanobis uses ``(X P) X'``.
Crossnobis uses ``sum_{r != s} X_r X_s' = S S' - sum_r X_r X_r'`` (``S = sum_r X_r``): two
``syrk`` calls instead of ``R (R - 1) / 2`` GEMMs (with ``P``: ``(S P) S' - sum_r (X_r P) X_r'``).
Stacks ``(k, n, p)`` of small inputs are batched; large representations (or ones with
different feature counts) run one GEMM each. ``backend="torch"`` runs the same kernels in
torch (on CUDA when available).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..errors import InvalidInputError, StimulusMismatchError
from ..types import RDMs, Representation
from ._backend import Backend, get_backend, resolve_dtype

__all__ = [
    "DISTANCES",
    "NOISE_METHODS",
    "pattern_rdms",
    "crossnobis_rdms",
    "poisson_cv_rdms",
    "calc_rdm",
    "cov_from_residuals",
    "prec_from_residuals",
    "residuals_from_repeats",
    "noise_precision",
]

DISTANCES: tuple[str, ...] = ("euclidean", "sqeuclidean", "correlation", "cosine", "mahalanobis", "crossnobis",
                              "poisson", "poisson-cv")
_CV_DISTANCES = ("crossnobis", "poisson-cv")
_STACK_BYTES = 64 * 2 ** 20
NOISE_METHODS: tuple[str, ...] = ("shrinkage_diag", "shrinkage_eye", "diag", "full")

Distance = Literal["euclidean", "sqeuclidean", "correlation", "cosine", "mahalanobis", "crossnobis", "poisson",
                   "poisson-cv"]
NoiseMethod = Literal["shrinkage_diag", "shrinkage_eye", "diag", "full"]

#: The ``dissimilarity_measure`` written on RDMs of each distance.
MEASURE_NAMES = {
    "euclidean": "euclidean", "sqeuclidean": "squared euclidean", "correlation": "correlation",
    "cosine": "cosine", "mahalanobis": "squared mahalanobis", "crossnobis": "crossnobis", "poisson": "poisson",
    "poisson-cv": "poisson_cv",
}


# =========================================================================== noise estimates

def _demean_columns(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2:
        raise InvalidInputError(f"noise estimation: residuals must be 2D (n_observations, n_features), "
                                f"got shape {matrix.shape}.")
    return matrix - matrix.mean(0, keepdims=True), matrix.shape[0] - 1


def cov_from_residuals(residuals: np.ndarray, dof: int | None = None,
                       method: NoiseMethod = "shrinkage_diag") -> np.ndarray:
    """Noise covariance over features from residuals, optionally shrunk (rsatoolbox's estimators).

    Parameters
    ----------
    residuals : ndarray of shape (n_observations, n_features)
        Residuals (e.g. GLM residuals, or measurements minus their condition means). Column
        means are removed first.
    dof : int, optional
        Degrees of freedom; default ``n_observations - 1``. Use ``n_obs - n_regressors`` for GLM
        residuals, ``n_obs - n_conditions`` for residuals around condition means.
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
        ``"shrinkage_diag"``: Schäfer & Strimmer (2005) shrinkage of the correlations towards 0
        (the target is the diagonal covariance), the amount estimated from the data.
        ``"shrinkage_eye"``: Ledoit & Wolf (2004) shrinkage towards a multiple of the identity.
        ``"diag"``: variances only. ``"full"``: the sample covariance.

    Returns
    -------
    ndarray of shape (n_features, n_features)

    Notes
    -----
    Same formulas as ``rsatoolbox.data.noise.cov_from_residuals``; the sums of outer products
    are computed as GEMMs (``X'X`` and ``(X**2)'(X**2)``) instead of a loop over rows.
    """
    X, dof_nat = _demean_columns(residuals)
    if dof is None:
        dof = dof_nat
    m = X.shape[0]
    if dof <= 0:
        raise InvalidInputError(f"noise estimation: need positive degrees of freedom, got dof={dof} from "
                                f"{m} observation(s). Give more residual rows (runs/trials).")
    if method == "full":
        return X.T @ X / dof
    if method == "diag":
        return np.diag(np.einsum("ij,ij->j", X, X) / dof)
    if method not in NOISE_METHODS:
        raise InvalidInputError(f"noise estimation: method must be one of {list(NOISE_METHODS)}, got {method!r}.")
    s_sum = X.T @ X
    X2 = X * X
    s2_sum = X2.T @ X2
    p = X.shape[1]
    if method == "shrinkage_eye":
        s = s_sum / m
        b2 = np.sum(s2_sum / m - s * s) / m
        mu = np.trace(s) / p
        s_mu = s.copy()
        s_mu[np.diag_indices(p)] -= mu
        d2 = np.sum(s_mu ** 2)
        b2 = min(d2, b2)
        shrunk = (d2 - b2) / d2 * s
        shrunk[np.diag_indices(p)] += b2 / d2 * mu
        return shrunk * m / dof
    # shrinkage_diag
    s = s_sum / dof
    var = np.diag(s).copy()
    if np.any(var <= 0):
        raise InvalidInputError(f"noise estimation: {int(np.sum(var <= 0))} feature(s) have zero residual variance; "
                                "drop constant features before estimating the noise covariance.")
    std = np.sqrt(var)
    s_mean = s_sum / std[None, :] / std[:, None] / (m - 1)
    s2_mean = s2_sum / var[None, :] / var[:, None] / (m - 1)
    var_hat = m / dof ** 2 * (s2_mean - s_mean ** 2)
    off = ~np.eye(p, dtype=bool)
    denom = np.sum(s_mean[off] ** 2)
    lamb = np.sum(var_hat[off]) / denom if denom > 0 else 1.0
    lamb = max(min(lamb, 1.0), 0.0)
    return s * np.where(off, 1.0 - lamb, 1.0)


def prec_from_residuals(residuals: np.ndarray, dof: int | None = None,
                        method: NoiseMethod = "shrinkage_diag") -> np.ndarray:
    """The noise precision matrix: the inverse of :func:`cov_from_residuals` (same parameters).

    Parameters
    ----------
    residuals : ndarray of shape (n_observations, n_features)
    dof : int, optional
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
    """
    cov = cov_from_residuals(residuals, dof=dof, method=method)
    try:
        return np.linalg.inv(cov)
    except np.linalg.LinAlgError as exc:
        raise InvalidInputError(
            f"noise estimation: the {method!r} covariance estimate is singular (features > observations?); "
            "use method='shrinkage_diag' or 'shrinkage_eye'.") from exc


def residuals_from_repeats(repeats: np.ndarray) -> tuple[np.ndarray, int]:
    """Residuals of repeated measurements around each stimulus' mean, and their degrees of freedom.

    Parameters
    ----------
    repeats : ndarray of shape (n_repeats, n_stimuli, n_features)

    Returns
    -------
    residuals : ndarray of shape (n_repeats * n_stimuli, n_features)
    dof : int
        ``n_repeats * n_stimuli - n_stimuli`` (rsatoolbox's ``cov_from_unbalanced`` convention).
    """
    rep = np.asarray(repeats, dtype=np.float64)
    if rep.ndim != 3 or rep.shape[0] < 2:
        raise InvalidInputError(f"noise estimation from repeats: expected (n_repeats >= 2, n_stimuli, n_features), "
                                f"got shape {rep.shape}.")
    res = rep - rep.mean(0, keepdims=True)
    r, n, p = rep.shape
    return res.reshape(r * n, p), r * n - n


def noise_precision(rep: Representation, source: Literal["repeats", "patterns"] = "repeats",
                    method: NoiseMethod = "shrinkage_diag") -> np.ndarray:
    """Estimate a representation's noise precision matrix.

    Parameters
    ----------
    rep : Representation
    source : {"repeats", "patterns"}, default="repeats"
        ``"repeats"``: residuals of ``rep.repeats`` around each stimulus' mean (the measurement
        noise; needs repeats). ``"patterns"``: the stimulus patterns centred across stimuli
        (the covariance of the responses themselves: the classical Mahalanobis distance).
    method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
    """
    if source == "repeats":
        if rep.repeats is None or rep.repeats.shape[0] < 2:
            raise InvalidInputError(
                f"Representation {rep.name!r}: estimating the noise from repeats needs at least 2 repeats "
                "(Representation(..., repeats=array of shape (n_repeats, n_stimuli, n_features))); "
                "use source='patterns' to estimate it from the stimulus patterns instead.")
        res, dof = residuals_from_repeats(rep.repeats)
        return prec_from_residuals(res, dof=dof, method=method)
    if source == "patterns":
        return prec_from_residuals(rep.data, method=method)
    raise InvalidInputError(f"noise source must be 'repeats' or 'patterns', got {source!r}.")


# =========================================================================== kernels

def _condensed_index(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


def _from_gram(be: Backend, G: Any, p: int, normalize: bool, sqrt: bool, symmetric: bool = True) -> Any:
    """Condensed ``(G_ii + G_jj - G_ij - G_ji) [/ p]`` (and its square root) from Gram matrices (..., n, n)."""
    n = G.shape[-1]
    i0, i1 = _condensed_index(n)
    ti0, ti1 = be.index(i0), be.index(i1)
    diag = be.diagonal(G)
    off = 2.0 * G[..., ti0, ti1] if symmetric else G[..., ti0, ti1] + G[..., ti1, ti0]
    d = diag[..., ti0] + diag[..., ti1] - off
    if normalize:
        d = d / p
    if sqrt:
        d = be.sqrt(be.clip_min(d, 0.0))
    return d


def _poisson_rates(be: Backend, X: Any, prior: tuple[float, float], owner: str) -> Any:
    lam, w = prior
    Xp = (X + lam * w) / (1.0 + w)
    if be.any_nonpositive(Xp):
        raise InvalidInputError(f"{owner}: the Poisson distances need rates > 0 after the prior "
                                f"(x + {lam} * {w}) / (1 + {w}); got non-positive values. Pass non-negative "
                                "counts or rates, or a larger prior_weight.")
    return Xp


def _pattern_kernel(be: Backend, X: Any, distance: str, precision: Any, normalize: bool, remove_mean: bool,
                    owner: str, prior: tuple[float, float] = (1.0, 0.1)) -> Any:
    """Condensed RDMs of a stack ``X`` (k, n, p) on backend ``be``."""
    p = X.shape[-1]
    i0, i1 = _condensed_index(X.shape[-2])
    if distance in ("correlation", "cosine"):
        G = _centred_gram(be, X) if distance == "correlation" else be.gram(X)
        sq = be.diagonal(G)
        if be.any_nonpositive(sq):
            bad = int(be.to_numpy(be.sum(sq <= 0, -1)).sum())
            what = "constant across features" if distance == "correlation" else "all zero"
            raise InvalidInputError(f"{owner}: {bad} stimulus pattern(s) are {what}; the {distance} distance is "
                                    "undefined for them. Drop those stimuli or use a Euclidean distance.")
        r = 1.0 / be.sqrt(sq)
        ti0, ti1 = be.index(i0), be.index(i1)
        return 1.0 - G[..., ti0, ti1] * r[..., ti0] * r[..., ti1]
    if distance == "poisson":
        Xp = _poisson_rates(be, X, prior, owner)
        return _from_gram(be, be.gram(Xp, be.log(Xp)), p, True, sqrt=False, symmetric=False)
    if distance == "mahalanobis" and precision is not None:
        if remove_mean:
            X = X - be.mean(X, -1)
        k, n = X.shape[0], X.shape[1]
        XP = be.matmul(X.reshape(k * n, p), precision).reshape(k, n, p)
        G = be.gram(XP, X)                          # X P X' as rsatoolbox: no Cholesky, no p^3 term
    else:
        G = _centred_gram(be, X) if remove_mean else be.gram(X)
    return _from_gram(be, G, p, normalize, sqrt=distance == "euclidean")


def _centred_gram(be: Backend, X: Any) -> Any:
    """Gram matrix of the patterns with each pattern's mean over features removed, without a centred copy of X.

    ``(X - m 1')(X - m 1')' = X X' - p m m'``; when that subtraction would cancel more than six digits
    (patterns whose mean dwarfs their spread) the patterns are centred explicitly instead.
    """
    p = X.shape[-1]
    m = be.mean(X, -1)                      # (k, n, 1): a reduction, no copy of X
    G = be.gram(X)
    sq = be.diagonal(G)
    msq = p * m[..., 0] * m[..., 0]
    if bool(((sq - msq) < 1e-6 * sq).any()):
        return be.gram(X - m)
    return G - p * (m * (m[..., 0])[..., None, :])


def _crossnobis_kernel(be: Backend, R: Any, precision: Any, normalize: bool, remove_mean: bool, owner: str) -> Any:
    """Condensed crossnobis RDMs of a stack of repeats ``R`` (k, r, n, p)."""
    k, r, n, p = R.shape
    if r < 2:
        raise InvalidInputError(f"{owner}: crossnobis needs at least 2 runs/repeats (folds), got {r}.")
    if remove_mean:
        R = R - be.mean(R, -1)

    def runs_side_by_side(T: Any) -> Any:  # (k, r, n, p) -> (k, n, r * p)
        if be.torch is None:
            return np.ascontiguousarray(np.swapaxes(T, 1, 2)).reshape(k, n, r * p)
        return T.transpose(1, 2).reshape(k, n, r * p)

    S = be.sum(R, 1)                                        # (k, n, p): the sum over runs
    A = runs_side_by_side(R)
    if precision is None:
        G = be.gram(S) - be.gram(A)                         # syrk twice
    else:
        RP = be.matmul(R.reshape(k * r * n, p), precision).reshape(k, r, n, p)  # one GEMM: 2 r n p^2 flops
        G = be.gram(be.sum(RP, 1), S) - be.gram(runs_side_by_side(RP), A)
    G = G / (r * (r - 1))                                   # the mean over ordered pairs of different runs
    return _from_gram(be, G, p, normalize, sqrt=False)


def _as_stack(data: Any, what: str, ndim: int) -> tuple[list[np.ndarray] | np.ndarray, bool]:
    """``(stack_or_list, single)``: a single array of ``ndim`` dims, a stack of ``ndim + 1`` dims, or a list."""
    if isinstance(data, (list, tuple)):
        arrs = [np.asarray(a) for a in data]
        if not arrs:
            raise InvalidInputError(f"{what}: got an empty list.")
        for a in arrs:
            if a.ndim != ndim:
                raise InvalidInputError(f"{what}: each array must have {ndim} dimensions, got shape {a.shape}.")
        shapes = {(a.shape, a.dtype) for a in arrs}
        if len(shapes) == 1 and sum(a.nbytes for a in arrs) <= _STACK_BYTES:
            return np.stack(arrs), False  # many small inputs: one batched call (large ones: a GEMM each, no copy)
        return arrs, False
    a = np.asarray(data)
    if a.ndim == ndim:
        return a[None], True
    if a.ndim == ndim + 1:
        return a, False
    raise InvalidInputError(f"{what}: expected an array with {ndim} (one) or {ndim + 1} (a stack) dimensions, "
                            f"got shape {a.shape}.")


def _check_float(a: np.ndarray, what: str) -> None:
    if a.dtype.kind not in "fiub":
        raise InvalidInputError(f"{what}: expected a numeric array, got dtype {a.dtype}.")
    # one reduction instead of a boolean copy; the sum is non-finite if any value is (or on overflow: then look)
    if a.dtype.kind == "f" and not np.isfinite(np.add.reduce(a, axis=None)) and not np.all(np.isfinite(a)):
        raise InvalidInputError(f"{what}: expected finite values, got NaN/inf. Remove or impute them first.")


def _precision_for(precision: Any, i: int, k: int, p: int, what: str) -> np.ndarray | None:
    if precision is None:
        return None
    if isinstance(precision, (list, tuple)):
        if len(precision) != k:
            raise InvalidInputError(f"{what}: got {len(precision)} precision matrices for {k} representations.")
        P = np.asarray(precision[i])
    else:
        P = np.asarray(precision)
        if P.ndim == 3:
            if P.shape[0] != k:
                raise InvalidInputError(f"{what}: got {P.shape[0]} precision matrices for {k} representations.")
            P = P[i]
    if P.shape != (p, p):
        raise InvalidInputError(f"{what}: the noise precision must be ({p}, {p}) for {p} features, got {P.shape}.")
    asym = float(np.abs(P - P.T).max()) if P.size else 0.0
    if asym > 1e-8 * max(float(np.abs(P).max()), 1e-300):
        raise InvalidInputError(f"{what}: the noise precision matrix must be symmetric (max |P - P'| = {asym:.3g}); "
                                "pass an inverse covariance, e.g. from neurorep.rsa.rdm.prec_from_residuals.")
    return P


def pattern_rdms(data: Any, distance: Distance = "correlation", *, precision: Any = None, normalize: bool = True,
                 remove_mean: bool = False, prior_lambda: float = 1.0, prior_weight: float = 0.1, dtype: Any = None,
                 backend: Literal["numpy", "torch"] = "numpy", device: str | None = None) -> np.ndarray:
    """Condensed RDMs of pattern matrices (no cross-validation).

    Parameters
    ----------
    data : ndarray (n_stimuli, n_features), stack (k, n_stimuli, n_features), or list of 2D arrays
        Stimuli-first patterns. A list may mix feature counts (one GEMM each); all must have the
        same number of stimuli.
    distance : {"euclidean", "sqeuclidean", "correlation", "cosine", "mahalanobis", "poisson"}, \
default="correlation"
        See the module docstring for the exact definitions and normalisation.
    precision : ndarray (p, p), stack (k, p, p) or list, optional
        Noise precision for ``"mahalanobis"`` (identity when None, i.e. ``sqeuclidean``).
    normalize : bool, default=True
        Divide (squared) Euclidean and Mahalanobis distances by the number of features (rsatoolbox).
    remove_mean : bool, default=False
        Subtract each pattern's mean over features first (Euclidean and Mahalanobis; rsatoolbox's
        ``remove_mean``).
    prior_lambda, prior_weight : float, default=1.0, 0.1
        Prior rate and its weight for ``"poisson"``: rates become
        ``(x + prior_lambda * prior_weight) / (1 + prior_weight)`` (rsatoolbox's defaults).
    dtype : {"float64", "float32"}, optional
        Compute precision; default the input's float dtype (float64 for integers).
    backend : {"numpy", "torch"}, default="numpy"
    device : str, optional
        torch device; default CUDA when available.

    Returns
    -------
    ndarray of shape (n_pairs,) for one input, else (k, n_pairs); the upper triangles in row-major
    order (``scipy.spatial.distance.squareform`` layout).
    """
    if distance not in DISTANCES or distance in _CV_DISTANCES:
        raise InvalidInputError(f"pattern_rdms: distance must be one of "
                                f"{[d for d in DISTANCES if d not in _CV_DISTANCES]}, got {distance!r}; "
                                "cross-validated distances need repeats: use crossnobis_rdms or poisson_cv_rdms.")
    if precision is not None and distance != "mahalanobis":
        raise InvalidInputError(f"pattern_rdms: a noise precision only applies to distance='mahalanobis', "
                                f"got distance={distance!r}.")
    stack, single = _as_stack(data, "pattern_rdms", 2)
    be = get_backend(backend, device)
    prior = (float(prior_lambda), float(prior_weight))
    items = [stack] if isinstance(stack, np.ndarray) else stack
    n_set = {a.shape[-2] for a in items}
    if len(n_set) != 1:
        raise InvalidInputError(f"pattern_rdms: all representations must have the same number of stimuli, "
                                f"got {sorted(n_set)}.")
    n = n_set.pop()
    if n < 2:
        raise InvalidInputError(f"pattern_rdms: need at least 2 stimuli, got {n}.")
    out = []
    k = stack.shape[0] if isinstance(stack, np.ndarray) else len(stack)
    if isinstance(stack, np.ndarray):
        _check_float(stack, "pattern_rdms")
        dt = resolve_dtype(dtype, stack)
        p = stack.shape[-1]
        X = be.asarray(stack, dt)
        if precision is None or (not isinstance(precision, (list, tuple)) and np.asarray(precision).ndim == 2):
            P = None if precision is None else be.asarray(_precision_for(precision, 0, k, p, "pattern_rdms"), dt)
            out.append(be.to_numpy(_pattern_kernel(be, X, distance, P, normalize, remove_mean, "pattern_rdms", prior)))
        else:
            for i in range(k):
                P = be.asarray(_precision_for(precision, i, k, p, "pattern_rdms"), dt)
                out.append(be.to_numpy(_pattern_kernel(be, X[i:i + 1], distance, P, normalize, remove_mean,
                                                       "pattern_rdms", prior)))
    else:
        for i, a in enumerate(stack):
            _check_float(a, "pattern_rdms")
            dt = resolve_dtype(dtype, a)
            P = _precision_for(precision, i, k, a.shape[-1], "pattern_rdms")
            X = be.asarray(a[None], dt)
            Pt = None if P is None else be.asarray(P, dt)
            out.append(be.to_numpy(_pattern_kernel(be, X, distance, Pt, normalize, remove_mean, "pattern_rdms", prior)))
    res = np.concatenate(out, axis=0)
    return res[0] if single else res


def crossnobis_rdms(repeats: Any, *, precision: Any = None, normalize: bool = True, remove_mean: bool = False,
                    dtype: Any = None, backend: Literal["numpy", "torch"] = "numpy",
                    device: str | None = None) -> np.ndarray:
    """Condensed crossnobis RDMs with runs/repeats as cross-validation folds.

    Parameters
    ----------
    repeats : ndarray (n_runs, n_stimuli, n_features), stack (k, n_runs, n_stimuli, n_features), or list
        One pattern per run and stimulus (average trials within a run first). A list may mix
        feature and run counts.
    precision : ndarray (p, p), stack (k, p, p) or list, optional
        Noise precision shared by all runs (identity when None: cross-validated Euclidean).
    normalize : bool, default=True
        Divide by the number of features (rsatoolbox).
    remove_mean : bool, default=False
        Subtract each pattern's mean over features first.
    dtype : {"float64", "float32"}, optional
    backend : {"numpy", "torch"}, default="numpy"
    device : str, optional

    Returns
    -------
    ndarray of shape (n_pairs,) for one input, else (k, n_pairs)

    Notes
    -----
    ``d(i, j) = sum_{r != s} (x_ri - x_rj)' P (x_si - x_sj) / (R (R - 1) p)``, computed from
    ``S S' - sum_r X_r X_r'`` (two ``syrk`` calls). Identical to rsatoolbox's
    ``calc_rdm(..., method="crossnobis", noise=P, cv_descriptor=run)`` for balanced runs.
    """
    stack, single = _as_stack(repeats, "crossnobis_rdms", 3)
    be = get_backend(backend, device)
    items = [stack] if isinstance(stack, np.ndarray) else stack
    n_set = {a.shape[-2] for a in items}
    if len(n_set) != 1:
        raise InvalidInputError(f"crossnobis_rdms: all representations must have the same number of stimuli, "
                                f"got {sorted(n_set)}.")
    out = []
    k = stack.shape[0] if isinstance(stack, np.ndarray) else len(stack)
    per_item = isinstance(stack, list) or (precision is not None and (
        isinstance(precision, (list, tuple)) or np.asarray(precision).ndim == 3))
    if not per_item:
        _check_float(stack, "crossnobis_rdms")
        dt = resolve_dtype(dtype, stack)
        P = None if precision is None else be.asarray(
            _precision_for(precision, 0, k, stack.shape[-1], "crossnobis_rdms"), dt)
        out.append(be.to_numpy(_crossnobis_kernel(be, be.asarray(stack, dt), P, normalize, remove_mean,
                                                  "crossnobis_rdms")))
    else:
        for i in range(k):
            a = np.asarray(stack[i])
            _check_float(a, "crossnobis_rdms")
            dt = resolve_dtype(dtype, a)
            P = _precision_for(precision, i, k, a.shape[-1], "crossnobis_rdms")
            Pt = None if P is None else be.asarray(P, dt)
            out.append(be.to_numpy(_crossnobis_kernel(be, be.asarray(a[None], dt), Pt, normalize, remove_mean,
                                                      "crossnobis_rdms")))
    res = np.concatenate(out, axis=0)
    return res[0] if single else res


def _poisson_cv_kernel(be: Backend, R: Any, prior: tuple[float, float], owner: str) -> Any:
    k, r, n, p = R.shape
    if r < 2:
        raise InvalidInputError(f"{owner}: poisson-cv needs at least 2 runs/repeats (folds), got {r}.")
    Rp = _poisson_rates(be, R, prior, owner)
    L = be.log(Rp)
    if be.torch is None:
        A = np.ascontiguousarray(np.swapaxes(Rp, 1, 2)).reshape(k, n, r * p)
        B = np.ascontiguousarray(np.swapaxes(L, 1, 2)).reshape(k, n, r * p)
    else:
        A = Rp.transpose(1, 2).reshape(k, n, r * p)
        B = L.transpose(1, 2).reshape(k, n, r * p)
    G = (be.gram(be.sum(Rp, 1), be.sum(L, 1)) - be.gram(A, B)) / (r * (r - 1))
    return _from_gram(be, G, p, True, sqrt=False, symmetric=False)


def poisson_cv_rdms(repeats: Any, *, prior_lambda: float = 1.0, prior_weight: float = 0.1, dtype: Any = None,
                    backend: Literal["numpy", "torch"] = "numpy", device: str | None = None) -> np.ndarray:
    """Condensed cross-validated Poisson (symmetrised KL) RDMs, runs as folds.

    Parameters
    ----------
    repeats : ndarray (n_runs, n_stimuli, n_features), stack (k, n_runs, n_stimuli, n_features), or list
        Non-negative counts or rates, one pattern per run and stimulus.
    prior_lambda, prior_weight : float, default=1.0, 0.1
    dtype : {"float64", "float32"}, optional
    backend : {"numpy", "torch"}, default="numpy"
    device : str, optional

    Returns
    -------
    ndarray of shape (n_pairs,) for one input, else (k, n_pairs)

    Notes
    -----
    ``d(i, j) = sum_{r != s} (x_ri - x_rj)' (log x_si - log x_sj) / (R (R - 1) p)`` on the
    prior-shrunk rates (see the module docstring for how this relates to rsatoolbox).
    """
    stack, single = _as_stack(repeats, "poisson_cv_rdms", 3)
    be = get_backend(backend, device)
    prior = (float(prior_lambda), float(prior_weight))
    items = [stack] if isinstance(stack, np.ndarray) else stack
    out = []
    for a in (items if isinstance(stack, list) else [stack]):
        a = np.asarray(a)
        _check_float(a, "poisson_cv_rdms")
        arr = a if a.ndim == 4 else a[None]
        out.append(be.to_numpy(_poisson_cv_kernel(be, be.asarray(arr, resolve_dtype(dtype, a)), prior,
                                                  "poisson_cv_rdms")))
    res = np.concatenate(out, axis=0)
    return res[0] if single else res


# =========================================================================== representations -> RDMs

def _rep_label(rep: Representation) -> dict[str, Any]:
    return {"name": rep.name, "site": str(rep.space.get("site", rep.name))}


def calc_rdm(reps: Representation | Sequence[Representation], distance: Distance = "correlation", *,
             noise: Any = None, noise_method: NoiseMethod = "shrinkage_diag", normalize: bool = True,
             remove_mean: bool = False, prior_lambda: float = 1.0, prior_weight: float = 0.1, dtype: Any = None,
             backend: Literal["numpy", "torch"] = "numpy", device: str | None = None) -> RDMs:
    """RDMs of one or many representations of the same stimuli, in one batched call.

    Parameters
    ----------
    reps : Representation or sequence of Representation
        Several representations (layers, ROIs) must list the same stimulus ids in the same order.
    distance : {"euclidean", "sqeuclidean", "correlation", "cosine", "mahalanobis", "crossnobis", "poisson", \
"poisson-cv"}
        See the module docstring. ``"crossnobis"`` and ``"poisson-cv"`` use ``rep.repeats`` as folds.
    noise : None, "repeats", "patterns", ndarray or list of ndarray
        Noise precision for ``"mahalanobis"``/``"crossnobis"``: None is the identity; ``"repeats"``
        estimates it from the residuals of ``rep.repeats`` around the stimulus means;
        ``"patterns"`` from the stimulus patterns (centred across stimuli); an array (or one per
        representation) is used as given.
    noise_method : {"shrinkage_diag", "shrinkage_eye", "diag", "full"}, default="shrinkage_diag"
        Estimator for ``noise="repeats"``/``"patterns"`` (see :func:`cov_from_residuals`).
    normalize : bool, default=True
        Divide (squared) distances by the number of features (rsatoolbox's convention).
    remove_mean : bool, default=False
    prior_lambda, prior_weight : float, default=1.0, 0.1
        Prior of the Poisson distances (see :func:`pattern_rdms`).
    dtype : {"float64", "float32"}, optional
    backend : {"numpy", "torch"}, default="numpy"
    device : str, optional

    Returns
    -------
    RDMs
        One RDM per representation, with ``rdm_descriptors`` ``name`` and ``site``.
    """
    single = isinstance(reps, Representation)
    rep_list = [reps] if single else list(reps)
    if not rep_list:
        raise InvalidInputError("calc_rdm: got no representations.")
    for r in rep_list:
        if not isinstance(r, Representation):
            raise InvalidInputError(f"calc_rdm: expected neurorep.Representation objects, got {type(r).__name__}.")
        r.check_finite(owner="calc_rdm")
    ids = rep_list[0].stimulus_ids
    for r in rep_list[1:]:
        if r.stimulus_ids != ids:
            raise StimulusMismatchError(
                f"calc_rdm: representation {r.name!r} lists other stimulus ids (or another order) than "
                f"{rep_list[0].name!r}; batch only representations of the same stimuli, or align them first "
                "with rep.select(other.stimulus_ids).")
    if distance not in DISTANCES:
        raise InvalidInputError(f"calc_rdm: distance must be one of {list(DISTANCES)}, got {distance!r}.")
    if distance in ("crossnobis", "poisson-cv"):
        missing = [r.name for r in rep_list if r.repeats is None or r.repeats.shape[0] < 2]
        if missing:
            raise InvalidInputError(
                f"calc_rdm: {distance} needs repeated measurements (runs) as cross-validation folds; "
                f"{missing[:3]} have no repeats (or only one). Build the Representation with "
                "repeats=array (n_runs, n_stimuli, n_features)"
                + (", or use distance='mahalanobis'." if distance == "crossnobis" else ", or use distance='poisson'."))
    precision = None
    if distance in ("mahalanobis", "crossnobis") and noise is not None:
        if isinstance(noise, str):
            precision = [noise_precision(r, noise, noise_method) for r in rep_list]  # type: ignore[arg-type]
        else:
            precision = noise
    elif noise is not None:
        raise InvalidInputError(f"calc_rdm: noise only applies to 'mahalanobis' and 'crossnobis', "
                                f"got distance={distance!r}.")
    kw = dict(normalize=normalize, remove_mean=remove_mean, dtype=dtype, backend=backend, device=device)
    if distance == "crossnobis":
        d = crossnobis_rdms([r.repeats for r in rep_list], precision=precision, **kw)
    elif distance == "poisson-cv":
        d = poisson_cv_rdms([r.repeats for r in rep_list], prior_lambda=prior_lambda, prior_weight=prior_weight,
                            dtype=dtype, backend=backend, device=device)
    elif distance == "poisson":
        d = pattern_rdms([r.data for r in rep_list], "poisson", prior_lambda=prior_lambda,
                         prior_weight=prior_weight, dtype=dtype, backend=backend, device=device)
    else:
        d = pattern_rdms([r.data for r in rep_list], distance, precision=precision, **kw)
    labels = [_rep_label(r) for r in rep_list]
    space = dict(rep_list[0].space) if single else {}
    return RDMs(np.atleast_2d(d), ids, dissimilarity_measure=MEASURE_NAMES[distance],
                rdm_descriptors={"name": [lb["name"] for lb in labels], "site": [lb["site"] for lb in labels]},
                space=space, name=rep_list[0].name if single else "rdms")
