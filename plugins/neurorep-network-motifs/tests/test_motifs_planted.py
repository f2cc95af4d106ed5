"""The paper's check on synthetic groups: the mask finds the planted region and PCA-LDA beats chance."""

from __future__ import annotations

import numpy as np
import pytest

from neurorep_network_motifs import PCALDA, NetworkGroups


def _shares(rows):
    return {r.extra["region"]: r.score for r in rows if r.metric.startswith("mask_share.")}


@pytest.mark.parametrize("seed,planted", [(0, 2), (1, 4)])
def test_mask_selects_the_planted_region_and_pca_lda_beats_chance(seed, planted):
    ds = NetworkGroups(planted_region=planted, features=["cycle3"], random_state=seed)
    x, g = ds.load("cycle3"), ds.load("group")
    # the planted region's voxels take part in more 3-cycles in the patient group
    reg = ds.regions() == f"region-{planted + 1}"
    grp = g.data[:, 0]
    assert x.data[grp == 1][:, reg].mean() > 1.5 * x.data[grp == 0][:, reg].mean()
    rows = PCALDA(n_permutations=200, random_state=seed).analyze(x, g)
    acc = rows[0]
    assert acc.metric == "accuracy" and acc.score >= 0.75 and acc.p_value <= 0.01
    shares = _shares(rows)
    assert shares[f"region-{planted + 1}"] >= 0.9
    assert sum(shares.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_without_a_planted_difference_the_classifier_is_at_chance(seed):
    ds = NetworkGroups(effect=0.0, features=["cycle3"], random_state=seed)
    rows = PCALDA(n_permutations=200, random_state=seed).analyze(ds.load("cycle3"), ds.load("group"))
    assert rows[0].score < 0.65 and rows[0].p_value > 0.05


def test_group_labels_are_joined_by_subject_id():
    ds = NetworkGroups(n_per_group=10, features=["cycle3"], random_state=2)
    x, g = ds.load("cycle3"), ds.load("group")
    perm = np.random.default_rng(0).permutation(20)
    g_moved = g.select([g.stimulus_ids[i] for i in perm])
    a = PCALDA(n_permutations=0).analyze(x, g)
    b = PCALDA(n_permutations=0).analyze(x, g_moved)
    assert [r.score for r in a] == [r.score for r in b]
