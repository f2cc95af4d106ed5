"""Hook implementations: the ``neurorep`` entry point ``planted-brain`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .dataset import PlantedBrain


@hookimpl
def register_datasets(register):
    """Register ``synthetic.planted-brain``."""
    register(PlantedBrain)
