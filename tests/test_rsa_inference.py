"""Inference (neurorep.rsa.inference) against rsatoolbox, scipy and brute force."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import pdist

from neurorep.errors import InvalidInputError
from neurorep.rsa import inference as I
from neurorep.rsa.comparisons import compare

rt = pytest.importorskip("rsatoolbox")
from rsatoolbox.inference import boot_noise_ceiling  # noqa: E402
from rsatoolbox.rdm import compare as rt_compare  # noqa: E402
from rsatoolbox.rdm.rdms import permute_rdms  # noqa: E402
from rsatoolbox.util.inference_util import bootstrap_pair_tests as rt_pair_tests  # noqa: E402

warnings.filterwarnings("ignore", module="rsatoolbox")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

RT_NAMES = {"pearson": "corr", "spearman": "spearman", "rho-a": "rho-a", "tau-a": "tau-a", "cosine": "cosine",
            "whitened-pearson": "corr_cov", "whitened-cosine": "cosine_cov", "bures": "bures"}
N_STIM = 9  # single-digit pattern labels: rsatoolbox sorts its pattern descriptors as strings


@pytest.fixture
def problem():
    """Four subject RDMs sharing a structure, three models (one related, one with ties, one unrelated)."""
    rng = np.random.default_rng(11)
    base = rng.normal(size=(N_STIM, 4))
    data = np.stack([pdist(base + 0.6 * rng.normal(size=(N_STIM, 4))) for _ in range(4)])
    models = np.stack([pdist(base + 0.8 * rng.normal(size=(N_STIM, 4))),
                       np.round(pdist(base + 1.5 * rng.normal(size=(N_STIM, 4)))),
                       pdist(rng.normal(size=(N_STIM, 4)))])
    return models, data


@pytest.mark.parametrize("method", list(RT_NAMES)[:-1])
def test_noise_ceiling_matches_rsatoolbox(problem, method):
    _, data = problem
    nc = I.noise_ceiling(data, method)
    lo, hi = boot_noise_ceiling(rt.rdm.RDMs(data), method=RT_NAMES[method])
    assert nc.lower == pytest.approx(lo, abs=1e-10) and nc.upper == pytest.approx(hi, abs=1e-10)
    assert nc.lower < nc.upper and nc.lower_per_subject.shape == (4,)


def test_noise_ceiling_closed_form():
    """Identical subjects: both bounds are 1; the upper bound is the mean comparison with the group mean."""
    rng = np.random.default_rng(0)
    v = pdist(rng.normal(size=(8, 3)))
    nc = I.noise_ceiling(np.stack([v, v, v]), "pearson")
    assert nc.lower == pytest.approx(1.0) and nc.upper == pytest.approx(1.0)
    data = np.stack([pdist(rng.normal(size=(8, 3))) for _ in range(3)])
    z = (data - data.mean(1, keepdims=True)) / data.std(1, keepdims=True)
    assert I.noise_ceiling(data, "pearson").upper == pytest.approx(compare(z.mean(0), data, "pearson").mean())
    loo = [compare(z[[k for k in range(3) if k != s]].mean(0), data[s], "pearson")[0, 0] for s in range(3)]
    assert I.noise_ceiling(data, "pearson").lower == pytest.approx(np.mean(loo))
    with pytest.raises(InvalidInputError, match="at least 2 subjects"):
        I.noise_ceiling(data[:1])


def _rt_resampled(models, data, idx, method):
    d = rt.rdm.RDMs(data).subsample_pattern("index", idx)
    m = rt.rdm.RDMs(models).subsample_pattern("index", idx)
    return rt_compare(m, d, RT_NAMES[method]).mean(1)


@pytest.mark.parametrize("method", sorted(I.STIMULUS_BOOTSTRAP_METHODS))
def test_stimulus_bootstrap_equals_rsatoolbox_resampling(problem, method):
    """The weighted (vectorised) bootstrap gives rsatoolbox's value for each resample: duplicated stimuli's
    mutual dissimilarities dropped, the rest repeated."""
    models, data = problem
    idx = np.random.default_rng(2).integers(0, N_STIM, size=(6, N_STIM))
    res = I.bootstrap(models, data, method, stimulus_indices=idx)
    ref = np.array([_rt_resampled(models, data, row, method) for row in idx])
    assert res.samples.shape == (6, 3)
    assert np.allclose(res.samples, ref, atol=1e-10)
    assert np.allclose(res.observed, compare(models, data, method).mean(1), atol=1e-14)


def test_eval_bootstrap_pattern_reproduced_end_to_end(problem):
    """rsatoolbox's eval_bootstrap_pattern draws np.random.randint(0, n, n) per sample: with the same draws,
    neurorep's bootstrap returns its evaluations."""
    models, data = problem
    np.random.seed(123)
    ref = rt.inference.eval_bootstrap_pattern([rt.model.ModelFixed(f"m{k}", rt.rdm.RDMs(models[k]))
                                               for k in range(3)], rt.rdm.RDMs(data), method="spearman", N=8,
                                              boot_noise_ceil=False)
    np.random.seed(123)
    idx = np.stack([np.random.randint(0, N_STIM, size=N_STIM) for _ in range(8)])
    ours = I.bootstrap(models, data, "spearman", stimulus_indices=idx)
    assert np.allclose(ours.samples, ref.evaluations, atol=1e-10)


