"""neurorep: compare brain and model representations through plugins.

Public API: the component base classes, the data model, the hook marker and the
plugin system.
"""

from __future__ import annotations

import pluggy

from .components import (
    INVARIANCES,
    KINDS,
    Analyzer,
    Component,
    Dataset,
    Estimator,
    Generator,
    Intervention,
    Model,
    ReportSection,
    Source,
    Tags,
    Transform,
)
from .errors import (
    InvalidInputError,
    NeurorepError,
    RecipeError,
    StimulusMismatchError,
    UnknownComponentError,
)
from .hookspecs import HOOK_API
from .types import RDMs, Representation, Result, StimulusSet, align, stack_sites

try:
    from importlib.metadata import version as _v

    __version__ = _v("neurorep")
except Exception:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

#: Decorate hook implementations with ``@neurorep.hookimpl``.
hookimpl = pluggy.HookimplMarker("neurorep")


def get_registry(reload: bool = False):
    """The process-wide component registry (plugins are loaded on first call)."""
    from .plugins import get_registry as _get

    return _get(reload)


def create(component_id: str, params: dict | None = None, kind: str | None = None):
    """Instantiate a registered component by id, validating ``params``."""
    return get_registry().create(component_id, params, kind)


__all__ = [
    "HOOK_API", "INVARIANCES", "KINDS", "Analyzer", "Component", "Dataset", "Estimator", "Generator",
    "Intervention", "InvalidInputError", "Model", "NeurorepError", "RDMs", "RecipeError", "ReportSection",
    "Representation", "Result", "Source", "StimulusMismatchError", "StimulusSet", "Tags", "Transform",
    "UnknownComponentError", "align", "stack_sites", "create", "get_registry", "hookimpl", "__version__",
]
