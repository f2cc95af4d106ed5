"""Hook implementations: the ``neurorep`` entry point ``convergence`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import LayerProfile


@hookimpl
def register_analyzers(register):
    """Register ``convergence.layer-profile``."""
    register(LayerProfile)
