"""Execute recipes: the task runner, its executors, the result cache and the worker entry point.

``run_recipe(path)`` validates and expands a recipe (:mod:`neurorep.recipes`) and runs the
plan; ``run_plan(plan, out_dir)`` runs an already expanded :class:`~neurorep.tasks.Plan`.
See :mod:`neurorep.runner.run` for the output folder's layout.
"""

from __future__ import annotations

from .cache import ResultCache
from .executors import EXECUTORS, DaskExecutor, Executor, LocalExecutor, ProcessExecutor, make_executor
from .run import (
    PROVENANCE_KEY,
    RESULT_SCHEMA_COLUMNS,
    VOLATILE_COLUMNS,
    read_provenance,
    read_results,
    run_plan,
    run_recipe,
    write_results,
)
from .worker import RunContext, execute_task, import_ref

__all__ = [
    "EXECUTORS", "PROVENANCE_KEY", "RESULT_SCHEMA_COLUMNS", "VOLATILE_COLUMNS", "DaskExecutor", "Executor",
    "LocalExecutor", "ProcessExecutor", "ResultCache", "RunContext", "execute_task", "import_ref", "make_executor",
    "read_provenance", "read_results", "run_plan", "run_recipe", "write_results",
]
