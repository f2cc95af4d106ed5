"""Exact identities and independent references: the analyzer's RDM correlations equal scipy's and rsatoolbox's,
the task's planted geometry is what its construction says, and the network's gradient steps are exact."""

from __future__ import annotations

import numpy as np
import pytest
from neurorep import Representation
from neurorep.errors import InvalidInputError
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from neurorep_task_structure_geometry import (AlignmentTaskSource, OneHiddenLayerNet, TaskAlignment,
                                              TrainedNetworkSource, alignment_curve, checkpoint_steps,
                                              make_alignment_task, train_one_hidden_layer)


def _reps(seed=0, n=20):
    rng = np.random.default_rng(seed)
    ids = tuple(f"s{i}" for i in range(n))
    h = rng.standard_normal((n, 7))
    inp, tgt = rng.standard_normal((n, 5)), np.sign(rng.standard_normal((n, 2)))
    role = np.array(["input"] * 5 + ["target"] * 2)
    task = Representation(np.hstack([inp, tgt]), ids, channel_descriptors={"role": role}, name="task")
    return Representation(h, ids, name="hidden"), task, h, inp, tgt


def test_scores_equal_scipy_pdist_and_corrcoef():
    x, task, h, inp, tgt = _reps()
    rows = TaskAlignment().analyze(x, task)
    assert [r.metric for r in rows] == ["target-alignment", "input-alignment", "target-minus-input"]
    want_t = np.corrcoef(pdist(h), pdist(tgt))[0, 1]
    want_i = np.corrcoef(pdist(h), pdist(inp))[0, 1]
    assert rows[0].score == pytest.approx(want_t, abs=1e-12)
    assert rows[1].score == pytest.approx(want_i, abs=1e-12)
    assert rows[2].score == pytest.approx(want_t - want_i, abs=1e-12)
    assert rows[0].extra["input_target_alignment"] == pytest.approx(np.corrcoef(pdist(inp), pdist(tgt))[0, 1],
                                                                      abs=1e-12)
    assert rows[0].n == 20 * 19 // 2
    rho = TaskAlignment(distance="cosine", comparison="spearman").analyze(x, task)[1].score
    assert rho == pytest.approx(spearmanr(pdist(h, "cosine"), pdist(inp, "cosine"))[0], abs=1e-12)


def test_scores_equal_rsatoolbox():
    rsatoolbox = pytest.importorskip("rsatoolbox")
    x, task, h, inp, tgt = _reps(1)
    # rsatoolbox's "euclidean" RDM is the squared Euclidean distance / n_features (neurorep's "sqeuclidean")
    rows = TaskAlignment(distance="sqeuclidean", comparison="pearson").analyze(x, task)

    def rdm(a):
        return rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(a), method="euclidean")

    for score, ref in ((rows[0].score, tgt), (rows[1].score, inp)):
        want = rsatoolbox.rdm.compare(rdm(h), rdm(ref), method="corr")[0, 0]
        assert score == pytest.approx(want, abs=1e-10)


def test_roles_are_matched_by_stimulus_id_and_missing_roles_mean_target():
    x, task, h, inp, tgt = _reps(2)
    perm = np.random.default_rng(0).permutation(20)
    moved = Representation(task.data[perm], tuple(np.array(task.stimulus_ids)[perm]),
                           channel_descriptors=task.channel_descriptors)
    a, b = TaskAlignment().analyze(x, task), TaskAlignment().analyze(x, moved)
    assert [r.score for r in a] == pytest.approx([r.score for r in b], abs=1e-12)
    only = TaskAlignment().analyze(x, Representation(tgt, x.stimulus_ids))
    assert len(only) == 1 and only[0].score == pytest.approx(a[0].score, abs=1e-12)
    bad = Representation(inp, x.stimulus_ids, channel_descriptors={"role": np.array(["input"] * 5)})
    with pytest.raises(InvalidInputError, match="geometry.task-alignment"):
        TaskAlignment().analyze(x, bad)
    with pytest.raises(InvalidInputError, match="comparison must be one of"):
        TaskAlignment(comparison="pearsn").analyze(x, task)


