"""Ridge regression with a per-target regularisation chosen by cross-validation.

The solver diagonalises each training set ONCE and reuses the decomposition for every
candidate ``alpha`` and every target (the idea of himalaya's ``solve_ridge_cv_svd``;
Dupre la Tour et al., 2022). With centred training features ``X`` (``n x p``):

* ``n >= p`` (primal): ``X'X = V diag(lam) V'``; predictions on new rows ``Z`` are
  ``Z V diag(1 / (lam + alpha)) (X V)' Y``.
* ``n < p`` (dual): ``X X' = Q diag(lam) Q'``; predictions are
  ``(Z X') Q diag(1 / (lam + alpha)) Q' Y``.

Both are ``(A * w_alpha) @ B`` with ``A`` (rows x r), ``B`` (r x targets) computed once per
fold and ``w_alpha = 1 / (lam + alpha)``, so every alpha costs one GEMM, and all alphas of
a target batch go through one stacked GEMM. Directions with ``lam`` below the numerical
rank threshold (the null space of ``X``) are dropped, as the exact solution gives them no
weight.

Alpha selection per target follows himalaya's convention (Dupre la Tour et al., 2022): the
score (``"mse"``: minus the mean squared error; ``"r2"``) of each validation fold is
averaged over folds, and on ties the larger alpha wins (a slope of ``1e-10 * log(alpha)``
is added before the argmax). ``cv="loo"`` uses the closed-form leave-one-out residuals of
ridge (Golub, Heath & Wahba, 1979; Rifkin & Lippert, 2007) with the mean squared LOO error,
as scikit-learn's ``RidgeCV(alpha_per_target=True)`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError

__all__ = [
    "DEFAULT_ALPHAS",
    "Decomposition",
    "RidgeCVFit",
    "decompose",
    "kfold_indices",
    "ridge_cv",
    "ridge_cv_scores",
    "ridge_loo_scores",
    "ridge_predict",
    "ridge_coef",
    "select_alphas",
    "cv_ridge_predictions",
]

#: Ten log-spaced alphas, 1e-2 ... 1e7 (features and targets on unit scale call for the middle of it).
DEFAULT_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-2, 7, 10))

#: Targets per batch in the validation GEMMs (memory: n_alphas x n_val x batch floats).
TARGET_BATCH = 2048


def _owner(owner: str | None) -> str:
    return owner or "neurorep.encoding"


def check_alphas(alphas: Sequence[float], owner: str | None = None) -> np.ndarray:
    a = np.asarray(alphas, dtype=float).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InvalidInputError(f"{_owner(owner)}: 'alphas' must be a non-empty list of positive numbers, "
                                f"got {list(np.asarray(alphas).ravel())[:10]}. Use e.g. alphas = [0.1, 1, 10, 100].")
    return a


def kfold_indices(n: int, n_splits: int, *, shuffle: bool = True, random_state: int | None = 0,
                  owner: str | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, test)`` index pairs of a K-fold split of ``n`` rows.

    Fold sizes follow scikit-learn's ``KFold`` (the first ``n % n_splits`` folds get one more
    row); with ``shuffle=False`` the folds are contiguous, as ``KFold(n_splits)``.
    """
    if not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise InvalidInputError(f"{_owner(owner)}: the number of folds must be an integer >= 2, got {n_splits!r}.")
    if n < n_splits:
        raise InvalidInputError(f"{_owner(owner)}: {n_splits}-fold cross-validation needs at least {n_splits} "
                                f"stimuli, got {n}. Use fewer folds or more stimuli.")
    order = np.arange(n)
    if shuffle:
        order = np.random.default_rng(random_state).permutation(n)
    sizes = np.full(n_splits, n // n_splits)
    sizes[: n % n_splits] += 1
    out = []
    start = 0
    for s in sizes:
        test = np.sort(order[start:start + s])
        mask = np.ones(n, dtype=bool)
        mask[test] = False
        out.append((np.flatnonzero(mask), test))
        start += s
    return out


# =========================================================================== decomposition

@dataclass
class Decomposition:
    """A diagonalised (centred) training set.

    Attributes
    ----------
    lam : ndarray of shape (r,)
        Eigenvalues of ``X'X`` (or ``X X'``) kept above the rank threshold.
    basis : ndarray
        ``V`` (p x r, primal) or ``Q`` (n x r, dual).
    proj : ndarray of shape (n, r)
        ``X V`` (primal) or ``Q`` (dual): ``B = proj' Y``.
    x_train : ndarray
        The centred training features (kept for the dual route, which needs ``Z X'``).
    x_mean : ndarray of shape (p,) or None
    primal : bool
    """

    lam: np.ndarray
    basis: np.ndarray
    proj: np.ndarray
    x_train: np.ndarray
    x_mean: np.ndarray | None
    primal: bool

    def rows(self, Z: np.ndarray) -> np.ndarray:
        """``A`` for new rows ``Z`` (raw features; centred here with the training mean)."""
        if self.x_mean is not None:
            Z = Z - self.x_mean
        if self.primal:
            return Z @ self.basis
        return (Z @ self.x_train.T) @ self.basis


#: Matrices up to this size are diagonalised with one BLAS thread (see :func:`_eigh`).
SINGLE_THREAD_EIGH_MAX = 4096


def _eigh(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.linalg.eigh``, on one BLAS thread for matrices up to :data:`SINGLE_THREAD_EIGH_MAX`.

    The tridiagonal reduction is a long chain of small level-2 BLAS calls; with several
    threads on busy cores each call pays a synchronisation, and on the 2-core development
    machine a 768 x 768 ``eigh`` took 4.9 s with 2 threads against 0.33 s with one.
    """
    if M.shape[0] <= SINGLE_THREAD_EIGH_MAX:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return np.linalg.eigh(M)
        with threadpool_limits(1, user_api="blas"):
            return np.linalg.eigh(M)
    return np.linalg.eigh(M)


def decompose(X: np.ndarray, *, fit_intercept: bool = True, method: str = "auto") -> Decomposition:
    """Diagonalise training features ``X`` (n x p) for ridge at any alpha.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    fit_intercept : bool, default=True
        Centre ``X`` (the intercept is not penalised).
    method : {"auto", "primal", "dual"}
        ``"auto"``: eigendecomposition of the p x p covariance when ``n >= p``, of the
        n x n Gram matrix otherwise (the cheaper of the two).
    """
    x_mean = X.mean(0) if fit_intercept else None
    Xc = X - x_mean if fit_intercept else X
    n, p = Xc.shape
    primal = (n >= p) if method == "auto" else method == "primal"
    M = Xc.T @ Xc if primal else Xc @ Xc.T
    lam, vec = _eigh(M)
    lam = lam[::-1]
    vec = vec[:, ::-1]
    tol = max(M.shape) * np.finfo(M.dtype).eps * max(float(lam[0]) if lam.size else 0.0, 0.0)
    keep = lam > tol
    lam, vec = lam[keep], np.ascontiguousarray(vec[:, keep])
    proj = Xc @ vec if primal else vec
    return Decomposition(lam=lam, basis=vec, proj=proj, x_train=Xc, x_mean=x_mean, primal=primal)


def _weights(lam: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """``1 / (lam + alpha)`` for every alpha: shape (n_alphas, r)."""
    return 1.0 / (lam[None, :] + alphas[:, None])


# =========================================================================== CV scores

def _fold_scores(dec: Decomposition, X_val: np.ndarray, Y_tr: np.ndarray, Y_val: np.ndarray, alphas: np.ndarray,
                 scoring: str, fit_intercept: bool, target_batch: int) -> np.ndarray:
    """Validation scores (n_alphas, n_targets) of one fold, all alphas and targets."""
    A = dec.rows(X_val)                                    # (n_val, r)
    W = _weights(dec.lam, alphas).astype(A.dtype)          # (n_alphas, r)
    stacked = (A[None, :, :] * W[:, None, :]).reshape(-1, A.shape[1])   # (n_alphas * n_val, r)
    n_val = A.shape[0]
    n_alphas = len(alphas)
    t = Y_tr.shape[1]
    out = np.empty((n_alphas, t))
    for start in range(0, t, target_batch):
        sl = slice(start, min(start + target_batch, t))
        ytr = Y_tr[:, sl]
        yva = Y_val[:, sl]
        if fit_intercept:
            mu = ytr.mean(0)
            ytr = ytr - mu
            yva = yva - mu
        B = dec.proj.T @ ytr                               # (r, batch)
        P = (stacked @ B).reshape(n_alphas, n_val, -1)     # predictions, every alpha
        P -= yva[None]
        sse = np.einsum("aij,aij->aj", P, P)
        if scoring == "mse":
            out[:, sl] = -sse / n_val
        else:
            yv = Y_val[:, sl]
            var = np.einsum("ij,ij->j", yv - yv.mean(0), yv - yv.mean(0))
            with np.errstate(divide="ignore", invalid="ignore"):
                r2 = 1.0 - sse / var
            r2[:, var == 0] = 0.0
            out[:, sl] = r2
    return out


def ridge_cv_scores(X: np.ndarray, Y: np.ndarray, alphas: Sequence[float],
                    folds: Sequence[tuple[np.ndarray, np.ndarray]], *, scoring: str = "mse",
                    fit_intercept: bool = True, target_batch: int = TARGET_BATCH) -> np.ndarray:
    """Cross-validation scores of ridge for every fold, alpha and target.

    Returns
    -------
    scores : ndarray of shape (n_folds, n_alphas, n_targets)
    """
    alphas = np.asarray(alphas, dtype=float)
    scores = np.empty((len(folds), len(alphas), Y.shape[1]))
    for k, (tr, va) in enumerate(folds):
        dec = decompose(X[tr], fit_intercept=fit_intercept)
        scores[k] = _fold_scores(dec, X[va], Y[tr], Y[va], alphas, scoring, fit_intercept, target_batch)
    return scores


def ridge_loo_scores(X: np.ndarray, Y: np.ndarray, alphas: Sequence[float], *, fit_intercept: bool = True,
                     target_batch: int = TARGET_BATCH) -> np.ndarray:
    """Minus the mean squared leave-one-out error of ridge, in closed form, for every alpha and target.

    The LOO residual is ``(y - H y) / (1 - diag(H))`` with the hat matrix
    ``H = 11'/n + X (X'X + alpha I)^-1 X'`` (centred ``X``, unpenalised intercept).

    Returns
    -------
    scores : ndarray of shape (1, n_alphas, n_targets)
        One "fold" so that :func:`select_alphas` applies unchanged.
    """
    alphas = np.asarray(alphas, dtype=float)
    n = X.shape[0]
    dec = decompose(X, fit_intercept=fit_intercept)
    s2 = dec.lam
    # left singular vectors of the centred X: X V / sqrt(lam) (primal) or the Gram eigenvectors (dual)
    U = dec.proj / np.sqrt(s2)[None, :] if dec.primal else dec.proj
    shrink = s2[None, :] / (s2[None, :] + alphas[:, None])                 # (n_alphas, r)
    hdiag = (U ** 2) @ shrink.T + (1.0 / n if fit_intercept else 0.0)       # (n, n_alphas)
    out = np.empty((len(alphas), Y.shape[1]))
    for start in range(0, Y.shape[1], target_batch):
        sl = slice(start, min(start + target_batch, Y.shape[1]))
        y = Y[:, sl]
        yc = y - y.mean(0) if fit_intercept else y
        UtY = U.T @ yc
        for a in range(len(alphas)):
            fitted = U @ (shrink[a][:, None] * UtY)
            res = (yc - fitted) / (1.0 - hdiag[:, a])[:, None]
            out[a, sl] = -np.einsum("ij,ij->j", res, res) / n
    return out[None]


def select_alphas(scores: np.ndarray, alphas: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Best alpha per target from fold scores (larger is better).

    Parameters
    ----------
    scores : ndarray of shape (n_folds, n_alphas, n_targets)
    alphas : sequence of float

    Returns
    -------
    index : ndarray of shape (n_targets,), int
        Index into ``alphas`` of the best mean score (ties: the larger alpha).
    best : ndarray of shape (n_targets,)
        The mean score at that alpha.
    """
    mean = scores.mean(0)
    biased = mean + 1e-10 * np.log(np.asarray(alphas, dtype=float))[:, None]
    idx = np.argmax(biased, axis=0)
    return idx, mean[idx, np.arange(mean.shape[1])]


# =========================================================================== refit and predict

def _per_target_B(dec: Decomposition, Y: np.ndarray, alpha_per_target: np.ndarray, fit_intercept: bool):
    y_mean = Y.mean(0) if fit_intercept else np.zeros(Y.shape[1], dtype=Y.dtype)
    Yc = Y - y_mean if fit_intercept else Y
    B = dec.proj.T @ Yc                                            # (r, t)
    B *= (1.0 / (dec.lam[:, None] + alpha_per_target[None, :])).astype(B.dtype)
    return B, y_mean


def ridge_predict(X_train: np.ndarray, Y_train: np.ndarray, X_new: np.ndarray, alpha: float | np.ndarray, *,
                  fit_intercept: bool = True, dec: Decomposition | None = None) -> np.ndarray:
    """Predictions of ridge fit on ``(X_train, Y_train)`` with one alpha per target (or one for all).

    Returns
    -------
    ndarray of shape (len(X_new), n_targets)
    """
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (Y_train.shape[1],))
    dec = dec if dec is not None else decompose(X_train, fit_intercept=fit_intercept)
    B, y_mean = _per_target_B(dec, Y_train, a, fit_intercept)
    return dec.rows(X_new) @ B + y_mean


