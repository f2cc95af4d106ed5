"""``ntf.nonnegative``: time series -> windowed affinity tensor -> non-negative tensor factorisation."""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep import Estimator, Tags
from neurorep.errors import InvalidInputError

from .affinity import AFFINITIES, affinity_tensor, pairs_tensor, pairs_to_matrix, sliding_windows, window_affinity
from .ntf import nonnegative_cp

__all__ = ["CITATION", "NonnegativeTensorFactorization"]

CITATION = ("Dyballa, L., Lang, S., Haslund-Gourley, A., Yemini, E. & Zucker, S. W. (2024). Learning dynamic "
            "representations of the functional connectome in neurobiological networks. ICLR 2024, arXiv:2402.14102")


def _check_int(value: object, name: str, owner: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{owner}: '{name}' must be an int >= {minimum}; {value!r} was provided.")
    return int(value)


class NonnegativeTensorFactorization(Estimator):
    """Non-negative tensor factorisation of windowed pairwise affinities (stage 1-2 of Dyballa et al., 2024).

    ``fit(X)`` takes time-first traces, ``(n_timepoints, n_units)`` for one recording or
    ``(n_animals, n_timepoints, n_units)`` for several animals/subjects/sessions of the same units. It cuts
    them into windows, computes the pairwise non-linear affinity of every unit pair in every window
    (:mod:`neurorep_dynamic_connectome.affinity`), lays the affinities out as the paper does, one entry
    per unit pair (i < j) x window x animal, and factorises that non-negative tensor into
    ``n_components`` rank-one components with its own ALS solver (:func:`~neurorep_dynamic_connectome.ntf.nonnegative_cp`).
    Each component is an affinity pattern over unit pairs (a weighted graph, ``affinity_matrices_``),
    a time course over windows (``window_factors_``) and a loading per animal (``animal_factors_``).

    ``transform(X)`` gives, for new traces of the same units, each component's loading at every time
    point: the non-negative least-squares loadings of each window's affinities on the fitted affinity
    patterns, averaged over the windows that cover the time point (a recording shorter than ``window``
    is one window; time points after the last full window take the last window's loadings). For 3D
    input it returns ``(n_animals, n_timepoints, n_components)``.

    Parameters
    ----------
    n_components : int, default=3
        Rank of the factorisation.
    window : int, default=20
        Samples per window (at least 3).
    step : int or None, default=None
        Samples between window starts; None tiles the windows (``step = window``).
    affinity : {"differential", "correlation"}, default="differential"
        ``"differential"``: rectified co-directional change of the traces, normalised to [0, 1] (our
        reading of the paper's differential affinity); ``"correlation"``: rectified Pearson correlation.
    smoothing : float, default=0.0
        Gaussian smoothing (SD in samples) of every trace before the affinities; 0 for none.
    solver : {"hals", "mu"}, default="hals"
        Hierarchical ALS or multiplicative updates; both never increase the loss.
    max_iter : int, default=300
        Sweeps over the tensor's modes.
    tol : float, default=1e-7
        Relative loss decrease below which the solver stops.
    n_init : int, default=1
        Random restarts; the lowest final loss is kept.
    random_state : int or None, default=0
        Seeds the random initialisations.

    Attributes
    ----------
    windows_ : ndarray of shape (n_windows, 2)
        ``(start, stop)`` sample of each window.
    pair_index_ : ndarray of shape (2, n_pairs)
    pair_factors_, window_factors_, animal_factors_ : ndarray of shape (n_pairs | n_windows | n_animals, n_components)
        Unit-norm, non-negative factors; components sorted by decreasing ``weights_``.
    weights_ : ndarray of shape (n_components,)
    affinity_matrices_ : ndarray of shape (n_components, n_units, n_units)
        Each component's pair factor as a symmetric matrix (zero diagonal).
    loss_curve_ : list of float
        ``0.5 ||T - model||^2`` after initialisation and after every sweep.
    relative_error_ : float
        ``||T - model||_F / ||T||_F``.
    tensor_norm_ : float
    n_iter_ : int

    References
    ----------
    Dyballa et al. (2024), ICLR, arXiv:2402.14102. Cichocki & Phan (2009), IEICE Trans. E92-A(3) (HALS).
    """

    id = "ntf.nonnegative"
    version = "0.1.0"
    citation = CITATION
    description = "Windowed pairwise affinities of time series -> non-negative CP factors (unit-pair graphs, windows, animals)"
    tags = Tags(stochastic=True)

    def __init__(self, n_components: int = 3, window: int = 20, step: int | None = None,
                 affinity: Literal["differential", "correlation"] = "differential", smoothing: float = 0.0,
                 solver: Literal["hals", "mu"] = "hals", max_iter: int = 300, tol: float = 1e-7, n_init: int = 1,
                 random_state: int | None = 0):
        self.n_components = n_components
        self.window = window
        self.step = step
        self.affinity = affinity
        self.smoothing = smoothing
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.random_state = random_state

    # ------------------------------------------------------------------ validation
    def _owner(self) -> str:
        return f"Estimator {self.id!r}"

    def _validate_params(self) -> None:
        o = self._owner()
        _check_int(self.n_components, "n_components", o, 1)
        _check_int(self.window, "window", o, 3)
        if self.step is not None:
            _check_int(self.step, "step", o, 1)
        _check_int(self.max_iter, "max_iter", o, 1)
        _check_int(self.n_init, "n_init", o, 1)
        if self.affinity not in AFFINITIES:
            raise InvalidInputError(f"{o}: 'affinity' must be one of {list(AFFINITIES)}; {self.affinity!r} was provided.")
        if self.solver not in ("hals", "mu"):
            raise InvalidInputError(f"{o}: 'solver' must be one of ['hals', 'mu']; {self.solver!r} was provided.")
        if not np.isfinite(float(self.smoothing)) or float(self.smoothing) < 0:
            raise InvalidInputError(f"{o}: 'smoothing' must be a finite number >= 0; {self.smoothing!r} was provided.")

    def _validate_X(self, X: np.ndarray, what: str) -> np.ndarray:
        o = self._owner()
        X = np.asarray(X)
        if X.ndim not in (2, 3) or X.dtype.kind not in "fiub":
            raise InvalidInputError(
                f"{o}: {what} must be a numeric time-first array of shape (n_timepoints, n_units) or (n_animals, "
                f"n_timepoints, n_units); got shape {X.shape} and dtype {X.dtype}.")
        X = X.astype(float)
        if not np.all(np.isfinite(X)):
            raise InvalidInputError(f"{o}: {what} holds {int(np.size(X) - np.isfinite(X).sum())} NaN/inf value(s); "
                                    "remove or interpolate them first.")
        if X.shape[-1] < 2 or X.shape[-2] < 3:
            raise InvalidInputError(f"{o}: {what} needs at least 2 units and 3 time points; got shape {X.shape}.")
        return X

    # ------------------------------------------------------------------ fitting
    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> NonnegativeTensorFactorization:
        """Fit the factorisation to time-first traces ``X``; returns self. ``y`` is ignored."""
        self._validate_params()
        Xf = self._validate_X(X, "X")
        Xa = Xf[None] if Xf.ndim == 2 else Xf
        T, windows = affinity_tensor(Xa, window=self.window, step=self.step, affinity=self.affinity,
                                     smoothing=float(self.smoothing))
        P, idx = pairs_tensor(T)  # (n_pairs, n_windows, n_animals)
        res = nonnegative_cp(P, int(self.n_components), solver=self.solver, max_iter=int(self.max_iter),
                             tol=float(self.tol), n_init=int(self.n_init), random_state=self.random_state)
        n_units = Xa.shape[2]
        self.n_units_ = n_units
        self.n_animals_ = Xa.shape[0]
        self.windows_ = windows
        self.pair_index_ = idx
        self.pair_factors_, self.window_factors_, self.animal_factors_ = res.factors
        self.weights_ = res.weights
        self.affinity_matrices_ = np.stack([pairs_to_matrix(self.pair_factors_[:, k], n_units)
                                            for k in range(res.weights.size)])
        self.loss_curve_ = res.loss
        self.relative_error_ = res.relative_error
        self.tensor_norm_ = float(np.linalg.norm(P))
        self.n_iter_ = res.n_iter
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "pair_factors_"):
            raise InvalidInputError(f"{self._owner()}: not fitted yet; call fit(X) before transform(X).")

    def window_loadings(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Non-negative least-squares loadings of each window of ``X`` (2D) on the fitted affinity patterns.

        Returns ``(loadings of shape (n_windows, n_components), windows of shape (n_windows, 2))``.
        """
        from scipy.optimize import nnls

        from .affinity import _smooth

        self._check_fitted()
        X = self._validate_X(X, "X")
        if X.ndim != 2 or X.shape[1] != self.n_units_:
            raise InvalidInputError(f"{self._owner()}: expected traces of shape (n_timepoints, {self.n_units_}), got "
                                    f"{X.shape}.")
        Xs = _smooth(X, float(self.smoothing))
        windows = sliding_windows(X.shape[0], min(int(self.window), X.shape[0]), self.step)
        design = self.pair_factors_ * self.weights_[None, :]
        i, j = self.pair_index_
        out = np.empty((len(windows), self.weights_.size))
        for w, (s, e) in enumerate(windows):
            a = window_affinity(Xs[s:e], self.affinity)[i, j]
            out[w] = nnls(design, a)[0]
        return out, windows

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Each component's loading at every time point of ``X``: (n_timepoints, n_components), or per animal for 3D."""
        self._check_fitted()
        X = self._validate_X(X, "X")
        if X.ndim == 3:
            return np.stack([self.transform(x) for x in X])
        loads, windows = self.window_loadings(X)
        n = X.shape[0]
        total = np.zeros((n, loads.shape[1]))
        count = np.zeros(n)
        for (s, e), v in zip(windows, loads, strict=True):
            total[s:e] += v
            count[s:e] += 1
        last = int(windows[-1, 1])
        total[last:] = loads[-1]
        count[last:] = 1
        return total / count[:, None]
