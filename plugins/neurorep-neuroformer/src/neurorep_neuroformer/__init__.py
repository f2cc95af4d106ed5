"""neurorep-neuroformer: a tiny Neuroformer (Antoniades et al., ICLR 2024) for spike data.

Components (registered through the ``neurorep`` entry point ``neuroformer``):

* ``neuroformer.next-spike`` (:class:`NextSpikeAnalyzer`): an autoregressive transformer over spike tokens,
  conditioned on stimulus/behaviour, trained with cross-entropy; held-out next-spike log-likelihood against a
  per-neuron rate baseline, and the attention-derived directed connectivity.
* ``probe.few-shot`` (:class:`FewShotProbe`): logistic regression trained on a few labelled rows per class.
* ``synthetic.spiking-network`` (:class:`SpikingNetworkSource`): a simulated Bernoulli-GLM network with known
  directed connectivity, a stimulus drive and a behavioural state.
* ``neuroformer.windows`` (:class:`NeuroformerWindowsSource`): per-window representations of a tiny
  Neuroformer pretrained on that network.

torch is imported only when a model is trained (module :mod:`neurorep_neuroformer.core`).
"""

from __future__ import annotations

from ._meta import CITATION
from .analyzer import FewShotProbe, NextSpikeAnalyzer, center_connectivity
from .simulation import SpikingNetwork, simulate_network
from .source import NeuroformerWindowsSource, SpikingNetworkSource

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-neuroformer")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["CITATION", "FewShotProbe", "NeuroformerWindowsSource", "NextSpikeAnalyzer", "SpikingNetwork",
           "SpikingNetworkSource", "center_connectivity", "simulate_network", "__version__"]
