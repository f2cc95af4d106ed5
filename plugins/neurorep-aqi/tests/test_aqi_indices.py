"""The indices against scikit-learn (DBS, CHI) and brute-force loops (Dunn, Xie-Beni); AQI on planted clusters."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from neurorep.errors import InvalidInputError
from neurorep.types import Representation
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from neurorep_aqi import AQIIndex, pool_layers
from neurorep_aqi.indices import all_indices


def _blobs(seed, sizes=(12, 9, 15), dim=7, spread=3.0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(spread * rng.standard_normal(dim), 1.0 + 0.5 * k, (n, dim))
                   for k, n in enumerate(sizes)])
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return X, labels


def _brute_dunn(X, labels):
    pts = [tuple(r) for r in X]
    gap, diam = math.inf, 0.0
    for i, j in itertools.combinations(range(len(pts)), 2):
        d = math.dist(pts[i], pts[j])
        if labels[i] == labels[j]:
            diam = max(diam, d)
        else:
            gap = min(gap, d)
    return gap / diam


def _brute_xie_beni(X, labels):
    groups = sorted(set(labels.tolist()))
    cents = {g: [sum(X[i][f] for i in range(len(X)) if labels[i] == g) / sum(1 for v in labels if v == g)
                 for f in range(X.shape[1])] for g in groups}
    comp = sum(math.dist(X[i], cents[labels[i]]) ** 2 for i in range(len(X)))
    sep = min(math.dist(cents[a], cents[b]) ** 2 for a, b in itertools.combinations(groups, 2))
    return comp / (len(X) * sep)


@pytest.mark.parametrize("seed,sizes", [(0, (12, 9, 15)), (1, (10, 10)), (2, (5, 8, 6, 7)), (3, (30, 4))])
def test_dbs_chi_equal_sklearn_and_dunn_xb_equal_brute_force(seed, sizes):
    X, labels = _blobs(seed, sizes)
    v = all_indices(X, labels)
    assert abs(v["davies_bouldin"] - davies_bouldin_score(X, labels)) <= 1e-10 * max(1.0, v["davies_bouldin"])
    assert abs(v["calinski_harabasz"] - calinski_harabasz_score(X, labels)) <= 1e-10 * max(1.0, v["calinski_harabasz"])
    assert v["dunn"] == pytest.approx(_brute_dunn(X, labels), rel=1e-12)
    assert v["xie_beni"] == pytest.approx(_brute_xie_beni(X, labels), rel=1e-12)
    # the bounded CH component is B / (B + W), a monotone map of CHI
    k, n = len(sizes), len(X)
    chi = v["calinski_harabasz"]
    assert v["calinski_harabasz_bounded"] == pytest.approx(chi * (k - 1) / (chi * (k - 1) + n - k), rel=1e-12)


def test_analyzer_rows_equal_the_oracles_and_shuffle_is_a_control():
    X, labels = _blobs(4, (10, 10), dim=12, spread=1.5)
    ids = [f"{'safe' if g == 0 else 'harmful'}-{i:02d}" for i, g in enumerate(labels)]
    rep = Representation(X, ids, name="toy")
    rows = {r.metric: r for r in AQIIndex(groups=["safe-*", "harmful-*"], n_permutations=200).analyze(rep)}
    assert rows["davies_bouldin"].score == pytest.approx(davies_bouldin_score(X, labels), rel=1e-10)
    assert rows["calinski_harabasz"].score == pytest.approx(calinski_harabasz_score(X, labels), rel=1e-10)
    assert rows["aqi"].score == rows["aqi_bounded"].score
    assert rows["aqi"].extra["groups"] == {"safe-*": 10, "harmful-*": 10}
    xb, ch = rows["xie_beni_bounded"].score, rows["calinski_harabasz_bounded"].score
    assert rows["aqi"].score == pytest.approx(0.5 * xb + 0.5 * ch, rel=1e-14)
    assert rows["aqi_unnormalized"].score == pytest.approx(0.5 / rows["xie_beni"].score
                                                          + 0.5 * rows["calinski_harabasz"].score, rel=1e-14)
    assert rows["aqi"].p_value < 0.01 and rows["aqi"].extra["null_mean"] < rows["aqi"].score
    # default grouping (id prefix before the last '-') gives the same numbers, groups named by the prefix
    dflt = AQIIndex().analyze(rep)
    assert dflt[0].score == rows["aqi"].score and dflt[0].extra["groups"] == {"harmful": 10, "safe": 10}


def test_aqi_rises_monotonically_as_planted_clusters_separate():
    rng = np.random.default_rng(7)
    dim, n = 20, 15
    noise = rng.standard_normal((2 * n, dim))
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    ids = [f"a-{i:02d}" for i in range(n)] + [f"b-{i:02d}" for i in range(n)]
    seps = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    table = {m: [] for m in ("aqi", "aqi_unnormalized", "aqi_dbs_dunn", "davies_bouldin", "xie_beni")}
    for d in seps:
        X = noise.copy()
        X[n:] += d * direction
        rows = {r.metric: r.score for r in AQIIndex().analyze(Representation(X, ids))}
        for m in table:
            table[m].append(rows[m])
    for m in ("aqi", "aqi_unnormalized", "aqi_dbs_dunn"):
        assert np.all(np.diff(table[m]) > 0), (m, table[m])
    assert np.all(np.diff(table["davies_bouldin"]) < 0) and np.all(np.diff(table["xie_beni"]) < 0)
    assert table["aqi"][0] < 0.1 and table["aqi"][-1] > 0.85  # measured 0.052 .. 0.871


def test_exactly_invariant_to_sample_order_and_to_rotation_shift_and_scale():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((24, 9))
    X[12:] += 1.0
    ids = [f"g{i // 12}-{i:02d}" for i in range(24)]
    rep = Representation(X, ids, repeats=np.stack([X + 0.1 * rng.standard_normal(X.shape) for _ in range(3)]))
    for samples in ("rows", "repeats"):
        a = AQIIndex(samples=samples, groups=["g0-*", "g1-*"], n_permutations=50)
        base = [r.score for r in a.analyze(rep)] + [a.analyze(rep)[0].p_value]
        for seed in range(5):
            perm = np.random.default_rng(seed).permutation(24)
            moved = dataclasses.replace(rep, data=rep.data[perm], stimulus_ids=tuple(ids[i] for i in perm),
                                        repeats=rep.repeats[:, perm])
            got = [r.score for r in a.analyze(moved)] + [a.analyze(moved)[0].p_value]
            assert got == base  # bit-identical, p-value included
    q, _ = np.linalg.qr(rng.standard_normal((9, 9)))
    base = [r.score for r in AQIIndex().analyze(rep)]
    for Y in (X @ q, 3.7 * X, X + 5.0):
        assert np.allclose([r.score for r in AQIIndex().analyze(Representation(Y, ids))], base, rtol=1e-9)


def test_repeats_mode_groups_runs_by_condition():
    rng = np.random.default_rng(3)
    means = 2.0 * rng.standard_normal((4, 6))
    runs = means[None] + rng.standard_normal((5, 4, 6))          # 5 runs x 4 conditions
    rep = Representation(runs.mean(0), ["face", "house", "cat", "shoe"], repeats=runs)
    rows = {r.metric: r for r in AQIIndex(groups=["face", "house"], samples="repeats").analyze(rep)}
    X = np.vstack([runs[:, 0], runs[:, 1]])
    lab = np.repeat([0, 1], 5)
    assert rows["aqi"].n == 10
    assert rows["calinski_harabasz"].score == pytest.approx(calinski_harabasz_score(X, lab), rel=1e-10)
    assert rows["dunn"].score == pytest.approx(_brute_dunn(X, lab), rel=1e-12)
    every = AQIIndex(samples="repeats").analyze(rep)[0]
    assert every.n == 20 and set(every.extra["groups"]) == {"face", "house", "cat", "shoe"}


def test_informative_errors():
    rep = Representation(np.random.default_rng(0).standard_normal((6, 3)), [f"s-{i}" for i in range(6)])
    with pytest.raises(InvalidInputError, match=r"aqi.index.*at least 2 groups"):
        AQIIndex().analyze(rep)
    with pytest.raises(InvalidInputError, match=r"aqi.index.*matches several groups"):
        AQIIndex(groups=["s-*", "s-1"]).analyze(rep)
    with pytest.raises(InvalidInputError, match=r"aqi.index.*at least 2 samples"):
        AQIIndex(groups=["s-0", "s-[1-5]"]).analyze(rep)
    with pytest.raises(InvalidInputError, match=r"aqi.index.*needs a representation with repeats"):
        AQIIndex(groups=["s-[0-2]", "s-[3-5]"], samples="repeats").analyze(rep)
    with pytest.raises(InvalidInputError, match=r"aqi.index.*'lam' must be"):
        AQIIndex(groups=["s-[0-2]", "s-[3-5]"], lam=1.5).analyze(rep)


def test_pool_layers_is_the_weighted_mean_aligned_by_id():
    rng = np.random.default_rng(5)
    ids = [f"p{i}" for i in range(8)]
    a = Representation(rng.standard_normal((8, 4)), ids, space={"site": "blocks.0"})
    b = Representation(rng.standard_normal((8, 4)), ids, space={"site": "blocks.1"}).select(ids[::-1])
    pooled = pool_layers([a, b], weights=[3, 1])
    np.testing.assert_allclose(pooled.data, 0.75 * a.data + 0.25 * b.select(ids).data, rtol=1e-14)
    assert pooled.space["layers"] == ["blocks.0", "blocks.1"]
    with pytest.raises(InvalidInputError, match="same width"):
        pool_layers([a, Representation(np.zeros((8, 3)), ids)])


@pytest.mark.parametrize("normalization", ["bounded", "none"])
def test_batched_permutation_null_equals_direct_computation(normalization):
    from neurorep_aqi.indices import aqi, aqi_permutations, scatter

    X, labels = _blobs(9, (7, 9, 6), dim=5)
    X = X + 100.0   # a large common offset (as in LM residual streams) must not cost precision
    rng = np.random.default_rng(0)
    perms = np.stack([rng.permutation(len(X)) for _ in range(40)])
    batched = aqi_permutations(X, labels, perms, 0.3, normalization)
    direct = [aqi(scatter(X, labels[p]), 0.3, normalization) for p in perms]
    np.testing.assert_allclose(batched, direct, rtol=1e-9)
