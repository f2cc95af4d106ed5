"""Sites of an fMRI source: the whole-brain mask, atlas ROIs (by name or label) and spheres at coordinates.

A :class:`SiteSpec` holds what the user asked for (plain values, as a component's parameters);
:func:`site_names` lists the sites cheaply, and :func:`resolve_sites` turns the spec into boolean
voxel masks on the data's grid, raising a clear error for an ROI or sphere with no voxel inside
the mask. In ``"voxels"`` mode each ROI and sphere is a site whose features are its voxels; in
``"means"`` mode the ROIs form one site ``"atlas"`` and the spheres one site ``"spheres"``, whose
features are the regions' mean signals, extracted with nilearn's ``NiftiLabelsMasker`` and
``NiftiSpheresMasker`` (:func:`region_means`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from .nifti import check_same_grid, read_nifti, world_coordinates

__all__ = [
    "BRAIN_SITE",
    "ATLAS_SITE",
    "SPHERES_SITE",
    "SiteSpec",
    "SiteMask",
    "ResolvedSites",
    "parse_lut",
    "site_names",
    "resolve_sites",
    "region_means",
    "sphere_name",
]

BRAIN_SITE = "brain"
ATLAS_SITE = "atlas"
SPHERES_SITE = "spheres"
ROI_MODES = ("voxels", "means")
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class SiteSpec:
    """Which sites a source produces (the site parameters shared by the fMRI sources).

    Parameters
    ----------
    whole_brain : bool, default=True
        Produce the site ``"brain"``: every voxel of the mask.
    atlas : str, optional
        Path to a 3D integer labels image (0 = background).
    atlas_labels : str or dict, optional
        Region names of ``atlas``: a lookup table file (a ``.tsv``/``.csv`` with ``index`` and ``name``
        columns as in BIDS ``dseg.tsv``; a ``.json`` mapping names to labels; or text lines
        ``<label> <name> ...`` as in FreeSurfer ``.ctab`` and FSL LUTs), or a ``{name: label}`` dict.
    rois : list of str or int, optional
        The atlas regions to use, by name (from ``atlas_labels``) or label value; None = every
        named region (or every label in the atlas when there is no lookup table).
    spheres : dict or list, optional
        Spheres at world (e.g. MNI) coordinates in mm: ``{name: [x, y, z]}``, or a list of
        ``[x, y, z]`` (sites named ``sphere(x,y,z)``).
    radius : float, default=6.0
        Sphere radius in mm (nilearn's rule: voxels whose centre is within ``radius``, plus the voxel
        holding the seed).
    roi_mode : {"voxels", "means"}, default="voxels"
        ``"voxels"``: one site per ROI and sphere, features = its voxels. ``"means"``: one site
        ``"atlas"`` (features = ROI means) and one site ``"spheres"`` (features = sphere means).
    resample : bool, default=False
        Resample an atlas or mask on another voxel grid to the data's grid (nearest neighbour).
        When False such a mismatch is an error.
    """

    whole_brain: bool = True
    atlas: str | None = None
    atlas_labels: str | Mapping[str, int] | None = None
    rois: Sequence[str | int] | None = None
    spheres: Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None = None
    radius: float = 6.0
    roi_mode: str = "voxels"
    resample: bool = False


@dataclass
class SiteMask:
    """One region on the data's grid."""

    name: str
    kind: str  # "brain", "roi" or "sphere"
    mask: np.ndarray  # bool, 3D, a subset of the brain mask
    label: int | None = None
    center: tuple[float, float, float] | None = None

    @property
    def n_voxels(self) -> int:
        return int(self.mask.sum())


@dataclass
class ResolvedSites:
    """Sites resolved on a grid: ``sites`` maps each site name to its region(s)."""

    brain: np.ndarray
    affine: np.ndarray
    mode: str
    sites: dict[str, list[SiteMask]] = field(default_factory=dict)


# --------------------------------------------------------------------------- names

def sphere_name(xyz: Sequence[float]) -> str:
    """The site name of an unnamed sphere: ``sphere(x,y,z)``."""
    return "sphere(" + ",".join(f"{float(v):g}" for v in xyz) + ")"


