"""The neurorep conformance suite on every lazy-neuron component."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_lazy_neuron import NonzeroSparsity, TopK


@parametrize_with_checks([
    NonzeroSparsity(),
    NonzeroSparsity(tol=0.5, tol_mode="absolute", population_measures=False),
    NonzeroSparsity(tol=0.25, tol_mode="relative"),
    NonzeroSparsity(side="positive", tol=0.1),
    TopK(sites=["blocks.0.mlp.hook_post"], k=8),
    TopK(sites=["model.layers.3.mlp.act_fn", "head"], k=2, dim=1, by="magnitude"),
])
def test_lazy_neuron_conformance(component, check):
    check(component)
