"""The runner: results and provenance, cache reuse, failures, hooks, atomic results, kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from _runner_plans import analysis_tasks, comparable, generate_task, make_plan, source_task

import neurorep
import neurorep.recipes
from neurorep import _toys
from neurorep.builtin.analyzers import CorrelationRSA
from neurorep.builtin.similarity import LinearCKA
from neurorep.plugins import PluginSystem
from neurorep.runner import PROVENANCE_KEY, read_provenance, read_results, run_plan, run_recipe
from neurorep.store import RepresentationStore

TOYS = ("neurorep-toys", "neurorep._toys")


def toy_system(*extra) -> PluginSystem:
    return PluginSystem(load_entry_points=False, extra_plugins=[TOYS, *extra])


def basic_plan(tmp_path: Path, **src_params):
    markers = str(tmp_path / "markers")
    net = source_task("net", _toys.SlowSource, {"n_stimuli": 20, "batch_size": 4, "marker_dir": markers,
                                                **src_params})
    brain = source_task("brain", _toys.StaticSource, {"n_stimuli": 20, "output": "rdms"})
    rep = source_task("rep", _toys.StaticSource, {"n_stimuli": 20, "n_repeats": 3, "reverse_ids": True})
    tasks = ([net, brain, rep] + analysis_tasks("rsa", CorrelationRSA, {}, net, brain)
             + analysis_tasks("cka", LinearCKA, {}, net, rep)
             + analysis_tasks("norm", _toys.MeanNorm, {}, net, transforms=[(_toys.Scale, {"factor": 3.0})]))
    return make_plan("basic", tasks, options={"seed": 0}), markers


# --------------------------------------------------------------------------- results

def test_results_match_direct_computation(tmp_path):
    plan, markers = basic_plan(tmp_path)
    s = run_plan(plan, tmp_path / "out", progress=False, system=toy_system())
    assert (s["n_tasks"], s["n_ok"], s["n_cached"], s["n_failed"]) == (13, 13, 0, 0)
    df = read_results(s["results_path"])
    assert len(df) == s["n_rows"] == 4 + 4 + 2 * 2
    assert list(df.analysis) == ["rsa"] * 4 + ["cka"] * 4 + ["norm"] * 4  # plan order

    net = _toys.SlowSource(n_stimuli=20, batch_size=4)
    rep = _toys.StaticSource(n_stimuli=20, n_repeats=3, reverse_ids=True)
    brain = _toys.StaticSource(n_stimuli=20, output="rdms")
    for r in df.itertuples():
        x = net.load(r.x_site)
        if r.analysis == "cka":
            expected = LinearCKA().analyze(x, rep.load(r.y_site))[0]
        elif r.analysis == "rsa":
            expected = CorrelationRSA().analyze(x, brain.load(r.y_site))[0]
            assert json.loads(r.extra)["per_rdm"] == pytest.approx(expected.extra["per_rdm"], abs=1e-12)
        else:
            norms = np.linalg.norm(3.0 * x.data, axis=1)
            expected = neurorep.Result(score=norms.mean() if r.metric == "mean_norm" else norms.min(), n=20)
        assert r.score == pytest.approx(expected.score, abs=1e-12)
        assert r.n == expected.n
        assert r.status == "ok" and pd.isna(r.error)
        assert r.x == f"net:{r.x_site}" and r.x_source == "net"
    cka = df[df.analysis == "cka"].iloc[0]
    assert (cka.component_id, cka.component_version, cka.y_source) == ("cka.linear", LinearCKA.version, "rep")
    assert json.loads(cka.params) == LinearCKA().get_params()
    norm = df[df.analysis == "norm"]
    assert norm.y.isna().all() and set(norm.metric) == {"mean_norm", "min_norm"}
    assert json.loads(norm.transforms.iloc[0]) == [{"component_id": "toy.scale", "params": {"factor": 3.0},
                                                    "version": "1.0.0"}]
    # each of the 5 batches was computed once
    assert _toys.count_markers(markers, "batch") == {f"batch-{i:04d}": 1 for i in range(5)}


def test_provenance_in_parquet_and_json(tmp_path):
    plan, _ = basic_plan(tmp_path)
    s = run_plan(plan, tmp_path / "out", progress=False, system=toy_system())
    meta = pq.read_schema(s["results_path"]).metadata
    prov = json.loads(meta[PROVENANCE_KEY.encode()])
    assert prov == read_provenance(s["results_path"])
    assert prov == json.loads(Path(s["provenance_path"]).read_text())
    import hashlib

    assert prov["recipe"]["text"] == plan.recipe_text
    assert prov["recipe"]["sha256"] == hashlib.sha256(plan.recipe_text.encode()).hexdigest() == plan.recipe_hash
    env = prov["environment"]
    assert env["python"] == sys.version.split()[0] and env["numpy"] == np.__version__
    assert "torch" in env and "platform" in env
    plugins = {p["name"]: p for p in prov["plugins"]}
    assert plugins["neurorep.builtin.analyzers"]["distribution"] == "neurorep"
    assert plugins["neurorep-toys"]["builtin"] is False
    comps = {c["id"]: c for c in prov["components"]}
    assert set(comps) == {"toy.slow-source", "toy.static-source", "rsa.correlation", "cka.linear",
                          "toy.mean-norm", "toy.scale"}
    assert comps["cka.linear"]["version"] == LinearCKA.version
    assert prov["seeds"]["recipe"] == 0 and prov["executor"]["name"] == "local"
    assert prov["started_at"] <= prov["finished_at"]
    assert prov["summary"]["n_ok"] == 13


def test_torch_is_not_imported_for_provenance(tmp_path):
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from _runner_plans import make_plan, source_task, analysis_tasks\n"
            "from neurorep import _toys\nfrom neurorep.runner import run_plan\n"
            "src = source_task('net', _toys.SlowSource, {})\n"
            "plan = make_plan('t', [src] + analysis_tasks('n', _toys.MeanNorm, {}, src))\n"
            "s = run_plan(plan, %r, progress=False)\n"
            "assert s['n_failed'] == 0\nprint('torch' in sys.modules)\n") % (str(Path(__file__).parent),
                                                                             str(tmp_path / "o"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_rerun_is_all_cached_and_identical(tmp_path):
    plan, markers = basic_plan(tmp_path)
    system = toy_system()
    first = run_plan(plan, tmp_path / "out", progress=False, system=system)
    a = read_results(first["results_path"])
    second = run_plan(plan, tmp_path / "out", progress=False, system=system)
    assert (second["n_ok"], second["n_cached"], second["n_failed"]) == (0, 13, 0)
    b = read_results(second["results_path"])
    assert set(b.status) == {"cached"}
    pd.testing.assert_frame_equal(comparable(a), comparable(b))
    assert _toys.count_markers(markers, "batch") == {f"batch-{i:04d}": 1 for i in range(5)}


def test_generated_and_dataset_stimuli(tmp_path):
    """Sources receive stimuli from a generate task's stored output, or from a dataset's load_stimuli()."""
    gen = generate_task("noise", _toys.NoiseStimuli, n=10, seed=3)
    a = source_task("a", _toys.SlowSource, {"batch_size": 3},
                    stimuli={"stimuli": "noise", "task": gen.key})
    b = source_task("b", _toys.SlowSource, {"batch_size": 5},
                    stimuli={"stimuli": "imgs", "task": None, "component_id": "toy.stimuli", "params": {"n": 8}})
    tasks = [gen, a, b] + analysis_tasks("na", _toys.MeanNorm, {}, a) + analysis_tasks("nb", _toys.MeanNorm, {}, b)
    # the reference for "imgs" is resolved from the registry by the runner
    plan = make_plan("stim", tasks, options={"seed": 3, "stimuli": {"imgs": {"component": "toy.stimuli",
                                                                              "params": {"n": 8}}}})
    s = run_plan(plan, tmp_path / "out", progress=False, system=toy_system())
    assert s["n_failed"] == 0, s["failed"]
    store = RepresentationStore(tmp_path / "out" / "store")
    noise = _toys.NoiseStimuli().generate(10, random_state=3)
    stored = store.read_stimuli(gen.key)
    np.testing.assert_array_equal(stored.payload, noise.payload)
    ra = store.read(a.key, "site1")
    assert ra.stimulus_ids == noise.ids
    np.testing.assert_array_equal(ra.data, _toys.SlowSource(batch_size=3).load("site1", noise).data)
    imgs = _toys.ToyStimuli(n=8).load_stimuli()
    rb = store.read(b.key, "site0")
    assert rb.stimulus_ids == imgs.ids
    np.testing.assert_array_equal(rb.data, _toys.SlowSource().load("site0", imgs).data)
    assert store.meta(b.key)["stimuli_fingerprint"] == imgs.fingerprint()
    df = read_results(s["results_path"])
    assert list(df.n) == [10, 10, 10, 10, 8, 8, 8, 8]


def test_store_dtype_float16_is_separate_from_float64(tmp_path):
    plan, _ = basic_plan(tmp_path)
    system = toy_system()
    full = read_results(run_plan(plan, tmp_path / "out", progress=False, system=system)["results_path"])
    s = run_plan(plan, tmp_path / "out", progress=False, system=system, store_dtype="float16")
    # nothing computed from float64 data is reused for float16 storage
    assert (s["n_ok"], s["n_cached"]) == (13, 0)
    half = read_results(s["results_path"])
    assert not np.array_equal(half.score.to_numpy(), full.score.to_numpy())
    np.testing.assert_allclose(half.score, full.score, atol=5e-3)
    (_, z), *_ = RepresentationStore(tmp_path / "out" / "store").arrays(plan.tasks[0].key)
    assert z.dtype == np.float16


# --------------------------------------------------------------------------- failures

def test_failing_task_is_recorded_and_retried_next_run(tmp_path):
    flag = tmp_path / "broken"
    flag.touch()
    net = source_task("net", _toys.SlowSource, {"n_stimuli": 12})
    tasks = [net] + analysis_tasks("f", _toys.FailOnSite, {"fail_site": "site1", "fail_if_exists": str(flag)},
                                   net, pairing="within")
    plan = make_plan("fails", tasks)
    s = run_plan(plan, tmp_path / "out", progress=False)
    assert (s["n_ok"], s["n_failed"]) == (2, 2)
    df = read_results(s["results_path"])
    assert list(df.status) == ["ok", "failed", "failed"]
    assert df.error.iloc[1] == "RuntimeError: Analyzer 'toy.fail-on-site': planted failure on site 'site1'."
    assert np.isnan(df.score.iloc[1]) and df.score.iloc[0] == pytest.approx(1.0)
    rec = json.loads((tmp_path / "out" / "cache" / "failed" / f"{df.task_key.iloc[1]}.json").read_text())
    assert rec["error"]["type"] == "RuntimeError" and "Traceback" in rec["error"]["traceback"]
    assert {f["name"] for f in s["failed"]} == {"f"}

    flag.unlink()  # "fix" the problem: failed tasks run again, the others come from the cache
    s2 = run_plan(plan, tmp_path / "out", progress=False)
    assert (s2["n_ok"], s2["n_cached"], s2["n_failed"]) == (2, 2, 0)
    df2 = read_results(s2["results_path"])
    assert list(df2.status) == ["cached", "ok", "ok"]
    assert not (tmp_path / "out" / "cache" / "failed" / f"{df.task_key.iloc[1]}.json").exists()


def test_failed_source_fails_its_analyses_and_resumes_at_the_batch(tmp_path):
    flag = tmp_path / "broken"
    flag.touch()
    markers = tmp_path / "m"
    net = source_task("net", _toys.SlowSource, {"n_stimuli": 20, "batch_size": 4, "marker_dir": str(markers),
                                                "fail_at_batch": 3, "fail_if_exists": str(flag)})
    other = source_task("other", _toys.StaticSource, {"n_stimuli": 20})
    tasks = ([net, other] + analysis_tasks("cka", LinearCKA, {}, net, other)
             + analysis_tasks("self", LinearCKA, {}, other, pairing="within"))
    plan = make_plan("srcfail", tasks)
    s = run_plan(plan, tmp_path / "out", progress=False)
    assert s["n_failed"] == 1 + 4 and s["n_ok"] == 1 + 3
    df = read_results(s["results_path"])
    failed = df[df.status == "failed"]
    assert list(failed.analysis) == ["cka"] * 4
    assert failed.error.str.startswith("UpstreamError: source task 'net'").all()
    assert "planted failure at batch 3" in failed.error.iloc[0]
    assert _toys.count_markers(markers, "batch") == {f"batch-{i:04d}": 1 for i in range(3)}

    flag.unlink()
    s2 = run_plan(plan, tmp_path / "out", progress=False)
    assert s2["n_failed"] == 0
    # batches 0-2 were committed before the failure and are not recomputed
    assert _toys.count_markers(markers, "batch") == {f"batch-{i:04d}": 1 for i in range(5)}
    fresh = run_plan(plan, tmp_path / "fresh", progress=False)
    pd.testing.assert_frame_equal(comparable(read_results(s2["results_path"])),
                                  comparable(read_results(fresh["results_path"])))


# --------------------------------------------------------------------------- hooks

class Recorder:
    def __init__(self):
        self.calls = []

    @neurorep.hookimpl
    def on_run_start(self, run):
        self.calls.append(("start", run))

    @neurorep.hookimpl
    def on_result(self, result, task):
        self.calls.append(("result", result, task))

    @neurorep.hookimpl
    def on_run_end(self, run, summary):
        self.calls.append(("end", run, summary))


def test_notification_hooks(tmp_path):
    rec = Recorder()
    system = toy_system(("recorder", rec))
    plan, _ = basic_plan(tmp_path)
    s = run_plan(plan, tmp_path / "out", progress=False, system=system)
    kinds = [c[0] for c in rec.calls]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("result") == 13
    run = rec.calls[0][1]
    assert run == {"recipe": "basic", "recipe_hash": plan.recipe_hash, "out_dir": s["out_dir"], "n_tasks": 13,
                   "executor": "local"}
    results = [c for c in rec.calls if c[0] == "result"]
    by_key = {c[2]["key"]: c[1] for c in results}
    cka = next(t for t in plan.tasks if t.name == "cka")
    assert by_key[cka.key]["status"] == "ok" and len(by_key[cka.key]["rows"]) == 1
    assert by_key[cka.key]["rows"][0]["metric"] == "cka"
    assert rec.calls[-1][2]["n_ok"] == 13 and rec.calls[-1][2]["results_path"] == s["results_path"]
    # a source finishing comes before any analysis that reads it
    order = [c[2]["key"] for c in results]
    for t in plan.tasks:
        for d in t.depends_on:
            assert order.index(d) < order.index(t.key)
    rec.calls.clear()
    run_plan(plan, tmp_path / "out", progress=False, system=system)
    assert {c[1]["status"] for c in rec.calls if c[0] == "result"} == {"cached"}


# --------------------------------------------------------------------------- atomic results

def test_results_parquet_never_half_written(tmp_path, monkeypatch):
    plan, _ = basic_plan(tmp_path)
    s = run_plan(plan, tmp_path / "out", progress=False)
    before = Path(s["results_path"]).read_bytes()

    import neurorep.store as store_mod

    real_replace = os.replace

    def crash(src, dst):
        if str(dst).endswith("results.parquet"):
            raise KeyboardInterrupt("killed between writing the new results and renaming them")
        return real_replace(src, dst)

    monkeypatch.setattr(store_mod.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, tmp_path / "out", progress=False)
    monkeypatch.undo()
    assert Path(s["results_path"]).read_bytes() == before
    assert len(read_results(s["results_path"])) == 12
    assert not list((tmp_path / "out").glob("*.partial"))


def test_one_run_per_out_dir(tmp_path):
    import fcntl

    plan, _ = basic_plan(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".neurorep.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RuntimeError, match="Another neurorep run"):
            run_plan(plan, out, progress=False)


def test_bad_executor_arguments(tmp_path):
    plan, _ = basic_plan(tmp_path)
    with pytest.raises(ValueError, match="Unknown executor 'threads'"):
        run_plan(plan, tmp_path / "o", executor="threads", progress=False)
    with pytest.raises(ValueError, match="scheduler= is only used with executor='dask'"):
        run_plan(plan, tmp_path / "o", scheduler="tcp://127.0.0.1:8786", progress=False)


# --------------------------------------------------------------------------- recipes, CLI, kill and resume

RECIPE = """
[recipe]
name = "killme"
seed = 0

