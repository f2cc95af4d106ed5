"""``mindeye.reconstruction`` and ``synthetic.fmnist-embedding-brain``: exact identities and the planted check.

Planted check: voxels are a random mixing of the 40 Fashion-MNIST test images' 64-d generator embedding plus
noise. With little noise, two-way identification of the reconstructions (judge features and pixels) must be
high; it must fall to chance (0.5) with much noise and when the voxel rows are shuffled across stimuli.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation
from neurorep.errors import InvalidInputError
from neurorep.models.stimuli import FASHION_MNIST_DIR
from neurorep.testing import parametrize_with_checks

from neurorep_mindeye import FashionMNISTEmbeddingBrain, MindEyeReconstruction
from neurorep_mindeye import recon

dm = pytest.importorskip("neurorep_diffusion_models", reason="mindeye.reconstruction needs neurorep-diffusion-models")

FMNIST = Path(FASHION_MNIST_DIR) / "t10k-images-idx3-ubyte.gz"
needs_fmnist = pytest.mark.skipif(not FMNIST.is_file(), reason="Debian's dataset-fashion-mnist is not installed")


# --------------------------------------------------------------------------- exact identities / oracles

def test_ridge_loo_matches_scikit_learn_ridgecv():
    sklearn_lm = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 25))
    Y = X @ rng.standard_normal((25, 3)) + rng.standard_normal((40, 3)) + 2.0
    alphas = (0.1, 1.0, 10.0, 100.0)
    fit = recon.ridge_loo(X, Y, alphas)
    ref = sklearn_lm.RidgeCV(alphas=alphas).fit(X, Y)   # efficient LOO, one alpha for all targets
    assert fit["alpha"] == ref.alpha_
    np.testing.assert_allclose(fit["coef"], ref.coef_.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fit["intercept"], ref.intercept_, rtol=1e-8, atol=1e-10)
    # LOO residuals: refit without each row
    i = 7
    keep = np.arange(40) != i
    one = sklearn_lm.Ridge(alpha=fit["alpha"]).fit(X[keep], Y[keep])
    np.testing.assert_allclose(fit["loo_residuals"][i], Y[i] - one.predict(X[i:i + 1])[0], rtol=1e-7, atol=1e-9)


def test_two_way_and_ssim_equal_the_diffusion_plugins_reference_metrics():
    from neurorep_diffusion_models.evaluate import ssim, two_way_identification

    rng = np.random.default_rng(1)
    t = rng.uniform(-1, 1, (9, 28, 28))
    p = np.clip(t + 0.8 * rng.standard_normal(t.shape), -1, 1)
    sim = recon.pairwise_correlation(p.reshape(9, -1), t.reshape(9, -1))
    assert recon.two_way_from_blocks([sim]) == pytest.approx(two_way_identification(p.reshape(9, -1),
                                                                                    t.reshape(9, -1)), abs=1e-12)
    np.testing.assert_allclose(np.diag(recon.pairwise_ssim(p, t)), ssim(p, t), rtol=1e-10, atol=1e-12)
    # off-diagonal entries are the SSIM of the mismatched pairs
    assert recon.pairwise_ssim(p, t)[2, 5] == pytest.approx(ssim(p[2:3], t[5:6])[0], abs=1e-12)


def test_two_way_blocks_and_permutation_nulls_on_known_matrices():
    eye = np.eye(4)
    assert recon.two_way_from_blocks([eye]) == 1.0
    assert recon.two_way_from_blocks([np.ones((3, 3))]) == 0.0          # ties count as wrong
    assert recon.two_way_from_blocks([eye, -eye[:2, :2]]) == pytest.approx(12 / 14)
    rng = np.random.default_rng(0)
    null = recon.permutation_null_two_way([rng.standard_normal((6, 6)) for _ in range(3)], 4000, rng)
    assert null.mean() == pytest.approx(0.5, abs=0.01)
    diag_null = recon.permutation_null_diagonal([np.arange(16.0).reshape(4, 4)], 4000, rng)
    assert diag_null.mean() == pytest.approx(np.arange(16.0).reshape(4, 4).mean(), abs=0.1)


# --------------------------------------------------------------------------- the planted check

@pytest.fixture(scope="module")
def planted():
    ds = FashionMNISTEmbeddingBrain(n_per_class=4, noise=0.25)
    return ds.load("brain"), ds.load("pixels"), ds


def _s(rows):
    return {r.metric: r for r in rows}


@needs_fmnist
def test_dataset_sites_plant_the_generators_embedding(planted):
    x, y, ds = planted
    z = ds.load("embedding")
    assert x.data.shape == (40, 200) and y.data.shape == (40, 784) and z.data.shape == (40, 64)
    assert x.stimulus_ids == y.stimulus_ids == z.stimulus_ids
    assert y.data.min() >= 0 and y.data.max() == 255
    # the embedding is the shipped decoder's own (torch path)
    np.testing.assert_allclose(z.data, recon.embed_images(y.data.reshape(40, 28, 28) / 127.5 - 1), atol=1e-4)
    signal = z.data @ ds.ground_truth()["weights"] / 8.0
    resid = x.data - signal
    assert resid.std() == pytest.approx(0.25, rel=0.05)
    sub = ds.load("pixels", stimuli=ds.load_stimuli().subset([3, 1]))
    assert sub.stimulus_ids == (y.stimulus_ids[3], y.stimulus_ids[1])


@needs_fmnist
def test_planted_low_noise_reconstructions_are_identified(planted):
    x, y, _ = planted
    rows = MindEyeReconstruction(folds=4, n_permutations=200, pixel_range=(0, 255)).analyze(x, y)
    s = _s(rows)
    assert rows[0].metric == "two_way_judge_diffusion"
    assert s["two_way_embedding"].score > 0.95
    assert s["two_way_judge_diffusion"].score > 0.8
    assert s["two_way_pixel_diffusion"].score > 0.8
    assert s["two_way_judge_pca"].score > 0.65
    for m in ("two_way_judge_diffusion", "two_way_pixel_diffusion", "pixel_correlation_diffusion",
              "ssim_diffusion", "two_way_judge_pca"):
        assert s[m].p_value == pytest.approx(1 / 201)
    assert len(s["ssim_diffusion"].extra["per_stimulus"]) == 40
    assert all(0.1 < v < 2.0 for v in s["two_way_judge_diffusion"].extra["observation_sigma"])


@needs_fmnist
def test_planted_high_noise_and_shuffled_rows_fall_to_chance(planted):
    x, y, ds = planted
    noisy = FashionMNISTEmbeddingBrain(n_per_class=4, noise=4.0).load("brain")
    shuffled = Representation(x.data[np.random.default_rng(3).permutation(40)], x.stimulus_ids)
    for brain in (noisy, shuffled):
        s = _s(MindEyeReconstruction(folds=4, n_permutations=200, pixel_range=(0, 255), prior_samples=1,
                                     decoder_steps=5).analyze(brain, y))
        for m in ("two_way_embedding", "two_way_judge_diffusion", "two_way_pixel_diffusion", "two_way_judge_pca"):
            assert abs(s[m].score - 0.5) < 0.08, (m, s[m].score)
        assert s["two_way_judge_diffusion"].p_value > 0.01


@needs_fmnist
def test_planted_intermediate_noise_lies_between():
    ds = FashionMNISTEmbeddingBrain(n_per_class=4, noise=1.0)
    s = _s(MindEyeReconstruction(folds=4, n_permutations=200, pixel_range=(0, 255)).analyze(ds.load("brain"),
                                                                                           ds.load("pixels")))
    assert 0.55 < s["two_way_judge_diffusion"].score < 0.8     # 0.85 at noise 0.25, ~0.5 at noise 4
    assert s["two_way_judge_diffusion"].p_value < 0.05


@needs_fmnist
def test_mlp_backbone_mapping_beats_chance(planted):
    x, y, _ = planted
    s = _s(MindEyeReconstruction(mapping="mlp", hidden=64, epochs=60, folds=4, prior=False, decoder_steps=3,
                                 n_permutations=100, pixel_range=(0, 255)).analyze(x, y))
    assert s["two_way_embedding"].score > 0.8
    assert s["two_way_embedding"].p_value == pytest.approx(1 / 101)
    assert s["two_way_judge_diffusion"].score > 0.6


def test_informative_errors():
    rng = np.random.default_rng(0)
    ids = [f"s{i}" for i in range(8)]
    x = Representation(rng.standard_normal((8, 5)), ids)
    with pytest.raises(InvalidInputError, match="mindeye.reconstruction.*square images"):
        MindEyeReconstruction().analyze(x, Representation(rng.uniform(0, 1, (8, 10)), ids))
    with pytest.raises(InvalidInputError, match="outside pixel_range"):
        MindEyeReconstruction(pixel_range=(0, 1)).analyze(x, Representation(rng.uniform(0, 2, (8, 16)), ids))
    with pytest.raises(InvalidInputError, match="mapping must be"):
        MindEyeReconstruction(mapping="cnn").analyze(x, Representation(rng.uniform(0, 1, (8, 16)), ids))


# --------------------------------------------------------------------------- conformance

@parametrize_with_checks([MindEyeReconstruction(folds=2, prior_samples=1, prior_steps=3, decoder_steps=2,
                                                image_shape=(2, 3), n_permutations=20),
                          FashionMNISTEmbeddingBrain(n_per_class=1, n_voxels=10)])
def test_reconstruction_conformance(component, check):
    check(component)
