"""neurorep-dynamic-connectome: dynamic functional connectomes (Dyballa et al., 2024, ICLR).

Components (registered through the ``neurorep`` entry point ``dynamic-connectome``):

* ``ntf.nonnegative`` (:class:`NonnegativeTensorFactorization`): time series -> windowed pairwise
  affinities -> non-negative CP factors (unit-pair graphs, window time courses, animal loadings).
* ``connectome.dynamic`` (:class:`DynamicConnectome`): the same, then weighted community detection on
  each component's graph, as tidy rows (communities, their units and active windows).

Functions: :func:`affinity_tensor`, :func:`window_affinity`, :func:`nonnegative_cp`,
:func:`factor_communities`, :func:`argmax_membership`, :func:`planted_calcium`.
"""

from __future__ import annotations

from .affinity import AFFINITIES, affinity_tensor, pairs_tensor, pairs_to_matrix, sliding_windows, window_affinity
from .analyzer import DynamicConnectome, time_order
from .communities import active_intervals, argmax_membership, factor_communities, unit_strengths
from .estimator import CITATION, NonnegativeTensorFactorization
from .ntf import CPResult, cp_to_tensor, khatri_rao, nonnegative_cp, unfold
from .synthetic import PlantedCommunities, planted_calcium

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-dynamic-connectome")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "AFFINITIES", "CITATION", "CPResult", "DynamicConnectome", "NonnegativeTensorFactorization", "PlantedCommunities",
    "active_intervals", "affinity_tensor", "argmax_membership", "cp_to_tensor", "factor_communities", "khatri_rao",
    "nonnegative_cp", "pairs_tensor", "pairs_to_matrix", "planted_calcium", "sliding_windows", "time_order",
    "unfold", "unit_strengths", "window_affinity", "__version__",
]
