"""Hook implementations: the ``neurorep`` entry point ``mental-simulation`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import DynamicPredictivity
from .source import OccludedBallSource


@hookimpl
def register_analyzers(register):
    """Register ``predictivity.dynamic``."""
    register(DynamicPredictivity)


@hookimpl
def register_sources(register):
    """Register ``synthetic.occluded-ball``."""
    register(OccludedBallSource)
