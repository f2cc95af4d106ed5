"""Exact identities of relative representations: the cosine oracle, rotation/scaling invariance, anchors, errors."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation
from neurorep.errors import InvalidInputError
from scipy.stats import ortho_group
from sklearn.metrics.pairwise import cosine_similarity

from neurorep_relrep import (
    RelativeSimilarity,
    RelativeTransform,
    relative_from_rdm,
    relative_projection,
    row_agreement,
    select_anchors,
)

IDS = tuple(f"s{i:03d}" for i in range(60))


@pytest.fixture
def latent():
    rng = np.random.default_rng(32)
    return Representation(rng.standard_normal((60, 12)) @ rng.standard_normal((12, 12)), IDS, name="latent")


def test_projection_equals_sklearn_cosine_similarity():
    rng = np.random.default_rng(0)
    x, a = rng.standard_normal((30, 7)), rng.standard_normal((5, 7))
    np.testing.assert_allclose(relative_projection(x, a), cosine_similarity(x, a), atol=1e-12)
    mu = a.mean(0)
    np.testing.assert_allclose(relative_projection(x, a, center=True), cosine_similarity(x - mu, a - mu), atol=1e-12)


def test_unchanged_under_random_rotation_plus_global_scaling(latent):
    """The paper's invariance: r(c * X Q) == r(X) for orthogonal Q and c > 0 (also reflections, unit permutations)."""
    t = RelativeTransform(n_anchors=15, random_state=1)
    base = t.transform(latent).data
    for seed, c in ((0, 0.01), (1, 7.5), (2, 1e3)):
        q = ortho_group.rvs(12, random_state=seed)
        moved = Representation(c * latent.data @ q, IDS)
        np.testing.assert_allclose(t.transform(moved).data, base, atol=1e-10)
    perm = np.random.default_rng(3).permutation(12)
    np.testing.assert_allclose(t.transform(Representation(-latent.data[:, perm], IDS)).data, base, atol=1e-10)
    # an isometric embedding into a wider space (12 -> 40 features) changes nothing either
    emb = ortho_group.rvs(40, random_state=4)[:12]
    np.testing.assert_allclose(t.transform(Representation(latent.data @ emb, IDS)).data, base, atol=1e-10)


def test_not_invariant_to_non_isometries_unless_declared(latent):
    """Controls: an anisotropic linear map changes r; a translation changes r unless center=True."""
    t = RelativeTransform(n_anchors=15, random_state=1)
    base = t.transform(latent).data
    stretch = np.diag(np.geomspace(0.05, 20, 12))
    assert np.abs(t.transform(Representation(latent.data @ stretch, IDS)).data - base).max() > 0.3
    shifted = Representation(latent.data + 3.0, IDS)
    assert np.abs(t.transform(shifted).data - base).max() > 0.3
    tc = RelativeTransform(n_anchors=15, random_state=1, center=True)
    q = ortho_group.rvs(12, random_state=9)
    np.testing.assert_allclose(tc.transform(Representation(2.5 * (latent.data @ q) + 3.0, IDS)).data,
                               tc.transform(latent).data, atol=1e-10)


def test_output_layout_and_anchor_rows(latent):
    t = RelativeTransform(anchor_ids=["s010", "s002", "s059"])
    out = t.transform(latent)
    assert out.stimulus_ids == IDS and out.data.shape == (60, 3) and out.repeats is None
    assert list(out.channel_descriptors["anchor"]) == ["s010", "s002", "s059"]
    assert out.space["relative"]["anchors"] == ["s010", "s002", "s059"]
    np.testing.assert_allclose(out.data[[10, 2, 59], [0, 1, 2]], 1.0)  # each anchor is itself at cosine 1


def test_anchor_draw_is_seeded_and_independent_of_row_order():
    a = select_anchors(IDS, 10, random_state=5)
    assert a == select_anchors(IDS[::-1], 10, random_state=5) and len(set(a)) == 10
    assert a != select_anchors(IDS, 10, random_state=6)
    rng = np.random.default_rng(1)
    x = Representation(rng.standard_normal((60, 4)), IDS)
    perm = rng.permutation(60)
    xp = Representation(x.data[perm], tuple(np.array(IDS)[perm]))
    t = RelativeTransform(n_anchors=8, random_state=2)
    np.testing.assert_allclose(t.transform(xp).select(IDS).data, t.transform(x).data, atol=1e-12)


def test_similarity_is_exactly_one_across_isometric_spaces_of_different_width(latent):
    q = ortho_group.rvs(30, random_state=7)[:12]
    other = Representation(0.3 * latent.data @ q, IDS)
    r = RelativeSimilarity(n_anchors=10).analyze(latent, other)[0]
    assert r.score == pytest.approx(1.0, abs=1e-10) and r.n == 60 and len(r.extra["anchors"]) == 10


def test_similarity_separates_a_planted_noisy_copy_from_an_unrelated_space(latent):
    rng = np.random.default_rng(8)
    q = ortho_group.rvs(12, random_state=8)
    noisy = Representation(latent.data @ q + 0.3 * latent.data.std() * rng.standard_normal((60, 12)), IDS)
    unrelated = Representation(rng.standard_normal((60, 12)), IDS)
    a = RelativeSimilarity(n_anchors=10, n_permutations=99, exclude_anchors=True, agreement="pearson")
    related, null = a.analyze(latent, noisy)[0], a.analyze(latent, unrelated)[0]
    assert related.score > 0.85 and related.p_value == pytest.approx(0.01)
    assert null.score < 0.4 and null.p_value > 0.05 and related.n == 50


def test_relative_from_rdm_is_the_correlation_with_anchor_patterns():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((20, 9))
    d = 1 - np.corrcoef(x)
    rel = relative_from_rdm(d, np.array([3, 7]))
    np.testing.assert_allclose(rel, np.corrcoef(x)[:, [3, 7]], atol=1e-12)
    # ... which is the cosine relative representation of the row-centred patterns
    xc = x - x.mean(1, keepdims=True)
    np.testing.assert_allclose(rel, relative_projection(xc, xc[[3, 7]]), atol=1e-12)


def test_row_agreement_matches_numpy():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    np.testing.assert_allclose(row_agreement(a, b, "pearson"), [np.corrcoef(u, v)[0, 1] for u, v in zip(a, b)])
    np.testing.assert_allclose(row_agreement(a, b), cosine_similarity(a, b).diagonal())


@pytest.mark.parametrize("make,match", [
    (lambda x: RelativeTransform(anchor_ids=["nope"]).transform(x), r"transform\.relative.*not among"),
    (lambda x: RelativeTransform(n_anchors=61).transform(x), r"transform\.relative.*between 1 and .*60"),
    (lambda x: RelativeSimilarity(agreement="spearman").analyze(x, x), r"relrep\.similarity.*agreement"),
    (lambda x: RelativeSimilarity(n_anchors=60, exclude_anchors=True).analyze(x, x), r"no stimulus"),
    (lambda x: RelativeTransform().transform(Representation(np.zeros((60, 3)), IDS)), r"zero norm"),
])
def test_bad_input_names_the_component_and_the_fix(latent, make, match):
    with pytest.raises(InvalidInputError, match=match):
        make(latent)


def test_rdms_are_refused_with_a_pointer():
    from neurorep import RDMs
    from scipy.spatial.distance import pdist

    x = np.random.default_rng(0).standard_normal((10, 3))
    rdm = RDMs(pdist(x), tuple(IDS[:10]), dissimilarity_measure="euclidean")
    with pytest.raises(InvalidInputError, match="relative_from_rdm"):
        RelativeTransform(n_anchors=3).transform(rdm)
