"""Small seeded fMRI files with planted responses, for the conformance suite and the tests.

Every writer returns the paths it wrote together with the planted ground truth, so a test can check
that a source recovers it. Without ``folder`` the files go to a temporary folder removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TOY_AFFINE", "write_toy_betas", "write_toy_runs", "simulate_bold"]

#: 2 mm voxels, the grid's first voxel at (-6, -6, -4) mm: voxel (i, j, k) is at (2i - 6, 2j - 6, 2k - 4).
TOY_AFFINE = np.array([[2.0, 0, 0, -6.0], [0, 2.0, 0, -6.0], [0, 0, 2.0, -4.0], [0, 0, 0, 1.0]])


def _folder(folder: str | Path | None) -> Path:
    if folder is not None:
        p = Path(folder)
        p.mkdir(parents=True, exist_ok=True)
        return p
    tmp = tempfile.mkdtemp(prefix="neurorep-fmri-")
    atexit.register(shutil.rmtree, tmp, True)
    return Path(tmp)


def _save(data: np.ndarray, path: Path, affine: np.ndarray = TOY_AFFINE, tr: float | None = None) -> str:
    import nibabel as nib

    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    if tr is not None:
        zooms = tuple(img.header.get_zooms()[:3]) + (float(tr),)
        img.header.set_zooms(zooms)
    nib.save(img, str(path))
    return str(path)


def _atlas(shape: tuple[int, int, int]) -> np.ndarray:
    atlas = np.zeros(shape, dtype=np.int16)
    atlas[:, : shape[1] // 2] = 1
    atlas[:, shape[1] // 2:] = 2
    atlas[0] = 0
    return atlas


def write_toy_betas(folder: str | Path | None = None, *, n_stimuli: int = 6, n_repeats: int = 2,
                    shape: tuple[int, int, int] = (6, 6, 4), noise: float = 0.05, seed: int = 0) -> dict[str, Any]:
    """One 3D beta map per (repeat, stimulus) with planted patterns, a mask, an atlas and its lookup table.

    Returns
    -------
    dict
        ``betas`` (list of paths, repeat-major), ``ids`` (one per map), ``mask``, ``atlas``, ``lut``,
        ``center`` (a world coordinate inside the mask), ``patterns`` (n_stimuli, *shape), ``brain``.
    """
    out = _folder(folder)
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((n_stimuli,) + shape)
    brain = np.zeros(shape, dtype=bool)
    brain[1:-1, 1:-1, :] = True
    betas, ids = [], []
    for r in range(n_repeats):
        for s in range(n_stimuli):
            vol = np.where(brain, patterns[s] + noise * rng.standard_normal(shape), 0.0).astype(np.float32)
            betas.append(_save(vol, out / f"beta_rep{r}_stim{s:02d}.nii.gz"))
            ids.append(f"stim-{s:02d}")
    mask = _save(brain.astype(np.uint8), out / "mask.nii.gz")
    atlas = _save(_atlas(shape), out / "atlas.nii.gz")
    lut = out / "atlas.tsv"
    lut.write_text("index\tname\n1\tleft-half\n2\tright-half\n")
    center = [float(v) for v in TOY_AFFINE[:3, :3] @ (np.array(shape) // 2) + TOY_AFFINE[:3, 3]]
    return {"betas": betas, "ids": ids, "mask": mask, "atlas": atlas, "lut": str(lut), "center": center,
            "patterns": patterns, "brain": brain, "folder": str(out)}


def simulate_bold(events: Any, n_scans: int, t_r: float, patterns: dict[str, np.ndarray], *,
                  baseline: float = 100.0, noise: float = 0.1, rng: np.random.Generator) -> np.ndarray:
    """A 4D run whose voxels respond to each event's ``trial_type`` with ``patterns[trial_type]``.

    The time course of each trial type is its boxcar convolved with nilearn's Glover HRF (no drift);
    the result is ``baseline + sum_c course_c * pattern_c + noise``.
    """
    from nilearn.glm.first_level import make_first_level_design_matrix

    frame_times = np.arange(n_scans) * t_r
    dm = make_first_level_design_matrix(frame_times, events[["onset", "duration", "trial_type"]],
                                        hrf_model="glover", drift_model=None)
    shape = next(iter(patterns.values())).shape
    Y = np.full(shape + (n_scans,), baseline, dtype=float)
    for c, pat in patterns.items():
        if c in dm.columns:
            Y += pat[..., None] * dm[c].to_numpy()[None, None, None, :]
    Y += noise * rng.standard_normal(Y.shape)
    return Y


def write_toy_runs(folder: str | Path | None = None, *, n_runs: int = 2, conditions: tuple[str, ...] = ("a", "b", "c"),
                   shape: tuple[int, int, int] = (5, 5, 3), t_r: float = 2.0, n_scans: int = 60,
                   amplitude: float = 3.0, noise: float = 0.2, seed: int = 0,
                   brain: np.ndarray | None = None) -> dict[str, Any]:
    """BOLD runs with planted condition patterns, BIDS events files, a mask, an atlas and its lookup table.

    Each run shows every condition twice (8 s blocks, order shuffled per run). Voxels outside
    ``brain`` (default: all but the plane x = 0) are 0, as after skull stripping.

    Returns
    -------
    dict
        ``bold``, ``events`` (paths, one per run), ``mask``, ``atlas``, ``lut``, ``t_r``, ``patterns``
        (condition -> array of shape ``shape``), ``brain``.
    """
    import pandas as pd

    out = _folder(folder)
    rng = np.random.default_rng(seed)
    patterns = {c: amplitude * rng.standard_normal(shape) for c in conditions}
    if brain is None:
        brain = np.zeros(shape, dtype=bool)
        brain[1:, :, :] = True
    brain = np.asarray(brain, dtype=bool)
    bold, events = [], []
    for r in range(n_runs):
        order = list(rng.permutation(list(conditions) * 2))
        onsets = 6.0 + 14.0 * np.arange(len(order))
        ev = pd.DataFrame({"onset": onsets, "duration": 8.0, "trial_type": order})
        if float(onsets[-1] + 8.0) > n_scans * t_r:
            raise ValueError(f"write_toy_runs: {len(order)} blocks need more than n_scans={n_scans} volumes")
        Y = simulate_bold(ev, n_scans, t_r, patterns, noise=noise, rng=rng).astype(np.float32)
        Y[~brain] = 0.0  # background outside the brain, as after skull stripping
        bold.append(_save(Y, out / f"run-{r + 1}_bold.nii.gz", tr=t_r))
        p = out / f"run-{r + 1}_events.tsv"
        ev.to_csv(p, sep="\t", index=False)
        events.append(str(p))
    mask = _save(brain.astype(np.uint8), out / "mask.nii.gz")
    atlas = _save(_atlas(shape), out / "atlas.nii.gz")
    lut = out / "atlas.txt"
    lut.write_text("# label name\n0 Unknown\n1 left-half\n2 right-half\n")
    return {"bold": bold, "events": events, "mask": mask, "atlas": atlas, "lut": str(lut), "t_r": t_r,
            "patterns": patterns, "brain": brain, "folder": str(out)}


def write_toy_bids(folder: str | Path | None = None, *, subject: str = "01", task: str = "objects",
                   space: str = "MNI152NLin2009cAsym", session: str | None = "1", n_runs: int = 2,
                   conditions: tuple[str, ...] = ("face", "house", "chair"), shape: tuple[int, int, int] = (5, 5, 3),
                   t_r: float = 2.0, n_scans: int = 60, amplitude: float = 3.0, noise: float = 0.2,
                   seed: int = 1) -> dict[str, Any]:
    """A raw BIDS dataset with an fMRIPrep-style derivatives folder and planted condition patterns.

    Raw: ``sub-<s>/ses-<ses>/func/*_events.tsv`` (with an ``n/a`` column), ``task-<t>_bold.json``
    holding ``RepetitionTime``. Derivatives (``derivatives/fmriprep``): per run the
    ``space-<space>_desc-preproc_bold.nii.gz`` (its header TR is deliberately 1 s: the sidecar is
    authoritative), ``desc-brain_mask.nii.gz`` and ``desc-confounds_timeseries.tsv``; plus a
    ``space-T1w`` BOLD that must be ignored.

    Returns
    -------
    dict
        ``bids_dir``, ``derivatives``, ``patterns`` (condition -> array), ``brain``, ``t_r``,
        ``runs`` (the BOLD paths, in order).
    """
    import json

    import pandas as pd

    root = _folder(folder)
    rng = np.random.default_rng(seed)
    patterns = {c: amplitude * rng.standard_normal(shape) for c in conditions}
    brain = np.zeros(shape, dtype=bool)
    brain[:, 1:, :] = True
    ses_dir = f"ses-{session}" if session is not None else ""
    ses_ent = f"_ses-{session}" if session is not None else ""
    raw_func = root / f"sub-{subject}" / ses_dir / "func"
    der_func = root / "derivatives" / "fmriprep" / f"sub-{subject}" / ses_dir / "func"
    raw_func.mkdir(parents=True, exist_ok=True)
    der_func.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(json.dumps({"Name": "toy", "BIDSVersion": "1.8.0"}))
    (root / "derivatives" / "fmriprep" / "dataset_description.json").write_text(
        json.dumps({"Name": "fMRIPrep toy", "BIDSVersion": "1.8.0", "DatasetType": "derivative"}))
    (root / f"task-{task}_bold.json").write_text(json.dumps({"RepetitionTime": t_r, "TaskName": task}))
    runs = []
    for r in range(1, n_runs + 1):
        stem = f"sub-{subject}{ses_ent}_task-{task}_run-{r}"
        order = list(rng.permutation(list(conditions) * 2))
        onsets = 6.0 + 14.0 * np.arange(len(order))
        ev = pd.DataFrame({"onset": onsets, "duration": 8.0, "trial_type": order,
                           "response_time": ["n/a"] * len(order)})
        ev.to_csv(raw_func / f"{stem}_events.tsv", sep="\t", index=False)
        Y = simulate_bold(ev, n_scans, t_r, patterns, noise=noise, rng=rng).astype(np.float32)
        Y[~brain] = 0.0
        bold = _save(Y, der_func / f"{stem}_space-{space}_desc-preproc_bold.nii.gz", tr=1.0)
        runs.append(bold)
        (der_func / f"{stem}_space-{space}_desc-preproc_bold.json").write_text(json.dumps({"SkullStripped": False}))
        _save(brain.astype(np.uint8), der_func / f"{stem}_space-{space}_desc-brain_mask.nii.gz")
        _save(rng.standard_normal(shape + (4,)).astype(np.float32),
              der_func / f"{stem}_space-T1w_desc-preproc_bold.nii.gz", tr=1.0)
        conf = pd.DataFrame({"trans_x": 0.01 * rng.standard_normal(n_scans),
                             "framewise_displacement": ["n/a"] + list(np.abs(0.1 * rng.standard_normal(n_scans - 1)))})
        conf.to_csv(der_func / f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False)
    return {"bids_dir": str(root), "derivatives": str(root / "derivatives" / "fmriprep"), "patterns": patterns,
            "brain": brain, "t_r": t_r, "runs": runs, "folder": str(root)}


def write_toy_nsd(folder: str | Path | None = None, *, subject: int = 1, space: str = "func1pt8mm",
                  betas: str = "betas_fithrf_GLMdenoise_RR", n_sessions: int = 2,
                  images: tuple[int, ...] = (101, 2050, 33, 46000, 7, 512), presentations: int = 3,
                  shape: tuple[int, int, int] = (6, 5, 4), session_offset: float = 0.0, seed: int = 2
                  ) -> dict[str, Any]:
    """A Natural Scenes Dataset-style tree with planted image patterns.

    Every image (a 1-based 73k id) is shown ``presentations`` times, spread over ``n_sessions`` sessions
    in a shuffled order; the betas of a trial are its image's pattern plus ``session_offset`` times a
    per-session voxel pattern, stored as int16 x 300 (percent signal change, NSD's convention). ROI
    volumes: ``nsdgeneral`` (1 for y >= 2) and ``prf-visualrois`` (labels 1-3 = V1v, V1d, V2v on the planes
    y = 2, 3, 4), -1 outside the brain (the plane x = 0), with a ``.ctab`` for ``prf-visualrois``.
    ``responses.tsv`` lists the trials in a shuffled row order.

    Returns
    -------
    dict
        ``root``, ``patterns`` (73KID -> array of shape ``shape``), ``offsets`` (session -> array),
        ``trials`` (the DataFrame of trials in betas order), ``brain``.
    """
    import pandas as pd

    root = _folder(folder)
    rng = np.random.default_rng(seed)
    subj = f"subj{subject:02d}"
    brain = np.ones(shape, dtype=bool)
    brain[0] = False
    patterns = {k: np.where(brain, rng.uniform(-3, 3, shape), 0.0) for k in images}
    offsets = {s: session_offset * np.where(brain, rng.standard_normal(shape), 0.0) for s in range(1, n_sessions + 1)}
    order = list(rng.permutation(list(images) * presentations))
    per = int(np.ceil(len(order) / n_sessions))
    rows = []
    bdir = root / "nsddata_betas" / "ppdata" / subj / space / betas
    bdir.mkdir(parents=True, exist_ok=True)
    for s in range(1, n_sessions + 1):
        chunk = order[(s - 1) * per: s * per]
        vols = []
        for t, k in enumerate(chunk):
            run, trial = 1 + t // 5, 1 + t % 5
            rows.append({"SUBJECT": subject, "SESSION": s, "RUN": run, "TRIAL": trial, "73KID": int(k),
                         "10KID": 1 + images.index(k), "ISOLD": 0})
            vols.append(np.where(brain, patterns[k] + offsets[s], 0.0))
        data = np.rint(np.stack(vols, axis=3) * 300).astype(np.int16)
        _save(data, bdir / f"betas_session{s:02d}.nii.gz")
    trials = pd.DataFrame(rows)
    behav = root / "nsddata" / "ppdata" / subj / "behav"
    behav.mkdir(parents=True, exist_ok=True)
    trials.sample(frac=1.0, random_state=seed).to_csv(behav / "responses.tsv", sep="\t", index=False)
    roi = root / "nsddata" / "ppdata" / subj / space / "roi"
    roi.mkdir(parents=True, exist_ok=True)
    general = np.where(brain, 0, -1).astype(np.int16)
    general[1:, 2:, :] = 1
    _save(general, roi / "nsdgeneral.nii.gz")
    visual = np.where(brain, 0, -1).astype(np.int16)
    for label, y in ((1, 2), (2, 3), (3, 4)):
        visual[1:, y, :] = label
    _save(visual, roi / "prf-visualrois.nii.gz")
    label_dir = root / "nsddata" / "freesurfer" / subj / "label"
    label_dir.mkdir(parents=True, exist_ok=True)
    (label_dir / "prf-visualrois.mgz.ctab").write_text("0 Unknown\n1 V1v\n2 V1d\n3 V2v\n")
    return {"root": str(root), "patterns": patterns, "offsets": offsets,
            "trials": trials.sort_values(["SESSION", "RUN", "TRIAL"]).reset_index(drop=True), "brain": brain,
            "folder": str(root)}
