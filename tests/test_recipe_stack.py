"""An analysis's ``stack``: several sites of one source reach the analyzer as ONE input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurorep import RDMs, Representation, stack_sites
from neurorep.builtin.similarity import LinearCKA
from neurorep.builtin.sources import SyntheticSource
from neurorep.errors import InvalidInputError, StimulusMismatchError
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_text, validate_text
from neurorep.runner import run_plan


@pytest.fixture(scope="module")
def registry():
    system = PluginSystem(load_entry_points=False)
    assert not system.errors
    return system.registry


def _rep(data, ids, **kw):
    return Representation(np.asarray(data, float), tuple(ids), **kw)


def test_stack_sites_puts_features_side_by_side_in_the_first_sites_stimulus_order():
    rng = np.random.default_rng(0)
    a = _rep(rng.standard_normal((5, 3)), "abcde", repeats=rng.standard_normal((2, 5, 3)),
             channel_descriptors={"unit": np.arange(3)}, space={"kind": "model"})
    perm = [4, 2, 0, 1, 3]
    b_data = rng.standard_normal((5, 2))
    b_rep = rng.standard_normal((2, 5, 2))
    b = _rep(b_data[perm], [a.stimulus_ids[i] for i in perm], repeats=b_rep[:, perm],
             channel_descriptors={"unit": np.arange(2)}, space={"kind": "model"})
    s = stack_sites([a, b], ["blocks.0", "blocks.1"])
    assert s.stimulus_ids == a.stimulus_ids
    np.testing.assert_array_equal(s.data, np.hstack([a.data, b_data]))
    np.testing.assert_array_equal(s.repeats, np.concatenate([a.repeats, b_rep], axis=2))
    assert list(s.channel_descriptors["site"]) == ["blocks.0"] * 3 + ["blocks.1"] * 2
    assert list(s.channel_descriptors["unit"]) == [0, 1, 2, 0, 1]
    assert s.space["stacked_sites"] == ["blocks.0", "blocks.1"] and s.space["kind"] == "model"
    # different repeat counts: repeats are dropped, the means are kept
    c = _rep(b_data, "abcde", repeats=rng.standard_normal((3, 5, 2)))
    assert stack_sites([a, c], ["x", "y"]).repeats is None


def test_stack_sites_of_rdms_is_one_multi_rdm_object_labelled_by_site():
    rng = np.random.default_rng(1)
    r1 = RDMs(rng.random((2, 6)), tuple("abcd"), dissimilarity_measure="correlation",
              rdm_descriptors={"subject": ["s1", "s2"]})
    m = RDMs(rng.random(6), tuple("abcd"), dissimilarity_measure="correlation").get_matrices()[0]
    order = [2, 0, 3, 1]
    r2 = RDMs.from_matrices(m[np.ix_(order, order)], [("abcd")[i] for i in order],
                            dissimilarity_measure="correlation", rdm_descriptors={"subject": ["s3"]})
    s = stack_sites([r1, r2], ["V1", "IT"])
    assert s.n_rdms == 3 and s.dissimilarity_measure == "correlation"
    assert list(s.rdm_descriptors["site"]) == ["V1", "V1", "IT"]
    assert list(s.rdm_descriptors["subject"]) == ["s1", "s2", "s3"]
    np.testing.assert_allclose(s.get_matrices()[2], m)


def test_stack_sites_refuses_other_stimuli_and_mixed_kinds():
    a = _rep(np.ones((3, 2)) * [[1], [2], [3]], "abc")
    with pytest.raises(StimulusMismatchError, match="site 'y' holds other stimuli"):
        stack_sites([a, _rep(np.ones((3, 1)), "abd")], ["x", "y"], owner="T")
    with pytest.raises(InvalidInputError, match="not a mix"):
        stack_sites([a, RDMs(np.ones(3), tuple("abc"))], ["x", "y"])


RECIPE = """
[recipe]
name = "stack"
seed = 0

[sources.net]
component = "source.synthetic"
params = {{ n_sites = 4, n_stimuli = 20, n_features = 6, random_state = 3 }}

[[analyses]]
name = "layers-vs-one"
component = "cka.linear"
inputs = ["net:layer[0-2]", "net:layer3"]
{extra}
"""


def test_recipe_stack_gives_the_analyzer_all_selected_sites_at_once(registry, tmp_path):
    text = RECIPE.format(extra='stack = "x"')
    assert validate_text(text, registry) == []
    plan = plan_text(text, registry)
    analyses = [t for t in plan.tasks if t.kind == "analysis"]
    assert len(analyses) == 1
    inp = analyses[0].inputs[0]
    assert inp["sites"] == ["layer0", "layer1", "layer2"] and inp["site"] == "stack(layer[0-2])"
    assert analyses[0].labels["x"] == "net:stack(layer[0-2])"
    # the key depends on the stacked sites (not only on the label)
    other = plan_text(text.replace("layer[0-2]", "layer[0-1]"), registry)
    assert [t.key for t in other.tasks if t.kind == "analysis"] != [analyses[0].key]
    run_plan(plan, tmp_path / "run", progress=False)
    rows = pd.read_parquet(tmp_path / "run" / "results.parquet")
    src = SyntheticSource(n_sites=4, n_stimuli=20, n_features=6, random_state=3)
    want = LinearCKA().analyze(stack_sites([src.load(f"layer{k}") for k in range(3)], ["layer0", "layer1", "layer2"]),
                               src.load("layer3"))[0].score
    got = rows.loc[rows["analysis"] == "layers-vs-one"]
    assert got["x"].iloc[0] == "net:stack(layer[0-2])" and got["x_site"].iloc[0] == "stack(layer[0-2])"
    assert got["score"].iloc[0] == pytest.approx(want, rel=1e-6)
    # without stack, the same inputs give one task per pair of sites
    assert sum(t.kind == "analysis" for t in plan_text(RECIPE.format(extra=""), registry).tasks) == 3


@pytest.mark.parametrize("extra,msg", [
    ('stack = "y"\npairing = "matched"', "nothing to pair"),
    ('stack = "sideways"', "stack"),
])
def test_bad_stack_settings_are_reported(registry, extra, msg):
    issues = validate_text(RECIPE.format(extra=extra), registry)
    assert issues and any(msg in str(i) for i in issues), issues


def test_stack_y_needs_a_second_input(registry):
    text = RECIPE.format(extra="").replace('inputs = ["net:layer[0-2]", "net:layer3"]', 'inputs = ["net"]')
    text = text.replace('component = "cka.linear"', 'component = "cka.linear"\npairing = "within"\nstack = "y"')
    issues = validate_text(text, registry)
    assert any("second input" in str(i) for i in issues), issues
