"""MindBridge: aggregation identities, the paper's checks on planted synthetic subjects, errors, registration."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from neurorep import Representation
from neurorep.errors import InvalidInputError
from neurorep.plugins import PluginSystem

from neurorep_mindbridge import (
    MindBridge,
    MindBridgeCrossSubject,
    TrainConfig,
    aggregate,
    cosine_matrix,
    stack_subjects,
    top1_accuracy,
)


def planted_subjects(seed=0, n=450, d=8, voxels=(150, 220, 300, 260), noise=1.0, out=32):
    """A shared latent Z; image embeddings a fixed nonlinear function of Z; each subject's voxels Z @ A_s + noise,
    A_s a subject-specific random matrix with its own number of voxels."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    T = np.sin(2 * Z @ rng.standard_normal((d, out)) / np.sqrt(d))
    Xs = [Z @ rng.standard_normal((d, v)) + noise * rng.standard_normal((n, v)) for v in voxels]
    return T, Xs


CFG = TrainConfig(pool_size=32, pooling="avg", hidden=64, latent=32, epochs=30)
TRAIN, TEST = np.arange(400), np.arange(400, 450)       # 50 held-out candidates, chance 0.02


def _top1(model, X, s, T):
    return top1_accuracy(cosine_matrix(model.predict(X, s), model.targets(T)))


# --------------------------------------------------------------------------- aggregation function

@pytest.mark.parametrize("pooling,reduce", [("avg", np.mean), ("max", np.max)])
def test_aggregate_equals_windowed_reduction(pooling, reduce):
    X = np.random.default_rng(0).standard_normal((5, 60))
    got = aggregate(X, 12, pooling).numpy()
    np.testing.assert_allclose(got, reduce(X.reshape(5, 12, 5), axis=2), rtol=0, atol=1e-6)


def test_aggregate_brings_every_subject_to_one_size():
    rng = np.random.default_rng(1)
    sizes = {aggregate(rng.standard_normal((3, v)), 16).shape for v in (37, 150, 301)}
    assert sizes == {(3, 16)}
    with pytest.raises(InvalidInputError, match="pooling"):
        aggregate(np.zeros((2, 10)), 4, "median")


def test_top1_accuracy_and_cosine():
    assert top1_accuracy(np.eye(4)) == 1.0
    assert top1_accuracy(np.ones((4, 4))) == 0.0          # ties are misses
    A = np.random.default_rng(2).standard_normal((3, 5))
    np.testing.assert_allclose(np.diag(cosine_matrix(A, 2 * A)), 1.0)


# --------------------------------------------------------------------------- the paper's checks

def test_one_model_for_all_subjects_matches_per_subject_models():
    T, Xs = planted_subjects()
    Xs = Xs[:3]
    shared = MindBridge(CFG, 0).fit([X[TRAIN] for X in Xs], [T[TRAIN]] * 3)
    acc_shared = np.array([_top1(shared, X[TEST], s, T[TEST]) for s, X in enumerate(Xs)])
    acc_single = np.array([_top1(MindBridge(CFG, 0).fit([X[TRAIN]], [T[TRAIN]]), X[TEST], 0, T[TEST]) for X in Xs])
    assert acc_shared.min() > 0.3 and acc_single.min() > 0.3     # chance 0.02
    assert acc_shared.mean() >= acc_single.mean() - 0.08          # within a few points of per-subject models
    # the latent is subject-invariant: the same stimulus from two subjects lands close together
    za, zb = shared.latent(Xs[0][TEST], 0), shared.latent(Xs[1][TEST], 1)
    assert top1_accuracy(cosine_matrix(za, zb)) > 0.5


def test_reset_tuning_with_ten_percent_beats_training_from_scratch():
    T, Xs = planted_subjects()
    pre = MindBridge(CFG, 0).fit([X[TRAIN] for X in Xs[:3]], [T[TRAIN]] * 3)
    few = TRAIN[:40]                                              # 10 % of the new subject's training data
    X = Xs[3]
    tuned = copy.deepcopy(pre)
    s = tuned.reset_tune(X[few], T[few], epochs=200)
    acc_reset = _top1(tuned, X[TEST], s, T[TEST])
    scratch = MindBridge(TrainConfig(**{**CFG.__dict__, "epochs": 200}), 0).fit([X[few]], [T[few]])
    acc_scratch = _top1(scratch, X[TEST], 0, T[TEST])
    assert acc_reset > acc_scratch + 0.1, (acc_reset, acc_scratch)
    # frozen shared layers really stayed fixed; the old subjects still decode as before
    for name, p in pre.net.encoder.state_dict().items():
        torch.testing.assert_close(p, tuned.net.encoder.state_dict()[name])
    assert _top1(tuned, Xs[0][TEST], 0, T[TEST]) == _top1(pre, Xs[0][TEST], 0, T[TEST])


def test_novel_fmri_synthesis_follows_the_target_subject():
    T, Xs = planted_subjects(voxels=(96, 128))
    mb = MindBridge(CFG, 0).fit([X[TRAIN] for X in Xs], [T[TRAIN]] * 2)
    novel = mb.synthesize(Xs[0][TEST], source=0, target=1)       # subject 0's fMRI built as subject 1
    real = mb._prep_x(Xs[1][TEST], 1).numpy()                    # subject 1's own aggregated fMRI
    assert top1_accuracy(cosine_matrix(novel - novel.mean(0), real - real.mean(0))) > 0.5


# --------------------------------------------------------------------------- the analyzer

def _reps(T, Xs, n=120):
    ids = [f"img-{i:03d}" for i in range(n)]
    subs = [Representation(X[:n], ids, space={"subject": f"sub-{i + 1:02d}"}) for i, X in enumerate(Xs)]
    return stack_subjects(subs), Representation(T[:n], ids)


def test_analyzer_rows_per_subject_and_order_invariance():
    T, Xs = planted_subjects(voxels=(40, 70), noise=0.5)
    x, y = _reps(T, Xs)
    a = MindBridgeCrossSubject(pool_size=16, pooling="avg", hidden=32, latent=16, epochs=40, folds=3)
    rows = a.analyze(x, y)
    assert [r.extra.get("subject") for r in rows[:2]] == ["sub-01", "sub-02"] and rows[2].metric == "top1_mean"
    assert rows[0].extra["n_voxels"] == {"sub-01": 40, "sub-02": 70}
    assert rows[2].score == pytest.approx(np.mean([rows[0].score, rows[1].score]))
    assert min(r.score for r in rows) > 4 * rows[0].extra["chance"]   # chance 3/120
    perm = np.random.default_rng(0).permutation(120)
    x2 = Representation(x.data[perm], [x.stimulus_ids[i] for i in perm], channel_descriptors=x.channel_descriptors)
    assert [r.score for r in a.analyze(x2, y)] == [r.score for r in rows]


def test_errors_name_the_component():
    a = MindBridgeCrossSubject(epochs=1)
    x = Representation(np.zeros((6, 3)), [str(i) for i in range(6)])
    with pytest.raises(InvalidInputError, match="mindbridge.cross-subject.*two inputs"):
        a.analyze(x)
    with pytest.raises(InvalidInputError, match="pooling"):
        MindBridgeCrossSubject(pooling="median").analyze(x, x)
    with pytest.raises(InvalidInputError, match="stack_subjects"):
        stack_subjects([x, Representation(np.zeros((3, 2)), ["a", "b", "c"])])


def test_registered():
    ps = PluginSystem()
    assert ps.registry.get("mindbridge.cross-subject").cls is MindBridgeCrossSubject
    assert ps.registry.get("mindbridge.cross-subject").distribution == "neurorep-mindbridge"
