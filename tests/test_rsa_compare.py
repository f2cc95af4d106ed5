"""RDM comparisons (neurorep.rsa.compare) and transforms against rsatoolbox, scipy and closed forms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import kendalltau, pearsonr, spearmanr

from neurorep import RDMs
from neurorep.errors import InvalidInputError
from neurorep.rsa import comparisons as C
from neurorep.rsa.transforms import rank_rdms, sqrt_rdms

rt = pytest.importorskip("rsatoolbox")
from rsatoolbox.rdm import compare as rt_compare  # noqa: E402
from rsatoolbox.rdm.compare import _bures_similarity_second_way, _sq_bures_metric_second_way  # noqa: E402

warnings.filterwarnings("ignore", module="rsatoolbox")

TOL = 1e-8
RT_NAMES = {"pearson": "corr", "spearman": "spearman", "rho-a": "rho-a", "tau-a": "tau-a", "cosine": "cosine",
            "whitened-pearson": "corr_cov", "whitened-cosine": "cosine_cov", "bures": "bures",
            "bures-metric": "bures_metric"}


@pytest.fixture
def rdm_sets():
    rng = np.random.default_rng(7)
    n = 11
    base = rng.normal(size=(n, 4))
    a = np.stack([pdist(base + s * rng.normal(size=(n, 4))) for s in (0.3, 0.8, 1.5)])
    b = np.stack([pdist(base + s * rng.normal(size=(n, 4))) for s in (0.5, 1.0, 2.0, 3.0)])
    b[1] = np.round(b[1])              # a model with many tied predictions
    b[3] = (b[3] > np.median(b[3])) * 1.0  # a binary (categorical) model
    return a, b


@pytest.mark.parametrize("method", [m for m in C.COMPARISONS if m not in ("bures", "bures-metric")])
def test_every_comparison_matches_rsatoolbox(rdm_sets, method):
    a, b = rdm_sets
    ours = C.compare(a, b, method)
    ref = rt_compare(rt.rdm.RDMs(a), rt.rdm.RDMs(b), RT_NAMES[method])
    assert ours.shape == (3, 4)
    assert np.allclose(ours, ref, atol=TOL, rtol=0)
    # rsatoolbox's names are accepted as aliases
    assert np.allclose(C.compare(a, b, RT_NAMES[method]), ours, atol=0)


@pytest.mark.parametrize("metric", [False, True])
def test_bures_matches_rsatoolbox(metric):
    """On RDMs with positive semi-definite centred kernels (squared Euclidean distances), neurorep agrees with
    rsatoolbox's SVD path ('second way') to 1e-10. rsatoolbox's default path takes sqrt() of the kernel's
    structural zero eigenvalue, whose rounding error becomes ~1e-9 (neurorep works in the complement of the
    ones vector), so the default path is matched to 1e-6."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=(11, 4))
    a = np.stack([pdist(base + s * rng.normal(size=(11, 4)), "sqeuclidean") for s in (0.3, 1.5)])
    b = np.stack([pdist(rng.normal(size=(11, 3)) + s * base[:, :3], "sqeuclidean") for s in (0.5, 2.0, 0.0)])
    ours = C.bures(a, b, metric=metric)
    GA, GB = C.centred_kernels(a), C.centred_kernels(b)
    f = _sq_bures_metric_second_way if metric else _bures_similarity_second_way
    second = np.array([[f(x, y) for y in GB] for x in GA])
    assert np.allclose(ours, second, atol=1e-10)
    default = rt_compare(rt.rdm.RDMs(a), rt.rdm.RDMs(b), "bures_metric" if metric else "bures")
    assert np.allclose(ours, default, atol=1e-6)


