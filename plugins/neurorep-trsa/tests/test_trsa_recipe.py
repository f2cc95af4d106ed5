"""The example recipe validates and expands, and the transform-then-RSA pipeline equals ``rsa.topological``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from neurorep import Representation
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file

from neurorep_trsa import GeoTopologicalTransform, TopologicalRSA

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "trsa-example.toml"


@pytest.fixture(scope="module")
def registry():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("trsa", "neurorep_trsa.plugin")])
    assert not ps.errors
    return ps.registry


def test_example_recipe_is_valid_and_expands(registry):
    assert RECIPE.is_file(), RECIPE
    assert validate_file(RECIPE, registry) == []
    plan = plan_file(RECIPE, registry)
    per_analysis = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    # 4 model layers x 2 brain sites, and the 4 layers paired within (i <= j): 10
    assert per_analysis == {"rsa-classic": 8, "trsa-topology": 8, "trsa-intermediate": 8, "trgdm-layers": 10,
                            "rgtm-then-rsa": 8}
    comps = {t.component_id for t in plan.of_kind("analysis")}
    assert {"rsa.topological", "rsa.correlation"} <= comps
    piped = [t for t in plan.of_kind("analysis") if t.labels["analysis"] == "rgtm-then-rsa"]
    assert all(tr["component_id"] == "transform.geo-topological" for t in piped for tr in t.transforms)


def test_a_bad_threshold_type_is_reported_with_its_path(registry, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(RECIPE.read_text().replace("l = 0.4, u = 0.6, rank = true", "l = 0.4, u = \"high\", rank = true"))
    issues = validate_file(bad, registry)
    assert any("analyses[1].params.u" in str(i) for i in issues), issues


@pytest.mark.parametrize("l,u,geodesic", [(0.4, 0.6, False), (0.0, 0.4, True)])
def test_transform_then_classic_rsa_equals_topological_rsa(l, u, geodesic):  # noqa: E741
    rng = np.random.default_rng(31)
    ids = [f"s{i}" for i in range(25)]
    x = Representation(rng.standard_normal((25, 9)), ids)
    y = Representation(x.data @ rng.standard_normal((9, 7)) + rng.standard_normal((25, 7)), ids)
    t = GeoTopologicalTransform(l=l, u=u, geodesic=geodesic)
    piped = CorrelationRSA(comparison="pearson").analyze(t.transform(x), t.transform(y))[0].score
    direct = TopologicalRSA(l=l, u=u, geodesic=geodesic, comparison="pearson").analyze(x, y)[0].score
    assert abs(piped - direct) < 1e-12
