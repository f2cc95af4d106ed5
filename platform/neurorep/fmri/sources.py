"""fMRI sources: precomputed beta maps through nilearn maskers (``source.nifti-masker``) and response
estimates from 4D BOLD + events through nilearn's GLM (``source.glm``).

Both produce, per site (``"brain"``, each atlas ROI, each sphere; or ``"atlas"``/``"spheres"`` of
region means), a :class:`~neurorep.types.Representation` with one row per stimulus, optional
``repeats`` and the voxels' indices and world coordinates (mm, through the image's affine) in
``channel_descriptors``. Constructors store parameters only; nibabel and nilearn are imported when
data are loaded, never when the components are registered.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..components import Source
from ..errors import InvalidInputError
from ..types import Representation, StimulusSet
from .sites import (
    ResolvedSites,
    SiteMask,
    SiteSpec,
    region_descriptors,
    region_means,
    resolve_sites,
    site_names,
)

__all__ = ["NiftiMaskerSource", "GLMSource", "FMRIPatterns", "SITE_PARAMS_DOC", "GLM_PARAMS_DOC"]

SITE_PARAMS_DOC = """
    whole_brain : bool, default=True
        Produce the site ``"brain"``: every voxel of the mask.
    atlas : str, optional
        Path to a 3D integer labels image (0 = background) on the data's grid (or any grid with
        ``resample=True``). Each requested region becomes a site named after it.
    atlas_labels : str or dict, optional
        Region names of ``atlas``: a lookup-table file (``.tsv``/``.csv`` with ``index`` and ``name``
        columns as BIDS ``dseg.tsv``; ``.json`` mapping names to labels; or text lines
        ``<label> <name> ...`` as FreeSurfer ``.ctab`` and FSL LUTs) or a ``{name: label}`` mapping.
    rois : list of str or int, optional
        The atlas regions to use, by name or label value. None: every region of the lookup table
        (or, without one, every label in the atlas, named ``label-<value>``).
    spheres : dict or list, optional
        Spheres at world coordinates in mm (MNI for MNI-space data): ``{name: [x, y, z]}``, or a
        list of ``[x, y, z]`` whose sites are named ``sphere(x,y,z)``.
    radius : float, default=6.0
        Sphere radius in mm (voxels whose centre lies within it, plus the voxel holding the seed, as
        nilearn's ``NiftiSpheresMasker``).
    roi_mode : {"voxels", "means"}, default="voxels"
        ``"voxels"``: each ROI and sphere is a site whose features are its voxels. ``"means"``: the
        ROIs form one site ``"atlas"`` and the spheres one site ``"spheres"``, whose features are the
        regions' mean signals (nilearn's ``NiftiLabelsMasker`` and ``NiftiSpheresMasker``).
    resample : bool, default=False
        Resample an atlas or mask on another voxel grid to the data's grid (nearest neighbour);
        when False such a mismatch is an error."""

GLM_PARAMS_DOC = """
    estimator : {"lsa", "lss"}, default="lsa"
        ``"lsa"``: least-squares-all, one regressor per stimulus per run; runs become the repeats
        axis (every run must show every stimulus). ``"lss"``: least-squares-separate, one model per
        trial (Mumford et al. 2012); repeats are the presentations of each stimulus.
    stimulus_column : str, default="trial_type"
        The events column whose values are the stimulus ids (e.g. ``"stim_file"`` for one id per image).
    conditions : list of str, optional
        The ``stimulus_column`` values that are stimuli; other events become nuisance regressors
        (e.g. responses, fixation). None = every value.
    lss_others : {"all", "condition"}, default="all"
        LSS: model the other trials with one regressor, or with one per ``trial_type``.
    output_type : {"effect_size", "stat", "z_score"}, default="effect_size"
        Each estimate's map: the beta (``effect_size``), its t statistic (``stat``) or z score.
    t_r : float, optional
        Repetition time in s; None reads it from the data (header or sidecar).
    hrf_model : str or None, default="glover"
        nilearn's HRF model (``"glover"``, ``"spm"``, ``"glover + derivative"``, ...; None = boxcar).
    drift_model : {"cosine", "polynomial"} or None, default="cosine"
    high_pass : float, default=0.01
        Cut-off of the cosine drift basis in Hz.
    noise_model : {"ar1", "ols"}, default="ar1"
    smoothing_fwhm : float, optional
        Spatial smoothing (mm) before the fit.
    signal_scaling : bool, default=True
        Scale each voxel by its mean over time (estimates in percent signal change), nilearn's
        ``signal_scaling=0``.
    standardize : bool, default=False
        z-score each voxel's time series within each run before the fit.
    confound_columns : list of str, optional
        Confound columns to add as regressors (from the confounds files)."""


@dataclass
class FMRIPatterns:
    """Loaded or estimated patterns inside the mask, before they are split into sites."""

    ids: tuple[str, ...]
    data: np.ndarray  # (n_stimuli, n_brain)
    repeats: np.ndarray | None  # (n_repeats, n_stimuli, n_brain)
    ref_img: Any  # 3D image of the mask (the grid)
    resolved: ResolvedSites
    space: dict[str, Any] = field(default_factory=dict)
    label: str = "fmri"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


class _FMRISource(Source):
    """Shared machinery: the site parameters, cached patterns, splitting into sites."""

    version = "1.0.0"

    # ------------------------------------------------------------------ helpers for subclasses
    def _owner(self) -> str:
        return f"Source {self.id!r}"

    def _spec(self) -> SiteSpec:
        return SiteSpec(whole_brain=self.whole_brain, atlas=self.atlas, atlas_labels=self.atlas_labels,
                        rois=self.rois, spheres=self.spheres, radius=self.radius, roi_mode=self.roi_mode,
                        resample=self.resample)

    def _compute(self) -> FMRIPatterns:  # pragma: no cover - every subclass overrides it
        raise TypeError(f"{type(self).__name__} must define _compute()")

    def _params_key(self) -> str:
        return json.dumps(_jsonable(self.get_params()), sort_keys=True)

    def _patterns(self) -> FMRIPatterns:
        cache = self.__dict__.setdefault("_patterns_cache_", {})
        key = self._params_key()
        if key not in cache:
            cache.clear()
            cache[key] = self._compute()
        return cache[key]

    def _brain_img(self, ref_img: Any, brain: np.ndarray) -> Any:
        import nibabel as nib

        return nib.Nifti1Image(brain.astype(np.uint8), ref_img.affine)

    # ------------------------------------------------------------------ Source API
    def sites(self, stimuli: StimulusSet | None = None) -> list[str]:
        return site_names(self._spec(), owner=self._owner())

    def stimulus_ids(self, stimuli: StimulusSet | None = None) -> tuple[str, ...]:
        if stimuli is not None:
            return tuple(stimuli.ids)
        return self._own_ids()

    def _own_ids(self) -> tuple[str, ...]:
        return self._patterns().ids

    def _check_site(self, site: str) -> list[str]:
        names = self.sites()
        if site not in names:
            close = difflib.get_close_matches(site, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidInputError(f"{self._owner()}: unknown site {site!r}; expected one of {names}.{hint}")
        return names

    def site_space(self, site: str) -> dict[str, Any]:
        return {"kind": "brain", "modality": "fMRI", "source": self.id, "site": site}

    def load(self, site: str, stimuli: StimulusSet | None = None) -> Representation:
        """The representation at ``site``: one row per stimulus (``repeats`` when available)."""
        self._check_site(site)
        p = self._patterns()
        regions = p.resolved.sites[site]
        brain = p.resolved.brain
        affine = p.resolved.affine
        if p.resolved.mode == "means" and regions[0].kind != "brain":
            data, repeats = self._region_means(p, regions)
            channels = region_descriptors(regions, affine)
            extra = {"features": "region means", "regions": [r.name for r in regions]}
        else:
            mask = regions[0].mask
            cols = np.flatnonzero(mask[brain])
            data = p.data[:, cols]
            repeats = None if p.repeats is None else p.repeats[:, :, cols]
            from .nifti import voxel_descriptors

            channels = voxel_descriptors(mask, affine)
            extra = {"features": "voxels", "n_voxels": int(cols.size)}
            if regions[0].label is not None:
                extra["label"] = int(regions[0].label)
            if regions[0].center is not None:
                extra["center_mm"] = [float(v) for v in regions[0].center]
                extra["radius_mm"] = float(self.radius)
        space = {**self.site_space(site), **p.space, **extra}
        rep = Representation(data=np.asarray(data, dtype=float), stimulus_ids=p.ids,
                             repeats=None if repeats is None else np.asarray(repeats, dtype=float),
                             space=_jsonable(space), channel_descriptors=channels, name=f"{p.label}:{site}")
        rep.check_finite(owner=self._owner())
        if stimuli is not None and tuple(stimuli.ids) != rep.stimulus_ids:
            rep = rep.select(list(stimuli.ids))
        return rep

    def _region_means(self, p: FMRIPatterns, regions: Sequence[SiteMask]) -> tuple[np.ndarray, np.ndarray | None]:
        import nibabel as nib

        brain = p.resolved.brain
        blocks = [p.data] + ([] if p.repeats is None else list(p.repeats))
        rows = np.concatenate(blocks, axis=0)
        vol = np.zeros(brain.shape + (rows.shape[0],), dtype=np.float32)
        vol[brain] = rows.T
        img = nib.Nifti1Image(vol, p.resolved.affine)
        means = region_means(img, regions, self._brain_img(p.ref_img, brain), radius=float(self.radius))
        n = p.data.shape[0]
        data = means[:n]
        repeats = None if p.repeats is None else means[n:].reshape(p.repeats.shape[0], n, -1)
        return data, repeats


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [str(value)]
    return [str(v) for v in value]


def _read_ids_file(path: str, owner: str) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{owner}: stimulus_ids file {p} does not exist; give a list of ids or a text file "
                                "with one id per line (or a .tsv/.csv with a 'stimulus_id' column).")
    if p.suffix.lower() in (".tsv", ".csv"):
        import pandas as pd

        df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",", dtype=str, keep_default_na=False)
        if "stimulus_id" not in df.columns:
            raise InvalidInputError(f"{owner}: {p} has columns {list(df.columns)}; expected a 'stimulus_id' column "
                                    "(one row per image/volume).")
        return [s.strip() for s in df["stimulus_id"]]
    return [line.strip() for line in p.read_text().splitlines() if line.strip()]


def _stem(path: str) -> str:
    name = Path(path).name
    for ext in (".nii.gz", ".nii"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return Path(path).stem


def _mask_on_grid(mask: str, ref_img: Any, *, spec: SiteSpec, owner: str, ref_what: str) -> np.ndarray:
    """The boolean mask of file ``mask`` on ``ref_img``'s grid (resampled when ``spec.resample``)."""
    from .nifti import read_nifti
    from .sites import _on_grid

    m_img, m = read_nifti(mask, owner=owner, what="mask", ndim=3)
    m = _on_grid(m_img, m, ref_img, spec=spec, owner=owner, what=f"mask {mask}", ref_what=ref_what)
    return np.isfinite(m) & (m != 0)


