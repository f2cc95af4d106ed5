"""recipes/gallery-encoding.toml runs end to end and finds the planted shared structure.

(tests/test_gallery.py runs a fixed list of gallery recipes; this one is run here.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from neurorep.recipes import load_recipe
from neurorep.runner import run_recipe

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "gallery-encoding.toml"


def test_encoding_gallery_recipe_runs(tmp_path):
    load_recipe(RECIPE)
    summary = run_recipe(RECIPE, out_dir=tmp_path / "out", progress=False, report=False)
    assert summary["n_failed"] == 0, summary.get("failed")
    rows = pd.read_parquet(summary["results_path"])
    assert rows["score"].notna().all()
    by = {a: g for a, g in rows.groupby("analysis")}
    enc = by["encoding"]
    r2 = enc[enc["metric"] == "r2"]
    assert len(r2) == 6 and (r2["score"] > 0.3).all() and (r2["p_value"] < 0.01).all()
    assert (r2["ci_low"] < r2["score"]).all() and (r2["score"] < r2["ci_high"]).all()
    extra = json.loads(r2["extra"].iloc[0])
    assert len(extra["per_channel"]) == 60                     # one R2 per voxel, for the report's map
    banded = by["banded"]
    assert sorted(banded["metric"].unique()) == ["r2", "r2_split"]
    ident = by["identification"]
    top1 = ident[ident["metric"] == "top1_accuracy"]["score"]
    assert (top1 > 10 / 120).all()                             # chance 1/120
    assert (by["probe-logistic"]["score"] > 0.8).all() and (by["probe-ridge"]["score"] > 0.8).all()
    # the report's encoding section draws the per-voxel R2 of these results
    from neurorep.builtin.report_sections import EncodingSection
    from neurorep.plugins import get_plugin_system
    from neurorep.report import ReportRun
    from neurorep.runner.run import read_results

    run = ReportRun(tmp_path / "out", tmp_path / "out" / "report.html", get_plugin_system())
    html = EncodingSection().render(read_results(summary["results_path"]), run)
    assert "data:image/png;base64," in html and "Held-out R\u00b2 per channel" in html