[sources.net]
component = "toy.slow-source"
params = {{ n_stimuli = 40, n_features = 8, batch_size = 4, delay_s = {delay}, marker_dir = "{markers}" }}

[sources.brain]
component = "toy.static-source"
params = {{ n_stimuli = 40, output = "rdms" }}

[[analyses]]
name = "slow"
component = "toy.slow-cka"
params = {{ delay_s = {delay}, marker_dir = "{markers}" }}
inputs = ["net"]
pairing = "within"

[[analyses]]
name = "rsa"
component = "rsa.correlation"
inputs = ["net", "brain"]

[[analyses]]
name = "fail"
component = "toy.fail-on-site"
params = {{ fail_site = "site1" }}
inputs = ["net"]
pairing = "within"
"""


def toys_site(tmp_path: Path) -> Path:
    """A throwaway installed distribution whose entry point registers neurorep._toys."""
    site = tmp_path / "site"
    info = site / "neurorep_runner_toys-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: neurorep-runner-toys\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text("[neurorep]\ntoys = neurorep._toys\n")
    (info / "RECORD").write_text("")
    return site


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NEUROREP_LOAD_PLUGINS", "NEUROREP_BLOCK_PLUGINS")}
    env["PYTHONPATH"] = os.pathsep.join([str(toys_site(tmp_path))] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _committed(store_root: Path, key: str) -> set[int]:
    return {int(p.stem.split("-")[1]) for p in (store_root / key / "state").glob("batch-*.json")}


def _cached_keys(out: Path) -> set[str]:
    return {p.stem for p in (out / "cache").glob("??/*.json")}


def _start_until(cmd, env, cwd, predicate, timeout=45.0):
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if predicate():
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                return True
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"the run ended before it could be killed (rc {proc.returncode}):\n"
                                     f"{err.decode()[-3000:]}")
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    raise AssertionError("the run did not reach the kill point in time")


def test_sigkill_and_resume_through_the_cli(tmp_path):
    markers = tmp_path / "markers"
    recipe = tmp_path / "killme.toml"
    recipe.write_text(RECIPE.format(delay=0.15, markers=markers))
    env = cli_env(tmp_path)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "neurorep.cli", "run", str(recipe), "--out", str(out), "--no-progress"]
    plan = neurorep.recipes.plan_file(recipe, registry=toy_system().registry)
    net_key = plan.tasks[0].key
    analyses = [t.key for t in plan.tasks if t.kind == "analysis" and t.name != "fail"]
    store_root = out / "store"

    # 1st run: killed while the source streams (some, not all, of its 10 batches committed)
    _start_until(cmd, env, tmp_path, lambda: len(_committed(store_root, net_key)) >= 3)
    committed = _committed(store_root, net_key)
    assert 3 <= len(committed) < 10 and not (store_root / net_key / "state" / "complete.json").exists()

    # 2nd run: killed after some, not all, analyses are in the cache
    _start_until(cmd, env, tmp_path, lambda: 1 <= len(_cached_keys(out) & set(analyses)))
    done_analyses = _cached_keys(out) & set(analyses)
    assert 1 <= len(done_analyses) < len(analyses)
    batch_counts = _toys.count_markers(markers, "batch")
    assert all(batch_counts[f"batch-{i:04d}"] == 1 for i in committed)
    started = _toys.count_markers(markers, "start")

    # 3rd run completes; exit status 2 because the planted failures are reported
    done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"results: {out / 'results.parquet'}" in done.stdout
    assert "2 task(s) failed" in done.stderr
    # nothing committed before a kill was recomputed
    assert _toys.count_markers(markers, "batch") == batch_counts
    # every batch was computed, at most twice (the one in flight at the first kill, never committed)
    assert set(batch_counts) == {f"batch-{i:04d}" for i in range(10)} and max(batch_counts.values()) <= 2
    after = _toys.count_markers(markers, "start")
    slow = {t.key: f"start-{t.inputs[0]['site']}-{t.inputs[1]['site']}" for t in plan.tasks if t.name == "slow"}
    for key, what in slow.items():
        if key in done_analyses:
            assert after[what] == started[what] == 1

    resumed = read_results(out / "results.parquet")
    assert list(resumed[resumed.status == "failed"].x) == ["net:site0", "net:site1"]

    # an uninterrupted run in a fresh folder gives identical results
    fresh = run_recipe(recipe, tmp_path / "fresh", progress=False, system=toy_system())
    assert fresh["n_failed"] == 2
    pd.testing.assert_frame_equal(comparable(resumed), comparable(read_results(fresh["results_path"])))


def test_cli_run_exit_status(tmp_path):
    recipe = tmp_path / "ok.toml"
    recipe.write_text(RECIPE.format(delay=0.0, markers=tmp_path / "m").split("[[analyses]]\nname = \"fail\"")[0])
    env = cli_env(tmp_path)
    ok = subprocess.run([sys.executable, "-m", "neurorep.cli", "run", str(recipe), "--out", str(tmp_path / "o"),
                         "--no-progress"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "o" / "results.parquet").is_file() and (tmp_path / "o" / "provenance.json").is_file()
    # the default output folder is runs/<recipe name>
    default = subprocess.run([sys.executable, "-m", "neurorep.cli", "run", str(recipe), "--no-progress"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert default.returncode == 0, default.stderr
    assert (tmp_path / "runs" / "killme" / "results.parquet").is_file()
    bad = tmp_path / "bad.toml"
    bad.write_text(recipe.read_text().replace("toy.slow-cka", "toy.slow-ckb"))
    err = subprocess.run([sys.executable, "-m", "neurorep.cli", "run", str(bad), "--no-progress"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert err.returncode == 1 and "toy.slow-ckb" in err.stderr
