"""The neurorep conformance suite on every BrainMAE component."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_brainmae import BrainMAEPretrain, BrainMAERoiSource


@parametrize_with_checks([
    BrainMAEPretrain(segment_length=4, d_model=8, n_steps=8, batch_size=2, window_segments=4),
    BrainMAEPretrain(segment_length=6, d_model=8, n_steps=5, batch_size=2, mask_ratio=0.3, n_layers=2,
                     coords=[[float(i), float(i % 2), 0.0] for i in range(6)], random_state=3),
    BrainMAERoiSource(n_rois=6, n_timepoints=48, n_subjects=2, segment_length=6, d_model=8, n_steps=5),
])
def test_brainmae_conformance(component, check):
    check(component)
