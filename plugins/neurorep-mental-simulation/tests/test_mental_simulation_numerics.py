"""Numerics of ``predictivity.dynamic`` against exact identities and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation
from neurorep.errors import InvalidInputError

from neurorep_mental_simulation import DynamicPredictivity, spearman_brown, split_half_reliability
from neurorep_mental_simulation.core import corr_columns, time_resolved_predictions


def test_spearman_brown_identities():
    assert spearman_brown(0.5, 2.0) == pytest.approx(2.0 / 3.0)
    assert spearman_brown(1.0, 3.0) == pytest.approx(1.0)
    # stepping up by a then b equals stepping up by a * b
    r = np.array([0.1, 0.4, 0.8])
    np.testing.assert_allclose(spearman_brown(spearman_brown(r, 2.0), 1.5), spearman_brown(r, 3.0))


@pytest.mark.parametrize("k", [4, 5])
def test_split_half_reliability_matches_planted(k):
    rng = np.random.default_rng(0)
    n, t = 4000, 3
    signal_sd = np.array([1.0, 1.0, 0.5])
    noise_sd = np.array([1.0, 2.0, 1.0])
    signal = rng.standard_normal((n, t)) * signal_sd
    reps = signal[None] + rng.standard_normal((k, n, t)) * noise_sd
    rel = split_half_reliability(reps, 20, np.random.default_rng(1))
    truth = signal_sd**2 / (signal_sd**2 + noise_sd**2 / k)   # reliability of the k-repeat mean
    np.testing.assert_allclose(rel, truth, atol=0.03)
    # and its square root is the correlation of the noiseless signal with the repeat mean
    np.testing.assert_allclose(np.sqrt(rel), corr_columns(signal, reps.mean(0)), atol=0.03)


def test_time_resolved_predictions_match_sklearn():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import PredefinedSplit, cross_val_predict
    from neurorep.encoding import kfold_indices

    rng = np.random.default_rng(3)
    n, T, p, u = 40, 3, 5, 4
    x = rng.standard_normal((n, T * p))
    y = rng.standard_normal((n, T * u))
    pred, alphas = time_resolved_predictions(x, y, T, [7.0], 4, 3, 0, "test")
    assert alphas.shape == (T, 4, u) and np.all(alphas == 7.0)
    folds = kfold_indices(n, 4, shuffle=True, random_state=0)
    fold_of = np.empty(n, dtype=int)
    for i, (_, te) in enumerate(folds):
        fold_of[te] = i
    for t in range(T):
        ref = cross_val_predict(Ridge(alpha=7.0), x[:, t * p:(t + 1) * p], y[:, t * u:(t + 1) * u],
                                cv=PredefinedSplit(fold_of))
        np.testing.assert_allclose(pred[:, t * u:(t + 1) * u], ref, atol=1e-10)


def _toy(n=24, T=2, units=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, T, 2))
    reps = (z @ rng.standard_normal((2, units))).reshape(n, -1)[None] + 0.3 * rng.standard_normal((k, n, T * units))
    ids = [f"s{i}" for i in range(n)]
    return Representation(z.reshape(n, -1), ids), Representation(reps.mean(0), ids, repeats=reps)


def test_time_is_respected():
    x, y = _toy()
    good = DynamicPredictivity(n_time=2, n_bootstrap=0).analyze(x, y)[0]
    # swapping the model's two time bins pairs each neural bin with the wrong model state
    swapped = Representation(np.concatenate([x.data[:, 2:], x.data[:, :2]], axis=1), x.stimulus_ids)
    bad = DynamicPredictivity(n_time=2, n_bootstrap=0).analyze(swapped, y)[0]
    assert good.score > 0.8 and bad.score < 0.5
    assert len(good.extra["score_per_time"]) == 2


def test_raw_mode_reports_ceiling():
    x, y = _toy()
    r = DynamicPredictivity(n_time=2, normalize=False, n_bootstrap=0).analyze(x, y)[0]
    n = DynamicPredictivity(n_time=2, n_bootstrap=0).analyze(x, y)[0]
    assert r.metric == "pearson" and n.metric == "normalized_pearson"
    assert r.score == pytest.approx(n.extra["raw"])
    assert r.ceiling_upper == pytest.approx(n.extra["ceiling"])
    assert n.score == pytest.approx(n.extra["raw"] / n.extra["ceiling"])


def test_errors_name_component():
    x, y = _toy()
    with pytest.raises(InvalidInputError, match="predictivity.dynamic.*multiple of n_time"):
        DynamicPredictivity(n_time=3).analyze(x, y)
    with pytest.raises(InvalidInputError, match="predictivity.dynamic.*repeats"):
        DynamicPredictivity(n_time=2).analyze(x, Representation(y.data, y.stimulus_ids))
    with pytest.raises(InvalidInputError, match="predictivity.dynamic.*metric"):
        DynamicPredictivity(metric="spearman").analyze(x, y)
    with pytest.raises(InvalidInputError, match="predictivity.dynamic.*too few"):
        DynamicPredictivity(n_time=2, n_splits=20).analyze(x, y)