def test_subject_and_joint_bootstrap(problem):
    models, data = problem
    rng = np.random.default_rng(4)
    sidx = rng.integers(0, 4, size=(5, 4))
    res = I.bootstrap(models, data, "whitened-cosine", over="subjects", subject_indices=sidx)
    ref = np.array([rt_compare(rt.rdm.RDMs(models), rt.rdm.RDMs(data[row]), "cosine_cov").mean(1) for row in sidx])
    assert np.allclose(res.samples, ref, atol=1e-12)
    pidx = rng.integers(0, N_STIM, size=(5, N_STIM))
    both = I.bootstrap(models, data, "pearson", over="both", subject_indices=sidx, stimulus_indices=pidx)
    ref = np.array([_rt_resampled(models, data[s], p, "pearson") for s, p in zip(sidx, pidx, strict=True)])
    assert np.allclose(both.samples, ref, atol=1e-10)


def test_bootstrap_ci_is_seeded_and_covers(problem):
    models, data = problem
    a = I.bootstrap(models, data, "spearman", n_bootstrap=300, random_state=1)
    b = I.bootstrap(models, data, "spearman", n_bootstrap=300, random_state=1)
    c = I.bootstrap(models, data, "spearman", n_bootstrap=300, random_state=2)
    assert np.array_equal(a.samples, b.samples) and not np.array_equal(a.samples, c.samples)
    assert np.all(a.ci_low <= a.observed) and np.all(a.observed <= a.ci_high)
    assert np.allclose(a.ci_low, np.percentile(a.samples, 2.5, axis=0))
    assert np.all(a.se > 0)
    with pytest.raises(InvalidInputError, match="over='subjects'"):
        I.bootstrap(models, data, "whitened-cosine", n_bootstrap=5)


@pytest.mark.parametrize("method", list(RT_NAMES))
def test_permutations_equal_rsatoolbox_relabelling(problem, method):
    """Each null value is rsatoolbox's comparison with the data relabelled by permute_rdms."""
    models, data = problem
    perms = np.stack([np.random.default_rng(k).permutation(N_STIM) for k in range(5)])
    res = I.permutation_test(models, data, method, permutations=perms)
    ref = np.array([rt_compare(rt.rdm.RDMs(models), permute_rdms(rt.rdm.RDMs(data), p), RT_NAMES[method]).mean(1)
                    for p in perms])
    tol = 1e-6 if method == "bures" else 1e-10  # rsatoolbox's Bures path: see test_rsa_compare
    assert np.allclose(res.null, ref, atol=tol)


def test_permutation_with_pattern_covariance(problem):
    models, data = problem
    S = np.eye(N_STIM) + 0.3
    perms = np.stack([np.random.default_rng(k).permutation(N_STIM) for k in range(3)])
    res = I.permutation_test(models, data, "whitened-pearson", permutations=perms, sigma_k=S)
    inv = np.argsort(perms, 1)
    ref = np.array([compare(permute_rdms(rt.rdm.RDMs(models), q).get_vectors(), data, "whitened-pearson",
                            sigma_k=S).mean(1) for q in inv])
    assert np.allclose(res.null, ref, atol=1e-10)


