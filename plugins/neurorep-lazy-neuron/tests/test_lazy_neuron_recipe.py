"""The example recipe validates and expands; the plugin registers through its entry point; a recording works too."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

from neurorep_lazy_neuron import NonzeroSparsity, TopK

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "lazy-neuron.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("lazy-neuron", "neurorep_lazy_neuron.plugin"),
                                                              ("datasets", "neurorep_datasets.plugin")])
    assert not ps.errors
    return ps.registry


def test_components_are_registered(registry):
    assert registry.get("sparsity.nonzero").cls is NonzeroSparsity
    assert registry.get("intervention.topk", kind="intervention").cls is TopK


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    # one task per site: stem + head; two spike trains; one ROI time-series representation
    assert per_analysis == {"relu6-sparsity": 2, "spike-sparsity": 2, "roi-sparsity": 1}


def test_a_bad_parameter_is_reported_with_its_path(registry, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE.read_text().replace('tol_mode = "relative"', 'tol_mode = "percent"'))
    issues = validate_file(bad, registry)
    assert any("analyses[2].params.tol_mode" in str(i) for i in issues), issues


def test_a_spike_train_the_fraction_of_bins_with_a_spike():
    """Neural data: one receptor neuron in 1-ms bins (nitime's grasshopper data, packaged with nitime)."""
    pytest.importorskip("nitime")
    from neurorep import create

    ds = create("dataset.nitime-grasshopper")
    rep = ds.load("spikes-1")
    row = NonzeroSparsity(population_measures=False).analyze(rep)[0]
    assert row.n == rep.n_stimuli == 10000
    assert row.score == np.count_nonzero(rep.data) / rep.data.size
    assert 0.05 < row.score < 0.15   # measured 0.0929: a spike in 929 of the 10,000 bins
