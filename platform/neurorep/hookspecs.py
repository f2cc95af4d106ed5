"""The neurorep plugin contract: every hook a plugin may implement.

Cheap to import: no numpy, torch or nibabel at import time (heavy types are
imported only for type checkers). Hooks are called with keyword arguments;
an implementation may accept fewer arguments than its spec (pluggy's opt-in
arguments), which is how the contract grows without breaking plugins.

Registration hooks (``register_*``) are called once when the plugin manager
starts, each with a ``register`` callback (the llm style)::

    from neurorep import hookimpl

    @hookimpl
    def register_analyzers(register):
        register(LinearCKA)

``register(component_class)`` checks the declaration (id grammar, kind, version,
tags), records which distribution provided it and rejects duplicate ids.

Versioning: :data:`HOOK_API` is the contract's major version. Adding a hook or
appending an argument is a minor change; removing or renaming an argument,
changing a return type or ``firstresult`` is a major one (deprecate first with
``warn_on_impl``). Plugins should pin ``neurorep>=1,<2``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click

    from .components import Component

__all__ = ["HOOK_API", "hookspec", "Register"]

#: Major version of the hook contract.
HOOK_API = 1

hookspec = pluggy.HookspecMarker("neurorep")

#: The callback handed to every ``register_*`` hook: ``register(ComponentClass)``.
Register = Callable[..., None]


# --------------------------------------------------------------------------- registration


@hookspec
def register_datasets(register: Register) -> None:
    """Register dataset components (cards, loaders; subclasses of :class:`neurorep.Dataset`).

    Parameters
    ----------
    register : callable
        Call ``register(DatasetClass)`` once per dataset.

    .. versionadded:: 0.1
    """


@hookspec
def register_models(register: Register) -> None:
    """Register buildable models exposing named sites (subclasses of :class:`neurorep.Model`).

    Parameters
    ----------
    register : callable
        Call ``register(ModelClass)``.

    .. versionadded:: 0.1
    """


@hookspec
def register_sources(register: Register) -> None:
    """Register sources: stimuli -> representations (fMRI maskers/GLMs, model activations).

    Parameters
    ----------
    register : callable
        Call ``register(SourceClass)`` (subclasses of :class:`neurorep.Source`).

    .. versionadded:: 0.1
    """


@hookspec
def register_estimators(register: Register) -> None:
    """Register fitted maps: decomposers (PCA, SAE, SNMF) and encoders/decoders (ridge).

    Parameters
    ----------
    register : callable
        Call ``register(EstimatorClass)`` (subclasses of :class:`neurorep.Estimator`).

    .. versionadded:: 0.1
    """


@hookspec
def register_analyzers(register: Register) -> None:
    """Register analyzers: one or two representations or RDMs -> tidy scores.

    Parameters
    ----------
    register : callable
        Call ``register(AnalyzerClass)`` (subclasses of :class:`neurorep.Analyzer`).

    .. versionadded:: 0.1
    """


@hookspec
def register_transforms(register: Register) -> None:
    """Register transforms applied before analysis (e.g. RDM rank or geo-topological transforms).

    Parameters
    ----------
    register : callable
        Call ``register(TransformClass)`` (subclasses of :class:`neurorep.Transform`).

    .. versionadded:: 0.1
    """


@hookspec
def register_interventions(register: Register) -> None:
    """Register reversible model edits: steering, patching, clamping, quantization.

    Parameters
    ----------
    register : callable
        Call ``register(InterventionClass)`` (subclasses of :class:`neurorep.Intervention`).

    .. versionadded:: 0.1
    """


@hookspec
def register_generators(register: Register) -> None:
    """Register generators: an objective or a target -> stimuli.

    Parameters
    ----------
    register : callable
        Call ``register(GeneratorClass)`` (subclasses of :class:`neurorep.Generator`).

    .. versionadded:: 0.1
    """


@hookspec
def register_report_sections(register: Register) -> None:
    """Register sections of the HTML report.

    Parameters
    ----------
    register : callable
        Call ``register(ReportSectionClass)`` (subclasses of :class:`neurorep.ReportSection`).

    .. versionadded:: 0.1
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``neurorep`` command line.

    Parameters
    ----------
    cli : click.Group
        The top-level group; decorate functions with ``@cli.command()``.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------- resolution


@hookspec(firstresult=True)
def resolve_adapter(model: Any, model_id: str) -> Any | None:
    """Return a site-name adapter (canonical TransformerLens names <-> native module paths) for ``model``.

    Stops at first non-None result.

    Parameters
    ----------
    model : object
        The built model (e.g. a ``torch.nn.Module``).
    model_id : str
        The model component's id.

    Returns
    -------
    adapter : mapping of str to str or None
        ``{canonical_site: native_module_path}``, or None when this plugin does not know the model.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------- notifications


@hookspec
def on_run_start(run: dict[str, Any]) -> None:
    """Called when ``neurorep run`` starts, after validation and expansion.

    Parameters
    ----------
    run : dict
        ``{"recipe": name, "recipe_hash": str, "out_dir": str, "n_tasks": int, "executor": str}``.

    .. versionadded:: 0.1
    """


@hookspec
def on_result(result: dict[str, Any], task: dict[str, Any]) -> None:
    """Called for every finished task with its result rows (also for cache hits and failures).

    Parameters
    ----------
    result : dict
        ``{"status": "ok" | "cached" | "failed", "rows": list of dict, "error": str | None}``.
    task : dict
        The task's key, kind, component id, version, params and labels.

    .. versionadded:: 0.1
    """


@hookspec
def on_run_end(run: dict[str, Any], summary: dict[str, Any]) -> None:
    """Called when a run finishes (also when some tasks failed).

    Parameters
    ----------
    run : dict
        As for :func:`on_run_start`.
    summary : dict
        ``{"n_ok": int, "n_cached": int, "n_failed": int, "results_path": str}``.

    .. versionadded:: 0.1
    """
