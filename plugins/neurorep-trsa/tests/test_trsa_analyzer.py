"""``rsa.topological``: equality with classic RSA, tags that hold, alignment, errors, registration, model selection."""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pydantic
import pytest
from neurorep import RDMs, Representation
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.errors import InvalidInputError, StimulusMismatchError
from neurorep.plugins import PluginSystem
from scipy.spatial.distance import cosine as cosine_distance
from scipy.spatial.distance import pdist
from scipy.stats import ortho_group

from neurorep_trsa import GeoTopologicalTransform, TopologicalRSA, trsa_model_selection


def _ids(n):
    return [f"stim-{i:03d}" for i in range(n)]


def _pair(seed, n=24, p=12, shared=0.6):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, p))
    X = z + rng.standard_normal((n, p))
    Y = shared * z @ rng.standard_normal((p, p + 3)) + rng.standard_normal((n, p + 3))
    return Representation(X, _ids(n), name="x"), Representation(Y, _ids(n), name="y")


# --------------------------------------------------------------------------- equality with classic RSA

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("comparison", ["pearson", "spearman"])
def test_no_thresholds_equals_classic_rsa_on_representations(seed, comparison):
    x, y = _pair(seed)
    classic = CorrelationRSA(comparison=comparison).analyze(x, y)[0].score
    trsa = TopologicalRSA(l=0.0, u=1.0, rank=False, comparison=comparison).analyze(x, y)[0].score
    assert abs(trsa - classic) < 1e-12
    assert abs(classic) > 1e-3  # a real comparison, not two zeros


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("comparison", ["pearson", "spearman"])
def test_no_thresholds_equals_classic_rsa_on_rdms(seed, comparison):
    rng = np.random.default_rng(100 + seed)
    n = 20
    dx = pdist(rng.standard_normal((n, 6)))
    dy = np.stack([dx * rng.uniform(0.5, 2) + rng.gamma(1.0, size=dx.size) for _ in range(4)])  # 4 subjects
    x = RDMs(dx, _ids(n), dissimilarity_measure="euclidean")
    y = RDMs(dy, _ids(n), rdm_descriptors={"subject": list("abcd")})
    classic = CorrelationRSA(comparison=comparison).analyze(x, y)[0]
    trsa = TopologicalRSA(l=0.0, u=1.0, rank=False, comparison=comparison).analyze(x, y)[0]
    assert abs(trsa.score - classic.score) < 1e-12
    np.testing.assert_allclose(trsa.extra["per_rdm"], classic.extra["per_rdm"], rtol=0, atol=1e-12)
    assert len(trsa.extra["per_rdm"]) == 4 and trsa.n == classic.n == n * (n - 1) // 2


def test_ranked_without_thresholds_under_pearson_is_spearman_rsa():
    x, y = _pair(11)
    spearman = CorrelationRSA(comparison="spearman").analyze(x, y)[0].score
    ranked = TopologicalRSA(l=0.0, u=1.0, rank=True, comparison="pearson").analyze(x, y)[0].score
    assert abs(ranked - spearman) < 1e-12


def test_cosine_comparator_matches_scipy():
    x, y = _pair(2)
    gt = GeoTopologicalTransform(l=0.2, u=0.7)
    a, b = gt.transform(x).dissimilarities[0], gt.transform(y).dissimilarities[0]
    score = TopologicalRSA(l=0.2, u=0.7, comparison="cosine").analyze(x, y)[0].score
    assert score == pytest.approx(1 - cosine_distance(a, b), abs=1e-12)


def test_thresholds_change_the_result():
    x, y = _pair(4)
    classic = TopologicalRSA(l=0.0, u=1.0, rank=False, comparison="pearson").analyze(x, y)[0].score
    gt = TopologicalRSA(l=0.4, u=0.6, comparison="pearson").analyze(x, y)[0].score
    gd = TopologicalRSA(l=0.0, u=0.3, geodesic=True, comparison="pearson").analyze(x, y)[0]
    assert abs(gt - classic) > 1e-3 and abs(gd.score - classic) > 1e-3
    assert gd.extra["statistic"] == "RGDM"


# --------------------------------------------------------------------------- declared tags hold (and others don't)

@pytest.mark.parametrize("params", [{}, {"geodesic": True, "l": 0.0, "u": 0.3}, {"l": 0.5, "u": 0.5},
                                    {"comparison": "pearson", "distance": "euclidean"}])
