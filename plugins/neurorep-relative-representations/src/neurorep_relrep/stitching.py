"""Zero-shot stitching through relative representations: the ``relrep.decoder`` estimator."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from neurorep import Estimator, Tags
from neurorep.errors import InvalidInputError

from .core import CITATION, relative_projection

__all__ = ["RelativeDecoder", "zero_shot_stitch"]


class RelativeDecoder(Estimator):
    """A linear decoder trained on relative representations, reusable on another encoder's space.

    ``fit(X, Y)`` picks anchor samples among the rows of ``X`` (``anchor_index`` or
    ``n_anchors`` drawn with ``random_state``), maps every sample to its cosine
    similarity to those anchors, standardises each anchor column (statistics of the
    training encoder) and fits a ridge regression (``task="regression"``) or a
    logistic-regression classifier (``task="classification"``, ``Y`` = labels) on it.
    ``predict(X)`` uses the stored anchors (same encoder). For zero-shot stitching, pass
    ``anchors=``: the *other* encoder's embeddings of the same anchor samples; the decoder
    never sees that encoder's space during training (Moschella et al., 2023, Sec. 5).

    Parameters
    ----------
    n_anchors : int, default=10
        Number of anchors drawn among the training rows (ignored with ``anchor_index``).
    anchor_index : list of int or None, default=None
        Rows of the training ``X`` to use as anchors.
    task : {"regression", "classification"}, default="regression"
    alpha : float, default=1.0
        Ridge penalty (regression) or inverse of ``C`` (classification).
    center : bool, default=False
        Centre on the anchor mean before the cosine.
    random_state : int or None, default=0
        Seed of the anchor draw.

    Attributes
    ----------
    anchor_index_ : ndarray of int
    anchors_ : ndarray of shape (n_anchors, n_features)
    model_ : the fitted scikit-learn pipeline (StandardScaler, then Ridge or LogisticRegression)
    """

    id = "relrep.decoder"
    version = "1.0.0"
    citation = CITATION
    description = "Ridge/logistic decoder on relative representations, for zero-shot model stitching"
    tags = Tags(stochastic=True)

    def __init__(self, n_anchors: int = 10, anchor_index: list[int] | None = None,
                 task: Literal["regression", "classification"] = "regression", alpha: float = 1.0,
                 center: bool = False, random_state: int | None = 0):
        self.n_anchors = n_anchors
        self.anchor_index = anchor_index
        self.task = task
        self.alpha = alpha
        self.center = center
        self.random_state = random_state

    def _owner(self) -> str:
        return f"Estimator {self.id!r}"

    def _check_X(self, X: Any, what: str = "X") -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise InvalidInputError(f"{self._owner()}: {what} must be 2D (n_samples, n_features), got shape {X.shape}.")
        if not np.all(np.isfinite(X)):
            raise InvalidInputError(f"{self._owner()}: {what} holds NaN or inf values; drop or impute them first.")
        return X

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> RelativeDecoder:
        """Choose anchors among the rows of ``X`` and fit the decoder on the relative representation.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Embeddings from the training encoder.
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Targets (regression) or class labels (classification).

        Returns
        -------
        self
        """
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        owner = self._owner()
        X = self._check_X(X)
        if y is None:
            raise InvalidInputError(f"{owner}: fit needs targets y (labels or values), got None.")
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise InvalidInputError(f"{owner}: X has {X.shape[0]} rows but y has {y.shape[0]}.")
        if self.task not in ("regression", "classification"):
            raise InvalidInputError(f"{owner}: task must be 'regression' or 'classification', got {self.task!r}.")
        if float(self.alpha) <= 0:
            raise InvalidInputError(f"{owner}: alpha must be > 0, got {self.alpha!r}.")
        if self.anchor_index is not None:
            idx = np.asarray(self.anchor_index, dtype=np.intp)
            if idx.ndim != 1 or idx.size == 0 or idx.min() < 0 or idx.max() >= X.shape[0] or \
                    np.unique(idx).size != idx.size:
                raise InvalidInputError(f"{owner}: anchor_index must hold unique row indices in [0, {X.shape[0]}), "
                                        f"got {list(self.anchor_index)[:10]}.")
        else:
            n = int(self.n_anchors)
            if not 1 <= n <= X.shape[0]:
                raise InvalidInputError(f"{owner}: n_anchors must be between 1 and the number of samples "
                                        f"({X.shape[0]}), got {self.n_anchors!r}.")
            idx = np.sort(np.random.default_rng(self.random_state).choice(X.shape[0], size=n, replace=False))
        self.anchor_index_ = idx
        self.anchors_ = X[idx].copy()
        R = relative_projection(X, self.anchors_, center=bool(self.center), owner=owner)
        if self.task == "classification":
            head = LogisticRegression(C=1.0 / float(self.alpha), max_iter=2000)
        else:
            head = Ridge(alpha=float(self.alpha))
        # the scaler's statistics come from the training encoder only, so stitching stays zero-shot
        self.model_ = make_pipeline(StandardScaler(), head).fit(R, y)
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise InvalidInputError(f"{self._owner()}: call fit(X, y) before transform/predict.")

    def transform(self, X: np.ndarray, anchors: np.ndarray | None = None) -> np.ndarray:
        """Relative representation of ``X`` with respect to ``anchors`` (default: the training anchors).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        anchors : ndarray of shape (n_anchors, n_features), optional
            The same anchor samples embedded by the encoder that produced ``X``.
        """
        self._fitted()
        X = self._check_X(X)
        A = self.anchors_ if anchors is None else self._check_X(anchors, "anchors")
        if A.shape[0] != self.anchors_.shape[0]:
            raise InvalidInputError(f"{self._owner()}: anchors must hold the {self.anchors_.shape[0]} anchor samples "
                                    f"used in fit (rows anchor_index_), got {A.shape[0]} rows.")
        return relative_projection(X, A, center=bool(self.center), owner=self._owner())

    def predict(self, X: np.ndarray, anchors: np.ndarray | None = None) -> np.ndarray:
        """Decode ``X``; with ``anchors`` from another encoder this is zero-shot stitching.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        anchors : ndarray of shape (n_anchors, n_features), optional
        """
        return self.model_.predict(self.transform(X, anchors))


def zero_shot_stitch(X_train: np.ndarray, y_train: np.ndarray, X_test_other: np.ndarray,
                     anchors_other: np.ndarray, *, n_anchors: int = 10,
                     anchor_index: list[int] | None = None,
                     task: Literal["regression", "classification"] = "classification", alpha: float = 1.0,
                     center: bool = False,
                     random_state: int | None = 0) -> tuple[np.ndarray, RelativeDecoder]:
    """Train a relative decoder on encoder B's space and apply it, untouched, to encoder A's space.

    Parameters
    ----------
    X_train : ndarray (n_train, d_B)
        Encoder B's embeddings of the training samples.
    y_train : ndarray (n_train,) or (n_train, n_targets)
    X_test_other : ndarray (n_test, d_A)
        Encoder A's embeddings of the test samples.
    anchors_other : ndarray (n_anchors, d_A) or callable
        Encoder A's embeddings of the anchor samples, in the order of the decoder's
        ``anchor_index_``; a callable receives ``anchor_index_`` and returns them.
    n_anchors, anchor_index, task, alpha, center, random_state
        As in :class:`RelativeDecoder`.

    Returns
    -------
    predictions : ndarray
    decoder : RelativeDecoder
    """
    dec = RelativeDecoder(n_anchors=n_anchors, anchor_index=anchor_index, task=task, alpha=alpha, center=center,
                          random_state=random_state).fit(X_train, y_train)
    A = anchors_other(dec.anchor_index_) if callable(anchors_other) else anchors_other
    return dec.predict(X_test_other, anchors=A), dec
