"""Hook implementations: the ``neurorep`` entry point ``relrep`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import RelativeSimilarity
from .stitching import RelativeDecoder
from .transform import RelativeTransform


@hookimpl
def register_transforms(register):
    """Register ``transform.relative``."""
    register(RelativeTransform)


@hookimpl
def register_analyzers(register):
    """Register ``relrep.similarity``."""
    register(RelativeSimilarity)


@hookimpl
def register_estimators(register):
    """Register ``relrep.decoder``."""
    register(RelativeDecoder)
