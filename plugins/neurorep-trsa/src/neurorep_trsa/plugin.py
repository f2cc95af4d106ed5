"""Hook implementations: the ``neurorep`` entry point ``trsa`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import TopologicalRSA
from .transform import GeoTopologicalTransform


@hookimpl
def register_transforms(register):
    """Register ``transform.geo-topological``."""
    register(GeoTopologicalTransform)


@hookimpl
def register_analyzers(register):
    """Register ``rsa.topological``."""
    register(TopologicalRSA)
