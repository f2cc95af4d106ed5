"""The paper's check (triage seed #72; issue 7 "Done when"), on the parameterised task family.

Ten seeds (network initialisations) of one-hidden-layer Tanh and ReLU networks are trained on a
misaligned task (``alignment=0``: random input points, random balanced dichotomies as targets) and on an
aligned one (``alignment=1``: the inputs are the label code). At the end of training:

* misaligned: corr(hidden RDM, target RDM) is higher for Tanh than ReLU, and corr(hidden RDM, input RDM)
  is higher for ReLU than Tanh, in all 10 seeds and on average (measured: 10/10 for both;
  mean gaps 0.051 and 0.137);
* aligned: both gaps shrink to less than a fifth of their misaligned size (measured: |gaps| <= 0.001).

Also: Tanh's target alignment rises over training (the hidden RDM moves from input-like to target-like).
"""

from __future__ import annotations

import numpy as np
import pytest

from neurorep_task_structure_geometry import alignment_curve, make_alignment_task, train_one_hidden_layer

pytest.importorskip("torch")

SEEDS = range(10)


def _final_alignments(alignment: float) -> dict[str, np.ndarray]:
    task = make_alignment_task(alignment=alignment, random_state=0)
    out = {}
    for act in ("tanh", "relu"):
        rows = []
        for seed in SEEDS:
            net = train_one_hidden_layer(task.inputs, task.targets, act, n_hidden=100, n_steps=300,
                                         learning_rate=0.2, init_scale=0.1, n_checkpoints=4, random_state=seed)
            assert net.loss[-1] < 0.05 * net.loss[0]          # both networks learn the task
            c = alignment_curve(net, task)
            rows.append((c["input"][-1], c["target"][-1], c["target"][0]))
        out[act] = np.array(rows)
    return out


@pytest.fixture(scope="module")
def misaligned():
    return _final_alignments(0.0)


@pytest.fixture(scope="module")
def aligned():
    return _final_alignments(1.0)


def test_tanh_tracks_targets_relu_keeps_inputs_on_a_misaligned_task(misaligned):
    tanh, relu = misaligned["tanh"], misaligned["relu"]
    target_gap = tanh[:, 1] - relu[:, 1]
    input_gap = relu[:, 0] - tanh[:, 0]
    print(f"\nmisaligned: target gap (tanh - relu) {target_gap.mean():.3f}, {np.sum(target_gap > 0)}/10 seeds; "
          f"input gap (relu - tanh) {input_gap.mean():.3f}, {np.sum(input_gap > 0)}/10 seeds")
    assert np.sum(target_gap > 0) == 10 and target_gap.mean() > 0.02
    assert np.sum(input_gap > 0) == 10 and input_gap.mean() > 0.05
    # learning moves the Tanh hidden geometry towards the targets
    assert np.all(tanh[:, 1] > tanh[:, 2] + 0.3)


def test_the_gap_shrinks_when_the_geometries_are_aligned(misaligned, aligned):
    mis_t = np.mean(misaligned["tanh"][:, 1] - misaligned["relu"][:, 1])
    mis_i = np.mean(misaligned["relu"][:, 0] - misaligned["tanh"][:, 0])
    al_t = np.mean(aligned["tanh"][:, 1] - aligned["relu"][:, 1])
    al_i = np.mean(aligned["relu"][:, 0] - aligned["tanh"][:, 0])
    print(f"\naligned: target gap {al_t:.4f} (misaligned {mis_t:.4f}); input gap {al_i:.4f} (misaligned {mis_i:.4f})")
    assert abs(al_t) < 0.2 * abs(mis_t)
    assert abs(al_i) < 0.2 * abs(mis_i)
