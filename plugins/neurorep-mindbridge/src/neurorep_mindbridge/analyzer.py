"""The ``mindbridge.cross-subject`` analyzer: one decoder for several subjects, retrieval per subject."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags, align
from neurorep.errors import InvalidInputError

from ._meta import CITATION, POOLINGS


class _LazyCore:
    """The torch-backed numerics (``core``), imported on first use: loading the plugin must not import torch."""

    def __getattr__(self, name):
        from . import core

        return getattr(core, name)


_core = _LazyCore()

__all__ = ["MindBridgeCrossSubject", "stack_subjects"]


def stack_subjects(reps: Sequence[Representation], subjects: Sequence[str] | None = None,
                   name: str = "subjects") -> Representation:
    """Concatenate several subjects' representations of the same stimuli along the features.

    The result carries a ``subject`` channel descriptor naming each feature's subject, which is what
    ``mindbridge.cross-subject`` reads. Stimuli are matched on their ids (intersection, sorted).

    Parameters
    ----------
    reps : sequence of Representation
        One per subject (e.g. the ``<ROI>.sub-NN`` sites of ``synthetic.planted-brain``); voxel counts may differ.
    subjects : sequence of str, optional
        Subject labels; default ``space["subject"]`` of each, else ``sub-NN`` by position.
    name : str
        Name of the result.
    """
    if not reps or not all(isinstance(r, Representation) for r in reps):
        raise InvalidInputError("stack_subjects: expected a non-empty sequence of neurorep.Representation, got "
                                f"{[type(r).__name__ for r in reps] if reps else reps!r}.")
    if subjects is None:
        subjects = [str(r.space.get("subject", f"sub-{i + 1:02d}")) for i, r in enumerate(reps)]
    if len(subjects) != len(reps) or len(set(subjects)) != len(subjects):
        raise InvalidInputError(f"stack_subjects: expected {len(reps)} distinct subject labels, got {list(subjects)}.")
    common = set(reps[0].stimulus_ids)
    for r in reps[1:]:
        common &= set(r.stimulus_ids)
    ids = sorted(common)
    if len(ids) < 4:
        raise InvalidInputError(f"stack_subjects: the subjects share {len(ids)} stimuli; at least 4 are needed.")
    data = np.concatenate([np.asarray(r.select(ids).data, float) for r in reps], axis=1)
    labels = np.concatenate([np.full(r.n_features, s, dtype=object) for r, s in zip(reps, subjects)])
    return Representation(data, ids, space={"kind": "brain", "subjects": list(subjects)},
                          channel_descriptors={"subject": labels}, name=name)


class MindBridgeCrossSubject(Analyzer):
    """MindBridge cross-subject decoding: one model for all subjects, top-1 retrieval of held-out stimuli.

    ``x`` holds several subjects' fMRI of the same stimuli side by side, with a ``subject`` channel descriptor
    naming each feature's subject (build it with :func:`stack_subjects`; without the descriptor ``x`` is one
    subject). Voxel counts may differ between subjects. ``y`` is the image-embedding representation (stimuli x
    dims, e.g. an EfficientNet-Lite0 site through ``source.torch``), standing in for MindBridge's CLIP space.

    Per fold over the stimuli, each subject's voxels are z-scored, aggregated to ``pool_size`` by adaptive
    pooling, passed through that subject's embedder and the shared encoder; a shared head predicts the image
    embedding (MSE + InfoNCE), a shared decoder and per-subject builder reconstruct the aggregated fMRI, and the
    cyclic loss builds each sample as another subject's novel fMRI and re-encodes it (see
    :class:`neurorep_mindbridge.MindBridge`). With ``mode="per-subject"`` a separate model is trained per subject
    instead (the subject-specific baseline; no cycle). Held-out predictions of each subject are compared by
    cosine with the held-out candidates' embeddings.

    Rows: ``top1`` per subject (``extra["subject"]``) and ``top1_mean`` over subjects; chance ``1 / N`` with
    ``N`` candidates per fold (``extra["chance"]``).

    Parameters
    ----------
    mode : {"shared", "per-subject"}, default="shared"
        One MindBridge model for all subjects, or one model per subject.
    pool_size : int, default=64
        Common size of every subject's aggregated fMRI.
    pooling : {"max", "avg"}, default="max"
        Aggregation function. MindBridge uses adaptive max pooling (sparse, spatially smooth fMRI); use
        ``"avg"`` for voxels without spatial order (e.g. random mixtures).
    hidden, latent : int, default=128, 64
        Width of the embedder output / encoder hidden layer, and of the subject-invariant latent.
    dropout : float, default=0.1
    epochs : int, default=100
        Passes over the largest subject's training data.
    lr : float, default=0.003
        Peak learning rate (AdamW, one-cycle).
    weight_decay : float, default=0.01
    batch_size : int, default=32
    temperature : float, default=0.1
        InfoNCE temperature.
    contrastive_weight, recon_weight, cycle_weight : float, default=1.0
        Loss weights (``cycle_weight=0`` turns the cyclic reconstruction off).
    folds : int, default=5
        Folds over the stimuli.
    random_state : int, default=0
    align : {"strict", "reorder", "intersection"}, default="reorder"
    """

    id = "mindbridge.cross-subject"
    version = "1.0.0"
    citation = CITATION
    description = "MindBridge: one cross-subject fMRI decoder (aggregation, cyclic reconstruction); retrieval"
    n_inputs = 2
    tags = Tags(symmetric=False, larger_is_more_similar=None, stochastic=True, input_type="representation")

    def __init__(self, mode: Literal["shared", "per-subject"] = "shared", pool_size: int = 64,
                 pooling: Literal["max", "avg"] = "max", hidden: int = 128, latent: int = 64, dropout: float = 0.1,
                 epochs: int = 100, lr: float = 3e-3, weight_decay: float = 1e-2, batch_size: int = 32,
                 temperature: float = 0.1, contrastive_weight: float = 1.0, recon_weight: float = 1.0,
                 cycle_weight: float = 1.0, folds: int = 5, random_state: int = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.mode = mode
        self.pool_size = pool_size
        self.pooling = pooling
        self.hidden = hidden
        self.latent = latent
        self.dropout = dropout
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.temperature = temperature
        self.contrastive_weight = contrastive_weight
        self.recon_weight = recon_weight
        self.cycle_weight = cycle_weight
        self.folds = folds
        self.random_state = random_state
        self.align = align

    def _fail(self, what: str) -> None:
        raise InvalidInputError(f"Analyzer {self.id!r}: {what}")

    def _check_params(self) -> None:
        for name, low in {"pool_size": 1, "hidden": 1, "latent": 1, "epochs": 1, "batch_size": 2, "folds": 2}.items():
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                self._fail(f"{name} must be an integer >= {low}, got {v!r}.")
        for name in ("lr", "temperature"):
            if not getattr(self, name) > 0:
                self._fail(f"{name} must be > 0, got {getattr(self, name)!r}.")
        for name in ("contrastive_weight", "recon_weight", "cycle_weight", "weight_decay"):
            if not getattr(self, name) >= 0:
                self._fail(f"{name} must be >= 0, got {getattr(self, name)!r}.")
        if not 0.0 <= self.dropout < 1.0:
            self._fail(f"dropout must be in [0, 1), got {self.dropout!r}.")
        if self.pooling not in POOLINGS:
            self._fail(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}.")
        if self.mode not in ("shared", "per-subject"):
            self._fail(f"mode must be 'shared' or 'per-subject', got {self.mode!r}.")

    def config(self) -> _core.TrainConfig:
        """The training configuration these parameters describe."""
        return _core.TrainConfig(pool_size=int(self.pool_size), pooling=self.pooling, hidden=int(self.hidden),
                           latent=int(self.latent), dropout=float(self.dropout), epochs=int(self.epochs),
                           lr=float(self.lr), weight_decay=float(self.weight_decay),
                           batch_size=int(self.batch_size), temperature=float(self.temperature),
                           contrastive_weight=float(self.contrastive_weight), recon_weight=float(self.recon_weight),
                           cycle_weight=float(self.cycle_weight))

    def _prepare(self, x, y):
        """Check the inputs; return X, T (canonical stimulus order), the subject labels and their columns."""
        if y is None:
            self._fail("takes two inputs: x (several subjects' fMRI with a 'subject' channel descriptor; see "
                       "neurorep_mindbridge.stack_subjects) and y (image embeddings); got one.")
        self._check_params()
        for nm, r in (("x (brain)", x), ("y (image embeddings)", y)):
            if not isinstance(r, Representation):
                self._fail(f"expected {nm} to be a Representation (stimuli x features), got {type(r).__name__}.")
            r.check_finite(owner=f"Analyzer {self.id!r}")
        x, y = align(x, y, how=self.align, owner=f"Analyzer {self.id!r}")
        order = np.argsort(np.asarray(x.stimulus_ids, dtype=object).astype(str), kind="stable")
        ids = [x.stimulus_ids[i] for i in order]
        x, y = x.select(ids), y.select(ids)
        X, T = np.asarray(x.data, float), np.asarray(y.data, float)
        labels = np.asarray(x.channel_descriptors.get("subject", np.full(X.shape[1], "sub-01", dtype=object)))
        subjects = list(dict.fromkeys(labels.astype(str).tolist()))
        cols = [np.flatnonzero(labels.astype(str) == s) for s in subjects]
        if len(X) < 4:
            self._fail(f"needs at least 4 stimuli, got {len(X)}.")
        return X, T, subjects, cols

    def analyze(self, x, y=None):
        X, T, subjects, cols = self._prepare(x, y)
        n = len(X)
        rng = np.random.default_rng(self.random_state)
        k = min(int(self.folds), n // 2)
        folds = [np.sort(f) for f in np.array_split(rng.permutation(n), k)]
        seed0 = int(rng.integers(2**31 - 1))
        cfg = self.config()
        correct = np.zeros(len(subjects))
        per_fold: list[list[float]] = [[] for _ in subjects]
        for f, test in enumerate(folds):
            train = np.setdiff1d(np.arange(n), test)
            if self.mode == "shared":
                mb = _core.MindBridge(cfg, seed0 + 104729 * f).fit([X[train][:, c] for c in cols], [T[train]] * len(cols))
                models = [(mb, s) for s in range(len(cols))]
            else:
                models = [(_core.MindBridge(cfg, seed0 + 104729 * f + 31 * s).fit([X[train][:, c]], [T[train]]), 0)
                          for s, c in enumerate(cols)]
            for s, c in enumerate(cols):
                m, idx = models[s]
                acc = _core.top1_accuracy(_core.cosine_matrix(m.predict(X[test][:, c], idx), m.targets(T[test])))
                per_fold[s].append(acc)
                correct[s] += acc * len(test)
        acc = correct / n
        chance = float(k / n)
        common = {"chance": chance, "mode": self.mode, "n_candidates": [int(len(t)) for t in folds],
                  "n_voxels": {s: int(len(c)) for s, c in zip(subjects, cols)}}
        rows = [Result(score=float(a), metric="top1", n=n,
                       extra={**common, "subject": s, "per_fold": [float(v) for v in per_fold[i]]})
                for i, (s, a) in enumerate(zip(subjects, acc))]
        rows.append(Result(score=float(acc.mean()), metric="top1_mean", n=n,
                           extra={**common, "per_subject": {s: float(a) for s, a in zip(subjects, acc)}}))
        return rows

    @classmethod
    def _conformance_instances(cls):
        return [cls(pool_size=8, hidden=16, latent=8, epochs=5, folds=2)]

