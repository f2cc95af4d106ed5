"""neurorep-demovae: DemoVAE, a demographics-conditioned, demographics-decorrelated VAE for functional
connectivity (Orlichenko et al., 2024, arXiv:2405.07977).

Components (registered through the ``neurorep`` entry point ``demovae``):

* ``demovae.fc`` (:class:`DemoVAE`, estimator): fit(FC, demographics); transform -> confound-free latents;
  sample(n, demographics) -> synthetic FC; reconstruct(FC, demographics).
* ``demovae.planted-cohort`` (:class:`PlantedCohortSource`, source): a SYNTHETIC FC cohort with planted age
  and sex effects, its DemoVAE latents and DemoVAE-sampled synthetic FC.
* ``demovae.deconfound`` (:class:`Deconfound`, transform): FC + demographics -> DemoVAE latents (or FC at the
  mean demographics) before a comparison.
* ``demovae.leakage`` (:class:`DemographicLeakage`, analyzer): max |r| between features and demographics.

Functions: :func:`planted_fc_cohort`, :func:`sliding_window_fc`, :func:`matrix_to_edges`,
:func:`edges_to_matrix`. torch is imported only when a model is fitted.
"""

from __future__ import annotations

from ._meta import CITATION
from .components import DemographicLeakage, Deconfound, PlantedCohortSource, split_demographics
from .estimator import DemoVAE
from .simulate import (AGE_MEAN, AGE_SD, PlantedCohort, edges_to_matrix, matrix_to_edges, n_edges_for,
                       planted_fc_cohort, sliding_window_fc)

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-demovae")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["AGE_MEAN", "AGE_SD", "CITATION", "DemoVAE", "DemographicLeakage", "Deconfound", "PlantedCohort",
           "PlantedCohortSource", "edges_to_matrix", "matrix_to_edges", "n_edges_for", "planted_fc_cohort",
           "sliding_window_fc", "split_demographics", "__version__"]
