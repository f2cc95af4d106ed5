"""The neurorep conformance suite on the plugin's components (the scikit-learn ``parametrize_with_checks`` pattern)."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_aqi import AQIIndex, SafetyPrompts


@parametrize_with_checks([AQIIndex, SafetyPrompts()])
def test_aqi_conformance(component, check):
    check(component)
