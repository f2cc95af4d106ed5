"""The geo-topological (RGTM) and geodesic (RGDM) transforms: exact identities on planted inputs."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import RDMs, Representation
from neurorep.errors import InvalidInputError
from scipy.spatial.distance import pdist, squareform

from neurorep_trsa import GeoTopologicalTransform, geo_topological, geodesic, pattern_dissimilarities


def _ids(n):
    return [f"s{i}" for i in range(n)]


@pytest.fixture
def d():
    return np.random.default_rng(0).gamma(2.0, size=190)  # a 20-stimulus RDM, no ties


def test_no_threshold_no_rank_is_minmax_rescaling(d):
    g = geo_topological(d, 0.0, 1.0, rank=False)[0]
    np.testing.assert_allclose(g, (d - d.min()) / (d.max() - d.min()), rtol=0, atol=1e-15)
    assert g.min() == 0.0 and g.max() == 1.0


def test_no_threshold_with_rank_is_rescaled_ranks(d):
    g = geo_topological(d, 0.0, 1.0, rank=True)[0]
    ranks = np.argsort(np.argsort(d))  # 0..n-1, no ties in d
    np.testing.assert_allclose(g, ranks / (len(d) - 1), rtol=0, atol=1e-15)


@pytest.mark.parametrize("rank", [False, True])
@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_equal_thresholds_give_a_binary_graph(d, q, rank):
    g = geo_topological(d, q, q, rank=rank)[0]
    assert set(np.unique(g)) <= {0.0, 1.0}
    t = np.quantile(d, q)
    np.testing.assert_array_equal(g, (d > t).astype(float))  # at or below the threshold: 0


@pytest.mark.parametrize("l,u", [(0.0, 0.5), (0.2, 0.8), (0.4, 0.6), (0.5, 1.0), (0.1, 0.15)])
def test_thresholds_saturate_and_ramp_linearly(d, l, u):  # noqa: E741
    g = geo_topological(d, l, u, rank=False)[0]
    lo, hi = np.quantile(d, [l, u])
    assert np.all(g[d <= lo] == 0.0)
    assert np.all(g[d >= hi] == 1.0)
    mid = (d > lo) & (d < hi)
    np.testing.assert_allclose(g[mid], (d[mid] - lo) / (hi - lo), rtol=0, atol=1e-14)
    # monotone (non-decreasing) in the dissimilarity, within [0, 1]
    order = np.argsort(d)
    assert np.all(np.diff(g[order]) >= 0)
    assert g.min() >= 0 and g.max() <= 1
    # the thresholds are quantiles: the share of saturated pairs follows l and u
    assert np.mean(g == 0) == pytest.approx(np.mean(d <= lo))
    assert np.mean(g == 1) == pytest.approx(np.mean(d >= hi))


def test_rank_makes_it_invariant_to_any_increasing_map(d):
    for f in (np.exp, np.sqrt, lambda v: v ** 3 + 2.0):
        np.testing.assert_array_equal(geo_topological(f(d), 0.2, 0.7, rank=True),
                                      geo_topological(d, 0.2, 0.7, rank=True))


def test_without_rank_it_is_invariant_to_positive_affine_maps(d):
    np.testing.assert_allclose(geo_topological(3.5 * d + 1.25, 0.2, 0.7, rank=False),
                               geo_topological(d, 0.2, 0.7, rank=False), atol=1e-12)
    # ...but not to a nonlinear monotone map (the ramp is linear in d)
    assert not np.allclose(geo_topological(np.exp(d), 0.2, 0.7, rank=False),
                           geo_topological(d, 0.2, 0.7, rank=False))


def test_each_rdm_gets_its_own_thresholds(d):
    other = np.random.default_rng(1).uniform(5, 50, size=d.size)
    both = geo_topological(np.stack([d, other]), 0.25, 0.75, rank=False)
    np.testing.assert_array_equal(both[0], geo_topological(d, 0.25, 0.75, rank=False)[0])
    np.testing.assert_array_equal(both[1], geo_topological(other, 0.25, 0.75, rank=False)[0])


@pytest.mark.parametrize("l,u", [(-0.1, 0.5), (0.2, 1.5), (0.8, 0.2), (float("nan"), 0.5)])
def test_bad_thresholds_are_refused_with_a_fix(d, l, u):  # noqa: E741
    with pytest.raises(InvalidInputError, match=r"l|u"):
        geo_topological(d, l, u)
    with pytest.raises(InvalidInputError, match="transform.geo-topological"):
        GeoTopologicalTransform(l=l, u=u).transform(RDMs(d, _ids(20)))


# --------------------------------------------------------------------------- geodesic (RGDM)

def test_geodesic_on_a_path_graph_sums_edge_lengths():
    # 5 stimuli on a path 0-1-2-3-4: adjacent pairs are near, every other pair is far (10)
    n = 5
    D = np.full((n, n), 10.0)
    np.fill_diagonal(D, 0)
    adjacent = [0.1, 0.2, 0.3, 0.4]
    for k, a in enumerate(adjacent):
        D[k, k + 1] = D[k + 1, k] = a
    d = squareform(D)
    # l=0 -> lower threshold = 0.1 (so edge 0-1 has length exactly 0); u=0.5 -> upper threshold = 10:
    # the far pairs become 1 and are removed from the graph
    g = geo_topological(d, 0.0, 0.5, rank=False)[0]
    lengths = (np.array(adjacent) - 0.1) / 9.9
    G = squareform(g)
    for k in range(n - 1):
        assert G[k, k + 1] == pytest.approx(lengths[k], abs=1e-15)
    assert np.all(squareform(g)[np.triu_indices(n, 2)] == 1.0)

    R = squareform(geodesic(g)[0])
    pos = np.concatenate([[0.0], np.cumsum(lengths)])  # position along the path
    expected = np.abs(pos[:, None] - pos[None, :]) / pos[-1]  # normalised by the longest path (0 -> 4)
    np.testing.assert_allclose(R, expected, atol=1e-9)  # edge lengths are quantised to 2**-36
    assert R[0, 1] == 0.0  # a zero-length edge is an edge, not a missing one
    assert R[0, 4] == 1.0 and R[1, 2] == pytest.approx(1 / 6)


def _floyd_warshall(g: np.ndarray) -> np.ndarray:
    """Independent oracle: all-pairs shortest paths (pure numpy), edges where g < 1."""
    G = squareform(g)
    n = G.shape[0]
    P = np.where(G < 1, G, np.inf)
    np.fill_diagonal(P, 0.0)
    for k in range(n):
        P = np.minimum(P, P[:, [k]] + P[[k], :])
    return P


def test_geodesic_disconnected_components_get_the_maximum():
    # two clusters of 3 stimuli: within-cluster pairs near, between-cluster pairs far
    rng = np.random.default_rng(3)
    n = 6
    D = np.full((n, n), 10.0)
    for block in ((0, 1, 2), (3, 4, 5)):
        for i in block:
            for j in block:
                D[i, j] = 0.0 if i == j else 1.0 + rng.uniform()
    D = np.minimum(D, D.T)
    g = geo_topological(squareform(D), 0.0, 0.4, rank=False)[0]
    R = squareform(geodesic(g)[0])
    between = np.zeros((n, n), bool)
    between[:3, 3:] = between[3:, :3] = True
    assert np.all(R[between] == 1.0)
    P = _floyd_warshall(g)
    assert np.all(np.isinf(P[between]))
    within = ~between & ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(R[within], P[within] / P[within].max(), atol=1e-9)


def test_geodesic_of_a_binary_graph_is_connectivity():
    # equal thresholds: a binary graph; shortest paths over 0-length edges are 0 within a component
    rng = np.random.default_rng(5)
    pts = np.concatenate([rng.normal(0, 0.1, (6, 2)), rng.normal(5, 0.1, (6, 2))])
    d = pdist(pts)
    g = geo_topological(d, 0.3, 0.3, rank=True)[0]  # ~30% nearest pairs are edges; clusters stay connected
    R = squareform(geodesic(g)[0])
    same = np.repeat([0, 1], 6)
    np.testing.assert_array_equal(R, (same[:, None] != same[None, :]).astype(float))


def test_geodesic_matches_floyd_warshall_and_is_a_metric(d):
    g = geo_topological(d, 0.1, 0.6, rank=True)[0]
    R = squareform(geodesic(g)[0])
    P = _floyd_warshall(g)
    finite = np.isfinite(P)
    np.testing.assert_allclose(R[finite], P[finite] / P[finite].max(), atol=1e-9)
    assert np.all(R[~finite] == 1.0) and R.max() == 1.0
    n = R.shape[0]
    for k in range(n):  # triangle inequality
        assert np.all(R <= R[:, [k]] + R[[k], :] + 1e-12)
    # a path is never longer than the direct edge
    G = squareform(g)
    edge = (G < 1) & ~np.eye(n, dtype=bool)
    assert np.all(P[edge] <= G[edge] + 1e-15)


def test_geodesic_does_not_depend_on_stimulus_order():
    # ranks make many equal edge lengths, so equal path sums are common: they must stay exactly equal
    rng = np.random.default_rng(11)
    X = rng.standard_normal((30, 4))
    g = geo_topological(pdist(X), 0.0, 0.35, rank=True)[0]
    R = squareform(geodesic(g)[0])
    for seed in range(3):
        p = np.random.default_rng(seed).permutation(30)
        gp = geo_topological(pdist(X[p]), 0.0, 0.35, rank=True)[0]
        np.testing.assert_array_equal(squareform(geodesic(gp)[0]), R[np.ix_(p, p)])


def test_geodesic_refuses_untransformed_input(d):
    with pytest.raises(InvalidInputError, match="geo_topological"):
        geodesic(d * 5)


# --------------------------------------------------------------------------- the component

def test_component_on_representations_uses_the_chosen_distance():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((15, 8))
    rep = Representation(X, _ids(15), name="layer")
    for dist, oracle in (("correlation", pdist(X, "correlation")), ("euclidean", pdist(X, "euclidean"))):
        np.testing.assert_allclose(pattern_dissimilarities(X, dist), oracle, atol=1e-12)
        out = GeoTopologicalTransform(l=0.0, u=1.0, rank=False, distance=dist).transform(rep)
        np.testing.assert_allclose(out.dissimilarities[0], (oracle - oracle.min()) / np.ptp(oracle), atol=1e-12)
        assert out.stimulus_ids == rep.stimulus_ids
        assert dist in out.dissimilarity_measure and out.dissimilarity_measure.startswith("RGTM")


def test_component_keeps_descriptors_and_leaves_input_alone(d):
    rdms = RDMs(np.stack([d, d[::-1]]), _ids(20), dissimilarity_measure="crossnobis",
                rdm_descriptors={"subject": ["a", "b"]}, name="roi")
    before = rdms.dissimilarities.copy()
    out = GeoTopologicalTransform(l=0.2, u=0.6, geodesic=True).transform(rdms)
    np.testing.assert_array_equal(rdms.dissimilarities, before)
    assert out.n_rdms == 2 and list(out.rdm_descriptors["subject"]) == ["a", "b"]
    assert out.dissimilarity_measure == "RGDM(l=0.2,u=0.6,rank)[crossnobis]"
    np.testing.assert_array_equal(out.dissimilarities, geodesic(geo_topological(rdms.dissimilarities, 0.2, 0.6)))


def test_component_errors_name_the_component():
    with pytest.raises(InvalidInputError, match="transform.geo-topological.*Representation"):
        GeoTopologicalTransform().transform(np.zeros((5, 3)))
    with pytest.raises(InvalidInputError, match="distance"):
        GeoTopologicalTransform(distance="manhattan").transform(Representation(np.eye(5), _ids(5)))
    with pytest.raises(InvalidInputError, match="constant across features"):
        GeoTopologicalTransform().transform(Representation(np.ones((5, 3)), _ids(5)))
