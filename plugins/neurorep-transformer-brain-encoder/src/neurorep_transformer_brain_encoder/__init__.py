"""neurorep-transformer-brain-encoder: transformer brain encoders (Adeli, Sun & Kriegeskorte, 2025).

Components (registered through the ``neurorep`` entry point ``transformer-brain-encoder``):

* ``encoding.transformer`` (:class:`TransformerEncoding`): per-ROI learned queries attend over a basis
  model's spatial tokens; the routed features are read out linearly by each voxel.
* ``encoding.factorized-rf`` (:class:`FactorizedRFEncoding`): the spatial-mask x feature-weights baseline.

The plain linear baseline is the host's ``encoding.ridge``. :func:`planted_tokens` makes the synthetic
check data (random token maps with a planted feature); ``synthetic.planted-tokens``
(:class:`PlantedTokensSource`) serves them to recipes.
"""

from __future__ import annotations

from .analyzer import FactorizedRFEncoding, TransformerEncoding
from ._meta import CITATION, FACTORIZED_CITATION
from .synthetic import PlantedTokensSource, planted_tokens

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-transformer-brain-encoder")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["CITATION", "FACTORIZED_CITATION", "FactorizedRFEncoding", "PlantedTokensSource", "TransformerEncoding", "planted_tokens",
           "to_tokens", "__version__"]


_LAZY_CORE = ('to_tokens',)


def __getattr__(name):
    # the torch-backed names are imported on first access, so that loading the plugin does not import torch
    if name in _LAZY_CORE:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
