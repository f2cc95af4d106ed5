"""Per-condition and per-trial response estimates from 4D BOLD and events, through nilearn's GLM.

Two estimators, both fitting nilearn's :class:`~nilearn.glm.first_level.FirstLevelModel` one run
at a time:

``lsa`` (least-squares-all)
    One regressor per stimulus (condition) per run; the run's estimates for every stimulus come
    from one model. Runs are kept as the repeats axis: ``repeats`` has shape
    ``(n_runs, n_stimuli, n_voxels)``, so every run must show every stimulus.
``lss`` (least-squares-separate; Mumford et al. 2012)
    One model per trial: the trial's own regressor against one regressor for all the other
    trials (``lss_others="all"``) or one per other condition (``"condition"``). A stimulus shown
    several times gets one estimate per presentation; ``repeats`` holds them in presentation order
    when every stimulus was shown equally often.

Events are BIDS-style tables (``onset``, ``duration`` in seconds from the run's first volume, and
the column naming the stimulus, ``trial_type`` by default); events of trial types that are not
stimuli (``conditions``) are modelled as nuisance regressors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError

__all__ = ["RunData", "GLMEstimates", "read_events", "check_events", "read_confounds", "estimate_responses",
           "group_repeats", "GLM_OPTIONS"]

#: FirstLevelModel options the sources expose, with their defaults (nilearn's own).
GLM_OPTIONS: dict[str, Any] = {"hrf_model": "glover", "drift_model": "cosine", "high_pass": 0.01,
                               "noise_model": "ar1", "smoothing_fwhm": None, "signal_scaling": True,
                               "standardize": False}
OUTPUT_TYPES = ("effect_size", "stat", "z_score")


@dataclass
class RunData:
    """One run: the 4D BOLD image (on the mask's grid), its events and optional confounds.

    ``img`` may be None with a ``loader`` returning the complete RunData, so that runs are read one
    at a time while fitting.
    """

    img: Any
    events: Any  # pandas.DataFrame
    label: str
    confounds: Any = None  # pandas.DataFrame or None
    loader: Callable[[], RunData] | None = None

    def loaded(self) -> RunData:
        """This run with its image read (``loader()`` when ``img`` is None)."""
        if self.img is None and self.loader is not None:
            return self.loader()
        return self


@dataclass
class GLMEstimates:
    """Response estimates inside the mask.

    Attributes
    ----------
    ids : tuple of str
        The stimuli, in order of first appearance.
    data : ndarray of shape (n_stimuli, n_voxels)
        Mean over repeats.
    repeats : ndarray of shape (n_repeats, n_stimuli, n_voxels) or None
        Runs (LSA) or presentations (LSS); None when stimuli were shown unequally often (LSS).
    estimates : ndarray of shape (n_estimates, n_voxels)
        Every estimate, one per (run, stimulus) for LSA and one per trial for LSS.
    table : pandas.DataFrame
        One row per estimate: ``run``, ``stimulus``, ``onset``, ``duration``, ``repeat``.
    """

    ids: tuple[str, ...]
    data: np.ndarray
    repeats: np.ndarray | None
    estimates: np.ndarray
    table: Any
    info: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- events

def read_events(source: Any, *, owner: str, what: str = "events", stimulus_column: str = "trial_type") -> Any:
    """Read a BIDS events table (``.tsv``, ``n/a`` = missing) or check a DataFrame.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
    owner, what : str
        For messages.
    stimulus_column : str, default="trial_type"
        The column that must exist besides ``onset`` and ``duration``.

    Returns
    -------
    pandas.DataFrame
        With float ``onset`` and ``duration`` and a str ``stimulus_column``.
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        df = source.copy()
        where = what
    else:
        p = Path(source)
        if not p.is_file():
            raise FileNotFoundError(f"{owner}: {what} file {p} does not exist.")
        sep = "," if p.suffix.lower() == ".csv" else "\t"
        try:
            df = pd.read_csv(p, sep=sep, na_values=["n/a", "N/A"], keep_default_na=True)
        except Exception as exc:
            raise InvalidInputError(f"{owner}: {what} file {p} could not be read as a tab-separated table "
                                    f"({type(exc).__name__}: {exc}).") from exc
        where = f"{what} file {p}"
    need = ["onset", "duration", stimulus_column]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InvalidInputError(f"{owner}: {where} lacks the column(s) {missing}; it has {list(df.columns)}. "
                                f"Expected a BIDS events table with onset, duration (s) and {stimulus_column!r}.")
    for c in ("onset", "duration"):
        vals = pd.to_numeric(df[c], errors="coerce")
        bad = vals.isna() | ~np.isfinite(vals.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidInputError(f"{owner}: {where}: {c} of row {i} is {df[c].iloc[i]!r}; expected a finite "
                                    "number of seconds in every row.")
        df[c] = vals.astype(float)
    if (df["duration"] < 0).any():
        i = int(np.flatnonzero((df["duration"] < 0).to_numpy())[0])
        raise InvalidInputError(f"{owner}: {where}: row {i} has a negative duration ({df['duration'].iloc[i]}).")
    if df[stimulus_column].isna().any():
        i = int(np.flatnonzero(df[stimulus_column].isna().to_numpy())[0])
        raise InvalidInputError(f"{owner}: {where}: row {i} has no {stimulus_column!r} value; every event needs one "
                                "(drop the row or give it a name).")
    df[stimulus_column] = df[stimulus_column].astype(str)
    return df.reset_index(drop=True)


def check_events(events: Any, n_scans: int, t_r: float, *, owner: str, what: str = "events") -> None:
    """Raise if an event lies outside the scan: it ends after the last volume (``n_scans * t_r``) or before 0.

    Parameters
    ----------
    events : pandas.DataFrame
        With ``onset`` and ``duration`` in seconds from the first volume.
    n_scans : int
    t_r : float
    owner, what : str
        For messages.
    """
    end_scan = n_scans * t_r
    ends = events["onset"].to_numpy(float) + events["duration"].to_numpy(float)
    tol = 1e-6 * max(1.0, end_scan)
    late = np.flatnonzero(ends > end_scan + tol)
    early = np.flatnonzero(ends <= 0)
    bad = np.union1d(late, early)
    if bad.size == 0:
        return
    i = int(bad[0])
    row = events.iloc[i]
    label = next((str(row[c]) for c in ("trial_type",) if c in events.columns), f"row {i}")
    raise InvalidInputError(
        f"{owner}: {what}: {bad.size} event(s) lie outside the scan, e.g. {label!r} "
        f"(row {i}: onset {row['onset']:g} s, duration {row['duration']:g} s, ending at {ends[i]:g} s); "
        f"the scan has {n_scans} volumes x TR {t_r:g} s = {end_scan:g} s. Expected every event to end within "
        f"(0, {end_scan:g}] s. Check that the events file belongs to this run, that the TR is right (t_r, or the "
        "image header/sidecar), and that onsets count from the first volume kept (subtract removed dummy scans); "
        "or trim the events.")


def read_confounds(source: Any, n_scans: int, columns: Sequence[str] | None, *, owner: str,
                   what: str = "confounds") -> Any:
    """Read a confounds table (fMRIPrep ``*_desc-confounds_timeseries.tsv``), one row per volume.

    Leading missing values (the first row of derivative and displacement columns) become 0; any other
    missing value is an error.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
    n_scans : int
        The run's number of volumes (rows expected).
    columns : list of str, optional
        The columns to keep (None = all).
    owner, what : str
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        p = Path(source)
        if not p.is_file():
            raise FileNotFoundError(f"{owner}: {what} file {p} does not exist.")
        df = pd.read_csv(p, sep="\t", na_values=["n/a", "N/A"])
    if columns is not None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise InvalidInputError(f"{owner}: {what} lack the column(s) {missing}; they have "
                                    f"{list(df.columns)[:20]}{'...' if df.shape[1] > 20 else ''}.")
        df = df[list(columns)]
    if len(df) != n_scans:
        raise InvalidInputError(f"{owner}: {what} have {len(df)} rows but the run has {n_scans} volumes; expected one "
                                "row per volume.")
    df = df.apply(pd.to_numeric, errors="coerce").astype(float)
    for c in df.columns:
        v = df[c].to_numpy()
        bad = ~np.isfinite(v)
        if bad.any():
            lead = np.argmax(~bad) if (~bad).any() else len(v)
            if bad[lead:].any():
                raise InvalidInputError(f"{owner}: {what} column {c!r} has missing/non-finite values after row "
                                        f"{lead}; expected numbers (only leading rows may be n/a).")
            df[c] = np.where(bad, 0.0, v)
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- estimation

def group_repeats(ids: Sequence[str], X: np.ndarray) -> tuple[tuple[str, ...], np.ndarray, np.ndarray | None,
                                                               np.ndarray]:
    """Group rows of ``X`` by id: ``(unique ids in first-appearance order, mean, repeats or None, repeat index)``.

    ``repeats`` has shape ``(k, n_unique, n_features)`` when every id occurs exactly ``k`` times (rows in
    order of occurrence), else None.
    """
    ids = [str(i) for i in ids]
    order: dict[str, list[int]] = {}
    for r, s in enumerate(ids):
        order.setdefault(s, []).append(r)
    uniq = tuple(order)
    counts = {len(v) for v in order.values()}
    data = np.stack([X[order[s]].mean(0) for s in uniq]) if uniq else np.zeros((0, X.shape[1]))
    rep_index = np.zeros(len(ids), dtype=int)
    for rows in order.values():
        rep_index[rows] = np.arange(len(rows))
    repeats = None
    if len(counts) == 1:
        k = counts.pop()
        repeats = np.stack([np.stack([X[order[s][j]] for s in uniq]) for j in range(k)])
    return uniq, data, repeats, rep_index


def _first_level(t_r: float, mask_img: Any, options: dict[str, Any]) -> Any:
    from nilearn.glm.first_level import FirstLevelModel

    scaling = options["signal_scaling"]
    extra = {"standardize": True} if options["standardize"] else {}  # nilearn's default (no z-scoring) otherwise
    return FirstLevelModel(
        t_r=t_r, mask_img=mask_img, hrf_model=options["hrf_model"], drift_model=options["drift_model"],
        high_pass=options["high_pass"], noise_model=options["noise_model"], smoothing_fwhm=options["smoothing_fwhm"],
        signal_scaling=0 if scaling else False, minimize_memory=True, **extra)


def _fit_and_contrast(run: RunData, design_events: Any, targets: Sequence[str], *, t_r: float, mask_img: Any,
                      brain: np.ndarray, options: dict[str, Any], output_type: str) -> np.ndarray:
    """Fit one FirstLevelModel on ``run`` and return the ``output_type`` map of each target regressor."""
    model = _first_level(t_r, mask_img, options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn's notes (e.g. on design matrix names and mask resampling)
        model.fit(run.img, events=design_events, confounds=run.confounds)
    cols = list(model.design_matrices_[0].columns)
    out = np.empty((len(targets), int(brain.sum())))
    for k, t in enumerate(targets):
        vec = np.zeros(len(cols))
        vec[cols.index(t)] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = model.compute_contrast(vec, stat_type="t", output_type=output_type)
        out[k] = np.asarray(img.dataobj)[brain]
    return out


def estimate_responses(runs: Sequence[RunData], *, t_r: float, mask_img: Any, brain: np.ndarray,
                       estimator: str = "lsa", stimulus_column: str = "trial_type",
                       conditions: Sequence[str] | None = None, lss_others: str = "all",
                       output_type: str = "effect_size", options: dict[str, Any] | None = None,
                       owner: str = "GLM") -> GLMEstimates:
    """LSA or LSS response estimates with nilearn's FirstLevelModel.

    Parameters
    ----------
    runs : list of RunData
        Each run's 4D image must be on ``mask_img``'s grid (runs with a ``loader`` are read one at a
        time); check the events against the scans first (:func:`check_events`).
    t_r : float
        Repetition time in seconds.
    mask_img : nibabel image
        The mask (nonzero = inside); ``brain`` is its boolean data.
    brain : ndarray of bool, 3D
    estimator : {"lsa", "lss"}, default="lsa"
    stimulus_column : str, default="trial_type"
        The events column whose values are the stimulus ids.
    conditions : list of str, optional
        The ``stimulus_column`` values that are stimuli; events with other values are nuisance
        regressors. None = every value.
    lss_others : {"all", "condition"}, default="all"
        LSS: the other trials in one regressor, or one regressor per other ``trial_type``.
    output_type : {"effect_size", "stat", "z_score"}, default="effect_size"
        What each estimate is: the beta, its t statistic, or its z score.
    options : dict, optional
        FirstLevelModel options (keys of :data:`GLM_OPTIONS`).
    owner : str
        The component named in error messages.
    """
    if estimator not in ("lsa", "lss"):
        raise InvalidInputError(f"{owner}: estimator must be 'lsa' or 'lss', got {estimator!r}.")
    if lss_others not in ("all", "condition"):
        raise InvalidInputError(f"{owner}: lss_others must be 'all' or 'condition', got {lss_others!r}.")
    if output_type not in OUTPUT_TYPES:
        raise InvalidInputError(f"{owner}: output_type must be one of {list(OUTPUT_TYPES)}, got {output_type!r}.")
    opts = {**GLM_OPTIONS, **(options or {})}
    import pandas as pd

    # the stimuli, in order of first appearance over the runs
    seen: dict[str, None] = {}
    for run in runs:
        seen.update(dict.fromkeys(run.events[stimulus_column]))
    all_values = list(seen)
    if conditions is not None:
        conds = [str(c) for c in conditions]
        absent = [c for c in conds if c not in all_values]
        if absent:
            raise InvalidInputError(f"{owner}: condition(s) {absent} occur in no events file; the {stimulus_column!r} "
                                    f"values are {all_values[:12]}{'...' if len(all_values) > 12 else ''}.")
        stim_values = [v for v in all_values if v in set(conds)]
    else:
        stim_values = all_values
    if not stim_values:
        raise InvalidInputError(f"{owner}: the events hold no stimulus trials.")
    regressor = {v: f"s{k:05d}" for k, v in enumerate(stim_values)}
    nuisance_names: dict[str, str] = {}
    other_names: dict[str, str] = {}

    def design(ev: Any, target_row: int | None = None) -> Any:
        is_stim = ev[stimulus_column].isin(regressor).to_numpy()
        tt = np.empty(len(ev), dtype=object)
        base = ev["trial_type"].astype(str).to_numpy() if "trial_type" in ev.columns else ev[stimulus_column].to_numpy()
        for i in range(len(ev)):
            if not is_stim[i]:
                tt[i] = nuisance_names.setdefault(base[i], f"n{len(nuisance_names):05d}")
            elif target_row is None:
                tt[i] = regressor[ev[stimulus_column].iloc[i]]
            elif i == target_row:
                tt[i] = "target"
            elif lss_others == "all":
                tt[i] = "others"
            else:
                tt[i] = other_names.setdefault(base[i], f"others{len(other_names):05d}")
        out = pd.DataFrame({"onset": ev["onset"].to_numpy(float), "duration": ev["duration"].to_numpy(float),
                            "trial_type": tt})
        if "modulation" in ev.columns:
            out["modulation"] = pd.to_numeric(ev["modulation"], errors="coerce").fillna(1.0).to_numpy(float)
        return out

    rows: list[dict[str, Any]] = []
    blocks: list[np.ndarray] = []
    for lazy in runs:
        run = lazy.loaded()
        ev = run.events
        if estimator == "lsa":
            present = [v for v in stim_values if v in set(ev[stimulus_column])]
            missing = [v for v in stim_values if v not in set(present)]
            if missing:
                raise InvalidInputError(
                    f"{owner}: stimulus/condition(s) {missing[:5]} have no event in {run.label}; least-squares-all "
                    "keeps runs as the repeats axis, so every run must show every stimulus. Restrict conditions= "
                    "to those in every run, drop the run, or use estimator='lss'.")
            est = _fit_and_contrast(run, design(ev), [regressor[v] for v in stim_values], t_r=t_r, mask_img=mask_img,
                                    brain=brain, options=opts, output_type=output_type)
            blocks.append(est)
            for v in stim_values:
                sel = ev[stimulus_column] == v
                rows.append({"run": run.label, "stimulus": v, "onset": float(ev.loc[sel, "onset"].min()),
                             "duration": float(ev.loc[sel, "duration"].sum())})
        else:
            stim_rows = np.flatnonzero(ev[stimulus_column].isin(regressor).to_numpy())
            for i in stim_rows:
                est = _fit_and_contrast(run, design(ev, target_row=int(i)), ["target"], t_r=t_r, mask_img=mask_img,
                                        brain=brain, options=opts, output_type=output_type)
                blocks.append(est)
                rows.append({"run": run.label, "stimulus": ev[stimulus_column].iloc[i],
                             "onset": float(ev["onset"].iloc[i]), "duration": float(ev["duration"].iloc[i])})
        del run
    estimates = np.concatenate(blocks, axis=0)
    table = pd.DataFrame(rows)
    ids, data, repeats, rep_index = group_repeats(table["stimulus"].tolist(), estimates)
    table["repeat"] = rep_index
    # keep the stimuli in first-appearance order (group_repeats' order equals stim_values' order here)
    return GLMEstimates(ids=ids, data=data, repeats=repeats, estimates=estimates, table=table,
                        info={"estimator": estimator, "output_type": output_type, "t_r": float(t_r),
                              "n_runs": len(runs), "options": opts, "lss_others": lss_others})
