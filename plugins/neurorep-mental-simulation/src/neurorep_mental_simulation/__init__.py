"""neurorep-mental-simulation: neural predictivity of future-prediction models (Nayebi et al., 2023).

Components (registered through the ``neurorep`` entry point ``mental-simulation``):

* ``predictivity.dynamic`` (:class:`DynamicPredictivity`): time-resolved, cross-validated ridge
  predictivity of neural time series from model state trajectories, normalised by a Spearman-Brown
  corrected split-half noise ceiling, with a bootstrap CI over stimuli.

* ``synthetic.occluded-ball`` (:class:`OccludedBallSource`): planted neurons and the three model
  families' state trajectories on occluded-ball scenes, ready for ``predictivity.dynamic``.

Module :mod:`neurorep_mental_simulation.scenes`: a small occluded-ball world with planted neurons
and the three predictor families (latent rollout, pixel-space rollout, static encoder).
"""

from __future__ import annotations

from .analyzer import DynamicPredictivity
from .source import OccludedBallSource
from .core import CITATION, corr_columns, spearman_brown, split_half_reliability, time_resolved_predictions

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-mental-simulation")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "CITATION", "DynamicPredictivity", "OccludedBallSource", "corr_columns", "spearman_brown", "split_half_reliability",
    "time_resolved_predictions", "__version__",
]
