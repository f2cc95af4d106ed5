"""Make throwaway installed distributions (a module + a .dist-info with entry points) for plugin tests.

Nothing is pip-installed: the distribution lives in a temp folder put on ``PYTHONPATH`` of a
subprocess, which is exactly how ``importlib.metadata`` finds installed plugins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

NEUROREP = [sys.executable, "-m", "neurorep.cli"]


def make_dist(site: Path, dist: str, module: str, source: str, *, ep_name: str | None = None,
              version: str = "1.0.0") -> Path:
    """Write ``module.py`` and ``<dist>-<version>.dist-info`` registering it in the ``neurorep`` group."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[neurorep]\n{ep_name or module} = {module}\n")
    (info / "RECORD").write_text("")
    return site


def run_neurorep(args: list[str], *, pythonpath: list[Path] = (), env: dict | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("NEUROREP_LOAD_PLUGINS", None)
    e.pop("NEUROREP_BLOCK_PLUGINS", None)
    if pythonpath:
        e["PYTHONPATH"] = os.pathsep.join([str(p) for p in pythonpath] + [e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    e.update(env or {})
    return subprocess.run(NEUROREP + args, capture_output=True, text=True, env=e, timeout=timeout)


def plugins_json(**kw) -> dict:
    proc = run_neurorep(["plugins", "--json"], **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
