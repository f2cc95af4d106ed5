"""Hook implementations: the ``neurorep`` entry point ``brainmae`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .estimator import BrainMAEPretrain
from .source import BrainMAERoiSource


@hookimpl
def register_estimators(register):
    """Register ``brainmae.pretrain``."""
    register(BrainMAEPretrain)


@hookimpl
def register_sources(register):
    """Register ``brainmae.roi-embeddings``."""
    register(BrainMAERoiSource)
