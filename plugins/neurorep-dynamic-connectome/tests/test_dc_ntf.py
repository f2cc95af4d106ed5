"""The non-negative CP solver: exact identities, planted factors, monotone loss, and tensorly as an oracle."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.errors import InvalidInputError

from neurorep_dynamic_connectome import cp_to_tensor, khatri_rao, nonnegative_cp, unfold


def _planted(shape=(12, 9, 7), rank=3, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    # sparse-ish non-negative factors: a unique (essentially) CP decomposition
    factors = [rng.uniform(0, 1, (s, rank)) * (rng.random((s, rank)) < 0.6) for s in shape]
    T = cp_to_tensor(factors)
    return T + noise * np.abs(rng.standard_normal(T.shape)), factors


def _congruence(A, B):
    """Mean cosine between the columns of A and their best-matching columns of B (Hungarian matching)."""
    from scipy.optimize import linear_sum_assignment

    An = A / np.linalg.norm(A, axis=0)
    Bn = B / np.linalg.norm(B, axis=0)
    C = An.T @ Bn
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].mean())


def test_unfold_khatri_rao_identity():
    """T_(n) == A_n @ khatri_rao(others).T for a CP tensor, in every mode (the MTTKRP layout)."""
    rng = np.random.default_rng(1)
    fs = [rng.random((s, 2)) for s in (4, 3, 5, 2)]
    T = np.einsum("ir,jr,kr,lr->ijkl", *fs)
    assert np.allclose(cp_to_tensor(fs), T)
    for n in range(4):
        others = [f for m, f in enumerate(fs) if m != n]
        assert np.allclose(unfold(T, n), fs[n] @ khatri_rao(others).T)


@pytest.mark.parametrize("solver", ["hals", "mu"])
def test_planted_factors_are_recovered_and_loss_never_increases(solver):
    T, truth = _planted()
    res = nonnegative_cp(T, 3, solver=solver, max_iter=2000 if solver == "mu" else 500, tol=1e-10, n_init=2,
                         random_state=0)
    assert all(np.all(f >= 0) for f in res.factors) and np.all(res.weights >= 0)
    loss = np.array(res.loss)
    assert np.all(np.diff(loss) <= 1e-9 * loss[0]), np.diff(loss).max()
    assert res.relative_error < (1e-3 if solver == "hals" else 2e-2)
    for f, g in zip(res.factors, truth, strict=True):
        assert _congruence(f, g) > (0.999 if solver == "hals" else 0.98)
    assert np.allclose(res.to_tensor(), cp_to_tensor(res.factors, res.weights))
    assert res.loss[-1] == pytest.approx(0.5 * np.sum((T - res.to_tensor()) ** 2), rel=1e-6, abs=1e-12)


def test_matches_tensorly_on_a_noisy_tensor():
    """Same relative error as tensorly's non-negative HALS (an independent implementation) and the same factors."""
    tl = pytest.importorskip("tensorly")
    from tensorly.decomposition import non_negative_parafac_hals

    T, truth = _planted(shape=(15, 10, 8), rank=3, noise=0.05, seed=2)
    ours = nonnegative_cp(T, 3, max_iter=1000, tol=1e-10, n_init=3, random_state=0)
    cp = non_negative_parafac_hals(tl.tensor(T), 3, n_iter_max=1000, tol=1e-10, init="random", random_state=0)
    theirs = [np.asarray(f) for f in cp.factors]
    w = np.asarray(cp.weights) if cp.weights is not None else None
    rel_theirs = np.linalg.norm(T - cp_to_tensor(theirs, w)) / np.linalg.norm(T)
    assert ours.relative_error <= rel_theirs + 1e-3, (ours.relative_error, rel_theirs)
    for f, g in zip(ours.factors, theirs, strict=True):
        assert _congruence(f, g) > 0.99


def test_bad_input_is_refused_with_the_name():
    with pytest.raises(InvalidInputError, match="non-negative"):
        nonnegative_cp(-np.ones((3, 3, 3)), 1)
    with pytest.raises(InvalidInputError, match="solver"):
        nonnegative_cp(np.ones((3, 3)), 1, solver="als")
    with pytest.raises(InvalidInputError, match="rank"):
        nonnegative_cp(np.ones((3, 3)), 0)
