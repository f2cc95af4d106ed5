"""The task graph a recipe expands into; the runner executes it.

Tasks are small, picklable descriptions: component references, parameters and
store selections, never large arrays. Each task's ``key`` is content-addressed:
it hashes the component id and version, the validated parameters and the keys of
the tasks it depends on (plus the site selection), so an unchanged task is found
in the cache and a changed input invalidates everything downstream.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Task", "Plan", "task_key", "canonical_json"]

TaskKind = Literal["source", "analysis", "generate"]


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, no whitespace); tuples become lists."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def task_key(*parts: Any) -> str:
    """sha256 (first 24 hex digits) of the canonical JSON of ``parts``."""
    return hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Task:
    """One unit of work.

    Attributes
    ----------
    key : str
        Content-addressed cache key.
    kind : {"source", "analysis", "generate"}
        ``source``: produce every selected site of one source into the representation store.
        ``analysis``: run one analyzer on one (or one pair of) site(s).
        ``generate``: run a generator and store its stimuli.
    name : str
        The recipe entry this task comes from (source name or analysis name).
    component_id, component_version : str
    component_ref : str
        ``module:QualName`` of the component class, so worker processes can import it
        without rebuilding the plugin registry.
    params : dict
        Validated parameters (JSON-serialisable).
    depends_on : tuple of str
        Keys of the tasks whose outputs this task reads.
    inputs : tuple of dict
        For analyses: one ``{"source": name, "site": site, "task": key}`` per input.
        For sources: ``{"stimuli": name, "task": key}`` when the source takes stimuli
        from a generate task or a dataset.
    sites : tuple of str
        For sources: the sites to produce.
    transforms : tuple of dict
        For analyses: ``{"component_id", "component_ref", "version", "params"}`` applied to
        each input before the analyzer, in order.
    labels : dict
        Human-readable provenance for result rows (``analysis``, ``x``, ``y``...).
    seed : int or None
        The recipe's seed, recorded in provenance.
    """

    key: str
    kind: TaskKind
    name: str
    component_id: str
    component_version: str
    component_ref: str
    params: dict[str, Any] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    inputs: tuple[dict[str, Any], ...] = ()
    sites: tuple[str, ...] = ()
    transforms: tuple[dict[str, Any], ...] = ()
    labels: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    """An expanded recipe: tasks in a valid execution order, plus the recipe's text and hash."""

    recipe_name: str
    recipe_text: str
    recipe_hash: str
    tasks: list[Task]
    options: dict[str, Any] = field(default_factory=dict)

    def by_key(self) -> dict[str, Task]:
        return {t.key: t for t in self.tasks}

    def of_kind(self, kind: str) -> list[Task]:
        return [t for t in self.tasks if t.kind == kind]