def test_symmetric_and_maximum(params):
    a = TopologicalRSA(**params)
    x, y = _pair(8)
    assert a.analyze(x, y)[0].score == pytest.approx(a.analyze(y, x)[0].score, abs=1e-12)
    assert a.analyze(x, x)[0].score == pytest.approx(1.0, abs=1e-12)
    assert TopologicalRSA.tags.symmetric and TopologicalRSA.tags.maximum == 1.0


@pytest.mark.parametrize("distance", ["correlation", "euclidean"])
@pytest.mark.parametrize("rank", [True, False])
def test_declared_invariances_hold(distance, rank):
    x, y = _pair(9)
    a = TopologicalRSA(l=0.2, u=0.7, rank=rank, distance=distance, comparison="pearson")
    base = a.analyze(x, y)[0].score
    assert set(TopologicalRSA.tags.invariances) == {"isotropic_scaling", "feature_permutation"}
    scaled = Representation(3.7 * x.data, x.stimulus_ids)
    perm = Representation(x.data[:, np.random.default_rng(0).permutation(x.n_features)], x.stimulus_ids)
    assert a.analyze(scaled, y)[0].score == pytest.approx(base, abs=1e-12)
    assert a.analyze(perm, y)[0].score == pytest.approx(base, abs=1e-12)


def test_undeclared_invariances_fail_for_correlation_distance():
    # translation and rotation of the feature space change correlation-distance RDMs, so the tags must not claim them
    x, y = _pair(10)
    a = TopologicalRSA(l=0.0, u=1.0, rank=False, comparison="pearson")
    base = a.analyze(x, y)[0].score
    shifted = Representation(x.data + np.random.default_rng(1).normal(0, 3, x.n_features), x.stimulus_ids)
    Q = ortho_group.rvs(x.n_features, random_state=2)
    rotated = Representation(x.data @ Q, x.stimulus_ids)
    assert abs(a.analyze(shifted, y)[0].score - base) > 1e-3
    assert abs(a.analyze(rotated, y)[0].score - base) > 1e-3
    # with Euclidean distance both hold (not declared, since they do not hold for the default distance)
    e = TopologicalRSA(l=0.2, u=0.7, distance="euclidean")
    eb = e.analyze(x, y)[0].score
    assert e.analyze(shifted, y)[0].score == pytest.approx(eb, abs=1e-12)
    assert e.analyze(rotated, y)[0].score == pytest.approx(eb, abs=1e-12)


# --------------------------------------------------------------------------- alignment and errors

def test_reordered_stimuli_are_aligned():
    x, y = _pair(12)
    p = np.random.default_rng(3).permutation(y.n_stimuli)
    y_shuffled = y.select([y.stimulus_ids[i] for i in p])
    a = TopologicalRSA(l=0.3, u=0.6)
    assert a.analyze(x, y_shuffled)[0].score == pytest.approx(a.analyze(x, y)[0].score, abs=1e-12)
    with pytest.raises(StimulusMismatchError):
        TopologicalRSA(align="strict").analyze(x, y_shuffled)


def test_mixed_representation_and_rdm_inputs():
    x, y = _pair(13)
    y_rdm = GeoTopologicalTransform(l=0, u=1, rank=False).transform(y)  # a rescaled correlation RDM
    a = TopologicalRSA(l=0.25, u=0.75)
    assert a.analyze(x, y_rdm)[0].score == pytest.approx(a.analyze(x, y)[0].score, abs=1e-12)


def test_errors_are_actionable():
    x, y = _pair(14)
    with pytest.raises(InvalidInputError, match="rsa.topological.*two inputs"):
        TopologicalRSA().analyze(x)
    with pytest.raises(InvalidInputError, match="comparison.*kendall"):
        TopologicalRSA(comparison="kendall").analyze(x, y)
    with pytest.raises(InvalidInputError, match="Representation or neurorep.RDMs"):
        TopologicalRSA().analyze(x.data, y)
    with pytest.raises(InvalidInputError, match="constant.*l = u = 1"):
        TopologicalRSA(l=1.0, u=1.0).analyze(x, y)
    with pytest.raises(InvalidInputError, match="zero-length edges"):  # the l-neighbours connect everything
        TopologicalRSA(l=0.5, u=0.7, geodesic=True).analyze(x, y)
    with pytest.raises(InvalidInputError, match="must not exceed"):
        TopologicalRSA(l=0.9, u=0.1).analyze(x, y)


