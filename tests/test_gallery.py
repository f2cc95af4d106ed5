"""Every small gallery recipe runs end to end (the quick start runs in the report tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from neurorep.runner import run_recipe

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["gallery-synthetic.toml", "gallery-cka.toml", "gallery-rsa.toml", "gallery-decoding.toml",
         "trsa-example.toml"]


@pytest.mark.parametrize("name", SMALL)
def test_small_gallery_recipe_runs(name, tmp_path):
    summary = run_recipe(ROOT / "recipes" / name, out_dir=tmp_path / "out", progress=False, report=False)
    assert summary["n_failed"] == 0, summary.get("failed")
    rows = pd.read_parquet(summary["results_path"])
    assert len(rows) > 0 and rows["score"].notna().all()
    if name == "gallery-decoding.toml":
        slice_acc = rows.loc[rows["x"] == "haxby:slice", "score"].item()
        assert slice_acc > 0.40  # 8 categories, chance 0.125
