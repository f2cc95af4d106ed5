"""Exact identities and reference-library oracles for the pieces of DemoVAE and the cohort generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import squareform
from sklearn.linear_model import LinearRegression, Ridge

from neurorep_demovae import (AGE_MEAN, AGE_SD, edges_to_matrix, matrix_to_edges, planted_fc_cohort,
                              sliding_window_fc)
from neurorep_demovae.core import decorrelation, moment_losses, ridge_map


def test_ridge_map_equals_scikit_learn_ridge():
    rng = np.random.default_rng(0)
    for n, p in ((50, 10), (20, 40)):   # primal and dual forms
        X = rng.standard_normal((n, p))
        X -= X.mean(0)
        D = rng.standard_normal((n, 2))
        W = ridge_map(X, D, 3.0)
        ref = Ridge(alpha=3.0, fit_intercept=False).fit(X, D).coef_.T
        np.testing.assert_allclose(W, ref, rtol=1e-8, atol=1e-10)


def test_batch_decorrelation_and_moments_equal_numpy():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((64, 4))
    d = np.column_stack([z[:, 0] + rng.standard_normal(64), rng.standard_normal(64)])
    r = decorrelation(torch.tensor(z), torch.tensor(d), eps=0.0).numpy()
    ref = np.corrcoef(np.column_stack([d, z]).T)[:2, 2:]
    np.testing.assert_allclose(r, ref, atol=1e-12)
    l_cov, l_mean = moment_losses(torch.tensor(z))
    np.testing.assert_allclose(float(l_cov), np.mean((np.cov(z.T) - np.eye(4)) ** 2), rtol=1e-10)
    np.testing.assert_allclose(float(l_mean), np.mean(z.mean(0) ** 2), rtol=1e-10)


def test_edge_vectors_follow_scipy_squareform():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((7, 7))
    m = a + a.T
    np.fill_diagonal(m, 0.0)
    e = matrix_to_edges(m)
    np.testing.assert_array_equal(e, squareform(m, checks=False))
    np.testing.assert_array_equal(edges_to_matrix(e, diagonal=0.0), m)
    with pytest.raises(ValueError, match="R\\*\\(R-1\\)/2"):
        edges_to_matrix(np.zeros(7))


def test_sliding_window_fc_is_windowed_corrcoef():
    ts = np.random.default_rng(3).standard_normal((40, 5))
    fc = sliding_window_fc(ts, window=10, step=5, fisher_z=False)
    assert fc.shape == (7, 10)
    np.testing.assert_allclose(fc[2], squareform(np.corrcoef(ts[10:20].T) - np.eye(5), checks=False))
    np.testing.assert_allclose(sliding_window_fc(ts, 10, 5), np.arctanh(fc))


@pytest.mark.parametrize("n_timepoints", [None, 300])
def test_generator_plants_the_stated_effects(n_timepoints):
    """Ordinary least squares (scikit-learn) of FC on standardised age and sex recovers the planted maps."""
    c = planted_fc_cohort(1000, n_rois=10, n_timepoints=n_timepoints, random_state=0)
    design = np.column_stack([(c.age - AGE_MEAN) / AGE_SD, c.sex])
    coef = LinearRegression().fit(design, c.fc).coef_
    r_age = np.corrcoef(coef[:, 0], c.age_effect)[0, 1]
    r_sex = np.corrcoef(coef[:, 1], c.sex_effect)[0, 1]
    assert r_age > 0.95 and r_sex > 0.95
    assert not (c.age_edges & c.sex_edges).any()
    if n_timepoints is None:   # exact linear model: the slope is the planted size
        np.testing.assert_allclose(coef[c.age_edges, 0], c.age_effect[c.age_edges], atol=0.03)
    # the structure is shared across draws, the subjects are not
    d = planted_fc_cohort(20, n_rois=10, n_timepoints=n_timepoints, random_state=1)
    np.testing.assert_array_equal(d.age_effect, c.age_effect)
    assert not np.allclose(d.fc[:20], c.fc[:20])