def test_parameter_model_is_derived_from_init():
    model = TopologicalRSA.param_model()
    assert set(model.model_fields) == {"l", "u", "rank", "geodesic", "distance", "comparison", "align"}
    a = TopologicalRSA.from_params({"l": 0.4, "u": 0.6, "geodesic": True})
    assert (a.l, a.u, a.geodesic) == (0.4, 0.6, True)
    with pytest.raises(pydantic.ValidationError):
        TopologicalRSA.from_params({"lower": 0.4})
    with pytest.raises(pydantic.ValidationError):
        TopologicalRSA.from_params({"comparison": "kendall"})
    assert set(GeoTopologicalTransform.param_model().model_fields) == {"l", "u", "rank", "geodesic", "distance"}
    for cls in (TopologicalRSA, GeoTopologicalTransform):
        assert "10.1073/pnas.2317881121" in cls.citation
        assert cls().clone().get_params() == cls().get_params()


# --------------------------------------------------------------------------- registration

def test_plugin_module_registers_both_components():
    ps = PluginSystem(load_entry_points=False, extra_plugins=[("trsa-test", "neurorep_trsa.plugin")])
    assert not ps.errors
    assert ps.registry.get("rsa.topological").cls is TopologicalRSA
    assert ps.registry.get("transform.geo-topological").cls is GeoTopologicalTransform
    comp = ps.registry.create("rsa.topological", {"l": 0.1, "u": 0.9})
    x, y = _pair(0)
    assert -1 <= comp.analyze(x, y)[0].score <= 1


def test_installed_distribution_is_found_through_its_entry_point():
    try:
        metadata.distribution("neurorep-trsa")
    except metadata.PackageNotFoundError:
        pytest.skip("neurorep-trsa is not installed (pip install -e plugins/neurorep-trsa)")
    ps = PluginSystem()
    assert not [e for e in ps.errors if e.distribution == "neurorep-trsa"]
    for cid in ("rsa.topological", "transform.geo-topological"):
        assert ps.registry.get(cid).distribution == "neurorep-trsa"


# --------------------------------------------------------------------------- model selection

def test_model_selection_finds_the_planted_generator():
    rng = np.random.default_rng(21)
    n, ids = 30, _ids(30)
    latents = {k: rng.standard_normal((n, 10)) for k in ("a", "b", "c")}
    data = Representation(latents["b"] + 0.5 * rng.standard_normal((n, 10)), ids, name="data")
    cands = {k: Representation(v @ rng.standard_normal((10, 15)), ids) for k, v in latents.items()}
    sel = trsa_model_selection(data, cands, l=0.2, u=0.8, distance="euclidean")
    assert sel.winner == "b" and sel.ranking[0] == "b"
    assert sel.margin == pytest.approx(sel.scores["b"] - max(sel.scores["a"], sel.scores["c"]))
    assert sel.margin > 0.1 and sel.chance == pytest.approx(1 / 3)
    assert list(sel.scores) == ["a", "b", "c"]


def test_model_selection_averages_over_a_candidate_s_rdms_and_labels_sequences():
    x, y = _pair(22)
    gt = GeoTopologicalTransform(l=0, u=1, rank=False)
    two = RDMs(np.concatenate([gt.transform(x).dissimilarities, gt.transform(y).dissimilarities]), x.stimulus_ids,
               name="both")
    sel = trsa_model_selection(x, [two, y], l=0.2, u=0.8)
    assert set(sel.scores) == {"both", "y"}
    assert len(sel.per_rdm["both"]) == 2
    assert sel.scores["both"] == pytest.approx(np.mean(sel.per_rdm["both"]))
    assert sel.per_rdm["both"][0] == pytest.approx(1.0)  # x against itself
    with pytest.raises(InvalidInputError, match="at least 2 candidates"):
        trsa_model_selection(x, [y])
    with pytest.raises(InvalidInputError, match="one RDM"):
        trsa_model_selection(two, [x, y])


def test_host_catalogue_names_this_distribution_for_exactly_its_ids():
    from neurorep.registry import known_providers

    ps = PluginSystem(load_entry_points=False, extra_plugins=[("trsa-test", "neurorep_trsa.plugin")])
    registered = set(ps.plugins["trsa-test"].components)
    listed = {cid for cid, dist in known_providers().items() if dist == "neurorep-trsa"}
    assert registered == listed == {"rsa.topological", "transform.geo-topological"}
