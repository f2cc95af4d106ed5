"""neurorep-mindeye: the retrieval submodule of MindEye (Scotti et al., 2023) at small scale.

Components (registered through the ``neurorep`` entry point ``mindeye``):

* ``mindeye.retrieval`` (:class:`MindEyeRetrieval`): voxels -> residual MLP backbone -> contrastive projector
  into an image-embedding space; top-1/top-k retrieval of held-out stimuli in both directions.
* ``mindeye.reconstruction`` (:class:`MindEyeReconstruction`): voxels -> predicted 64-d image embedding (ridge
  or the MLP backbone) -> diffusion prior -> embedding-conditioned UNet (``neurorep-diffusion-models``);
  two-way identification, pixel correlation and SSIM of the reconstructions beside a linear PCA decoder.
* ``synthetic.fmnist-embedding-brain`` (:class:`FashionMNISTEmbeddingBrain`): SYNTHETIC voxels that mix the
  Fashion-MNIST images' 64-d generator embedding, plus noise.

Functions in :mod:`neurorep_mindeye.core`: :class:`BrainMLP`, :func:`train_brain_mlp`, :func:`info_nce`,
:func:`mixco_nce`, :func:`retrieval_ranks`, :func:`topk_accuracy`, :func:`permutation_topk`.
"""

from __future__ import annotations

from .analyzer import MindEyeRetrieval
from .fmnist_brain import FashionMNISTEmbeddingBrain
from .reconstruction import MindEyeReconstruction
from ._meta import CITATION

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-mindeye")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["CITATION", "BrainMLP", "FashionMNISTEmbeddingBrain", "MindEyeReconstruction", "MindEyeRetrieval", "TrainConfig", "info_nce", "mixco_nce", "retrieval_ranks",
           "topk_accuracy", "train_brain_mlp", "__version__"]


_LAZY_CORE = ('BrainMLP', 'TrainConfig', 'info_nce', 'mixco_nce', 'retrieval_ranks', 'topk_accuracy', 'train_brain_mlp')


def __getattr__(name):
    # the torch-backed names are imported on first access, so that loading the plugin does not import torch
    if name in _LAZY_CORE:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
