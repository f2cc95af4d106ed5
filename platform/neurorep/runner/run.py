"""Execute a plan: dependency order, cache and store reuse, tidy results and provenance.

Output folder layout::

    OUT/store/          representation store (zarr v3), one group per source/generate task
    OUT/cache/          one JSON per finished analysis task (cache/failed/: last failures)
    OUT/results.parquet tidy results, one row per result row of every analysis task
    OUT/provenance.json recipe text and hash, plugins, versions, seeds, times, executor

Re-running the same recipe into the same folder reuses everything already done;
a run that was killed resumes (streamed sources at the batch level). Results are
deterministic: rows come from the cache files, in plan order, whatever executed them.

Columns of ``results.parquet`` (one row per :class:`~neurorep.types.Result` an analysis
returned; one row per failed analysis task):

* ``analysis``, ``x``, ``y`` -- the recipe's analysis name and the inputs as ``source:site``
  (``y`` is null for one-input analyzers); ``x_source``, ``x_site``, ``y_source``, ``y_site``.
* ``metric``, ``score``, ``ceiling_lower``, ``ceiling_upper``, ``ci_low``, ``ci_high``,
  ``p_value``, ``n`` -- the Result's fields (NaN when not computed; ``n`` is 0 for failures);
  ``extra`` -- the Result's ``extra`` dict as canonical JSON.
* ``component_id``, ``component_version``, ``params`` (canonical JSON), ``transforms``
  (canonical JSON list), ``task_key``, ``row`` (index of the row within its task),
  ``recipe_hash``.
* ``status`` (``ok``, ``cached``, ``failed``), ``error`` (``"Type: message"`` or null),
  ``duration_s`` (of the analyzer call that produced the row). ``status`` and ``duration_s``
  are the only columns that differ between a fresh, a cached and a resumed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform as _platform
import sys
import time
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from ..store import atomic_write_bytes, atomic_write_text, to_jsonable
from ..tasks import Plan, Task, canonical_json
from ..types import RESULT_COLUMNS
from .cache import ResultCache
from .executors import EXECUTORS, Executor, ProcessExecutor, make_executor
from .worker import RunContext

__all__ = ["run_plan", "run_recipe", "RESULT_SCHEMA_COLUMNS", "VOLATILE_COLUMNS", "PROVENANCE_KEY", "read_results",
           "read_provenance", "write_results", "provenance", "environment"]

#: Key of the provenance JSON in the Parquet file's key-value metadata.
PROVENANCE_KEY = "neurorep.provenance"

#: Columns of ``results.parquet``, in order, with their Arrow types.
RESULT_SCHEMA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("analysis", "string"), ("x", "string"), ("y", "string"),
    ("metric", "string"), ("score", "float64"), ("ceiling_lower", "float64"), ("ceiling_upper", "float64"),
    ("ci_low", "float64"), ("ci_high", "float64"), ("p_value", "float64"), ("n", "int64"), ("extra", "string"),
    ("component_id", "string"), ("component_version", "string"), ("params", "string"), ("transforms", "string"),
    ("x_source", "string"), ("x_site", "string"), ("y_source", "string"), ("y_site", "string"),
    ("task_key", "string"), ("row", "int64"), ("recipe_hash", "string"),
    ("status", "string"), ("error", "string"), ("duration_s", "float64"),
)

#: Columns that legitimately differ between a fresh run and a cached/resumed one.
VOLATILE_COLUMNS = ("status", "duration_s")


# --------------------------------------------------------------------------- helpers

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    """Versions of Python, the platform and key libraries (torch read from metadata, never imported)."""
    env: dict[str, Any] = {"python": sys.version.split()[0], "implementation": _platform.python_implementation(),
                           "platform": _platform.platform(), "machine": _platform.machine()}
    for pkg in ("neurorep", "numpy", "scipy", "pandas", "pyarrow", "zarr", "dask", "distributed", "pydantic",
                "pluggy", "torch"):
        env[pkg] = _dist_version(pkg)
    return env


@contextmanager
def _run_lock(out: Path):
    """One run per output folder at a time (advisory lock, released by the OS if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no locking
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    f = open(out / ".neurorep.lock", "w")
    try:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"Another neurorep run is writing to {str(out)!r}; wait for it to finish or choose "
                               "another output folder (--out).") from None
        yield
    finally:
        f.close()


