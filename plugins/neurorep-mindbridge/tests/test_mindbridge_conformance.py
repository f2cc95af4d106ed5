"""The neurorep conformance suite on ``mindbridge.cross-subject``."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_mindbridge import MindBridgeCrossSubject


@parametrize_with_checks([
    MindBridgeCrossSubject(pool_size=8, hidden=16, latent=8, epochs=5, folds=2),
    MindBridgeCrossSubject(mode="per-subject", pooling="avg", pool_size=4, hidden=8, latent=4, epochs=3,
                           cycle_weight=0.0, folds=3),
])
def test_mindbridge_conformance(component, check):
    check(component)
