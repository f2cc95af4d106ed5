"""Exact identities of the network construction and the per-node motif counts."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from neurorep.errors import InvalidInputError

from neurorep_network_motifs import correlation_network, motif_features, phase_randomize, transitivity
from neurorep_network_motifs import core


def _random_graph(n, p, seed):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.random((n, n)) < p, k=1)
    return A | A.T


def _brute_cycle4(A):
    """Simple 4-cycles through each node, by enumerating node quadruples."""
    n = A.shape[0]
    out = np.zeros(n)
    for quad in itertools.combinations(range(n), 4):
        a, b, c, d = quad
        # the three distinct 4-cycles on 4 nodes
        for (w, x, y, z) in ((a, b, c, d), (a, b, d, c), (a, c, b, d)):
            if A[w, x] and A[x, y] and A[y, z] and A[z, w]:
                out[list(quad)] += 1
    return out


@pytest.mark.parametrize("p", [0.02, 0.3])  # the sparse and the dense code paths
def test_cycle3_is_half_the_diagonal_of_a_cubed_and_matches_networkx(p):
    A = _random_graph(120, p, 1)
    f = motif_features(A)
    Ai = A.astype(np.int64)
    assert np.array_equal(f["cycle3"], np.diag(Ai @ Ai @ Ai) / 2)
    tri = nx.triangles(nx.from_numpy_array(A.astype(int)))
    assert np.array_equal(f["cycle3"], np.array([tri[i] for i in range(120)], dtype=float))
    assert np.array_equal(f["degree"], A.sum(1).astype(float))
    cl = nx.clustering(nx.from_numpy_array(A.astype(int)))
    np.testing.assert_allclose(f["clustering"], [cl[i] for i in range(120)], rtol=0, atol=1e-12)
    assert transitivity(A) == pytest.approx(nx.transitivity(nx.from_numpy_array(A.astype(int))), abs=1e-12)


@pytest.mark.parametrize("p,seed", [(0.15, 2), (0.5, 3)])
def test_cycle4_counts_equal_brute_force_enumeration(p, seed):
    A = _random_graph(18, p, seed)
    assert np.array_equal(motif_features(A, ("cycle4",))["cycle4"], _brute_cycle4(A))


def test_sparse_and_dense_paths_agree(monkeypatch):
    A = _random_graph(80, 0.1, 4)
    dense = motif_features(A)
    monkeypatch.setattr(core, "_DENSE_ABOVE", 2.0)  # force the sparse path
    sparse = motif_features(A)
    for k in dense:
        np.testing.assert_array_equal(dense[k], sparse[k])


def test_correlation_network_density_threshold_and_correlations():
    rng = np.random.default_rng(5)
    ts = rng.standard_normal((60, 30)) + np.repeat(rng.standard_normal((60, 3)), 10, axis=1)
    A, R = correlation_network(ts, density=0.1)
    np.testing.assert_allclose(R, np.corrcoef(ts.T), atol=1e-12)
    assert A.sum() // 2 == round(0.1 * 30 * 29 / 2)
    assert np.array_equal(A, A.T) and not A.diagonal().any()
    # the kept pairs are the most correlated ones
    iu = np.triu_indices(30, 1)
    assert R[iu][A[iu]].min() >= R[iu][~A[iu]].max()
    B, _ = correlation_network(ts, threshold=0.3)
    assert np.array_equal(B[iu], R[iu] > 0.3)
    C, _ = correlation_network(-ts[:, ::-1] * 3 + 7, density=0.1)  # affine per-column changes keep r (signs flip all)
    assert np.array_equal(C, A[::-1, ::-1])
    D, _ = correlation_network(ts, threshold=0.3, absolute=True)
    assert np.array_equal(D[iu], np.abs(R[iu]) > 0.3)


def test_phase_randomised_surrogates_keep_spectra_and_break_correlations():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((256, 1))
    ts = np.repeat(z, 5, axis=1) + 0.3 * rng.standard_normal((256, 5))
    s = phase_randomize(ts, np.random.default_rng(0))
    np.testing.assert_allclose(np.abs(np.fft.rfft(s, axis=0)), np.abs(np.fft.rfft(ts, axis=0)), rtol=1e-9, atol=1e-9)
    r = np.corrcoef(s.T)[np.triu_indices(5, 1)]
    assert np.corrcoef(ts.T)[np.triu_indices(5, 1)].min() > 0.8 and np.abs(r).max() < 0.4


def test_bad_inputs_say_what_is_wrong():
    rng = np.random.default_rng(7)
    ts = rng.standard_normal((20, 6))
    bad = ts.copy()
    bad[3, 2] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        correlation_network(bad, owner="X")
    const = ts.copy()
    const[:, 4] = 1.0
    with pytest.raises(InvalidInputError, match="constant"):
        correlation_network(const, owner="X")
    with pytest.raises(InvalidInputError, match="density"):
        correlation_network(ts, density=0.0)
    with pytest.raises(InvalidInputError, match="binary"):
        motif_features(np.full((3, 3), 0.5))
    with pytest.raises(InvalidInputError, match="symmetric"):
        motif_features(np.triu(np.ones((3, 3), bool), 1))
    with pytest.raises(InvalidInputError, match="unknown feature"):
        motif_features(np.zeros((3, 3), bool), ("cycle5",))
