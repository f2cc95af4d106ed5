"""The neurorep conformance suite on both encoders."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_transformer_brain_encoder import FactorizedRFEncoding, PlantedTokensSource, TransformerEncoding


@parametrize_with_checks([
    TransformerEncoding(n_epochs=40, d_model=8),
    TransformerEncoding(grid=[2, 2], d_model=8, n_epochs=40, layout="hwc"),
    FactorizedRFEncoding(),
    FactorizedRFEncoding(grid=[2, 2], alpha=1.0, n_iter=5, layout="hwc"),
    PlantedTokensSource(n_stimuli=20, batch_size=7),
    PlantedTokensSource(n_stimuli=12, grid=[3, 2], n_channels=4, mode="fixed", location=[2, 1]),
])
def test_tbe_conformance(component, check):
    check(component)
