"""Hook implementations: the ``neurorep`` entry point ``dynamic-connectome`` points at this module."""

from __future__ import annotations

from neurorep import hookimpl

from .analyzer import DynamicConnectome
from .estimator import NonnegativeTensorFactorization


@hookimpl
def register_estimators(register):
    """Register ``ntf.nonnegative``."""
    register(NonnegativeTensorFactorization)


@hookimpl
def register_analyzers(register):
    """Register ``connectome.dynamic``."""
    register(DynamicConnectome)
