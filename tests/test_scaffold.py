"""neurorep new-plugin: the scaffolded plugin installs, is found, passes ``neurorep check`` and its own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest

from _distmaker import run_neurorep
from neurorep.errors import InvalidInputError
from neurorep.scaffold import new_plugin, template_names


def test_template_files():
    assert set(template_names()) == {
        "pyproject.toml", "README.md", "src/__module__/__init__.py", "src/__module__/plugin.py",
        "src/__module__/analyzer.py", "tests/test_conformance.py", "tests/test_plugin.py"}


def test_new_plugin_layout(tmp_path):
    root = new_plugin("shape-metrics", tmp_path)
    assert root == tmp_path / "neurorep-shape-metrics"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "src/neurorep_shape_metrics/__init__.py",
                     "src/neurorep_shape_metrics/analyzer.py", "src/neurorep_shape_metrics/plugin.py",
                     "tests/test_conformance.py", "tests/test_plugin.py"]
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "neurorep-shape-metrics"
    assert "neurorep>=0.1,<2" in meta["project"]["dependencies"]
    assert meta["project"]["entry-points"]["neurorep"] == {"shape-metrics": "neurorep_shape_metrics.plugin"}
    analyzer = (root / "src/neurorep_shape_metrics/analyzer.py").read_text()
    assert 'id = "shape-metrics.rdm-cosine"' in analyzer and "arXiv:2007.02789" in analyzer
    for py in root.rglob("*.py"):  # every rendered file is valid Python, no placeholder left
        compile(py.read_text(), str(py), "exec")
        assert "$" not in py.read_text()
    assert "parametrize_with_checks" in (root / "tests/test_conformance.py").read_text()
    assert "def test_plugin_is_installed" in (root / "tests/test_plugin.py").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


@pytest.mark.parametrize("name", ["Shape", "shape_metrics", "-shape", "shape--x", "shape-", "1shape", "",
                                  "neurorep-shape", "sh ape"])
def test_new_plugin_rejects_bad_names(tmp_path, name):
    with pytest.raises(InvalidInputError, match="new_plugin"):
        new_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_new_plugin_refuses_non_empty_target(tmp_path):
    (tmp_path / "neurorep-taken").mkdir()
    (tmp_path / "neurorep-taken" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="neurorep-taken"):
        new_plugin("taken", tmp_path)
    assert (tmp_path / "neurorep-taken" / "keep.txt").read_text() == "mine"
    (tmp_path / "neurorep-empty").mkdir()  # an empty folder is fine
    assert (new_plugin("empty", tmp_path) / "pyproject.toml").is_file()


def test_cli_new_plugin(tmp_path):
    proc = run_neurorep(["new-plugin", "cli-made", "--dir", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    assert "neurorep check neurorep-cli-made" in proc.stdout
    assert (tmp_path / "neurorep-cli-made" / "src" / "neurorep_cli_made" / "plugin.py").is_file()
    again = run_neurorep(["new-plugin", "cli-made", "--dir", str(tmp_path)])
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
    bad = run_neurorep(["new-plugin", "Bad_Name", "--dir", str(tmp_path)])
    assert bad.returncode == 1 and "lowercase" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_scaffolded_plugin_installs_and_passes(tmp_path):
    root = new_plugin("scaffold-demo", tmp_path / "src")
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                          "--no-index", "--disable-pip-version-check", "-q", "--target", str(site), str(root)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site / "neurorep_scaffold_demo" / "plugin.py").is_file()

    info = json.loads(run_neurorep(["plugins", "--json"], pythonpath=[site]).stdout)
    plugins = {p["name"]: p for p in info["plugins"]}
    assert plugins["scaffold-demo"]["distribution"] == "neurorep-scaffold-demo"
    assert plugins["scaffold-demo"]["components"] == ["scaffold-demo.rdm-cosine"]
    assert not [e for e in info["errors"] if e["distribution"] == "neurorep-scaffold-demo"]

    check = run_neurorep(["check", "neurorep-scaffold-demo"], pythonpath=[site])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "PASS scaffold-demo.rdm-cosine check_identity_max" in check.stdout
    assert "PASS neurorep-scaffold-demo check_entry_point_loads" in check.stdout
    assert " 0 failed" in check.stdout

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.pop("NEUROREP_LOAD_PLUGINS", None)
    env.pop("NEUROREP_BLOCK_PLUGINS", None)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
                           cwd=root, capture_output=True, text=True, env=env, timeout=300)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout
