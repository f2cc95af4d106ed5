"""The example recipe validates and expands; the digits source's codes equal its thresholded pre-activations."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

from neurorep_hashcodes import ActivationCodeTransform, CodeDeterminism, ReluMlpDigits

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "activation-hash-codes.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("hashcodes", "neurorep_hashcodes.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per_analysis == {"determinism-wide": 1, "determinism-narrow": 1, "determinism-from-preactivations": 1,
                            "categorisation": 1}
    piped = [t for t in plan.of_kind("analysis") if t.labels["analysis"] == "determinism-from-preactivations"]
    assert all(tr["component_id"] == "transform.activation-code" for t in piped for tr in t.transforms)


def test_a_bad_parameter_is_reported_with_its_path(registry, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE.read_text().replace('multiclass = "ovo"', 'multiclass = "ovr"'))
    issues = validate_file(bad, registry)
    assert any("params.multiclass" in str(i) for i in issues), issues


def test_digits_source_sites_agree():
    pytest.importorskip("torch")
    src = ReluMlpDigits(width=32, epochs=3, n_train=300, random_state=1)
    codes, pre, lab, x = (src.load(s) for s in ("codes", "preactivations", "labels", "input"))
    ids = src.stimulus_ids()
    assert len(ids) == 300 + 450 and ids[0] == "train-0000" and ids[300] == "test-0000"
    assert codes.stimulus_ids == pre.stimulus_ids == lab.stimulus_ids == x.stimulus_ids == ids
    assert codes.data.shape == (750, 32) and x.data.shape == (750, 64)
    np.testing.assert_array_equal(ActivationCodeTransform().transform(pre).data, codes.data)
    assert set(np.unique(lab.data)) == set(range(10)) and np.bincount(lab.data[:300, 0].astype(int)).min() >= 29
    a = CodeDeterminism(train_pattern="train-*").analyze(codes)
    b = CodeDeterminism(train_pattern="train-*").analyze(pre)
    assert [r.score for r in a] == [r.score for r in b] and a[0].n == 300
