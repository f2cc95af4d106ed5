"""The example recipe validates and expands into the expected analyses."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "neuroformer.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("neuroformer", "neurorep_neuroformer.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"next-spike": 1, "few-shot": 3}   # blocks.0, memory, counts x the behaviour
    assert {t.component_id for t in plan.of_kind("analysis")} == {"neuroformer.next-spike", "probe.few-shot"}
