"""The conformance suite on the host's built-in components (what a plugin's test_conformance.py does)."""

from __future__ import annotations

from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.builtin.similarity import LinearCKA
from neurorep.builtin.sources import NpzSource, SyntheticSource
from neurorep.testing import parametrize_with_checks


@parametrize_with_checks([
    LinearCKA(),
    LinearCKA(align="strict"),
    CorrelationRSA(),
    CorrelationRSA(comparison="pearson"),
    SyntheticSource(),
    SyntheticSource(n_stimuli=10, batch_size=3, random_state=4),
    NpzSource,  # the class: its _conformance_instances() writes a small temporary .npz
])
def test_builtin_conformance(component, check):
    check(component)
