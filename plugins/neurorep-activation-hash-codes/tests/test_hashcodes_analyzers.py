"""Determinism and categorisation against planted ground truth and independent references (collections.Counter,
scipy's Hamming distance, scikit-learn's Hamming K-NN)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from neurorep import Representation
from scipy.spatial.distance import cdist
from sklearn.neighbors import KNeighborsClassifier

from neurorep_hashcodes import (
    CodeCategorisation,
    CodeDeterminism,
    categorisation_scores,
    cluster_purity,
    determinism_stats,
    hamming_distances,
    knn_hamming_predict,
    split_indices,
)


def _planted_codes(sizes, n_units=12, seed=0):
    """Codes of len(sizes) distinct regions, region r holding sizes[r] examples (rows shuffled)."""
    rng = np.random.default_rng(seed)
    protos = set()
    while len(protos) < len(sizes):
        protos.add(tuple(rng.integers(0, 2, n_units)))
    protos = [np.array(p, dtype=np.uint8) for p in sorted(protos)]
    rows = np.concatenate([np.repeat(p[None], s, axis=0) for p, s in zip(protos, sizes)])
    return rows[rng.permutation(len(rows))]


def test_determinism_counts_equal_planted_region_sizes():
    sizes = [1, 1, 1, 2, 3, 5]                # 13 examples, 6 occupied regions, 3 singletons
    codes = _planted_codes(sizes)
    st = determinism_stats(codes)
    assert st["n_examples"] == 13 and st["n_regions"] == 6 and st["n_singleton_regions"] == 3
    assert st["singleton_region_share"] == 3 / 6
    assert st["redundancy_ratio"] == (13 - 6) / 13 and st["unique_code_fraction"] == 6 / 13
    assert st["alone_fraction"] == 3 / 13 and st["largest_region"] == 5 and st["n_colliding_regions"] == 3
    assert st["colliding_pairs"] == 1 + 3 + 10
    # the same from an independent count of the code tuples
    cnt = Counter(map(tuple, codes))
    assert sorted(cnt.values()) == sorted(sizes)
    ids = [f"s{i:02d}" for i in range(13)]
    rows = CodeDeterminism().analyze(Representation(codes.astype(float) * 2.5 - 1.0, ids))   # +-: same codes
    by = {r.metric: r.score for r in rows}
    assert rows[0].metric == "singleton_region_share"
    assert by == {"singleton_region_share": 0.5, "unique_code_fraction": 6 / 13, "redundancy_ratio": 7 / 13,
                  "alone_fraction": 3 / 13}
    assert rows[0].extra["n_regions"] == 6 and rows[0].n == 13


def test_unique_codes_score_one_and_train_pattern_selects_rows():
    codes = _planted_codes([1] * 20, n_units=16, seed=1)
    ids = [f"train-{i}" for i in range(10)] + [f"test-{i}" for i in range(10)]
    codes[10:] = codes[0]                                     # every test example in training example 0's region
    x = Representation(codes, ids)
    assert CodeDeterminism(train_pattern="train-*").analyze(x)[0].score == 1.0
    rows = CodeDeterminism().analyze(x)
    assert rows[0].extra["n_regions"] == 10 and rows[0].score == 9 / 10      # region of example 0 holds 11
    with pytest.raises(ValueError, match="hashcode.determinism"):
        CodeDeterminism(train_pattern="nope-*").analyze(x)


def test_hamming_and_knn_equal_scipy_and_scikit_learn():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2, (60, 301)).astype(np.uint8)
    b = rng.integers(0, 2, (25, 301)).astype(np.uint8)
    np.testing.assert_allclose(hamming_distances(b, a), cdist(b.astype(bool), a.astype(bool), "hamming"), atol=1e-15)
    y = rng.integers(0, 3, 60)
    for k in (1, 5, 9):
        ref = KNeighborsClassifier(n_neighbors=k, metric="hamming", algorithm="brute").fit(a, y).predict(b)
        np.testing.assert_array_equal(knn_hamming_predict(a, y, b, n_neighbors=k), ref)


def test_cluster_purity_equals_majority_label_count():
    rng = np.random.default_rng(5)
    clusters, labels = rng.integers(0, 4, 200), rng.integers(0, 3, 200)
    want = sum(Counter(labels[clusters == c]).most_common(1)[0][1] for c in np.unique(clusters)) / 200
    assert cluster_purity(clusters, labels) == pytest.approx(want, abs=1e-15)
    assert cluster_purity(labels + 7, labels) == 1.0


def _prototype_codes(n_per_class=30, n_classes=4, n_units=80, flip=0.1, seed=0):
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, (n_classes, n_units))
    y = np.repeat(np.arange(n_classes), n_per_class)
    codes = protos[y] ^ (rng.random((y.size, n_units)) < flip)
    return codes.astype(np.uint8), y


def test_planted_class_prototypes_are_categorised_and_shuffled_labels_are_not():
    codes, y = _prototype_codes()
    tr, te = split_indices([str(i) for i in range(len(y))], y, test_size=0.25, random_state=0)[0]
    s = categorisation_scores(codes[tr], y[tr], codes[te], y[te], random_state=0)
    assert s["knn_accuracy"] == 1.0 and s["logistic_accuracy"] == 1.0
    assert s["kmeans_purity"] == 1.0 and s["kmeans_ari"] == 1.0 and s["kmeans_purity_test"] == 1.0
    y_shuffled = np.random.default_rng(1).permutation(y)
    s0 = categorisation_scores(codes[tr], y_shuffled[tr], codes[te], y_shuffled[te], random_state=0)
    assert s0["knn_accuracy"] < 0.5 and s0["kmeans_ari"] < 0.1        # chance is 0.25


def test_analyzer_with_a_test_pattern_equals_the_direct_scores():
    codes, y = _prototype_codes(flip=0.3, seed=2)
    n = len(y)
    rng = np.random.default_rng(3)
    is_test = np.zeros(n, bool)
    is_test[rng.choice(n, 30, replace=False)] = True
    ids = [f"{'test' if t else 'train'}-{i:03d}" for i, t in enumerate(is_test)]
    perm = rng.permutation(n)                  # y lists the stimuli in another order: aligned by id
    x = Representation(codes, ids)
    lab = Representation(y[perm].astype(float)[:, None], [ids[i] for i in perm])
    rows = CodeCategorisation(test_pattern="test-*", random_state=0).analyze(x, lab)
    order = np.argsort(ids)                     # the analyzer works in sorted-id order
    c, yy, t = codes[order], y[order], is_test[order]
    want = categorisation_scores(c[~t], yy[~t], c[t], yy[t], random_state=0)
    got = {r.metric: r.score for r in rows}
    assert rows[0].metric == "knn_accuracy" and set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12), k
    assert rows[0].extra["chance"] == 0.25 and rows[0].extra["n_test"] == 30 and rows[0].n == 30
    assert 0.5 < got["knn_accuracy"] <= 1.0


def test_categorisation_errors_name_the_component():
    codes, y = _prototype_codes()
    ids = [f"s{i:03d}" for i in range(len(y))]
    x = Representation(codes, ids)
    cont = Representation(np.random.default_rng(0).standard_normal((len(y), 1)), ids)
    with pytest.raises(ValueError, match="hashcode.categorisation.*discretize"):
        CodeCategorisation().analyze(x, cont)
    with pytest.raises(ValueError, match="hashcode.categorisation.*multiclass"):
        CodeCategorisation(multiclass="ovr").analyze(x, Representation(y[:, None].astype(float), ids))
    with pytest.raises(ValueError, match="test_pattern"):
        CodeCategorisation(test_pattern="none-*").analyze(x, Representation(y[:, None].astype(float), ids))


def test_reduced_coordinates_give_the_same_kmeans_and_logistic_as_the_raw_codes():
    from scipy.spatial.distance import pdist
    from sklearn.linear_model import LogisticRegression

    from neurorep_hashcodes import euclidean_embedding, span_coordinates

    codes, y = _prototype_codes(n_per_class=15, n_classes=3, n_units=2000, flip=0.4, seed=6)
    emb = euclidean_embedding(codes)                       # exact distances in <= n - 1 dimensions
    assert emb.shape[1] < len(y)
    np.testing.assert_allclose(pdist(emb, "sqeuclidean"), pdist(codes.astype(bool), "hamming") * 2000, atol=1e-8)
    tr, te = np.arange(0, 45, 2), np.arange(1, 45, 2)
    ztr, zte = span_coordinates(codes[tr], codes[te])      # the same L2-penalised logistic problem
    kw = dict(C=0.01, max_iter=5000, tol=1e-10)
    raw = LogisticRegression(**kw).fit(codes[tr].astype(float), y[tr] == 1).decision_function(codes[te].astype(float))
    red = LogisticRegression(**kw).fit(ztr, y[tr] == 1).decision_function(zte)
    np.testing.assert_allclose(red, raw, atol=1e-5 * np.abs(raw).max())
