"""Plugin discovery and loading.

* Built-in components live in :data:`DEFAULT_PLUGINS` and register through the same
  hooks as external plugins.
* External plugins are found through the ``neurorep`` entry-point group.
* ``NEUROREP_LOAD_PLUGINS`` (comma-separated entry-point or distribution names; empty
  means none) is an allow-list; ``NEUROREP_BLOCK_PLUGINS`` is a block-list.
* A plugin that raises on import, has a misspelled hook, or raises while registering
  is reported (:class:`LoadError`) and skipped: it never takes the host down. Its
  components are registered all-or-nothing.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .components import KINDS
from .errors import DuplicateComponentError, NeurorepError
from .registry import Registry

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "LoadError",
    "PluginInfo",
    "PluginSystem",
    "get_plugin_system",
    "get_registry",
    "reset",
]

ENTRY_POINT_GROUP = "neurorep"

#: Modules of built-in components, registered exactly like external plugins.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "neurorep.builtin.sources",
    "neurorep.builtin.analyzers",
    "neurorep.builtin.similarity",
    "neurorep.builtin.decoding",
    "neurorep.builtin.encoding",
    "neurorep.builtin.models",
    "neurorep.builtin.report_sections",
    "neurorep.builtin.fmri",
)


@dataclass
class LoadError:
    """A plugin that could not be loaded or registered."""

    plugin: str
    distribution: str
    version: str
    stage: str  # "import", "hooks" or "register"
    error: str
    traceback: str = ""


@dataclass
class PluginInfo:
    """A loaded plugin: where it comes from, which hooks it implements and what it registered."""

    name: str
    distribution: str
    version: str
    builtin: bool
    module: str
    hooks: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)


def _host_version() -> str:
    try:
        return metadata.version("neurorep")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


class PluginSystem:
    """A pluggy ``PluginManager("neurorep")`` plus the registry built from it.

    Parameters
    ----------
    load_entry_points : bool, default=True
        Discover external plugins through the ``neurorep`` entry-point group.
    extra_plugins : iterable of (name, module_or_object)
        Extra plugins registered after the built-ins (tests use this).
    """

    def __init__(self, load_entry_points: bool = True,
                 extra_plugins: Iterable[tuple[str, Any]] = ()) -> None:
        self.pm = pluggy.PluginManager("neurorep")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.plugins: dict[str, PluginInfo] = {}
        self.errors: list[LoadError] = []
        self._load_builtins()
        if load_entry_points:
            self._load_entry_points()
        for name, obj in extra_plugins:
            if isinstance(obj, str):
                obj = importlib.import_module(obj)
            self._add_plugin(obj, name=name, distribution=name, version="0", builtin=False)
        self._register_components()

    # ------------------------------------------------------------------ loading
    def _add_plugin(self, obj: Any, *, name: str, distribution: str, version: str, builtin: bool) -> bool:
        try:
            self.pm.register(obj, name=name)
        except Exception as exc:  # e.g. hookimpl arguments not in the spec
            self.errors.append(LoadError(name, distribution, version, "hooks", f"{type(exc).__name__}: {exc}",
                                         traceback.format_exc()))
            return False
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(obj)
            self.errors.append(LoadError(
                name, distribution, version, "hooks",
                f"{exc} -- the hook name is misspelled or not part of neurorep's contract (HOOK_API="
                f"{hookspecs.HOOK_API}); see neurorep/hookspecs.py for the hook names.", ""))
            return False
        hooks = sorted(h.name for h in (self.pm.get_hookcallers(obj) or []))
        module = getattr(obj, "__name__", type(obj).__name__)
        self.plugins[name] = PluginInfo(name, distribution, version, builtin, module, hooks)
        return True

    def _load_builtins(self) -> None:
        version = _host_version()
        for modname in DEFAULT_PLUGINS:
            try:
                mod = importlib.import_module(modname)
            except Exception as exc:
                self.errors.append(LoadError(modname, "neurorep", version, "import",
                                             f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                continue
            self._add_plugin(mod, name=modname, distribution="neurorep", version=version, builtin=True)

    def _load_entry_points(self) -> None:
        allow = _env_list("NEUROREP_LOAD_PLUGINS")
        block = _env_list("NEUROREP_BLOCK_PLUGINS") or set()
        seen: set[str] = set()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            names = {ep.name, dist}
            if allow is not None and not (names & allow):
                continue
            if names & block:
                continue
            if ep.name in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add(ep.name)
            try:
                obj = ep.load()
            except BaseException as exc:  # a plugin calling sys.exit() must not end the host either
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self.errors.append(LoadError(ep.name, dist, version, "import",
                                             f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                continue
            self._add_plugin(obj, name=ep.name, distribution=dist, version=version, builtin=False)

    # ------------------------------------------------------------------ registration
    def _register_components(self) -> None:
        for name, info in list(self.plugins.items()):
            plugin = self.pm.get_plugin(name)
            staged: list[tuple[type, str]] = []
            try:
                for kind, hook_name in KINDS.items():
                    for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                        if impl.plugin is not plugin:
                            continue

                        def register(*classes: Any, _kind: str = kind, **_: Any) -> None:
                            for cls in classes:
                                staged.append((cls, _kind))

                        impl.function(**{a: register for a in impl.argnames})
                # validate all before committing any (all-or-nothing per plugin)
                trial = Registry()
                for cls, kind in staged:
                    trial.add(cls, plugin=name, distribution=info.distribution, dist_version=info.version,
                              expected_kind=kind)
            except Exception as exc:
                self.errors.append(LoadError(name, info.distribution, info.version, "register",
                                             f"{type(exc).__name__}: {exc}", traceback.format_exc()))
                self.pm.unregister(plugin)
                del self.plugins[name]
                continue
            for cls, kind in staged:
                try:
                    self.registry.add(cls, plugin=name, distribution=info.distribution,
                                      dist_version=info.version, expected_kind=kind)
                except DuplicateComponentError as exc:
                    self.errors.append(LoadError(name, info.distribution, info.version, "register", str(exc)))
                    continue
                info.components.append(cls.id)

    # ------------------------------------------------------------------ reporting
    def describe(self) -> dict[str, Any]:
        """Everything ``neurorep plugins --json`` prints."""
        return {
            "neurorep": _host_version(),
            "hook_api": hookspecs.HOOK_API,
            "plugins": [asdict(p) for p in self.plugins.values()],
            "components": [c.as_dict() for c in self.registry],
            "errors": [asdict(e) for e in self.errors],
        }

    def call_notification(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call an ``on_*`` hook; an exception in one plugin is reported, not raised."""
        hook = getattr(self.pm.hook, hook_name)
        out = []
        for impl in reversed(hook.get_hookimpls()):
            try:
                out.append(impl.function(**{a: kwargs[a] for a in impl.argnames if a in kwargs}))
            except Exception as exc:  # pragma: no cover - reported, never fatal
                self.errors.append(LoadError(impl.plugin_name, "?", "?", hook_name, f"{type(exc).__name__}: {exc}",
                                             traceback.format_exc()))
        return out


_SYSTEM: PluginSystem | None = None


def get_plugin_system(reload: bool = False) -> PluginSystem:
    """The process-wide plugin system (built on first use)."""
    global _SYSTEM
    if _SYSTEM is None or reload:
        _SYSTEM = PluginSystem()
    return _SYSTEM


def get_registry(reload: bool = False) -> Registry:
    """The process-wide component registry."""
    return get_plugin_system(reload).registry


def reset() -> None:
    """Forget the process-wide plugin system (the next call rebuilds it)."""
    global _SYSTEM
    _SYSTEM = None


def create(component_id: str, params: dict[str, Any] | None = None, kind: str | None = None) -> Any:
    """Instantiate a registered component by id."""
    return get_registry().create(component_id, params, kind)


class PluginError(NeurorepError):
    """Raised by helpers that need a plugin which failed to load."""
