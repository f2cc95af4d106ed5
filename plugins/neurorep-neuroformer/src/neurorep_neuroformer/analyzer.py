"""Analyzers: ``neuroformer.next-spike`` (held-out next-spike likelihood + attention connectivity) and
``probe.few-shot`` (linear probe trained on a few labels)."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from neurorep.components import Analyzer, Tags
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, Result, align

from ._meta import CITATION, core

__all__ = ["NextSpikeAnalyzer", "FewShotProbe", "center_connectivity", "check_model_params", "time_order"]

_ALIGN = Literal["strict", "reorder", "intersection"]


def _int_at_least(v, lo: int) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= lo


def check_model_params(c, owner: str) -> None:
    """Validate the model hyper-parameters shared by the analyzer and the source."""
    for name, lo in (("n_past", 1), ("max_past_tokens", 1), ("d_model", 2), ("n_heads", 1), ("n_layers", 1),
                     ("n_epochs", 1), ("batch_size", 1)):
        v = getattr(c, name)
        if not _int_at_least(v, lo):
            raise InvalidInputError(f"{owner}: {name!r} must be an integer >= {lo}, got {v!r}.")
    if c.d_model % c.n_heads:
        raise InvalidInputError(f"{owner}: d_model={c.d_model} must be a multiple of n_heads={c.n_heads}.")
    if not (isinstance(c.lr, (int, float)) and c.lr > 0):
        raise InvalidInputError(f"{owner}: 'lr' must be a positive number, got {c.lr!r}.")


def time_order(rep: Representation) -> np.ndarray:
    """Row order that sorts a representation's stimulus ids (zero-padded time-bin ids sort in time order)."""
    return np.argsort(np.asarray(rep.stimulus_ids, dtype=object).astype(str), kind="stable")


def center_connectivity(C: np.ndarray, n_iter: int = 100) -> np.ndarray:
    """Remove additive row and column effects from the off-diagonal entries (the diagonal is set to 0).

    Alternately subtracts the off-diagonal row means and column means (``n_iter`` times; this converges to
    the residual of the least-squares fit ``C[j, i] ~ a_j + b_i``). It removes how much attention a
    presynaptic neuron draws from every target (its salience) and how spread a target's attention is,
    leaving the pair-specific part; a correction in the spirit of the average-product correction of
    direct-coupling analysis. Fewer than 3 neurons: all zeros.
    """
    M = np.array(C, dtype=float)
    off = ~np.eye(M.shape[0], dtype=bool)
    if M.shape[0] < 3:  # nothing pair-specific is left after removing row and column effects
        return np.zeros_like(M)
    M[~off] = np.nan
    for _ in range(n_iter):
        M = M - np.nanmean(M, axis=1, keepdims=True)
        M = M - np.nanmean(M, axis=0, keepdims=True)
    M[~off] = 0.0
    return M