def _clean(name: str) -> str:
    return _BAD_NAME.sub("-", str(name)).strip()


def parse_lut(source: str | Mapping[str, int], *, owner: str) -> dict[int, str]:
    """Read a lookup table of region names: ``{label: name}``.

    Parameters
    ----------
    source : str or dict
        A ``{name: label}`` dict, or a file: ``.tsv``/``.csv`` with ``index`` and ``name`` columns,
        ``.json`` (``{name: label}`` or ``{"label": name}``), or text lines ``<label> <name> [...]``
        (FreeSurfer ``.ctab``, FSL/AFNI LUTs; ``#`` starts a comment).
    owner : str
        The component named in error messages.
    """
    if isinstance(source, Mapping):
        out: dict[int, str] = {}
        for name, value in source.items():
            try:
                out[int(value)] = str(name)
            except (TypeError, ValueError):
                raise InvalidInputError(f"{owner}: atlas_labels maps {name!r} to {value!r}; expected an integer "
                                        "label value, e.g. {'V1': 1, 'V2': 2}.") from None
        return out
    p = Path(source)
    if not p.is_file():
        raise FileNotFoundError(f"{owner}: atlas_labels file {p} does not exist; give a lookup table "
                                "(.tsv with index/name columns, .json, or '<label> <name>' lines) or a "
                                "{name: label} mapping.")
    suffix = "".join(p.suffixes[-1:]).lower()
    if suffix in (".tsv", ".csv"):
        import pandas as pd

        df = pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",")
        cols = {c.lower(): c for c in df.columns}
        if "index" not in cols or "name" not in cols:
            raise InvalidInputError(f"{owner}: lookup table {p} has columns {list(df.columns)}; expected 'index' "
                                    "and 'name' (as in a BIDS dseg.tsv).")
        return {int(i): _clean(n) for i, n in zip(df[cols["index"]], df[cols["name"]], strict=True)}
    if suffix == ".json":
        raw = json.loads(p.read_text())
        if not isinstance(raw, dict):
            raise InvalidInputError(f"{owner}: lookup table {p} holds a {type(raw).__name__}; expected an object "
                                    "mapping names to labels.")
        if all(str(k).lstrip("-").isdigit() for k in raw):
            return {int(k): _clean(v) for k, v in raw.items()}
        return parse_lut({_clean(k): v for k, v in raw.items()}, owner=owner)
    out = {}
    for n, line in enumerate(p.read_text(errors="replace").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            value = int(parts[0])
        except ValueError:
            raise InvalidInputError(f"{owner}: lookup table {p}, line {n}: {line!r} does not start with an integer "
                                    "label; expected lines '<label> <name> [r g b a]'.") from None
        if len(parts) < 2:
            raise InvalidInputError(f"{owner}: lookup table {p}, line {n}: label {value} has no name.")
        out[value] = _clean(parts[1])
    return out


def _check_spec(spec: SiteSpec, owner: str) -> None:
    if spec.roi_mode not in ROI_MODES:
        raise InvalidInputError(f"{owner}: roi_mode must be one of {list(ROI_MODES)}, got {spec.roi_mode!r}.")
    if not (isinstance(spec.radius, (int, float)) and spec.radius > 0):
        raise InvalidInputError(f"{owner}: radius must be a positive number of mm, got {spec.radius!r}.")
    if spec.rois is not None and spec.atlas is None:
        raise InvalidInputError(f"{owner}: rois={list(spec.rois)!r} were given without an atlas; pass "
                                "atlas='<labels image>' (and atlas_labels for names).")
    if spec.atlas_labels is not None and spec.atlas is None:
        raise InvalidInputError(f"{owner}: atlas_labels was given without an atlas; pass atlas='<labels image>'.")


def _sphere_items(spec: SiteSpec, owner: str) -> list[tuple[str, tuple[float, float, float]]]:
    if spec.spheres is None:
        return []
    items = spec.spheres.items() if isinstance(spec.spheres, Mapping) else [(None, c) for c in spec.spheres]
    out = []
    for name, c in items:
        try:
            xyz = tuple(float(v) for v in c)
        except (TypeError, ValueError):
            xyz = ()
        if len(xyz) != 3 or not all(np.isfinite(xyz)):
            raise InvalidInputError(f"{owner}: sphere {name or c!r} has coordinates {c!r}; expected three finite "
                                    "world coordinates in mm, e.g. [-40, -60, 10].")
        out.append((_clean(name) if name is not None else sphere_name(xyz), xyz))
    return out


def _roi_items(spec: SiteSpec, owner: str, atlas_data: np.ndarray | None = None) -> list[tuple[str, int]]:
    """``(site name, label)`` of each requested ROI; reads the atlas only when neither a LUT nor rois are given."""
    if spec.atlas is None:
        return []
    lut = parse_lut(spec.atlas_labels, owner=owner) if spec.atlas_labels is not None else None
    if spec.rois is None:
        if lut is not None:
            return [(name, v) for v, name in sorted(lut.items()) if v != 0]
        if atlas_data is None:
            _, atlas_data = read_nifti(spec.atlas, owner=owner, what="atlas", ndim=3)
        values = np.unique(atlas_data[np.isfinite(atlas_data)])
        return [(f"label-{int(v)}", int(v)) for v in values if v != 0]
    by_name = {name: v for v, name in (lut or {}).items()}
    out = []
    for r in spec.rois:
        if isinstance(r, (int, np.integer)) or (isinstance(r, str) and r.strip().lstrip("-").isdigit()
                                                 and r.strip() not in by_name):
            v = int(r)
            out.append(((lut or {}).get(v, f"label-{v}"), v))
        elif r in by_name:
            out.append((r, by_name[r]))
        else:
            if lut is None:
                raise InvalidInputError(f"{owner}: ROI {r!r} is a name but the atlas has no names; pass "
                                        "atlas_labels='<lookup table>' or give the label value (e.g. rois=[7]).")
            close = difflib.get_close_matches(str(r), list(by_name), n=3)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidInputError(f"{owner}: unknown ROI {r!r}; the lookup table names {len(by_name)} regions, "
                                    f"e.g. {list(by_name)[:8]}.{hint}")
    return out


def site_names(spec: SiteSpec, *, owner: str) -> list[str]:
    """The sites ``spec`` produces, in order (cheap: reads at most the lookup table).

    Raises
    ------
    InvalidInputError
        The spec asks for nothing, names a site twice, or is malformed.
    """
    _check_spec(spec, owner)
    rois = _roi_items(spec, owner)
    spheres = _sphere_items(spec, owner)
    names: list[str] = [BRAIN_SITE] if spec.whole_brain else []
    if spec.roi_mode == "means":
        names += ([ATLAS_SITE] if rois else []) + ([SPHERES_SITE] if spheres else [])
    else:
        names += [n for n, _ in rois] + [n for n, _ in spheres]
    if not names:
        raise InvalidInputError(f"{owner}: no sites: whole_brain is False and no atlas ROIs or spheres were given. "
                                "Set whole_brain=True, or pass atlas=... / spheres=....")
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise InvalidInputError(f"{owner}: site name(s) {dups} occur more than once (ROI and sphere names must be "
                                f"unique and differ from {BRAIN_SITE!r}); rename the spheres or pick other ROIs.")
    if spec.roi_mode == "means":
        inner = [n for n, _ in rois] + [n for n, _ in spheres]
        dup_inner = sorted({n for n in inner if inner.count(n) > 1})
        if dup_inner:
            raise InvalidInputError(f"{owner}: region name(s) {dup_inner} occur more than once; they must be unique.")
    return names


# --------------------------------------------------------------------------- masks

def _on_grid(img: Any, data: np.ndarray, ref_img: Any, *, spec: SiteSpec, owner: str, what: str,
             ref_what: str) -> np.ndarray:
    """``data`` of ``img`` on ``ref_img``'s grid: unchanged, resampled (nearest) when allowed, or an error."""
    same = tuple(img.shape[:3]) == tuple(ref_img.shape[:3]) and np.allclose(img.affine, ref_img.affine, atol=1e-3)
    if same:
        return data
    if not spec.resample:
        try:
            check_same_grid(ref_img, img, owner=owner, what_a=ref_what, what_b=what)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{exc} Or pass resample=True to resample the {what.split(' ')[0]} to the data "
                                    "(nearest neighbour).") from None
    import nibabel as nib
    from nilearn.image import resample_to_img

    src = nib.Nifti1Image(np.asarray(data, dtype=np.float32), img.affine)
    out = resample_to_img(src, ref_img, interpolation="nearest", force_resample=True, copy_header=True)
    return np.asarray(out.dataobj)


