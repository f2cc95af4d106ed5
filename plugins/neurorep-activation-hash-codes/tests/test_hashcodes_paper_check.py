"""The paper's check at small scale (scikit-learn's digits, MLPs trained in the test): a wide trained ReLU MLP gives
(almost) one linear region per training example, a very narrow one has heavy collisions, and K-NN on the codes
(Hamming) is far above chance on held-out digits; the phase chart over width x training time x sample size.

Measured (1 torch thread, seed 0, 1,347 training / 450 test digits): width 256 after 20 epochs: 0.996 unique
training codes (1,341 regions), K-NN test accuracy 0.88 (chance 0.10); width 2: 2 regions for 1,347 examples;
width 3: 3 regions."""

from __future__ import annotations

import numpy as np
import pytest

from neurorep_hashcodes import (
    REGIMES,
    activation_codes,
    assign_regimes,
    determinism_stats,
    digits_split,
    knn_hamming_predict,
    phase_chart,
    train_relu_mlp,
)

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits():
    return digits_split(random_state=0)


def test_wide_trained_mlp_hashes_training_digits_and_a_narrow_one_collides(digits):
    Xtr, ytr, Xte, yte = digits
    wide = train_relu_mlp(Xtr, ytr, width=256, epochs=20, random_state=0)
    c_tr, c_te = activation_codes(wide, Xtr).codes, activation_codes(wide, Xte).codes
    st = determinism_stats(c_tr)
    assert st["unique_code_fraction"] >= 0.98 and st["singleton_region_share"] >= 0.98     # measured 0.996, 0.996
    knn = float(np.mean(knn_hamming_predict(c_tr, ytr, c_te, n_neighbors=9) == yte))
    assert knn >= 0.75                                                                   # measured 0.88; chance 0.1
    for width, max_regions in ((2, 4), (3, 8)):
        narrow = train_relu_mlp(Xtr, ytr, width=width, epochs=20, random_state=0)
        sn = determinism_stats(activation_codes(narrow, Xtr).codes)
        assert sn["n_regions"] <= max_regions                     # at most 2**width patterns
        assert sn["redundancy_ratio"] > 0.99 and sn["singleton_region_share"] < 0.5


def test_phase_chart_rows_and_regimes(digits):
    rows = phase_chart(widths=[3, 16, 256], epochs=[0, 4], sample_sizes=[200, 600], data=digits, kmeans=False,
                       logistic=False, random_state=0)
    assert len(rows) == 3 * 2 * 2
    keys = {"width", "depth", "n_train", "epoch", "n_units", "train_accuracy", "test_accuracy", "redundancy_ratio",
            "singleton_region_share", "knn_accuracy", "test_redundancy_ratio"}
    assert keys <= set(rows[0])
    at = {(r["width"], r["n_train"], r["epoch"]): r for r in rows}
    for n in (200, 600):
        for e in (0, 4):
            # wider nets: fewer collisions; the narrowest collides heavily, the widest hashes every example
            red = [at[(w, n, e)]["redundancy_ratio"] for w in (3, 16, 256)]
            assert red[0] > red[1] > red[2] and red[0] > 0.9 and red[2] <= 0.01
            assert at[(256, n, e)]["knn_accuracy"] > at[(3, n, e)]["knn_accuracy"] + 0.3
    # more examples in the same small net -> more collisions (the sample-size axis)
    assert at[(16, 600, 4)]["redundancy_ratio"] > at[(16, 200, 4)]["redundancy_ratio"]
    # training moves the network: its own test accuracy rises from chance
    assert at[(256, 600, 4)]["test_accuracy"] > at[(256, 600, 0)]["test_accuracy"] + 0.4
    labelled = assign_regimes(rows)
    assert {r["regime"] for r in labelled} <= set(REGIMES)
    assert all(r["regime"] == "under-expressive" for r in labelled if r["width"] == 3)
    assert all(r["regime"] != "under-expressive" for r in labelled if r["width"] == 256)
