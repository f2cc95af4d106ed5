"""The example recipe validates and expands to one task per site pair on BrainMAE and nitime's rest fMRI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "brainmae.toml"


def test_example_recipe_is_valid_and_expands():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("brainmae", "neurorep_brainmae.plugin"),
                                                              ("datasets", "neurorep_datasets.plugin")])
    assert not ps.errors
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, ps.registry) == []
    plan = plan_file(RECIPE, ps.registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"rsa-vs-fc": 2, "cka-embedding-state": 3}
    assert {t.component_id for t in plan.of_kind("analysis")} == {"rsa.correlation", "cka.linear"}
