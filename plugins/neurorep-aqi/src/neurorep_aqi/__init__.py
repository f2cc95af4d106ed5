"""neurorep-aqi: the Alignment Quality Index (Borah et al., 2025) as a neurorep analyzer.

* :class:`AQIIndex` (``aqi.index``): Davies-Bouldin, Dunn, Xie-Beni and Calinski-Harabasz indices of
  the groups of one representation (prompt groups at a model layer, conditions of a brain ROI) and
  their combination into AQI.
* :class:`SafetyPrompts` (``dataset.aqi-safety-prompts``): 10 safe and 10 matched harmful requests.
* :func:`pool_layers`: a fixed-weight pooling of several layers into one representation.
* :mod:`neurorep_aqi.indices`: the indices as plain numpy functions.
"""

from __future__ import annotations

from .analyzer import AQI_CITATION, AQIIndex, pool_layers
from .prompts import HARMFUL_PROMPTS, SAFE_PROMPTS, SafetyPrompts

__all__ = ["AQIIndex", "AQI_CITATION", "SafetyPrompts", "SAFE_PROMPTS", "HARMFUL_PROMPTS", "pool_layers"]
__version__ = "0.1.0"
