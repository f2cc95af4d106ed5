"""The data model: ids as join keys, alignment, RDM forms, validation messages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from neurorep.errors import InvalidInputError, StimulusMismatchError
from neurorep.types import RDMs, Representation, Result, StimulusSet, align


def rep(data, ids, name="r", **kw):
    return Representation(np.asarray(data, float), tuple(ids), name=name, **kw)


def test_representation_validation_messages(rng):
    with pytest.raises(StimulusMismatchError, match="transpose"):
        rep(rng.normal(size=(5, 3)), ["a", "b", "c"])
    with pytest.raises(StimulusMismatchError, match="unique"):
        rep(rng.normal(size=(3, 2)), ["a", "a", "b"])
    with pytest.raises(InvalidInputError, match="2D array"):
        Representation(np.zeros((2, 3, 4)), ("a", "b"))
    bad = rng.normal(size=(3, 2))
    bad[1, 1] = np.nan
    with pytest.raises(InvalidInputError, match="1 NaN/inf"):
        rep(bad, "abc").check_finite()
    with pytest.raises(InvalidInputError, match="repeats must have shape"):
        rep(rng.normal(size=(3, 2)), "abc", repeats=np.zeros((2, 3, 3)))


def test_align_reorders_by_id_never_silently_misaligns(rng):
    x = rep(rng.normal(size=(4, 3)), ["s1", "s2", "s3", "s4"], name="x")
    perm = [2, 0, 3, 1]
    y = rep(x.data[perm], [x.stimulus_ids[i] for i in perm], name="y")
    a, b = align(x, y)
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(StimulusMismatchError, match="same order"):
        align(x, y, how="strict")
    z = rep(rng.normal(size=(4, 3)), ["s1", "s2", "s3", "q9"], name="z")
    with pytest.raises(StimulusMismatchError, match=r"'x' has 1 id\(s\) that 'z' lacks"):
        align(x, z)
    a, b = align(x, z, how="intersection")
    assert a.stimulus_ids == b.stimulus_ids == ("s1", "s2", "s3")
    with pytest.raises(StimulusMismatchError, match="at least 4"):
        align(x, z, how="intersection", min_common=4)


def test_rdms_condensed_matches_scipy(rng):
    X = rng.normal(size=(6, 4))
    D = squareform(pdist(X))
    r = RDMs.from_matrices(D, list("abcdef"), dissimilarity_measure="euclidean")
    np.testing.assert_allclose(r.dissimilarities[0], pdist(X))
    np.testing.assert_allclose(r.get_matrices()[0], D)
    sub = r.select(["c", "a", "f"])
    np.testing.assert_allclose(sub.get_matrices()[0], D[np.ix_([2, 0, 5], [2, 0, 5])])
    with pytest.raises(InvalidInputError, match="symmetric"):
        RDMs.from_matrices(D + np.triu(np.ones_like(D)), list("abcdef"))
    with pytest.raises(StimulusMismatchError, match="expected n\\*\\(n-1\\)/2"):
        RDMs(pdist(X), list("abcde"))
    many = RDMs(np.stack([pdist(X), 2 * pdist(X)]), list("abcdef"), rdm_descriptors={"subject": ["s1", "s2"]})
    assert many.n_rdms == 2 and many.subset_rdms([1]).rdm_descriptors == {"subject": ["s2"]}


def test_stimulus_set_and_fingerprints(rng):
    s = StimulusSet(("a", "b", "c"), modality="image", payload=np.zeros((3, 2, 2)),
                    descriptors={"cat": np.array([0, 1, 1])})
    sub = s.subset(slice(1, 3))
    assert sub.ids == ("b", "c") and list(sub.descriptors["cat"]) == [1, 1]
    with pytest.raises(InvalidInputError, match="one id per stimulus"):
        StimulusSet(("a",), payload=[1, 2])
    x = rep(rng.normal(size=(3, 2)), "abc")
    assert x.fingerprint() == rep(x.data.copy(), "abc").fingerprint()
    assert x.fingerprint() != rep(x.data + 1e-9, "abc").fingerprint()


def test_result_row():
    row = Result(score=np.float64(0.5), metric="cka", n=np.int64(10)).to_row()
    assert row["score"] == 0.5 and type(row["score"]) is float and type(row["n"]) is int
    assert np.isnan(row["p_value"])


def test_fingerprint_hashes_arrays_inside_list_payloads():
    a = np.zeros((50, 50), np.uint8)
    b = a.copy()
    b[25, 25] = 1  # invisible in repr()
    fa = StimulusSet(("x",), payload=[a]).fingerprint()
    assert fa != StimulusSet(("x",), payload=[b]).fingerprint()
    assert fa == StimulusSet(("x",), payload=[a.copy()]).fingerprint()
