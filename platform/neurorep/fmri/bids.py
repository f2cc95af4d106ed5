"""Users' own data in BIDS: fMRIPrep derivatives (preprocessed BOLD, brain masks, confounds) and the raw
dataset's events, fitted with nilearn's GLM (``source.bids-glm``).

The layout read (``[ses-<s>/]`` and ``_run-<r>`` optional; extra entities such as ``res-2`` may be
pinned with ``filters``)::

    <bids_dir>/sub-<s>/[ses-<s>/]func/sub-<s>_[ses-<s>_]task-<t>_[run-<r>_]events.tsv
    <bids_dir>/sub-<s>/.../func/sub-<s>_..._bold.json                (RepetitionTime, optional)
    <bids_dir>/task-<t>_bold.json                                    (RepetitionTime, optional)
    <derivatives>/sub-<s>/[ses-<s>/]func/
        sub-<s>_..._space-<space>_desc-preproc_bold.nii.gz            (4D BOLD)
        sub-<s>_..._space-<space>_desc-preproc_bold.json              (RepetitionTime, optional)
        sub-<s>_..._space-<space>_desc-brain_mask.nii.gz              (optional)
        sub-<s>_..._desc-confounds_timeseries.tsv                     (optional)

``<derivatives>`` defaults to ``<bids_dir>/derivatives/fmriprep`` (or ``<bids_dir>/derivatives``).
Files are found with nilearn's BIDS helpers (``get_bids_files``, ``parse_bids_filename``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import InvalidInputError
from .sources import GLM_PARAMS_DOC, SITE_PARAMS_DOC, _GLMBase, _RunInputs

__all__ = ["BIDSRun", "find_fmriprep_runs", "BIDSGLMSource"]


@dataclass
class BIDSRun:
    """One preprocessed run and its companion files."""

    entities: dict[str, str]
    bold: Path
    events: Path
    mask: Path | None = None
    confounds: Path | None = None
    t_r: float | None = None
    t_r_source: str = ""
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _strip_label(value: str | int | None, prefix: str) -> str | None:
    if value is None:
        return None
    v = str(value)
    return v[len(prefix) + 1:] if v.startswith(prefix + "-") else v


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    if a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a == b


def _sidecar_tr(path: Path) -> float | None:
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    tr = meta.get("RepetitionTime") if isinstance(meta, dict) else None
    return float(tr) if isinstance(tr, (int, float)) and tr > 0 else None


def find_fmriprep_runs(bids_dir: str | Path, *, subject: str, task: str, space: str,
                       derivatives_dir: str | Path | None = None, sessions: list[str] | None = None,
                       runs: list[str | int] | None = None, filters: dict[str, str] | None = None,
                       owner: str = "BIDS reader") -> list[BIDSRun]:
    """Find a subject's preprocessed runs of one task in one space, with their raw events.

    Parameters
    ----------
    bids_dir : path
        The raw BIDS dataset (holds the ``*_events.tsv`` files).
    subject, task, space : str
        Entity labels (``"01"`` or ``"sub-01"``; ``"MNI152NLin2009cAsym"``).
    derivatives_dir : path, optional
        The fMRIPrep output folder; default ``<bids_dir>/derivatives/fmriprep`` or ``<bids_dir>/derivatives``.
    sessions : list of str, optional
        Keep these sessions only.
    runs : list of str or int, optional
        Keep these runs only.
    filters : dict, optional
        Further entities the BOLD file must carry (e.g. ``{"res": "2"}``).
    owner : str
        The component named in error messages.

    Returns
    -------
    list of BIDSRun
        Sorted by session and run.
    """
    from nilearn.interfaces.bids import get_bids_files, parse_bids_filename

    bids_dir = Path(bids_dir)
    sub = _strip_label(subject, "sub")
    task = _strip_label(task, "task")
    if not bids_dir.is_dir():
        raise FileNotFoundError(f"{owner}: bids_dir {bids_dir} is not a folder; expected the raw BIDS dataset "
                                "(with sub-*/func/*_events.tsv).")
    if derivatives_dir is None:
        candidates = [bids_dir / "derivatives" / "fmriprep", bids_dir / "derivatives"]
        deriv = next((c for c in candidates if c.is_dir()), None)
        if deriv is None:
            raise FileNotFoundError(f"{owner}: no derivatives folder: looked for {[str(c) for c in candidates]}. "
                                    "Pass derivatives_dir='<fMRIPrep output folder>'.")
    else:
        deriv = Path(derivatives_dir)
        if not deriv.is_dir():
            raise FileNotFoundError(f"{owner}: derivatives_dir {deriv} is not a folder.")
    want = [("task", task), ("space", space), ("desc", "preproc")] + sorted((filters or {}).items())
    found = get_bids_files(deriv, file_tag="bold", file_type="nii*", sub_label=sub, modality_folder="func",
                           filters=want)
    pattern = (f"sub-{sub}/[ses-*/]func/sub-{sub}_[ses-*_]task-{task}_[run-*_]space-{space}_"
               "desc-preproc_bold.nii.gz")
    if not found:
        others = get_bids_files(deriv, file_tag="bold", file_type="nii*", sub_label=sub, modality_folder="func")
        seen = sorted({(e.get("task"), e.get("space"), e.get("desc"))
                       for e in (parse_bids_filename(f)["entities"] for f in others)})
        have = ("; it holds (task, space, desc) = " + ", ".join(map(str, seen[:8]))) if seen else \
            f"; it holds no BOLD file for sub-{sub}"
        raise FileNotFoundError(f"{owner}: no preprocessed BOLD in {deriv} matching {pattern}"
                                f"{' with ' + str(filters) if filters else ''}{have}. Check subject, task and space.")
    out: list[BIDSRun] = []
    for f in found:
        ref = parse_bids_filename(f)
        ent = dict(ref["entities"])
        if sessions is not None and not any(_same(ent.get("ses"), _strip_label(s, "ses")) for s in sessions):
            continue
        if runs is not None and not any(_same(ent.get("run"), _strip_label(r, "run")) for r in runs):
            continue
        bold = Path(f)
        base = ref["file_basename"]
        stem = base[: base.index("_desc-preproc_bold")]
        mask = bold.parent / f"{stem}_desc-brain_mask.nii.gz"
        keys = [k for k in ("sub", "ses", "task", "acq", "ce", "rec", "dir", "run", "echo") if k in ent]
        raw_stem = "_".join(f"{k}-{ent[k]}" for k in keys)
        conf = next((p for p in (bold.parent / f"{raw_stem}_desc-confounds_timeseries.tsv",
                                 bold.parent / f"{raw_stem}_desc-confounds_regressors.tsv") if p.is_file()), None)
        ev_filters = [(k, ent[k]) for k in keys if k not in ("sub", "echo")]
        events = get_bids_files(bids_dir, file_tag="events", file_type="tsv", sub_label=sub, modality_folder="func",
                                filters=ev_filters)
        events = [e for e in events if _same(parse_bids_filename(e)["entities"].get("run"), ent.get("run"))]
        if not events:
            top = bids_dir / f"task-{task}_events.tsv"
            if top.is_file():
                events = [str(top)]
        ses_dir = f"ses-{ent['ses']}/" if "ses" in ent else ""
        raw_ev_stem = "_".join(f"{k}-{ent[k]}" for k in keys if k != "echo")
        if not events:
            raise FileNotFoundError(
                f"{owner}: no events file for {bold.name}: expected {bids_dir}/sub-{sub}/{ses_dir}func/"
                f"{raw_ev_stem}_events.tsv (or {bids_dir}/task-{task}_events.tsv). The events are read from the raw "
                "dataset (bids_dir), not from the derivatives.")
        if len(events) > 1:
            raise InvalidInputError(f"{owner}: several events files match {bold.name}: {events}; pin the run with "
                                    "filters={...} (e.g. acq).")
        tr, tr_from = None, ""
        for side, what in ((bold.parent / base.replace(".nii.gz", ".json").replace(".nii", ".json"),
                            "derivative sidecar"),
                           (bids_dir / f"sub-{sub}" / ses_dir.rstrip("/") / "func" / f"{raw_ev_stem}_bold.json",
                            "raw sidecar"),
                           (bids_dir / f"task-{task}_bold.json", "top-level sidecar")):
            tr = _sidecar_tr(side)
            if tr is not None:
                tr_from = f"{what} {side.name} (RepetitionTime)"
                break
        label = " ".join(f"{k}-{ent[k]}" for k in ("sub", "ses", "task", "run") if k in ent)
        out.append(BIDSRun(entities=ent, bold=bold, events=Path(events[0]), mask=mask if mask.is_file() else None,
                           confounds=conf, t_r=tr, t_r_source=tr_from, label=label))
    if not out:
        raise FileNotFoundError(f"{owner}: {len(found)} preprocessed run(s) of task {task!r} in space {space!r} were "
                                f"found for sub-{sub}, but none in sessions={sessions} / runs={runs}.")

    def order(r: BIDSRun) -> tuple:
        def key(v: str | None) -> tuple:
            return (0, int(v), "") if v is not None and v.isdigit() else (1, 0, v or "")
        return (key(r.entities.get("ses")), key(r.entities.get("run")), r.bold.name)

    out.sort(key=order)
    return out


class BIDSGLMSource(_GLMBase):
    __doc__ = """GLM estimates from an fMRIPrep derivatives folder and the raw BIDS events (least-squares-all or
    least-squares-separate), as :class:`~neurorep.fmri.sources.GLMSource`.

    Finds ``sub-<s>/[ses-*/]func/*_task-<t>_*space-<space>_desc-preproc_bold.nii.gz`` in the
    derivatives, each run's ``*_events.tsv`` in the raw dataset, the TR in the JSON sidecars
    (``RepetitionTime``; else the NIfTI header), fMRIPrep's ``desc-brain_mask`` (the intersection
    over runs) and, when ``confound_columns`` is given, the ``desc-confounds_timeseries.tsv``
    columns. Runs are ordered by session then run; with ``estimator="lsa"`` they are the repeats axis.

    Parameters
    ----------
    bids_dir : str
        The raw BIDS dataset (its ``*_events.tsv`` files are used).
    subject : str
        Subject label (``"01"`` or ``"sub-01"``).
    task : str
        Task label.
    space : str, default="MNI152NLin2009cAsym"
        The ``space-`` entity of the preprocessed BOLD.
    derivatives_dir : str, optional
        The fMRIPrep output folder; default ``<bids_dir>/derivatives/fmriprep`` (or ``<bids_dir>/derivatives``).
    sessions : list of str, optional
        Use these sessions only (default: all).
    runs : list of str or int, optional
        Use these runs only (default: all).
    filters : dict, optional
        Further entities the BOLD files must carry, e.g. ``{"res": "2"}``.
    mask : str, optional
        A 3D mask on the BOLD grid; default: fMRIPrep's brain masks (intersection over runs), or
        nilearn's EPI mask when they are absent.""" + GLM_PARAMS_DOC + SITE_PARAMS_DOC + "\n    "

    id = "source.bids-glm"
    version = "1.0.0"
    citation = ("Esteban O, Markiewicz CJ, Blair RW, et al. (2019). fMRIPrep: a robust preprocessing pipeline for "
                "functional MRI. Nat Methods 16:111-116. doi:10.1038/s41592-018-0235-4")
    description = "GLM estimates (LSA/LSS) from fMRIPrep derivatives + raw BIDS events (nilearn)"

    def __init__(self, bids_dir: str, subject: str, task: str, space: str = "MNI152NLin2009cAsym",
                 derivatives_dir: str | None = None, sessions: list[str] | None = None,
                 runs: list[str | int] | None = None, filters: dict[str, str] | None = None, mask: str | None = None,
                 estimator: Literal["lsa", "lss"] = "lsa", stimulus_column: str = "trial_type",
                 conditions: list[str] | None = None, lss_others: Literal["all", "condition"] = "all",
                 output_type: Literal["effect_size", "stat", "z_score"] = "effect_size", t_r: float | None = None,
                 hrf_model: str | None = "glover", drift_model: str | None = "cosine", high_pass: float = 0.01,
                 noise_model: Literal["ar1", "ols"] = "ar1", smoothing_fwhm: float | None = None,
                 signal_scaling: bool = True, standardize: bool = False, confound_columns: list[str] | None = None,
                 whole_brain: bool = True, atlas: str | None = None,
                 atlas_labels: str | dict[str, int] | None = None, rois: list[str | int] | None = None,
                 spheres: dict[str, list[float]] | list[list[float]] | None = None, radius: float = 6.0,
                 roi_mode: Literal["voxels", "means"] = "voxels", resample: bool = False):
        self.bids_dir = bids_dir
        self.subject = subject
        self.task = task
        self.space = space
        self.derivatives_dir = derivatives_dir
        self.sessions = sessions
        self.runs = runs
        self.filters = filters
        self.mask = mask
        self.estimator = estimator
        self.stimulus_column = stimulus_column
        self.conditions = conditions
        self.lss_others = lss_others
        self.output_type = output_type
        self.t_r = t_r
        self.hrf_model = hrf_model
        self.drift_model = drift_model
        self.high_pass = high_pass
        self.noise_model = noise_model
        self.smoothing_fwhm = smoothing_fwhm
        self.signal_scaling = signal_scaling
        self.standardize = standardize
        self.confound_columns = confound_columns
        self.whole_brain = whole_brain
        self.atlas = atlas
        self.atlas_labels = atlas_labels
        self.rois = rois
        self.spheres = spheres
        self.radius = radius
        self.roi_mode = roi_mode
        self.resample = resample

    @classmethod
    def _conformance_instances(cls) -> list[BIDSGLMSource]:
        """A two-run fMRIPrep-style tree with planted responses in a temporary folder removed at exit."""
        from ._toy import write_toy_bids

        d = write_toy_bids()
        return [cls(d["bids_dir"], subject="01", task="objects", space="MNI152NLin2009cAsym", noise_model="ols")]

    def find_runs(self) -> list[BIDSRun]:
        """The runs this source uses (no image is read)."""
        return find_fmriprep_runs(self.bids_dir, subject=self.subject, task=self.task, space=self.space,
                                  derivatives_dir=self.derivatives_dir, sessions=self.sessions, runs=self.runs,
                                  filters=self.filters, owner=self._owner())

    def _run_inputs(self) -> _RunInputs:
        runs = self.find_runs()
        trs = {r.t_r for r in runs if r.t_r is not None}
        if len(trs) > 1:
            raise InvalidInputError(f"{self._owner()}: the sidecars give different repetition times {sorted(trs)} s "
                                    "for the runs; pass t_r=<seconds> or fit runs of one TR together.")
        t_r = next(iter(trs)) if trs and all(r.t_r is not None for r in runs) else None
        masks = [str(r.mask) for r in runs if r.mask is not None]
        if self.confound_columns is not None:
            missing = [r.label for r in runs if r.confounds is None]
            if missing:
                raise FileNotFoundError(f"{self._owner()}: confound_columns were given but {missing} have no "
                                        "*_desc-confounds_timeseries.tsv next to their BOLD; drop confound_columns "
                                        "or add the confounds files.")
            confounds = [str(r.confounds) for r in runs]
        else:
            confounds = None
        return _RunInputs(bold=[str(r.bold) for r in runs], events=[str(r.events) for r in runs], confounds=confounds,
                          labels=[r.label for r in runs], mask=masks if len(masks) == len(runs) else None,
                          t_r=t_r, t_r_source=runs[0].t_r_source if t_r is not None else "",
                          extra={"bids_dir": str(self.bids_dir), "subject": str(self.subject),
                                 "task": str(self.task), "space": self.space,
                                 "events": [str(r.events) for r in runs]})