def resolve_sites(spec: SiteSpec, ref_img: Any, brain: np.ndarray, *, owner: str,
                  mask_what: str = "the mask") -> ResolvedSites:
    """Build each site's voxel mask on ``ref_img``'s grid, inside ``brain``.

    Parameters
    ----------
    spec : SiteSpec
    ref_img : nibabel image
        The data's grid (shape and affine).
    brain : ndarray of bool, 3D
        The mask every site is restricted to.
    owner : str
        The component named in error messages.
    mask_what : str
        How the mask is described in messages (e.g. ``"the mask /data/brain.nii.gz"``).

    Raises
    ------
    InvalidInputError
        An ROI or sphere has no voxel inside the mask, the atlas is not on the data's grid (and
        ``resample`` is False), or the atlas holds non-integer labels.
    """
    names = site_names(spec, owner=owner)
    affine = np.asarray(ref_img.affine, dtype=float)
    brain = np.asarray(brain, dtype=bool)
    n_brain = int(brain.sum())
    if n_brain == 0:
        raise InvalidInputError(f"{owner}: {mask_what} selects no voxel; expected at least one. Check the mask "
                                "file (nonzero = inside).")
    out = ResolvedSites(brain=brain, affine=affine, mode=spec.roi_mode)
    if spec.whole_brain:
        out.sites[BRAIN_SITE] = [SiteMask(BRAIN_SITE, "brain", brain)]

    rois: list[SiteMask] = []
    if spec.atlas is not None:
        atlas_img, atlas = read_nifti(spec.atlas, owner=owner, what="atlas", ndim=3)
        atlas = _on_grid(atlas_img, atlas, ref_img, spec=spec, owner=owner, what=f"atlas {spec.atlas}",
                         ref_what="the data")
        finite = np.isfinite(atlas)
        vals = atlas[finite & (atlas != 0)]
        if vals.size and not np.allclose(vals, np.round(vals)):
            raise InvalidInputError(f"{owner}: atlas {spec.atlas} holds non-integer values (e.g. "
                                    f"{float(vals[~np.isclose(vals, np.round(vals))][0]):.3g}); expected integer "
                                    "region labels. A probabilistic atlas must be thresholded into labels first.")
        labels = np.where(finite, np.round(np.nan_to_num(atlas)), 0).astype(np.int64)
        for name, v in _roi_items(spec, owner, atlas_data=labels):
            in_atlas = labels == v
            m = in_atlas & brain
            if not m.any():
                n_atlas = int(in_atlas.sum())
                why = (f"no voxel of the atlas carries label {v}" if n_atlas == 0 else
                       f"the atlas has {n_atlas} voxel(s) with label {v} but none lies inside {mask_what} "
                       f"({n_brain} voxels)")
                raise InvalidInputError(
                    f"{owner}: ROI {name!r} (label {v}) is empty: {why}. Expected at least one voxel; check that "
                    "the atlas and the mask are in the same space, or drop this ROI from rois.")
            rois.append(SiteMask(name, "roi", m, label=int(v)))

    spheres: list[SiteMask] = []
    sphere_items = _sphere_items(spec, owner)
    if sphere_items:
        ijk = np.argwhere(brain)
        xyz = world_coordinates(ijk, affine)
        inv = np.linalg.inv(affine)
        for name, c in sphere_items:
            d = np.sqrt(((xyz - np.asarray(c)) ** 2).sum(1))
            sel = d <= spec.radius
            nearest = np.round(inv[:3, :3] @ np.asarray(c) + inv[:3, 3]).astype(int)
            if np.all(nearest >= 0) and np.all(nearest < brain.shape[:3]) and brain[tuple(nearest)]:
                sel |= np.all(ijk == nearest, axis=1)
            if not sel.any():
                k = int(np.argmin(d))
                raise InvalidInputError(
                    f"{owner}: sphere {name!r} at ({', '.join(f'{v:g}' for v in c)}) mm with radius {spec.radius:g} mm "
                    f"is empty: no voxel of {mask_what} lies within it (the nearest mask voxel is {d[k]:.1f} mm away, "
                    f"at ({', '.join(f'{v:.1f}' for v in xyz[k])})). Expected at least one voxel; check that the "
                    "coordinates are world/MNI mm in the image's space (not voxel indices), or increase radius.")
            m = np.zeros(brain.shape, dtype=bool)
            m[tuple(ijk[sel].T)] = True
            spheres.append(SiteMask(name, "sphere", m, center=c))

    if spec.roi_mode == "means":
        if rois:
            out.sites[ATLAS_SITE] = rois
        if spheres:
            out.sites[SPHERES_SITE] = spheres
    else:
        for s in rois + spheres:
            out.sites[s.name] = [s]
    return out


