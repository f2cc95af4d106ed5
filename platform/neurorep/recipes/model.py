"""The recipe schema: pydantic v2 models with ``extra="forbid"`` at every level.

These models check the recipe's structure only (keys, types, names). Whether a
component id exists, has the right kind and accepts the given parameters is checked
against the plugin registry in :mod:`neurorep.recipes.resolve`.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

__all__ = [
    "NAME_PATTERN",
    "RecipeMeta",
    "StimuliSpec",
    "SourceSpec",
    "TransformSpec",
    "AnalysisSpec",
    "GeneratorSpec",
    "Recipe",
    "model_at",
]

#: Names of recipes, stimuli, sources, analyses and generators.
NAME_PATTERN = r"^[a-z0-9_-]+$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
AlignMode = Literal["strict", "reorder", "intersection"]
Pairing = Literal["product", "matched", "within"]
#: Which inputs of an analysis reach the analyzer as ONE representation holding all their sites.
Stack = Literal["none", "x", "y", "both"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecipeMeta(_Strict):
    """The ``[recipe]`` table."""

    name: Name
    description: str = ""
    seed: int | None = None
    align: AlignMode = "reorder"
    #: dtype of the arrays in the representation store (default: as the source returns them;
    #: "float16" halves disk use).
    store_dtype: Literal["float32", "float16"] | None = None


class StimuliSpec(_Strict):
    """A ``[stimuli.<name>]`` entry: a dataset's stimuli or ``n`` generated ones."""

    component: str
    params: dict[str, Any] = Field(default_factory=dict)
    n: int | None = Field(default=None, ge=1)


class SourceSpec(_Strict):
    """A ``[sources.<name>]`` entry."""

    component: str
    params: dict[str, Any] = Field(default_factory=dict)
    stimuli: str | None = None
    sites: list[str] | None = Field(default=None, min_length=1)


class TransformSpec(_Strict):
    """One entry of an analysis's ``transforms``."""

    component: str
    params: dict[str, Any] = Field(default_factory=dict)


class AnalysisSpec(_Strict):
    """One ``[[analyses]]`` entry."""

    name: Name
    component: str
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] = Field(min_length=1, max_length=2)
    pairing: Pairing = "product"
    #: "x" / "y" / "both": that input's selected sites are stacked into one representation (features
    #: side by side, channel descriptor ``site``; RDMs as one multi-RDM object) and analysed once.
    stack: Stack = "none"
    transforms: list[TransformSpec] = Field(default_factory=list)


class GeneratorSpec(_Strict):
    """One ``[[generators]]`` entry."""

    name: Name
    component: str
    params: dict[str, Any] = Field(default_factory=dict)
    n: int = Field(ge=1)


class Recipe(_Strict):
    """A parsed, schema-valid recipe.

    Build one with :func:`neurorep.recipes.load_recipe`, which also keeps the TOML text
    (:attr:`text`, hashed into the plan) and where it came from (:attr:`source`).
    """

    recipe: RecipeMeta
    stimuli: dict[Name, StimuliSpec] = Field(default_factory=dict)
    sources: dict[Name, SourceSpec] = Field(min_length=1)
    analyses: list[AnalysisSpec] = Field(min_length=1)
    generators: list[GeneratorSpec] = Field(default_factory=list)
    report: dict[str, Any] = Field(default_factory=dict)

    _text: str | None = PrivateAttr(default=None)
    _source: str | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        """The recipe's name (``[recipe] name``)."""
        return self.recipe.name

    @property
    def text(self) -> str | None:
        """The TOML text the recipe was loaded from (None when built in Python)."""
        return self._text

    @property
    def source(self) -> str | None:
        """The file the recipe was loaded from, if any."""
        return self._source


# Where each table of the recipe may hold free-form data (no schema below it).
_FREE_FORM = {"params", "report"}


def _unwrap(ann: Any) -> Any:
    """The model class an annotation leads to through ``dict[..., M]``, ``list[M]`` or ``M | None``."""
    origin = typing.get_origin(ann)
    if origin is Annotated:
        return _unwrap(typing.get_args(ann)[0])
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    return None


def model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The schema model of the table at ``loc`` (``("sources", "x")`` -> :class:`SourceSpec`).

    Returns None for free-form tables (``params``, ``report``) and for paths that do not
    lead to a model.
    """
    model: type[BaseModel] | None = Recipe
    k = 0
    while k < len(loc):
        if model is None:
            return None
        name = loc[k]
        if not isinstance(name, str) or name not in model.model_fields or name in _FREE_FORM:
            return None
        ann = model.model_fields[name].annotation
        origin = typing.get_origin(ann)
        if origin in (dict, list):
            if k + 1 >= len(loc):  # the mapping or list itself, not one of its entries
                return None
            inner = typing.get_args(ann)[-1]
            model = _unwrap(inner)
            k += 2  # skip the dict key / list index
            continue
        model = _unwrap(ann)
        k += 1
    return model
