"""Real anatomy for the planted brain: the MNI152 brain mask (nilearn) and AAL regions (MRIcron's copy).

The brain mask is nilearn's MNI152 template mask (shipped inside the nilearn wheel, no download),
resampled by nearest neighbour to an isotropic grid of ``voxel_size`` mm. The regions are those of
the AAL atlas (Tzourio-Mazoyer et al., 2002; 116 named regions) as installed by Debian's
``mricron-data`` and read through ``dataset.mricron-atlases`` of neurorep-datasets, resampled onto the
same grid. A region of the planted brain is the union of the left and right AAL parcels of one name
(``Calcarine`` = ``Calcarine_L`` + ``Calcarine_R``), restricted to the brain mask.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from neurorep.errors import InvalidInputError

__all__ = ["BrainGrid", "brain_grid", "AAL_CITATION", "MNI_CITATION"]

AAL_CITATION = ("Tzourio-Mazoyer N, Landeau B, Papathanassiou D, et al. (2002). Automated anatomical labeling of "
                "activations in SPM using a macroscopic anatomical parcellation of the MNI MRI single-subject brain. "
                "NeuroImage 15(1):273-289. doi:10.1006/nimg.2001.0978")
MNI_CITATION = ("Fonov V, Evans AC, Botteron K, et al. (2011). Unbiased average age-appropriate atlases for pediatric "
                "studies. NeuroImage 54(1):313-327. doi:10.1016/j.neuroimage.2010.07.033")

_OWNER = "Dataset 'synthetic.planted-brain'"
_LOCK = threading.Lock()
_GRIDS: dict[tuple[float, tuple[str, ...]], BrainGrid] = {}


@dataclass(frozen=True)
class BrainGrid:
    """Voxels of the brain mask on a coarse MNI grid, and the AAL regions among them.

    Attributes
    ----------
    voxel_size : float
        Edge of a voxel in mm.
    affine : ndarray of shape (4, 4)
        Voxel indices -> MNI mm.
    shape : tuple of int
        The grid's shape.
    mask_ijk : ndarray of shape (n_brain, 3)
        Indices of every in-mask voxel.
    regions : dict of str to ndarray
        Region name -> the ``(n_voxels, 3)`` MNI coordinates (mm) of its in-mask voxels.
    """

    voxel_size: float
    affine: np.ndarray
    shape: tuple[int, int, int]
    mask_ijk: np.ndarray
    regions: dict[str, np.ndarray]

    @property
    def n_brain_voxels(self) -> int:
        return int(self.mask_ijk.shape[0])


def _to_mm(ijk: np.ndarray, affine: np.ndarray) -> np.ndarray:
    return ijk @ affine[:3, :3].T + affine[:3, 3]


def brain_grid(voxel_size: float, regions: tuple[str, ...]) -> BrainGrid:
    """The MNI152 mask at ``voxel_size`` mm and the in-mask voxels of each AAL region name (cached per process).

    Parameters
    ----------
    voxel_size : float
        Isotropic voxel edge in mm (2 to 10).
    regions : tuple of str
        AAL region names without the hemisphere suffix (``"Calcarine"``, ``"Fusiform"``...).
    """
    if not 2.0 <= float(voxel_size) <= 10.0:
        raise InvalidInputError(f"{_OWNER}: voxel_size must be between 2 and 10 mm, got {voxel_size!r}; the default "
                                "6 mm keeps the data small.")
    key = (float(voxel_size), tuple(regions))
    with _LOCK:
        if key in _GRIDS:
            return _GRIDS[key]
    coarse_affine, m, labels, by_name = _resampled(float(voxel_size))
    out: dict[str, np.ndarray] = {}
    for r in regions:
        if r not in by_name:
            import difflib

            hint = difflib.get_close_matches(r, list(by_name), n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise InvalidInputError(f"{_OWNER}: unknown AAL region {r!r}{did}; expected one of {sorted(by_name)} "
                                    "(hemispheres are merged).")
        sel = np.isin(labels, by_name[r]) & m
        ijk = np.argwhere(sel)
        if ijk.shape[0] < 4:
            raise InvalidInputError(f"{_OWNER}: AAL region {r!r} keeps only {ijk.shape[0]} voxels inside the brain "
                                    f"mask at {voxel_size} mm; use a smaller voxel_size or a larger region.")
        out[r] = _to_mm(ijk.astype(float), coarse_affine)
    grid = BrainGrid(float(voxel_size), coarse_affine, tuple(m.shape), np.argwhere(m), out)
    with _LOCK:
        _GRIDS[key] = grid
    return grid


_RESAMPLED: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, list[int]]]] = {}


def _resampled(voxel_size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, list[int]]]:
    """The coarse grid's affine, brain mask, AAL label volume and ``{region: [label values]}`` (cached)."""
    with _LOCK:
        if voxel_size in _RESAMPLED:
            return _RESAMPLED[voxel_size]
    import nibabel as nib
    from nilearn import datasets, image

    mask = datasets.load_mni152_brain_mask(resolution=2)
    target = np.diag([float(voxel_size)] * 3 + [1.0])
    target[:3, 3] = mask.affine[:3, 3]
    extent = np.array(mask.shape) * np.abs(np.diag(mask.affine)[:3])
    shape = tuple(int(np.ceil(e / voxel_size)) for e in extent)
    coarse = image.resample_img(mask, target_affine=target, target_shape=shape, interpolation="nearest",
                                force_resample=True, copy_header=True)
    m = np.asarray(coarse.dataobj) > 0.5
    try:
        from neurorep_datasets import MricronAtlases
    except ImportError as exc:  # pragma: no cover - neurorep-datasets is a dependency
        raise InvalidInputError(f"{_OWNER}: needs neurorep-datasets for the AAL atlas (pip install -e datasets).") \
            from exc
    atlas = MricronAtlases().atlas("aal")
    lab_img = nib.load(str(atlas.image_path))
    lab = image.resample_to_img(lab_img, coarse, interpolation="nearest", force_resample=True, copy_header=True)
    labels = np.asarray(lab.dataobj).astype(np.int64)
    by_name: dict[str, list[int]] = {}
    for value, name in atlas.labels.items():
        base = name[:-2] if name.endswith(("_L", "_R")) else name
        by_name.setdefault(base, []).append(int(value))
    out = (np.asarray(coarse.affine), m, labels, by_name)
    with _LOCK:
        _RESAMPLED[voxel_size] = out
    return out
