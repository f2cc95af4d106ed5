"""Real fMRI: nitime's 31 ROI resting-state series and the Haxby (2001) slice, run by run."""

from __future__ import annotations

import os

import networkx as nx
import numpy as np
import pytest
from neurorep.types import Representation

from neurorep_network_motifs import PCALDA, NetworkFeatures, correlation_network, motif_features


def test_nitime_roi_network_is_far_more_transitive_than_phase_randomised_surrogates():
    from neurorep_datasets.nitime_data import NitimeFMRI

    x = NitimeFMRI().load("roi-timeseries")  # 250 volumes x 31 ROIs
    rows = NetworkFeatures(density=0.2, n_surrogates=200).analyze(x)
    by = {r.metric: r for r in rows}
    # exact identity on the real network: the 3-cycle map is networkx's triangle count
    A, _ = correlation_network(x.data, density=0.2)
    tri = nx.triangles(nx.from_numpy_array(A.astype(int)))
    assert by["cycle3_mean"].extra["map"] == [float(tri[i]) for i in range(31)]
    assert by["cycle3_mean"].extra["units"][:3] == ["WM", "Vent", "Brain"]
    t = by["transitivity"]
    # recorded: transitivity 0.568 vs surrogate mean 0.29; p = 1/201
    assert t.score > 0.5 and t.extra["null_mean"] < 0.35 and t.p_value < 0.01


@pytest.mark.skipif(not os.environ.get("NEUROREP_DATA_MIRROR"), reason="needs NEUROREP_DATA_MIRROR (Haxby 2001)")
def test_haxby_task_and_rest_networks_differ_run_by_run():
    from neurorep_datasets.haxby import Haxby2001

    X, vols, _, _ = Haxby2001().timeseries("slice")  # 1452 volumes x 530 voxels
    run, cond = vols["run"].to_numpy(), vols["condition"].to_numpy()
    maps, degree, labels, ids = [], [], [], []
    for r in range(1, 13):
        idx = np.flatnonzero(run == r)
        c = np.r_[["rest"] * 2, cond[idx][:-2]]  # a 2-volume (5 s) haemodynamic lag
        for lab, sel in (("task", c != "rest"), ("rest", c == "rest")):
            A, _ = correlation_network(X[idx][np.flatnonzero(sel)[:45]], threshold=0.3)
            f = motif_features(A, ("degree", "cycle3"))
            maps.append(f["cycle3"])
            degree.append(f["degree"].mean())
            labels.append(float(lab == "task"))
            ids.append(f"run{r:02d}-{lab}")
    degree, labels, maps = np.array(degree), np.array(labels), np.array(maps)
    # recorded: the rest network is denser than the task network in 12 of 12 runs (sign test p = 0.0005)
    assert np.sum(degree[labels == 0] > degree[labels == 1]) >= 11
    y = Representation(labels[:, None], ids)
    # run-to-run variation swamps the task/rest difference across runs (recorded: 0.54, chance) ...
    raw = PCALDA(n_folds=6, n_permutations=0, compare_unmasked=False).analyze(Representation(maps, ids), y)
    # ... while each run as its own control (maps centred on the run's mean) separates them (recorded: 1.00
    # masked, 0.92 unmasked, p = 1/1001)
    cen = (maps.reshape(12, 2, -1) - maps.reshape(12, 2, -1).mean(1, keepdims=True)).reshape(24, -1)
    rows = PCALDA(n_folds=6, n_permutations=1000).analyze(Representation(cen, ids), y)
    assert rows[0].score >= 0.9 and rows[0].p_value < 0.01
    assert rows[0].score > raw[0].score + 0.2
