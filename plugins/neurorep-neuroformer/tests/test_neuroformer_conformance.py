"""The neurorep conformance suite on every component of the plugin (small settings: the checks train often)."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_neuroformer import FewShotProbe, NeuroformerWindowsSource, NextSpikeAnalyzer, SpikingNetworkSource


@parametrize_with_checks([
    NextSpikeAnalyzer(n_epochs=2, d_model=8, batch_size=8),
    FewShotProbe(n_shots=3, n_repeats=2, discretize=2),
    SpikingNetworkSource(n_bins=200),
    NeuroformerWindowsSource(n_bins=200, n_epochs=1, d_model=8),
])
def test_neuroformer_conformance(component, check):
    check(component)
