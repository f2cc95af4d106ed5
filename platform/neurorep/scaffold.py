"""Create a new plugin: ``neurorep new-plugin NAME --dir DEST`` (or :func:`new_plugin`).

The plugin is a pip-installable distribution ``neurorep-<name>`` with the module
``neurorep_<name>`` (hyphens become underscores), found by neurorep through the ``neurorep``
entry-point group. It ships one real example analyzer (cosine similarity of squared-Euclidean
RDMs, with its citation), a conformance test built on
:func:`neurorep.testing.parametrize_with_checks`, a ``test_plugin_is_installed`` smoke test and a
test of values worked out by hand.

The files are rendered from ``neurorep/scaffold_template/`` (``*.tmpl`` files, placeholders in
:class:`string.Template` syntax; a ``__module__`` path segment becomes the module name).
"""

from __future__ import annotations

import os
import re
import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from .errors import InvalidInputError

__all__ = ["NAME_RE", "new_plugin", "template_names"]

#: A plugin name: lowercase words of letters and digits joined by single hyphens.
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

_TEMPLATE_DIR = "scaffold_template"


def _walk(node: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Traversable]]:
    out = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            out.extend(_walk(child, prefix + (child.name,)))
        elif child.name.endswith(".tmpl"):
            out.append((prefix + (child.name[: -len(".tmpl")],), child))
    return out


def template_names() -> list[str]:
    """The relative paths the scaffold writes (with ``__module__`` for the package folder)."""
    return ["/".join(parts) for parts, _ in _walk(resources.files("neurorep").joinpath(_TEMPLATE_DIR))]


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInputError(
            f"new_plugin: the plugin name must be lowercase letters and digits, words joined by single hyphens, "
            f"starting with a letter (e.g. 'shape-metrics'); {name!r} was given.")
    if name == "neurorep" or name.startswith("neurorep-"):
        raise InvalidInputError(
            f"new_plugin: give the name without the 'neurorep-' prefix (the distribution is called "
            f"'neurorep-<name>'); {name!r} was given, use {name.removeprefix('neurorep-')!r}.")


def new_plugin(name: str, dest: str | os.PathLike[str] = ".") -> Path:
    """Create the plugin ``neurorep-<name>`` in ``dest`` and return its folder.

    Parameters
    ----------
    name : str
        Lowercase, words joined by hyphens (``"shape-metrics"``). The distribution is
        ``neurorep-<name>``, the module ``neurorep_<name>`` (hyphens become underscores), the entry
        point ``<name>`` and the example analyzer's id ``<name>.rdm-cosine``.
    dest : path-like, default="."
        The folder that receives ``neurorep-<name>/`` (created when missing).

    Returns
    -------
    Path
        ``dest/neurorep-<name>``.

    Raises
    ------
    InvalidInputError
        For a name that is not lowercase-with-hyphens (a ``ValueError``).
    FileExistsError
        When ``dest/neurorep-<name>`` exists and is not an empty folder.
    """
    _check_name(name)
    module = "neurorep_" + name.replace("-", "_")
    dist = f"neurorep-{name}"
    values = {"name": name, "dist": dist, "module": module, "component_id": f"{name}.rdm-cosine"}
    dest = Path(dest)
    target = dest / dist
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(
            f"new_plugin: {str(target)!r} already exists and is not an empty folder; choose another --dir "
            "or name, or remove it first.")
    dest.mkdir(parents=True, exist_ok=True)
    staging = dest / f".{dist}.partial-{os.getpid()}"  # written in full, then renamed into place
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for parts, src in _walk(resources.files("neurorep").joinpath(_TEMPLATE_DIR)):
            rel = Path(*[module if p == "__module__" else p for p in parts])
            text = Template(src.read_text(encoding="utf-8")).substitute(values)
            out = staging / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        if target.exists():
            target.rmdir()  # an empty folder, checked above
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
