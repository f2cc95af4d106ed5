"""The neurorep conformance suite on ``mindeye.retrieval`` (the scikit-learn ``parametrize_with_checks`` pattern)."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_mindeye import MindEyeRetrieval


@parametrize_with_checks([
    MindEyeRetrieval(hidden=32, epochs=15, n_permutations=50, folds=2),
    MindEyeRetrieval(hidden=16, n_blocks=0, epochs=10, mixco_fraction=0.0, split="runs", top_k=3, seeds=2,
                     n_permutations=20, center_targets=False),
])
def test_mindeye_conformance(component, check):
    check(component)
