"""Few-shot behaviour decoding from the pretrained model's per-window representations vs raw spike counts.

The model is pretrained without labels (conditioned on the stimulus only); the behavioural state then has
to be read from its representation of the past 8 bins with 5 or 20 labelled windows per state.
"""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.types import Representation

from neurorep_neuroformer import FewShotProbe, NeuroformerWindowsSource


@pytest.fixture(scope="module")
def windows():
    src = NeuroformerWindowsSource(n_bins=2000, behaviour_gain=2.0, n_past=8, n_epochs=3, random_state=0)
    return src, src.load("behaviour")


def test_few_shot_decoding_of_behaviour_from_model_representations(windows):
    src, lab = windows
    acc = {}
    for site in ("blocks.0.hook_resid_post", "memory", "counts"):
        for k in (5, 20):
            acc[site, k] = FewShotProbe(n_shots=k, n_repeats=10).analyze(src.load(site), lab)[0].score
    print("few-shot accuracy", {f"{s}@{k}": round(v, 3) for (s, k), v in acc.items()})
    chance = max(lab.data.mean(), 1 - lab.data.mean())
    for k in (5, 20):
        assert acc["blocks.0.hook_resid_post", k] > chance + 0.15
        assert acc["memory", k] > chance + 0.15
    # the control: with the labels shuffled in time the same probe is at chance
    perm = np.random.default_rng(0).permutation(lab.n_stimuli)
    shuffled = Representation(lab.data[perm], lab.stimulus_ids)
    null = FewShotProbe(n_shots=20, n_repeats=10).analyze(src.load("blocks.0.hook_resid_post"), shuffled)[0].score
    assert abs(null - 0.5) < 0.1


def test_sites_are_aligned_windows(windows):
    src, lab = windows
    ids = src.stimulus_ids()
    assert ids[0] == "bin-000008" and len(ids) == 1992
    counts = src.load("counts")
    net = src.network()
    np.testing.assert_array_equal(counts.data[0].reshape(8, 12), net.spikes[0:8])   # bins t-8 .. t-1 of t = 8
    np.testing.assert_array_equal(lab.data[:, 0], net.behaviour[8:])
    assert src.load("blocks.0.hook_resid_post").data.shape == (1992, 32)
