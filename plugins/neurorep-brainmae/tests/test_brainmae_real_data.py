"""BrainMAE on real ROI time series: the 250 x 31 resting-state series of ``dataset.nitime-fmri``.

Pre-trained briefly (250 steps) on the first 175 volumes, then scored on the last 75 (9 whole segments of
8 volumes, 10 masks hiding half the ROIs of every segment; errors in squared SDs of the training data).
Measured (seed 0): BrainMAE 0.815, ROI mean 1.100, linear interpolation 1.629; the stronger same-time linear
reference (ridge on the visible ROIs, fitted on the training volumes) 0.776. The learned ROI attention puts
0.216 on average on a region's homologue in the other hemisphere (13 L/R pairs; uniform 1/30 = 0.033).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurorep_brainmae import BrainMAEPretrain, BrainMAERoiSource

N_TRAIN = 175


@pytest.fixture(scope="module")
def nitime():
    from neurorep_datasets.nitime_data import NitimeFMRI

    data, names = NitimeFMRI().roi_timeseries()
    assert data.shape == (250, 31)
    return data, list(names)


@pytest.fixture(scope="module")
def fitted(nitime):
    data, _ = nitime
    return BrainMAEPretrain(n_steps=250, random_state=0).fit(data[:N_TRAIN])


def test_held_out_masked_segments_beat_roi_mean_and_interpolation(nitime, fitted):
    data, _ = nitime
    errs = fitted.masked_segment_errors(data[N_TRAIN:], train=data[:N_TRAIN])
    print("nitime-fmri held-out masked-segment MSE:", {k: round(v, 3) for k, v in errs.items()})
    assert errs["n_hidden"] == 10 * 9 * 8 * 16  # 16 of 31 ROIs hidden in each of 9 segments of 8 volumes
    assert errs["brainmae"] < 0.9 * errs["roi-mean"]
    assert errs["brainmae"] < 0.7 * errs["interpolation"]


def test_attention_favours_the_homologous_region(nitime, fitted):
    _, names = nitime
    a = fitted.attention_
    pairs = [(i, names.index("R" + n[1:])) for i, n in enumerate(names) if n.startswith("L") and "R" + n[1:] in names]
    assert len(pairs) == 13
    homologue = np.mean([a[i, j] for i, j in pairs] + [a[j, i] for i, j in pairs])
    print(f"mean attention to the homologue: {homologue:.3f} (uniform {1 / 30:.3f})")
    assert homologue > 3 / 30


def test_roi_embeddings_reflect_functional_connectivity(nitime, fitted):
    # the embeddings are never shown a correlation, yet their geometry follows the ROIs' connectivity
    from scipy.spatial.distance import pdist
    from scipy.stats import spearmanr

    data, _ = nitime
    fc_rdm = pdist(data[:N_TRAIN].T, metric="correlation")
    emb_rdm = pdist(fitted.roi_embeddings_, metric="correlation")
    rho = spearmanr(emb_rdm, fc_rdm).statistic
    print(f"Spearman(ROI-embedding RDM, 1 - FC): {rho:.3f}")
    assert rho > 0.3


def test_source_on_nitime(nitime):
    _, names = nitime
    src = BrainMAERoiSource(data="nitime-fmri", n_steps=20, d_model=8)
    assert src.stimulus_ids() == tuple(names)
    rep = src.load("roi-attention")
    assert rep.data.shape == (31, 31) and list(rep.channel_descriptors["roi"]) == names
