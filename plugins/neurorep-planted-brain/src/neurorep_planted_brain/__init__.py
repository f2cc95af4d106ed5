"""neurorep-planted-brain: SYNTHETIC brain data with a known (planted) layer-region map.

Component (registered through the ``neurorep`` entry point ``planted-brain``):

* ``synthetic.planted-brain`` (:class:`PlantedBrain`): voxels of the MNI152 brain mask inside AAL
  regions, driven by EfficientNet-Lite0 blocks through subject-specific mixing, with repeats of known
  SNR, optional MEG-like time courses with planted latencies and optional routing voxels.

Nothing it returns was measured; every site says ``synthetic: True``.
"""

from __future__ import annotations

from .atlas import BrainGrid, brain_grid
from .dataset import DEFAULT_ROI_BLOCKS, IMAGE_SETS, PlantedBrain
from .features import BLOCK_CHANNELS, MODEL_ID, block_features, clear_feature_cache
from .generate import MEGData, PlantedData, SubjectROI

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-planted-brain")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "BLOCK_CHANNELS", "BrainGrid", "DEFAULT_ROI_BLOCKS", "IMAGE_SETS", "MEGData", "MODEL_ID", "PlantedBrain",
    "PlantedData", "SubjectROI", "block_features", "brain_grid", "clear_feature_cache", "__version__",
]
