"""The ``mindeye.retrieval`` analyzer: cross-validated contrastive brain -> image-embedding retrieval."""

from __future__ import annotations

from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags, align
from neurorep.errors import InvalidInputError

from ._meta import CITATION


class _LazyCore:
    """The torch-backed numerics (``core``), imported on first use: loading the plugin must not import torch."""

    def __getattr__(self, name):
        from . import core

        return getattr(core, name)


_core = _LazyCore()

__all__ = ["MindEyeRetrieval"]


class MindEyeRetrieval(Analyzer):
    """MindEye retrieval: train a contrastive brain -> image-embedding MLP, retrieve held-out stimuli by cosine.

    ``x`` is the brain representation (stimuli x voxels, optionally with ``repeats``: trials, runs); ``y`` is
    the image-embedding representation (stimuli x embedding dims, e.g. a late EfficientNet-Lite0 site through
    ``source.torch``), standing in for MindEye's frozen CLIP image space. Both are aligned on stimulus ids and
    put in a canonical (sorted-id) order, so results never depend on row order.

    For every fold a fresh residual MLP backbone + projector (:class:`~neurorep_mindeye.core.BrainMLP`) is
    trained on the training split with the bidirectional MixCo loss for the first ``mixco_fraction`` of the
    epochs, then symmetric InfoNCE at ``temperature``; the image embeddings stay frozen. Voxels are z-scored
    with training statistics; with ``center_targets`` the image embeddings are centred on the training mean
    (the only use of ``y`` beyond the training pairs). Held-out brain embeddings are then compared by cosine
    with the held-out candidates' image embeddings, averaged over ``seeds`` independently initialised models:

    * ``split="stimuli"`` (MindEye's test: images never seen in training): ``folds`` folds over the stimuli;
      the candidates of a query are the ``N`` stimuli of its fold. With ``repeats`` each repeat of a training
      stimulus is one training sample and the held-out query is the mean over repeats (as MindEye averages
      the three presentations of a test image).
    * ``split="runs"`` (needs ``repeats``): leave one run out; training uses every stimulus in the other
      runs, the queries are the held-out run's patterns and the candidates are all ``N`` stimuli. This is
      decoding of known stimuli from new measurements (e.g. the 8 Haxby categories), not zero-shot retrieval.

    Rows returned (chance ``k / N``, pooled over folds): ``top1_brain_to_image`` (headline: the fraction of
    held-out brain samples whose own image ranks first among the candidates), ``top1_image_to_brain``, and
    the same for ``top_k`` when ``1 < top_k < N``. ``p_value`` is a permutation test that shuffles the
    query-candidate pairing within each fold (``n_permutations`` draws).

    Parameters
    ----------
    hidden : int, default=256
        Width of the residual MLP backbone.
    n_blocks : int, default=2
        Residual blocks in the backbone.
    dropout : float, default=0.15
        Dropout inside the backbone.
    epochs : int, default=150
        Training epochs per model.
    lr : float, default=0.003
        Peak learning rate (AdamW with a one-cycle schedule, as MindEye).
    weight_decay : float, default=0.01
        AdamW weight decay.
    batch_size : int, default=64
        Samples per contrastive batch (the other samples of a batch are the negatives).
    temperature : float, default=0.05
        Softmax temperature of the contrastive losses.
    mixco_fraction : float, default=0.33
        Fraction of the epochs (the first ones) trained with MixCo instead of plain InfoNCE; 0 turns MixCo off.
    mixco_beta : float, default=0.15
        Both parameters of the Beta distribution of MixCo's mixing coefficients.
    center_targets : bool, default=True
        Subtract the training mean from the image embeddings (non-negative pooled CNN features otherwise all
        have cosines near 1).
    split : {"stimuli", "runs"}, default="stimuli"
        Held-out unit: unseen stimuli, or unseen runs of the same stimuli (see above).
    folds : int, default=5
        Folds over the stimuli (``split="stimuli"``); the candidate set of a fold is its ``N ~ n_stimuli /
        folds`` held-out stimuli. Ignored for ``split="runs"``.
    seeds : int, default=1
        Independently initialised models per fold whose cosine matrices are averaged.
    top_k : int, default=5
        The ``k`` of the top-k rows.
    n_permutations : int, default=1000
        Permutations for the p-values (0: no test).
    random_state : int, default=0
        Seeds the fold assignment, the models and the permutations.
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the inputs' stimulus ids (see :func:`neurorep.align`).
    """

    id = "mindeye.retrieval"
    version = "1.0.0"
    citation = CITATION
    description = "MindEye retrieval: contrastive MLP from voxels to an image-embedding space, top-k retrieval"
    n_inputs = 2
    tags = Tags(symmetric=False, larger_is_more_similar=None, stochastic=True, input_type="representation")

    def __init__(self, hidden: int = 256, n_blocks: int = 2, dropout: float = 0.15, epochs: int = 150,
                 lr: float = 3e-3, weight_decay: float = 1e-2, batch_size: int = 64, temperature: float = 0.05,
                 mixco_fraction: float = 0.33, mixco_beta: float = 0.15, center_targets: bool = True,
                 split: Literal["stimuli", "runs"] = "stimuli", folds: int = 5, seeds: int = 1, top_k: int = 5,
                 n_permutations: int = 1000, random_state: int = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.hidden = hidden
        self.n_blocks = n_blocks
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.temperature = temperature
        self.mixco_fraction = mixco_fraction
        self.mixco_beta = mixco_beta
        self.center_targets = center_targets
        self.split = split
        self.folds = folds
        self.seeds = seeds
        self.top_k = top_k
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.align = align

    # ------------------------------------------------------------------ checks
    def _fail(self, what: str) -> None:
        raise InvalidInputError(f"Analyzer {self.id!r}: {what}")

    def _check_params(self) -> None:
        ints = {"hidden": 1, "epochs": 1, "batch_size": 2, "seeds": 1, "top_k": 1, "n_blocks": 0,
                "n_permutations": 0, "folds": 2}
        for name, low in ints.items():
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                self._fail(f"{name} must be an integer >= {low}, got {v!r}.")
        for name in ("lr", "temperature"):
            v = getattr(self, name)
            if not v > 0:
                self._fail(f"{name} must be > 0, got {v!r}.")
        if not 0.0 <= self.dropout < 1.0:
            self._fail(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if not 0.0 <= self.mixco_fraction <= 1.0:
            self._fail(f"mixco_fraction must be in [0, 1], got {self.mixco_fraction!r}.")
        if not self.mixco_beta > 0:
            self._fail(f"mixco_beta must be > 0, got {self.mixco_beta!r}.")
        if self.split not in ("stimuli", "runs"):
            self._fail(f"split must be one of ['runs', 'stimuli'], got {self.split!r}.")

    def _config(self) -> _core.TrainConfig:
        return _core.TrainConfig(hidden=int(self.hidden), n_blocks=int(self.n_blocks), dropout=float(self.dropout),
                           epochs=int(self.epochs), lr=float(self.lr), weight_decay=float(self.weight_decay),
                           batch_size=int(self.batch_size), temperature=float(self.temperature),
                           mixco_fraction=float(self.mixco_fraction), mixco_beta=float(self.mixco_beta))

    def _inputs(self, x, y) -> tuple[Representation, Representation]:
        for name, r in (("x (brain)", x), ("y (image embeddings)", y)):
            if not isinstance(r, Representation):
                self._fail(f"expected {name} to be a Representation (stimuli x features), got "
                           f"{type(r).__name__}. Pass a brain source as x and an image-embedding source as y.")
            r.check_finite(owner=f"Analyzer {self.id!r}")
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        order = np.argsort(np.asarray(x.stimulus_ids, dtype=object).astype(str), kind="stable")
        ids = [x.stimulus_ids[i] for i in order]
        return x.select(ids), y.select(ids)

    # ------------------------------------------------------------------ folds
    def _stimulus_folds(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        if n < 4:
            self._fail(f"split='stimuli' needs at least 4 stimuli, got {n}.")
        k = min(self.folds, n // 2)   # at least 2 candidates per fold
        perm = rng.permutation(n)
        return [np.sort(f) for f in np.array_split(perm, k)]

    def _similarities(self, X_train: np.ndarray, T_train: np.ndarray, X_test: np.ndarray, T_test: np.ndarray,
                      seed_base: int) -> np.ndarray:
        mu, sd = X_train.mean(0), X_train.std(0)
        sd[sd == 0] = 1.0
        if self.center_targets:
            tmu = T_train.mean(0)
            T_train, T_test = T_train - tmu, T_test - tmu
        cfg = self._config()
        sims = []
        for s in range(int(self.seeds)):
            model = _core.train_brain_mlp((X_train - mu) / sd, T_train, cfg, seed=seed_base + 7919 * s)
            sims.append(_core.cosine_matrix(_core.embed(model, (X_test - mu) / sd), T_test))
        return np.mean(sims, 0)

    # ------------------------------------------------------------------ analyze
    def analyze(self, x, y=None):
        if y is None:
            self._fail("takes two inputs: x (brain, stimuli x voxels) and y (image embeddings, stimuli x dims); "
                       "got one.")
        self._check_params()
        x, y = self._inputs(x, y)
        X = np.asarray(x.data, dtype=float)
        R = None if x.repeats is None else np.asarray(x.repeats, dtype=float)
        T = np.asarray(y.data, dtype=float)
        n = len(X)
        rng = np.random.default_rng(self.random_state)
        seed0 = int(rng.integers(2**31 - 1))
        blocks: list[np.ndarray] = []      # (queries x candidates) cosine matrices, query i <-> candidate i
        if self.split == "stimuli":
            folds = self._stimulus_folds(n, rng)
            for f, test in enumerate(folds):
                train = np.setdiff1d(np.arange(n), test)
                n_rep = 1 if R is None else R.shape[0]
                Xtr = X[train] if R is None else R[:, train].reshape(-1, X.shape[1])
                Ttr = np.tile(T[train], (n_rep, 1))
                blocks.append(self._similarities(Xtr, Ttr, X[test], T[test], seed0 + 104729 * f))
            n_runs = None
        else:
            if R is None or R.shape[0] < 2:
                got = "no repeats" if R is None else f"{R.shape[0]} repeat"
                self._fail(f"split='runs' needs x with at least 2 repeats (runs) to leave one out, got {got}. "
                           "Use a source that keeps runs as the repeats axis (e.g. dataset.haxby2001), or "
                           "split='stimuli'.")
            n_runs = R.shape[0]
            if n < 2:
                self._fail(f"split='runs' needs at least 2 stimuli (candidates), got {n}.")
            for r in range(n_runs):
                other = np.setdiff1d(np.arange(n_runs), [r])
                Xtr = R[other].reshape(-1, X.shape[1])
                Ttr = np.tile(T, (len(other), 1))
                blocks.append(self._similarities(Xtr, Ttr, R[r], T, seed0 + 104729 * r))
        ranks_b2i = [_core.retrieval_ranks(s) for s in blocks]
        ranks_i2b = [_core.retrieval_ranks(s.T) for s in blocks]
        sizes = np.array([len(s) for s in blocks])
        n_total = int(sizes.sum())
        ks = [1] + ([int(self.top_k)] if 1 < self.top_k < sizes.min() else [])
        rows = []
        perm_rng = np.random.default_rng([int(self.random_state), 1])
        for k in ks:
            for direction, ranks in (("brain_to_image", ranks_b2i), ("image_to_brain", ranks_i2b)):
                per_fold = [_core.topk_accuracy(rk, k) for rk in ranks]
                acc = float(np.sum(np.array(per_fold) * sizes) / n_total)
                chance = float(np.sum(np.minimum(k / sizes, 1.0) * sizes) / n_total)
                if self.n_permutations > 0:
                    null = _core.permutation_topk(ranks, k, int(self.n_permutations), perm_rng)
                    p = (1 + int(np.sum(null >= acc - 1e-12))) / (1 + int(self.n_permutations))
                else:
                    p = float("nan")
                extra = {"chance": chance, "k": k, "direction": direction, "split": self.split,
                         "n_candidates": [int(s) for s in sizes], "per_fold": [float(a) for a in per_fold]}
                if n_runs is not None:
                    extra["n_runs"] = int(n_runs)
                rows.append(Result(score=acc, metric=f"top{k}_{direction}", p_value=float(p), n=n_total,
                                   extra=extra))
        return rows

    @classmethod
    def _conformance_instances(cls):
        return [cls(hidden=32, epochs=20, n_permutations=50, folds=2)]
