"""Judge, embedding and evaluation metrics on planted data and independent references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from neurorep_diffusion_models.data import DEBIAN_FASHION_MNIST_DIR, load_fashion_mnist
from neurorep_diffusion_models.evaluate import (
    RidgeDecoder,
    class_agreement,
    evaluate_images,
    pixel_correlation,
    save_grid,
    ssim,
    two_way_identification,
)
from neurorep_diffusion_models.judge import Judge, JudgeCNN, load_judge, shipped_judge_path, train_judge
from neurorep_diffusion_models.models import PixelPCAEmbedding

HAVE_DATA = DEBIAN_FASHION_MNIST_DIR.is_dir()
NEEDS_DATA = pytest.mark.skipif(not HAVE_DATA, reason="Debian package dataset-fashion-mnist not installed "
                                                      "(apt-get install -y dataset-fashion-mnist)")


@pytest.fixture(scope="module")
def rand_images():
    return np.random.default_rng(0).uniform(-1, 1, (6, 28, 28))


def test_ssim_identity_and_reference(rand_images):
    x = rand_images
    np.testing.assert_allclose(ssim(x, x), 1.0, atol=1e-12)
    y = np.clip(x + np.random.default_rng(1).normal(0, 0.3, x.shape), -1, 1)
    s = ssim(x, y)
    assert np.all(s < 0.95)
    skm = pytest.importorskip("skimage.metrics")
    ref = [skm.structural_similarity(a, b, data_range=2.0, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False) for a, b in zip(x, y, strict=False)]
    np.testing.assert_allclose(s, ref, rtol=1e-10, atol=1e-12)


def test_pixel_correlation_planted(rand_images):
    x = rand_images
    np.testing.assert_allclose(pixel_correlation(x, 0.5 * x + 0.1), 1.0, atol=1e-12)
    np.testing.assert_allclose(pixel_correlation(x, -x), -1.0, atol=1e-12)
    ref = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(x, x[::-1], strict=False)]
    np.testing.assert_allclose(pixel_correlation(x, x[::-1]), ref, atol=1e-12)


def test_two_way_identification_planted():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(30, 16))
    assert two_way_identification(f, f) == 1.0
    assert two_way_identification(-f, f) == 0.0
    # hand-made: item 0's prediction matches target 1 better than target 0 -> 1 of 6 trials wrong
    t = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    p = t.copy()
    p[0] = [0.1, 1.0, 0]
    assert two_way_identification(p, t) == pytest.approx(5 / 6)
    with pytest.raises(ValueError):
        two_way_identification(f[:1], f[:1])


def test_ridge_decoder_recovers_linear_map():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(200, 5))
    w = rng.normal(scale=0.05, size=(5, 28 * 28))
    imgs = (f @ w + 0.1).reshape(200, 28, 28)
    assert np.abs(imgs).max() < 1  # no clipping involved
    dec = RidgeDecoder(alpha=1e-9).fit(f, imgs)
    np.testing.assert_allclose(dec.predict(f[:7]), imgs[:7], atol=1e-8)


def test_pca_embedding_matches_svd_and_inverts_low_rank_data():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 784))
    x = (rng.normal(size=(50, 3)) @ basis) * 0.05 + 0.2
    xt = torch.as_tensor(x, dtype=torch.float32).reshape(50, 1, 28, 28)
    emb = PixelPCAEmbedding(n_components=3).fit(xt)
    z = emb.embed(xt)
    np.testing.assert_allclose(z.double().std(0, unbiased=True).numpy(), 1.0, atol=1e-4)
    np.testing.assert_allclose(emb.decode(z).numpy().reshape(50, -1), x, atol=1e-4)
    # components span the same subspace as numpy's SVD of the centred data
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    np.testing.assert_allclose(np.abs(np.sum(vt[:3] * emb.components.numpy(), axis=1)), 1.0, atol=1e-4)
    assert emb.fingerprint() == PixelPCAEmbedding(n_components=3).fit(xt).fingerprint()


def test_judge_training_is_deterministic_and_learns_planted_classes():
    # two classes separable by brightness of the top vs bottom half (unchanged by the horizontal flips)
    rng = np.random.default_rng(0)
    n = 64
    labels = np.arange(n) % 2
    imgs = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    imgs[labels == 0, :14] += 180
    imgs[labels == 1, 14:] += 180
    kw = dict(epochs=3, batch_size=16, lr=5e-3, seed=3, log=lambda m: None)
    j1, rec = train_judge(imgs, labels, imgs, labels, **kw)
    j2, _ = train_judge(imgs, labels, **kw)
    for k, v in j1.model.state_dict().items():
        assert torch.equal(v, j2.model.state_dict()[k]), k
    assert rec["test_accuracy"] == 1.0
    assert class_agreement(j1, imgs, labels) == 1.0


def test_shipped_judge_loads_with_its_record():
    path = shipped_judge_path()
    assert path.is_file() and path.stat().st_size < 1_000_000
    judge = load_judge()
    assert judge.meta["test_accuracy"] >= 0.88 and judge.meta["seed"] == 0
    x = np.zeros((3, 28, 28), dtype=np.uint8)
    assert judge.features(x).shape == (3, 128) and judge.predict(x).shape == (3,)
    with pytest.raises(ValueError, match="28, 28"):
        judge.predict(np.zeros((2, 32, 32), dtype=np.float32))


@NEEDS_DATA
def test_shipped_judge_accuracy_on_fashion_mnist_test_set():
    te = load_fashion_mnist("test")
    judge = load_judge()
    acc = class_agreement(judge, te.images, te.labels)
    assert acc >= 0.88
    assert acc == pytest.approx(judge.meta["test_accuracy"], abs=2e-4)


@NEEDS_DATA
def test_evaluate_images_on_real_images():
    te = load_fashion_mnist("test")
    judge = load_judge()
    x = te.images[:40]
    m = evaluate_images(judge, x, x, te.labels[:40])
    assert m["ssim"] == pytest.approx(1.0) and m["pixel_correlation"] == pytest.approx(1.0)
    assert m["two_way_identification"] == 1.0 and m["judge_agreement"] == 1.0
    assert m["class_agreement"] >= 0.8
    shuffled = evaluate_images(judge, x[::-1], x, te.labels[:40])
    assert shuffled["two_way_identification"] < 0.8 and shuffled["ssim"] < 0.6


def test_save_grid(tmp_path):
    from PIL import Image

    imgs = torch.linspace(-1, 1, 12 * 28 * 28).reshape(12, 1, 28, 28)
    p = save_grid(imgs, tmp_path / "g.png", nrow=5, scale=1)
    im = Image.open(p)
    assert im.size == (5 * 30 + 2, 3 * 30 + 2)
    arr = np.asarray(im)
    assert arr[2, 2] == 0 and arr[-1, -1] == 255


def test_judge_wrapper_accepts_tensors():
    judge = Judge(JudgeCNN())
    out = judge.logits(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10)
