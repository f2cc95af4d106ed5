"""The ``demovae.fc`` estimator: DemoVAE on functional-connectivity features."""

from __future__ import annotations

import numpy as np
from neurorep import Estimator, Tags
from neurorep.errors import InvalidInputError

from ._meta import CITATION

__all__ = ["DemoVAE"]


def _core():
    from . import core  # torch is imported here, on first use, never when the plugin loads

    return core


class DemoVAE(Estimator):
    """DemoVAE: a VAE on FC whose latents are decorrelated from demographics and whose decoder is
    conditioned on them (Orlichenko et al., 2024).

    ``fit(X, demographics)`` learns an encoder FC -> latents and a decoder [latents, demographics] -> FC
    with the loss of :mod:`neurorep_demovae.core` (reconstruction, latent covariance -> I and mean -> 0,
    squared latent-demographic correlations, guidance of generated FC by a ridge predictor of the
    demographics; optionally a KL term). ``transform(X)`` gives the confound-free latents;
    :meth:`sample` draws synthetic FC for user-supplied demographics; :meth:`reconstruct` decodes a
    subject's latents with any demographics (e.g. "this subject at age 20"). Every demographic column is
    z-scored and treated as continuous (a 0/1 column works as is). Fitted without demographics the model
    is a plain moment-regularised autoencoder.

    Parameters
    ----------
    latent_dim : int, default=8
        Number of latents.
    hidden : int, default=128
        Width of the encoder's and the decoder's hidden layer.
    epochs : int, default=100
        Passes over the training subjects.
    batch_size : int, default=128
        Subjects per mini-batch (the decorrelation and moment terms are computed per batch).
    lr : float, default=1e-3
        Adam learning rate.
    decor_weight : float, default=10.0
        Weight of the latent-demographic decorrelation term (0 ablates it).
    guide_weight : float, default=1.0
        Weight of the demographic guidance term.
    cov_weight : float, default=1.0
        Weight of the latent covariance -> identity term.
    mean_weight : float, default=1.0
        Weight of the latent mean -> 0 term.
    kl_weight : float, default=0.0
        Weight of a per-subject KL term; > 0 makes the encoder stochastic (Gaussian posterior,
        reparameterised), 0 keeps the reference implementation's deterministic encoder.
    random_state : int or None, default=0
        Seed of the initialisation, the batches and the guidance draws.

    Attributes
    ----------
    net_ : DemoVAENet
        The trained torch network.
    history_ : dict of str to list of float
        Mean loss of each term per epoch.
    n_demographics_ : int
        Number of demographic columns seen in ``fit``.
    """

    id = "demovae.fc"
    version = "0.1.0"
    citation = CITATION
    description = "DemoVAE: FC -> latents decorrelated from demographics; demographics-conditioned FC decoder"
    tags = Tags(stochastic=True)

    def __init__(self, latent_dim: int = 8, hidden: int = 128, epochs: int = 100, batch_size: int = 128,
                 lr: float = 1e-3, decor_weight: float = 10.0, guide_weight: float = 1.0, cov_weight: float = 1.0,
                 mean_weight: float = 1.0, kl_weight: float = 0.0, random_state: int | None = 0):
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.decor_weight = decor_weight
        self.guide_weight = guide_weight
        self.cov_weight = cov_weight
        self.mean_weight = mean_weight
        self.kl_weight = kl_weight
        self.random_state = random_state

    # ------------------------------------------------------------------ input checks
    def _fc(self, X, what: str = "X", n_features: int | None = None) -> np.ndarray:
        a = np.asarray(X, dtype=float)
        if a.ndim != 2:
            raise InvalidInputError(f"Estimator {self.id!r}: {what} must be (n_subjects, n_edges), got shape {a.shape}. "
                                    "Pass one row of FC edges per subject (neurorep_demovae.matrix_to_edges).")
        if not np.all(np.isfinite(a)):
            raise InvalidInputError(f"Estimator {self.id!r}: {what} holds {int(np.sum(~np.isfinite(a)))} NaN/inf "
                                    "value(s); expected finite FC. Drop or impute those subjects or edges first.")
        if n_features is not None and a.shape[1] != n_features:
            raise InvalidInputError(f"Estimator {self.id!r}: {what} has {a.shape[1]} columns, but the model was "
                                    f"fitted on {n_features}.")
        return a

    def _demo(self, demographics, n: int, what: str = "demographics") -> np.ndarray:
        if demographics is None:
            d = np.zeros((n, 0))
        else:
            d = np.asarray(demographics, dtype=float)
            if d.ndim == 1:  # one column per subject, or one row of several demographics for every subject
                k = getattr(self, "n_demographics_", None)
                d = d[None, :] if (k is not None and k != 1 and d.size == k) else d[:, None]
            if d.ndim != 2 or d.shape[0] not in (1, n):
                raise InvalidInputError(f"Estimator {self.id!r}: {what} must have one row per subject ({n}), "
                                        f"got shape {np.shape(demographics)}.")
            if d.shape[0] == 1 and n != 1:
                d = np.repeat(d, n, axis=0)
            if not np.all(np.isfinite(d)):
                raise InvalidInputError(f"Estimator {self.id!r}: {what} holds NaN/inf; impute them first.")
        if hasattr(self, "n_demographics_") and d.shape[1] != self.n_demographics_:
            raise InvalidInputError(f"Estimator {self.id!r}: {what} has {d.shape[1]} column(s), but the model was "
                                    f"fitted with {self.n_demographics_}.")
        return d

    def _check_fitted(self) -> None:
        if not hasattr(self, "net_"):
            raise InvalidInputError(f"Estimator {self.id!r} is not fitted; call fit(X, demographics) first.")

    # ------------------------------------------------------------------ fit / transform
    def fit(self, X, y=None) -> DemoVAE:
        """Fit on FC ``X`` (n_subjects, n_edges) and demographics ``y`` (n_subjects,) or (n_subjects, n_demo)."""
        for k in ("latent_dim", "hidden", "epochs", "batch_size"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InvalidInputError(f"Estimator {self.id!r}: {k} must be a positive int, got {v!r}.")
        X = self._fc(X)
        for k in list(vars(self)):
            if k.endswith("_") and not k.startswith("_"):
                delattr(self, k)
        D = self._demo(y, X.shape[0])
        if X.shape[0] < 4:
            raise InvalidInputError(f"Estimator {self.id!r}: need at least 4 subjects, got {X.shape[0]}.")
        self.x_mean_, self.x_scale_ = X.mean(0), X.std(0)
        self.x_scale_[self.x_scale_ < 1e-12] = 1.0
        self.d_mean_, self.d_scale_ = D.mean(0), D.std(0)
        self.d_scale_[self.d_scale_ < 1e-12] = 1.0
        Xs = (X - self.x_mean_) / self.x_scale_
        Ds = (D - self.d_mean_) / self.d_scale_
        core = _core()
        cfg = core.DemoVAEConfig(latent_dim=int(self.latent_dim), hidden=int(self.hidden), epochs=int(self.epochs),
                                 batch_size=int(self.batch_size), lr=float(self.lr),
                                 decor_weight=float(self.decor_weight), guide_weight=float(self.guide_weight),
                                 cov_weight=float(self.cov_weight), mean_weight=float(self.mean_weight),
                                 kl_weight=float(self.kl_weight))
        seed = 0 if self.random_state is None else int(self.random_state)
        self.net_, self.history_ = core.train_demovae(Xs, Ds, cfg, seed)
        self.n_features_in_ = X.shape[1]
        self.n_demographics_ = D.shape[1]
        self.demographics_train_ = D.copy()
        return self

    def transform(self, X) -> np.ndarray:
        """Confound-free latents ``(n_subjects, latent_dim)`` (the encoder's mean)."""
        self._check_fitted()
        X = self._fc(X, n_features=self.n_features_in_)
        return _core().encode_numpy(self.net_, (X - self.x_mean_) / self.x_scale_)

    def inverse_transform(self, Z, demographics=None) -> np.ndarray:
        """FC ``(n, n_edges)`` decoded from latents ``Z`` (n, latent_dim) with the given demographics."""
        self._check_fitted()
        Z = np.asarray(Z, dtype=float)
        if Z.ndim != 2 or Z.shape[1] != int(self.latent_dim):
            raise InvalidInputError(f"Estimator {self.id!r}: latents must be (n, {self.latent_dim}), got shape {Z.shape}.")
        D = self._demo(demographics, Z.shape[0])
        out = _core().decode_numpy(self.net_, Z, (D - self.d_mean_) / self.d_scale_)
        return out * self.x_scale_ + self.x_mean_

    def reconstruct(self, X, demographics=None) -> np.ndarray:
        """Each subject's FC decoded from its own latents with ``demographics`` (its own, or any others)."""
        return self.inverse_transform(self.transform(X), demographics)

    def sample(self, n: int, demographics=None, random_state: int | None = None) -> np.ndarray:
        """``n`` synthetic FC rows: latents drawn from N(0, I), decoded with ``demographics``.

        Parameters
        ----------
        n : int
            Number of synthetic subjects.
        demographics : array-like of shape (n, n_demo) or (n_demo,), optional
            Demographics of the synthetic subjects (one row is repeated for all); required when the model
            was fitted with demographics.
        random_state : int or None
            Seed of the latent draws (default: the estimator's ``random_state``).
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidInputError(f"Estimator {self.id!r}: sample() needs a positive int n, got {n!r}.")
        if demographics is None and self.n_demographics_:
            raise InvalidInputError(f"Estimator {self.id!r}: sample() needs demographics ({self.n_demographics_} "
                                    "column(s)) for a model fitted with them.")
        seed = self.random_state if random_state is None else random_state
        Z = np.random.default_rng(seed).standard_normal((int(n), int(self.latent_dim)))
        return self.inverse_transform(Z, demographics)
