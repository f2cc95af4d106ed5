"""RDMs (neurorep.rsa.rdm) against rsatoolbox, scipy and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from neurorep import RDMs, Representation
from neurorep.errors import InvalidInputError, StimulusMismatchError
from neurorep.rsa import rdm as R

rt = pytest.importorskip("rsatoolbox")
warnings.filterwarnings("ignore", module="rsatoolbox")
# rsatoolbox's crossnobis default-cv helper casts string labels through an int array
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

TOL = 1e-8


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def _dataset(X: np.ndarray) -> "rt.data.Dataset":
    # zero-padded stimulus labels: rsatoolbox sorts conditions alphabetically
    return rt.data.Dataset(X, obs_descriptors={"stim": [f"s{i:03d}" for i in range(X.shape[0])]})


def _runs_dataset(Y: np.ndarray) -> "rt.data.Dataset":
    r, n, p = Y.shape
    return rt.data.Dataset(Y.reshape(r * n, p), obs_descriptors={
        "stim": [f"s{i:03d}" for _ in range(r) for i in range(n)], "run": np.repeat(np.arange(r), n)})


def _rt(ds, method, **kw) -> np.ndarray:
    return rt.rdm.calc_rdm(ds, method=method, descriptor="stim", **kw).get_vectors()[0]


# --------------------------------------------------------------------------- equality with rsatoolbox

def test_euclidean_family_matches_rsatoolbox_and_scipy(rng):
    X = rng.normal(size=(15, 9))
    # rsatoolbox's "euclidean" is the squared distance divided by the number of channels
    assert np.allclose(R.pattern_rdms(X, "sqeuclidean"), _rt(_dataset(X), "euclidean"), atol=TOL, rtol=0)
    assert np.allclose(R.pattern_rdms(X, "sqeuclidean", normalize=False), pdist(X, "sqeuclidean"), atol=TOL)
    assert np.allclose(R.pattern_rdms(X, "euclidean", normalize=False), pdist(X), atol=TOL)
    assert np.allclose(R.pattern_rdms(X, "euclidean"), pdist(X) / np.sqrt(9), atol=TOL)
    rm = rt.rdm.calc_rdm(_dataset(X), method="euclidean", descriptor="stim", remove_mean=True).get_vectors()[0]
    assert np.allclose(R.pattern_rdms(X, "sqeuclidean", remove_mean=True), rm, atol=TOL)


def test_correlation_and_cosine(rng):
    X = rng.normal(size=(15, 9)) + 2.0
    assert np.allclose(R.pattern_rdms(X, "correlation"), _rt(_dataset(X), "correlation"), atol=TOL)
    assert np.allclose(R.pattern_rdms(X, "correlation"), pdist(X, "correlation"), atol=TOL)
    assert np.allclose(R.pattern_rdms(X, "cosine"), pdist(X, "cosine"), atol=TOL)
    # patterns whose mean dwarfs their spread: the centring falls back from X X' - p m m' to explicit centring
    Y = 1e-3 * rng.normal(size=(12, 40)) + 1e4
    assert np.allclose(R.pattern_rdms(Y, "correlation"), pdist(Y, "correlation"), atol=TOL)
    assert np.allclose(R.pattern_rdms(Y, "sqeuclidean", remove_mean=True, normalize=False),
                       pdist(Y - Y.mean(1, keepdims=True), "sqeuclidean"), atol=1e-12)


@pytest.mark.parametrize("method", R.NOISE_METHODS)
def test_noise_estimates_match_rsatoolbox(rng, method):
    res = rng.normal(size=(60, 12)) @ rng.normal(size=(12, 12)) * 0.3
    ours = R.cov_from_residuals(res, method=method)
    assert np.allclose(ours, rt.data.noise.cov_from_residuals(res, method=method), atol=1e-12, rtol=1e-10)
    assert np.allclose(R.prec_from_residuals(res, dof=50, method=method),
                       rt.data.noise.prec_from_residuals(res, dof=50, method=method), rtol=1e-9, atol=1e-10)


def test_noise_from_repeats_is_rsatoolbox_cov_from_unbalanced(rng):
    Y = rng.normal(size=(4, 10, 6))
    res, dof = R.residuals_from_repeats(Y)
    assert dof == 30
    ds = _runs_dataset(Y)
    ref = rt.data.noise.cov_from_unbalanced(ds, "stim", method="shrinkage_diag")
    assert np.allclose(R.cov_from_residuals(res, dof=dof), ref, atol=1e-12)
    rep = Representation(Y.mean(0), [f"s{i}" for i in range(10)], repeats=Y)
    assert np.allclose(R.noise_precision(rep, "repeats"), np.linalg.inv(ref), rtol=1e-9)


def test_mahalanobis_matches_rsatoolbox(rng):
    X = rng.normal(size=(14, 8))
    P = R.prec_from_residuals(rng.normal(size=(40, 8)))
    assert np.allclose(R.pattern_rdms(X, "mahalanobis", precision=P),
                       _rt(_dataset(X), "mahalanobis", noise=P), atol=TOL)
    # identity precision: the squared Euclidean distance (rsatoolbox's default without noise)
    assert np.allclose(R.pattern_rdms(X, "mahalanobis"), _rt(_dataset(X), "mahalanobis"), atol=TOL)
    # closed form per pair
    d = X[0] - X[3]
    k = 0 * 14 - 0 + 3 - 0 - 1
    assert R.pattern_rdms(X, "mahalanobis", precision=P)[k] == pytest.approx(d @ P @ d / 8, rel=1e-12)


@pytest.mark.parametrize("n_runs", [2, 4])
def test_crossnobis_matches_rsatoolbox(rng, n_runs):
    Y = rng.normal(size=(n_runs, 12, 7))
    ds = _runs_dataset(Y)
    P = R.prec_from_residuals(R.residuals_from_repeats(Y)[0])
    for prec in (None, P):
        ref = _rt(ds, "crossnobis", noise=prec, cv_descriptor="run")
        assert np.allclose(R.crossnobis_rdms(Y, precision=prec), ref, atol=TOL)
    ref = rt.rdm.calc_rdm(ds, method="crossnobis", descriptor="stim", cv_descriptor="run",
                          remove_mean=True).get_vectors()[0]
    assert np.allclose(R.crossnobis_rdms(Y, remove_mean=True), ref, atol=TOL)


def test_crossnobis_is_the_mean_over_run_pairs_and_unbiased(rng):
    Y = rng.normal(size=(3, 6, 5))
    i, j = 1, 4
    terms = [(Y[r, i] - Y[r, j]) @ (Y[s, i] - Y[s, j]) for r in range(3) for s in range(3) if r != s]
    k = i * 6 - i * (i + 1) // 2 + j - i - 1
    assert R.crossnobis_rdms(Y, normalize=False)[k] == pytest.approx(np.mean(terms), rel=1e-12)
    # pure noise: crossnobis distances scatter around 0 (the Euclidean ones do not)
    noise = rng.normal(size=(4, 40, 50))
    assert abs(R.crossnobis_rdms(noise).mean()) < 0.05
    assert R.pattern_rdms(noise.mean(0), "sqeuclidean").mean() > 0.4


def test_poisson_matches_rsatoolbox(rng):
    C = rng.poisson(4.0, size=(10, 6)).astype(float)
    assert np.allclose(R.pattern_rdms(C, "poisson"), _rt(_dataset(C), "poisson"), atol=TOL)
    ref = rt.rdm.calc_rdm(_dataset(C), method="poisson", descriptor="stim", prior_lambda=2.0,
                          prior_weight=0.5).get_vectors()[0]
    assert np.allclose(R.pattern_rdms(C, "poisson", prior_lambda=2.0, prior_weight=0.5), ref, atol=TOL)
    with pytest.raises(InvalidInputError, match="rates > 0"):
        R.pattern_rdms(C - 10.0, "poisson")


def test_poisson_cv_relates_to_rsatoolbox_folds(rng):
    """rsatoolbox's poisson_cv returns its last leave-one-run-out fold; with two runs the mean of that
    and of the same call with the run labels swapped is the mean over folds, which neurorep returns."""
    Y = rng.poisson(3.0, size=(2, 9, 5)).astype(float)

    def fold(runs):
        ds = rt.data.Dataset(Y.reshape(18, 5), obs_descriptors={
            "stim": [f"s{i:03d}" for _ in range(2) for i in range(9)], "run": np.repeat(runs, 9)})
        return _rt(ds, "poisson_cv", cv_descriptor="run")

    assert np.allclose(R.poisson_cv_rdms(Y), (fold(np.array([0, 1])) + fold(np.array([1, 0]))) / 2, atol=TOL)


# --------------------------------------------------------------------------- batching, dtypes, backends

def test_batched_stack_and_list_equal_one_at_a_time(rng):
    X = rng.normal(size=(3, 11, 6))
    for dist in ("euclidean", "sqeuclidean", "correlation", "cosine"):
        stacked = R.pattern_rdms(X, dist)
        assert stacked.shape == (3, 55)
        for k in range(3):
            assert np.array_equal(stacked[k], R.pattern_rdms(X[k], dist)) or np.allclose(
                stacked[k], R.pattern_rdms(X[k], dist), atol=1e-14)
    mixed = [rng.normal(size=(11, 4)), rng.normal(size=(11, 30))]
    out = R.pattern_rdms(mixed, "correlation")
    assert np.allclose(out[1], pdist(mixed[1], "correlation"), atol=TOL)
    Ys = rng.normal(size=(2, 3, 11, 5))
    assert np.allclose(R.crossnobis_rdms(Ys)[1], R.crossnobis_rdms(Ys[1]), atol=1e-14)


def test_float32_is_computed_in_float32(rng):
    X = rng.normal(size=(20, 50))
    d32 = R.pattern_rdms(X.astype(np.float32), "correlation")
    assert d32.dtype == np.float32
    assert np.allclose(d32, pdist(X, "correlation"), atol=1e-5)
    assert R.pattern_rdms(X, "correlation", dtype="float32").dtype == np.float32
    with pytest.raises(InvalidInputError, match="float64' or 'float32"):
        R.pattern_rdms(X, dtype="float16")


def test_torch_backend_equals_numpy(rng):
    pytest.importorskip("torch")
    X = rng.normal(size=(2, 13, 7))
    P = R.prec_from_residuals(rng.normal(size=(30, 7)))
    for dist in ("euclidean", "sqeuclidean", "correlation", "cosine"):
        assert np.allclose(R.pattern_rdms(X, dist, backend="torch", device="cpu"), R.pattern_rdms(X, dist),
                           atol=1e-12)
    assert np.allclose(R.pattern_rdms(X, "mahalanobis", precision=P, backend="torch", device="cpu"),
                       R.pattern_rdms(X, "mahalanobis", precision=P), atol=1e-12)
    Y = rng.normal(size=(3, 13, 7))
    assert np.allclose(R.crossnobis_rdms(Y, precision=P, backend="torch", device="cpu"),
                       R.crossnobis_rdms(Y, precision=P), atol=1e-12)


# --------------------------------------------------------------------------- calc_rdm on representations

def test_calc_rdm_batches_representations(rng):
    ids = [f"img{i}" for i in range(10)]
    reps = [Representation(rng.normal(size=(10, p)), ids, space={"site": f"layer{p}"}, name=f"l{p}")
            for p in (4, 8, 8)]
    rdms = R.calc_rdm(reps, "correlation")
    assert isinstance(rdms, RDMs) and rdms.n_rdms == 3 and rdms.stimulus_ids == tuple(ids)
    assert rdms.rdm_descriptors["site"] == ["layer4", "layer8", "layer8"]
    assert np.allclose(rdms.dissimilarities[0], pdist(reps[0].data, "correlation"), atol=TOL)
    assert R.calc_rdm(reps[0], "sqeuclidean").dissimilarity_measure == "squared euclidean"
    other = Representation(rng.normal(size=(10, 3)), ids[::-1])
    with pytest.raises(StimulusMismatchError, match="same stimuli"):
        R.calc_rdm([reps[0], other])


def test_calc_rdm_noise_options(rng):
    ids = [f"s{i}" for i in range(9)]
    Y = rng.normal(size=(3, 9, 5))
    rep = Representation(Y.mean(0), ids, repeats=Y)
    P = R.noise_precision(rep, "repeats")
    assert np.allclose(R.calc_rdm(rep, "mahalanobis", noise="repeats").dissimilarities[0],
                       R.pattern_rdms(Y.mean(0), "mahalanobis", precision=P), atol=1e-14)
    assert np.allclose(R.calc_rdm(rep, "crossnobis", noise=P).dissimilarities[0],
                       R.crossnobis_rdms(Y, precision=P), atol=1e-14)
    Pp = R.prec_from_residuals(rep.data)
    assert np.allclose(R.calc_rdm(rep, "mahalanobis", noise="patterns").dissimilarities[0],
                       R.pattern_rdms(rep.data, "mahalanobis", precision=Pp), atol=1e-14)
    bare = Representation(Y.mean(0), ids)
    with pytest.raises(InvalidInputError, match="crossnobis needs repeated measurements"):
        R.calc_rdm(bare, "crossnobis")
    with pytest.raises(InvalidInputError, match="source='patterns'"):
        R.calc_rdm(bare, "mahalanobis", noise="repeats")
    with pytest.raises(InvalidInputError, match="only applies"):
        R.calc_rdm(bare, "correlation", noise="repeats")


def test_errors_are_actionable(rng):
    X = rng.normal(size=(6, 4))
    X[2] = 1.0
    with pytest.raises(InvalidInputError, match="constant across features"):
        R.pattern_rdms(X, "correlation")
    with pytest.raises(InvalidInputError, match="distance must be one of"):
        R.pattern_rdms(X, "manhattan")
    with pytest.raises(InvalidInputError, match=r"\(4, 4\)"):
        R.pattern_rdms(X, "mahalanobis", precision=np.eye(3))
    with pytest.raises(InvalidInputError, match="must be symmetric"):
        R.pattern_rdms(X, "mahalanobis", precision=np.triu(np.ones((4, 4))))
    with pytest.raises(InvalidInputError, match="at least 2 runs"):
        R.crossnobis_rdms(rng.normal(size=(1, 5, 3)))
    with pytest.raises(InvalidInputError, match="zero residual variance"):
        R.cov_from_residuals(np.ones((5, 3)))