def ridge_coef(X_train: np.ndarray, Y_train: np.ndarray, alpha: float | np.ndarray, *,
               fit_intercept: bool = True, dec: Decomposition | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Primal weights (p x t) and intercepts (t,) of ridge with one alpha per target."""
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (Y_train.shape[1],))
    dec = dec if dec is not None else decompose(X_train, fit_intercept=fit_intercept)
    B, y_mean = _per_target_B(dec, Y_train, a, fit_intercept)
    coef = dec.basis @ B if dec.primal else dec.x_train.T @ (dec.basis @ B)
    intercept = y_mean - (dec.x_mean @ coef if dec.x_mean is not None else 0.0)
    return coef, np.asarray(intercept)


@dataclass
class RidgeCVFit:
    """Alpha selection and refit of :func:`ridge_cv`.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
    best_alpha : ndarray of shape (n_targets,)
    best_index : ndarray of shape (n_targets,)
    cv_scores : ndarray of shape (n_alphas, n_targets)
        Scores averaged over folds.
    decomposition : Decomposition
        Of the whole training set (for the refit).
    """

    alphas: np.ndarray
    best_alpha: np.ndarray
    best_index: np.ndarray
    cv_scores: np.ndarray
    decomposition: Decomposition
    fit_intercept: bool
    _B: np.ndarray
    _y_mean: np.ndarray

    def predict(self, X_new: np.ndarray) -> np.ndarray:
        """Predictions of the refit model (per-target alphas) for new rows."""
        return self.decomposition.rows(X_new) @ self._B + self._y_mean


def ridge_cv(X: np.ndarray, Y: np.ndarray, alphas: Sequence[float] = DEFAULT_ALPHAS, *,
             cv: int | str | Sequence[tuple[np.ndarray, np.ndarray]] = 5, scoring: str = "mse",
             fit_intercept: bool = True, shuffle: bool = False, random_state: int | None = 0,
             target_batch: int = TARGET_BATCH, owner: str | None = None) -> RidgeCVFit:
    """Choose an alpha per target by cross-validation, then refit on all of ``(X, Y)``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    Y : ndarray of shape (n, t)
    alphas : sequence of float
    cv : int, "loo" or list of (train, test) index pairs, default=5
        K-fold (contiguous folds unless ``shuffle``), closed-form leave-one-out, or given folds.
    scoring : {"mse", "r2"}, default="mse"
        Validation score averaged over folds (ignored for "loo", which uses the mean squared error).
    fit_intercept : bool, default=True
    shuffle, random_state
        Shuffle rows before forming the K folds.
    target_batch : int
        Targets per batch of the validation GEMMs.
    """
    a = check_alphas(alphas, owner)
    if scoring not in ("mse", "r2"):
        raise InvalidInputError(f"{_owner(owner)}: 'scoring' must be 'mse' or 'r2', got {scoring!r}.")
    X = np.asarray(X)
    Y = np.asarray(Y)
    if cv == "loo":
        scores = ridge_loo_scores(X, Y, a, fit_intercept=fit_intercept, target_batch=target_batch)
    else:
        folds = (kfold_indices(X.shape[0], cv, shuffle=shuffle, random_state=random_state, owner=owner)
                 if isinstance(cv, (int, np.integer)) else list(cv))
        scores = ridge_cv_scores(X, Y, a, folds, scoring=scoring, fit_intercept=fit_intercept,
                                 target_batch=target_batch)
    idx, _ = select_alphas(scores, a)
    best = a[idx]
    dec = decompose(X, fit_intercept=fit_intercept)
    B, y_mean = _per_target_B(dec, Y, best, fit_intercept)
    return RidgeCVFit(alphas=a, best_alpha=best, best_index=idx, cv_scores=scores.mean(0), decomposition=dec,
                      fit_intercept=fit_intercept, _B=B, _y_mean=y_mean)


def cv_ridge_predictions(X: np.ndarray, Y: np.ndarray, alphas: Sequence[float] = DEFAULT_ALPHAS, *,
                         outer_folds: Sequence[tuple[np.ndarray, np.ndarray]], inner_cv: int = 5,
                         scoring: str = "mse", fit_intercept: bool = True, random_state: int | None = 0,
                         owner: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of nested-CV ridge: alphas chosen by inner K-fold within each outer training set.

    Returns
    -------
    predictions : ndarray of shape (n, t)
        Every row predicted by a model that never saw it.
    alphas : ndarray of shape (n_outer, t)
        The alpha chosen per outer fold and target.
    """
    pred = np.empty(Y.shape, dtype=np.result_type(X.dtype, Y.dtype, np.float32))
    chosen = []
    for k, (tr, te) in enumerate(outer_folds):
        inner = kfold_indices(len(tr), inner_cv, shuffle=True,
                              random_state=None if random_state is None else [random_state, k], owner=owner)
        fit = ridge_cv(X[tr], Y[tr], alphas, cv=inner, scoring=scoring, fit_intercept=fit_intercept, owner=owner)
        pred[te] = fit.predict(X[te])
        chosen.append(fit.best_alpha)
    return pred, np.asarray(chosen)
