"""Hook implementations: the ``neurorep`` entry point ``demovae`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .components import DemographicLeakage, Deconfound, PlantedCohortSource
from .estimator import DemoVAE


@hookimpl
def register_estimators(register):
    """Register ``demovae.fc``."""
    register(DemoVAE)


@hookimpl
def register_sources(register):
    """Register ``demovae.planted-cohort``."""
    register(PlantedCohortSource)


@hookimpl
def register_transforms(register):
    """Register ``demovae.deconfound``."""
    register(Deconfound)


@hookimpl
def register_analyzers(register):
    """Register ``demovae.leakage``."""
    register(DemographicLeakage)
