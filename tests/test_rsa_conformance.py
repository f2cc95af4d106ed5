"""The conformance suite on every built-in RSA analyzer and RDM transform."""

from __future__ import annotations

from neurorep.builtin.analyzers import (
    CorrelationRSA,
    CosineRSA,
    CrossnobisRSA,
    EuclideanRSA,
    MahalanobisRSA,
    RankTransform,
    SqrtTransform,
    SquaredEuclideanRSA,
)
from neurorep.testing import parametrize_with_checks


@parametrize_with_checks([
    CorrelationRSA(),
    CorrelationRSA(comparison="tau-a"),
    CorrelationRSA(comparison="whitened-pearson"),
    CosineRSA(comparison="cosine"),
    EuclideanRSA(),
    EuclideanRSA(comparison="bures"),
    SquaredEuclideanRSA(comparison="rho-a"),
    SquaredEuclideanRSA(comparison="whitened-cosine"),
    MahalanobisRSA(),
    MahalanobisRSA(noise_method="shrinkage_eye", comparison="pearson"),
    CrossnobisRSA(),  # the toy representations carry repeats (runs), its folds
    CrossnobisRSA(noise_method="identity", comparison="pearson"),
    RankTransform(),
    RankTransform(distance="euclidean"),
    SqrtTransform(),
])
def test_rsa_conformance(component, check):
    check(component)
