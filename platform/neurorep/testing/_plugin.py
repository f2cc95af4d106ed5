"""Plugin-level checks (by distribution name) and :func:`check_distribution`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from typing import Any

from ..components import COMPONENT_ID_RE, KINDS
from ._api import ExpectedFailed, check_component, run_check
from ._common import CheckOutcome, fail, normalize_distribution

__all__ = [
    "check_entry_point_loads",
    "check_hookimpls_match_specs",
    "check_component_ids",
    "check_distribution_metadata",
    "check_distribution",
    "ENTRY_POINT_BUDGET_S",
]

#: Seconds a distribution's plugins may take to import and register in a fresh interpreter.
ENTRY_POINT_BUDGET_S = 20.0

HOST = "neurorep"


def _subject(dist_name: str) -> str:
    return f"Distribution {dist_name!r}"


def _system() -> Any:
    from ..plugins import PluginSystem

    return PluginSystem()


def _ours(dist: str, dist_name: str) -> bool:
    return normalize_distribution(dist) == normalize_distribution(dist_name)


def _entry_points(dist_name: str) -> list[metadata.EntryPoint]:
    from ..plugins import ENTRY_POINT_GROUP

    return [ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
            if ep.dist is not None and _ours(ep.dist.name, dist_name)]


def _installed(dist_name: str) -> bool:
    try:
        metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _is_declaration_error(error: str) -> bool:
    return error.startswith(("ComponentDeclarationError", "DuplicateComponentError")) or "registered twice" in error


def _probe_env(allow: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1", CUDA_VISIBLE_DEVICES="",
               NEUROREP_LOAD_PLUGINS=",".join(allow))
    env.pop("NEUROREP_BLOCK_PLUGINS", None)
    # the probe must see the distributions this interpreter sees, including sys.path entries added at run time
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths + inherited))
    return env


def check_entry_point_loads(dist_name: str) -> None:
    """The distribution's ``neurorep`` entry points import and register in a fresh interpreter: cleanly, within
    :data:`ENTRY_POINT_BUDGET_S`, without network access and without initialising CUDA."""
    check = "check_entry_point_loads"
    who = _subject(dist_name)
    host = normalize_distribution(dist_name) == HOST
    allow: list[str] = []
    if not host:
        eps = _entry_points(dist_name)
        if not eps:
            state = "installed" if _installed(dist_name) else "not installed in this environment"
            fail(who, check, "at least one entry point in the 'neurorep' group", f"none (the distribution is {state})",
                 "declare [project.entry-points.neurorep] <name> = \"<package>.plugin\" in pyproject.toml and "
                 "reinstall (pip install -e .).")
        allow = sorted({ep.name for ep in eps} | {ep.dist.name for ep in eps if ep.dist is not None})
    cmd = [sys.executable, "-m", "neurorep.testing._probe", dist_name]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_probe_env(allow),
                              timeout=3 * ENTRY_POINT_BUDGET_S)
    except subprocess.TimeoutExpired:
        fail(who, check, f"plugins that load within {ENTRY_POINT_BUDGET_S:g} s", "loading had not finished after "
             f"{3 * ENTRY_POINT_BUDGET_S:g} s", "import heavy libraries (torch, transformers) inside the methods "
             "that need them, not at module level.")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        fail(who, check, "a fresh interpreter to load the plugins", f"exit code {proc.returncode}: "
             f"{(proc.stderr or proc.stdout)[-800:]}")
    report = json.loads(lines[-1])
    imports = [e for e in report["errors"] if e["stage"] == "import"]
    if imports:
        e = imports[0]
        tail = e.get("traceback", "").strip().splitlines()[-3:]
        fail(who, check, "its entry points to import cleanly", f"plugin {e['plugin']!r} failed: {e['error']}"
             + (f" ({' | '.join(tail)})" if tail else ""), "run python -c 'import <module>' to see the traceback.")
    if report["network"]:
        fail(who, check, "no network access while importing", f"{report['network'][:3]}",
             "download files lazily (when a component runs), from the data mirror, never at import.")
    if report["cuda_initialized"]:
        fail(who, check, "no CUDA initialisation while importing", "torch.cuda was initialised",
             "create tensors and move models to a device inside the methods that need them.")
    if report["elapsed_s"] > ENTRY_POINT_BUDGET_S:
        fail(who, check, f"plugins that load within {ENTRY_POINT_BUDGET_S:g} s", f"{report['elapsed_s']:.1f} s",
             "import heavy libraries inside the methods that need them, not at module level.")
    if not host and not report["plugins"] and not report["errors"]:
        fail(who, check, "its plugins to be loaded by neurorep.plugins.PluginSystem", "none was loaded",
             "check NEUROREP_BLOCK_PLUGINS and that the entry points name importable modules.")


def check_hookimpls_match_specs(dist_name: str) -> None:
    """Every hook the distribution implements exists in neurorep's contract with matching arguments, and its
    registration hooks run without raising."""
    check = "check_hookimpls_match_specs"
    errs = [e for e in _system().errors if _ours(e.distribution, dist_name)
            and (e.stage == "hooks" or (e.stage == "register" and not _is_declaration_error(e.error)))]
    if errs:
        fail(_subject(dist_name), check, "hook implementations that match neurorep.hookspecs and run cleanly",
             "; ".join(f"plugin {e.plugin!r} ({e.stage}): {e.error}" for e in errs),
             "see 'neurorep plugins' for the full error, and neurorep/hookspecs.py for hook names and arguments.")


def check_component_ids(dist_name: str) -> None:
    """Every component the distribution registers is accepted (valid declaration, ``<family>.<variant>`` id,
    unique across installed plugins), and each plugin with a ``register_*`` hook registers at least one."""
    check = "check_component_ids"
    system = _system()
    who = _subject(dist_name)
    errs = [e for e in system.errors if _ours(e.distribution, dist_name)
            and e.stage == "register" and _is_declaration_error(e.error)]
    if errs:
        fail(who, check, "every registered component accepted",
             "; ".join(f"plugin {e.plugin!r}: {e.error}" for e in errs),
             "fix the declaration named above; ids must be unique across all installed plugins.")
    bad = [c.id for c in system.registry if _ours(c.distribution, dist_name) and not COMPONENT_ID_RE.match(c.id)]
    if bad:  # the registry validates ids, so this guards the contract itself
        fail(who, check, "ids of the form '<family>.<variant>'", f"{bad}")
    register_hooks = set(KINDS.values())
    empty = [p.name for p in system.plugins.values()
             if _ours(p.distribution, dist_name) and register_hooks & set(p.hooks) and not p.components]
    if empty:
        fail(who, check, "each plugin with a register_* hook to register at least one component",
             f"plugin(s) {empty} registered none", "call register(YourComponentClass) inside the hook.")


_NEUROREP_REQ = re.compile(r"^\s*neurorep(?![A-Za-z0-9._-])\s*(\[[^\]]*\])?\s*\(?([^;)]*)", re.IGNORECASE)


def check_distribution_metadata(dist_name: str) -> None:
    """The distribution has a version and depends on ``neurorep`` with a bounded range (e.g. ``>=0.1,<2``)."""
    check = "check_distribution_metadata"
    who = _subject(dist_name)
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        fail(who, check, "an installed distribution", "none of that name", "pip install -e <plugin folder>.")
    if not dist.version:
        fail(who, check, "a version", "none", "set [project] version in pyproject.toml.")
    reqs = [m for m in (_NEUROREP_REQ.match(r) for r in (dist.requires or [])) if m]
    if not reqs:
        fail(who, check, "a dependency on neurorep with a version range", f"requirements {dist.requires or []}",
             "add \"neurorep>=0.1,<2\" to [project] dependencies.")
    spec = reqs[0].group(2).strip()
    if not re.search(r"<|~=|==", spec):
        fail(who, check, "an upper bound on neurorep (the hook contract's next major version may break plugins)",
             f"neurorep{spec}", "pin a range such as neurorep>=0.1,<2.")


def _distribution_checks(dist_name: str) -> list[Callable[[str], None]]:
    checks: list[Callable[[str], None]] = [check_entry_point_loads, check_hookimpls_match_specs, check_component_ids]
    if normalize_distribution(dist_name) != HOST:
        checks.append(check_distribution_metadata)
    return checks


def check_distribution(dist_name: str, expected_failed_checks: ExpectedFailed = None) -> list[CheckOutcome]:
    """Run the plugin-level checks and every component check on an installed distribution.

    Parameters
    ----------
    dist_name : str
        The distribution name (``-``, ``_``, ``.`` and case are normalised): ``neurorep-trsa``, or
        ``neurorep`` for the host's built-in components.
    expected_failed_checks : dict of str to str, or callable, optional
        As in :func:`neurorep.testing.check_component`; classes may also declare
        ``_conformance_expected_failed_checks``.

    Returns
    -------
    list of CheckOutcome
        Plugin-level outcomes carry the distribution name as ``component``. An unknown
        distribution gives one failed ``check_distribution_installed`` outcome.
    """
    system = _system()
    host = normalize_distribution(dist_name) == HOST
    comps = [c for c in system.registry if _ours(c.distribution, dist_name)]
    known = (host or comps or _installed(dist_name)
             or any(_ours(p.distribution, dist_name) for p in system.plugins.values())
             or any(_ours(e.distribution, dist_name) for e in system.errors))
    if not known:
        found = sorted({p.distribution for p in system.plugins.values() if not p.builtin}
                       | {e.distribution for e in system.errors})
        return [CheckOutcome(dist_name, "check_distribution_installed", False, False,
                             f"{_subject(dist_name)} is not installed in this environment ({sys.executable}); "
                             f"installed plugin distributions: {found or 'none'}. Install it with "
                             f"'pip install -e <folder of {dist_name}>' and run the check again.")]
    outcomes = [run_check(dist_name, check, label=dist_name) for check in _distribution_checks(dist_name)]
    for info in comps:
        outcomes.extend(check_component(info.cls, expected_failed_checks))
    return outcomes