def test_alignment_endpoints_are_planted_exactly():
    # alignment=1 without noise: inputs are the embedded label code, an isometry of the targets (up to scale)
    t1 = make_alignment_task(alignment=1.0, noise=0.0, random_state=4)
    np.testing.assert_allclose(pdist(t1.inputs) / pdist(t1.inputs).max(), pdist(t1.targets) / pdist(t1.targets).max(),
                               atol=1e-12)
    # alignment=0 without noise: the inputs carry only the random points (the label code has weight cos(pi/2)=0)
    t0 = make_alignment_task(alignment=0.0, noise=0.0, random_state=4)
    assert np.corrcoef(pdist(t0.inputs), pdist(t0.targets))[0, 1] < 0.5
    # balanced +-1 dichotomies, every condition sampled n_per_condition times, unit RMS centres
    assert set(np.unique(t0.targets)) == {-1.0, 1.0} and np.all(t0.targets.sum(0) == 0)
    assert np.bincount(t0.condition).tolist() == [4] * 16
    assert np.sqrt((t0.inputs ** 2).sum(1).mean()) == pytest.approx(1.0, abs=1e-12)
    # sites carry the same numbers; the 'task' site marks its columns
    src = AlignmentTaskSource(alignment=0.3, random_state=2)
    task = src.load("task")
    np.testing.assert_array_equal(task.data[:, :32], src.load("input").data)
    np.testing.assert_array_equal(task.data[:, 32:], src.load("target").data)
    assert list(task.channel_descriptors["role"]).count("target") == 2
    with pytest.raises(InvalidInputError, match="alignment must lie in"):
        AlignmentTaskSource(alignment=1.5).load("input")


def test_gradient_step_matches_a_hand_derivation():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 2))
    lr = 0.1
    for act in ("tanh", "relu"):
        net0 = train_one_hidden_layer(X, Y, act, n_hidden=6, n_steps=0, random_state=3)
        net1 = train_one_hidden_layer(X, Y, act, n_hidden=6, n_steps=1, learning_rate=lr, random_state=3)
        a = X @ net0.W1 + net0.b1
        h = np.tanh(a) if act == "tanh" else np.maximum(a, 0)
        e = 2 * (h @ net0.W2 + net0.b2 - Y) / Y.size          # d mean((out - Y)^2) / d out
        da = (e @ net0.W2.T) * ((1 - h ** 2) if act == "tanh" else (a > 0))
        np.testing.assert_allclose(net1.W2, net0.W2 - lr * h.T @ e, atol=1e-12)
        np.testing.assert_allclose(net1.b2, net0.b2 - lr * e.sum(0), atol=1e-12)
        np.testing.assert_allclose(net1.W1, net0.W1 - lr * X.T @ da, atol=1e-12)
        np.testing.assert_allclose(net1.b1, net0.b1 - lr * da.sum(0), atol=1e-12)
        assert net1.loss[0] == pytest.approx(((h @ net0.W2 - Y) ** 2).mean(), abs=1e-12)


def test_estimator_history_source_sites_and_determinism():
    task = make_alignment_task(n_conditions=8, n_per_condition=2, random_state=1)
    est = OneHiddenLayerNet(n_hidden=16, n_steps=40, n_checkpoints=4, random_state=5).fit(task.inputs, task.targets)
    assert est.history_steps_ == checkpoint_steps(40, 4) == (0, 1, 6, 40)
    np.testing.assert_allclose(est.history_[-1], est.transform(task.inputs), atol=1e-12)
    assert est.loss_[-1] < est.loss_[0]
    again = OneHiddenLayerNet(n_hidden=16, n_steps=40, n_checkpoints=4, random_state=5).fit(task.inputs, task.targets)
    np.testing.assert_array_equal(est.W1_, again.W1_)
    src = TrainedNetworkSource(task_params={"n_conditions": 8, "n_per_condition": 2, "random_state": 1}, n_hidden=16,
                               n_steps=40, n_checkpoints=4, random_state=5)
    assert src.sites() == ["hidden.step-0000", "hidden.step-0001", "hidden.step-0006", "hidden.step-0040", "output"]
    for step, h in zip(est.history_steps_, est.history_):
        rep = src.load(f"hidden.step-{step:04d}")
        np.testing.assert_allclose(rep.data, h, atol=1e-12)
        assert rep.space["step"] == step and rep.stimulus_ids == task.stimulus_ids
    np.testing.assert_allclose(src.load("output").data, est.predict(task.inputs), atol=1e-12)
    # the analyzer on a checkpoint site equals the curve helper
    net = train_one_hidden_layer(task.inputs, task.targets, n_hidden=16, n_steps=40, n_checkpoints=4, random_state=5)
    curve = alignment_curve(net, task)
    row = TaskAlignment().analyze(src.load("hidden.step-0006"), AlignmentTaskSource(
        n_conditions=8, n_per_condition=2, random_state=1).load("task"))
    assert row[0].score == pytest.approx(curve["target"][2], abs=1e-12)
    assert row[1].score == pytest.approx(curve["input"][2], abs=1e-12)
    assert row[0].extra["step"] == 6


def test_importing_the_plugin_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, neurorep_task_structure_geometry.plugin, neurorep_task_structure_geometry as m; "
            "m.AlignmentTaskSource().load('task'); m.TaskAlignment(); assert 'torch' not in sys.modules, 'torch'")
    subprocess.run([sys.executable, "-c", code], check=True)