def test_bures_on_indefinite_kernels_projects_to_psd(rdm_sets):
    """Binary and rounded model RDMs have indefinite kernels: both are projected onto the PSD cone, so the
    similarity stays symmetric, <= 1 and 1 on the identity (rsatoolbox clips only the first kernel)."""
    a, b = rdm_sets
    sim = C.bures(a, b)
    assert np.allclose(sim, C.bures(b, a).T, atol=1e-10)
    assert np.all(sim <= 1 + 1e-12)
    assert np.allclose(np.diag(C.bures(b, b)), 1.0, atol=1e-10)
    assert np.allclose(np.diag(C.bures(b, b, metric=True)), 0.0, atol=1e-10)
    # closed form with explicit PSD projections (through eigenvalues of A^1/2 B A^1/2, whose sqrt of rounding-level
    # eigenvalues costs half the digits: compared to 1e-7)
    G = C.centred_kernels(b[3:4])[0]
    w, U = np.linalg.eigh(G)
    Gp = (U * np.clip(w, 0, None)) @ U.T
    H = C.centred_kernels(a[:1])[0]
    w2, U2 = np.linalg.eigh(H)
    sq = (U2 * np.sqrt(np.clip(w2, 0, None))) @ U2.T
    F = np.sqrt(np.clip(np.linalg.eigvalsh(sq @ Gp @ sq), 0, None)).sum()
    assert sim[0, 3] == pytest.approx(F / np.sqrt(np.trace(Gp) * np.clip(w2, 0, None).sum()), abs=1e-7)


def test_pearson_spearman_match_scipy(rdm_sets):
    a, b = rdm_sets
    r = C.compare(a, b, "pearson")
    s = C.compare(a, b, "spearman")
    for i in range(3):
        for j in range(4):
            assert r[i, j] == pytest.approx(pearsonr(a[i], b[j])[0], abs=1e-12)
            assert s[i, j] == pytest.approx(spearmanr(a[i], b[j])[0], abs=1e-12)


def _tau_a_brute(x, y):
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    n = x.size
    return np.sum(np.triu(dx * dy, 1)) / (n * (n - 1) / 2)


def _tied(v):
    _, c = np.unique(v, return_counts=True)
    return np.sum(c * (c - 1) / 2)


def test_tau_a_matches_scipy_and_brute_force(rdm_sets):
    a, b = rdm_sets
    t = C.tau_a(a, b)
    N = a.shape[1]
    T = N * (N - 1) / 2
    for i in range(3):
        for j in range(4):
            assert t[i, j] == pytest.approx(_tau_a_brute(a[i], b[j]), abs=1e-12)
            # scipy's tau-b, rescaled: tau_a = tau_b sqrt((T - tx)(T - ty)) / T
            tb = kendalltau(a[i], b[j]).statistic
            assert t[i, j] == pytest.approx(tb * np.sqrt((T - _tied(a[i])) * (T - _tied(b[j]))) / T, abs=1e-12)
    # ties on both sides (joint ties enter the count)
    x = np.repeat([1.0, 2.0, 3.0], 5)
    y = np.tile([1.0, 1.0, 2.0, 2.0, 3.0], 3)
    assert C.tau_a(x, y)[0, 0] == pytest.approx(_tau_a_brute(x, y), abs=1e-12)
    assert C.tau_a(x, x)[0, 0] == pytest.approx(1 - _tied(x) / (15 * 14 / 2), abs=1e-12)


def _v_inverse_cosine(v1, v2, sigma, demean):
    """Dense closed form: v1' V^-1 v2 / norms, V = (C S C') o (C S C') with C the pairwise contrasts."""
    n = C.n_stimuli_from_pairs(v1.size)
    i0, i1 = np.triu_indices(n, 1)
    Cm = np.zeros((i0.size, n))
    Cm[np.arange(i0.size), i0] = 1
    Cm[np.arange(i0.size), i1] = -1
    Xi = Cm @ sigma @ Cm.T
    V = Xi * Xi
    if demean:
        v1, v2 = v1 - v1.mean(), v2 - v2.mean()
    w1, w2 = np.linalg.solve(V, v1), np.linalg.solve(V, v2)
    return v1 @ w2 / np.sqrt((v1 @ w1) * (v2 @ w2))


@pytest.mark.parametrize("method", ["whitened-cosine", "whitened-pearson"])
def test_whitened_with_pattern_covariance(rdm_sets, method):
    """Full sigma_k: the closed form agrees with a dense solve of V^-1 to 1e-10 and with rsatoolbox's
    conjugate-gradient solution to its solver tolerance (1e-5)."""
    a, b = rdm_sets
    n = 11
    rng = np.random.default_rng(3)
    S = rng.normal(size=(n, n))
    S = S @ S.T / n + np.eye(n)
    ours = C.compare(a, b, method, sigma_k=S)
    dense = np.array([[_v_inverse_cosine(x, y, S, method == "whitened-pearson") for y in b] for x in a])
    assert np.allclose(ours, dense, atol=1e-10)
    ref = rt_compare(rt.rdm.RDMs(a), rt.rdm.RDMs(b), RT_NAMES[method], sigma_k=S)
    assert np.allclose(ours, ref, atol=1e-5)
    # without sigma_k the whitening is by the identity
    assert np.allclose(C.compare(a, b, method), C.compare(a, b, method, sigma_k=np.eye(n)), atol=1e-12)