def test_permutation_p_values(problem):
    models, data = problem
    res = I.permutation_test(models, data, "spearman", n_permutations=999, random_state=0)
    assert res.null.shape == (999, 3)
    exact = (1 + (res.null >= res.observed[None] - 1e-12).sum(0)) / 1000
    assert np.allclose(res.p_values, exact)
    assert res.p_values[0] < 0.01 and res.p_values[2] > 0.05  # planted relation vs unrelated model
    assert np.all(res.p_max >= res.p_values)
    again = I.permutation_test(models, data, "spearman", n_permutations=999, random_state=0)
    assert np.array_equal(again.null, res.null)
    tau = I.permutation_test(models, data, "tau-a", n_permutations=50, random_state=0)
    assert tau.p_values[0] < 0.05
    with pytest.raises(InvalidInputError, match="permute"):
        I.permutation_test(models, data, permutations=np.zeros((2, N_STIM), dtype=int))


def test_max_statistic_and_fdr():
    rng = np.random.default_rng(0)
    null = rng.normal(size=(200, 5))
    obs = np.array([3.0, 0.1, 2.0, -1.0, 1.0])
    p_max = I.max_statistic_pvalues(obs, null)
    brute = [(1 + sum(null[r].max() >= o for r in range(200))) / 201 for o in obs]
    assert np.allclose(p_max, brute)
    p_less = I.max_statistic_pvalues(obs, null, "less")
    assert np.allclose(p_less, [(1 + sum(null[r].min() <= o for r in range(200))) / 201 for o in obs])
    p = rng.random(30) ** 2
    assert np.allclose(I.fdr_bh(p), stats.false_discovery_control(p, method="bh"))
    q = I.fdr_bh(np.array([[0.01, np.nan], [0.04, 0.03]]))
    assert np.isnan(q[0, 1]) and np.allclose(q[~np.isnan(q)], stats.false_discovery_control([0.01, 0.04, 0.03]))


def test_paired_model_comparisons(problem):
    models, data = problem
    bs = I.bootstrap(models, data, "spearman", n_bootstrap=200, random_state=3)
    assert np.allclose(I.bootstrap_pair_tests(bs.samples), rt_pair_tests(bs.samples.copy()))
    diff = I.bootstrap_difference(bs)
    assert diff["difference"][0, 2] == pytest.approx(bs.observed[0] - bs.observed[2])
    assert diff["ci_low"][0, 2] > 0  # the related model beats the unrelated one
    scores = compare(models, data, "spearman").T  # (subjects, models)
    t, p = I.subject_pair_t_tests(scores)
    ref = stats.ttest_rel(scores[:, 0], scores[:, 2])
    assert t[0, 2] == pytest.approx(ref.statistic) and p[0, 2] == pytest.approx(ref.pvalue)
    assert t[2, 0] == pytest.approx(-ref.statistic) and p[1, 1] == 1.0


def test_counts_and_weights():
    idx = np.array([[0, 0, 2, 3], [1, 1, 1, 1]])
    cnt = I.counts_from_indices(idx, 4)
    assert np.array_equal(cnt, [[2, 0, 1, 1], [0, 4, 0, 0]])
    w = I.pair_weights(cnt)
    assert np.array_equal(w[0], [0, 2, 2, 0, 0, 1]) and w[1].sum() == 0
    assert np.array_equal(I.permuted_pair_index(np.array([[0, 1, 2, 3]]), 4)[0], np.arange(6))
    v = np.arange(6.0)
    perm = np.array([[3, 2, 1, 0]])
    D = np.zeros((4, 4))
    D[np.triu_indices(4, 1)] = v
    D = D + D.T
    iu = np.triu_indices(4, 1)
    assert np.array_equal(v[I.permuted_pair_index(perm, 4)[0]], D[perm[0]][:, perm[0]][iu])
