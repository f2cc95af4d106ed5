"""Hook implementations: the ``neurorep`` entry point ``mindbridge`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import MindBridgeCrossSubject


@hookimpl
def register_analyzers(register):
    """Register ``mindbridge.cross-subject``."""
    register(MindBridgeCrossSubject)
