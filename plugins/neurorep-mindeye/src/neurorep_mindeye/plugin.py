"""Hook implementations: the ``neurorep`` entry point ``mindeye`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import MindEyeRetrieval


@hookimpl
def register_analyzers(register):
    """Register ``mindeye.retrieval``."""
    register(MindEyeRetrieval)
