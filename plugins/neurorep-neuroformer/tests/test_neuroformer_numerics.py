"""Exact identities of the pieces: tokens, the set likelihood, the rate baseline, the centring, the simulation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import bernoulli

from neurorep_neuroformer import center_connectivity, simulate_network


def test_tokens_reconstruct_the_events():
    from neurorep_neuroformer import core

    rng = np.random.default_rng(0)
    ev = rng.random((40, 5)) < 0.3
    ctx = rng.standard_normal((40, 2))
    tok = core.tokenize(ev, ctx, n_past=3, max_past_tokens=64)
    assert tok.bins.tolist() == list(range(3, 40))
    for s, t in enumerate(tok.bins):
        now = tok.cur_out[s][tok.cur_out[s] >= 0]
        assert now[-1] == 5 and sorted(now[:-1]) == list(now[:-1]) == list(np.flatnonzero(ev[t]))  # sorted + EOS
        assert tok.cur_in[s, 0] == 6 and list(tok.cur_in[s, 1:1 + now.size - 1]) == list(now[:-1])
        past = tok.past_ids[s] < 5
        for j, d in zip(tok.past_ids[s][past], tok.past_dt[s][past]):
            assert ev[t - 1 - d, j]
        assert past.sum() == ev[t - 3:t].sum()
        np.testing.assert_allclose(tok.context[s], ctx[t - 3:t + 1].astype(np.float32))


def test_sequence_probabilities_are_an_exact_distribution_over_spike_sets():
    """With the sorted-order mask, the probabilities of all 2^N subsets of neurons sum to one (untrained model)."""
    import torch

    from neurorep_neuroformer import core

    N = 4
    subsets = [s for k in range(N + 1) for s in itertools.combinations(range(N), k)]
    ev = np.zeros((len(subsets) + 1, N), dtype=bool)
    ev[0] = [True, False, True, False]  # the same past for every subset below
    for r, s in enumerate(subsets, start=1):
        ev[r, list(s)] = True
    tok = core.tokenize(ev, None, n_past=1, max_past_tokens=8)
    # every sample must see the same past: rebuild the past of row 0 for all of them
    tok.past_ids[:] = tok.past_ids[0]
    tok.past_dt[:] = tok.past_dt[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        model = core.TinyNeuroformer(N, 0, 1, d_model=8, n_heads=2, n_layers=2).eval()
    ll = core.sequence_loglik(model, tok)
    assert ll.size == len(subsets) == 16
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-5)


def test_rate_baseline_matches_scipy_bernoulli():
    from neurorep_neuroformer import core

    rng = np.random.default_rng(1)
    train, test = rng.random((200, 3)) < [0.1, 0.3, 0.5], rng.random((50, 3)) < 0.3
    p = train.mean(0)
    want = bernoulli.logpmf(test.astype(int), p[None, :]).sum(1)
    np.testing.assert_allclose(core.rate_baseline_loglik(train, test), want, rtol=1e-12)


def test_centring_removes_planted_row_and_column_effects():
    rng = np.random.default_rng(2)
    n = 10
    A = np.zeros((n, n), dtype=bool)
    A[np.arange(n), (np.arange(n) + 3) % n] = True
    C = rng.random(n)[:, None] * 5 + rng.random(n)[None, :] * 5 + 0.5 * A  # salience swamps the edges
    off = ~np.eye(n, dtype=bool)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(A[off], C[off]) < 0.9
    assert roc_auc_score(A[off], center_connectivity(C)[off]) == 1.0
    assert np.all(np.diag(center_connectivity(C)) == 0)


def test_simulation_has_the_planted_structure():
    net = simulate_network(n_neurons=12, n_bins=3000, random_state=0)
    A = net.adjacency
    assert A.sum(1).tolist() == [2] * 12 and not np.any(A & A.T) and not np.any(np.diag(A))
    y = net.spikes
    # a presynaptic spike raises the target's spike probability one bin later
    j, i = np.argwhere(A)[0]
    after = y[1:, i][y[:-1, j] == 1].mean()
    assert after > 2 * y[:, i].mean()
    assert np.array_equal(simulate_network(n_bins=3000, random_state=0).spikes, y)  # seeded
    with pytest.raises(ValueError, match="out_degree"):
        simulate_network(n_neurons=4, out_degree=2)