def test_whitened_with_vector_sigma_follows_rsatoolbox(rdm_sets):
    a, b = rdm_sets
    sig = np.linspace(0.5, 2.0, 11)
    for m in ("whitened-cosine", "whitened-pearson"):
        ref = rt_compare(rt.rdm.RDMs(a), rt.rdm.RDMs(b), RT_NAMES[m], sigma_k=sig)
        assert np.allclose(C.compare(a, b, m, sigma_k=sig), ref, atol=TOL)


def test_embedding_gives_the_comparison(rdm_sets):
    a, b = rdm_sets
    for m in ("pearson", "spearman", "rho-a", "cosine", "whitened-pearson", "whitened-cosine"):
        assert np.allclose(C.embed(a, m) @ C.embed(b, m).T, C.compare(a, b, m), atol=1e-14)
    with pytest.raises(InvalidInputError, match="not a linear comparison"):
        C.embed(a, "tau-a")


def test_identity_and_symmetry(rdm_sets):
    a, _ = rdm_sets
    for m in C.SIMILARITIES:
        assert np.allclose(np.diag(C.compare(a, a, m)), 1.0, atol=1e-9), m
        assert np.allclose(C.compare(a, a, m), C.compare(a, a, m).T, atol=1e-9), m


def test_nan_positions_are_dropped_like_rsatoolbox(rdm_sets):
    a, b = rdm_sets
    a, b = a.copy(), b.copy()
    a[:, 4] = np.nan
    b[:, 4] = np.nan
    for m in ("pearson", "spearman", "cosine", "tau-a"):
        ref = rt_compare(rt.rdm.RDMs(a), rt.rdm.RDMs(b), RT_NAMES[m])
        assert np.allclose(C.compare(a, b, m), ref, atol=TOL)
    b[0, 5] = np.nan
    with pytest.raises(InvalidInputError, match="different positions"):
        C.compare(a, b, "pearson")


def test_inputs_and_errors(rdm_sets):
    a, b = rdm_sets
    ids = [f"s{i}" for i in range(11)]
    assert np.allclose(C.compare(RDMs(a, ids), RDMs(b, ids), "spearman"), C.compare(a, b, "spearman"))
    assert C.compare(a[0], b[0]).shape == (1, 1)
    with pytest.raises(InvalidInputError, match="tau-b is not offered"):
        C.compare(a, b, "kendall")
    with pytest.raises(InvalidInputError, match="different sizes"):
        C.compare(a, b[:, :10])
    with pytest.raises(InvalidInputError, match="n \\* \\(n - 1\\) / 2"):
        C.compare(a[:, :9], b[:, :9], "bures")


def test_transforms():
    ids = ["a", "b", "c", "d"]
    d = np.array([[0.5, 2.0, 2.0, 9.0, 1.0, 4.0]])
    r = rank_rdms(RDMs(d, ids, dissimilarity_measure="euclidean"))
    assert np.array_equal(r.dissimilarities[0], [1.0, 3.5, 3.5, 6.0, 2.0, 5.0])
    assert r.dissimilarity_measure == "rank euclidean"
    # Pearson of ranked RDMs is Spearman of the originals
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 6))
    assert C.compare(rank_rdms(RDMs(x, ids)), rank_rdms(RDMs(y, ids)), "pearson")[0, 0] == pytest.approx(
        spearmanr(x, y)[0], abs=1e-12)
    s = sqrt_rdms(RDMs(d, ids))
    assert np.allclose(s.dissimilarities ** 2, d)
    neg = RDMs(np.array([[4.0, -1.0, 0.0, 1.0, 9.0, 16.0]]), ids, name="cv")
    with pytest.raises(InvalidInputError, match="negative"):
        sqrt_rdms(neg)
    assert sqrt_rdms(neg, "clip").dissimilarities[0, 1] == 0.0
    assert sqrt_rdms(neg, "signed").dissimilarities[0, 1] == -1.0
