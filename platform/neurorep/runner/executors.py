"""Executors: where tasks run. The runner submits a task once its dependencies are finished.

Every executor calls :func:`neurorep.runner.worker.execute_task` with a small
:class:`~neurorep.tasks.Task` and a :class:`~neurorep.runner.worker.RunContext`; the
worker writes the task's outputs (representation store, result cache) itself and
returns a small status dict. The interface:

``submit(task, ctx) -> handle``, ``wait(handles) -> list of finished handles``,
``result(handle) -> status dict`` (raises when the worker itself was lost),
``close()``.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable
from typing import Any

from ..tasks import Task
from .worker import RunContext, execute_task

__all__ = ["Executor", "LocalExecutor", "ProcessExecutor", "DaskExecutor", "make_executor", "EXECUTORS"]

EXECUTORS = ("local", "process", "dask")


def _default_workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


class Executor:
    """Base class; see the module docstring for the interface."""

    name = "executor"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def submit(self, task: Task, ctx: RunContext) -> Any:  # pragma: no cover - interface
        raise TypeError(f"{type(self).__name__} does not implement submit()")

    def wait(self, handles: Iterable[Any]) -> list[Any]:  # pragma: no cover - interface
        raise TypeError(f"{type(self).__name__} does not implement wait()")

    def result(self, handle: Any) -> dict[str, Any]:  # pragma: no cover - interface
        raise TypeError(f"{type(self).__name__} does not implement result()")

    def close(self) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _LocalHandle:
    __slots__ = ("task", "ctx", "value", "done")

    def __init__(self, task: Task, ctx: RunContext) -> None:
        self.task, self.ctx, self.value, self.done = task, ctx, None, False


class LocalExecutor(Executor):
    """In-process and sequential: tasks run one at a time, in submission order, when waited on."""

    name = "local"

    def __init__(self) -> None:
        self._queue: deque[_LocalHandle] = deque()

    def submit(self, task: Task, ctx: RunContext) -> _LocalHandle:
        h = _LocalHandle(task, ctx)
        self._queue.append(h)
        return h

    def wait(self, handles: Iterable[Any]) -> list[Any]:
        handles = set(handles)
        finished = [h for h in handles if h.done]
        if finished:
            return finished
        while self._queue:
            h = self._queue.popleft()
            h.value = execute_task(h.task, h.ctx)
            h.done = True
            if h in handles:
                return [h]
        return []

    def result(self, handle: _LocalHandle) -> dict[str, Any]:
        return handle.value


def _mp_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` (POSIX) with the worker module preloaded, else ``spawn``; never plain ``fork``.

    The parent runs threads (zarr's event loop, the progress display), which ``fork`` can
    deadlock; the fork server is a clean single-threaded process whose children start
    with the worker's imports already done.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["neurorep.runner.worker"])
        return ctx
    return multiprocessing.get_context("spawn")


class ProcessExecutor(Executor):
    """A :class:`concurrent.futures.ProcessPoolExecutor` of ``n_workers`` processes (``forkserver`` or ``spawn``).

    As with any ``spawn``/``forkserver`` pool, a script calling the runner with this
    executor must guard its entry point with ``if __name__ == "__main__":``.

    A worker process that dies (killed, out of memory) breaks the pool; the runner then
    gets :class:`concurrent.futures.process.BrokenProcessPool` for the tasks in flight,
    and :meth:`restart` replaces the pool so they can be resubmitted.
    """

    name = "process"

    def __init__(self, n_workers: int | None = None) -> None:
        self.n_workers = n_workers or _default_workers()
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.n_workers, mp_context=_mp_context())

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "n_workers": self.n_workers}

    def restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def submit(self, task: Task, ctx: RunContext) -> cf.Future:
        return self._pool.submit(execute_task, task, ctx)

    def wait(self, handles: Iterable[Any]) -> list[Any]:
        done, _ = cf.wait(list(handles), return_when=cf.FIRST_COMPLETED)
        return list(done)

    def result(self, handle: cf.Future) -> dict[str, Any]:
        return handle.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """Run tasks on a Dask cluster (``dask.distributed``).

    Parameters
    ----------
    scheduler : str, Cluster, Client or None, default=None
        None starts a ``LocalCluster(n_workers, threads_per_worker=1, processes=True)``
        for the duration of the run. A scheduler address (``"tcp://host:8786"``), a
        cluster object or a ``Client`` connects to an existing cluster instead.
    n_workers : int or None
        Workers of the LocalCluster (default: the CPUs available, at most 8).
    retries : int, default=2
        Passed to ``Client.submit``. A task whose worker dies is moved to another
        worker by the scheduler itself (up to its ``allowed-failures``, then
        ``KilledWorker``); a source task resumes from its committed batches there.

    Notes
    -----
    Every worker must see the run's output folder (a shared file system on a cluster)
    and have the plugins providing the recipe's components installed: tasks carry
    ``module:QualName`` references that workers import.

    On a SLURM cluster, start the workers with dask-jobqueue and pass the scheduler's
    address::

        from dask_jobqueue import SLURMCluster
        cluster = SLURMCluster(cores=8, processes=8, memory="32GB", walltime="04:00:00",
                               job_extra_directives=["--gres=gpu:1"])
        cluster.scale(jobs=4)          # 4 SLURM jobs of 8 single-threaded workers
        print(cluster.scheduler_address)

    then ``neurorep run recipe.toml --executor dask --scheduler tcp://10.0.0.5:8786`` (or
    ``run_recipe(..., executor="dask", scheduler=cluster)`` from Python). Keep the
    cluster object alive while the run lasts; with ``processes`` equal to ``cores``
    each worker has one thread, like the LocalCluster this executor starts.
    """

    name = "dask"

    def __init__(self, scheduler: Any = None, n_workers: int | None = None, retries: int = 2) -> None:
        from distributed import Client, LocalCluster

        self.retries = retries
        self._cluster = None
        self._own_client = True
        if scheduler is None:
            self.n_workers = n_workers or _default_workers()
            # no dashboard; the scheduler's own HTTP endpoint on a free port, not 8787
            self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                         silence_logs=logging.ERROR)
            self.client = Client(self._cluster)
            self.address = self._cluster.scheduler_address
        elif isinstance(scheduler, Client):
            self.client, self._own_client = scheduler, False
            self.address = scheduler.scheduler.address
            self.n_workers = n_workers
        else:
            self.client = Client(scheduler)
            self.address = getattr(scheduler, "scheduler_address", scheduler)
            self.n_workers = n_workers

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "scheduler": str(self.address), "local_cluster": self._cluster is not None,
                "n_workers": self.n_workers, "retries": self.retries}

    def submit(self, task: Task, ctx: RunContext) -> Any:
        import uuid

        key = f"neurorep-{task.kind}-{task.key}-{uuid.uuid4().hex[:8]}"
        return self.client.submit(execute_task, task, ctx, key=key, pure=False, retries=self.retries)

    def wait(self, handles: Iterable[Any]) -> list[Any]:
        from distributed import wait

        done, _ = wait(list(handles), return_when="FIRST_COMPLETED")
        return list(done)

    def result(self, handle: Any) -> dict[str, Any]:
        return handle.result()

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(executor: str | Executor, *, scheduler: Any = None, n_workers: int | None = None,
                  retries: int = 2) -> Executor:
    """Build an executor by name (``"local"``, ``"process"``, ``"dask"``), or return an :class:`Executor` as is."""
    if isinstance(executor, Executor):
        return executor
    if executor == "local":
        return LocalExecutor()
    if executor == "process":
        return ProcessExecutor(n_workers)
    if executor == "dask":
        return DaskExecutor(scheduler, n_workers, retries)
    raise ValueError(f"Unknown executor {executor!r}; expected one of {list(EXECUTORS)}.")
