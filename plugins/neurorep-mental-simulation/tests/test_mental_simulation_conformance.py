"""The neurorep conformance suite on ``predictivity.dynamic`` and the plugin distribution."""

from __future__ import annotations

from neurorep.testing import check_distribution, parametrize_with_checks

from neurorep_mental_simulation import DynamicPredictivity, OccludedBallSource


@parametrize_with_checks([
    DynamicPredictivity(n_bootstrap=20),
    DynamicPredictivity(n_time=2, metric="r2", n_bootstrap=0, n_half_splits=3),
    DynamicPredictivity(normalize=False, n_splits=2, inner_cv=2, n_bootstrap=10),
    OccludedBallSource(n_scenes=20, n_time=4, n_train=30),
])
def test_mental_simulation_conformance(component, check):
    check(component)


def test_distribution_checks():
    outcomes = check_distribution("neurorep-mental-simulation")
    failed = [f"{o.component} {o.check}: {o.message}" for o in outcomes if not o.passed and not o.expected]
    assert outcomes and not failed, failed
