"""Executors: the process pool and Dask give the local executor's results, also when a worker is killed."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from _runner_plans import analysis_tasks, comparable, make_plan, source_task

from neurorep import _toys
from neurorep.builtin.similarity import LinearCKA
from neurorep.runner import LocalExecutor, make_executor, read_results, run_plan
from neurorep.runner.worker import RunContext


def slow_plan(markers: Path, delay: float):
    net = source_task("net", _toys.SlowSource, {"n_stimuli": 16, "batch_size": 4})
    other = source_task("other", _toys.StaticSource, {"n_stimuli": 16})
    tasks = ([net, other]
             + analysis_tasks("slow", _toys.SlowCKA, {"delay_s": delay, "marker_dir": str(markers)}, net, other)
             + analysis_tasks("cka", LinearCKA, {}, other, pairing="within"))
    return make_plan("slow", tasks)


def _first_start_marker(markers: Path, timeout: float = 60.0) -> tuple[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if markers.is_dir():
            found = sorted(p.name for p in markers.iterdir() if p.name.startswith("start-"))
            if found:
                what, pid, _ = found[0].split(".")
                return what, int(pid)
        time.sleep(0.02)
    raise AssertionError("no task started in time")


def _run_in_thread(**kwargs) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def target():
        try:
            box["summary"] = run_plan(**kwargs)
        except BaseException as exc:  # surfaced by the test
            box["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, box


def test_local_executor_runs_in_submission_order(tmp_path):
    plan = slow_plan(tmp_path / "m", 0.0)
    ex = LocalExecutor()
    ctx = RunContext(out_dir=str(tmp_path / "o"))
    handles = [ex.submit(t, ctx) for t in plan.tasks[:2]]
    first = ex.wait(handles)
    assert first == [handles[0]] and not handles[1].done  # one task per wait, in order
    assert ex.result(first[0])["status"] == "ok" and ex.result(first[0])["key"] == plan.tasks[0].key
    assert ex.wait(handles) == [handles[0]]  # already finished handles are returned first
    ex.wait([handles[1]])
    assert handles[1].done
    with pytest.raises(ValueError, match="Unknown executor 'slurm'"):
        make_executor("slurm")


def test_process_executor_matches_local(tmp_path):
    plan = slow_plan(tmp_path / "m", 0.0)
    local = run_plan(plan, tmp_path / "local", progress=False)
    proc = run_plan(plan, tmp_path / "proc", executor="process", n_workers=2, progress=False)
    assert proc["n_failed"] == 0 and proc["n_ok"] == len(plan.tasks)
    pd.testing.assert_frame_equal(comparable(read_results(local["results_path"])),
                                  comparable(read_results(proc["results_path"])))


def test_process_executor_survives_a_killed_worker(tmp_path):
    markers = tmp_path / "m"
    plan = slow_plan(markers, 0.8)
    th, box = _run_in_thread(plan=plan, out_dir=tmp_path / "proc", executor="process", n_workers=2,
                             progress=False)
    what, pid = _first_start_marker(markers)
    os.kill(pid, signal.SIGKILL)
    th.join(120)
    assert "error" not in box, box.get("error")
    s = box["summary"]
    assert s["n_failed"] == 0, s["failed"]
    assert _toys.count_markers(markers, "start")[what] >= 2  # the lost task ran again
    local = run_plan(plan, tmp_path / "local", progress=False)
    pd.testing.assert_frame_equal(comparable(read_results(local["results_path"])),
                                  comparable(read_results(s["results_path"])))


def test_dask_worker_killed_mid_run_gives_local_results(tmp_path):
    from distributed import LocalCluster

    markers = tmp_path / "m"
    plan = slow_plan(markers, 0.8)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": ":0"}, silence_logs=40) as cluster:
        th, box = _run_in_thread(plan=plan, out_dir=tmp_path / "dask", executor="dask",
                                 scheduler=cluster.scheduler_address, progress=False)
        what, pid = _first_start_marker(markers)
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)  # a worker process of the cluster this test started
        th.join(120)
    assert "error" not in box, box.get("error")
    s = box["summary"]
    assert s["n_failed"] == 0, s["failed"]
    assert s["executor"] == "dask"
    counts = _toys.count_markers(markers, "start")
    assert counts[what] >= 2  # the task of the killed worker was rescheduled
    assert _toys.count_markers(markers, "done")[what.replace("start-", "done-")] >= 1
    local = run_plan(plan, tmp_path / "local", progress=False)
    pd.testing.assert_frame_equal(comparable(read_results(local["results_path"])),
                                  comparable(read_results(s["results_path"])))


def test_dask_local_cluster_started_by_the_runner(tmp_path):
    plan = slow_plan(tmp_path / "m", 0.0)
    s = run_plan(plan, tmp_path / "dask", executor="dask", n_workers=1, progress=False)
    assert s["n_failed"] == 0 and s["n_ok"] == len(plan.tasks)
    prov = (Path(s["provenance_path"])).read_text()
    assert '"local_cluster": true' in prov
    local = run_plan(plan, tmp_path / "local", progress=False)
    pd.testing.assert_frame_equal(comparable(read_results(local["results_path"])),
                                  comparable(read_results(s["results_path"])))
