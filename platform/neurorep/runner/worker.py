"""What runs on a worker: one task in, outputs written to the store or cache, a small status dict out.

:func:`execute_task` is the single entry point every executor calls (in-process, in a
process pool, on a Dask worker). It receives a :class:`~neurorep.tasks.Task` (keys,
parameters, ``module:QualName`` references) and a :class:`RunContext` (paths and run
options), never arrays; it imports component classes from their references, so a
worker needs no plugin registry. Errors raised by components are caught and recorded
(in the cache's ``failed/`` folder) and reported in the returned dict.
"""

from __future__ import annotations

import importlib
import os
import socket
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ..store import RepresentationStore, to_jsonable
from ..tasks import Task
from ..types import RDMs, Representation, Result, StimulusSet, stack_sites
from .cache import ResultCache

__all__ = ["RunContext", "execute_task", "import_ref", "result_rows", "resolve_stimuli"]


@dataclass(frozen=True)
class RunContext:
    """What a worker needs besides the task: where outputs go and run-wide options.

    Parameters
    ----------
    out_dir : str
        Absolute path of the run's output folder (on a file system every worker sees).
    store_dtype : str or None
        Storage dtype of the representation store (None: as produced).
    stimuli : dict
        ``{name: {"component_id", "component_ref", "kind", "params", "n"}}`` for the
        recipe's ``[stimuli.*]`` entries (references resolved by the runner).
    seed : int or None
        The recipe's seed.
    """

    out_dir: str
    store_dtype: str | None = None
    stimuli: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seed: int | None = None

    @property
    def store(self) -> RepresentationStore:
        return RepresentationStore(Path(self.out_dir) / "store")

    @property
    def cache(self) -> ResultCache:
        return ResultCache(Path(self.out_dir) / "cache")


def import_ref(ref: str) -> type:
    """Import ``"package.module:Qual.Name"`` and return the object."""
    if not isinstance(ref, str) or ":" not in ref:
        raise InvalidInputError(f"Expected a component reference 'module:QualName', got {ref!r}.")
    mod_name, _, qual = ref.partition(":")
    try:
        obj: Any = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ImportError(f"Cannot import module {mod_name!r} of component {ref!r} on this worker ({exc}); the "
                          "plugin providing it must be installed wherever tasks run.") from exc
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def _build(ref: str, params: Mapping[str, Any] | None) -> Any:
    return import_ref(ref).from_params(dict(params or {}))


def _error_dict(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc),
            "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))}


# --------------------------------------------------------------------------- stimuli

_STIMULI_MEMO: dict[str, StimulusSet] = {}


def resolve_stimuli(task: Task, ctx: RunContext) -> StimulusSet | None:
    """The stimuli a source task is given: a generate task's stored output or a dataset's ``load_stimuli()``."""
    if not task.inputs:
        return None
    inp = dict(task.inputs[0])
    name = inp.get("stimuli")
    if name is None:
        return None
    gen_key = inp.get("task")
    if gen_key:
        return ctx.store.read_stimuli(gen_key)
    spec = {**dict(ctx.stimuli.get(name, {})), **{k: v for k, v in inp.items() if v is not None}}
    ref = spec.get("component_ref")
    if not ref:
        raise InvalidInputError(f"Source {task.name!r}: stimuli {name!r} has no component reference; the plan must "
                                "give [stimuli] entries a dataset (or a generate task).")
    from ..tasks import canonical_json

    memo = f"{ref}|{canonical_json(spec.get('params') or {})}|{spec.get('n')}|{ctx.seed}"
    if memo in _STIMULI_MEMO:
        return _STIMULI_MEMO[memo]
    comp = _build(ref, spec.get("params"))
    if getattr(comp, "kind", None) == "generator":
        stim = comp.generate(int(spec["n"]), random_state=ctx.seed)
    else:
        stim = comp.load_stimuli()
        if stim is None:
            raise InvalidInputError(f"Source {task.name!r}: dataset {spec.get('component_id')!r} (stimuli {name!r}) "
                                    "holds no stimuli (load_stimuli() returned None).")
    if not isinstance(stim, StimulusSet):
        raise InvalidInputError(f"Stimuli {name!r} ({spec.get('component_id')!r}): expected a StimulusSet, "
                                f"got {type(stim).__name__}.")
    if len(_STIMULI_MEMO) > 8:
        _STIMULI_MEMO.clear()
    _STIMULI_MEMO[memo] = stim
    return stim


