"""What a report section is given about a run: its folder, provenance, store and stimuli."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import NeurorepError

__all__ = ["ReportError", "ReportRun"]


class ReportError(NeurorepError, RuntimeError):
    """The report cannot be built (e.g. the folder holds no run)."""


_KEYS = ("run_dir", "out_path", "results_path", "provenance", "recipe_name", "recipe_text", "options", "title",
         "store", "registry", "system")


class ReportRun(Mapping[str, Any]):
    """One finished run, as report sections see it (the ``run`` argument of ``render``).

    A read-only mapping with the keys ``run_dir``, ``out_path`` (the report file),
    ``results_path``, ``provenance`` (dict), ``recipe_name``, ``recipe_text``,
    ``options`` (the recipe's ``[report]`` table), ``title``, ``store``
    (:class:`neurorep.store.RepresentationStore`), ``registry`` and ``system``; plus
    methods to read what the run stored.

    Parameters
    ----------
    run_dir : path-like
        The run's output folder (``neurorep run --out``).
    out_path : path-like
        Where the report is written (links are made relative to it).
    system : neurorep.plugins.PluginSystem
    provenance : dict, optional
        Default: ``RUN_DIR/provenance.json`` (or the results' Parquet metadata).
    """

    def __init__(self, run_dir: str | os.PathLike[str], out_path: str | os.PathLike[str], system: Any,
                 provenance: Mapping[str, Any] | None = None) -> None:
        from ..store import RepresentationStore

        self.run_dir = Path(run_dir).resolve()
        self.out_path = Path(out_path).resolve()
        self.results_path = self.run_dir / "results.parquet"
        self.system = system
        self.registry = system.registry
        self.provenance = dict(provenance) if provenance is not None else _load_provenance(self.run_dir)
        rec = self.provenance.get("recipe") or {}
        self.recipe_name = str(rec.get("name") or self.run_dir.name)
        self.recipe_text = str(rec.get("text") or "")
        opts = rec.get("options") or {}
        self.options: dict[str, Any] = dict(opts.get("report") or {})
        self.title = str(self.options.get("title") or self.recipe_name)
        self.store = RepresentationStore(self.run_dir / "store")
        self._stimuli_opts: dict[str, Any] = dict(opts.get("stimuli") or {})
        self._stimuli_memo: dict[str, Any] = {}
        self._recipe_data: dict[str, Any] | None = None
        self.messages: list[str] = []

    # ------------------------------------------------------------------ mapping
    def __getitem__(self, key: str) -> Any:
        if key not in _KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)

    # ------------------------------------------------------------------ recipe
    @property
    def recipe_data(self) -> dict[str, Any]:
        """The recipe's TOML parsed (empty when the provenance holds no text)."""
        if self._recipe_data is None:
            try:
                self._recipe_data = tomllib.loads(self.recipe_text) if self.recipe_text else {}
            except tomllib.TOMLDecodeError:
                self._recipe_data = {}
        return self._recipe_data

    def href(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the report's folder, with forward slashes (for ``href``)."""
        rel = os.path.relpath(Path(path).resolve(), self.out_path.parent)
        return Path(rel).as_posix()

    # ------------------------------------------------------------------ store
    def source_key(self, source: str) -> str | None:
        """Task key of the recipe source ``source`` (its group in the store), or None."""
        for t in self.provenance.get("tasks") or []:
            if t.get("kind") == "source" and t.get("name") == source:
                return str(t["key"])
        return None

    def read(self, source: str, site: str) -> Any:
        """The stored :class:`~neurorep.types.Representation` or :class:`~neurorep.types.RDMs` of ``source:site``.

        Raises
        ------
        ReportError
            The run has no such source, or its store group is missing or incomplete.
        """
        key = self.source_key(source)
        if key is None:
            raise ReportError(f"The run in {str(self.run_dir)!r} has no source {source!r}; its sources are "
                              f"{self.sources()}.")
        return self.store.read(key, site)

    def sources(self) -> list[str]:
        """The recipe's source names, in plan order."""
        return [str(t["name"]) for t in self.provenance.get("tasks") or [] if t.get("kind") == "source"]

    def source_meta(self, source: str) -> dict[str, Any]:
        """The attributes of a source's store group ({} when absent)."""
        key = self.source_key(source)
        if key is None or not self.store.exists(key):
            return {}
        try:
            return self.store.meta(key)
        except Exception:
            return {}

    def site_space(self, source: str, site: str) -> dict[str, Any]:
        """The ``space`` provenance of ``source:site`` as stored (without reading its arrays)."""
        meta = self.source_meta(source)
        space = dict((meta.get("site_spaces") or {}).get(site) or {})
        key = self.source_key(source)
        if key is not None and site in (meta.get("sites") or []):
            try:
                import zarr
                from zarr.storage import LocalStore

                g = zarr.open_group(store=LocalStore(self.store.task_path(key) / "data", read_only=True), mode="r")
                node = f"site-{(meta.get('sites') or []).index(site):04d}"
                if node in g:
                    space.update(dict(g[node].attrs).get("space") or {})
            except Exception:
                pass
        return space

    # ------------------------------------------------------------------ stimuli
    def stimuli(self, source: str) -> Any:
        """The :class:`~neurorep.types.StimulusSet` ``source`` was run on, or None when it cannot be had.

        Looked up, in order: the generate task's stored stimuli; the ``[stimuli]`` entry's
        dataset (``load_stimuli()``); the source component itself when it is a dataset.
        Generators are never re-run. Failures are recorded in :attr:`messages`.
        """
        if source in self._stimuli_memo:
            return self._stimuli_memo[source]
        out = None
        try:
            out = self._resolve_stimuli(source)
        except Exception as exc:  # missing data files, a plugin no longer installed, ...
            self.messages.append(f"stimuli of source {source!r} could not be loaded ({type(exc).__name__}: {exc}); "
                                 "stimuli are shown in stored order.")
        self._stimuli_memo[source] = out
        return out

    def _resolve_stimuli(self, source: str) -> Any:
        from ..runner.worker import import_ref

        spec_name = ((self.recipe_data.get("sources") or {}).get(source) or {}).get("stimuli")
        if spec_name:
            spec = self._stimuli_opts.get(spec_name) or {}
            task = spec.get("task")
            if task:
                return self.store.read_stimuli(task) if self.store.is_complete(task) else None
            if spec.get("kind") == "generator" or not spec.get("component_ref"):
                return None
            comp = import_ref(spec["component_ref"]).from_params(dict(spec.get("params") or {}))
            return comp.load_stimuli() if hasattr(comp, "load_stimuli") else None
        meta = self.source_meta(source)
        ref = meta.get("component_ref")
        if not ref:
            return None
        cls = import_ref(ref)
        if getattr(cls, "kind", None) != "dataset" or not hasattr(cls, "load_stimuli"):
            return None
        return cls.from_params(dict(meta.get("params") or {})).load_stimuli()

    # ------------------------------------------------------------------ components
    def component_tags(self, component_id: str | None) -> Any:
        """The :class:`~neurorep.components.Tags` of a registered component, or None."""
        if component_id and component_id in self.registry:
            return self.registry.get(component_id).cls.tags
        return None


def _load_provenance(run_dir: Path) -> dict[str, Any]:
    p = run_dir / "provenance.json"
    if p.is_file():
        return json.loads(p.read_text(encoding="utf-8"))
    res = run_dir / "results.parquet"
    if res.is_file():
        from ..runner.run import read_provenance

        return read_provenance(res)
    raise ReportError(f"{str(run_dir)!r} holds no neurorep run (no provenance.json or results.parquet); "
                      "run a recipe into it first: neurorep run RECIPE --out RUN_DIR.")
