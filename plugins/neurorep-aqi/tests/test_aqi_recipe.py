"""The example recipe validates and expands into one AQI task per LM layer and per Haxby ROI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "aqi.toml"


def test_example_recipe_is_valid_and_expands():
    ps = PluginSystem(load_entry_points=False,   # the host, neurorep-datasets (dataset.haxby2001), this plugin
                      extra_plugins=[("aqi", "neurorep_aqi.plugin"), ("datasets", "neurorep_datasets.plugin")])
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, ps.registry) == []
    plan = plan_file(RECIPE, ps.registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"aqi-safe-vs-harmful": 30, "aqi-face-vs-house": 5, "aqi-eight-categories": 5}
    assert {t.component_id for t in plan.of_kind("analysis")} == {"aqi.index"}


def test_a_bad_parameter_is_reported_with_its_path(tmp_path):
    ps = PluginSystem(load_entry_points=False,   # the host, neurorep-datasets (dataset.haxby2001), this plugin
                      extra_plugins=[("aqi", "neurorep_aqi.plugin"), ("datasets", "neurorep_datasets.plugin")])
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE.read_text().replace('samples = "repeats", n_permutations = 1000, random_state = 0 }\n'
                                              'inputs = ["haxby"]\n\n# All',
                                              'samples = "runs", n_permutations = 1000, random_state = 0 }\n'
                                              'inputs = ["haxby"]\n\n# All'))
    issues = validate_file(bad, ps.registry)
    assert any("analyses[1].params.samples" in str(i) for i in issues), issues
