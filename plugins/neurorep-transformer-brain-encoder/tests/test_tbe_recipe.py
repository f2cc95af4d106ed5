"""The example recipe validates and expands to one task per analysis on the planted-tokens source."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "transformer-brain-encoder.toml"


def test_example_recipe_is_valid_and_expands():
    ps = PluginSystem(load_entry_points=False,
                      extra_plugins=[("transformer-brain-encoder", "neurorep_transformer_brain_encoder.plugin")])
    assert not ps.errors
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, ps.registry) == []
    plan = plan_file(RECIPE, ps.registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"transformer": 1, "factorized-rf": 1, "linear": 1}
    assert {t.component_id for t in plan.of_kind("analysis")} == {"encoding.transformer", "encoding.factorized-rf",
                                                                  "encoding.ridge"}
