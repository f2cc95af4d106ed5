"""Where converted model weights are cached, and loading with every hub access switched off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["cache_root", "models_cache_dir", "hub_offline"]


def cache_root() -> Path:
    """``$NEUROREP_CACHE``, else ``$XDG_CACHE_HOME/neurorep``, else ``~/.cache/neurorep``."""
    env = os.environ.get("NEUROREP_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "neurorep"


def models_cache_dir() -> Path:
    """``<cache_root>/models``: one folder per converted model."""
    return cache_root() / "models"


@contextmanager
def hub_offline() -> Iterator[None]:
    """Inside the block ``HF_HUB_OFFLINE=1``: transformers and huggingface_hub fetch nothing.

    Sets the environment variable and, when huggingface_hub is already imported (it reads the
    variable once, at import), its module-level flag; both are restored afterwards.
    """
    old_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants = None
    old_flag = None
    try:
        import huggingface_hub.constants as constants  # type: ignore[no-redef]

        old_flag = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
    except ImportError:
        constants = None
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = old_flag
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env
