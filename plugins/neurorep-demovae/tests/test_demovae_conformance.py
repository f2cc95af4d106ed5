"""The neurorep conformance suite on every component of the plugin."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_demovae import DemographicLeakage, Deconfound, DemoVAE, PlantedCohortSource


@parametrize_with_checks([
    DemoVAE(latent_dim=3, hidden=16, epochs=15, batch_size=16),
    DemoVAE(latent_dim=2, hidden=8, epochs=10, kl_weight=0.1, random_state=3),
    PlantedCohortSource(n_subjects=40, n_rois=5, latent_dim=2, epochs=5),
    Deconfound(latent_dim=3, epochs=10),
    Deconfound(output="fc", latent_dim=2, epochs=10, keep_demographics=True, n_demographics=2),
    DemographicLeakage(),
    DemographicLeakage(n_demographics=3),
])
def test_demovae_conformance(component, check):
    check(component)
