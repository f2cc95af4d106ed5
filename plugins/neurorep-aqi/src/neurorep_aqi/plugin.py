"""Hook implementations: the ``neurorep`` entry point ``aqi`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import AQIIndex
from .prompts import SafetyPrompts


@hookimpl
def register_analyzers(register):
    """Register ``aqi.index``."""
    register(AQIIndex)


@hookimpl
def register_datasets(register):
    """Register ``dataset.aqi-safety-prompts``."""
    register(SafetyPrompts)
