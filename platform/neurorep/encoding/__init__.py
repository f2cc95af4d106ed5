"""Encoding models, probes and identification: the numerical core behind ``encoding.*``, ``probe.*`` and
``identification.*``.

* :mod:`neurorep.encoding.ridge`: ridge regression with a per-target alpha chosen by K-fold
  (one decomposition per fold for all alphas and targets) or closed-form leave-one-out CV;
  nested-CV held-out predictions.
* :mod:`neurorep.encoding.banded`: banded ridge (one penalty per feature band and target) by
  random search over the simplex.
* :mod:`neurorep.encoding.scoring`: per-target R2 and R, the NCSNR noise ceiling, batched
  permutation nulls, stimulus-bootstrap of the mean R2, and the product-measure split of R2
  between bands.
* :mod:`neurorep.encoding.identification`: ranking candidate patterns by correlation.

The test suite checks alphas and predictions against scikit-learn (``RidgeCV``,
``RidgeClassifierCV``) and himalaya (``RidgeCV``, ``solve_group_ridge_random_search``).
"""

from __future__ import annotations

from .banded import BandedRidgeFit, band_slices, banded_ridge_cv, dirichlet_gammas
from .identification import identification_ranks, topk_accuracy
from .ridge import (
    DEFAULT_ALPHAS,
    RidgeCVFit,
    cv_ridge_predictions,
    decompose,
    kfold_indices,
    ridge_coef,
    ridge_cv,
    ridge_cv_scores,
    ridge_loo_scores,
    ridge_predict,
    select_alphas,
)
from .scoring import (
    PermutationNull,
    bootstrap_mean_r2,
    ncsnr_ceiling,
    pearson_per_target,
    permutation_null,
    r2_per_target,
    r2_split,
)

__all__ = [
    "DEFAULT_ALPHAS",
    "BandedRidgeFit",
    "PermutationNull",
    "RidgeCVFit",
    "band_slices",
    "banded_ridge_cv",
    "bootstrap_mean_r2",
    "cv_ridge_predictions",
    "decompose",
    "dirichlet_gammas",
    "identification_ranks",
    "kfold_indices",
    "ncsnr_ceiling",
    "pearson_per_target",
    "permutation_null",
    "r2_per_target",
    "r2_split",
    "ridge_coef",
    "ridge_cv",
    "ridge_cv_scores",
    "ridge_loo_scores",
    "ridge_predict",
    "select_alphas",
    "topk_accuracy",
]
