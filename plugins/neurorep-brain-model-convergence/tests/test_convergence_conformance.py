"""The neurorep conformance suite on ``convergence.layer-profile``."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_convergence import LayerProfile


@parametrize_with_checks([
    LayerProfile(),
    LayerProfile(base="cka.linear"),
    LayerProfile(base="rsa.correlation", base_params={"comparison": "pearson"}, layer_key="unit-layer"),
])
def test_convergence_conformance(component, check):
    check(component)
