"""Hook implementations: the ``neurorep`` entry point ``lazy-neuron`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import NonzeroSparsity
from .hooks import TopK


@hookimpl
def register_analyzers(register):
    """Register ``sparsity.nonzero``."""
    register(NonzeroSparsity)


@hookimpl
def register_interventions(register):
    """Register ``intervention.topk``."""
    register(TopK)
