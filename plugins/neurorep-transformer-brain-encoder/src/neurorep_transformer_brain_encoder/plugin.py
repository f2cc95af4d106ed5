"""Hook implementations: the ``neurorep`` entry point ``transformer-brain-encoder`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import FactorizedRFEncoding, TransformerEncoding
from .synthetic import PlantedTokensSource


@hookimpl
def register_analyzers(register):
    """Register ``encoding.transformer`` and ``encoding.factorized-rf``."""
    register(TransformerEncoding)
    register(FactorizedRFEncoding)


@hookimpl
def register_sources(register):
    """Register ``synthetic.planted-tokens``."""
    register(PlantedTokensSource)
