"""Plugin discovery, isolation of broken plugins, allow/block lists, duplicates, hook validation."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from _distmaker import make_dist, plugins_json, run_neurorep
from neurorep import hookimpl
from neurorep.components import Analyzer, Tags
from neurorep.plugins import DEFAULT_PLUGINS, PluginSystem
from neurorep.types import Result

GOOD = '''
import neurorep
from neurorep.types import Result

class MeanDiff(neurorep.Analyzer):
    """Absolute difference of the grand means (a tiny real analyzer)."""
    id = "toy.mean-diff"
    version = "1.0.0"
    citation = "test"
    tags = neurorep.Tags(symmetric=True, larger_is_more_similar=False)

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def analyze(self, x, y=None):
        return [Result(score=self.scale * abs(float(x.data.mean()) - float(y.data.mean())), n=x.n_stimuli)]

@neurorep.hookimpl
def register_analyzers(register):
    register(MeanDiff)
'''


def test_builtins_register_through_hooks():
    s = PluginSystem(load_entry_points=False)
    assert set(DEFAULT_PLUGINS) <= set(s.plugins)
    for name in DEFAULT_PLUGINS:
        assert s.plugins[name].builtin and s.plugins[name].hooks
    assert {"cka.linear", "rsa.correlation", "source.synthetic", "source.npz"} <= set(s.registry.ids())
    assert s.registry.get("cka.linear").distribution == "neurorep"
    assert not s.errors


def test_external_plugin_discovered_and_listed(tmp_path):
    site = make_dist(tmp_path / "site", "neurorep-toy", "neurorep_toy", GOOD, ep_name="toy")
    info = plugins_json(pythonpath=[site])
    comp = {c["id"]: c for c in info["components"]}
    assert comp["toy.mean-diff"]["distribution"] == "neurorep-toy"
    assert comp["toy.mean-diff"]["distribution_version"] == "1.0.0"
    assert comp["cka.linear"]["distribution"] == "neurorep"
    plug = {p["name"]: p for p in info["plugins"]}
    assert plug["toy"]["hooks"] == ["register_analyzers"] and plug["toy"]["components"] == ["toy.mean-diff"]
    assert info["errors"] == []


@pytest.mark.parametrize("body, stage, needle", [
    ("raise ImportError('libfoo.so: cannot open shared object file')", "import", "libfoo.so"),
    ("import sys; sys.exit(3)", "import", "SystemExit"),
    ("import neurorep\n@neurorep.hookimpl\ndef register_analyzer(register):\n    pass\n", "hooks",
     "register_analyzer"),
    ("import neurorep\n@neurorep.hookimpl\ndef register_analyzers(register):\n    raise RuntimeError('boom in register')\n",
     "register", "boom in register"),
    ("import neurorep\nclass Bad(neurorep.Analyzer):\n    id='Bad_ID'\n    def analyze(self, x, y=None): return []\n"
     "@neurorep.hookimpl\ndef register_analyzers(register):\n    register(Bad)\n", "register", "Bad_ID"),
])
def test_broken_plugin_is_reported_and_skipped(tmp_path, body, stage, needle):
    site = make_dist(tmp_path / "site", "neurorep-broken", "neurorep_broken", body, ep_name="broken")
    make_dist(site, "neurorep-toy", "neurorep_toy", GOOD, ep_name="toy")
    info = plugins_json(pythonpath=[site])
    errs = [e for e in info["errors"] if e["plugin"] == "broken"]
    assert len(errs) == 1, info["errors"]
    assert errs[0]["distribution"] == "neurorep-broken" and errs[0]["version"] == "1.0.0"
    assert errs[0]["stage"] == stage and needle in errs[0]["error"]
    ids = {c["id"] for c in info["components"]}
    assert {"toy.mean-diff", "cka.linear"} <= ids  # the host and the good plugin still work
    assert "broken" not in {p["name"] for p in info["plugins"]}
    # the human-readable listing works too and shows the error
    proc = run_neurorep(["plugins"], pythonpath=[site])
    assert proc.returncode == 0 and "broken" in proc.stdout


def test_registration_is_all_or_nothing(tmp_path):
    body = GOOD.replace("register(MeanDiff)", "register(MeanDiff)\n    raise ValueError('half way')")
    site = make_dist(tmp_path / "site", "neurorep-half", "neurorep_half", body, ep_name="half")
    info = plugins_json(pythonpath=[site])
    assert "toy.mean-diff" not in {c["id"] for c in info["components"]}
    assert any("half way" in e["error"] for e in info["errors"])


def test_duplicate_ids_name_both_distributions(tmp_path):
    site = make_dist(tmp_path / "site", "neurorep-toy", "neurorep_toy", GOOD, ep_name="toy")
    make_dist(site, "neurorep-copycat", "neurorep_copycat", GOOD, ep_name="copycat")
    info = plugins_json(pythonpath=[site])
    dup = [e for e in info["errors"] if "registered twice" in e["error"]]
    assert len(dup) == 1
    assert "neurorep-toy" in dup[0]["error"] and "neurorep-copycat" in dup[0]["error"]
    assert sum(c["id"] == "toy.mean-diff" for c in info["components"]) == 1


def test_allow_and_block_lists(tmp_path):
    site = make_dist(tmp_path / "site", "neurorep-toy", "neurorep_toy", GOOD, ep_name="toy")
    blocked = plugins_json(pythonpath=[site], env={"NEUROREP_BLOCK_PLUGINS": "toy"})
    assert "toy.mean-diff" not in {c["id"] for c in blocked["components"]}
    none = plugins_json(pythonpath=[site], env={"NEUROREP_LOAD_PLUGINS": ""})
    assert "toy.mean-diff" not in {c["id"] for c in none["components"]}
    assert "cka.linear" in {c["id"] for c in none["components"]}  # built-ins always load
    allowed = plugins_json(pythonpath=[site], env={"NEUROREP_LOAD_PLUGINS": "neurorep-toy"})
    assert "toy.mean-diff" in {c["id"] for c in allowed["components"]}


def test_extra_plugin_object_and_kind_mismatch():
    class Ok(Analyzer):
        id = "toy.ok"
        version = "1.0.0"
        tags = Tags()

        def analyze(self, x, y=None):
            return [Result(score=0.0)]

    good = types.SimpleNamespace(register_analyzers=hookimpl(lambda register: register(Ok)))
    wrong = types.SimpleNamespace(register_sources=hookimpl(lambda register: register(Ok)))
    s = PluginSystem(load_entry_points=False, extra_plugins=[("good", good), ("wrong", wrong)])
    assert "toy.ok" in s.registry
    err = [e for e in s.errors if e.plugin == "wrong"]
    assert err and "register_analyzers" in err[0].error and "register_sources" in err[0].error


def test_unknown_component_suggests_closest_and_provider():
    from neurorep.errors import UnknownComponentError

    reg = PluginSystem(load_entry_points=False).registry
    with pytest.raises(UnknownComponentError, match="Did you mean 'cka.linear'"):
        reg.get("cka.linaer")
    with pytest.raises(LookupError, match="neurorep plugins"):
        reg.get("zzz.qqq")


def test_hookspecs_cheap_to_import():
    code = ("import sys, neurorep.hookspecs, neurorep.types, neurorep.components, neurorep.plugins;"
            "import neurorep; neurorep.get_registry();"
            "bad=[m for m in ('torch','nibabel','nilearn','diffusers','dask','zarr','pandas') if m in sys.modules];"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"NEUROREP_LOAD_PLUGINS": "", "PATH": ""})
    assert out.stdout.strip() == "[]"


def test_every_hook_documented_and_known():
    import neurorep.hookspecs as hs
    from neurorep.components import KINDS

    specs = {n for n in dir(hs) if n.startswith(("register_", "resolve_", "on_"))}
    assert set(KINDS.values()) <= specs
    for name in specs:
        doc = getattr(hs, name).__doc__ or ""
        assert "Parameters" in doc and "versionadded" in doc, name
    assert hs.HOOK_API == 1


def test_notification_hook_errors_are_contained():
    calls = []

    def on_result(result, task):
        calls.append(task["key"])
        raise RuntimeError("listener broke")

    plug = types.SimpleNamespace(on_result=hookimpl(on_result))
    s = PluginSystem(load_entry_points=False, extra_plugins=[("listener", plug)])
    s.call_notification("on_result", result={"status": "ok"}, task={"key": "k"})
    assert calls == ["k"] and any("listener broke" in e.error for e in s.errors)


def test_cli_doctor_and_components_run():
    for args in (["doctor"], ["components"], ["components", "--kind", "analyzer"], ["--version"]):
        proc = run_neurorep(args)
        assert proc.returncode == 0, (args, proc.stderr)
    assert "cka.linear" in run_neurorep(["components"]).stdout
    info = json.loads(run_neurorep(["plugins", "--json"]).stdout)
    assert info["hook_api"] == 1
