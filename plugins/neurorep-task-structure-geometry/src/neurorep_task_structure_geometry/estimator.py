"""The ``mlp.one-hidden-layer`` estimator: a Tanh or ReLU network that records its hidden layer while learning."""

from __future__ import annotations

import numpy as np
from neurorep import Tags
from neurorep.components import Estimator
from neurorep.errors import InvalidInputError

from .core import CITATION, hidden_forward, train_one_hidden_layer

__all__ = ["OneHiddenLayerNet"]


class OneHiddenLayerNet(Estimator):
    """One-hidden-layer network ``y = f(X W1 + b1) W2 + b2`` trained by full-batch gradient descent (squared error).

    ``fit(X, Y)`` trains from a seeded small initialisation and records the hidden representation of the
    training inputs at ``n_checkpoints`` steps (``history_steps_``, ``history_``: a list of
    (n_samples, n_hidden) arrays) and the loss at every step (``loss_``). ``transform`` returns hidden
    activations, ``predict`` outputs. torch is imported only inside ``fit``; the fitted weights are numpy
    arrays, so a fitted estimator pickles without torch.

    Parameters
    ----------
    activation : str, default="tanh"
        ``"tanh"`` or ``"relu"``.
    n_hidden : int, default=100
    n_steps : int, default=300
        Full-batch gradient steps.
    learning_rate : float, default=0.2
    init_scale : float, default=0.1
        Initial weights are N(0, init_scale**2 / fan_in); small values give the feature-learning regime.
    n_checkpoints : int, default=8
        Recorded steps: 0, ``n_steps`` and log-spaced steps between.
    random_state : int, default=0
    """

    id = "mlp.one-hidden-layer"
    version = "1.0.0"
    citation = CITATION
    description = "One-hidden-layer Tanh/ReLU network that records its hidden representation over training"
    tags = Tags(stochastic=True)

    def __init__(self, activation: str = "tanh", n_hidden: int = 100, n_steps: int = 300, learning_rate: float = 0.2,
                 init_scale: float = 0.1, n_checkpoints: int = 8, random_state: int = 0):
        self.activation = activation
        self.n_hidden = n_hidden
        self.n_steps = n_steps
        self.learning_rate = learning_rate
        self.init_scale = init_scale
        self.n_checkpoints = n_checkpoints
        self.random_state = random_state

    @classmethod
    def _conformance_instances(cls) -> list[OneHiddenLayerNet]:
        return [cls(n_hidden=8, n_steps=30, n_checkpoints=3),
                cls(activation="relu", n_hidden=8, n_steps=30, n_checkpoints=3, random_state=1)]

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> OneHiddenLayerNet:
        """Train on inputs ``X`` (n_samples, n_inputs) and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        if y is None:
            raise InvalidInputError(f"Estimator {self.id!r}: fit needs targets y (n_samples, n_outputs); got None.")
        net = train_one_hidden_layer(X, y, self.activation, int(self.n_hidden), int(self.n_steps),
                                     float(self.learning_rate), float(self.init_scale), int(self.n_checkpoints),
                                     int(self.random_state), owner=f"Estimator {self.id!r}")
        self.W1_, self.b1_, self.W2_, self.b2_ = net.W1, net.b1, net.W2, net.b2
        self.history_steps_ = net.steps
        self.history_ = net.hidden
        self.loss_ = net.loss
        self.n_outputs_ = net.W2.shape[1]
        self._y_1d = np.ndim(y) == 1
        return self

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "W1_"):
            raise InvalidInputError(f"Estimator {self.id!r}: not fitted; call fit(X, y) first.")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.W1_.shape[0]:
            raise InvalidInputError(f"Estimator {self.id!r}: expected X of shape (n_samples, {self.W1_.shape[0]}), "
                                    f"got {X.shape}.")
        return X

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Hidden-layer activations (n_samples, n_hidden)."""
        return hidden_forward(self._check_X(X), self.W1_, self.b1_, self.activation)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Network outputs (n_samples, n_outputs), or (n_samples,) when fitted on a 1-D y."""
        out = self.transform(X) @ self.W2_ + self.b2_
        return out[:, 0] if self._y_1d else out
