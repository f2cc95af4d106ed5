"""A miniature of the paper's simulation: which layer generated the data?

Small MLPs (3 tanh hidden layers + the output layer) are trained on scikit-learn's
digits from several random seeds. The data is one layer of the network of seed ``k``
measured on 100 held-out digits with added Gaussian noise; the candidates are the 4
layers, each represented by the RDMs of that layer in the networks of all OTHER seeds.
tRSA must pick the data-generating layer well above chance (1/4) and stay above chance
as the noise rises. Lin & Kriegeskorte (2024) do this with 10-layer CNNs on CIFAR-10
and 62 images; the numbers here are from the miniature only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from neurorep import RDMs, Representation
from scipy.stats import binomtest

from neurorep_trsa import pattern_dissimilarities, trsa_model_selection

sklearn = pytest.importorskip("sklearn", reason="the simulation trains scikit-learn MLPs (pip install scikit-learn)")

N_SEEDS = 6
PER_CLASS = 10
NOISES = (0.0, 1.0, 2.0)  # noise SD relative to the layer's activation SD
DRAWS = 2  # noise draws per (seed, layer) when noise > 0
SETTINGS = {
    "RGTM l=0.2 u=0.8": {"l": 0.2, "u": 0.8},
    "RGTM l=0.4 u=0.6": {"l": 0.4, "u": 0.6},
    "RSA (l=0 u=1, no rank)": {"l": 0.0, "u": 1.0, "rank": False},
}


@pytest.fixture(scope="module")
def layers():
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    stim = np.concatenate([np.flatnonzero(y == c)[:PER_CLASS] for c in range(10)])
    train = np.setdiff1d(np.arange(len(y)), stim)
    nets = []
    for seed in range(N_SEEDS):
        clf = MLPClassifier(hidden_layer_sizes=(32, 32, 32), activation="tanh", learning_rate_init=1e-2,
                            max_iter=60, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X[train], y[train])
        assert clf.score(X[stim], y[stim]) > 0.85  # the networks learned the task
        h, acts = X[stim], []
        for k, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
            h = h @ W + b
            if k < len(clf.coefs_) - 1:
                h = np.tanh(h)
            acts.append(h)
        nets.append(acts)
    ids = [f"digit-{i}" for i in stim]
    return nets, ids


def _accuracy(nets, ids, noise, params, rng):
    n_layers = len(nets[0])
    base = {(s, j): pattern_dissimilarities(nets[s][j], "correlation") for s in range(N_SEEDS) for j in range(n_layers)}
    hits, margins = [], []
    for _ in range(DRAWS if noise > 0 else 1):
        for s in range(N_SEEDS):
            candidates = {f"layer{j}": RDMs(np.stack([base[(t, j)] for t in range(N_SEEDS) if t != s]), ids)
                          for j in range(n_layers)}
            for layer in range(n_layers):
                act = nets[s][layer]
                data = Representation(act + noise * act.std() * rng.standard_normal(act.shape), ids)
                sel = trsa_model_selection(data, candidates, **params)
                hits.append(sel.winner == f"layer{layer}")
                margins.append(sel.margin if hits[-1] else -sel.margin)
    return float(np.mean(hits)), len(hits), float(np.mean(margins))


def test_data_generating_layer_is_selected_above_chance(layers):
    nets, ids = layers
    chance = 1.0 / len(nets[0])
    table = {}
    for name, params in SETTINGS.items():
        rng = np.random.default_rng(2024)
        table[name] = [_accuracy(nets, ids, noise, params, rng) for noise in NOISES]
    print("\nlayer identification accuracy (chance %.2f); noise SD relative to activation SD" % chance)
    print("%-24s" % "statistic" + "".join("  noise=%-4g" % z for z in NOISES))
    for name, row in table.items():
        print("%-24s" % name + "".join("  %.2f (n=%d)" % (acc, n) for acc, n, _ in row))
    for name in ("RGTM l=0.2 u=0.8", "RGTM l=0.4 u=0.6"):
        row = table[name]
        assert row[0][0] >= 0.6, (name, row)  # noise-free: well above chance
        for noise, (acc, n, margin) in zip(NOISES, row):
            p = binomtest(round(acc * n), n, chance, alternative="greater").pvalue
            assert p < 1e-3, f"{name} at noise {noise}: accuracy {acc:.2f} over {n} trials is not above chance"
