"""``source.relu-mlp-digits``: a ReLU MLP trained on scikit-learn's digits, as a source of pre-activations and codes."""

from __future__ import annotations

from typing import Any

import numpy as np
from neurorep import Representation, Source, StimulusSet, Tags
from neurorep.errors import InvalidInputError

from .core import CITATION

__all__ = ["ReluMlpDigits"]

_SITES = ("input", "preactivations", "codes", "labels")


class ReluMlpDigits(Source):
    """A ReLU MLP trained (torch, CPU, seeded) on scikit-learn's 8 x 8 digits, read on its training and test images.

    The 1,797 digits are split stratified into training (``train-0000`` ...) and test
    (``test-0000`` ...) stimuli; the network (``depth`` hidden layers of ``width`` ReLU units)
    is trained with Adam on the first ``n_train`` training images (all when 0) for ``epochs``
    epochs; the stimuli are the ``n_train`` training images and every test image.

    Sites: ``input`` (the 64 pixels in [0, 1]), ``preactivations`` (every hidden unit's
    pre-activation, layer after layer), ``codes`` (their 0/1 activation pattern, read with
    forward pre-hooks on the ReLU modules), ``labels`` (one column: the digit).

    Parameters
    ----------
    width : int, default=64
        Units per hidden layer.
    depth : int, default=1
        Hidden layers.
    epochs : int, default=30
        Training epochs (0: the network at initialisation).
    n_train : int, default=0
        Training images used (a stratified subset); 0 = the whole training split.
    test_size : float, default=0.25
        Test fraction of the stratified split.
    learning_rate : float, default=0.001
    batch_size : int, default=64
    random_state : int, default=0
        Seeds the split, the subset, the initialisation and the minibatch order.
    """

    id = "source.relu-mlp-digits"
    version = "1.0.0"
    citation = CITATION
    description = "Pre-activations and activation codes of a seeded ReLU MLP trained on scikit-learn's digits"
    tags = Tags(stochastic=True)

    def __init__(self, width: int = 64, depth: int = 1, epochs: int = 30, n_train: int = 0, test_size: float = 0.25,
                 learning_rate: float = 0.001, batch_size: int = 64, random_state: int = 0):
        self.width = width
        self.depth = depth
        self.epochs = epochs
        self.n_train = n_train
        self.test_size = test_size
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_cache_", None)
        return state

    @classmethod
    def _conformance_instances(cls):
        return [cls(width=12, epochs=2, n_train=120, test_size=0.05)]

    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return list(_SITES)

    def _split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        from .phase import _subsample, digits_split

        Xtr, ytr, Xte, yte = digits_split(self.test_size, self.random_state)
        n = int(self.n_train)
        if n < 0 or n == 1:
            raise InvalidInputError(f"Source {self.id!r}: n_train must be 0 (all) or >= 2, got {self.n_train!r}.")
        if n:
            idx = _subsample(ytr, n, self.random_state)
            Xtr, ytr = Xtr[idx], ytr[idx]
        return Xtr, ytr, Xte, yte

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        from sklearn.datasets import load_digits  # noqa: F401  (fail early and clearly if scikit-learn is missing)

        n_all = 1797
        n_test = int(np.ceil(float(self.test_size) * n_all))
        n_tr = (n_all - n_test) if not self.n_train else min(int(self.n_train), n_all - n_test)
        return tuple(f"train-{i:04d}" for i in range(n_tr)) + tuple(f"test-{i:04d}" for i in range(n_test))

    def site_space(self, site: str) -> dict[str, Any]:
        return {"kind": "model", "model": self.id, "site": site, "width": int(self.width), "depth": int(self.depth),
                "epochs": int(self.epochs)}

    def _arrays(self) -> dict[str, np.ndarray]:
        cached = getattr(self, "_cache_", None)
        if cached is not None:
            return cached
        from .torch_codes import activation_codes, relu_preactivations, train_relu_mlp

        for name in ("width", "depth", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidInputError(f"Source {self.id!r}: {name} must be an int >= 1, got {v!r}.")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise InvalidInputError(f"Source {self.id!r}: epochs must be an int >= 0, got {self.epochs!r}.")
        Xtr, ytr, Xte, yte = self._split()
        net = train_relu_mlp(Xtr, ytr, width=self.width, depth=self.depth, epochs=self.epochs,
                             learning_rate=self.learning_rate, batch_size=self.batch_size,
                             random_state=self.random_state)
        X = np.concatenate([Xtr, Xte])
        out = {"input": X, "preactivations": relu_preactivations(net, X).codes.astype(np.float32),
               "codes": activation_codes(net, X).codes, "labels": np.concatenate([ytr, yte])[:, None].astype(float)}
        self._cache_ = out
        return out

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        if site not in _SITES:
            raise InvalidInputError(f"Source {self.id!r}: unknown site {site!r}; expected one of {list(_SITES)}.")
        data = self._arrays()[site]
        ids = self.stimulus_ids()
        if data.shape[0] != len(ids):  # pragma: no cover - the split and the ids are computed the same way
            raise InvalidInputError(f"Source {self.id!r}: {data.shape[0]} rows for {len(ids)} ids.")
        return Representation(data, ids, space=self.site_space(site), name=f"{self.id}:{site}")
