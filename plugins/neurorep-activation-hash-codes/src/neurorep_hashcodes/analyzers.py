"""The ``hashcode.determinism`` and ``hashcode.categorisation`` analyzers (He, Lei, Ji & Tao, 2021)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal

import numpy as np
from neurorep import Analyzer, Representation, Result, Tags, align
from neurorep.errors import InvalidInputError

from .core import (
    CITATION,
    MULTICLASS,
    binary_codes,
    categorisation_scores,
    determinism_stats,
    hamming_distances,
    split_indices,
)
from .transform import check_representation

__all__ = ["CodeDeterminism", "CodeCategorisation"]


def _sorted(x: Representation) -> Representation:
    """Rows in sorted stimulus-id order (results must not depend on the row order)."""
    order = sorted(x.stimulus_ids)
    return x if list(order) == list(x.stimulus_ids) else x.select(order)


class CodeDeterminism(Analyzer):
    """Determinism of the neural codes: how the examples occupy the linear regions (He et al., 2021).

    Each stimulus's code is its activation pattern ``x > threshold`` over all units of ``x``
    (ReLU pre-activations, post-ReLU activations or 0/1 codes); stimuli with equal codes lie in
    the same linear region. The headline score is the share of the occupied linear regions
    that hold exactly one example (one minus the share of regions with collisions): 1 when
    every example has its own code. Further rows give the unique-code fraction, the
    redundancy ratio ``(n - n_unique) / n`` reported by the paper's code, and the share of
    examples alone in their region; ``extra`` holds the counts (distinct codes, largest region,
    colliding pairs, units, constant units).

    Parameters
    ----------
    threshold : float, default=0.0
        A unit is "on" when its value is above it (0 for ReLU-like units).
    train_pattern : str or None, default=None
        fnmatch glob over stimulus ids selecting the examples to count (e.g. ``"train-*"``,
        the training set); all stimuli when None.
    """

    id = "hashcode.determinism"
    version = "1.0.0"
    citation = CITATION
    description = "Share of occupied linear regions (distinct activation codes) holding exactly one example"
    n_inputs = 1
    tags = Tags(larger_is_more_similar=None, invariances=("feature_permutation",))

    def __init__(self, threshold: float = 0.0, train_pattern: str | None = None):
        self.threshold = threshold
        self.train_pattern = train_pattern

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        """Return the determinism rows of ``x``'s codes.

        Parameters
        ----------
        x : Representation
            Unit values (n_stimuli, n_units).
        y : None
            Not used (one input).

        Returns
        -------
        list of Result
            ``singleton_region_share`` (headline), ``unique_code_fraction``, ``redundancy_ratio``,
            ``alone_fraction``; ``n`` = examples counted.
        """
        owner = f"Analyzer {self.id!r}"
        if y is not None:
            raise InvalidInputError(f"{owner} takes one input (unit values of the stimuli); got two.")
        x = check_representation(x, owner, "x")
        ids = list(x.stimulus_ids)
        rows = np.arange(len(ids))
        if self.train_pattern is not None:
            rows = np.array([i for i, s in enumerate(ids) if fnmatchcase(s, self.train_pattern)], dtype=int)
            if rows.size == 0:
                raise InvalidInputError(f"{owner}: train_pattern {self.train_pattern!r} matches none of the "
                                        f"{len(ids)} stimulus ids (e.g. {ids[:3]}).")
        codes = binary_codes(x.data[rows], self.threshold, owner=owner)
        st = determinism_stats(codes)
        n = st["n_examples"]
        extra = {k: v for k, v in st.items() if k not in ("singleton_region_share", "unique_code_fraction",
                                                          "redundancy_ratio", "alone_fraction")}
        extra["threshold"] = float(self.threshold)
        return [Result(score=float(st["singleton_region_share"]), metric="singleton_region_share", n=n, extra=extra),
                Result(score=float(st["unique_code_fraction"]), metric="unique_code_fraction", n=n),
                Result(score=float(st["redundancy_ratio"]), metric="redundancy_ratio", n=n),
                Result(score=float(st["alone_fraction"]), metric="alone_fraction", n=n)]

    @classmethod
    def _conformance_instances(cls):
        return [cls(), cls(threshold=0.5, train_pattern="stim-0*")]


_CATEGORISATION_METRICS = ("knn_accuracy", "knn_train_accuracy", "logistic_accuracy", "logistic_train_accuracy",
                           "kmeans_purity", "kmeans_ari", "kmeans_purity_test", "kmeans_ari_test")


class CodeCategorisation(Analyzer):
    """Categorisation from the neural codes: K-NN, logistic regression and K-means (He et al., 2021).

    ``x`` holds unit values of the stimuli (codes are ``x > threshold``); ``y`` holds their
    class labels (one column, or the column ``label_column``; ``discretize`` bins a continuous
    one). The stimuli are split into training and test sets (the ids matching
    ``test_pattern``, or ``n_splits`` stratified random splits). K-NN with the Hamming
    distance (uniform vote) and logistic regression are fitted on the training codes and scored
    on the test codes; K-means (``n_clusters``, default the number of classes) clusters the
    training codes and, separately, the test codes, scored by cluster purity (the reference
    code's clustering accuracy: each cluster takes its majority label) and the adjusted Rand
    index. Scores are averaged over the splits. Headline: K-NN test accuracy (chance in
    ``extra``).

    Parameters
    ----------
    threshold : float, default=0.0
        A unit is "on" when its value is above it.
    label_column : int, default=0
        Column of ``y`` holding the labels.
    discretize : int, default=0
        0: ``y`` holds class labels; ``k >= 2``: cut the column into ``k`` equal-count bins (by rank).
    test_pattern : str or None, default=None
        fnmatch glob over stimulus ids marking the test stimuli (e.g. ``"test-*"``); random splits when None.
    test_size : float, default=0.25
        Test fraction of each random split.
    n_splits : int, default=1
        Random stratified splits averaged over (ignored with ``test_pattern``).
    n_neighbors : int, default=9
        K of the K-NN (9 in the reference code; capped at the training-set size).
    n_clusters : int, default=0
        Clusters of the K-means; 0 = the number of classes.
    C : float, default=1.0
        Inverse L2 penalty of the logistic regression.
    multiclass : {"ovo", "multinomial"}, default="ovo"
        One-vs-one logistic regressions (as the reference code) or one multinomial model.
    kmeans : bool, default=True
        Run the K-means read-out.
    logistic : bool, default=True
        Run the logistic-regression read-out.
    random_state : int or None, default=0
        Seed of the splits, the K-means and the logistic regression.
    align : {"strict", "reorder", "intersection"}, default="reorder"
        How to match the stimulus ids of ``x`` and ``y`` (see :func:`neurorep.align`).
    """

    id = "hashcode.categorisation"
    version = "1.0.0"
    citation = CITATION
    description = "K-NN (Hamming), logistic-regression and K-means accuracy on the stimuli's activation codes"
    n_inputs = 2
    tags = Tags(larger_is_more_similar=None, stochastic=True)

    def __init__(self, threshold: float = 0.0, label_column: int = 0, discretize: int = 0,
                 test_pattern: str | None = None, test_size: float = 0.25, n_splits: int = 1, n_neighbors: int = 9,
                 n_clusters: int = 0, C: float = 1.0, multiclass: Literal["ovo", "multinomial"] = "ovo",
                 kmeans: bool = True, logistic: bool = True, random_state: int | None = 0,
                 align: Literal["strict", "reorder", "intersection"] = "reorder"):
        self.threshold = threshold
        self.label_column = label_column
        self.discretize = discretize
        self.test_pattern = test_pattern
        self.test_size = test_size
        self.n_splits = n_splits
        self.n_neighbors = n_neighbors
        self.n_clusters = n_clusters
        self.C = C
        self.multiclass = multiclass
        self.kmeans = kmeans
        self.logistic = logistic
        self.random_state = random_state
        self.align = align

    def labels_of(self, y: Representation, owner: str) -> np.ndarray:
        """The class labels in ``y`` (its ``label_column``, binned when ``discretize`` >= 2)."""
        j = self.label_column
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < y.n_features:
            raise InvalidInputError(f"{owner}: label_column must be an int in [0, {y.n_features - 1}] (y has "
                                    f"{y.n_features} column(s)), got {j!r}.")
        k = self.discretize
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k == 1 or k < 0:
            raise InvalidInputError(f"{owner}: discretize must be 0 (y holds labels) or an int >= 2 (quantile bins), "
                                    f"got {k!r}.")
        c = y.data[:, j]
        if k:
            ranks = np.argsort(np.argsort(c, kind="stable"), kind="stable")
            c = (ranks * int(k)) // c.size
        u = np.unique(c)
        if u.size < 2:
            raise InvalidInputError(f"{owner}: the labels in y have a single class ({u[0]!r}); categorisation needs "
                                    "at least 2.")
        if u.size > max(2, y.n_stimuli // 2):
            raise InvalidInputError(f"{owner}: expected class labels in y (a few distinct values), got {u.size} "
                                    f"distinct values for {y.n_stimuli} stimuli. Give y a label column, or set "
                                    "discretize=k to bin a continuous one.")
        return c

    def analyze(self, x: Representation, y: Representation | None = None) -> list[Result]:
        """Return the categorisation rows (K-NN test accuracy first).

        Parameters
        ----------
        x : Representation
            Unit values of the stimuli (n_stimuli, n_units).
        y : Representation
            Class labels of the same stimuli.

        Returns
        -------
        list of Result
            One row per read-out (``knn_accuracy``, ``knn_train_accuracy``, ``logistic_accuracy``,
            ``logistic_train_accuracy``, ``kmeans_purity``, ``kmeans_ari``, ``kmeans_purity_test``,
            ``kmeans_ari_test``), each averaged over the splits; ``n`` = test stimuli per split.
        """
        owner = f"Analyzer {self.id!r}"
        if y is None:
            raise InvalidInputError(f"{owner}: expected two inputs, x (unit values) and y (class labels); got one.")
        if self.multiclass not in MULTICLASS:
            raise InvalidInputError(f"{owner}: 'multiclass' must be one of {list(MULTICLASS)}, "
                                    f"{self.multiclass!r} was provided.")
        if not float(self.C) > 0:
            raise InvalidInputError(f"{owner}: C must be > 0, got {self.C!r}.")
        if isinstance(self.n_neighbors, bool) or not isinstance(self.n_neighbors, (int, np.integer)) \
                or self.n_neighbors < 1:
            raise InvalidInputError(f"{owner}: n_neighbors must be an int >= 1, got {self.n_neighbors!r}.")
        x = check_representation(x, owner, "x")
        y = check_representation(y, owner, "y")
        x, y = align(x, y, how=self.align, owner=owner)
        x = _sorted(x)
        y = y.select(x.stimulus_ids)
        labels = self.labels_of(y, owner)
        codes = binary_codes(x.data, self.threshold, owner=owner)
        splits = split_indices(x.stimulus_ids, labels, test_pattern=self.test_pattern, test_size=self.test_size,
                               n_splits=self.n_splits, random_state=self.random_state, owner=owner)
        per: dict[str, list[float]] = {}
        dist = hamming_distances(codes, codes)      # once for all splits
        for tr, te in splits:
            rows = np.concatenate([tr, te])
            s = categorisation_scores(codes[tr], labels[tr], codes[te], labels[te], n_neighbors=self.n_neighbors,
                                      n_clusters=self.n_clusters, C=self.C, multiclass=self.multiclass,
                                      kmeans=bool(self.kmeans), logistic=bool(self.logistic),
                                      random_state=self.random_state, hamming=dist[np.ix_(rows, tr)])
            for k, v in s.items():
                per.setdefault(k, []).append(v)
        classes, counts = np.unique(labels, return_counts=True)
        n_test = int(len(splits[0][1]))
        extra = {"chance": 1.0 / classes.size, "majority_rate": float(counts.max() / counts.sum()),
                 "n_classes": int(classes.size), "n_train": int(len(splits[0][0])), "n_test": n_test,
                 "n_splits": len(splits), "n_units": int(codes.shape[1]),
                 "n_neighbors": int(min(self.n_neighbors, len(splits[0][0])))}
        out = []
        for m in _CATEGORISATION_METRICS:
            if m not in per:
                continue
            vals = per[m]
            row_extra = dict(extra) if not out else {"chance": extra["chance"]}
            if len(vals) > 1:
                row_extra["per_split"] = [float(v) for v in vals]
            out.append(Result(score=float(np.mean(vals)), metric=m, n=n_test, extra=row_extra))
        return out

    @classmethod
    def _conformance_instances(cls):
        return [cls(discretize=2, n_neighbors=3),
                cls(discretize=2, label_column=2, test_pattern="stim-1*", multiclass="multinomial", kmeans=False),
                cls(discretize=3, n_splits=3, test_size=0.3, logistic=False, n_clusters=4, random_state=5)]
