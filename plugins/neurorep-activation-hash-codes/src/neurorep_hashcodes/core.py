"""Array-level functions of activation hash codes (He, Lei, Ji & Tao, 2021).

A ReLU network is piecewise linear: every input lies in one *linear region* of the input
space, identified by which ReLU units are active (pre-activation > 0) for it. That binary
pattern over all ReLU units is the input's *neural code* (its activation hash code). The
paper finds that for well-trained classifiers

* **determinism**: almost every linear region holds at most one training example, so the
  code identifies the example (measured by the redundancy ratio, ``(n - n_unique) / n``);
* **categorisation**: simple algorithms on the codes (K-means, K-NN with the Hamming
  distance, logistic regression) reach good accuracy on training and test data.

Everything here is numpy/scikit-learn; torch is needed only to read codes from a module
(:mod:`neurorep_hashcodes.torch_codes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

import numpy as np
from neurorep.errors import InvalidInputError

__all__ = [
    "CITATION",
    "MULTICLASS",
    "binary_codes",
    "constant_units",
    "code_regions",
    "determinism_stats",
    "cluster_purity",
    "hamming_distances",
    "euclidean_embedding",
    "span_coordinates",
    "knn_hamming_predict",
    "logistic_predict",
    "kmeans_scores",
    "categorisation_scores",
    "split_indices",
]

CITATION = ("He F, Lei S, Ji J, Tao D (2021). Neural networks behave as hash encoders: An empirical study. "
            "arXiv:2101.05490")

#: Multi-class schemes of the logistic-regression read-out.
MULTICLASS = ("ovo", "multinomial")


def binary_codes(a: np.ndarray, threshold: float = 0.0, *, owner: str = "binary_codes") -> np.ndarray:
    """``(a > threshold)`` as a uint8 array of 0/1 (the activation pattern).

    Parameters
    ----------
    a : ndarray of shape (n_examples, n_units)
        Pre-activations of ReLU units, post-ReLU activations (the same pattern at threshold 0:
        ``relu(z) > 0`` exactly when ``z > 0``), or codes already (0/1 stay as they are).
    threshold : float, default=0.0
    owner : str
        Named in error messages.
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise InvalidInputError(f"{owner}: expected a stimuli-first 2D array (n_examples, n_units), got shape "
                                f"{a.shape}. Flatten the unit axes first.")
    if a.dtype.kind not in "fiub":
        raise InvalidInputError(f"{owner}: expected numeric activations, got dtype {a.dtype}.")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise InvalidInputError(f"{owner}: expected finite activations, got {int(np.sum(~np.isfinite(a)))} NaN/inf "
                                "value(s). Remove the stimuli or units with NaNs first.")
    t = float(threshold)
    if not np.isfinite(t):
        raise InvalidInputError(f"{owner}: threshold must be a finite number, got {threshold!r}.")
    return (a > t).astype(np.uint8)


def constant_units(codes: np.ndarray) -> np.ndarray:
    """Boolean mask of the units whose bit is the same for every example (always on or always off).

    They carry no information about which region an example is in; the reference code drops them.
    """
    c = np.asarray(codes)
    if c.shape[0] == 0:
        return np.ones(c.shape[1], dtype=bool)
    return np.all(c == c[:1], axis=0)


