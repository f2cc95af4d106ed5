"""Users' own data in standard layouts, on small synthetic trees the tests build with planted responses:
fMRIPrep-style BIDS derivatives + raw events (``source.bids-glm``) and the Natural Scenes Dataset's
betas/ROI layout (``source.nsd-betas``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

nib = pytest.importorskip("nibabel")
pytest.importorskip("nilearn")

import neurorep  # noqa: E402
from neurorep.errors import InvalidInputError  # noqa: E402
from neurorep.fmri._toy import write_toy_bids, write_toy_nsd  # noqa: E402
from neurorep.fmri.bids import BIDSGLMSource, find_fmriprep_runs  # noqa: E402
from neurorep.fmri.nsd import NSDBetasSource  # noqa: E402
from neurorep.types import StimulusSet  # noqa: E402

SPACE = "MNI152NLin2009cAsym"


# --------------------------------------------------------------------------- BIDS / fMRIPrep

@pytest.fixture(scope="module")
def bids(tmp_path_factory):
    return write_toy_bids(tmp_path_factory.mktemp("bids"))


def test_fmriprep_runs_are_found_with_their_raw_events_masks_confounds_and_tr(bids):
    runs = find_fmriprep_runs(bids["bids_dir"], subject="sub-01", task="objects", space=SPACE)
    assert [r.label for r in runs] == ["sub-01 ses-1 task-objects run-1", "sub-01 ses-1 task-objects run-2"]
    assert [str(r.bold) for r in runs] == bids["runs"]  # the space-T1w BOLD is not picked up
    for r in runs:
        assert r.events.parent == Path(bids["bids_dir"]) / "sub-01" / "ses-1" / "func"
        assert r.events.name.endswith("_events.tsv") and r.mask.name.endswith("_desc-brain_mask.nii.gz")
        assert r.confounds.name.endswith("_desc-confounds_timeseries.tsv")
        assert r.t_r == 2.0 and "task-objects_bold.json" in r.t_r_source
    assert [r.label for r in find_fmriprep_runs(bids["bids_dir"], subject="01", task="objects", space=SPACE,
                                                runs=[2])] == ["sub-01 ses-1 task-objects run-2"]


def test_bids_glm_recovers_planted_patterns(bids):
    src = neurorep.create("source.bids-glm", {"bids_dir": bids["bids_dir"], "subject": "01", "task": "objects",
                                              "confound_columns": ["trans_x", "framewise_displacement"],
                                              "spheres": {"centre": [0.0, 0.0, 0.0]}, "radius": 3.0})
    assert src.sites() == ["brain", "centre"]
    stim = StimulusSet(ids=("face", "house", "chair"))
    rep = src.load("brain", stim)
    brain = bids["brain"]
    P = np.stack([bids["patterns"][c][brain] for c in stim.ids])
    assert rep.repeats.shape == (2, 3, int(brain.sum()))
    np.testing.assert_allclose(rep.data, P, atol=0.2)  # percent signal change of a baseline of 100
    # the sidecar's TR (2 s) wins over the headers' (1 s); fMRIPrep's masks are intersected
    assert rep.space["t_r"] == 2.0 and "RepetitionTime" in rep.space["t_r_from"]
    assert len(rep.space["mask"]) == 2 and rep.space["subject"] == "01" and rep.space["space"] == SPACE
    sphere = src.load("centre", stim)
    assert 0 < sphere.n_features < rep.n_features


def test_bids_lss_with_one_id_per_trial(bids, tmp_path):
    root = Path(shutil.copytree(bids["bids_dir"], tmp_path / "ds"))
    for ev_path in sorted(root.glob("sub-01/ses-1/func/*_events.tsv")):
        ev = pd.read_csv(ev_path, sep="\t")
        run = ev_path.name.split("_run-")[1].split("_")[0]
        ev["stim_file"] = [f"run{run}/{i}_{c}.png" for i, c in enumerate(ev["trial_type"])]
        ev.to_csv(ev_path, sep="\t", index=False)
    src = BIDSGLMSource(str(root), subject="01", task="objects", estimator="lss", stimulus_column="stim_file",
                        noise_model="ols")
    rep = src.load("brain")
    assert rep.n_stimuli == 12 and rep.stimulus_ids[0] == "run1/0_" + rep.stimulus_ids[0].split("_", 1)[1]
    P = np.stack([bids["patterns"][s.rsplit("_", 1)[1][:-4]][bids["brain"]] for s in rep.stimulus_ids])
    assert min(np.corrcoef(rep.data[i], P[i])[0, 1] for i in range(12)) > 0.9  # one 8 s block, 60 voxels


def test_bids_errors_name_what_is_missing(bids, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no preprocessed BOLD .*space-MNI152NLin6Asym_desc-preproc_bold"
                                                 r".*it holds \(task, space, desc\) = .*'MNI152NLin2009cAsym'"):
        BIDSGLMSource(bids["bids_dir"], subject="01", task="objects", space="MNI152NLin6Asym").load("brain")
    with pytest.raises(FileNotFoundError, match="no derivatives folder"):
        BIDSGLMSource(str(tmp_path), subject="01", task="objects").load("brain")
    root = Path(shutil.copytree(bids["bids_dir"], tmp_path / "ds"))
    missing = next(root.glob("sub-01/ses-1/func/*run-2_events.tsv"))
    missing.unlink()
    with pytest.raises(FileNotFoundError, match=r"source.bids-glm.*no events file for .*run-2.*expected .*"
                                                r"sub-01_ses-1_task-objects_run-2_events.tsv"):
        BIDSGLMSource(str(root), subject="01", task="objects").load("brain")
    # a top-level task sidecar that lies about the TR makes the events run past the scan: caught, not fitted
    (root / "task-objects_bold.json").write_text(json.dumps({"RepetitionTime": 1.0}))
    with pytest.raises(InvalidInputError, match=r"outside the scan.*60 volumes x TR 1 s"):
        BIDSGLMSource(str(root), subject="01", task="objects", runs=[1]).load("brain")


# --------------------------------------------------------------------------- NSD

@pytest.fixture(scope="module")
def nsd(tmp_path_factory):
    return write_toy_nsd(tmp_path_factory.mktemp("nsd"), session_offset=0.5)


def _zscored_reference(nsd, mask, ids):
    """Independent reference: planted betas per trial (int16 x 300 rounding), z-scored per session, grouped."""
    trials = nsd["trials"]
    X = np.stack([np.rint((nsd["patterns"][k] + nsd["offsets"][s]) * 300)[mask] / 300
                  for s, k in zip(trials["SESSION"], trials["73KID"], strict=True)])
    for s in trials["SESSION"].unique():
        sel = (trials["SESSION"] == s).to_numpy()
        X[sel] = (X[sel] - X[sel].mean(0)) / X[sel].std(0)
    keys = [f"nsd-{k:05d}" for k in trials["73KID"]]
    return np.stack([X[[i for i, k in enumerate(keys) if k == sid]].mean(0) for sid in ids])


def test_nsd_betas_per_roi_recover_planted_patterns(nsd):
    raw = NSDBetasSource(nsd["root"], rois=["nsdgeneral", "prf-visualrois:*", "prf-visualrois:V1d"], zscore=False)
    with pytest.raises(InvalidInputError, match=r"requested more than once"):
        raw.sites()
    raw = NSDBetasSource(nsd["root"], rois=["nsdgeneral", "prf-visualrois:*"], zscore=False)
    assert raw.sites() == ["nsdgeneral", "prf-visualrois.V1v", "prf-visualrois.V1d", "prf-visualrois.V2v"]
    ids = raw.stimulus_ids()
    assert sorted(ids) == sorted(f"nsd-{k:05d}" for k in (101, 2050, 33, 46000, 7, 512))
    general = np.zeros(nsd["brain"].shape, dtype=bool)
    general[1:, 2:, :] = True
    rep = raw.load("nsdgeneral")
    assert rep.repeats.shape == (3, 6, int(general.sum())) and rep.space["units"] == "percent signal change"
    # each presentation = the image's pattern + its session's offset, in percent signal change (int16 / 300)
    trials = nsd["trials"]
    for j, sid in enumerate(ids):
        rows = trials[[f"nsd-{k:05d}" == sid for k in trials["73KID"]]]
        for rep_i, (_, row) in enumerate(rows.iterrows()):
            want = (nsd["patterns"][row["73KID"]] + nsd["offsets"][row["SESSION"]])[general]
            np.testing.assert_allclose(rep.repeats[rep_i, j], want, atol=1 / 600 + 1e-9)
    v1d = raw.load("prf-visualrois.V1d")
    assert set(v1d.channel_descriptors["j"]) == {3} and set(v1d.channel_descriptors["label"]) == {2}
    # z-scored within sessions (the default), checked against an independent computation
    z = NSDBetasSource(nsd["root"], rois=["nsdgeneral"]).load("nsdgeneral")
    np.testing.assert_allclose(z.data, _zscored_reference(nsd, general, z.stimulus_ids), atol=1e-9)
    assert z.space["units"] == "z"


def test_nsd_sessions_and_n_repeats(nsd):
    one = NSDBetasSource(nsd["root"], sessions=[1], rois=["prf-visualrois:V1v"], zscore=False)
    rep = one.load("prf-visualrois.V1v")
    trials = nsd["trials"][nsd["trials"]["SESSION"] == 1]
    assert set(rep.stimulus_ids) == {f"nsd-{k:05d}" for k in trials["73KID"]} and rep.space["sessions"] == [1]
    counts = trials["73KID"].value_counts()
    two = NSDBetasSource(nsd["root"], sessions=[1], rois=["prf-visualrois:V1v"], zscore=False, n_repeats=2)
    r2 = two.load("prf-visualrois.V1v")
    assert set(r2.stimulus_ids) == {f"nsd-{k:05d}" for k, c in counts.items() if c >= 2}
    assert r2.repeats.shape[0] == 2
    with pytest.raises(InvalidInputError, match=r"no image was shown 4 times"):
        NSDBetasSource(nsd["root"], rois=["nsdgeneral"], n_repeats=4).load("nsdgeneral")


def test_nsd_errors(nsd, tmp_path):
    with pytest.raises(InvalidInputError, match=r"has no region 'V1x'.*Did you mean 'V1v'"):
        NSDBetasSource(nsd["root"], rois=["prf-visualrois:V1x"]).sites()
    with pytest.raises(InvalidInputError, match=r"ROI 'prf-visualrois.7' is empty: no voxel of prf-visualrois.nii.gz "
                                                 r"carries label 7 \(labels present: \[1, 2, 3\]\)"):
        NSDBetasSource(nsd["root"], rois=["prf-visualrois:7"]).load("prf-visualrois.7")
    with pytest.raises(FileNotFoundError, match=r"ROI volume .*floc-faces.nii.gz does not exist"):
        NSDBetasSource(nsd["root"], rois=["floc-faces"]).load("floc-faces")
    root = Path(shutil.copytree(nsd["root"], tmp_path / "nsd"))
    resp = root / "nsddata" / "ppdata" / "subj01" / "behav" / "responses.tsv"
    df = pd.read_csv(resp, sep="\t")
    df.iloc[1:].to_csv(resp, sep="\t", index=False)
    with pytest.raises(InvalidInputError, match=r"betas_session0\d holds 9 trial volume\(s\) but responses.tsv lists "
                                                 r"8 trial\(s\)"):
        NSDBetasSource(str(root), rois=["nsdgeneral"]).load("nsdgeneral")
