"""neurorep-trsa: topological representational similarity analysis (Lin & Kriegeskorte, 2024).

Components (registered through the ``neurorep`` entry point ``trsa``):

* ``transform.geo-topological`` (:class:`GeoTopologicalTransform`): RDMs -> RGTMs or RGDMs.
* ``rsa.topological`` (:class:`TopologicalRSA`): compare two representations through them.

Functions: :func:`geo_topological`, :func:`geodesic`, :func:`pattern_dissimilarities`,
:func:`compare_rdm_vectors` and :func:`trsa_model_selection`.
"""

from __future__ import annotations

from .analyzer import TopologicalRSA
from .core import (
    CITATION,
    COMPARISONS,
    DISTANCES,
    compare_rdm_vectors,
    geo_topological,
    geodesic,
    pattern_dissimilarities,
)
from .selection import ModelSelection, trsa_model_selection
from .transform import GeoTopologicalTransform, to_rdms

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-trsa")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "CITATION", "COMPARISONS", "DISTANCES", "GeoTopologicalTransform", "ModelSelection", "TopologicalRSA",
    "compare_rdm_vectors", "geo_topological", "geodesic", "pattern_dissimilarities", "to_rdms",
    "trsa_model_selection", "__version__",
]
