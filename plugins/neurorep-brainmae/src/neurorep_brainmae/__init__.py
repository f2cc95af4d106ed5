"""neurorep-brainmae: BrainMAE, masked autoencoding of fMRI ROI time series (Yang, Mao, Liu & Liu, 2024).

Components (registered through the ``neurorep`` entry point ``brainmae``):

* ``brainmae.pretrain`` (:class:`BrainMAEPretrain`): the estimator; masked-segment pre-training with
  region-aware graph attention across ROIs and a temporal transformer; ROI, scan and per-volume
  representations, the learned ROI graph and held-out masked-segment errors against two imputers.
* ``brainmae.roi-embeddings`` (:class:`BrainMAERoiSource`): the ROI embeddings, ROI attention and ROI states
  of a model pre-trained on synthetic coupled series or on ``dataset.nitime-fmri``, one row per ROI.

:func:`coupled_roi_series` makes the synthetic check data (a planted sparse coupling graph). The network
itself (``BrainMAENet``, ``train``) lives in :mod:`neurorep_brainmae.core`, which imports torch on first use.
"""

from __future__ import annotations

from ._meta import CITATION
from .estimator import BrainMAEPretrain
from .source import BrainMAERoiSource, atlas_coordinates
from .synthetic import (CoupledSeries, coupled_roi_series, expand_mask, interpolation_fill, masked_mse,
                        planted_graph, spatial_ridge_fill, token_mask)

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-brainmae")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["CITATION", "BrainMAEPretrain", "BrainMAERoiSource", "CoupledSeries", "atlas_coordinates",
           "coupled_roi_series", "expand_mask", "interpolation_fill", "masked_mse", "planted_graph",
           "spatial_ridge_fill", "token_mask", "__version__"]
