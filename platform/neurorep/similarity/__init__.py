"""Representational similarity beyond RSA: the numerical core behind the ``cka.*``, ``shape.*`` and ``cca.*``
analyzers (:mod:`neurorep.builtin.similarity`).

* :mod:`neurorep.similarity.kernel_alignment`: linear and RBF Gram matrices, biased and unbiased HSIC, CKA,
  :func:`cka_matrix` (every layer against every layer in one pass), and bootstrap / permutation
  nulls for all resamples at once (weighted GEMMs, gathers of the kernel).
* :mod:`neurorep.similarity.shape`: orthogonal Procrustes and angular shape distances (netrep's
  partial whitening), mean CCA, SVCCA and PWCCA from centred cross-product matrices, batched
  over bootstrap samples and permutations.
* :mod:`neurorep.similarity.inference`: draws, percentile intervals and p-values.
"""

from __future__ import annotations

from .kernel_alignment import (
    center_gram,
    cka,
    cka_bootstrap,
    cka_matrix,
    cka_permutation_null,
    gram_linear,
    gram_rbf,
    hsic,
    hsic_bootstrap,
    hsic_permutation_null,
    hsic_unbiased,
    rbf_bandwidth,
)
from .shape import METRICS, canonical_correlations, observed_score, prepare, scores_from_counts, \
    scores_from_permutations

__all__ = [
    "METRICS",
    "canonical_correlations",
    "center_gram",
    "cka",
    "cka_bootstrap",
    "cka_matrix",
    "cka_permutation_null",
    "gram_linear",
    "gram_rbf",
    "hsic",
    "hsic_bootstrap",
    "hsic_permutation_null",
    "hsic_unbiased",
    "observed_score",
    "prepare",
    "rbf_bandwidth",
    "scores_from_counts",
    "scores_from_permutations",
]