class NextSpikeAnalyzer(Analyzer):
    """A tiny Neuroformer trained on spikes and their context; held-out next-spike likelihood vs a rate baseline.

    ``x`` holds spike counts or other activity, one row per time bin (features = neurons); a neuron has an
    event in a bin when its value exceeds ``threshold`` (one spike token per event). ``y`` holds the
    conditioning modalities of the same bins (stimulus, behaviour: any features), aligned with ``x`` by id;
    rows are then put in time order by sorting their ids (use zero-padded bin ids). The model (see
    :mod:`neurorep_neuroformer.core`) predicts the neurons that fire in bin ``t``, token by token, from the
    spike tokens of the ``n_past`` bins before it and the context of bins ``t - n_past .. t``; it is trained
    with cross-entropy on the first ``1 - test_fraction`` of the bins and scored on the rest.

    Result rows: ``loglik_gain_bits_per_spike`` (headline: held-out log-likelihood of the model minus that of
    independent Bernoulli neurons at their training rates, in bits per held-out spike; > 0 means the model
    predicts better), ``loglik_model_nats_per_bin`` and ``loglik_rate_nats_per_bin``. The headline row's
    ``extra["connectivity"]`` is the attention-derived directed connectivity ``C[j][i]`` (presynaptic ``j``,
    postsynaptic ``i``; see :func:`neurorep_neuroformer.core.attention_connectivity`), computed on the held-out
    bins, ``extra["connectivity_raw"]`` the same before ``normalize``.

    Parameters
    ----------
    n_past : int, default=2
        Bins of past spikes in the past state.
    max_past_tokens : int, default=32
        At most this many past spike tokens (the newest kept).
    threshold : float, default=0.5
        A value of ``x`` above it is an event (0.5: a spike count of at least 1).
    test_fraction : float, default=0.2
        Held-out tail of the recording.
    d_model : int, default=32
    n_heads : int, default=2
    n_layers : int, default=1
    n_epochs : int, default=5
    lr : float, default=0.003
    batch_size : int, default=128
    normalize : {"center", "none"}, default="center"
        ``"center"``: subtract the row and column means of the connectivity (:func:`center_connectivity`).
    random_state : int, default=0
        Seed of the weights and of the batch order.
    align : {"strict", "reorder", "intersection"}, default="intersection"
        How ``x`` and ``y`` are matched by stimulus id (:func:`neurorep.align`).

    References
    ----------
    Antoniades et al. (2024), ICLR, arXiv:2311.00136: autoregressive spike-token generation conditioned on
    the other modalities; connectivity read from attention (their simulated-network test).
    """

    id = "neuroformer.next-spike"
    version = "0.1.0"
    citation = CITATION
    description = "Tiny Neuroformer: held-out next-spike log-likelihood vs a rate baseline, attention connectivity"
    tags = Tags(stochastic=True)
    n_inputs = 2

    def __init__(self, n_past: int = 2, max_past_tokens: int = 32, threshold: float = 0.5,
                 test_fraction: float = 0.2, d_model: int = 32, n_heads: int = 2, n_layers: int = 1,
                 n_epochs: int = 5, lr: float = 0.003, batch_size: int = 128,
                 normalize: Literal["center", "none"] = "center", random_state: int = 0,
                 align: _ALIGN = "intersection"):
        self.n_past = n_past
        self.max_past_tokens = max_past_tokens
        self.threshold = threshold
        self.test_fraction = test_fraction
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.n_epochs = n_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.normalize = normalize
        self.random_state = random_state
        self.align = align

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_epochs=2, d_model=8, batch_size=8)]

    def prepare(self, x, y) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """Validated, aligned, time-ordered events ``(n_bins, n_neurons)`` and standardised context."""
        owner = f"Analyzer {self.id!r}"
        if y is None:
            raise InvalidInputError(f"{owner}: expected two inputs (x: spikes per time bin, y: stimulus/behaviour "
                                    "of the same bins), got one.")
        for side, v in (("x", x), ("y", y)):
            if not isinstance(v, Representation):
                raise InvalidInputError(f"{owner}: expected a Representation (time bins x features) as {side}, got "
                                        f"{type(v).__name__}.")
        try:
            x, y = x.check_finite(), y.check_finite()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc
        check_model_params(self, owner)
        if not 0 < self.test_fraction < 1:
            raise InvalidInputError(f"{owner}: 'test_fraction' must be in (0, 1), got {self.test_fraction!r}.")
        if self.normalize not in ("center", "none"):
            raise InvalidInputError(f"{owner}: 'normalize' must be one of ['center', 'none']; "
                                    f"{self.normalize!r} was provided.")
        x, y = align(x, y, how=self.align, owner=owner)
        order = time_order(x)
        events = np.asarray(x.data, dtype=float)[order] > self.threshold
        ctx = np.asarray(y.data, dtype=float)[order]
        if events.shape[0] < self.n_past + 4:
            raise InvalidInputError(f"{owner}: need at least n_past + 4 = {self.n_past + 4} time bins, got "
                                    f"{events.shape[0]}.")
        split = int(round(events.shape[0] * (1 - self.test_fraction)))
        mu, sd = ctx[:split].mean(0), ctx[:split].std(0)
        ctx = (ctx - mu) / np.where(sd > 0, sd, 1.0)
        return events, ctx, tuple(np.asarray(x.stimulus_ids, dtype=object)[order])

    def fit_score(self, x, y):
        """Train and score; returns :class:`neurorep_neuroformer.core.FitResult` (model, tokens, log-likelihoods)."""
        events, ctx, _ = self.prepare(x, y)
        return core.fit_and_score(events, ctx, n_past=self.n_past, max_past_tokens=self.max_past_tokens,
                                  test_fraction=self.test_fraction, d_model=self.d_model, n_heads=self.n_heads,
                                  n_layers=self.n_layers, n_epochs=self.n_epochs, lr=self.lr,
                                  batch_size=self.batch_size, random_state=self.random_state)

    def analyze(self, x, y=None):
        owner = f"Analyzer {self.id!r}"
        fit = self.fit_score(x, y)
        if fit.n_test_spikes == 0:
            raise InvalidInputError(f"{owner}: the held-out bins hold no events above threshold={self.threshold!r}; "
                                    "raise test_fraction or lower the threshold.")
        C_raw = core.attention_connectivity(fit.model, fit.test)
        C = center_connectivity(C_raw) if self.normalize == "center" else C_raw
        n_test = int(fit.loglik_model.size)
        gain = float((fit.loglik_model.sum() - fit.loglik_rate.sum()) / fit.n_test_spikes / math.log(2))
        extra = {"connectivity": C.tolist(), "connectivity_raw": C_raw.tolist(), "n_test_spikes": fit.n_test_spikes,
                 "n_train_bins": int(fit.train.bins.size), "neurons": [str(c) for c in _channel_names(x)]}
        return [Result(score=gain, metric="loglik_gain_bits_per_spike", n=n_test, extra=extra),
                Result(score=float(fit.loglik_model.mean()), metric="loglik_model_nats_per_bin", n=n_test),
                Result(score=float(fit.loglik_rate.mean()), metric="loglik_rate_nats_per_bin", n=n_test)]


