"""Probes and identification: equality with scikit-learn on the same folds, planted ground truths, chance."""

from __future__ import annotations

import numpy as np
import pytest

from neurorep.builtin.encoding import (
    CorrelationIdentification,
    LogisticProbe,
    RidgeProbe,
    _stratified_folds,
)
from neurorep.encoding.identification import identification_ranks, topk_null
from neurorep.errors import InvalidInputError
from neurorep.types import Representation

ALPHAS = [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]


def _classes(n=90, p=12, k=3, sep=1.0, seed=0):
    rng = np.random.default_rng(seed)
    lab = np.repeat(np.arange(k), n // k)
    means = rng.standard_normal((k, p)) * sep
    X = means[lab] + rng.standard_normal((n, p))
    ids = [f"s{i:03d}" for i in range(n)]
    return X, lab, ids


@pytest.mark.parametrize("k", [2, 3])
def test_ridge_probe_classification_equals_sklearn_ridgeclassifiercv(k):
    from sklearn.linear_model import RidgeClassifierCV

    X, lab, ids = _classes(k=k, sep=0.6)
    res = RidgeProbe(task="classification", alphas=ALPHAS, outer_cv=5).analyze(
        Representation(X, ids), Representation(lab.astype(float), ids))[0]
    pred = np.empty(lab.size, dtype=int)
    for tr, te in _stratified_folds(lab, 5, 0, "test"):
        pred[te] = RidgeClassifierCV(alphas=ALPHAS).fit(X[tr], lab[tr]).predict(X[te])
    assert res.metric == "accuracy"
    assert res.score == pytest.approx(np.mean(pred == lab), abs=1e-15)
    assert res.extra["chance"] == pytest.approx(1 / k)
    assert 0.5 < res.score < 1.0


def test_ridge_probe_regression_equals_sklearn_ridgecv():
    from sklearn.linear_model import RidgeCV

    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 8))
    Y = X @ rng.standard_normal((8, 3)) + rng.standard_normal((60, 3))
    ids = [f"s{i:03d}" for i in range(60)]
    res = RidgeProbe(alphas=ALPHAS).analyze(Representation(X, ids), Representation(Y, ids))[0]
    from neurorep.encoding import kfold_indices, r2_per_target

    pred = np.empty_like(Y)
    for tr, te in kfold_indices(60, 5, shuffle=True, random_state=0):
        pred[te] = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(X[tr], Y[tr]).predict(X[te])
    assert res.score == pytest.approx(float(r2_per_target(Y, pred).mean()), abs=1e-10)


def test_logistic_probe_equals_sklearn_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, lab, ids = _classes(k=3, sep=0.5, seed=3)
    res = LogisticProbe(C=0.5, n_permutations=200).analyze(Representation(X, ids),
                                                             Representation(lab.astype(float), ids))[0]
    pred = np.empty(lab.size, dtype=int)
    for tr, te in _stratified_folds(lab, 5, 0, "test"):
        pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(X[tr], lab[tr])
        pred[te] = pipe.predict(X[te])
    assert res.score == pytest.approx(np.mean(pred == lab), abs=1e-15)
    assert res.score > 0.6 and res.p_value < 0.01 and abs(res.extra["null_mean"] - 1 / 3) < 0.03


def test_probes_at_chance_on_unrelated_labels():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((120, 10))
    lab = np.repeat(np.arange(4), 30).astype(float)
    ids = [f"s{i:03d}" for i in range(120)]
    for probe in (LogisticProbe(n_permutations=300), RidgeProbe(task="classification", n_permutations=300)):
        res = probe.analyze(Representation(X, ids), Representation(lab, ids))[0]
        assert abs(res.score - 0.25) < 0.1 and res.p_value > 0.05, (probe.id, res.score, res.p_value)


def test_probe_discretize_and_label_errors():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((40, 5))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)          # continuous descriptor carried by feature 0
    ids = [f"s{i:03d}" for i in range(40)]
    with pytest.raises(InvalidInputError, match=r"probe\.logistic.*class labels.*probe\.ridge"):
        LogisticProbe().analyze(Representation(X, ids), Representation(y, ids))
    res = LogisticProbe(discretize=2).analyze(Representation(X, ids), Representation(y, ids))[0]
    assert res.score > 0.85 and res.extra["chance"] == 0.5


# =========================================================================== identification

def _planted_identification(n=60, p=15, t=80, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = X @ rng.standard_normal((p, t)) + noise * rng.standard_normal((n, t)) * np.sqrt(p)
    ids = [f"s{i:03d}" for i in range(n)]
    return X, Y, ids


def test_identification_far_above_chance_on_planted_data():
    X, Y, ids = _planted_identification()
    r1, rk = CorrelationIdentification(top_k=5, n_permutations=500).analyze(Representation(X, ids),
                                                                              Representation(Y, ids))
    assert r1.metric == "top1_accuracy" and rk.metric == "top5_accuracy"
    assert r1.extra["chance"] == pytest.approx(1 / 60) and rk.extra["chance"] == pytest.approx(5 / 60)
    assert r1.score > 0.8 and rk.score >= r1.score
    assert r1.p_value < 0.01 and rk.p_value < 0.01


def test_identification_at_chance_with_rows_shuffled():
    X, Y, ids = _planted_identification(seed=1)
    Xs = X[np.random.default_rng(3).permutation(len(ids))]       # features no longer belong to their stimuli
    r1, rk = CorrelationIdentification(top_k=5, n_permutations=500).analyze(Representation(Xs, ids),
                                                                              Representation(Y, ids))
    assert r1.score <= 4 / 60 and rk.score <= 0.2
    assert r1.p_value > 0.05 and rk.p_value > 0.01
    assert abs(r1.extra["mean_normalised_rank"] - 0.5) < 0.15


def test_identification_ranks_and_null():
    corr = np.array([[0.9, 0.1, 0.2], [0.3, 0.2, 0.8], [0.1, 0.0, 0.5]])
    np.testing.assert_array_equal(identification_ranks(corr), [0, 2, 0])
    null = topk_null(corr, 1, 2000, random_state=0)
    assert abs(null.mean() - 1 / 3) < 0.03                       # relabelled candidates: chance 1/N
