"""The example recipe validates and expands; the analyzer equals the transform followed by a row comparison."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

from neurorep_relrep import RelativeSimilarity, RelativeTransform, row_agreement

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "relative-representations.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("relrep", "neurorep_relrep.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    # 3 model layers x 2 brain sites; the 3 layers paired within (i <= j): 6
    assert per_analysis == {"relative-model-brain": 6, "relative-layers": 6, "relative-then-rsa": 6}
    piped = [t for t in plan.of_kind("analysis") if t.labels["analysis"] == "relative-then-rsa"]
    assert all(tr["component_id"] == "transform.relative" for t in piped for tr in t.transforms)


def test_a_bad_parameter_type_is_reported_with_its_path(registry, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE.read_text().replace('agreement = "pearson"', 'agreement = "spearman"'))
    issues = validate_file(bad, registry)
    assert any("analyses[1].params.agreement" in str(i) for i in issues), issues


@pytest.mark.parametrize("how,exclude", [("cosine", False), ("pearson", True)])
def test_analyzer_equals_transform_then_row_agreement(how, exclude):
    rng = np.random.default_rng(5)
    ids = tuple(f"s{i}" for i in range(30))
    x = Representation(rng.standard_normal((30, 8)), ids)
    y = Representation(np.tanh(x.data @ rng.standard_normal((8, 5))) + 0.3 * rng.standard_normal((30, 5)), ids)
    t = RelativeTransform(n_anchors=7, random_state=3)
    rx, ry = t.transform(x), t.transform(y)
    keep = ~np.isin(np.array(ids), rx.channel_descriptors["anchor"]) if exclude else np.ones(30, bool)
    want = row_agreement(rx.data[keep], ry.data[keep], how).mean()
    got = RelativeSimilarity(n_anchors=7, random_state=3, agreement=how, exclude_anchors=exclude).analyze(x, y)[0]
    assert got.score == pytest.approx(want, abs=1e-12) and got.n == int(keep.sum())
