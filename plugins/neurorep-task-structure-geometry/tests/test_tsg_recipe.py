"""The example recipe validates and expands to one task per (checkpoint site, task site) pair."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "task-structure-geometry.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False,
                      extra_plugins=[("task-structure-geometry", "neurorep_task_structure_geometry.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    # 8 recorded steps on the misaligned task, 4 on the aligned one, each against the task site
    assert per_analysis == {"tanh-misaligned": 8, "relu-misaligned": 8, "tanh-aligned": 4, "relu-aligned": 4}
    assert {t.component_id for t in plan.of_kind("analysis")} == {"geometry.task-alignment"}


def test_a_bad_parameter_is_reported_with_its_path(registry, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE.read_text().replace('n_per_condition = 4', 'n_per_condition = "four"'))
    issues = validate_file(bad, registry)
    assert any("n_per_condition" in str(i) for i in issues), issues
