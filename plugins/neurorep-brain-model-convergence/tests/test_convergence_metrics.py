"""The metric functions on hand-made matrices (exact values), the analyzer against its base analyzer,
and the results-cube route against the direct one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.builtin.similarity import LinearCKA
from neurorep.errors import InvalidInputError
from neurorep.plugins import PluginSystem
from neurorep.recipes import plan_file, validate_file
from neurorep.results import FIELDS
from neurorep.types import Representation
from scipy.stats import spearmanr

from neurorep_convergence import (
    LayerProfile,
    convergence_from_cube,
    meg_times,
    metrics_from_matrices,
    overall_similarity,
    similarity_matrix,
    stack_layers,
    temporal,
    topography,
)

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "brain-model-convergence.toml"


def test_overall_similarity_is_the_mean_of_column_maxima():
    S = np.array([[0.1, 0.5, 0.2], [0.4, 0.3, 0.9], [0.2, 0.6, 0.1]])
    mean, vals, best = overall_similarity(S)
    np.testing.assert_array_equal(best, [1, 2, 1])
    np.testing.assert_allclose(vals, [0.4, 0.6, 0.9])
    assert mean == pytest.approx((0.4 + 0.6 + 0.9) / 3)


def test_topography_is_spearman_of_region_rank_and_best_layer():
    rng = np.random.default_rng(0)
    S = rng.random((8, 5))
    rho, best = topography(S)
    np.testing.assert_array_equal(best, S.argmax(0))
    assert rho == pytest.approx(spearmanr(np.arange(5), S.argmax(0))[0])
    # a perfect diagonal map gives 1, its mirror -1
    D = np.eye(5)
    assert topography(D)[0] == pytest.approx(1.0)
    assert topography(D[:, ::-1])[0] == pytest.approx(-1.0)
    assert np.isnan(topography(np.ones((3, 1)))[0])  # one region: undefined, not a number made up


def test_temporal_is_spearman_of_depth_and_peak_time():
    times = np.array([0.0, 50, 100, 150])
    S = np.array([[0, 1, 0, 0], [0, 0.2, 0.9, 0], [0, 0, 0.3, 0.8]], dtype=float)
    rho, peak = temporal(S, times)
    np.testing.assert_array_equal(peak, [50, 100, 150])
    assert rho == pytest.approx(1.0)
    assert temporal(S[::-1], times)[0] == pytest.approx(-1.0)
    with pytest.raises(InvalidInputError, match="times needs one value per column"):
        temporal(S, times[:3])


def test_meg_times_parses_site_labels():
    np.testing.assert_array_equal(meg_times(["planted:meg.t000", "meg.t120", "x:meg.t7.5"]), [0, 120, 7.5])
    with pytest.raises(InvalidInputError, match="cannot read a time"):
        meg_times(["planted:Fusiform.subjects"])


def _toy(seed=0, n=30):
    rng = np.random.default_rng(seed)
    ids = [f"s{i}" for i in range(n)]
    a = rng.standard_normal((n, 6))
    layers = {f"l{k}": Representation(np.tanh(a @ rng.standard_normal((6, 10)) * (k + 1)), ids, name=f"l{k}")
              for k in range(4)}
    target = Representation(layers["l2"].data @ rng.standard_normal((10, 12)) + 0.3 * rng.standard_normal((n, 12)),
                            ids, name="roi")
    return layers, target


@pytest.mark.parametrize("base,cls", [("rsa.correlation", CorrelationRSA), ("cka.linear", LinearCKA)])
def test_layer_profile_equals_the_base_analyzer_layer_by_layer(base, cls):
    layers, target = _toy()
    rows = LayerProfile(base=base).analyze(stack_layers(layers), target)
    direct = [cls().analyze(r, target)[0].score for r in layers.values()]
    np.testing.assert_allclose(rows[0].extra["profile"], direct, rtol=1e-10, atol=1e-12)
    assert rows[0].score == pytest.approx(max(direct))
    assert rows[0].extra["best_layer"] == "l2" and rows[1].score == pytest.approx(2 / 3)
    assert rows[0].extra["profile"] == pytest.approx(similarity_matrix(layers, {"roi": target}, base)[:, 0].tolist())


def test_layer_profile_errors_name_the_component():
    layers, target = _toy()
    with pytest.raises(InvalidInputError, match="convergence.layer-profile.*layer_order names"):
        LayerProfile(layer_order=["l0", "l9"]).analyze(stack_layers(layers), target)
    with pytest.raises(InvalidInputError, match="convergence.layer-profile.*distance"):
        LayerProfile(base="shape.angular").analyze(stack_layers(layers), target)


def test_a_distance_is_refused_by_similarity_matrix():
    layers, target = _toy()
    with pytest.raises(InvalidInputError, match="larger_is_more_similar=False"):
        similarity_matrix(layers, {"roi": target}, "shape.angular")


def test_cube_route_equals_the_direct_route():
    """Results rows shaped like a run's table give, through neurorep.results.cube, the same metrics."""
    rng = np.random.default_rng(4)
    layers = [f"m:blocks.{i}" for i in range(5)]
    regions = ["b:V1.subjects", "b:V4.subjects", "b:IT.subjects"]
    meg = [f"b:meg.t{t:03d}" for t in (0, 50, 100, 150)]
    S_reg, S_meg = rng.random((5, 3)), rng.random((5, 4))
    rows = []
    for i, x in enumerate(layers):
        for j, y in enumerate(regions + meg):
            s = S_reg[i, j] if j < 3 else S_meg[i, j - 3]
            rows.append({"analysis": "rsa", "x": x, "y": y, "metric": "spearman", "status": "ok", "n": 10,
                         "extra": "{}", **{f: np.nan for f in FIELDS}, "score": s})
    got = convergence_from_cube(pd.DataFrame(rows), regions=regions, meg=meg)
    want = metrics_from_matrices(layers, S_reg, regions, S_meg, [0, 50, 100, 150])
    assert got.as_dict() == want.as_dict()
    assert got.topography == pytest.approx(topography(S_reg)[0])
    with pytest.raises(InvalidInputError, match="no target"):
        convergence_from_cube(pd.DataFrame(rows), regions=["b:LOC.subjects"])


def test_example_recipe_is_valid_and_expands():
    ps = PluginSystem()
    assert validate_file(RECIPE, ps.registry) == []
    plan = plan_file(RECIPE, ps.registry)
    per = Counter(t.labels["analysis"] for t in plan.of_kind("analysis"))
    # 16 blocks x (6 regions + 31 MEG times); the stacked layer profile: one task per region / MEG time
    assert per == {"rsa-convergence": 16 * (6 + 31), "layer-profile": 6 + 31}
    prof = [t for t in plan.of_kind("analysis") if t.labels["analysis"] == "layer-profile"]
    assert {len(t.inputs[0]["sites"]) for t in prof} == {16}
