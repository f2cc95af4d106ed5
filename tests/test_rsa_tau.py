"""Kendall's tau-a through the compiled counts (neurorep.rsa._tau_numba): ties, permutations, bootstrap weights.

Every value is checked against a brute-force O(N^2) tau-a, rsatoolbox, and neurorep's scipy-kernel path
(``comparisons._FAST_TAU = False``), which the compiled path must equal exactly (integer counts).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import kendalltau

from neurorep.errors import InvalidInputError
from neurorep.rsa import comparisons as C
from neurorep.rsa import inference as I

pytest.importorskip("numba")
rt = pytest.importorskip("rsatoolbox")
from rsatoolbox.rdm import compare as rt_compare  # noqa: E402
from rsatoolbox.rdm.rdms import permute_rdms  # noqa: E402

warnings.filterwarnings("ignore", module="rsatoolbox")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _brute(x, y):
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    N = x.size
    return (sx * sy).sum() / 2 / (N * (N - 1) / 2)


@pytest.fixture
def scipy_path(monkeypatch):
    """Run the body with the scipy-kernel fallback, as when numba is missing."""
    def use(flag: bool):
        monkeypatch.setattr(C, "_FAST_TAU", False if flag else None)
    return use


@pytest.fixture
def tied():
    """Ten stimuli: data with tied dissimilarities, models with heavy ties (rounded, binary, constant) and none."""
    rng = np.random.default_rng(5)
    n = 10
    base = rng.normal(size=(n, 3))
    data = np.stack([np.round(pdist(base + rng.normal(size=(n, 3))), 1), pdist(base + rng.normal(size=(n, 3)))])
    cat = rng.integers(0, 3, size=(n, 1))
    models = np.stack([pdist(base + rng.normal(size=(n, 3))), np.round(pdist(base + rng.normal(size=(n, 3)))),
                       (pdist(cat) > 0).astype(float), np.full(n * (n - 1) // 2, 2.0)])
    return models, data


def test_compiled_tau_a_equals_brute_force_with_ties(tied, scipy_path):
    models, data = tied
    assert C._tau_kernels() is not None
    fast = C.tau_a(data, models)
    for i in range(2):
        for j in range(4):
            assert fast[i, j] == pytest.approx(_brute(data[i], models[j]), abs=1e-15)
    assert np.all(fast[:, 3] == 0.0)                      # a constant model ties every pair
    assert fast[1, 0] == pytest.approx(kendalltau(data[1], models[0]).statistic, abs=1e-14)  # no ties: tau-b
    assert np.allclose(fast, rt_compare(rt.rdm.RDMs(data), rt.rdm.RDMs(models), "tau-a"), atol=1e-12, rtol=0)
    scipy_path(True)
    assert np.array_equal(fast, C.tau_a(data, models))


def test_compiled_tau_a_wide_values():
    """More than 32,767 pairs (n = 257): the counting tree and the data ranks switch to int32."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(257, 4))
    a = pdist(X + rng.normal(size=X.shape))
    b = np.round(pdist(X), 2)
    assert a.size > 32767
    t = C.tau_a(a, b)[0, 0]
    ref = kendalltau(a, b)  # tau-b; tau-a = tau-b * sqrt((T - tx)(T - ty)) / T, ties only in b
    T = a.size * (a.size - 1) / 2
    _, cnt = np.unique(b, return_counts=True)
    tb = (cnt * (cnt - 1) / 2).sum()
    assert t == pytest.approx(ref.statistic * np.sqrt(T * (T - tb)) / T, abs=1e-12)


def test_permutation_null_equals_rsatoolbox_and_scipy_path(tied, scipy_path):
    models, data = tied
    n = 10
    perms = np.stack([np.random.default_rng(s).permutation(n) for s in range(12)])
    res = I.permutation_test(models, data, "tau-a", permutations=perms)
    for r in (0, 5, 11):
        # the null compares each model with the data relabelled by perms[r]: D[pi][:, pi]
        ref = rt_compare(rt.rdm.RDMs(models), permute_rdms(rt.rdm.RDMs(data), perms[r]), "tau-a").mean(1)
        assert np.allclose(res.null[r], ref, atol=1e-12, rtol=0)
    scipy_path(True)
    slow = I.permutation_test(models, data, "tau-a", permutations=perms)
    assert np.array_equal(res.null, slow.null) and np.array_equal(res.observed, slow.observed)
    assert np.array_equal(res.p_values, slow.p_values)


def test_weighted_tau_a_equals_rsatoolbox_resampling(tied, scipy_path):
    """Stimulus-bootstrap weights (from counts, and as explicit pair weights) with ties everywhere."""
    models, data = tied
    n = 10
    idx = np.random.default_rng(3).integers(0, n, size=(8, n))
    cnt = I.counts_from_indices(idx, n)
    got = I.weighted_compare(models, data, method="tau-a", counts=cnt)
    W = I.pair_weights(cnt)
    assert np.array_equal(got, I.weighted_compare(models, data, W, method="tau-a"))
    for b in (0, 4, 7):
        d = rt.rdm.RDMs(data).subsample_pattern("index", idx[b])
        m = rt.rdm.RDMs(models).subsample_pattern("index", idx[b])
        assert np.allclose(got[b], rt_compare(m, d, "tau-a").T, atol=1e-12, rtol=0)
    scipy_path(True)
    slow = I.weighted_compare(models, data, method="tau-a", counts=cnt)
    assert np.allclose(got, slow, atol=1e-15, rtol=0)
    assert np.array_equal(np.isnan(got), np.isnan(slow))


def test_weighted_tau_a_brute_force_multiset():
    """Weights w_p = copies of dissimilarity p: tau-a of the expanded vectors, computed directly."""
    rng = np.random.default_rng(9)
    x = np.round(rng.normal(size=(2, 15)), 1)
    y = np.round(rng.normal(size=(1, 15)), 1)
    w = rng.integers(0, 4, size=(3, 15))
    got = I.weighted_compare(x, y, w, method="tau-a")
    for b in range(3):
        for k in range(2):
            ex, ey = np.repeat(x[k], w[b]), np.repeat(y[0], w[b])
            assert got[b, 0, k] == pytest.approx(_brute(ey, ex), abs=1e-14)
    with pytest.raises(InvalidInputError, match="non-negative integers"):
        I.weighted_compare(x, y, w + 0.5, method="tau-a")
