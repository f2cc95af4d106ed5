"""neurorep-lazy-neuron: activation sparsity and Top-k thresholding (Li et al., "The Lazy Neuron
Phenomenon", ICLR 2023, arXiv:2210.06313).

Components (registered through the ``neurorep`` entry point ``lazy-neuron``):

* ``sparsity.nonzero`` (:class:`NonzeroSparsity`): the fraction of non-zero entries in each input's
  response, with Treves-Rolls and Hoyer population sparseness; any representation (model or brain).
* ``intervention.topk`` (:class:`TopK`): keep the k largest activations per input at named sites of a
  torch module, zero the rest; ``remove()`` restores the model exactly.

Functions: :func:`nonzero_fraction`, :func:`treves_rolls_sparseness`, :func:`hoyer_sparseness`,
:func:`summarize`, :func:`sparsity_profile`, :func:`collect_activations`, :func:`resolve_sites`,
:func:`topk_mask_tensor`; tiny ReLU networks on sklearn digits in :mod:`neurorep_lazy_neuron.train`.
"""

from __future__ import annotations

from .analyzer import NonzeroSparsity, sparsity_profile
from .core import CITATION, QUANTILES, hoyer_sparseness, nonzero_fraction, nonzero_mask, summarize, treves_rolls_sparseness
from .hooks import TopK, TopKHandle, collect_activations, resolve_sites, topk_mask_tensor

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-lazy-neuron")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "CITATION", "QUANTILES", "NonzeroSparsity", "TopK", "TopKHandle", "collect_activations", "hoyer_sparseness",
    "nonzero_fraction", "nonzero_mask", "resolve_sites", "sparsity_profile", "summarize", "topk_mask_tensor",
    "treves_rolls_sparseness", "__version__",
]
