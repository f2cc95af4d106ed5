"""The neurorep conformance suite on both tRSA components (the scikit-learn ``parametrize_with_checks`` pattern)."""

from __future__ import annotations

from neurorep.testing import parametrize_with_checks

from neurorep_trsa import GeoTopologicalTransform, TopologicalRSA


@parametrize_with_checks([
    TopologicalRSA(),
    TopologicalRSA(l=0.0, u=1.0, rank=False, comparison="pearson"),
    TopologicalRSA(l=0.5, u=0.5, comparison="cosine", distance="euclidean"),
    TopologicalRSA(l=0.0, u=0.3, geodesic=True),
    GeoTopologicalTransform(),
    GeoTopologicalTransform(l=0.1, u=0.4, geodesic=True, distance="euclidean"),
])
def test_trsa_conformance(component, check):
    check(component)