def _channel_names(x: Representation) -> list:
    for key in ("unit", "neuron", "name"):
        if key in x.channel_descriptors:
            return list(np.asarray(x.channel_descriptors[key]))
    return list(range(x.n_features))


class FewShotProbe(Analyzer):
    """Few-shot linear decoding: logistic regression trained on ``n_shots`` labelled rows per class.

    ``y``'s first column holds class labels (a few distinct values). For each of ``n_repeats`` draws,
    ``n_shots`` rows per class are drawn at random as the training set, an L2-penalised logistic
    regression (scikit-learn, features standardised on the training rows) is fit to ``x`` on them and
    scored on every other row. Headline: the mean held-out accuracy (``extra`` holds the chance level, the
    majority-class share of the rows); second row: its standard deviation over draws.

    Parameters
    ----------
    n_shots : int, default=5
        Labelled rows per class.
    n_repeats : int, default=20
    C : float, default=1.0
        Inverse L2 penalty.
    discretize : int, default=0
        0: ``y``'s first column holds class labels. ``k >= 2``: cut a continuous first column into ``k``
        equally populated classes at its quantiles.
    random_state : int, default=0
    align : {"strict", "reorder", "intersection"}, default="reorder"

    References
    ----------
    Antoniades et al. (2024), ICLR, arXiv:2311.00136 (few-shot behaviour decoding from pretrained Neuroformer
    representations).
    """

    id = "probe.few-shot"
    version = "0.1.0"
    citation = CITATION
    description = "Few-shot logistic-regression probe (n labelled rows per class), mean held-out accuracy"
    tags = Tags(stochastic=True)
    n_inputs = 2

    def __init__(self, n_shots: int = 5, n_repeats: int = 20, C: float = 1.0, discretize: int = 0,
                 random_state: int = 0, align: _ALIGN = "reorder"):
        self.n_shots = n_shots
        self.n_repeats = n_repeats
        self.C = C
        self.discretize = discretize
        self.random_state = random_state
        self.align = align

    @classmethod
    def _conformance_instances(cls):
        # the toy data's label column is continuous: cut it into two classes
        return [cls(n_shots=3, n_repeats=2, discretize=2)]

    def analyze(self, x, y=None):
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        owner = f"Analyzer {self.id!r}"
        if y is None or not isinstance(x, Representation) or not isinstance(y, Representation):
            raise InvalidInputError(f"{owner}: expected two Representations (x: features, y: labels in column 0), "
                                    f"got {type(x).__name__} and {type(y).__name__}.")
        try:
            x, y = x.check_finite(), y.check_finite()
        except InvalidInputError as exc:
            raise InvalidInputError(f"{owner}: {exc}") from exc
        for name in ("n_shots", "n_repeats"):
            if not _int_at_least(getattr(self, name), 1):
                raise InvalidInputError(f"{owner}: {name!r} must be an integer >= 1, got {getattr(self, name)!r}.")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise InvalidInputError(f"{owner}: 'C' must be a positive number, got {self.C!r}.")
        x, y = align(x, y, how=self.align, owner=owner)
        order = time_order(x)
        X = np.asarray(x.data, dtype=float)[order]
        lab = np.asarray(y.data)[order, 0]
        if self.discretize:
            if not _int_at_least(self.discretize, 2):
                raise InvalidInputError(f"{owner}: 'discretize' must be 0 or an integer >= 2, got {self.discretize!r}.")
            edges = np.quantile(lab, np.linspace(0, 1, self.discretize + 1)[1:-1])
            lab = np.searchsorted(edges, lab, side="right")
        classes, counts = np.unique(lab, return_counts=True)
        if classes.size < 2 or classes.size > max(2, X.shape[0] // 2):
            raise InvalidInputError(f"{owner}: y's first column must hold class labels (2 or more classes with "
                                    f"repeats), got {classes.size} distinct values in {X.shape[0]} rows.")
        if counts.min() <= self.n_shots:
            raise InvalidInputError(f"{owner}: every class needs more than n_shots={self.n_shots} rows (one left to "
                                    f"test); the smallest has {counts.min()}. Lower n_shots.")
        rng = np.random.default_rng(self.random_state)
        accs = []
        for _ in range(self.n_repeats):
            tr = np.concatenate([rng.choice(np.flatnonzero(lab == c), self.n_shots, replace=False) for c in classes])
            te = np.setdiff1d(np.arange(X.shape[0]), tr)
            sc = StandardScaler().fit(X[tr])
            clf = LogisticRegression(C=self.C, max_iter=2000).fit(sc.transform(X[tr]), lab[tr])
            accs.append(float((clf.predict(sc.transform(X[te])) == lab[te]).mean()))
        chance = float(counts.max() / counts.sum())
        return [Result(score=float(np.mean(accs)), metric="few_shot_accuracy", n=int(X.shape[0]),
                       extra={"chance": chance, "n_shots": int(self.n_shots), "n_classes": int(classes.size)}),
                Result(score=float(np.std(accs)), metric="few_shot_accuracy_sd", n=int(self.n_repeats))]