class _Progress:
    """A rich progress bar on stderr, or nothing (disabled, or stderr is not a terminal)."""

    def __init__(self, enabled: bool, total: int, title: str) -> None:
        self._p = None
        if not enabled:
            return
        from rich.console import Console

        console = Console(stderr=True)
        if not console.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._p = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), TextColumn("{task.fields[counts]}"), console=console, transient=False)
        self._title = title
        self._id = self._p.add_task(title, total=total, counts="")

    def __enter__(self) -> _Progress:
        if self._p is not None:
            self._p.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._p is not None:
            self._p.stop()

    def update(self, counts: Mapping[str, int], advance: int = 1, current: str | None = None) -> None:
        if self._p is None:
            return
        text = " ".join(f"{k} {v}" for k, v in counts.items() if v)
        self._p.update(self._id, advance=advance, counts=text,
                       description=f"{self._title}" + (f" [dim]{current}[/dim]" if current else ""))


def _task_info(task: Task) -> dict[str, Any]:
    return {"key": task.key, "kind": task.kind, "name": task.name, "component_id": task.component_id,
            "version": task.component_version, "params": dict(task.params), "labels": dict(task.labels)}


def _stimuli_specs(plan: Plan, system: Any) -> dict[str, dict[str, Any]]:
    """Resolve each ``[stimuli.*]`` entry's component reference in the main process (workers need no registry)."""
    specs: dict[str, dict[str, Any]] = {}
    opt = dict(plan.options.get("stimuli") or {})
    names = set(opt)
    for t in plan.tasks:
        for inp in t.inputs if t.kind == "source" else ():
            if inp.get("stimuli"):
                names.add(inp["stimuli"])
                spec = specs.setdefault(inp["stimuli"], {})
                for k, v in inp.items():
                    if v is not None and k not in ("stimuli", "task"):
                        spec.setdefault(k, v)
    for name in names:
        spec = specs.setdefault(name, {})
        o = dict(opt.get(name) or {})
        for k, v in o.items():
            if k == "component":
                spec.setdefault("component_id", v)
            elif v is not None:
                spec.setdefault(k, v)
        cid = spec.get("component_id")
        if cid and not spec.get("component_ref") and cid in system.registry:
            info = system.registry.get(cid)
            spec["component_ref"] = info.ref
            spec.setdefault("kind", info.kind)
            spec.setdefault("version", info.version)
    return to_jsonable(specs)


# --------------------------------------------------------------------------- results table

