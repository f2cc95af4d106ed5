"""neurorep-brain-model-convergence: three brain-model similarity metrics (after Raugel et al., 2025).

* ``convergence.layer-profile`` (:class:`LayerProfile`): every layer of a model against one brain target
  through an existing analyzer (``rsa.correlation`` by default): the best layer and its score.
* Functions over a layer x target score matrix: :func:`overall_similarity`, :func:`topography`,
  :func:`temporal`; :func:`similarity_matrix` fills the matrix from representations and
  :func:`convergence_from_cube` from a run's results cube.
"""

from __future__ import annotations

from .analyzer import LayerProfile, stack_layers
from .core import (
    CITATION,
    ConvergenceMetrics,
    convergence_from_cube,
    meg_times,
    metrics_from_matrices,
    overall_similarity,
    similarity_matrix,
    temporal,
    topography,
)

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-brain-model-convergence")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "CITATION", "ConvergenceMetrics", "LayerProfile", "convergence_from_cube", "meg_times", "metrics_from_matrices",
    "overall_similarity", "similarity_matrix", "stack_layers", "temporal", "topography", "__version__",
]
