"""Hook implementations: the ``neurorep`` entry point ``task-structure-geometry`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import TaskAlignment
from .estimator import OneHiddenLayerNet
from .sources import AlignmentTaskSource, DigitsTaskSource, TrainedNetworkSource


@hookimpl
def register_analyzers(register):
    """Register ``geometry.task-alignment``."""
    register(TaskAlignment)


@hookimpl
def register_sources(register):
    """Register ``task.factor-alignment``, ``task.digits-relabelled`` and ``trained.one-hidden-layer``."""
    register(AlignmentTaskSource)
    register(DigitsTaskSource)
    register(TrainedNetworkSource)


@hookimpl
def register_estimators(register):
    """Register ``mlp.one-hidden-layer``."""
    register(OneHiddenLayerNet)
