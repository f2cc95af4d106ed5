"""The example recipe validates against the installed plugins and expands to its two analyses."""

from __future__ import annotations

from pathlib import Path

from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "network-motifs.toml"


def test_example_recipe_is_valid_and_expands():
    ps = PluginSystem()
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, ps.registry) == []
    plan = plan_file(RECIPE, ps.registry)
    analyses = sorted({t.component_id for t in plan.tasks if t.kind == "analysis"})
    assert analyses == ["motifs.network-features", "motifs.pca-lda"], analyses
