"""The component registry: every component id, the class behind it, and who provided it."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .components import KINDS, Component, validate_component_class
from .errors import DuplicateComponentError, UnknownComponentError

__all__ = ["ComponentInfo", "Registry", "known_providers"]


@dataclass(frozen=True)
class ComponentInfo:
    """A registered component and its origin."""

    cls: type[Component]
    plugin: str
    distribution: str
    dist_version: str

    @property
    def id(self) -> str:
        return self.cls.id

    @property
    def kind(self) -> str:
        return self.cls.kind

    @property
    def version(self) -> str:
        return self.cls.version

    @property
    def ref(self) -> str:
        """Import path ``module:QualName``; lets worker processes rebuild the class without the registry."""
        return f"{self.cls.__module__}:{self.cls.__qualname__}"

    def as_dict(self) -> dict[str, Any]:
        d = self.cls.describe()
        d.update(plugin=self.plugin, distribution=self.distribution, distribution_version=self.dist_version)
        return d


def known_providers() -> dict[str, str]:
    """Component ids of plugins that ship with the neurorep project, mapped to their distribution.

    Used to tell a user which distribution to install for an unknown id.
    """
    try:
        text = resources.files("neurorep").joinpath("catalogue.json").read_text()
    except (FileNotFoundError, ModuleNotFoundError):
        return {}
    data = json.loads(text)
    return {cid: dist for dist, ids in data.items() for cid in ids}


@dataclass
class Registry:
    """Component id -> :class:`ComponentInfo`."""

    _items: dict[str, ComponentInfo] = field(default_factory=dict)

    def add(self, cls: type[Component], *, plugin: str, distribution: str, dist_version: str,
            expected_kind: str | None = None) -> ComponentInfo:
        """Validate and add ``cls``; raise on a bad declaration or a duplicate id."""
        validate_component_class(cls, expected_kind)
        if cls.id in self._items:
            other = self._items[cls.id]
            if other.cls is cls:
                return other
            raise DuplicateComponentError(
                f"Component id {cls.id!r} is registered twice: by distribution {other.distribution!r} "
                f"(plugin {other.plugin!r}, {other.ref}) and by distribution {distribution!r} "
                f"(plugin {plugin!r}, {cls.__module__}:{cls.__qualname__}). Uninstall one of them, or block "
                f"one with NEUROREP_BLOCK_PLUGINS={plugin}.")
        info = ComponentInfo(cls, plugin, distribution, dist_version)
        self._items[cls.id] = info
        return info

    def get(self, component_id: str, kind: str | None = None) -> ComponentInfo:
        """Look up ``component_id``; unknown ids raise with the closest match and the providing distribution."""
        info = self._items.get(component_id)
        if info is not None and (kind is None or info.kind == kind):
            return info
        if info is not None:
            raise UnknownComponentError(component_id, kind=kind, suggestions=self.suggest(component_id, kind))
        raise UnknownComponentError(component_id, suggestions=self.suggest(component_id, kind), kind=kind,
                                    provider=known_providers().get(component_id))

    def suggest(self, component_id: str, kind: str | None = None, n: int = 3) -> list[str]:
        """Closest registered ids (difflib ratio >= 0.5)."""
        pool = [i for i, c in self._items.items() if kind is None or c.kind == kind]
        return difflib.get_close_matches(component_id, pool, n=n, cutoff=0.5)

    def create(self, component_id: str, params: Mapping[str, Any] | None = None, kind: str | None = None) -> Component:
        """Instantiate ``component_id`` with validated ``params``."""
        return self.get(component_id, kind).cls.from_params(params)

    def ids(self, kind: str | None = None) -> list[str]:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}.")
        return sorted(i for i, c in self._items.items() if kind is None or c.kind == kind)

    def __contains__(self, component_id: object) -> bool:
        return component_id in self._items

    def __iter__(self) -> Iterator[ComponentInfo]:
        return iter(sorted(self._items.values(), key=lambda c: c.id))

    def __len__(self) -> int:
        return len(self._items)
