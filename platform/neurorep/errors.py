"""Exceptions raised by neurorep.

Every message says what was expected, what was given, and how to fix it.
The classes subclass the built-in exception a caller would naturally catch
(``ValueError`` for bad input, ``LookupError`` for unknown names).
"""

from __future__ import annotations

__all__ = [
    "NeurorepError",
    "InvalidInputError",
    "StimulusMismatchError",
    "UnknownComponentError",
    "DuplicateComponentError",
    "ComponentDeclarationError",
    "RecipeError",
]


class NeurorepError(Exception):
    """Base class of every error neurorep raises on purpose."""


class InvalidInputError(NeurorepError, ValueError):
    """Input data has the wrong shape, dtype, or contains NaN/inf."""


class StimulusMismatchError(InvalidInputError):
    """Two inputs do not describe the same stimuli (ids differ or are duplicated)."""


class UnknownComponentError(NeurorepError, LookupError):
    """A component id was requested that no loaded plugin provides."""

    def __init__(self, component_id: str, suggestions: list[str] | None = None,
                 provider: str | None = None, kind: str | None = None) -> None:
        self.component_id = component_id
        self.suggestions = list(suggestions or [])
        self.provider = provider
        what = f"{kind} component" if kind else "component"
        msg = f"Unknown {what} id {component_id!r}."
        if self.suggestions:
            msg += f" Did you mean {self.suggestions[0]!r}?"
        if provider:
            msg += (f" It is provided by the distribution {provider!r}: install it with "
                    f"'pip install {provider}' (or from plugins/{provider}/ in the neurorep repository).")
        else:
            msg += " Run 'neurorep plugins' to list the components that are installed."
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError-style quoting would hide the message
        return self.args[0]


class DuplicateComponentError(NeurorepError, ValueError):
    """Two plugins registered the same component id."""


class ComponentDeclarationError(NeurorepError, TypeError):
    """A component class is missing a declaration (id, kind, version, ...) or has an invalid one."""


class RecipeError(NeurorepError, ValueError):
    """A recipe is malformed; ``errors`` lists every problem found (path, line, message)."""

    def __init__(self, errors: list, source: str | None = None) -> None:
        self.errors = list(errors)
        self.source = source
        head = f"{len(self.errors)} error(s) in recipe" + (f" {source}" if source else "")
        body = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{head}:\n{body}")
