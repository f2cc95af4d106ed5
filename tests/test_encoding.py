"""Ridge and banded ridge encoding: equality with scikit-learn and himalaya, planted ground truths, inference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurorep.builtin.encoding import BandedRidgeEncoding, RidgeEncoding
from neurorep.encoding import (
    band_slices,
    banded_ridge_cv,
    bootstrap_mean_r2,
    dirichlet_gammas,
    kfold_indices,
    ncsnr_ceiling,
    pearson_per_target,
    permutation_null,
    r2_per_target,
    r2_split,
    ridge_coef,
    ridge_cv,
)
from neurorep.errors import InvalidInputError
from neurorep.types import Representation

himalaya = pytest.importorskip("himalaya")
from himalaya.ridge import BandedRidgeCV as HBandedRidgeCV  # noqa: E402
from himalaya.ridge import ColumnTransformerNoStack  # noqa: E402
from himalaya.ridge import RidgeCV as HRidgeCV  # noqa: E402
from himalaya.ridge import solve_group_ridge_random_search  # noqa: E402
from himalaya.scoring import r2_score as h_r2_score  # noqa: E402
from himalaya.scoring import r2_score_split as h_r2_score_split  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Solving ridge is slower:UserWarning")

ALPHAS = np.logspace(-2, 4, 13)


def _data(n, p, t, seed=0, noise=3.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = X @ rng.standard_normal((p, t)) + noise * rng.standard_normal((n, t)) + 5.0
    return X, Y, rng.standard_normal((9, p))


def _close(a, b, tol=1e-8):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(1.0, float(np.abs(b).max()))
    assert a.shape == b.shape
    assert float(np.abs(a - b).max()) <= tol * scale, float(np.abs(a - b).max())


# =========================================================================== equality with the anchors

@pytest.mark.parametrize("n,p", [(60, 10), (40, 80)])       # primal (n >= p) and dual (n < p) routes
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_kfold_equals_himalaya(n, p, fit_intercept):
    X, Y, Xn = _data(n, p, 7)
    h = HRidgeCV(alphas=ALPHAS, cv=5, fit_intercept=fit_intercept).fit(X, Y)
    ours = ridge_cv(X, Y, ALPHAS, cv=5, fit_intercept=fit_intercept)
    np.testing.assert_allclose(ours.best_alpha, h.best_alphas_, rtol=1e-12)   # himalaya returns exp(-log(alpha))
    _close(ours.predict(Xn), h.predict(Xn))
    coef, icpt = ridge_coef(X, Y, ours.best_alpha, fit_intercept=fit_intercept)
    _close(coef, h.coef_)
    if fit_intercept:
        _close(icpt, h.intercept_)


def test_ridge_kfold_r2_scoring_equals_himalaya():
    X, Y, Xn = _data(50, 12, 6, seed=3)
    h = HRidgeCV(alphas=ALPHAS, cv=5, fit_intercept=True, solver_params=dict(score_func=h_r2_score)).fit(X, Y)
    ours = ridge_cv(X, Y, ALPHAS, cv=5, scoring="r2")
    np.testing.assert_allclose(ours.best_alpha, h.best_alphas_, rtol=1e-12)
    _close(ours.predict(Xn), h.predict(Xn))
    _close(ours.cv_scores.max(0), np.asarray(h.cv_scores_), tol=1e-9)


@pytest.mark.parametrize("n,p", [(60, 10), (40, 80)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_loo_equals_sklearn_ridgecv_alpha_per_target(n, p, fit_intercept):
    from sklearn.linear_model import RidgeCV

    X, Y, Xn = _data(n, p, 7, seed=1)
    sk = RidgeCV(alphas=ALPHAS, alpha_per_target=True, fit_intercept=fit_intercept).fit(X, Y)
    ours = ridge_cv(X, Y, ALPHAS, cv="loo", fit_intercept=fit_intercept)
    np.testing.assert_array_equal(ours.best_alpha, sk.alpha_)
    _close(ours.predict(Xn), sk.predict(Xn))


def test_float32_close_to_float64():
    X, Y, Xn = _data(80, 20, 5, seed=4)
    a = ridge_cv(X, Y, ALPHAS, cv=5)
    b = ridge_cv(X.astype(np.float32), Y.astype(np.float32), ALPHAS, cv=5)
    np.testing.assert_array_equal(a.best_alpha, b.best_alpha)
    np.testing.assert_allclose(b.predict(Xn.astype(np.float32)), a.predict(Xn), rtol=1e-3, atol=1e-3)


def _bands_data(seed=0, n=80, p1=6, p2=9, t=5):
    rng = np.random.default_rng(seed)
    X1, X2 = rng.standard_normal((n, p1)), rng.standard_normal((n, p2))
    Y = (X1 @ rng.standard_normal((p1, t)) * np.array([1, 0, 1, 0.1, 2])[:t]
         + X2 @ rng.standard_normal((p2, t)) * np.array([0, 1, 1, 2, 0.1])[:t] + rng.standard_normal((n, t)) + 2.0)
    return X1, X2, Y, rng


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_banded_ridge_equals_himalaya_random_search(fit_intercept):
    X1, X2, Y, _ = _bands_data()
    X = np.hstack([X1, X2])
    g = dirichlet_gammas(12, 2, random_state=0)
    ours = banded_ridge_cv(X, Y, band_slices([6, 9], 15), ALPHAS, gammas=g, cv=5, fit_intercept=fit_intercept)
    out = solve_group_ridge_random_search([X1, X2], Y, n_iter=g, alphas=ALPHAS, fit_intercept=fit_intercept, cv=5,
                                          return_weights=True, progress_bar=False)
    deltas, W, cv_scores = out[:3]
    _close(ours.coef, W)
    if fit_intercept:
        _close(ours.intercept, out[3])
    _close(np.log(ours.best_gamma.T / ours.best_alpha[None]), deltas, tol=1e-12)
    _close(ours.cv_scores, cv_scores, tol=1e-9)


def test_banded_ridge_equals_himalaya_estimator_predictions():
    X1, X2, Y, rng = _bands_data(seed=5)
    X = np.hstack([X1, X2])
    Xn = rng.standard_normal((7, 15))
    g = dirichlet_gammas(8, 2, random_state=2)
    ct = ColumnTransformerNoStack([("a", "passthrough", slice(0, 6)), ("b", "passthrough", slice(6, 15))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Xs = ct.fit_transform(X)
        h = HBandedRidgeCV(groups="input", solver_params=dict(n_iter=g, alphas=ALPHAS, progress_bar=False),
                           fit_intercept=True).fit(Xs, Y)
        h_pred = h.predict(ct.transform(Xn))
    ours = banded_ridge_cv(X, Y, band_slices([6, 9], 15), ALPHAS, gammas=g, cv=5)
    _close(ours.predict(Xn), np.asarray(h_pred))
    _close(np.log(ours.best_gamma.T / ours.best_alpha[None]), np.asarray(h.deltas_), tol=1e-12)


def test_r2_split_equals_himalaya_and_sums_to_r2():
    rng = np.random.default_rng(2)
    y = rng.standard_normal((40, 6))
    parts = rng.standard_normal((3, 40, 6)) * 0.3
    parts -= parts.mean(1, keepdims=True)
    ours = r2_split(y, parts)
    _close(ours, h_r2_score_split(y - y.mean(0), parts), tol=1e-12)
    _close(ours.sum(0), r2_per_target(y, parts.sum(0) + y.mean(0)), tol=1e-12)


def test_r2_and_pearson_equal_sklearn_scipy():
    from scipy.stats import pearsonr
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((30, 4)), rng.standard_normal((30, 4))
    _close(r2_per_target(y, p), r2_score(y, p, multioutput="raw_values"), tol=1e-12)
    _close(pearson_per_target(y, p), [pearsonr(y[:, j], p[:, j])[0] for j in range(4)], tol=1e-12)


# =========================================================================== planted ground truths

def test_planted_linear_map_gives_theoretical_r2():
    # y = X b + e with var(X b) = 1 and var(e) = 1/3 per target: the best possible R2 is 0.75
    rng = np.random.default_rng(7)
    n, p, t = 1500, 10, 40
    X = rng.standard_normal((n, p))
    B = rng.standard_normal((p, t)) / np.sqrt(p)
    signal = X @ B
    signal /= signal.std(0)
    Y = signal + np.sqrt(1 / 3) * rng.standard_normal((n, t))
    ids = [f"s{i:04d}" for i in range(n)]
    res = RidgeEncoding(outer_cv=5).analyze(Representation(X, ids), Representation(Y, ids))
    assert res[0].metric == "r2"
    assert abs(res[0].score - 0.75) < 0.02
    assert abs(res[1].score - np.sqrt(0.75)) < 0.015
    assert len(res[0].extra["per_channel"]) == t


def test_noise_ceiling_ncsnr_planted():
    # signal variance 1, noise variance 4, k = 4 repeats: NC = 1 / (1 + 4 / 4) = 0.5
    rng = np.random.default_rng(3)
    n, t, k = 400, 300, 4
    s = rng.standard_normal((n, t))
    rep = s[None] + 2.0 * rng.standard_normal((k, n, t))
    nc, snr = ncsnr_ceiling(rep)
    assert abs(nc.mean() - 0.5) < 0.01
    assert abs(np.median(snr) - 0.5) < 0.02
    # the true signal explains about NC of the variance of the repeat means
    assert abs(r2_per_target(rep.mean(0), s).mean() - nc.mean()) < 0.01


def test_encoding_with_repeats_reports_ceiling_and_normalised_r2():
    rng = np.random.default_rng(11)
    n, p, t, k = 600, 8, 30, 3
    X = rng.standard_normal((n, p))
    s = X @ rng.standard_normal((p, t))
    s /= s.std(0)
    rep = s[None] + 1.5 * rng.standard_normal((k, n, t))     # NC = 1 / (1 + 2.25 / 3) = 0.571
    ids = [f"s{i:04d}" for i in range(n)]
    res = RidgeEncoding().analyze(Representation(X, ids), Representation(rep.mean(0), ids, repeats=rep))[0]
    assert abs(res.ceiling_upper - 1 / (1 + 2.25 / 3)) < 0.03
    # the features hold the whole signal: R2 reaches the ceiling
    assert abs(res.extra["score_normalised"] - 1.0) < 0.05
    assert len(res.extra["noise_ceiling_per_target"]) == t


def test_planted_band_contributions_recovered():
    rng = np.random.default_rng(4)
    n, p1, p2, t = 600, 8, 12, 12
    X1, X2 = rng.standard_normal((n, p1)), rng.standard_normal((n, p2))
    s1 = X1 @ rng.standard_normal((p1, t))
    s2 = X2 @ rng.standard_normal((p2, t))
    s1 /= s1.std(0)
    s2 /= s2.std(0)
    w1 = np.r_[np.ones(4), np.zeros(4), np.full(4, np.sqrt(0.5))]     # band-1 variance share 1, 0, 0.5
    w2 = np.r_[np.zeros(4), np.ones(4), np.full(4, np.sqrt(0.5))]
    Y = s1 * w1 + s2 * w2 + 0.5 * rng.standard_normal((n, t))         # total signal 1, noise 0.25: R2 0.8
    ids = [f"s{i:04d}" for i in range(n)]
    rows = BandedRidgeEncoding(band_sizes=[p1, p2], band_names=["a", "b"], n_iter=10).analyze(
        Representation(np.hstack([X1, X2]), ids), Representation(Y, ids))
    ex = rows[0].extra
    a, b = np.array(ex["per_target_split"]["a"]), np.array(ex["per_target_split"]["b"])
    expect_a, expect_b = 0.8 * w1 ** 2, 0.8 * w2 ** 2
    assert np.abs(a - expect_a).max() < 0.06 and np.abs(b - expect_b).max() < 0.06
    assert abs(rows[0].score - 0.8) < 0.03
    assert [r.metric for r in rows] == ["r2", "r2_split", "r2_split"]
    # an irrelevant band gets a much larger penalty than the relevant one
    la, lb = np.array(ex["band_alpha_per_target"]["a"]), np.array(ex["band_alpha_per_target"]["b"])
    assert np.all(lb[:4] > 10 * la[:4]) and np.all(la[4:8] > 10 * lb[4:8])


def test_bands_from_channel_descriptor_equal_band_sizes():
    X1, X2, Y, _ = _bands_data(seed=8, n=50)
    ids = [f"s{i:03d}" for i in range(50)]
    X = np.hstack([X1, X2])
    lab = np.array(["low"] * 6 + ["high"] * 9)
    a = BandedRidgeEncoding(band_sizes=[6, 9], n_iter=5).analyze(Representation(X, ids), Representation(Y, ids))
    b = BandedRidgeEncoding(n_iter=5).analyze(Representation(X, ids, channel_descriptors={"band": lab}),
                                              Representation(Y, ids))
    assert a[0].score == b[0].score and b[0].extra["bands"] == ["low", "high"]


# =========================================================================== inference

def test_permutation_null_equals_loop():
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((25, 7)), rng.standard_normal((25, 7))
    null = permutation_null(y, p, 30, random_state=5, batch=8)
    perms = np.argsort(np.random.default_rng(5).random((30, 25)), axis=1)
    for b in range(30):
        _close(null.r2[b], r2_per_target(y, p[perms[b]]), tol=1e-12)
        _close(null.r[b], pearson_per_target(y, p[perms[b]]), tol=1e-12)


def test_permutation_pvalues_signal_vs_null_targets():
    rng = np.random.default_rng(1)
    n, p = 200, 5
    X = rng.standard_normal((n, p))
    Y = np.hstack([X @ rng.standard_normal((p, 5)) + rng.standard_normal((n, 5)), rng.standard_normal((n, 20))])
    ids = [f"s{i:03d}" for i in range(n)]
    res = RidgeEncoding(n_permutations=200).analyze(Representation(X, ids), Representation(Y, ids))[0]
    pv = np.array(res.extra["p_per_target"])
    assert np.all(pv[:5] < 0.01) and np.median(pv[5:]) > 0.2
    assert np.all(np.array(res.extra["p_per_target_fwer"])[:5] < 0.01)
    assert res.p_value < 0.01


def test_bootstrap_equals_loop_and_covers():
    rng = np.random.default_rng(2)
    y = rng.standard_normal((30, 4))
    p = y + rng.standard_normal((30, 4))
    bs = bootstrap_mean_r2(y, p, 40, random_state=9, batch=16)
    g = np.random.default_rng(9)
    ref = []
    for s in range(0, 40, 16):
        idx = g.integers(0, 30, size=(min(16, 40 - s), 30))
        ref += [r2_per_target(y[i], p[i]).mean() for i in idx]
    _close(bs, ref, tol=1e-10)


def test_stimulus_order_and_ids_drive_folds():
    X, Y, _ = _data(40, 6, 3, seed=9)
    ids = [f"s{i:03d}" for i in range(40)]
    perm = np.random.default_rng(0).permutation(40)
    a = RidgeEncoding().analyze(Representation(X, ids), Representation(Y, ids))
    b = RidgeEncoding().analyze(Representation(X[perm], [ids[i] for i in perm]), Representation(Y, ids))
    assert a[0].score == pytest.approx(b[0].score, abs=1e-12)


def test_kfold_sizes_match_sklearn():
    from sklearn.model_selection import KFold

    for (tr, te), (tr2, te2) in zip(kfold_indices(23, 5, shuffle=False), KFold(5).split(np.zeros(23))):
        np.testing.assert_array_equal(te, te2)
        np.testing.assert_array_equal(tr, tr2)


# =========================================================================== errors

def test_errors_name_the_component_and_the_fix():
    X, Y, _ = _data(30, 6, 3)
    ids = [f"s{i:03d}" for i in range(30)]
    x, y = Representation(X, ids), Representation(Y, ids)
    with pytest.raises(InvalidInputError, match=r"encoding\.banded-ridge.*band_sizes"):
        BandedRidgeEncoding(band_sizes=[2, 3]).analyze(x, y)
    with pytest.raises(InvalidInputError, match=r"encoding\.banded-ridge.*band_sizes = \["):
        BandedRidgeEncoding().analyze(x, y)
    with pytest.raises(InvalidInputError, match=r"encoding\.ridge.*alphas"):
        RidgeEncoding(alphas=[1.0, -1.0]).analyze(x, y)
    with pytest.raises(InvalidInputError, match=r"encoding\.ridge.*outer_cv"):
        RidgeEncoding(outer_cv=1).analyze(x, y)
    with pytest.raises(InvalidInputError, match=r"encoding\.ridge.*expected a Representation"):
        RidgeEncoding().analyze(x, object())
