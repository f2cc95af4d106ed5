"""neurorep-mindbridge: MindBridge cross-subject brain decoding (Wang et al., CVPR 2024).

Components (registered through the ``neurorep`` entry point ``mindbridge``):

* ``mindbridge.cross-subject`` (:class:`MindBridgeCrossSubject`): several subjects' fMRI (different voxel counts)
  -> one model -> top-1 retrieval of held-out stimuli per subject.

Functions and classes: :func:`aggregate` (adaptive pooling to a common size), :class:`MindBridge` (fit on
several subjects, :meth:`MindBridge.reset_tune` to a new one, predict, synthesise novel fMRI),
:func:`stack_subjects`, :func:`cosine_matrix`, :func:`top1_accuracy`.
"""

from __future__ import annotations

from .analyzer import MindBridgeCrossSubject, stack_subjects
from ._meta import CITATION

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-mindbridge")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = ["CITATION", "MindBridge", "MindBridgeCrossSubject", "MindBridgeNet", "TrainConfig", "aggregate",
           "cosine_matrix", "stack_subjects", "top1_accuracy", "__version__"]


_LAZY_CORE = ('MindBridge', 'MindBridgeNet', 'TrainConfig', 'aggregate', 'cosine_matrix', 'top1_accuracy')


def __getattr__(name):
    # the torch-backed names are imported on first access, so that loading the plugin does not import torch
    if name in _LAZY_CORE:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
