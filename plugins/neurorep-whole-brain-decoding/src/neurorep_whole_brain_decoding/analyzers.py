"""``decoding.contrastive`` and ``decoding.network-ablation``: whole-brain image-fMRI contrastive decoding.

The method of 'Decoding visual experience and mapping semantics through whole-brain analysis
using fMRI foundation models' (paper #41): brain activation maps and image embeddings are aligned with
image-fMRI contrastive learning and decoded by retrieving the seen image among candidates; a
network-ablation analysis then ranks brain networks by how much retrieval drops without them.
Here the encoder is small (linear or a one-hidden-layer MLP trained from scratch on the given
stimuli, CPU torch, seeded); the paper's pretrained fMRI foundation model and image generator are
not part of this plugin.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from neurorep import Analyzer, Tags, align
from neurorep.errors import InvalidInputError
from neurorep.types import Representation, Result

from .core import METRICS, cross_validated_sims, fold_labels, retrieval

CITATION = ("Decoding visual experience and mapping semantics through whole-brain analysis using fMRI "
            "foundation models (preprint; paper #41 of the neurorep paper triage, authors not recorded there). "
            "Contrastive objective: "
            "Radford, A., et al. (2021). Learning transferable visual models from natural language "
            "supervision. ICML (CLIP).")


class _ContrastiveBase(Analyzer):
    n_inputs = 2

    def _check_params(self) -> None:
        own = f"Analyzer {self.id!r}"
        if self.metric not in METRICS:
            raise InvalidInputError(f"{own}: metric must be one of {list(METRICS)}, got {self.metric!r}.")
        for name, lo in (("n_folds", 2), ("embedding_dim", 1), ("epochs", 1)):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise InvalidInputError(f"{own}: {name} must be an integer >= {lo}, got {v!r}.")
        if not isinstance(self.hidden, (int, np.integer)) or self.hidden < 0:
            raise InvalidInputError(f"{own}: hidden must be an integer >= 0 (0: linear encoder), got {self.hidden!r}.")
        if not (self.temperature > 0 and self.lr > 0 and self.weight_decay >= 0):
            raise InvalidInputError(f"{own}: temperature and lr must be > 0 and weight_decay >= 0, got "
                                    f"temperature={self.temperature!r}, lr={self.lr!r}, "
                                    f"weight_decay={self.weight_decay!r}.")
        if not isinstance(self.n_permutations, (int, np.integer)) or self.n_permutations < 0:
            raise InvalidInputError(f"{own}: n_permutations must be an integer >= 0, got {self.n_permutations!r}.")

    def _inputs(self, x, y) -> tuple[Representation, np.ndarray, np.ndarray, np.ndarray]:
        own = f"Analyzer {self.id!r}"
        if y is None:
            raise InvalidInputError(f"{own}: takes two inputs, brain patterns x and image embeddings y "
                                    "(e.g. a model layer of the same stimuli); got one.")
        for nm, r in (("x", x), ("y", y)):
            if not isinstance(r, Representation):
                raise InvalidInputError(f"{own}: expected {nm} to be a Representation (stimuli x features), got "
                                        f"{type(r).__name__}.")
            r.check_finite(owner=own)
        self._check_params()
        x, y = align(x, y, how="reorder", owner=own)
        n = x.n_stimuli
        if n < 2 * self.n_folds:
            raise InvalidInputError(f"{own}: expected at least 2 stimuli per fold ({2 * self.n_folds} for "
                                    f"n_folds={self.n_folds}), got {n}; lower n_folds or add stimuli.")
        # canonical row order (sorted ids): the folds and the training do not depend on the input order
        order = np.argsort(np.asarray(x.stimulus_ids, dtype=object).astype(str), kind="stable")
        X = np.asarray(x.data, dtype=np.float64)[order]
        Y = np.asarray(y.data, dtype=np.float64)[order]
        return x, X, Y, order

    def _fit_kw(self) -> dict:
        return dict(embedding_dim=int(self.embedding_dim), hidden=int(self.hidden), temperature=float(self.temperature),
                    epochs=int(self.epochs), lr=float(self.lr), weight_decay=float(self.weight_decay),
                    seed=int(self.random_state))


class ContrastiveDecoder(_ContrastiveBase):
    """Held-out image retrieval from brain patterns with an image-fMRI contrastively trained encoder.

    ``x``: brain patterns (stimuli x voxels, e.g. whole-brain activation maps); ``y``: image
    embeddings of the same stimuli (e.g. a model layer). In ``n_folds`` cross-validation folds a
    brain encoder and an image projection are trained with the symmetric InfoNCE loss on the
    training stimuli; each held-out brain pattern then retrieves among the held-out images.

    Parameters
    ----------
    metric : {"top1", "top5", "pairwise"}, default="top1"
        Score: the true image ranks first / among the first 5 / the share of distractors it beats.
    n_folds : int, default=5
        Cross-validation folds over stimuli (seeded by ``random_state``).
    embedding_dim : int, default=32
        Dimension of the shared space.
    hidden : int, default=0
        Hidden units of the brain encoder's MLP (0: linear encoder).
    temperature : float, default=0.1
        InfoNCE temperature.
    epochs : int, default=100
        Full-batch AdamW steps.
    lr : float, default=1e-2
    weight_decay : float, default=1e-2
    n_permutations : int, default=1000
        Random image pairings inside each held-out fold for the p-value (0: none).
    random_state : int, default=0
        Seeds the folds, the initial weights and the permutations.

    References
    ----------
    Decoding visual experience and mapping semantics through whole-brain analysis using fMRI
    foundation models (preprint); Radford et al. (2021), CLIP.
    """

    id = "decoding.contrastive"
    version = "0.1.0"
    citation = CITATION
    tags = Tags(larger_is_more_similar=None, stochastic=True)

    def __init__(self, metric: Literal["top1", "top5", "pairwise"] = "top1", n_folds: int = 5,
                 embedding_dim: int = 32, hidden: int = 0, temperature: float = 0.1, epochs: int = 100,
                 lr: float = 1e-2, weight_decay: float = 1e-2, n_permutations: int = 1000, random_state: int = 0):
        self.metric = metric
        self.n_folds = n_folds
        self.embedding_dim = embedding_dim
        self.hidden = hidden
        self.temperature = temperature
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_permutations = n_permutations
        self.random_state = random_state

    def analyze(self, x, y=None):
        _, X, Y, _ = self._inputs(x, y)
        folds = fold_labels(X.shape[0], int(self.n_folds), int(self.random_state))
        sims = cross_validated_sims(X, Y, folds, {}, "zero", **self._fit_kw())
        r = retrieval(sims, "", self.metric, int(self.n_permutations), int(self.random_state))
        extra = {"chance": r["chance"], "n_folds": int(self.n_folds)}
        for m in METRICS:
            if m != self.metric:
                extra[m] = retrieval(sims, "", m, 0, 0)["score"]
        return [Result(score=r["score"], metric=f"retrieval_{self.metric}", p_value=r["p_value"], n=r["n"],
                       extra=extra)]

    @classmethod
    def _conformance_instances(cls):
        return [cls(n_folds=2, epochs=30, embedding_dim=4, n_permutations=50),
                cls(metric="pairwise", n_folds=2, epochs=30, embedding_dim=4, hidden=8, n_permutations=0)]


class NetworkAblation(_ContrastiveBase):
    """Rank brain networks by the drop in contrastive retrieval when their voxels are ablated.

    ``x``: brain patterns whose features carry a network label, either the channel descriptor
    ``descriptor`` (e.g. ``"network"``, as ``synthetic.network-brain`` gives) or the explicit
    ``groups`` ({network: [feature indices]}); ``y``: image embeddings. The baseline is the
    cross-validated retrieval score of :class:`ContrastiveDecoder` with every feature; each network
    is then ablated (``mode="zero"``: its standardised features set to 0, the training mean, in the
    held-out patterns fed to the encoder trained on the whole brain, as in the paper's ablation;
    ``mode="retrain"``: the encoder is retrained without them).

    Returns one row for the whole brain (``metric="retrieval_<metric>"``, score the baseline) and one
    per network (``metric="ablation_drop_<metric>"``, score = baseline - ablated score, larger = the
    network contributes more), each with ``extra`` ``network``, ``ablated_score``, ``rank`` (1 = the
    largest drop), ``n_features`` and a permutation p-value of the ablated score against chance.

    Parameters
    ----------
    descriptor : str, default="network"
        Channel descriptor of ``x`` holding each feature's network label.
    groups : dict of str to list of int, optional
        Explicit networks (feature indices of ``x``); overrides ``descriptor``.
    exclude : list of str, default=["none", "unassigned"]
        Labels not ablated as a network (voxels outside every network).
    mode : {"zero", "retrain"}, default="zero"
    metric, n_folds, embedding_dim, hidden, temperature, epochs, lr, weight_decay, n_permutations, random_state
        As in :class:`ContrastiveDecoder`.

    References
    ----------
    Decoding visual experience and mapping semantics through whole-brain analysis using fMRI
    foundation models (preprint): the network ablation analysis.
    """

    id = "decoding.network-ablation"
    version = "0.1.0"
    citation = CITATION
    tags = Tags(larger_is_more_similar=None, stochastic=True)

    def __init__(self, descriptor: str = "network", groups: dict[str, list[int]] | None = None,
                 exclude: list[str] | None = None, mode: Literal["zero", "retrain"] = "zero",
                 metric: Literal["top1", "top5", "pairwise"] = "top1", n_folds: int = 5, embedding_dim: int = 32,
                 hidden: int = 0, temperature: float = 0.1, epochs: int = 100, lr: float = 1e-2,
                 weight_decay: float = 1e-2, n_permutations: int = 1000, random_state: int = 0):
        self.descriptor = descriptor
        self.groups = groups
        self.exclude = exclude
        self.mode = mode
        self.metric = metric
        self.n_folds = n_folds
        self.embedding_dim = embedding_dim
        self.hidden = hidden
        self.temperature = temperature
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_permutations = n_permutations
        self.random_state = random_state

    def _masks(self, x: Representation) -> dict[str, np.ndarray]:
        own = f"Analyzer {self.id!r}"
        p = x.n_features
        if self.mode not in ("zero", "retrain"):
            raise InvalidInputError(f"{own}: mode must be 'zero' or 'retrain', got {self.mode!r}.")
        if self.groups is not None:
            if not isinstance(self.groups, dict) or not self.groups:
                raise InvalidInputError(f"{own}: groups must be a non-empty dict {{network: [feature indices]}}, "
                                        f"got {self.groups!r}.")
            masks = {}
            for name, idx in self.groups.items():
                idx = np.asarray(idx, dtype=int)
                if idx.size == 0 or idx.min() < 0 or idx.max() >= p:
                    raise InvalidInputError(f"{own}: groups[{name!r}] must hold feature indices in [0, {p}), got "
                                            f"{idx.tolist()}.")
                m = np.zeros(p, bool)
                m[idx] = True
                masks[str(name)] = m
            return masks
        if self.descriptor not in x.channel_descriptors:
            raise InvalidInputError(
                f"{own}: x ({x.name!r}) has no channel descriptor {self.descriptor!r} with each feature's network; "
                f"it has {sorted(x.channel_descriptors)}. Use a source that labels voxels (e.g. "
                "synthetic.network-brain), set descriptor=, or pass groups={network: [feature indices]}.")
        labels = np.asarray(x.channel_descriptors[self.descriptor]).astype(str)
        skip = {"none", "unassigned"} if self.exclude is None else set(self.exclude)
        masks = {lab: labels == lab for lab in sorted(set(labels.tolist())) if lab not in skip}
        if not masks:
            raise InvalidInputError(f"{own}: descriptor {self.descriptor!r} of x names no network outside "
                                    f"exclude={sorted(skip)}.")
        return masks

    def analyze(self, x, y=None):
        xa, X, Y, order = self._inputs(x, y)
        masks = self._masks(xa)
        folds = fold_labels(X.shape[0], int(self.n_folds), int(self.random_state))
        sims = cross_validated_sims(X, Y, folds, masks, self.mode, **self._fit_kw())
        base = retrieval(sims, "", self.metric, int(self.n_permutations), int(self.random_state))
        rows = []
        for name, m in masks.items():
            r = retrieval(sims, name, self.metric, int(self.n_permutations), int(self.random_state))
            rows.append((name, base["score"] - r["score"], r, int(m.sum())))
        ranked = sorted(rows, key=lambda t: (-t[1], t[0]))
        rank = {name: i + 1 for i, (name, *_) in enumerate(ranked)}
        out = [Result(score=base["score"], metric=f"retrieval_{self.metric}", p_value=base["p_value"], n=base["n"],
                      extra={"network": "all", "chance": base["chance"], "mode": self.mode,
                             "ranking": [t[0] for t in ranked]})]
        for name, drop, r, nf in rows:
            out.append(Result(score=float(drop), metric=f"ablation_drop_{self.metric}", p_value=r["p_value"],
                              n=r["n"], extra={"network": name, "ablated_score": r["score"],
                                               "baseline": base["score"], "chance": r["chance"],
                                               "rank": rank[name], "n_features": nf, "mode": self.mode}))
        return out

    @classmethod
    def _conformance_instances(cls):
        return [cls(groups={"a": [0, 1, 2], "b": [3, 4, 5], "c": [6, 7]}, n_folds=2, epochs=30, embedding_dim=4,
                    n_permutations=20),
                cls(groups={"a": [0, 1, 2, 3], "b": [4, 5, 6, 7]}, mode="retrain", n_folds=2, epochs=20,
                    embedding_dim=4, n_permutations=0)]