# --------------------------------------------------------------------------- tasks

def _source_cached(task: Task, ctx: RunContext) -> bool:
    store = ctx.store
    if not store.is_complete(task.key):
        return False
    try:
        return store.meta(task.key).get("dtype") == ctx.store_dtype
    except Exception:
        return False


def _run_source(task: Task, ctx: RunContext) -> dict[str, Any]:
    if _source_cached(task, ctx):
        return {"cached": True}
    stimuli = resolve_stimuli(task, ctx)
    source = _build(task.component_ref, task.params)
    label = f"Source {task.component_id!r} ({task.name!r})"
    sites = list(task.sites) or list(source.sites(stimuli))
    batches = source.batches(stimuli) if hasattr(source, "batches") else None
    if batches is not None:
        ids = tuple(source.stimulus_ids(stimuli))
        batches = list(batches)
        covered = sorted((b.indices(len(ids))[:2] for b in batches))
        pos = 0
        for start, stop in covered:
            if start != pos:
                break
            pos = stop
        if pos != len(ids) or any(b.step not in (None, 1) for b in batches):
            raise InvalidInputError(f"{label}: batches() must be contiguous slices covering the {len(ids)} "
                                    f"stimuli exactly once; got {batches[:5]}{'...' if len(batches) > 5 else ''}.")
    else:
        ids = tuple(stimuli.ids) if stimuli is not None else None
    site_space = getattr(source, "site_space", None)
    meta = {
        "kind": "source", "source": task.name, "task_key": task.key, "component_id": task.component_id,
        "component_version": task.component_version, "component_ref": task.component_ref,
        "params": task.params, "stimulus_ids": list(ids) if ids is not None else None,
        "stimuli_fingerprint": stimuli.fingerprint() if stimuli is not None else None,
        "stimuli_name": stimuli.name if stimuli is not None else None,
        "sites": sites,
        "batches": [list(b.indices(len(ids))[:2]) for b in batches] if batches is not None else None,
        "site_spaces": {s: site_space(s) for s in sites} if site_space is not None else {},
        "site_names": {s: f"{task.name}:{s}" for s in sites},
    }
    group = ctx.store.open_source(task.key, meta, dtype=ctx.store_dtype)
    n_new = 0
    if batches is not None:
        done = group.done_batches()
        for i, b in enumerate(batches):
            start, stop = b.indices(len(ids))[:2]
            if done.get(i) == (start, stop):
                continue
            arrays = source.extract_batch(stimuli, b, sites)
            if not isinstance(arrays, Mapping):
                raise InvalidInputError(f"{label}: extract_batch must return a dict {{site: array}}, "
                                        f"got {type(arrays).__name__}.")
            group.write_batches(i, b, arrays)
            n_new += 1
    else:
        done_sites = group.done_sites()
        for site in sites:
            if site in done_sites:
                continue
            value = source.load(site, stimuli)
            if not isinstance(value, (Representation, RDMs)):
                raise InvalidInputError(f"{label}: load({site!r}) must return a Representation or RDMs, "
                                        f"got {type(value).__name__}.")
            group.write_site(site, value)
            n_new += 1
    group.mark_complete()
    return {"cached": False, "n_new": n_new}


def _run_generate(task: Task, ctx: RunContext) -> dict[str, Any]:
    store = ctx.store
    if store.is_complete(task.key):
        return {"cached": True}
    n = task.labels.get("n")
    if n is None and task.inputs:
        n = dict(task.inputs[0]).get("n")
    if n is None:
        raise InvalidInputError(f"Generate task {task.name!r} ({task.component_id!r}): the plan gives no number "
                                "of stimuli 'n'.")
    gen = _build(task.component_ref, task.params)
    stim = gen.generate(int(n), random_state=task.seed)
    if not isinstance(stim, StimulusSet):
        raise InvalidInputError(f"Generator {task.component_id!r}: generate() must return a StimulusSet, "
                                f"got {type(stim).__name__}.")
    store.write_stimuli(task.key, stim, {"generator": task.component_id, "n": int(n), "seed": task.seed})
    return {"cached": False}


