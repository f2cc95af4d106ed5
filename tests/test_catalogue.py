"""``catalogue.json`` (which distribution provides an id, for "unknown component" errors) matches the plugins
that ship with the project: every component of every distribution under plugins/ and datasets/ is listed."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

from neurorep.plugins import get_registry

ROOT = Path(__file__).resolve().parents[1]


def _project_distributions() -> set[str]:
    tomls = [ROOT / "datasets" / "pyproject.toml", *sorted((ROOT / "plugins").glob("neurorep-*/pyproject.toml"))]
    return {tomllib.loads(p.read_text())["project"]["name"] for p in tomls}


def shipped_components() -> dict[str, list[str]]:
    """``{distribution: sorted ids}`` of the installed components of the project's own distributions."""
    dists = _project_distributions()
    out: dict[str, list[str]] = {}
    for info in get_registry(reload=True):
        if info.distribution in dists:
            out.setdefault(info.distribution, []).append(info.cls.id)
    return {d: sorted(ids) for d, ids in sorted(out.items())}


def test_catalogue_lists_every_shipped_component():
    catalogue = json.loads(resources.files("neurorep").joinpath("catalogue.json").read_text())
    shipped = shipped_components()
    assert shipped, "no project plugin is installed: run `make setup`"
    assert catalogue == shipped, (
        "platform/neurorep/catalogue.json is out of date; regenerate it with "
        "`.venv/bin/python tests/test_catalogue.py > platform/neurorep/catalogue.json`")


if __name__ == "__main__":
    print(json.dumps(shipped_components(), indent=2))
