"""Brain similarity of a small model's training checkpoints rises toward a trained reference network.

A reference MLP is trained on scikit-learn's 8 x 8 digits. Three planted "regions" are random linear
mixtures (plus noise of the same variance as the signal) of its three hidden/output layers on 90
held-out digits. A second MLP with another initialisation and batch order is trained, and its layers
at steps 0, 3, 10, 30, 100 and 300 are scored against the regions with ``rsa.correlation``. The overall
similarity must rise with training (Spearman with the step > 0.9), gain more than 0.15 from step 0 to
the last checkpoint, and stay at or below the reference network's own similarity with the regions.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.types import Representation
from scipy.stats import spearmanr

from neurorep_convergence import overall_similarity, similarity_matrix

torch = pytest.importorskip("torch")
datasets = pytest.importorskip("sklearn.datasets")

STEPS = (0, 3, 10, 30, 100, 300)
RSA = ("rsa.correlation", {"comparison": "spearman", "noise_ceiling": False})


def _data():
    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    idx = np.random.default_rng(0).permutation(len(X))
    return X, y, idx[:90], idx[90:]


def _net(seed: int):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                               torch.nn.Linear(32, 10))


def _layers(net, X, ids):
    out, h = {}, torch.from_numpy(X)
    with torch.no_grad():
        for i, mod in enumerate(net):
            h = mod(h)
            if isinstance(mod, torch.nn.ReLU) or i == len(net) - 1:
                out[f"layer{i}"] = Representation(h.numpy().copy(), ids, name=f"layer{i}")
    return out


def _train(net, X, y, train, test, ids, seed, checkpoints=()):
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed)
    Xt, yt = torch.from_numpy(X[train]), torch.from_numpy(y[train])
    states = {}
    for step in range(max(STEPS) + 1):
        if step in checkpoints:
            states[step] = _layers(net, X[test], ids)
        if step == max(STEPS):
            break
        b = rng.choice(len(train), 64)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt[b]), yt[b]).backward()
        opt.step()
    return states


def test_checkpoint_similarity_rises_toward_the_reference():
    X, y, test, train = _data()
    ids = tuple(f"digit{i}" for i in test)
    ref = _net(0)
    _train(ref, X, y, train, test, ids, seed=0)
    ref_layers = _layers(ref, X[test], ids)
    regions = {}
    for k, layer in enumerate(ref_layers):
        rng = np.random.default_rng(100 + k)
        F = ref_layers[layer].data
        F = (F - F.mean(0)) / (F.std(0) + 1e-9)
        V = F @ rng.standard_normal((F.shape[1], 50))
        V = V / V.std(0) + rng.standard_normal((len(ids), 50))
        regions[f"region{k}"] = Representation(V, ids, name=f"region{k}")

    states = _train(_net(1), X, y, train, test, ids, seed=1, checkpoints=STEPS)
    overall = np.array([overall_similarity(similarity_matrix(states[s], regions, *RSA))[0] for s in STEPS])
    reference = overall_similarity(similarity_matrix(ref_layers, regions, *RSA))[0]
    assert spearmanr(STEPS, overall)[0] > 0.9, overall.round(3)
    assert overall[-1] - overall[0] > 0.15, overall.round(3)
    assert overall[-1] <= reference + 1e-9, (overall.round(3), reference)
