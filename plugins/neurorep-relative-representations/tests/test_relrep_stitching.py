"""The paper's check in miniature: two nets from different seeds, compared and stitched through anchors.

Two scikit-learn MLPs (one tanh hidden layer of 32 units, the latent space) are trained
on scikit-learn's digits from different random seeds. Their latent spaces share no
coordinates (matched rows of the absolute embeddings are about orthogonal), yet the
relative representations of the same held-out digits, with the same anchor digits,
agree closely; and a classifier trained on seed B's relative space reads seed A's
relative space zero-shot, well above chance (0.1), while the same classifier trained on
seed B's absolute space is near chance on seed A. Moschella et al. (2023) report this
for CNN/transformer encoders on MNIST/CIFAR/ImageNet with 300-1280 anchors; the numbers
here are from this miniature only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from neurorep import Representation

from neurorep_relrep import RelativeDecoder, RelativeSimilarity, row_agreement, zero_shot_stitch

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

N_ANCHORS = 64


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    # small BLAS problems run many times slower with threads on a busy shared machine
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def digits_nets():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    nets = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seed in (1, 2):
            nets.append(MLPClassifier(hidden_layer_sizes=(32,), activation="tanh", max_iter=60,
                                      random_state=seed).fit(Xtr, ytr))

    def encode(net, Z):
        return np.tanh(Z @ net.coefs_[0] + net.intercepts_[0])

    enc = {name: (encode(n, Xtr), encode(n, Xte)) for name, n in zip("AB", nets)}
    return enc, ytr, yte, [n.score(Xte, yte) for n in nets]


def test_seeds_agree_far_more_in_relative_than_in_absolute_form(digits_nets):
    enc, ytr, yte, acc = digits_nets
    assert min(acc) > 0.9  # both nets learned the task
    ids = tuple(f"d{i}" for i in range(len(ytr)))
    a, b = Representation(enc["A"][0], ids), Representation(enc["B"][0], ids)
    relative = RelativeSimilarity(n_anchors=N_ANCHORS, exclude_anchors=True, random_state=0).analyze(a, b)[0]
    absolute = float(row_agreement(enc["A"][0], enc["B"][0]).mean())
    assert relative.score > 0.9
    assert abs(absolute) < 0.2
    assert relative.score - absolute > 0.7


def test_zero_shot_stitching_is_far_above_chance_and_absolute_stitching_is_not(digits_nets):
    enc, ytr, yte, _ = digits_nets
    (A_tr, A_te), (B_tr, B_te) = enc["A"], enc["B"]
    pred, dec = zero_shot_stitch(B_tr, ytr, A_te, lambda idx: A_tr[idx], n_anchors=N_ANCHORS, random_state=0)
    stitched = float(np.mean(pred == yte))
    same = float(np.mean(dec.predict(B_te) == yte))
    absolute = LogisticRegression(max_iter=2000).fit(B_tr, ytr)
    abs_same, abs_stitched = absolute.score(B_te, yte), absolute.score(A_te, yte)
    assert same > 0.9 and abs_same > 0.9  # both decoders work on the encoder they were trained on
    assert stitched > 0.8  # zero-shot: the decoder never saw encoder A
    assert abs_stitched < 0.25  # chance is 0.1
    assert stitched - abs_stitched > 0.6


def test_decoder_anchors_come_from_the_training_rows(digits_nets):
    enc, ytr, _, _ = digits_nets
    B_tr = enc["B"][0]
    dec = RelativeDecoder(anchor_index=[5, 0, 9], task="classification").fit(B_tr, ytr)
    np.testing.assert_array_equal(dec.anchors_, B_tr[[5, 0, 9]])
    np.testing.assert_allclose(dec.transform(B_tr[[5]])[0, 0], 1.0)
    assert dec.transform(B_tr).shape == (len(ytr), 3)
