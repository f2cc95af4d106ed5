"""The source, the confound-removal transform and the leakage analyzer on the planted cohort; the recipe."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file
from sklearn.linear_model import LinearRegression

from neurorep_demovae import AGE_MEAN, AGE_SD, DemographicLeakage, Deconfound, PlantedCohortSource

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "demovae.toml"


@pytest.fixture(scope="module")
def source():
    return PlantedCohortSource(n_subjects=300, n_rois=8, latent_dim=4, epochs=40, random_state=0)


def test_source_sites_and_synthetic_fc_carry_the_planted_age_effect(source):
    c = source.cohort()
    fc = source.load("fc")
    assert fc.data.shape == (300, 28) and fc.stimulus_ids[0] == "sub-0001"
    np.testing.assert_array_equal(fc.data, c.fc)
    both = source.load("fc+demographics")
    np.testing.assert_array_equal(both.data[:, -2:], c.demographics)
    assert list(both.channel_descriptors["role"]).count("demographic") == 2
    synth = source.load("synthetic-fc")
    assert synth.data.shape == fc.data.shape
    # regressing the synthetic subjects' FC on the (real) demographics they were drawn for recovers the planted map
    design = np.column_stack([(c.age - AGE_MEAN) / AGE_SD, c.sex])
    coef = LinearRegression().fit(design, synth.data).coef_
    r_age = np.corrcoef(coef[:, 0], c.age_effect)[0, 1]
    print(f"synthetic FC: OLS age map vs planted r = {r_age:.3f}")
    assert r_age > 0.8
    with pytest.raises(ValueError, match="demovae.planted-cohort"):
        source.load("nope")


def test_deconfound_then_leakage(source):
    both = source.load("fc+demographics")
    leak = DemographicLeakage()
    raw = leak.analyze(both)
    latents = Deconfound(latent_dim=4, epochs=40, keep_demographics=True).transform(both)
    fc_mean_demo = Deconfound(output="fc", latent_dim=4, epochs=40, keep_demographics=True).transform(both)
    after, after_fc = leak.analyze(latents), leak.analyze(fc_mean_demo)
    print(f"leakage max|r|: raw FC {raw[0].score:.3f}, DemoVAE latents {after[0].score:.3f}, "
          f"FC at mean demographics {after_fc[0].score:.3f}")
    assert raw[0].score > 0.5
    assert after[0].score < 0.1
    assert after_fc[0].score < 0.3 * raw[0].score
    assert {r.extra.get("demographic") for r in raw[1:]} == {"age", "sex"}
    # the leakage score is the largest |Pearson r| (numpy oracle)
    X, d = both.data[:, :-2], both.data[:, -2]
    ref = max(abs(np.corrcoef(X[:, j], d)[0, 1]) for j in range(X.shape[1]))
    assert raw[1].extra["demographic"] == "age" and raw[1].score == pytest.approx(ref, abs=1e-12)


def test_transform_and_analyzer_name_themselves_on_bad_input():
    only_fc = Representation(np.random.default_rng(0).standard_normal((10, 4)), [f"s{i}" for i in range(10)],
                             channel_descriptors={"role": np.array(["edge"] * 4)})
    with pytest.raises(ValueError, match="demovae.deconfound"):
        Deconfound().transform(only_fc)
    with pytest.raises(ValueError, match="demovae.leakage"):
        DemographicLeakage().analyze(only_fc)
    with pytest.raises(ValueError, match="output"):
        Deconfound(output="nope").transform(only_fc)


def test_recipe_is_valid_and_expands():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("demovae", "neurorep_demovae.plugin")])
    assert not ps.errors
    assert validate_file(RECIPE, ps.registry) == []
    plan = plan_file(RECIPE, ps.registry)
    per = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    assert per == {"cka-with-demographics": 3, "leakage-raw-fc": 1, "leakage-after-demovae": 1}
    after = [t for t in plan.of_kind("analysis") if t.labels["analysis"] == "leakage-after-demovae"]
    assert after[0].transforms[0]["component_id"] == "demovae.deconfound"


def test_loading_the_plugin_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, neurorep_demovae, neurorep_demovae.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
