"""The example recipe validates and expands; the source's sites are what ``predictivity.dynamic`` expects."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

from neurorep_mental_simulation import OccludedBallSource

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "mental-simulation.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False,
                      extra_plugins=[("mental-simulation", "neurorep_mental_simulation.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"predictivity": 4}          # 4 model sites x the neurons
    assert {t.component_id for t in plan.of_kind("analysis")} == {"predictivity.dynamic"}


def test_source_sites_are_time_major():
    src = OccludedBallSource(n_scenes=12, n_time=5, n_visible=2, n_units=3, n_repeats=2, n_train=40)
    neurons = src.load("neurons")
    assert neurons.data.shape == (12, 15) and neurons.repeats.shape == (2, 12, 15)
    np.testing.assert_allclose(neurons.repeats.mean(0), neurons.data)
    truth = src.load("truth").data.reshape(12, 5, 4)
    lat = src.load("latent-rollout").data.reshape(12, 5, 4)
    assert np.abs(lat - truth).max() < 0.05                 # the rollout recovers the latent state
    static = src.load("static-encoder").data.reshape(12, 5, -1)
    assert np.all(static == static[:, :1])                  # the static encoder never changes
    pix = src.load("pixel-rollout").data.reshape(12, 5, -1)
    np.testing.assert_array_equal(pix[:, 0], static[:, 0])  # both see the same first frame
