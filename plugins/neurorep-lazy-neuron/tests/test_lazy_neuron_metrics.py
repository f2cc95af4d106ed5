"""sparsity.nonzero against exact counts on constructed arrays, and the population measures' closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation
from neurorep.errors import InvalidInputError

from neurorep_lazy_neuron import NonzeroSparsity, hoyer_sparseness, sparsity_profile, treves_rolls_sparseness


def _planted(n_inputs=50, n_units=40, seed=0):
    """Rows with a planted number of entries above 0.1 in size, some tiny non-zeros, the rest exact zeros."""
    rng = np.random.default_rng(seed)
    a = np.zeros((n_inputs, n_units))
    k_big = rng.integers(0, n_units + 1, n_inputs)
    k_tiny = np.array([rng.integers(0, n_units - k + 1) for k in k_big])
    for i in range(n_inputs):
        pos = rng.permutation(n_units)
        a[i, pos[:k_big[i]]] = rng.choice([-1, 1], k_big[i]) * rng.uniform(0.2, 3.0, k_big[i])
        a[i, pos[k_big[i]:k_big[i] + k_tiny[i]]] = rng.uniform(1e-6, 0.05, k_tiny[i])
    return a, k_big, k_tiny


def _rep(a, name="x"):
    return Representation(a, tuple(f"s{i}" for i in range(a.shape[0])), name=name)


def test_nonzero_fraction_equals_an_exact_count():
    a, k_big, k_tiny = _planted()
    n_units = a.shape[1]
    rows = NonzeroSparsity().analyze(_rep(a))
    exact = [sum(1 for v in row if v != 0) / n_units for row in a.tolist()]
    np.testing.assert_allclose(exact, (k_big + k_tiny) / n_units)
    assert rows[0].metric == "nonzero_fraction" and rows[0].n == a.shape[0]
    assert rows[0].score == pytest.approx(np.mean(exact), abs=1e-15)
    assert rows[0].extra["quantiles"]["0.5"] == pytest.approx(np.quantile(exact, 0.5))
    assert rows[0].extra["min"] == min(exact) and rows[0].extra["max"] == max(exact)
    # a tolerance between the tiny values (< 0.05) and the planted ones (> 0.2) counts only the planted ones
    thr = NonzeroSparsity(tol=0.1, population_measures=False).analyze(_rep(a))
    assert len(thr) == 1
    assert thr[0].score == pytest.approx(np.mean(k_big / n_units), abs=1e-15)
    # side="positive": only entries above the threshold on the positive side (units that fire)
    pos = NonzeroSparsity(side="positive", population_measures=False).analyze(_rep(a))[0]
    assert pos.score == pytest.approx(np.mean([sum(1 for v in row if v > 0) / n_units for row in a.tolist()]),
                                      abs=1e-15)
    assert pos.score < rows[0].score  # the planted signs are half negative
    # dead units: columns never above the threshold
    b = a.copy()
    b[:, :7] = 0.0
    dead = NonzeroSparsity().analyze(_rep(b))[0].extra["dead_units"]
    assert dead == pytest.approx(np.mean([not np.any(b[:, j]) for j in range(n_units)]))


def test_relative_tolerance_is_scale_free_and_counts_against_each_rows_maximum():
    a, _, _ = _planted(seed=3)
    rel = NonzeroSparsity(tol=0.3, tol_mode="relative")
    s1 = rel.analyze(_rep(a))[0].score
    s2 = rel.analyze(_rep(1e4 * a))[0].score
    assert s1 == pytest.approx(s2, abs=1e-15)
    mags = np.abs(a)
    exact = [np.sum(r > 0.3 * r.max()) / a.shape[1] for r in mags]
    assert s1 == pytest.approx(np.mean(exact), abs=1e-15)


@pytest.mark.parametrize("n,k", [(10, 1), (10, 4), (37, 37), (64, 9)])
def test_population_measures_match_their_closed_forms_for_k_equal_active_units(n, k):
    row = np.zeros((1, n))
    row[0, :k] = 2.5
    tr = treves_rolls_sparseness(row)[0]
    hoyer = hoyer_sparseness(row)[0]
    assert tr == pytest.approx((1 - k / n) / (1 - 1 / n), abs=1e-12)
    assert hoyer == pytest.approx((np.sqrt(n) - np.sqrt(k)) / (np.sqrt(n) - 1), abs=1e-12)


def test_population_rows_of_the_analyzer_and_undefined_zero_rows():
    rng = np.random.default_rng(1)
    a = np.maximum(rng.standard_normal((30, 20)), 0)
    a[4] = 0.0  # an input with no activity: undefined sparseness, left out
    rows = NonzeroSparsity().analyze(_rep(a))
    assert [r.metric for r in rows] == ["nonzero_fraction", "treves_rolls_sparseness", "hoyer_sparseness"]
    keep = np.arange(30) != 4
    # the Treves-Rolls activity ratio written out with loops
    ratios = []
    for r in a[keep]:
        ratios.append((sum(r) / 20) ** 2 / (sum(v * v for v in r) / 20))
    assert rows[1].score == pytest.approx(np.mean((1 - np.array(ratios)) / (1 - 1 / 20)), abs=1e-12)
    assert rows[1].n == 29 and rows[1].extra["n_undefined"] == 1
    assert rows[2].n == 29


def test_profile_over_layers_and_informative_errors():
    a, k_big, k_tiny = _planted()
    b = np.abs(a) * (np.abs(a) > 1.0)
    prof = sparsity_profile({"l0": _rep(a), "l1": _rep(b)})
    assert list(prof) == ["l0", "l1"]
    assert prof["l0"]["mean"] == pytest.approx(np.mean((k_big + k_tiny) / a.shape[1]))
    assert prof["l1"]["mean"] == pytest.approx(np.mean(b != 0))  # same number of columns in every row
    with pytest.raises(InvalidInputError, match="sparsity.nonzero.*tol must be"):
        NonzeroSparsity(tol=-1).analyze(_rep(a))
    with pytest.raises(InvalidInputError, match="sparsity.nonzero.*tol_mode"):
        NonzeroSparsity(tol_mode="percent").analyze(_rep(a))
    with pytest.raises(InvalidInputError, match="sparsity.nonzero.*one input"):
        NonzeroSparsity().analyze(_rep(a), _rep(a))
