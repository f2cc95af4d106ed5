"""The paper's check on planted ground truth: synthetic calcium traces whose communities fire together in known
epochs (and one community only in one of two animals). NTF must recover the membership (ARI > 0.9), the
windows and the animal; all factors are >= 0 and the loss never increases."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation
from sklearn.metrics import adjusted_rand_score

from neurorep_dynamic_connectome import (
    DynamicConnectome,
    NonnegativeTensorFactorization,
    active_intervals,
    argmax_membership,
    planted_calcium,
)

WINDOW = 30  # 600 samples -> 20 windows; epochs of 150 samples = 5 windows each


def _planted(seed):
    return planted_calcium(n_communities=3, units_per_community=8, n_timepoints=600, n_animals=2,
                           absent={2: (0,)}, random_state=seed)


def _epoch_windows(epoch):
    return set(range(epoch[0] // WINDOW, epoch[1] // WINDOW))


@pytest.mark.parametrize("seed,affinity", [(0, "differential"), (1, "differential"), (2, "correlation")])
def test_ntf_recovers_planted_communities_windows_and_animals(seed, affinity):
    p = _planted(seed)
    est = NonnegativeTensorFactorization(n_components=4, window=WINDOW, affinity=affinity, smoothing=1.0,
                                         n_init=2, random_state=seed).fit(p.traces)
    # all factors non-negative; the loss never goes up
    for f in (est.pair_factors_, est.window_factors_, est.animal_factors_, est.weights_):
        assert np.all(f >= 0)
    loss = np.asarray(est.loss_curve_)
    assert np.all(np.diff(loss) <= 1e-9 * loss[0])
    # membership: ARI > 0.9 (the paper-check threshold)
    labels = argmax_membership(est.affinity_matrices_, est.weights_)
    ari = adjusted_rand_score(p.labels, labels)
    assert ari > 0.9, ari
    for c in range(3):
        comp = np.bincount(labels[p.labels == c]).argmax()
        # the component's active windows are the planted epoch's (Jaccard >= 0.8)
        found = {w for a, b in active_intervals(est.window_factors_[:, comp], 0.5) for w in range(a, b + 1)}
        truth = _epoch_windows(p.epochs[c])
        assert len(found & truth) / len(found | truth) >= 0.8, (c, sorted(found), sorted(truth))
        # community 2 is co-active in animal 1 only: its component loads on animal 1
        animals = est.animal_factors_[:, comp]
        if c == 2:
            assert animals[0] < 0.3 * animals[1], animals
        else:
            assert animals.min() > 0.5 * animals.max(), animals


def test_transform_tracks_the_active_community_over_time():
    p = _planted(0)
    est = NonnegativeTensorFactorization(n_components=4, window=WINDOW, smoothing=1.0, n_init=2).fit(p.traces)
    labels = argmax_membership(est.affinity_matrices_, est.weights_)
    per_time = est.transform(p.traces[1])  # animal 1: all three communities co-active in turn
    assert per_time.shape == (600, 4) and np.all(per_time >= 0)
    for c in range(3):
        comp = np.bincount(labels[p.labels == c]).argmax()
        s, e = p.epochs[c]
        inside = per_time[s:e, comp].mean()
        outside = np.delete(per_time[:, comp], np.arange(s, e)).mean()
        assert inside > 3 * outside, (c, inside, outside)
    assert est.transform(p.traces).shape == (2, 600, 4)


def test_analyzer_rows_name_the_planted_communities_and_ignore_row_order():
    p = _planted(1)
    ids = tuple(f"frame-{t}" for t in range(600))  # natural order: frame-2 < frame-10
    units = np.array([f"n{i:02d}" for i in range(24)])
    x = Representation(p.traces.mean(axis=0), ids, repeats=p.traces, channel_descriptors={"unit": units})
    an = DynamicConnectome(n_components=4, window=WINDOW, smoothing=1.0, n_init=2, random_state=1)
    rows = an.analyze(x)
    assert rows[0].metric == "ntf_fit" and 0.5 < rows[0].score < 1.0
    membership = rows[0].extra["membership"]
    assert adjusted_rand_score(p.labels, [membership[u] for u in units]) > 0.9
    comms = [r for r in rows[1:] if r.score > 2.0]  # communities much denser than their component's graph
    assert len(comms) == 3, [(r.score, r.extra["unit_index"]) for r in rows[1:]]
    for r in comms:
        found = set(r.extra["unit_index"])
        c = int(np.bincount(p.labels[sorted(found)]).argmax())
        truth = set(np.flatnonzero(p.labels == c).tolist())
        assert len(found & truth) / len(found | truth) >= 0.85, (c, sorted(found))  # Louvain may add a stray unit
        s, e = p.epochs[c]
        covered = {t for a, b in r.extra["active_windows"] for t in range(int(a[6:]), int(b[6:]) + 1)}
        assert covered <= set(range(s, e)), r.extra["active_windows"]  # active only inside the planted epoch
        assert len(covered) >= 0.75 * (e - s), r.extra["active_windows"]  # and for most of it
    perm = np.random.default_rng(0).permutation(600)
    shuffled = Representation(x.data[perm], tuple(ids[i] for i in perm), repeats=x.repeats[:, perm],
                              channel_descriptors={"unit": units})
    again = an.analyze(shuffled)
    assert [r.score for r in again] == pytest.approx([r.score for r in rows])
