"""The external plugin pip-installed from plugins/ (neurorep-trsa) appears, and breaking its import
leaves ``neurorep plugins`` working and reporting the error."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import pytest

from _distmaker import plugins_json, run_neurorep

REPO = Path(__file__).resolve().parents[1]


def _installed_from_plugins_dir() -> Path:
    try:
        dist = metadata.distribution("neurorep-trsa")
    except metadata.PackageNotFoundError:
        pytest.fail("neurorep-trsa is not installed; 'make test' installs every plugin under plugins/")
    import neurorep_trsa

    src = Path(neurorep_trsa.__file__).resolve().parent
    assert (REPO / "plugins" / "neurorep-trsa") in src.parents, f"{src} is not inside plugins/neurorep-trsa"
    assert dist.version
    return src


def test_external_plugin_listed_with_builtins():
    _installed_from_plugins_dir()
    info = plugins_json()
    comps = {c["id"]: c for c in info["components"]}
    assert comps["rsa.topological"]["distribution"] == "neurorep-trsa"
    assert comps["transform.geo-topological"]["kind"] == "transform"
    assert comps["cka.linear"]["distribution"] == "neurorep"
    assert "trsa" in {p["name"] for p in info["plugins"]}
    assert not [e for e in info["errors"] if e["distribution"] == "neurorep-trsa"]


def test_broken_import_is_reported_and_host_survives(tmp_path):
    src = _installed_from_plugins_dir()
    shadow = tmp_path / "shadow"
    shutil.copytree(src, shadow / "neurorep_trsa")
    plugin = shadow / "neurorep_trsa" / "plugin.py"
    plugin.write_text("import neurorep_trsa.analyzer\nraise ImportError('deliberately broken for the test')\n")
    info = plugins_json(pythonpath=[shadow])
    errs = [e for e in info["errors"] if e["distribution"] == "neurorep-trsa"]
    assert len(errs) == 1 and errs[0]["stage"] == "import"
    assert "deliberately broken" in errs[0]["error"] and errs[0]["version"]
    ids = {c["id"] for c in info["components"]}
    assert "rsa.topological" not in ids and {"cka.linear", "rsa.correlation"} <= ids
    table = run_neurorep(["plugins"], pythonpath=[shadow])
    assert table.returncode == 0 and "deliberately broken" in table.stdout
    # a recipe that names the broken plugin's component gets an actionable error
    rec = tmp_path / "r.toml"
    rec.write_text('[recipe]\nname = "t"\n[sources.a]\ncomponent = "source.synthetic"\n'
                   '[[analyses]]\nname = "x"\ncomponent = "rsa.topological"\ninputs = ["a", "a"]\n')
    val = run_neurorep(["validate", str(rec)], pythonpath=[shadow])
    assert val.returncode == 1 and "neurorep-trsa" in val.stdout
