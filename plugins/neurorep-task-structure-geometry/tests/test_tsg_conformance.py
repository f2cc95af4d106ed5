"""The neurorep conformance suite on every component of neurorep-task-structure-geometry."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_task_structure_geometry import (AlignmentTaskSource, DigitsTaskSource, OneHiddenLayerNet, TaskAlignment,
                                              TrainedNetworkSource)


@parametrize_with_checks([
    TaskAlignment(),
    TaskAlignment(distance="correlation", comparison="spearman", align="intersection"),
    AlignmentTaskSource(n_conditions=4, n_per_condition=2, n_features=6),
    AlignmentTaskSource(n_conditions=6, n_targets=1, n_features=5, alignment=0.7, random_state=3),
    DigitsTaskSource(n_per_class=2),
    OneHiddenLayerNet(n_hidden=8, n_steps=30, n_checkpoints=3),
    OneHiddenLayerNet(activation="relu", n_hidden=8, n_steps=30, n_checkpoints=3, random_state=1),
    TrainedNetworkSource(task_params={"n_conditions": 4, "n_per_condition": 2, "n_features": 6}, n_hidden=8,
                         n_steps=20, n_checkpoints=3),
])
def test_conformance(component, check):
    check(component)
