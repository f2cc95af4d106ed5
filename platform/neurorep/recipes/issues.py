"""Recipe problems: :class:`RecipeIssue`, dotted paths, and readable pydantic messages."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["RecipeIssue", "format_path", "sort_issues"]


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class RecipeIssue:
    """One problem found in a recipe.

    Attributes
    ----------
    path : str
        Dotted location inside the recipe, e.g. ``analyses[1].params.comparison``
        (empty for problems of the whole file, such as a TOML syntax error).
    line : int or None
        1-based line of the TOML text where that key, or the nearest enclosing table
        or array entry, is defined; None when the file has no such line.
    message : str
        What is wrong and how to fix it.
    """

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


def format_path(loc: Sequence[str | int]) -> str:
    """``("analyses", 1, "params", "comparison")`` -> ``"analyses[1].params.comparison"``.

    Keys that are not bare TOML keys are written quoted (``sources."my src"``).
    """
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        seg = str(part)
        if not _BARE_KEY.match(seg):
            seg = '"' + seg.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += ("." if out else "") + seg
    return out


def table_label(loc: Sequence[str | int]) -> str:
    """How a person finds the table at ``loc`` in the TOML file (``[sources.x]``, ``analyses[1]``)."""
    if not loc:
        return "the top level of the recipe"
    if all(isinstance(p, str) for p in loc):
        return f"[{format_path(loc)}]"
    return format_path(loc)


def closest(word: str, pool: Sequence[str]) -> str | None:
    """The closest string in ``pool`` (difflib ratio >= 0.6), or None."""
    m = difflib.get_close_matches(word, list(pool), n=1, cutoff=0.6)
    return m[0] if m else None


def did_you_mean(word: str, pool: Sequence[str]) -> str:
    """``" Did you mean 'x'?"`` or an empty string."""
    m = closest(word, pool)
    return f" Did you mean {m!r}?" if m else ""


def short_list(items: Sequence[Any], limit: int = 12) -> str:
    """A list for a message, cut after ``limit`` items with the total count."""
    items = list(items)
    if len(items) <= limit:
        return repr(items)
    return repr(items[:limit])[:-1] + f", ... ({len(items)} in all)]"


def sort_issues(issues: Sequence[RecipeIssue]) -> list[RecipeIssue]:
    """File-wide issues (no line) first, then by line; stable, so equal lines keep their order."""
    return sorted(issues, key=lambda i: (-1 if i.line is None else i.line))


def pydantic_message(err: dict[str, Any], *, allowed: Sequence[str] | None, owner: str,
                     what: str = "key") -> str:
    """Turn one pydantic error into a message that names the place and the fix.

    Parameters
    ----------
    err : dict
        One entry of ``ValidationError.errors()``.
    allowed : sequence of str or None
        Keys the enclosing table accepts (for unknown-key messages).
    owner : str
        Where the key lives, e.g. ``"[sources.model]"`` or ``"the parameters of 'cka.linear'"``.
    what : str
        ``"key"`` for recipe tables, ``"parameter"`` for component parameters.
    """
    etype = err.get("type", "")
    loc = tuple(err.get("loc", ()))
    key = str(loc[-1]) if loc else ""
    if etype == "extra_forbidden":
        msg = f"unknown {what} {key!r} in {owner}."
        if allowed is not None:
            msg += did_you_mean(key, allowed)
            msg += f" Allowed {what}s: {', '.join(sorted(allowed)) or '(none)'}."
        return msg
    if etype == "missing":
        msg = f"missing required {what} {key!r} in {owner}."
        if what == "parameter":
            msg += f" Add {key} = <value> to params."
        return msg
    msg = f"invalid value for {what} {key!r} in {owner}: " if key else f"invalid value in {owner}: "
    msg += str(err.get("msg", "invalid value"))
    if "input" in err:
        text = repr(err["input"])
        if len(text) > 80:
            text = text[:77] + "..."
        msg += f"; got {text}"
    return msg + "."