def code_regions(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group examples by identical codes.

    Parameters
    ----------
    codes : ndarray of shape (n_examples, n_units), 0/1

    Returns
    -------
    region : ndarray of shape (n_examples,), int
        Index of each example's region (regions numbered in the order of the sorted packed codes).
    counts : ndarray of shape (n_regions,), int
        Examples per occupied region.
    """
    c = np.ascontiguousarray(np.asarray(codes, dtype=np.uint8))
    if c.shape[0] == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    # 8 bits per byte: equal packed rows <=> equal codes; np.unique on rows of bytes
    packed = np.packbits(c, axis=1) if c.shape[1] else np.zeros((c.shape[0], 1), dtype=np.uint8)
    _, region, counts = np.unique(packed, axis=0, return_inverse=True, return_counts=True)
    return region.ravel().astype(int), counts.astype(int)


def determinism_stats(codes: np.ndarray) -> dict[str, Any]:
    """Occupancy of the linear regions by the examples.

    Parameters
    ----------
    codes : ndarray of shape (n_examples, n_units), 0/1

    Returns
    -------
    dict
        ``n_examples``, ``n_units``, ``n_constant_units``, ``n_regions`` (distinct codes =
        occupied linear regions), ``n_singleton_regions``, ``singleton_region_share`` (share of
        the occupied regions that hold exactly one example: the paper's determinism),
        ``unique_code_fraction`` (``n_regions / n``), ``redundancy_ratio`` (``(n - n_regions) / n``,
        the figure of the reference code), ``alone_fraction`` (share of examples alone in their
        region), ``largest_region``, ``n_colliding_regions`` (regions with >= 2 examples) and
        ``colliding_pairs`` (pairs of examples sharing a code).
    """
    c = np.asarray(codes)
    n = int(c.shape[0])
    _, counts = code_regions(c)
    n_regions = int(counts.size)
    singles = int(np.sum(counts == 1))
    return {
        "n_examples": n,
        "n_units": int(c.shape[1]),
        "n_constant_units": int(constant_units(c).sum()) if n else 0,
        "n_regions": n_regions,
        "n_singleton_regions": singles,
        "singleton_region_share": singles / n_regions if n_regions else float("nan"),
        "unique_code_fraction": n_regions / n if n else float("nan"),
        "redundancy_ratio": (n - n_regions) / n if n else float("nan"),
        "alone_fraction": singles / n if n else float("nan"),
        "largest_region": int(counts.max()) if n_regions else 0,
        "n_colliding_regions": int(np.sum(counts > 1)),
        "colliding_pairs": int(np.sum(counts * (counts - 1) // 2)),
    }


def cluster_purity(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Share of examples whose label is the most frequent label of their cluster.

    This is the clustering accuracy of the reference code: every cluster is mapped to the label
    that it mislabels least (several clusters may map to the same label).
    """
    clusters = np.asarray(clusters).ravel()
    labels = np.asarray(labels).ravel()
    if clusters.size == 0:
        return float("nan")
    _, lab = np.unique(labels, return_inverse=True)
    _, cl = np.unique(clusters, return_inverse=True)
    table = np.zeros((cl.max() + 1, lab.max() + 1), dtype=int)
    np.add.at(table, (cl, lab), 1)
    return float(table.max(1).sum() / clusters.size)


def _packed_words(codes: np.ndarray) -> np.ndarray:
    """0/1 rows packed into uint64 words (zero padding, which adds nothing to any count)."""
    c = np.ascontiguousarray(np.asarray(codes, dtype=np.uint8) != 0)
    b = np.packbits(c, axis=1)
    pad = (-b.shape[1]) % 8
    if pad or b.shape[1] == 0:
        b = np.pad(b, ((0, 0), (0, pad if b.shape[1] else 8)))
    return np.ascontiguousarray(b).view(np.uint64)


def _pair_counts(a: np.ndarray, b: np.ndarray, op: str) -> np.ndarray:
    """``count(a_i OP b_j)`` over the units for every pair of rows (exact int64), by popcount of packed words."""
    pa, pb = _packed_words(a), _packed_words(b)
    f = np.bitwise_xor if op == "xor" else np.bitwise_and
    out = np.empty((pa.shape[0], pb.shape[0]), dtype=np.int64)
    step = max(1, int(2 ** 23 // max(1, pb.shape[0] * pb.shape[1])))   # ~64 MB of words per chunk
    for s in range(0, pa.shape[0], step):
        out[s:s + step] = np.bitwise_count(f(pa[s:s + step, None, :], pb[None, :, :])).sum(-1, dtype=np.int64)
    return out


def hamming_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Normalised Hamming distances between the 0/1 rows of ``a`` and ``b``: shape (len(a), len(b)).

    ``d(u, v) = mean(u != v)``, the same as scipy's and scikit-learn's ``"hamming"`` metric,
    from exact integer counts (popcount of the XOR of bit-packed rows).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise InvalidInputError(f"hamming_distances: expected two 2D code arrays over the same units, got shapes "
                                f"{a.shape} and {b.shape}.")
    p = a.shape[1]
    if p == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    return _pair_counts(a, b, "xor") / p


def euclidean_embedding(codes: np.ndarray) -> np.ndarray:
    """Coordinates of the 0/1 rows in at most ``n - 1`` dimensions with the same pairwise Euclidean distances.

    Classical scaling of the exact Gram matrix ``count(a_i AND a_j)`` (popcount), centred: the
    rows' configuration up to a rotation and translation, so K-means (which depends on the
    points only through their distances) gives the same clustering at a fraction of the cost
    when the codes have many more units than rows.
    """
    G = _pair_counts(codes, codes, "and").astype(np.float64)
    n = G.shape[0]
    J = np.eye(n) - 1.0 / n
    w, V = np.linalg.eigh(J @ G @ J)
    keep = w > max(1e-9 * max(float(w.max()), 1.0), 0.0)
    return V[:, keep] * np.sqrt(w[keep])


def span_coordinates(train_codes: np.ndarray, test_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of training and test rows in an orthonormal basis of the centred training rows' span.

    An L2-penalised linear model with an intercept has its weight vector in that span, so
    fitting it to these coordinates (at most ``n_train - 1`` of them) solves exactly the same
    problem as fitting it to the raw codes; the coordinates come from exact popcount Gram
    matrices (kernel-PCA algebra with the linear kernel).
    """
    G = _pair_counts(train_codes, train_codes, "and").astype(np.float64)
    K = _pair_counts(test_codes, train_codes, "and").astype(np.float64)
    n = G.shape[0]
    J = np.eye(n) - 1.0 / n
    w, V = np.linalg.eigh(J @ G @ J)
    keep = w > 1e-9 * max(float(w.max()), 1.0)
    V, w = V[:, keep], w[keep]
    Kc = K - K.mean(1, keepdims=True) - G.mean(0)[None, :] + G.mean()
    return V * np.sqrt(w), (Kc @ V) / np.sqrt(w)


def knn_hamming_predict(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray,
                        n_neighbors: int = 9, *, distances: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """K-NN (uniform vote, scikit-learn's ``KNeighborsClassifier``) on the Hamming distance between codes.

    ``distances`` = (train x train, test x train) Hamming distances, when already computed.
    """
    from sklearn.neighbors import KNeighborsClassifier

    k = max(1, min(int(n_neighbors), len(train_labels)))
    if distances is None:
        distances = (hamming_distances(train_codes, train_codes), hamming_distances(test_codes, train_codes))
    d_train, d_test = distances
    clf = KNeighborsClassifier(n_neighbors=k, metric="precomputed", algorithm="brute").fit(d_train, train_labels)
    return clf.predict(d_test)


def logistic_predict(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray, C: float = 1.0,
                     multiclass: str = "ovo", max_iter: int = 1000, random_state: int | None = 0) -> np.ndarray:
    """Logistic regression on the codes (one-vs-one, as the reference code, or multinomial).

    Codes with more than twice as many units as training rows are fitted in their exact
    :func:`span_coordinates` (same optimum, far fewer dimensions).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsOneClassifier
    from threadpoolctl import threadpool_limits

    y = np.asarray(train_labels)
    if np.unique(y).size < 2:
        return np.full(len(test_codes), y[0])
    base = LogisticRegression(C=float(C), max_iter=int(max_iter), random_state=random_state)
    clf = OneVsOneClassifier(base) if multiclass == "ovo" and np.unique(y).size > 2 else base
    tr, te = np.asarray(train_codes), np.asarray(test_codes)
    if tr.shape[1] > 2 * tr.shape[0]:
        # many more units than examples: the same problem in the training rows' span (exact)
        Xtr, Xte = span_coordinates(tr, te)
    else:
        Xtr, Xte = tr.astype(np.float64), te.astype(np.float64)
    with threadpool_limits(1, user_api="blas"):
        clf.fit(Xtr, y)
        return clf.predict(Xte)


def kmeans_scores(codes: np.ndarray, labels: np.ndarray, n_clusters: int, random_state: int | None = 0,
                  n_init: int = 10) -> dict[str, float]:
    """K-means on the codes (Euclidean on 0/1 = square root of the Hamming count): purity and adjusted Rand index.

    Codes with more than twice as many units as rows are clustered in their exact
    :func:`euclidean_embedding` (same distances, far fewer dimensions).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    c = np.asarray(codes)
    X = euclidean_embedding(c) if c.shape[1] > 2 * c.shape[0] else c.astype(np.float64)
    if X.shape[1] == 0:  # every row the same code
        X = np.zeros((c.shape[0], 1))
    k = max(1, min(int(n_clusters), X.shape[0]))
    n_distinct = code_regions(codes)[1].size
    k = min(k, n_distinct)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        pred = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit_predict(X)
    return {"purity": cluster_purity(pred, labels), "ari": float(adjusted_rand_score(labels, pred)),
            "n_clusters": int(k)}


def categorisation_scores(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray,
                          test_labels: np.ndarray, *, n_neighbors: int = 9, n_clusters: int = 0, C: float = 1.0,
                          multiclass: str = "ovo", kmeans: bool = True, logistic: bool = True,
                          random_state: int | None = 0, hamming: np.ndarray | None = None) -> dict[str, float]:
    """The paper's categorisation read-outs of a train/test split of codes.

    K-NN (Hamming) and logistic regression are fitted on the training codes and scored on the
    test codes; K-means runs separately on the training and on the test codes (as in the
    reference code) and is scored by cluster purity and the adjusted Rand index against the labels.
    ``hamming``, when given, is the Hamming-distance matrix of the rows of ``[train_codes; test_codes]``.

    Returns
    -------
    dict
        ``knn_accuracy``, ``knn_train_accuracy`` (leave-in: every training example votes for
        itself), ``logistic_accuracy``, ``logistic_train_accuracy``, ``kmeans_purity``,
        ``kmeans_ari`` (training codes), ``kmeans_purity_test``, ``kmeans_ari_test``; the
        K-means and logistic entries only when asked for.
    """
    ytr, yte = np.asarray(train_labels), np.asarray(test_labels)
    n_classes = np.unique(np.concatenate([ytr, yte])).size
    out: dict[str, float] = {}
    n_tr = len(ytr)
    if hamming is None:
        both = np.concatenate([np.asarray(train_codes), np.asarray(test_codes)])
        hamming = hamming_distances(both, both[:n_tr])
    d_tr, d_te = hamming[:n_tr, :n_tr], hamming[n_tr:, :n_tr]
    out["knn_accuracy"] = float(np.mean(knn_hamming_predict(train_codes, ytr, test_codes, n_neighbors,
                                                            distances=(d_tr, d_te)) == yte))
    out["knn_train_accuracy"] = float(np.mean(knn_hamming_predict(train_codes, ytr, train_codes, n_neighbors,
                                                                  distances=(d_tr, d_tr)) == ytr))
    if logistic:
        both = logistic_predict(train_codes, ytr, np.concatenate([test_codes, train_codes]), C, multiclass,
                                random_state=random_state)
        out["logistic_accuracy"] = float(np.mean(both[:len(yte)] == yte))
        out["logistic_train_accuracy"] = float(np.mean(both[len(yte):] == ytr))
    if kmeans:
        k = int(n_clusters) if n_clusters else n_classes
        tr = kmeans_scores(train_codes, ytr, k, random_state)
        te = kmeans_scores(test_codes, yte, k, random_state)
        out.update(kmeans_purity=tr["purity"], kmeans_ari=tr["ari"], kmeans_purity_test=te["purity"],
                   kmeans_ari_test=te["ari"])
    return out


def split_indices(ids: Sequence[str], labels: np.ndarray, *, test_pattern: str | None = None,
                  test_size: float = 0.25, n_splits: int = 1, random_state: int | None = 0,
                  owner: str = "split_indices") -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs: the ids matching ``test_pattern`` (one split), or stratified random splits.

    Parameters
    ----------
    ids : sequence of str
        Stimulus ids (the rows).
    labels : ndarray
        Class labels (stratification).
    test_pattern : str or None
        fnmatch glob: the matching ids are the test set (e.g. ``"test-*"``).
    test_size : float, default=0.25
        Test fraction of each random split (stratified by class when every class has >= 2 members).
    n_splits : int, default=1
        Random splits (ignored with ``test_pattern``).
    random_state : int or None, default=0
    """
    n = len(ids)
    if test_pattern is not None:
        test = np.array([fnmatchcase(s, test_pattern) for s in ids])
        if test.all() or not test.any():
            raise InvalidInputError(f"{owner}: test_pattern {test_pattern!r} matches {int(test.sum())} of {n} "
                                    "stimulus ids; it must select some but not all of them (e.g. 'test-*').")
        return [(np.flatnonzero(~test), np.flatnonzero(test))]
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise InvalidInputError(f"{owner}: n_splits must be an int >= 1, got {n_splits!r}.")
    if not 0.0 < float(test_size) < 1.0:
        raise InvalidInputError(f"{owner}: test_size must be in (0, 1), got {test_size!r}.")
    n_test = int(np.ceil(float(test_size) * n))
    if n_test < 1 or n - n_test < 2:
        raise InvalidInputError(f"{owner}: {n} stimuli cannot be split with test_size={test_size!r} into >= 2 "
                                "training and >= 1 test stimuli.")
    from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

    _, counts = np.unique(labels, return_counts=True)
    stratified = counts.min() >= 2 and n_test >= counts.size and n - n_test >= counts.size
    splitter = (StratifiedShuffleSplit if stratified else ShuffleSplit)(
        n_splits=int(n_splits), test_size=n_test, random_state=random_state)
    return [(np.sort(tr), np.sort(te)) for tr, te in splitter.split(np.zeros(n), labels)]
