"""Recipes: TOML files that say which sources to compare with which analyzers.

A recipe is validated in three stages, all of whose problems are reported together
(each as a :class:`RecipeIssue` with a dotted path and a line number): TOML syntax,
the schema (:class:`Recipe`, pydantic models with ``extra="forbid"``), and checks
against the plugin registry (component ids and kinds, component parameters, source
and stimuli references, input counts, pairings, site globs). :func:`expand` turns a
valid recipe into a :class:`neurorep.tasks.Plan` whose tasks have content-addressed
keys; :func:`plan_file` does all of it for a file and is what the runner calls.

The format is described in the project's recipe documentation and in the examples
under ``recipes/`` at the repository root.
"""

from __future__ import annotations

from .api import expand, load_recipe, plan_file, plan_text, validate_file, validate_text
from .issues import RecipeIssue, format_path
from .locate import LineLocator
from .model import (
    AnalysisSpec,
    GeneratorSpec,
    Recipe,
    RecipeMeta,
    SourceSpec,
    StimuliSpec,
    TransformSpec,
)

__all__ = [
    "AnalysisSpec",
    "GeneratorSpec",
    "LineLocator",
    "Recipe",
    "RecipeIssue",
    "RecipeMeta",
    "SourceSpec",
    "StimuliSpec",
    "TransformSpec",
    "expand",
    "format_path",
    "load_recipe",
    "plan_file",
    "plan_text",
    "validate_file",
    "validate_text",
]