def region_means(img4d: Any, regions: Sequence[SiteMask], brain_img: Any, *, radius: float,
                 smoothing_fwhm: float | None = None) -> np.ndarray:
    """Mean signal of each region (ROIs through ``NiftiLabelsMasker``, spheres through ``NiftiSpheresMasker``).

    Parameters
    ----------
    img4d : nibabel image, 4D
        One volume per row of the output.
    regions : list of SiteMask
        All ROIs or all spheres (one kind).
    brain_img : nibabel image
        The mask, on ``img4d``'s grid.
    radius : float
        Sphere radius in mm.
    smoothing_fwhm : float, optional

    Returns
    -------
    ndarray of shape (n_volumes, n_regions)
    """
    import warnings

    import nibabel as nib
    from nilearn.maskers import NiftiLabelsMasker, NiftiSpheresMasker

    kinds = {r.kind for r in regions}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn's notes on resampling and dtype casts
        if kinds == {"roi"}:
            lab = np.zeros(regions[0].mask.shape, dtype=np.int32)
            for k, r in enumerate(regions, start=1):
                lab[r.mask] = k
            masker = NiftiLabelsMasker(nib.Nifti1Image(lab, img4d.affine), strategy="mean",
                                       smoothing_fwhm=smoothing_fwhm, resampling_target=None)
            return np.asarray(masker.fit_transform(img4d), dtype=float)
        if kinds == {"sphere"}:
            masker = NiftiSpheresMasker([r.center for r in regions], radius=radius, mask_img=brain_img,
                                        allow_overlap=True, smoothing_fwhm=smoothing_fwhm)
            return np.asarray(masker.fit_transform(img4d), dtype=float)
    raise ValueError(f"region_means takes regions of one kind, got {sorted(kinds)}")


def region_descriptors(regions: Sequence[SiteMask], affine: np.ndarray) -> dict[str, Any]:
    """Channel descriptors of a means site: ``roi``, ``label``, ``n_voxels`` and ``x``, ``y``, ``z``
    (the region's centroid in mm for ROIs, the seed for spheres)."""
    xyz = []
    for r in regions:
        if r.center is not None:
            xyz.append(r.center)
        else:
            xyz.append(tuple(world_coordinates(np.argwhere(r.mask), affine).mean(0)))
    a = np.asarray(xyz, dtype=float).reshape(-1, 3)
    return {"roi": [r.name for r in regions],
            "label": np.asarray([r.label if r.label is not None else -1 for r in regions], dtype=np.int64),
            "n_voxels": np.asarray([r.n_voxels for r in regions], dtype=np.int64),
            "x": a[:, 0], "y": a[:, 1], "z": a[:, 2]}
