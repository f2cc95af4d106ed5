"""The result cache: one JSON file per finished analysis task, addressed by task key.

A task key already hashes the component id and version, the validated parameters,
the transforms and the keys of the input tasks, so a file found under a task's key
holds exactly that task's result. Files are written atomically (temporary file, then
``os.replace``): a run killed mid-write leaves either no entry or a whole one.

Failures are kept apart (``failed/<key>.json``, with the error's type, message and
traceback): they are reported in the run that produced them and retried by the next.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..store import atomic_write_json

__all__ = ["ResultCache"]


class ResultCache:
    """Analysis results on disk under ``root`` (usually ``<out_dir>/cache``).

    Parameters
    ----------
    root : path-like
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResultCache({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Where the successful result of task ``key`` lives."""
        return self.root / key[:2] / f"{key}.json"

    def failed_path(self, key: str) -> Path:
        """Where the last failure of task ``key`` is recorded."""
        return self.root / "failed" / f"{key}.json"

    @staticmethod
    def _load(path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:  # unreadable: treat as absent, the task is recomputed
            return None

    def get(self, key: str, *, store_dtype: str | None = None) -> dict[str, Any] | None:
        """The successful record of ``key`` (``{"rows": [...], ...}``), or None.

        A record computed from a representation store with another storage dtype
        (``store_dtype``) does not count.
        """
        rec = self._load(self.path(key))
        if rec is None or rec.get("status") != "ok" or rec.get("task_key") != key:
            return None
        if rec.get("store_dtype") != store_dtype:
            return None
        return rec

    def get_failed(self, key: str) -> dict[str, Any] | None:
        """The last failure record of ``key`` (``{"error": {"type", "message", "traceback"}}``), or None."""
        return self._load(self.failed_path(key))

    def put_ok(self, key: str, rows: list[dict[str, Any]], **info: Any) -> Path:
        """Record the rows of a successful task (and forget an earlier failure)."""
        rec = {"task_key": key, "status": "ok", "rows": rows, "finished_at": time.time(), **info}
        path = atomic_write_json(self.path(key), rec)
        try:
            os.unlink(self.failed_path(key))
        except FileNotFoundError:
            pass
        return path

    def put_failed(self, key: str, error: dict[str, Any], **info: Any) -> Path:
        """Record a failure: ``error`` holds ``type``, ``message`` and ``traceback``."""
        rec = {"task_key": key, "status": "failed", "error": error, "finished_at": time.time(), **info}
        return atomic_write_json(self.failed_path(key), rec)
