"""Exact identities of the retrieval scores, the permutation null and the input checks."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep.errors import InvalidInputError
from neurorep.types import Representation

from neurorep_whole_brain_decoding import ContrastiveDecoder, NetworkAblation
from neurorep_whole_brain_decoding.core import FoldSims, fold_labels, retrieval, score_matrix


def test_score_matrix_by_hand():
    sim = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.8], [0.0, 0.4, 0.6]])
    # row 0 ranks itself first, row 1 ranks its image (1) second, row 2 ranks its image (2) first
    assert np.trace(score_matrix(sim, "top1")) == 2
    assert np.trace(score_matrix(sim, "top5")) == 3          # k = min(5, 3): every candidate
    np.testing.assert_allclose(np.diag(score_matrix(sim, "pairwise")), [1.0, 0.5, 1.0])


def test_retrieval_perfect_and_null():
    folds = [FoldSims({"": np.eye(10) + 0.01}), FoldSims({"": np.eye(10)})]
    r = retrieval(folds, "", "top1", 999, 0)
    assert r["score"] == 1.0 and r["chance"] == pytest.approx(0.1) and r["n"] == 20
    assert r["p_value"] == pytest.approx(1 / 1000)           # no random pairing of 2 x 10 reaches 20 hits
    # the true image ranked last in every row: pairwise score 0 and p = 1 (every pairing does at least as well)
    worst = [FoldSims({"": -np.eye(6)})]
    rw = retrieval(worst, "", "pairwise", 500, 3)
    assert rw["chance"] == 0.5 and rw["score"] == 0.0 and rw["p_value"] == 1.0


def test_null_mean_is_chance():
    # the mean of M[i, pi(i)] over random pairings is the row mean of M: 1/n for top1, 0.5 for pairwise
    rng = np.random.default_rng(2)
    sim = rng.standard_normal((8, 8))
    for metric, chance in (("top1", 1 / 8), ("pairwise", 0.5)):
        assert score_matrix(sim, metric).mean() == pytest.approx(chance)


def test_folds_balanced_and_seeded():
    f = fold_labels(23, 5, 0)
    assert sorted(np.bincount(f).tolist()) == [4, 4, 5, 5, 5]
    assert np.array_equal(f, fold_labels(23, 5, 0)) and not np.array_equal(f, fold_labels(23, 5, 1))


def _pair(n=20, p=12, q=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, q))
    ids = tuple(f"s{i:02d}" for i in range(n))
    return (Representation(z @ rng.standard_normal((q, p)) + 0.1 * rng.standard_normal((n, p)), ids),
            Representation(z, ids))


def test_errors_name_the_component():
    x, y = _pair()
    with pytest.raises(InvalidInputError, match="decoding.contrastive"):
        ContrastiveDecoder(metric="top3").analyze(x, y)
    with pytest.raises(InvalidInputError, match="decoding.contrastive.*two inputs"):
        ContrastiveDecoder().analyze(x)
    with pytest.raises(InvalidInputError, match="decoding.contrastive.*n_folds"):
        ContrastiveDecoder(n_folds=11).analyze(x, y)
    with pytest.raises(InvalidInputError, match="decoding.network-ablation.*channel descriptor 'network'"):
        NetworkAblation(epochs=5).analyze(x, y)
    with pytest.raises(InvalidInputError, match=r"decoding.network-ablation.*groups\['a'\]"):
        NetworkAblation(groups={"a": [0, 99]}, epochs=5).analyze(x, y)


def test_linear_planted_features_rank_first_and_retrain_mode():
    """Toy ground truth: only features 0-5 carry y; ablating them drops retrieval most, in both modes."""
    rng = np.random.default_rng(4)
    n = 30
    z = rng.standard_normal((n, 5))
    x = np.concatenate([z @ rng.standard_normal((5, 6)), rng.standard_normal((n, 12))], 1)
    ids = tuple(f"s{i:02d}" for i in range(n))
    X, Y = Representation(x, ids), Representation(z, ids)
    groups = {"signal": list(range(6)), "noise-a": list(range(6, 12)), "noise-b": list(range(12, 18))}
    for mode in ("zero", "retrain"):
        res = NetworkAblation(groups=groups, mode=mode, metric="pairwise", n_permutations=0, epochs=60).analyze(X, Y)
        base, rows = res[0], {r.extra["network"]: r for r in res[1:]}
        assert base.score > 0.75
        assert rows["signal"].extra["rank"] == 1 and rows["signal"].extra["ablated_score"] < 0.7
        others = max(abs(rows[k].score) for k in ("noise-a", "noise-b"))
        assert others < 0.15 and rows["signal"].score > 2 * others, (mode, [(r.extra["network"], r.score) for r in res])
