"""Affinities: the differential affinity against its definition, bounds, and the tensor layout."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.errors import InvalidInputError

from neurorep_dynamic_connectome import affinity_tensor, pairs_tensor, pairs_to_matrix, sliding_windows, window_affinity


def test_differential_affinity_equals_its_definition():
    rng = np.random.default_rng(0)
    seg = rng.standard_normal((15, 5)).cumsum(axis=0)
    got = window_affinity(seg, "differential")
    d = np.diff(seg, axis=0)
    want = np.empty((5, 5))
    for i in range(5):
        for j in range(5):
            want[i, j] = sum(max(0.0, d[t, i] * d[t, j]) for t in range(d.shape[0])) / np.sqrt(
                (d[:, i] ** 2).sum() * (d[:, j] ** 2).sum())
    assert np.allclose(got, want)
    assert np.allclose(np.diag(got), 1.0) and got.min() >= 0 and got.max() <= 1 + 1e-12


def test_differential_affinity_is_non_linear():
    """Mirror-image traces (every change opposite) have affinity 0, not -1; scaled/shifted copies have 1."""
    t = np.linspace(0, 6, 40)
    x = np.sin(t)
    seg = np.stack([x, -x, 3 * x + 7, np.zeros_like(x)], axis=1)
    a = window_affinity(seg, "differential")
    assert a[0, 1] == pytest.approx(0.0) and a[0, 2] == pytest.approx(1.0)
    assert np.all(a[3] == 0)  # a flat unit is affine to nothing


def test_correlation_affinity_is_rectified_pearson():
    rng = np.random.default_rng(3)
    seg = rng.standard_normal((30, 6))
    r = np.corrcoef(seg.T)
    assert np.allclose(window_affinity(seg, "correlation"), np.maximum(r, 0))


def test_tensor_layout_and_windows():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3, 50, 7))
    T, win = affinity_tensor(X, window=10, step=5)
    assert T.shape == (7, 7, 9, 3) and win.tolist()[:2] == [[0, 10], [5, 15]] and win[-1].tolist() == [40, 50]
    assert np.allclose(T[:, :, 2, 1], window_affinity(X[1, 10:20]))
    T2, _ = affinity_tensor(X[0], window=10, step=5)
    assert np.allclose(T2, T[..., 0])
    P, idx = pairs_tensor(T)
    assert P.shape == (21, 9, 3)
    m = pairs_to_matrix(P[:, 4, 2], 7)
    off = ~np.eye(7, dtype=bool)
    assert np.allclose(m[off], T[:, :, 4, 2][off])
    assert sliding_windows(5, 10).tolist() == [[0, 5]]
    with pytest.raises(InvalidInputError, match="affinity"):
        window_affinity(X[0], "mutual-information")
