"""Hook implementations: the ``neurorep`` entry point ``mindeye`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import MindEyeRetrieval
from .fmnist_brain import FashionMNISTEmbeddingBrain
from .reconstruction import MindEyeReconstruction


@hookimpl
def register_analyzers(register):
    """Register ``mindeye.retrieval`` and ``mindeye.reconstruction``."""
    register(MindEyeRetrieval)
    register(MindEyeReconstruction)


@hookimpl
def register_datasets(register):
    """Register ``synthetic.fmnist-embedding-brain`` (SYNTHETIC voxels carrying the 64-d generator embedding)."""
    register(FashionMNISTEmbeddingBrain)