def result_rows(results: Any, owner: str) -> list[dict[str, Any]]:
    """Validate an analyzer's output and turn it into JSON-ready rows (Result fields, ``extra`` a dict)."""
    if isinstance(results, Result):
        results = [results]
    if not isinstance(results, (list, tuple)) or not results:
        raise InvalidInputError(f"{owner}: analyze() must return a non-empty list of neurorep.Result, "
                                f"got {type(results).__name__}{'' if results else ' (empty)'}.")
    rows = []
    for r in results:
        if not isinstance(r, Result):
            raise InvalidInputError(f"{owner}: analyze() must return neurorep.Result objects, got "
                                    f"{type(r).__name__}.")
        row = to_jsonable(r.to_row())
        row["extra"] = to_jsonable(dict(r.extra))
        rows.append(row)
    return rows


def _apply_transforms(value: Any, transforms: tuple[dict[str, Any], ...]) -> Any:
    for t in transforms:
        value = _build(t["component_ref"], t.get("params")).transform(value)
    return value


def _run_analysis(task: Task, ctx: RunContext) -> dict[str, Any]:
    cache = ctx.cache
    if cache.get(task.key, store_dtype=ctx.store_dtype) is not None:
        return {"cached": True}
    store = ctx.store
    loaded: dict[tuple[str, str], Any] = {}
    values = []
    owner = f"Analyzer {task.component_id!r} ({task.name!r})"
    for inp in task.inputs:
        sites = inp.get("sites") or [inp["site"]]
        for site in sites:
            k = (inp["task"], site)
            if k not in loaded:
                loaded[k] = _apply_transforms(store.read(inp["task"], site), task.transforms)
        if "sites" in inp:  # the analysis's ``stack``: all these sites as one input
            values.append(stack_sites([loaded[(inp["task"], s)] for s in sites], sites,
                                      owner=f"{owner}, input {inp['source']}:{inp['site']}"))
        else:
            values.append(loaded[(inp["task"], sites[0])])
    analyzer = _build(task.component_ref, task.params)
    t0 = time.perf_counter()
    results = analyzer.analyze(*values)
    rows = result_rows(results, owner)
    cache.put_ok(task.key, rows, component_id=task.component_id, component_version=task.component_version,
                 store_dtype=ctx.store_dtype, duration_s=time.perf_counter() - t0)
    return {"cached": False, "n_rows": len(rows)}


_RUNNERS = {"source": _run_source, "analysis": _run_analysis, "generate": _run_generate}


def execute_task(task: Task, ctx: RunContext) -> dict[str, Any]:
    """Run one task; write its outputs; return ``{"key", "kind", "status", "error", "duration_s", ...}``.

    ``status`` is ``"ok"``, ``"cached"`` (the output already existed) or ``"failed"``
    (``error`` then holds ``"Type: message"``; the traceback is in the cache's failure record).
    """
    t0 = time.perf_counter()
    base = {"key": task.key, "kind": task.kind, "pid": os.getpid(), "host": socket.gethostname()}
    try:
        run = _RUNNERS[task.kind]
    except KeyError:
        return {**base, "status": "failed", "error": f"InvalidInputError: unknown task kind {task.kind!r}",
                "duration_s": 0.0}
    try:
        info = run(task, ctx)
    except Exception as exc:
        err = _error_dict(exc)
        try:
            ctx.cache.put_failed(task.key, err, kind=task.kind, component_id=task.component_id, name=task.name)
        except OSError:
            pass
        return {**base, "status": "failed", "error": f"{err['type']}: {err['message']}",
                "duration_s": time.perf_counter() - t0}
    return {**base, "status": "cached" if info.pop("cached", False) else "ok", "error": None,
            "duration_s": time.perf_counter() - t0, **info}
