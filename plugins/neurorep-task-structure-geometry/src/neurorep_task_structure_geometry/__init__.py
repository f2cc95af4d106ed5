"""neurorep-task-structure-geometry: task structure, nonlinearity and learned geometry (Alleman et al., 2024).

Components (registered through the ``neurorep`` entry point ``task-structure-geometry``):

* ``task.factor-alignment`` (:class:`AlignmentTaskSource`): inputs and binary targets whose geometries
  are aligned to a tunable degree (``alignment`` in [0, 1]); sites ``input``, ``target``, ``task``.
* ``task.digits-relabelled`` (:class:`DigitsTaskSource`): scikit-learn's 8 x 8 digits with parity /
  magnitude / one-hot targets; the same sites.
* ``mlp.one-hidden-layer`` (:class:`OneHiddenLayerNet`): a Tanh or ReLU one-hidden-layer network trained
  by full-batch gradient descent, recording its hidden representation over training (torch, lazily).
* ``trained.one-hidden-layer`` (:class:`TrainedNetworkSource`): the hidden layer of such a network,
  trained on a task source, at every recorded step (sites ``hidden.step-NNNN``).
* ``geometry.task-alignment`` (:class:`TaskAlignment`): corr(RDM, input RDM) and corr(RDM, target RDM).
"""

from __future__ import annotations

from .analyzer import TaskAlignment
from .core import (ACTIVATIONS, CITATION, Task, TrainedNet, alignment_curve, checkpoint_steps, hidden_forward,
                   make_alignment_task, make_digits_task, rdm_alignment, train_one_hidden_layer)
from .estimator import OneHiddenLayerNet
from .sources import AlignmentTaskSource, DigitsTaskSource, TrainedNetworkSource

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep-task-structure-geometry")
except Exception:  # pragma: no cover - source tree without install
    __version__ = "0+unknown"

__all__ = [
    "ACTIVATIONS", "AlignmentTaskSource", "CITATION", "DigitsTaskSource", "OneHiddenLayerNet", "Task",
    "TaskAlignment", "TrainedNet", "TrainedNetworkSource", "alignment_curve", "checkpoint_steps", "hidden_forward",
    "make_alignment_task", "make_digits_task", "rdm_alignment", "train_one_hidden_layer", "__version__",
]