def _label_parts(label: str | None, inp: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    if inp is not None:
        return inp.get("source"), inp.get("site")
    if label and ":" in label:
        src, _, site = label.partition(":")
        return src, site
    return None, None


def _base_row(task: Task, recipe_hash: str) -> dict[str, Any]:
    inputs = list(task.inputs)
    x_src, x_site = _label_parts(task.labels.get("x"), inputs[0] if inputs else None)
    y_src, y_site = _label_parts(task.labels.get("y"), inputs[1] if len(inputs) > 1 else None)
    x = task.labels.get("x") or (f"{x_src}:{x_site}" if x_src is not None else None)
    y = task.labels.get("y") or (f"{y_src}:{y_site}" if y_src is not None else None)
    transforms = [{"component_id": t.get("component_id"), "version": t.get("version"), "params": t.get("params")}
                  for t in task.transforms]
    return {
        "analysis": task.labels.get("analysis", task.name), "x": x, "y": y,
        "component_id": task.component_id, "component_version": task.component_version,
        "params": canonical_json(to_jsonable(task.params)), "transforms": canonical_json(to_jsonable(transforms)),
        "x_source": x_src, "x_site": x_site, "y_source": y_src, "y_site": y_site,
        "task_key": task.key, "recipe_hash": recipe_hash,
    }


def _task_rows(task: Task, outcome: Mapping[str, Any], rec: Mapping[str, Any] | None,
               recipe_hash: str) -> list[dict[str, Any]]:
    base = _base_row(task, recipe_hash)
    nan = float("nan")
    if outcome["status"] == "failed" or rec is None:
        row = {**base, "metric": None, "score": nan, "ceiling_lower": nan, "ceiling_upper": nan, "ci_low": nan,
               "ci_high": nan, "p_value": nan, "n": 0, "extra": "{}", "row": 0, "status": "failed",
               "error": outcome.get("error") or "the task produced no result", "duration_s": outcome.get("duration_s")}
        return [row]
    rows = []
    for i, r in enumerate(rec["rows"]):
        row = dict(base)
        for c in RESULT_COLUMNS:
            row[c] = r.get(c)
        for c in ("score", "ceiling_lower", "ceiling_upper", "ci_low", "ci_high", "p_value"):
            row[c] = nan if row[c] is None else float(row[c])
        row["n"] = int(row["n"] or 0)
        row["extra"] = canonical_json(r.get("extra") or {})
        row.update(row=i, status=outcome["status"], error=None, duration_s=rec.get("duration_s"))
        rows.append(row)
    return rows


def _arrow_schema():
    import pyarrow as pa

    types = {"string": pa.string(), "float64": pa.float64(), "int64": pa.int64()}
    return pa.schema([(name, types[t]) for name, t in RESULT_SCHEMA_COLUMNS])


def write_results(path: str | os.PathLike[str], rows: list[dict[str, Any]], provenance: Mapping[str, Any]) -> Path:
    """Write ``rows`` as Parquet with ``provenance`` in the key-value metadata, atomically.

    The table is written to a temporary file in the same folder and moved over
    ``path`` with :func:`os.replace`, so ``path`` is never half-written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema()
    table = pa.Table.from_pylist([{c: r.get(c) for c in schema.names} for r in rows], schema=schema)
    table = table.replace_schema_metadata({PROVENANCE_KEY: json.dumps(to_jsonable(provenance), sort_keys=True)})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return atomic_write_bytes(path, sink.getvalue().to_pybytes())


def read_results(path: str | os.PathLike[str]):
    """``results.parquet`` as a pandas DataFrame."""
    import pandas as pd

    return pd.read_parquet(path)


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance stored in a ``results.parquet``'s metadata."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[PROVENANCE_KEY.encode()])


# --------------------------------------------------------------------------- the run

def _initial_status(task: Task, ctx: RunContext, cache: ResultCache) -> str | None:
    """'cached' when the task's output already exists, else None."""
    if task.kind == "analysis":
        return "cached" if cache.get(task.key, store_dtype=ctx.store_dtype) is not None else None
    store = ctx.store
    if not store.is_complete(task.key):
        return None
    if task.kind == "source":
        try:
            if store.meta(task.key).get("dtype") != ctx.store_dtype:
                return None
        except Exception:
            return None
    return "cached"


def run_plan(plan: Plan, out_dir: str | os.PathLike[str], executor: str | Executor = "local",
             scheduler: Any = None, n_workers: int | None = None, progress: bool = True, system: Any = None,
             *, store_dtype: str | None = None, retries: int = 2) -> dict[str, Any]:
    """Execute ``plan`` into ``out_dir``, reusing and resuming earlier work there.

    Parameters
    ----------
    plan : neurorep.tasks.Plan
    out_dir : path-like
        Output folder (created). Holds the store, the cache, ``results.parquet`` and
        ``provenance.json``.
    executor : {"local", "process", "dask"} or Executor, default="local"
        ``local``: in-process, sequential. ``process``: a process pool. ``dask``: a Dask
        cluster (see :class:`~neurorep.runner.executors.DaskExecutor`).
    scheduler : str or Cluster, optional
        Dask scheduler address or cluster (``executor="dask"`` only); default: a
        LocalCluster started for this run.
    n_workers : int, optional
        Workers of the process pool or the LocalCluster.
    progress : bool, default=True
        Show a live progress bar (only when stderr is a terminal).
    system : neurorep.plugins.PluginSystem, optional
        For notification hooks, provenance and resolving stimuli components; default:
        the process-wide one.
    store_dtype : {"float16", "float32", "float64"} or None, keyword-only
        Storage dtype of the representation store; None keeps each source's dtype. The
        plan's ``options["store"]["dtype"]`` is used when this is None.
    retries : int, keyword-only, default=2
        Resubmissions of a task whose worker died (process and dask executors).

    Returns
    -------
    dict
        ``results_path``, ``provenance_path``, ``out_dir``, ``n_tasks``, ``n_ok``,
        ``n_cached``, ``n_failed``, ``n_rows``, ``failed`` (``[{"key", "name", "kind",
        "error"}]``), ``executor``, ``started_at``, ``finished_at``.
    """
    from ..plugins import get_plugin_system

    if scheduler is not None and executor != "dask" and not (isinstance(executor, Executor)
                                                              and executor.name == "dask"):
        raise ValueError(f"scheduler= is only used with executor='dask' (got executor={executor!r}); "
                         "pass executor='dask' or drop the scheduler.")
    if isinstance(executor, str) and executor not in EXECUTORS:
        raise ValueError(f"Unknown executor {executor!r}; expected one of {list(EXECUTORS)}.")
    system = system if system is not None else get_plugin_system()
    out = Path(out_dir).resolve()
    if store_dtype is None:
        store_dtype = (plan.options.get("store") or {}).get("dtype")
    seed = plan.options.get("seed")
    if seed is None:
        seeds = {t.seed for t in plan.tasks if t.seed is not None}
        seed = next(iter(seeds)) if len(seeds) == 1 else None
    ctx = RunContext(out_dir=str(out), store_dtype=store_dtype, stimuli=_stimuli_specs(plan, system), seed=seed)
    cache = ctx.cache

    with _run_lock(out):
        started_at, t0 = _now(), time.perf_counter()
        unique: dict[str, Task] = {}
        for t in plan.tasks:
            unique.setdefault(t.key, t)
        exec_name = executor if isinstance(executor, str) else executor.name
        run_info = {"recipe": plan.recipe_name, "recipe_hash": plan.recipe_hash, "out_dir": str(out),
                    "n_tasks": len(plan.tasks), "executor": exec_name}
        system.call_notification("on_run_start", run=run_info)

        outcomes: dict[str, dict[str, Any]] = {}
        for key, t in unique.items():
            if _initial_status(t, ctx, cache) == "cached":
                outcomes[key] = {"key": key, "kind": t.kind, "status": "cached", "error": None, "duration_s": 0.0}

        counts = {"ok": 0, "cached": 0, "failed": 0}

        def finish(key: str, outcome: dict[str, Any]) -> None:
            outcomes[key] = outcome
            task = unique[key]
            counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
            rows: list[dict[str, Any]] = []
            if task.kind == "analysis" and outcome["status"] != "failed":
                rec = cache.get(key, store_dtype=store_dtype)
                rows = rec["rows"] if rec else []
            system.call_notification("on_result", result={"status": outcome["status"], "rows": rows,
                                                          "error": outcome.get("error")}, task=_task_info(task))
            bar.update(counts, current=f"{task.kind} {task.name}")

        pending = [k for k in unique if k not in outcomes]
        exec_obj: Executor | None = None
        with _Progress(progress, len(unique), f"{plan.recipe_name}") as bar:
            for key in list(outcomes):
                finish(key, outcomes[key])
            try:
                if pending:
                    exec_obj = make_executor(executor, scheduler=scheduler, n_workers=n_workers, retries=retries)
                _execute(unique, pending, outcomes, finish, exec_obj, ctx, retries)
            finally:
                if exec_obj is not None and not isinstance(executor, Executor):
                    exec_obj.close()

        # results, in plan order
        rows: list[dict[str, Any]] = []
        n_ok = n_cached = n_failed = 0
        failed: list[dict[str, Any]] = []
        for t in plan.tasks:
            o = outcomes[t.key]
            rec = None
            if t.kind == "analysis" and o["status"] != "failed":
                rec = cache.get(t.key, store_dtype=store_dtype)
                if rec is None:
                    o = {**o, "status": "failed", "error": "ResultMissing: the task finished but its cache entry "
                                                           f"{cache.path(t.key)} is missing or unreadable."}
            n_ok += o["status"] == "ok"
            n_cached += o["status"] == "cached"
            if o["status"] == "failed":
                n_failed += 1
                failed.append({"key": t.key, "name": t.name, "kind": t.kind, "error": o.get("error")})
            if t.kind == "analysis":
                rows.extend(_task_rows(t, o, rec, plan.recipe_hash))

        finished_at = _now()
        results_path = out / "results.parquet"
        provenance_path = out / "provenance.json"
        summary = {"results_path": str(results_path), "provenance_path": str(provenance_path), "out_dir": str(out),
                   "n_tasks": len(plan.tasks), "n_ok": n_ok, "n_cached": n_cached, "n_failed": n_failed,
                   "n_rows": len(rows), "failed": failed, "executor": exec_name,
                   "started_at": started_at, "finished_at": finished_at}
        prov = provenance(plan, system, ctx, started_at=started_at, finished_at=finished_at,
                          duration_s=time.perf_counter() - t0,
                          executor=exec_obj.describe() if exec_obj is not None else {"name": exec_name},
                          summary={k: summary[k] for k in ("n_tasks", "n_ok", "n_cached", "n_failed", "n_rows")})
        write_results(results_path, rows, prov)
        atomic_write_text(provenance_path, json.dumps(to_jsonable(prov), indent=2, sort_keys=True))
        system.call_notification("on_run_end", run=run_info, summary=summary)
    return summary


def _execute(unique: dict[str, Task], pending: list[str], outcomes: dict[str, dict[str, Any]], finish,
             exec_obj: Executor | None, ctx: RunContext, retries: int) -> None:
    """Submit tasks as their dependencies finish; record outcomes through ``finish``."""
    if not pending:
        return
    assert exec_obj is not None
    waiting = list(pending)
    running: dict[Any, str] = {}
    attempts: dict[str, int] = {}

    def missing_dep(key: str) -> str | None:
        for d in unique[key].depends_on:
            if d not in unique and not (ctx.store.is_complete(d) or ctx.cache.get(d, store_dtype=ctx.store_dtype)):
                return d
        return None

    while waiting or running:
        progressed = False
        for key in list(waiting):
            task = unique[key]
            deps = [d for d in task.depends_on if d in unique]
            if any(d not in outcomes for d in deps):
                continue
            waiting.remove(key)
            progressed = True
            bad = [d for d in deps if outcomes[d]["status"] == "failed"]
            gone = missing_dep(key)
            if bad or gone:
                d = bad[0] if bad else gone
                if bad:
                    up = unique[d]
                    err = (f"UpstreamError: {up.kind} task {up.name!r} ({d}) failed: "
                           f"{outcomes[d].get('error')}")
                else:
                    err = f"UpstreamError: dependency {d} is neither in the plan nor in the store or cache."
                finish(key, {"key": key, "kind": task.kind, "status": "failed", "error": err, "duration_s": 0.0})
                continue
            running[exec_obj.submit(task, ctx)] = key
        if not running:
            if waiting and not progressed:
                raise RuntimeError(f"The plan's dependencies cannot be satisfied for tasks {waiting[:5]} "
                                   "(a cycle, or depends_on keys that come later in no valid order).")
            continue
        for h in exec_obj.wait(list(running)):
            if h not in running:  # resubmitted after a broken process pool
                continue
            key = running.pop(h)
            try:
                outcome = exec_obj.result(h)
            except BrokenProcessPool as exc:
                attempts[key] = attempts.get(key, 0) + 1
                if attempts[key] <= retries and isinstance(exec_obj, ProcessExecutor):
                    # a worker process died; every task in flight is lost with the pool
                    lost = [key] + [running.pop(o) for o in list(running)]
                    exec_obj.restart()
                    for k in lost:
                        running[exec_obj.submit(unique[k], ctx)] = k
                    continue
                outcome = {"key": key, "kind": unique[key].kind, "status": "failed",
                           "error": f"WorkerLost: {type(exc).__name__}: {exc}", "duration_s": 0.0}
            except Exception as exc:  # e.g. dask's KilledWorker after too many worker deaths
                outcome = {"key": key, "kind": unique[key].kind, "status": "failed",
                           "error": f"WorkerLost: {type(exc).__name__}: {exc}", "duration_s": 0.0}
            finish(key, outcome)


def provenance(plan: Plan, system: Any, ctx: RunContext, **extra: Any) -> dict[str, Any]:
    """The run's provenance record (also stored in the results' Parquet metadata)."""
    info = system.describe()
    used = {t.component_id for t in plan.tasks} | {tr.get("component_id") for t in plan.tasks for tr in t.transforms}
    used |= {s.get("component_id") for s in ctx.stimuli.values()}
    comps = [{"id": c["id"], "kind": c["kind"], "version": c["version"], "distribution": c.get("distribution"),
              "distribution_version": c.get("distribution_version"), "class": c.get("class")}
             for c in info.get("components", []) if c.get("id") in used]
    return {
        "neurorep": info.get("neurorep"),
        "hook_api": info.get("hook_api"),
        "recipe": {"name": plan.recipe_name, "text": plan.recipe_text, "recipe_hash": plan.recipe_hash,
                   "sha256": hashlib.sha256((plan.recipe_text or "").encode("utf-8")).hexdigest(),
                   "options": to_jsonable(plan.options)},
        "plugins": [{"name": p["name"], "distribution": p["distribution"], "version": p["version"],
                     "builtin": p["builtin"]} for p in info.get("plugins", [])],
        "plugin_errors": [{"plugin": e["plugin"], "distribution": e["distribution"], "stage": e["stage"],
                           "error": e["error"]} for e in info.get("errors", [])],
        "components": comps,
        "environment": environment(),
        "seeds": {"recipe": ctx.seed, "tasks": sorted({t.seed for t in plan.tasks if t.seed is not None})},
        "store_dtype": ctx.store_dtype,
        "tasks": [{"key": t.key, "kind": t.kind, "name": t.name, "component_id": t.component_id}
                  for t in plan.tasks],
        **extra,
    }


def run_recipe(path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None,
               executor: str | Executor = "local", scheduler: Any = None, n_workers: int | None = None,
               progress: bool = True, system: Any = None, *, store_dtype: str | None = None,
               retries: int = 2, report: bool = True) -> dict[str, Any]:
    """Validate and expand the recipe at ``path``, then :func:`run_plan` it and write its HTML report.

    Parameters
    ----------
    path : path-like
        The recipe (TOML).
    out_dir : path-like, optional
        Default ``runs/<recipe name>`` (relative to the working directory).
    executor, scheduler, n_workers, progress, system, store_dtype, retries
        As for :func:`run_plan`.
    report : bool, keyword-only, default=True
        Write ``OUT/report.html`` (:func:`neurorep.report.build_report`); its path is the
        summary's ``report_path``. A report that fails is reported on stderr and in the
        summary's ``report_error``; the results are kept.

    Raises
    ------
    neurorep.errors.RecipeError
        The recipe is invalid (every problem is listed).
    """
    from .. import recipes
    from ..plugins import get_plugin_system

    system = system if system is not None else get_plugin_system()
    plan = recipes.plan_file(path, registry=system.registry)
    if out_dir is None:
        out_dir = Path("runs") / plan.recipe_name
    summary = run_plan(plan, out_dir, executor=executor, scheduler=scheduler, n_workers=n_workers,
                       progress=progress, system=system, store_dtype=store_dtype, retries=retries)
    if report:
        try:
            from ..report import build_report

            summary["report_path"] = str(build_report(summary["out_dir"], system=system))
        except Exception as exc:  # the results are written already; a broken report must not lose them
            summary["report_error"] = f"{type(exc).__name__}: {exc}"
            print(f"neurorep: the report could not be written ({summary['report_error']}); the results are in "
                  f"{summary['results_path']}. Retry with: neurorep report {summary['out_dir']}", file=sys.stderr)
    return summary