# =========================================================================== beta maps

class NiftiMaskerSource(_FMRISource):
    __doc__ = """Precomputed response maps (one 3D image per stimulus, or 4D with one volume per stimulus)
    through nilearn's maskers.

    The images are read with nibabel (corrupt or truncated files raise a clear error), masked with
    nilearn's ``NiftiMasker`` (whole-brain mask; optional smoothing) and split into sites:
    ``"brain"``, each atlas ROI, each sphere (or, with ``roi_mode="means"``, region means through
    ``NiftiLabelsMasker`` and ``NiftiSpheresMasker``). A stimulus id that occurs several times (one
    map per presentation) is grouped: ``data`` is the mean and ``repeats`` holds the presentations
    when every stimulus has the same number. ``channel_descriptors`` hold each voxel's indices
    ``i``, ``j``, ``k`` and world coordinates ``x``, ``y``, ``z`` in mm (through the images' affine:
    MNI mm for MNI-space maps). NaN inside the mask is an error.

    Parameters
    ----------
    images : str or list of str
        A 4D NIfTI file (one volume per stimulus) or a list of NIfTI files (3D, or 4D concatenated
        along the volume axis), all on the same voxel grid.
    ids : list of str or str, optional
        The stimulus id of each volume, in order: a list, or a file (one id per line; or a
        ``.tsv``/``.csv`` with a ``stimulus_id`` column). None: the file names without extension for
        a list of 3D files, else ``vol-0000``, ``vol-0001``, ...
    mask : str, optional
        A 3D mask image (nonzero = inside). None: the voxels holding a finite nonzero value in at
        least one image (the background is 0 or NaN everywhere).
    smoothing_fwhm : float, optional
        Spatial smoothing (mm) applied by the masker.""" + SITE_PARAMS_DOC + "\n    "

    id = "source.nifti-masker"
    citation = ("Abraham A, Pedregosa F, Eickenberg M, et al. (2014). Machine learning for neuroimaging with "
                "scikit-learn. Front Neuroinform 8:14. doi:10.3389/fninf.2014.00014")
    description = "Response/beta maps (NIfTI) through nilearn maskers: whole brain, atlas ROIs, spheres"

    def __init__(self, images: str | list[str], ids: list[str] | str | None = None, mask: str | None = None,
                 smoothing_fwhm: float | None = None, whole_brain: bool = True, atlas: str | None = None,
                 atlas_labels: str | dict[str, int] | None = None, rois: list[str | int] | None = None,
                 spheres: dict[str, list[float]] | list[list[float]] | None = None, radius: float = 6.0,
                 roi_mode: Literal["voxels", "means"] = "voxels", resample: bool = False):
        self.images = images
        self.ids = ids
        self.mask = mask
        self.smoothing_fwhm = smoothing_fwhm
        self.whole_brain = whole_brain
        self.atlas = atlas
        self.atlas_labels = atlas_labels
        self.rois = rois
        self.spheres = spheres
        self.radius = radius
        self.roi_mode = roi_mode
        self.resample = resample

    @classmethod
    def _conformance_instances(cls) -> list[NiftiMaskerSource]:
        """Small seeded beta maps, an atlas and a mask in a temporary folder removed at exit."""
        from ._toy import write_toy_betas

        d = write_toy_betas()
        return [cls(d["betas"], ids=d["ids"], mask=d["mask"], atlas=d["atlas"], atlas_labels=d["lut"],
                    spheres={"center": d["center"]}, radius=4.0),
                cls(d["betas"], ids=d["ids"], atlas=d["atlas"], atlas_labels=d["lut"], roi_mode="means")]

    def _compute(self) -> FMRIPatterns:
        import nibabel as nib
        from nilearn.maskers import NiftiMasker

        from .glm import group_repeats
        from .nifti import check_finite_rows, check_same_grid, read_nifti

        owner = self._owner()
        spec = self._spec()
        site_names(spec, owner=owner)  # a malformed spec fails before any image is read
        paths = _as_list(self.images)
        if not paths:
            raise InvalidInputError(f"{owner}: images is empty; give a 4D NIfTI file or a list of 3D files.")
        first = None
        parts: list[np.ndarray] = []
        all_3d = True
        for k, path in enumerate(paths):
            what = "images" if len(paths) == 1 else f"image {k} of {len(paths)}"
            img, data = read_nifti(path, owner=owner, what=what)
            if data.ndim == 3:
                data = data[..., None]
            elif data.ndim == 4:
                all_3d = False
            else:
                raise InvalidInputError(f"{owner}: {what} file {path} has shape {data.shape} ({data.ndim}D); expected "
                                        "a 3D map or a 4D stack of maps (one volume per stimulus).")
            if first is None:
                first = img
            else:
                check_same_grid(first, img, owner=owner, what_a=f"image {paths[0]}", what_b=f"image {path}")
            parts.append(np.asarray(data, dtype=np.float32))
        X4 = np.concatenate(parts, axis=3)
        n_vol = X4.shape[3]
        if self.ids is None:
            vol_ids = [_stem(p) for p in paths] if all_3d else [f"vol-{i:04d}" for i in range(n_vol)]
        elif isinstance(self.ids, str):
            vol_ids = _read_ids_file(self.ids, owner)
        else:
            vol_ids = [str(s) for s in self.ids]
        if len(vol_ids) != n_vol:
            raise InvalidInputError(f"{owner}: the images hold {n_vol} volume(s) but {len(vol_ids)} stimulus id(s) "
                                    "were given; expected one id per volume, in order.")
        ref_img = nib.Nifti1Image(np.zeros(X4.shape[:3], dtype=np.uint8), first.affine)
        if self.mask is not None:
            brain = _mask_on_grid(self.mask, ref_img, spec=spec, owner=owner, ref_what=f"the images ({paths[0]})")
            mask_what = f"the mask {self.mask}"
        else:
            brain = np.any(np.isfinite(X4) & (X4 != 0), axis=3)
            mask_what = "the images' nonzero voxels"
        if not brain.any():
            raise InvalidInputError(f"{owner}: {mask_what} selects no voxel; expected at least one. Check the mask "
                                    "(nonzero = inside) and that the images are not empty.")
        check_finite_rows(X4[brain].T, owner=owner, what="the images inside the mask", row_label="volume",
                          row_names=vol_ids, fix=f"Give a mask that excludes those voxels (mask=...), or fix the "
                          f"images; {mask_what} was used.")
        resolved = resolve_sites(spec, ref_img, brain, owner=owner, mask_what=mask_what)
        brain_img = self._brain_img(ref_img, brain)
        import warnings

        masker = NiftiMasker(mask_img=brain_img, smoothing_fwhm=self.smoothing_fwhm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = np.asarray(masker.fit_transform(nib.Nifti1Image(X4, first.affine)), dtype=float)
        del X4
        ids, data, repeats, _ = group_repeats(vol_ids, X)
        zooms = [float(z) for z in first.header.get_zooms()[:3]]
        space = {"images": paths, "mask": self.mask, "n_brain_voxels": int(brain.sum()),
                 "voxel_size_mm": zooms, "affine": np.round(first.affine, 6).tolist(),
                 "smoothing_fwhm": self.smoothing_fwhm, "n_volumes": n_vol,
                 "repeats": None if repeats is None else int(repeats.shape[0])}
        label = _stem(paths[0]) if len(paths) == 1 else f"{_stem(paths[0])}+{len(paths) - 1}"
        return FMRIPatterns(ids=ids, data=data, repeats=repeats, ref_img=ref_img, resolved=resolved, space=space,
                            label=label)


# =========================================================================== GLM

@dataclass
class _RunInputs:
    bold: list[str]
    events: list[Any]
    confounds: list[Any] | None
    labels: list[str]
    mask: str | list[str] | None  # several: their intersection
    t_r: float | None = None  # from a sidecar (BIDS)
    t_r_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _GLMBase(_FMRISource):
    """Shared GLM machinery (``source.glm`` and ``source.bids-glm``)."""

    def _run_inputs(self) -> _RunInputs:  # pragma: no cover - every subclass overrides it
        raise TypeError(f"{type(self).__name__} must define _run_inputs()")

    def _read_all_events(self, inp: _RunInputs) -> list[Any]:
        from .glm import read_events

        return [read_events(e, owner=self._owner(), what=f"events of {lab}", stimulus_column=self.stimulus_column)
                for e, lab in zip(inp.events, inp.labels, strict=True)]

    def _own_ids(self) -> tuple[str, ...]:
        cache = self.__dict__.setdefault("_patterns_cache_", {})
        hit = cache.get(self._params_key())
        if hit is not None:
            return hit.ids
        inp = self._run_inputs()
        seen: dict[str, None] = {}
        for ev in self._read_all_events(inp):
            seen.update(dict.fromkeys(ev[self.stimulus_column]))
        values = list(seen)
        if self.conditions is not None:
            keep = {str(c) for c in self.conditions}
            values = [v for v in values if v in keep]
        return tuple(values)

    def _compute(self) -> FMRIPatterns:
        import nibabel as nib

        from .glm import RunData, check_events, estimate_responses, read_confounds
        from .nifti import check_finite_rows, check_same_grid, read_nifti, repetition_time

        owner = self._owner()
        spec = self._spec()
        site_names(spec, owner=owner)
        inp = self._run_inputs()
        if not inp.bold:
            raise InvalidInputError(f"{owner}: no BOLD run was given; pass bold=['run1.nii.gz', ...].")
        if len(inp.events) != len(inp.bold):
            raise InvalidInputError(f"{owner}: {len(inp.bold)} BOLD run(s) but {len(inp.events)} events file(s); "
                                    "expected one events file per run, in the same order.")
        if inp.confounds is not None and len(inp.confounds) != len(inp.bold):
            raise InvalidInputError(f"{owner}: {len(inp.bold)} BOLD run(s) but {len(inp.confounds)} confounds "
                                    "file(s); expected one per run, in the same order.")
        events = self._read_all_events(inp)
        # pass 1: read every run once (clear errors before any fit), keep only metadata and mean images
        first = None
        n_scans: list[int] = []
        header_trs: list[float | None] = []
        means: list[Any] = []
        for path, lab in zip(inp.bold, inp.labels, strict=True):
            img, data = read_nifti(path, owner=owner, what=f"BOLD of {lab}", ndim=4)
            if first is None:
                first = img
            else:
                check_same_grid(first, img, owner=owner, what_a=f"the BOLD of {inp.labels[0]}",
                                what_b=f"the BOLD of {lab}")
            n_scans.append(int(data.shape[3]))
            header_trs.append(repetition_time(img))
            if inp.mask is None and self.mask is None:
                means.append(nib.Nifti1Image(np.asarray(data, dtype=np.float32).mean(3), img.affine))
            del data
        t_r, t_r_source = self._resolve_tr(inp, header_trs)
        ref_img = nib.Nifti1Image(np.zeros(first.shape[:3], dtype=np.uint8), first.affine)
        mask_path = self.mask if self.mask is not None else inp.mask
        if mask_path is not None:
            paths = [mask_path] if isinstance(mask_path, str) else list(mask_path)
            brain = np.ones(first.shape[:3], dtype=bool)
            for mp in paths:
                brain &= _mask_on_grid(mp, ref_img, spec=spec, owner=owner, ref_what=f"the BOLD ({inp.bold[0]})")
            mask_what = (f"the mask {paths[0]}" if len(paths) == 1 else
                         f"the intersection of the {len(paths)} runs' masks ({paths[0]}, ...)")
        else:
            from nilearn.masking import compute_multi_epi_mask

            brain = np.asarray(compute_multi_epi_mask(means, threshold=0.5).dataobj) != 0
            mask_what = "the EPI mask computed from the runs' mean images"
        if not brain.any():
            raise InvalidInputError(f"{owner}: {mask_what} selects no voxel; expected at least one.")
        resolved = resolve_sites(spec, ref_img, brain, owner=owner, mask_what=mask_what)
        brain_img = self._brain_img(ref_img, brain)
        for ev, n, lab in zip(events, n_scans, inp.labels, strict=True):
            check_events(ev, n, t_r, owner=owner, what=f"events of {lab}")
        cols = self.confound_columns

        def loader(k: int) -> RunData:
            img, data = read_nifti(inp.bold[k], owner=owner, what=f"BOLD of {inp.labels[k]}", ndim=4)
            data = np.asarray(data, dtype=np.float32)
            check_finite_rows(data[brain].T, owner=owner, what=f"the BOLD data of {inp.labels[k]} inside the mask",
                              row_label="volume", fix=f"Give a mask that excludes those voxels ({mask_what} was "
                              "used), or fix the preprocessing.")
            conf = None
            if inp.confounds is not None and inp.confounds[k] is not None:
                conf = read_confounds(inp.confounds[k], int(data.shape[3]), cols, owner=owner,
                                      what=f"confounds of {inp.labels[k]}")
            return RunData(img=nib.Nifti1Image(data, img.affine), events=events[k], label=inp.labels[k],
                           confounds=conf)

        options = {"hrf_model": self.hrf_model, "drift_model": self.drift_model, "high_pass": self.high_pass,
                   "noise_model": self.noise_model, "smoothing_fwhm": self.smoothing_fwhm,
                   "signal_scaling": self.signal_scaling, "standardize": self.standardize}
        runs = [RunData(img=None, events=events[k], label=inp.labels[k], loader=(lambda k=k: loader(k)))
                for k in range(len(inp.bold))]
        est = estimate_responses(
            runs, t_r=t_r, mask_img=brain_img, brain=brain,
            estimator=self.estimator, stimulus_column=self.stimulus_column, conditions=self.conditions,
            lss_others=self.lss_others, output_type=self.output_type, options=options, owner=owner)
        check_finite_rows(est.estimates, owner=owner, what=f"the GLM {self.output_type} estimates",
                          row_label="estimate",
                          fix="Voxels with a constant (e.g. all-zero) time series give undefined estimates; "
                              f"exclude them with a tighter mask ({mask_what} was used).")
        zooms = [float(z) for z in first.header.get_zooms()[:3]]
        space = {"bold": list(inp.bold), "mask": mask_path, "n_brain_voxels": int(brain.sum()),
                 "voxel_size_mm": zooms, "affine": np.round(first.affine, 6).tolist(), "t_r": float(t_r),
                 "t_r_from": t_r_source, "runs": list(inp.labels), "estimator": self.estimator,
                 "output_type": self.output_type, "glm": {**options, "lss_others": self.lss_others},
                 "repeats_axis": "runs" if self.estimator == "lsa" else "presentations",
                 "repeats": None if est.repeats is None else int(est.repeats.shape[0]), **inp.extra}
        return FMRIPatterns(ids=est.ids, data=est.data, repeats=est.repeats, ref_img=ref_img, resolved=resolved,
                            space=space, label=f"glm-{self.estimator}")

    def _resolve_tr(self, inp: _RunInputs, header_trs: list[float | None]) -> tuple[float, str]:
        owner = self._owner()
        if self.t_r is not None:
            if not self.t_r > 0:
                raise InvalidInputError(f"{owner}: t_r must be a positive number of seconds, got {self.t_r!r}.")
            return float(self.t_r), "parameter t_r"
        if inp.t_r is not None:
            return float(inp.t_r), inp.t_r_source
        if any(t is None for t in header_trs):
            k = header_trs.index(None)
            raise InvalidInputError(f"{owner}: the repetition time of {inp.labels[k]} is unknown (its header has no "
                                    "positive pixdim[4]); pass t_r=<seconds>.")
        distinct = sorted(set(round(float(t), 6) for t in header_trs))  # type: ignore[arg-type]
        if len(distinct) > 1:
            raise InvalidInputError(f"{owner}: the runs' headers give different repetition times {distinct} s; "
                                    "pass t_r=<seconds> if that is a header error.")
        return float(distinct[0]), "NIfTI header (pixdim[4])"


class GLMSource(_GLMBase):
    __doc__ = """Per-condition or per-trial response estimates from 4D BOLD runs and their events, through
    nilearn's ``FirstLevelModel``.

    Each run is fitted on its own (one model per run for least-squares-all, one per trial for
    least-squares-separate), and the map of each stimulus' regressor is masked and split into sites
    as :class:`NiftiMaskerSource` does. With ``estimator="lsa"`` the representation's ``repeats``
    has shape ``(n_runs, n_stimuli, n_voxels)`` and ``data`` is the mean over runs. Every BOLD file
    and the mask are read once before any fit, so a corrupt run, a 3D image, a mask on another grid,
    NaNs inside the mask or events outside a scan fail early with a clear message.

    Parameters
    ----------
    bold : str or list of str
        4D BOLD NIfTI files, one per run, on one voxel grid.
    events : str or list of str
        BIDS events files (``.tsv`` with ``onset``, ``duration`` and the stimulus column), one per
        run, in the same order as ``bold``.
    mask : str, optional
        A 3D mask on the BOLD grid (nonzero = inside). None: nilearn's EPI mask of the runs' means.
    confounds : str or list of str, optional
        Confounds tables (``.tsv``, one row per volume), one per run; see ``confound_columns``.""" \
        + GLM_PARAMS_DOC + SITE_PARAMS_DOC + "\n    "

    id = "source.glm"
    citation = ("Mumford JA, Turner BO, Ashby FG, Poldrack RA (2012). Deconvolving BOLD activation in event-related "
                "designs for multivoxel pattern classification analyses. NeuroImage 59(3):2636-2643. "
                "doi:10.1016/j.neuroimage.2011.08.076")
    description = "Per-condition (LSA) or per-trial (LSS) GLM estimates from 4D BOLD + events (nilearn)"

    def __init__(self, bold: str | list[str], events: str | list[str], mask: str | None = None,
                 confounds: str | list[str] | None = None, estimator: Literal["lsa", "lss"] = "lsa",
                 stimulus_column: str = "trial_type", conditions: list[str] | None = None,
                 lss_others: Literal["all", "condition"] = "all",
                 output_type: Literal["effect_size", "stat", "z_score"] = "effect_size", t_r: float | None = None,
                 hrf_model: str | None = "glover", drift_model: str | None = "cosine", high_pass: float = 0.01,
                 noise_model: Literal["ar1", "ols"] = "ar1", smoothing_fwhm: float | None = None,
                 signal_scaling: bool = True, standardize: bool = False, confound_columns: list[str] | None = None,
                 whole_brain: bool = True, atlas: str | None = None,
                 atlas_labels: str | dict[str, int] | None = None, rois: list[str | int] | None = None,
                 spheres: dict[str, list[float]] | list[list[float]] | None = None, radius: float = 6.0,
                 roi_mode: Literal["voxels", "means"] = "voxels", resample: bool = False):
        self.bold = bold
        self.events = events
        self.mask = mask
        self.confounds = confounds
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
    def _conformance_instances(cls) -> list[GLMSource]:
        """Two short synthetic runs with planted condition patterns in a temporary folder removed at exit."""
        from ._toy import write_toy_runs

        d = write_toy_runs()
        return [cls(d["bold"], d["events"], mask=d["mask"], t_r=d["t_r"], noise_model="ols",
                    atlas=d["atlas"], atlas_labels=d["lut"])]

    def _run_inputs(self) -> _RunInputs:
        bold = _as_list(self.bold)
        events = _as_list(self.events)
        conf = _as_list(self.confounds) if self.confounds is not None else None
        labels = [f"run {k + 1} ({Path(b).name})" for k, b in enumerate(bold)]
        return _RunInputs(bold=bold, events=events, confounds=conf, labels=labels, mask=None)
