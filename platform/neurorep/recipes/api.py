"""Loading, validating and planning recipes."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import RecipeError
from ..registry import Registry
from ..tasks import Plan, canonical_json
from .expand import build_plan
from .issues import RecipeIssue, format_path, pydantic_message, sort_issues, table_label
from .locate import LineLocator
from .model import Recipe, model_at
from .resolve import ResolvedRecipe, resolve

__all__ = ["load_recipe", "validate_text", "validate_file", "expand", "plan_file", "plan_text"]

_SYNTAX_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_SYNTAX_END = re.compile(r"\s*\(at end of document\)")


def _default_registry(registry: Registry | None) -> Registry:
    if registry is not None:
        return registry
    from ..plugins import get_registry

    return get_registry()


# --------------------------------------------------------------------------- reading

def _looks_like_path(s: str) -> bool:
    return "\n" not in s and (s.endswith(".toml") or os.path.isfile(s))


def _read(path_or_text: str | os.PathLike[str]) -> tuple[str, str | None]:
    """(text, source): read a file, or take a string holding TOML as is."""
    if isinstance(path_or_text, os.PathLike) or (isinstance(path_or_text, str) and _looks_like_path(path_or_text)):
        path = Path(path_or_text)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except FileNotFoundError:
            raise RecipeError([RecipeIssue("", None, f"no recipe file at {str(path)!r}; check the path "
                                                     f"(relative paths start at {os.getcwd()!r}).")],
                              source=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise RecipeError([RecipeIssue("", None, f"cannot read the recipe file {str(path)!r}: "
                                                     f"{type(exc).__name__}: {exc}. Recipes are UTF-8 TOML text.")],
                              source=str(path)) from None
    if not isinstance(path_or_text, str):
        raise TypeError(f"expected a recipe path or TOML text, got {type(path_or_text).__name__}.")
    return path_or_text, None


# --------------------------------------------------------------------------- stages

def _parse(text: str) -> tuple[dict[str, Any] | None, list[RecipeIssue]]:
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _SYNTAX_AT.search(msg)
        if m:
            core = msg[:m.start()] + msg[m.end():]
            return None, [RecipeIssue("", int(m.group(1)),
                                      f"TOML syntax error at column {m.group(2)}: {core.strip()}.")]
        m = _SYNTAX_END.search(msg)
        if m:
            core = msg[:m.start()] + msg[m.end():]
            n_lines = max(1, len(text.splitlines()))
            return None, [RecipeIssue("", n_lines, f"TOML syntax error at the end of the file: {core.strip()} "
                                                   "(an unclosed bracket, brace or string?).")]
        return None, [RecipeIssue("", None, f"TOML syntax error: {msg}.")]


def _schema_message(err: dict[str, Any], loc: tuple[str | int, ...]) -> str:
    etype = err.get("type", "")
    if loc == ("recipe",) and etype == "missing":
        return 'missing required table [recipe]; start the file with [recipe] and name = "<recipe-name>".'
    if loc == ("sources",) and etype in ("missing", "too_short"):
        return ("the recipe has no sources; add at least one [sources.<name>] table with "
                'component = "<source id>".')
    if loc == ("analyses",) and etype in ("missing", "too_short"):
        return ('the recipe has no analyses; add at least one [[analyses]] entry with name, component '
                "and inputs.")
    if len(loc) == 1 and loc[0] in ("analyses", "generators") and etype == "list_type":
        return (f"{loc[0]} must be a list of tables: write each entry under its own [[{loc[0]}]] header "
                f"(double brackets), not [{loc[0]}].")
    if len(loc) == 1 and loc[0] in ("sources", "stimuli") and etype == "dict_type":
        return f"{loc[0]} must be a table of named entries: write each as [{loc[0]}.<name>]."
    if etype == "string_pattern_mismatch" and loc and loc[-1] == "name":
        return (f"invalid name {err.get('input')!r}: names use lowercase letters, digits, '_' and '-' only "
                "(e.g. 'cka-layers').")
    if len(loc) == 3 and loc[0] == "analyses" and loc[2] == "inputs" and etype in ("too_short", "too_long"):
        return ("inputs needs 1 or 2 entries, each 'source' or 'source:site-glob'; got "
                f"{err.get('input')!r}.")
    parent = loc[:-1]
    model = model_at(parent)
    allowed = list(model.model_fields) if model is not None else None
    return pydantic_message(err, allowed=allowed, owner=table_label(parent), what="key")


def _schema(data: dict[str, Any], locator: LineLocator) -> tuple[Recipe | None, list[RecipeIssue]]:
    try:
        return Recipe.model_validate(data), []
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc and loc[-1] == "[key]":  # a bad table name, e.g. [sources."My Source"]
                loc = loc[:-1]
                msg = (f"invalid name {loc[-1]!r} in [{loc[0]}]: names use lowercase letters, digits, '_' and "
                       "'-' only (e.g. 'model-a').")
            else:
                msg = _schema_message(err, loc)
            issues.append(RecipeIssue(format_path(loc), locator.line(loc), msg))
        return None, issues


def _dedupe(issues: list[RecipeIssue]) -> list[RecipeIssue]:
    return list(dict.fromkeys(issues))


@dataclass
class _Checked:
    recipe: Recipe | None
    resolved: ResolvedRecipe | None
    issues: list[RecipeIssue]


def _check(text: str, registry: Registry | None, source: str | None) -> _Checked:
    data, issues = _parse(text)
    if data is None:
        return _Checked(None, None, issues)
    locator = LineLocator(text)
    recipe, schema_issues = _schema(data, locator)
    if recipe is not None:
        recipe._text = text
        recipe._source = source
    basis = recipe.model_dump() if recipe is not None else data
    resolved, semantic = resolve(basis, _default_registry(registry), locator)
    issues = sort_issues(_dedupe(schema_issues + semantic))
    return _Checked(recipe, None if issues else resolved, issues)


# --------------------------------------------------------------------------- public

def load_recipe(path_or_text: str | os.PathLike[str]) -> Recipe:
    """Parse a recipe and check its structure (keys, types, names).

    Parameters
    ----------
    path_or_text : str or path-like
        A path to a ``.toml`` file, or the TOML text itself (a string with a newline,
        or one that is neither an existing file nor ends in ``.toml``).

    Returns
    -------
    Recipe
        The schema-valid recipe; component ids and parameters are not checked against
        the registry here (see :func:`validate_text` and :func:`expand`).

    Raises
    ------
    RecipeError
        With every syntax or schema problem at once (``.errors`` is a list of
        :class:`RecipeIssue`).
    """
    text, source = _read(path_or_text)
    data, issues = _parse(text)
    if data is None:
        raise RecipeError(issues, source=source)
    recipe, issues = _schema(data, LineLocator(text))
    if recipe is None:
        raise RecipeError(sort_issues(issues), source=source)
    recipe._text = text
    recipe._source = source
    return recipe


def validate_text(text: str, registry: Registry | None = None, source: str | None = None) -> list[RecipeIssue]:
    """Every problem of the recipe ``text``: TOML syntax, schema, and checks against the registry.

    Parameters
    ----------
    text : str
        The TOML text.
    registry : Registry, optional
        Defaults to :func:`neurorep.plugins.get_registry`.
    source : str, optional
        Where the text comes from (only recorded).

    Returns
    -------
    list of RecipeIssue
        Empty when the recipe is valid; otherwise ordered by line.
    """
    return _check(text, registry, source).issues


def validate_file(path: str | os.PathLike[str], registry: Registry | None = None) -> list[RecipeIssue]:
    """Every problem of the recipe file at ``path`` (empty when it is valid); see :func:`validate_text`."""
    try:
        text, source = _read(Path(path))
    except RecipeError as exc:
        return list(exc.errors)
    return validate_text(text, registry, source=source)


def expand(recipe: Recipe, registry: Registry | None = None) -> Plan:
    """Expand a recipe into tasks (generate, source, analysis) with content-addressed keys.

    Parameters
    ----------
    recipe : Recipe
        From :func:`load_recipe` (or built in Python; then the plan's ``recipe_text`` is
        the recipe as canonical JSON).
    registry : Registry, optional
        Defaults to :func:`neurorep.plugins.get_registry`.

    Raises
    ------
    RecipeError
        When the recipe does not check out against the registry (unknown components,
        bad parameters, unknown sources, site globs matching nothing, ...).
    """
    text = recipe.text
    locator = LineLocator(text) if text is not None else None
    resolved, issues = resolve(recipe.model_dump(), _default_registry(registry), locator)
    if issues:
        raise RecipeError(sort_issues(_dedupe(issues)), source=recipe.source)
    if text is None:
        text = canonical_json(recipe.model_dump(mode="json"))
    return build_plan(resolved, text)


def plan_text(text: str, registry: Registry | None = None, source: str | None = None) -> Plan:
    """Validate the recipe ``text`` and expand it; raise :class:`RecipeError` listing every problem."""
    checked = _check(text, registry, source)
    if checked.issues or checked.resolved is None:
        raise RecipeError(checked.issues, source=source)
    return build_plan(checked.resolved, text)


def plan_file(path: str | os.PathLike[str], registry: Registry | None = None) -> Plan:
    """Load, validate and expand the recipe file at ``path`` (what ``neurorep run`` executes).

    Raises
    ------
    RecipeError
        Listing every problem of the recipe, each with its path and line.
    """
    text, source = _read(Path(path))
    return plan_text(text, registry, source=source)
