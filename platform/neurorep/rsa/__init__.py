"""Representational similarity analysis: the numerical core behind the ``rsa.*`` analyzers.

* :mod:`neurorep.rsa.rdm`: RDMs (Euclidean, squared Euclidean, correlation, cosine,
  Mahalanobis, crossnobis) as batched GEMMs, numpy or torch; shrinkage noise estimates.
* :mod:`neurorep.rsa.comparisons`: comparisons of RDMs (Pearson, Spearman, Kendall's tau-a,
  rho-a, cosine, whitened cosine and Pearson, Bures), one against many or many against many.
* :mod:`neurorep.rsa.inference`: noise ceilings, bootstrap CIs over stimuli and/or subjects,
  stimulus-relabelling permutation tests, paired model comparisons, FDR and max-statistic
  corrections, vectorised over resamples.
* :mod:`neurorep.rsa.transforms`: rank and square-root transforms of RDMs.

The definitions and normalisations follow rsatoolbox, and the test suite checks equality
with it (``tests/test_rsa_*.py``).
"""

from __future__ import annotations

from .comparisons import COMPARISONS, bures, compare, embed, tau_a
from .inference import (
    BootstrapResult,
    NoiseCeiling,
    PermutationResult,
    bootstrap,
    bootstrap_difference,
    bootstrap_pair_tests,
    fdr_bh,
    max_statistic_pvalues,
    noise_ceiling,
    permutation_test,
    pool_rdms,
    subject_pair_t_tests,
)
from .rdm import (
    DISTANCES,
    calc_rdm,
    cov_from_residuals,
    crossnobis_rdms,
    noise_precision,
    pattern_rdms,
    prec_from_residuals,
)
from .transforms import rank_rdms, sqrt_rdms

__all__ = [
    "COMPARISONS",
    "DISTANCES",
    "BootstrapResult",
    "NoiseCeiling",
    "PermutationResult",
    "bootstrap",
    "bootstrap_difference",
    "bootstrap_pair_tests",
    "bures",
    "calc_rdm",
    "compare",
    "cov_from_residuals",
    "crossnobis_rdms",
    "embed",
    "fdr_bh",
    "max_statistic_pvalues",
    "noise_ceiling",
    "noise_precision",
    "pattern_rdms",
    "permutation_test",
    "pool_rdms",
    "prec_from_residuals",
    "rank_rdms",
    "sqrt_rdms",
    "subject_pair_t_tests",
    "tau_a",
]
